"""Answering ``loancollect_score`` with a trained model set, and watching for drift."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import attrs

from loancollect.domain.case import Case
from loancollect.domain.loans import Loan
from loancollect.domain.overdue import Assessment
from loancollect.domain.scoring import ScoreContribution
from loancollect.errors import ConfigurationError
from loancollect_scoring.features import features
from loancollect_scoring.metrics import psi
from loancollect_scoring.models import PAID, ROLLED, ModelKind, ModelSet

__all__ = ["DriftAlert", "LiveScorer", "ScoringSettings"]

log = logging.getLogger("loancollect.scoring")

_UNIT = Decimal("0.0001")


@attrs.frozen(kw_only=True)
class ScoringSettings:
    """How the trained score takes part (configuration section ``scoring``).

    :param model: directory of a saved model set (``loancollect train --out``).
    :param kind: which learner answers: ``scorecard`` (default) or ``boosted``.
    :param weight: the trained score's weight against the other contributions.
    :param variants: score only cases assigned to these champion/challenger
        variants (empty: every case) — how the trained score is tried as a challenger.
    :param drift_threshold: population stability index above which a cycle warns.
    """

    model: Path | None = None
    kind: ModelKind = ModelKind.SCORECARD
    weight: Decimal = Decimal(2)
    variants: frozenset[str] = frozenset()
    drift_threshold: float = 0.25

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> ScoringSettings:
        """Read the ``scoring`` section.

        :raises ConfigurationError: naming the key and the value for a bad one.
        """
        section = config.get("scoring", {})
        if not isinstance(section, Mapping):
            raise ConfigurationError(f"scoring: expected a table, got {section!r}")
        allowed = {"model", "kind", "weight", "variants", "drift_threshold"}
        unknown = sorted(set(section) - allowed)
        if unknown:
            raise ConfigurationError(f"scoring: unknown keys {unknown}; allowed: {sorted(allowed)}")
        kinds = [k.value for k in ModelKind]
        kind = section.get("kind", ModelKind.SCORECARD.value)
        if kind not in kinds:
            raise ConfigurationError(f"scoring.kind = {kind!r}: expected one of {kinds}")
        try:
            weight = Decimal(str(section.get("weight", "2")))
        except ArithmeticError as exc:
            raise ConfigurationError(
                f"scoring.weight = {section.get('weight')!r}: not a number"
            ) from exc
        if weight <= 0:
            raise ConfigurationError(f"scoring.weight = {weight}: must be positive")
        variants = section.get("variants", ())
        if isinstance(variants, str) or not all(isinstance(v, str) for v in variants):
            raise ConfigurationError(f"scoring.variants = {variants!r}: expected a list of names")
        threshold = section.get("drift_threshold", 0.25)
        if not isinstance(threshold, int | float) or threshold <= 0:
            raise ConfigurationError(f"scoring.drift_threshold = {threshold!r}: must be positive")
        model = section.get("model")
        return cls(
            model=None if model is None else Path(str(model)),
            kind=ModelKind(kind),
            weight=weight,
            variants=frozenset(variants),
            drift_threshold=float(threshold),
        )


@attrs.frozen(kw_only=True)
class DriftAlert:
    """A cycle whose scores drifted from the training population."""

    as_of: dt.date
    run_id: str
    psi: float
    cases: int


class LiveScorer:
    """The plug-in's state: the model set in use, and the scores of the current cycle."""

    def __init__(self) -> None:
        self.settings = ScoringSettings()
        self.models: ModelSet | None = None
        self.alerts: list[DriftAlert] = []
        self.scored = 0
        self._points: list[float] = []

    def use(self, models: ModelSet | None, settings: ScoringSettings) -> None:
        """Answer with ``models`` (``None``: give no opinion) under ``settings``."""
        self.models = models
        self.settings = settings
        self._points = []

    def configure(self, config: Mapping[str, object]) -> None:
        """Load the model set the configuration names (none named: stay silent)."""
        settings = ScoringSettings.from_config(config)
        models = None if settings.model is None else ModelSet.load(settings.model)
        self.use(models, settings)

    def score(
        self, loan: Loan, case: Case, assessment: Assessment, as_of: dt.date
    ) -> ScoreContribution | None:
        """The trained model's opinion, or ``None`` (no model, not the variant, or current)."""
        models = self.models
        if models is None or assessment.dpd < 1:
            return None
        if self.settings.variants and case.variant not in self.settings.variants:
            return None
        row = features(loan, assessment, case, as_of)
        kind = self.settings.kind
        p_paid = models.probabilities(kind, PAID, [row])[0]
        p_rolled = models.probabilities(kind, ROLLED, [row])[0]
        points = models.scorecards[PAID].score(row)
        self._points.append(points)
        self.scored += 1
        risk = min(Decimal(1), max(Decimal(0), Decimal(1) - Decimal(repr(p_paid)))).quantize(_UNIT)
        return ScoreContribution(
            source=f"scoring:{models.card.id}:{kind.value}",
            risk=risk,
            weight=self.settings.weight,
            reason=f"p_pay30={p_paid:.3f} p_roll30={p_rolled:.3f} points={points:.0f}",
        )

    def cycle_finished(self, as_of: dt.date, run_id: str) -> DriftAlert | None:
        """Compare the cycle's scores with the training population; warn on drift."""
        models, points, self._points = self.models, self._points, []
        if models is None or len(points) < 30:
            return None  # too few scores for a stable index
        card = models.card
        index = psi(card.stability_shares, card.stability_edges, points)
        if index <= self.settings.drift_threshold:
            return None
        alert = DriftAlert(as_of=as_of, run_id=run_id, psi=index, cases=len(points))
        self.alerts.append(alert)
        log.warning(
            "score drift: PSI %.3f over %d cases on %s (model %s, threshold %.2f)",
            index,
            len(points),
            as_of,
            card.id,
            self.settings.drift_threshold,
        )
        return alert
