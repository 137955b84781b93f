"""Training the models from a store, their model card, and saving and loading them.

Two targets (:data:`TARGETS`): paying within the horizon of a scoring date, and
rolling into a later aging bucket. Each is learned twice, as a readable points
scorecard and as a gradient-boosted model. Samples before ``split`` train;
samples from ``split`` on are held out (out of time), and every model is held
against the built-in heuristic on them. A :class:`ModelCard` goes with every
model set: its features, training window, sample counts, AUC and KS (trained and
heuristic), calibration, and the score distribution that drift is measured against.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import importlib.metadata
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from loancollect.errors import ConfigurationError, ValidationError
from loancollect.ports import UnitOfWorkFactory
from loancollect_scoring.features import FEATURES
from loancollect_scoring.gbm import BoostedModel, train_boosted
from loancollect_scoring.history import Sample, samples
from loancollect_scoring.metrics import (
    CalibrationBin,
    Separation,
    calibration,
    separation,
    stability_bins,
)
from loancollect_scoring.scorecard import PointsCard, train_scorecard

__all__ = ["PAID", "ROLLED", "TARGETS", "Evaluation", "ModelCard", "ModelKind", "ModelSet", "train"]

PAID = "paid_30"
"""Target: a payment arrives within the horizon (the borrower pays or cures)."""
ROLLED = "rolled_30"
"""Target: the loan is in a later aging bucket at the end of the horizon."""
TARGETS = (PAID, ROLLED)
_CARD = "card.json"


class ModelKind(enum.Enum):
    """Which learner answers."""

    SCORECARD = "scorecard"
    BOOSTED = "boosted"


def _outcome(sample: Sample, target: str) -> bool:
    return sample.paid if target == PAID else sample.rolled


def _heuristic(sample: Sample, target: str) -> float:
    # The heuristic's risk is of not paying: the chance to pay is its complement.
    return 1.0 - sample.heuristic_risk if target == PAID else sample.heuristic_risk


@attrs.frozen(kw_only=True)
class Evaluation:
    """One model of one target, against the heuristic, on the held-out samples."""

    kind: ModelKind
    target: str
    trained: Separation
    held_out: Separation
    heuristic: Separation
    calibration: tuple[CalibrationBin, ...]


@attrs.frozen(kw_only=True)
class ModelCard:
    """What a model set is, what it was trained on and how well it does."""

    id: str
    seed: int
    window: tuple[dt.date, dt.date]
    split: dt.date
    horizon_days: int
    every_days: int
    features: tuple[tuple[str, str], ...]
    n_trained: int
    n_held_out: int
    evaluations: tuple[Evaluation, ...]
    stability_edges: tuple[float, ...]
    stability_shares: tuple[float, ...]
    files: tuple[tuple[str, str], ...] = ()
    versions: tuple[tuple[str, str], ...] = ()

    def evaluation(self, kind: ModelKind, target: str) -> Evaluation:
        """The evaluation of ``kind`` for ``target``."""
        for e in self.evaluations:
            if e.kind is kind and e.target == target:
                return e
        raise ConfigurationError(f"model card {self.id}: no {kind.value} model for {target!r}")

    def render(self) -> str:
        """The card as text (what ``loancollect train`` prints and ``card.md`` holds)."""

        def num(value: float | None) -> str:
            return "—" if value is None else f"{value:.3f}"

        lines = [
            f"# Model card {self.id}",
            "",
            f"- training window: {self.window[0]} to {self.window[1]} (scoring dates every "
            f"{self.every_days} days, outcomes over {self.horizon_days} days)",
            f"- held out from {self.split}: {self.n_held_out} samples; trained on {self.n_trained}",
            f"- seed: {self.seed}",
            "- features: " + ", ".join(name for name, _ in self.features),
            "",
            "| model | target | AUC trained | AUC held out | KS held out "
            "| heuristic AUC | heuristic KS |",
            "|---|---|---|---|---|---|---|",
        ]
        for e in self.evaluations:
            lines.append(
                f"| {e.kind.value} | {e.target} | {num(e.trained.auc)} | {num(e.held_out.auc)} | "
                f"{num(e.held_out.ks)} | {num(e.heuristic.auc)} | {num(e.heuristic.ks)} |"
            )
        lines += ["", "Calibration (held out, by decile of the predicted probability):", ""]
        for e in self.evaluations:
            pairs = ", ".join(f"{b.predicted:.2f}→{b.observed:.2f}" for b in e.calibration)
            lines.append(f"- {e.kind.value} {e.target}: {pairs or '—'}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The card as JSON-ready values."""

        def sep(s: Separation) -> dict[str, Any]:
            return attrs.asdict(s)

        return {
            "id": self.id,
            "seed": self.seed,
            "window": [self.window[0].isoformat(), self.window[1].isoformat()],
            "split": self.split.isoformat(),
            "horizon_days": self.horizon_days,
            "every_days": self.every_days,
            "features": [list(f) for f in self.features],
            "n_trained": self.n_trained,
            "n_held_out": self.n_held_out,
            "evaluations": [
                {
                    "kind": e.kind.value,
                    "target": e.target,
                    "trained": sep(e.trained),
                    "held_out": sep(e.held_out),
                    "heuristic": sep(e.heuristic),
                    "calibration": [attrs.asdict(b) for b in e.calibration],
                }
                for e in self.evaluations
            ],
            "stability": {
                "edges": list(self.stability_edges),
                "shares": list(self.stability_shares),
            },
            "files": dict(self.files),
            "versions": dict(self.versions),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelCard:
        """Read a card written by :meth:`to_json`.

        :raises ConfigurationError: naming what is missing or malformed.
        """
        try:
            return cls(
                id=str(data["id"]),
                seed=int(data["seed"]),
                window=(
                    dt.date.fromisoformat(data["window"][0]),
                    dt.date.fromisoformat(data["window"][1]),
                ),
                split=dt.date.fromisoformat(data["split"]),
                horizon_days=int(data["horizon_days"]),
                every_days=int(data["every_days"]),
                features=tuple((str(a), str(b)) for a, b in data["features"]),
                n_trained=int(data["n_trained"]),
                n_held_out=int(data["n_held_out"]),
                evaluations=tuple(
                    Evaluation(
                        kind=ModelKind(e["kind"]),
                        target=str(e["target"]),
                        trained=Separation(**e["trained"]),
                        held_out=Separation(**e["held_out"]),
                        heuristic=Separation(**e["heuristic"]),
                        calibration=tuple(CalibrationBin(**b) for b in e["calibration"]),
                    )
                    for e in data["evaluations"]
                ),
                stability_edges=tuple(float(x) for x in data["stability"]["edges"]),
                stability_shares=tuple(float(x) for x in data["stability"]["shares"]),
                files=tuple(sorted(data["files"].items())),
                versions=tuple(sorted(data["versions"].items())),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ConfigurationError(f"model card: malformed ({exc!r})") from exc


@attrs.frozen(kw_only=True)
class ModelSet:
    """The trained models of every target, and their card."""

    card: ModelCard
    scorecards: Mapping[str, PointsCard]
    boosted: Mapping[str, BoostedModel]

    def probabilities(
        self, kind: ModelKind, target: str, rows: Sequence[Mapping[str, object]]
    ) -> list[float]:
        """The probability of ``target`` for each feature row, by model ``kind``."""
        if kind is ModelKind.SCORECARD:
            card = self.scorecards[target]
            return [card.probability(r) for r in rows]
        return self.boosted[target].probabilities(rows)

    def save(self, directory: Path) -> Path:
        """Write the set into ``directory`` (created): JSON cards, skops learners, ``card.md``."""
        directory.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        for target, points in self.scorecards.items():
            path = directory / f"{target}.scorecard.json"
            path.write_text(
                json.dumps(points.to_json(), indent=1, sort_keys=True), encoding="utf-8"
            )
            files[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        for target, model in self.boosted.items():
            path = directory / f"{target}.boosted.skops"
            files[path.name] = model.save(path)
        vocabulary = next(iter(self.boosted.values())).vocabulary if self.boosted else {}
        card = attrs.evolve(self.card, files=tuple(sorted(files.items())))
        data = card.to_json() | {"vocabulary": {k: list(v) for k, v in vocabulary.items()}}
        (directory / _CARD).write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        (directory / "card.md").write_text(card.render(), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> ModelSet:
        """Read a set written by :meth:`save`; every file's SHA-256 is checked.

        :raises ConfigurationError: for a missing or changed file, or a malformed card.
        """
        path = directory / _CARD
        if not path.is_file():
            raise ConfigurationError(f"scoring.model: no {_CARD} in {directory}")
        data = json.loads(path.read_text(encoding="utf-8"))
        card = ModelCard.from_json(data)
        digests = dict(card.files)
        vocabulary = {k: tuple(v) for k, v in data.get("vocabulary", {}).items()}
        scorecards: dict[str, PointsCard] = {}
        boosted: dict[str, BoostedModel] = {}
        for target in TARGETS:
            name = f"{target}.scorecard.json"
            raw = _read_checked(directory / name, digests.get(name))
            scorecards[target] = PointsCard.from_json(json.loads(raw))
            name = f"{target}.boosted.skops"
            boosted[target] = BoostedModel.load(
                directory / name,
                target=target,
                vocabulary=vocabulary,
                sha256=digests.get(name, ""),
            )
        return cls(card=card, scorecards=scorecards, boosted=boosted)


def _read_checked(path: Path, sha256: str | None) -> bytes:
    if not path.is_file():
        raise ConfigurationError(f"scoring.model: {path.name} is missing")
    data = path.read_bytes()
    if sha256 is None or hashlib.sha256(data).hexdigest() != sha256:
        raise ConfigurationError(f"model file {path.name}: SHA-256 differs from its card")
    return data


def _versions() -> tuple[tuple[str, str], ...]:
    out = []
    for dist in ("loancollect", "loancollect-scoring", "optbinning", "lightgbm", "scikit-learn"):
        try:
            out.append((dist, importlib.metadata.version(dist)))
        except importlib.metadata.PackageNotFoundError:
            continue
    return tuple(out)


def fit(
    trained: Sequence[Sample],
    held_out: Sequence[Sample],
    *,
    seed: int,
    window: tuple[dt.date, dt.date],
    split: dt.date,
    horizon_days: int,
    every_days: int,
) -> ModelSet:
    """Fit every model on ``trained`` and evaluate it on ``held_out``.

    :raises ValidationError: when either set lacks one of a target's outcomes.
    """
    rows = [s.features for s in trained]
    test_rows = [s.features for s in held_out]
    scorecards: dict[str, PointsCard] = {}
    boosted: dict[str, BoostedModel] = {}
    evaluations = []
    for target in TARGETS:
        y = [_outcome(s, target) for s in trained]
        if len(set(y)) < 2:
            raise ValidationError(
                "training.samples", len(y), f"every {target} outcome is {y[0] if y else None}"
            )
        y_test = [_outcome(s, target) for s in held_out]
        heuristic = separation(y_test, [_heuristic(s, target) for s in held_out])
        scorecards[target] = train_scorecard(rows, y, target=target)
        boosted[target] = train_boosted(rows, y, target=target, seed=seed)
        for kind in ModelKind:
            shell = ModelSet(card=_EMPTY, scorecards=scorecards, boosted=boosted)
            p_train = shell.probabilities(kind, target, rows)
            p_test = shell.probabilities(kind, target, test_rows)
            evaluations.append(
                Evaluation(
                    kind=kind,
                    target=target,
                    trained=separation(y, p_train),
                    held_out=separation(y_test, p_test),
                    heuristic=heuristic,
                    calibration=calibration(y_test, p_test),
                )
            )
    champion = scorecards[PAID]
    edges, shares = stability_bins([champion.score(r) for r in rows])
    digest = hashlib.sha256(
        json.dumps(
            [window[0].isoformat(), window[1].isoformat(), split.isoformat(), seed, len(rows)]
        ).encode()
    ).hexdigest()[:12]
    card = ModelCard(
        id=f"collect-{digest}",
        seed=seed,
        window=window,
        split=split,
        horizon_days=horizon_days,
        every_days=every_days,
        features=tuple((f.name, f.meaning) for f in FEATURES),
        n_trained=len(trained),
        n_held_out=len(held_out),
        evaluations=tuple(evaluations),
        stability_edges=edges,
        stability_shares=shares,
        versions=_versions(),
    )
    return ModelSet(card=card, scorecards=scorecards, boosted=boosted)


_EMPTY = ModelCard(
    id="",
    seed=0,
    window=(dt.date.min, dt.date.min),
    split=dt.date.min,
    horizon_days=0,
    every_days=0,
    features=(),
    n_trained=0,
    n_held_out=0,
    evaluations=(),
    stability_edges=(),
    stability_shares=(),
)


def train(
    storage: UnitOfWorkFactory,
    *,
    start: dt.date,
    end: dt.date,
    split: dt.date,
    seed: int = 7,
    every_days: int = 7,
    horizon_days: int = 30,
) -> ModelSet:
    """Train every model from the store's history between ``start`` and ``end``.

    Samples dated before ``split`` train; samples from ``split`` on are held out.

    :raises ValidationError: for a split outside the window or too few samples.
    """
    if not start < split <= end:
        raise ValidationError("training.split", split, f"must be after {start} and not after {end}")
    found = samples(storage, start=start, end=end, every_days=every_days, horizon=horizon_days)
    trained = [s for s in found if s.on < split]
    held_out = [s for s in found if s.on >= split]
    if len(trained) < 50 or len(held_out) < 20:
        raise ValidationError(
            "training.samples",
            f"{len(trained)} trained, {len(held_out)} held out",
            "too few cases in collection in the window (need 50 and 20)",
        )
    return fit(
        trained,
        held_out,
        seed=seed,
        window=(start, end),
        split=split,
        horizon_days=horizon_days,
        every_days=every_days,
    )
