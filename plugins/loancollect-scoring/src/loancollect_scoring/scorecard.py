"""A points scorecard a risk team can read, and score with, without the learner.

Trained with optbinning (weight-of-evidence binning and logistic regression,
points-to-double-odds scaling), then exported as a :class:`PointsCard`: for each
feature its bins and their points, and the line that turns a total score into a
probability. The card is plain JSON: loading it runs no code, and scoring a case
is a table lookup per feature.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from loancollect.errors import ConfigurationError
from loancollect_scoring.features import FEATURES, FeatureKind

__all__ = ["Characteristic", "PointsCard", "Scaling", "train_scorecard"]


@attrs.frozen(kw_only=True)
class Scaling:
    """Points-to-double-odds scaling: ``base_points`` at ``base_odds`` (non-event :
    event), ``pdo`` more points for twice the odds."""

    pdo: float = 20.0
    base_odds: float = 50.0
    base_points: float = 600.0


@attrs.frozen(kw_only=True)
class Characteristic:
    """One feature's bins and points.

    Numeric: ``splits`` are the bin edges (bin ``k`` is ``[splits[k-1], splits[k])``).
    Categorical: ``groups`` list the categories of each bin. A missing value (or an
    unseen category) scores ``missing_points``.
    """

    name: str
    kind: FeatureKind
    points: tuple[float, ...]
    missing_points: float
    splits: tuple[float, ...] = ()
    groups: tuple[tuple[str, ...], ...] = ()

    def points_for(self, value: object) -> float:
        """The points of ``value``."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self.missing_points
        if self.kind is FeatureKind.NUMERIC:
            return self.points[bisect.bisect_right(self.splits, float(value))]  # type: ignore[arg-type]
        for group, points in zip(self.groups, self.points, strict=True):
            if value in group:
                return points
        return self.missing_points


@attrs.frozen(kw_only=True)
class PointsCard:
    """A scorecard: a total of points per case, and its probability of the event.

    The total ``s`` maps to the probability of the event by
    ``1 / (1 + exp(-(intercept + slope * s)))`` (higher points, lower probability).
    """

    target: str
    characteristics: tuple[Characteristic, ...]
    scaling: Scaling
    intercept: float
    slope: float

    def score(self, row: Mapping[str, object]) -> float:
        """The total points of a feature row."""
        return sum(c.points_for(row.get(c.name)) for c in self.characteristics)

    def probability(self, row: Mapping[str, object]) -> float:
        """The probability of the target event for a feature row."""
        z = self.intercept + self.slope * self.score(row)
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, Any]:
        """The card as JSON-ready values."""
        return {
            "target": self.target,
            "scaling": attrs.asdict(self.scaling),
            "intercept": self.intercept,
            "slope": self.slope,
            "characteristics": [
                {
                    "name": c.name,
                    "kind": c.kind.value,
                    "points": list(c.points),
                    "missing_points": c.missing_points,
                    "splits": list(c.splits),
                    "groups": [list(g) for g in c.groups],
                }
                for c in self.characteristics
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PointsCard:
        """Read a card written by :meth:`to_json`.

        :raises ConfigurationError: naming the field that is missing or malformed.
        """
        try:
            return cls(
                target=str(data["target"]),
                scaling=Scaling(**data["scaling"]),
                intercept=float(data["intercept"]),
                slope=float(data["slope"]),
                characteristics=tuple(
                    Characteristic(
                        name=str(c["name"]),
                        kind=FeatureKind(c["kind"]),
                        points=tuple(float(p) for p in c["points"]),
                        missing_points=float(c["missing_points"]),
                        splits=tuple(float(s) for s in c["splits"]),
                        groups=tuple(tuple(str(v) for v in g) for g in c["groups"]),
                    )
                    for c in data["characteristics"]
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"scorecard: malformed card ({exc!r})") from exc


def _frame(rows: Sequence[Mapping[str, object]]) -> Any:
    import pandas as pd

    return pd.DataFrame([{f.name: row[f.name] for f in FEATURES} for row in rows])


def train_scorecard(
    rows: Sequence[Mapping[str, object]],
    outcomes: Sequence[bool],
    *,
    target: str,
    scaling: Scaling = Scaling(),
) -> PointsCard:
    """Fit a WoE-binned logistic scorecard for ``target`` and export its points.

    Deterministic: optimal binning and the logistic regression have no randomness.
    """
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    frame = _frame(rows)
    y = np.asarray(outcomes, dtype=int)
    categorical = [f.name for f in FEATURES if f.kind is FeatureKind.CATEGORICAL]
    process = BinningProcess(variable_names=list(frame.columns), categorical_variables=categorical)
    card = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": scaling.pdo,
            "odds": scaling.base_odds,
            "scorecard_points": scaling.base_points,
        },
    )
    card.fit(frame, y)
    table = card.table(style="detailed")
    characteristics = []
    for name in dict.fromkeys(table["Variable"]):
        part = table[table["Variable"] == name]
        # A bin is an interval text, a list of categories, or the label Special / Missing.
        label = part["Bin"].map(lambda b: b if isinstance(b, str) else "")
        regular = part[~label.isin(["Special", "Missing"])]
        missing = float(part[label == "Missing"]["Points"].iloc[0])
        binned = card.binning_process_.get_binned_variable(name)
        kind = FeatureKind.CATEGORICAL if name in categorical else FeatureKind.NUMERIC
        characteristics.append(
            Characteristic(
                name=name,
                kind=kind,
                points=tuple(float(p) for p in regular["Points"]),
                missing_points=missing,
                splits=()
                if kind is FeatureKind.CATEGORICAL
                else tuple(float(s) for s in binned.splits),
                groups=tuple(tuple(str(v) for v in g) for g in binned.splits)
                if kind is FeatureKind.CATEGORICAL
                else (),
            )
        )
    # The learner's probabilities are logistic in the total points: recover the line.
    points = np.asarray(card.score(frame), dtype=float)
    p = np.clip(card.predict_proba(frame)[:, 1], 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p))
    slope, intercept = np.polyfit(points, logit, 1)
    return PointsCard(
        target=target,
        characteristics=tuple(characteristics),
        scaling=scaling,
        intercept=float(intercept),
        slope=float(slope),
    )
