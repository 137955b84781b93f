"""The scoring plug-in in the demo and in the report.

In the demo, the models are trained from the store on the first part of the
run (:data:`TRAIN_SHARE` of the days) and then answer for the challenger's
cases. The report's ``scoring_lift`` table holds the trained models against the
heuristic on the cases in collection after the training window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from loancollect.demo_parts import DemoPart, DemoRun
from loancollect.errors import LoanCollectError
from loancollect.ports import UnitOfWorkFactory
from loancollect.reporting import ReportData, Table
from loancollect_scoring.history import samples
from loancollect_scoring.live import LiveScorer, ScoringSettings
from loancollect_scoring.metrics import separation
from loancollect_scoring.models import PAID, TARGETS, ModelKind, ModelSet, train

__all__ = ["TRAIN_SHARE", "ScoringDemo", "lift_tables"]

TRAIN_SHARE = 0.5
"""The share of the demo's days the models are trained on."""
_CHALLENGER = "challenger"


class ScoringDemo(DemoPart):
    """Trains on the demo's first months, then scores the challenger's cases."""

    name = "scoring"

    def __init__(self, scorer: LiveScorer) -> None:
        self.scorer = scorer
        self.trained: ModelSet | None = None
        self.note = "not trained yet"

    def after_cycle(self, run: DemoRun, day: dt.date) -> None:
        """On the training day, train from the store and switch the challenger to the model."""
        setup = run.setup
        train_days = max(int(setup.days * TRAIN_SHARE), 1)
        if day != setup.first + dt.timedelta(days=train_days - 1):
            return
        # Held out: the last third of the scoring dates whose 30-day outcome is known.
        last_scored = day - dt.timedelta(days=30)
        span = (last_scored - setup.first).days
        split = setup.first + dt.timedelta(days=max(span * 2 // 3, 1))
        try:
            models = train(run.storage, start=setup.first, end=day, split=split, seed=setup.seed)
        except LoanCollectError as exc:
            self.note = f"not trained: {exc}"
            return
        out = setup.out / "scoring" / "model"
        models.save(out)
        self.trained = models
        self.scorer.use(models, ScoringSettings(model=out, variants=frozenset({_CHALLENGER})))
        held = models.card.evaluation(ModelKind.SCORECARD, PAID)
        self.note = (
            f"model {models.card.id} trained on {models.card.n_trained} cases to {day}; "
            f"held-out AUC (pays in 30 days) {held.held_out.auc} vs heuristic "
            f"{held.heuristic.auc}; scoring the {_CHALLENGER}'s cases since; card in {out}"
        )

    def summary(self, run: DemoRun) -> str:
        """Where the model is and how it did."""
        return self.note


def lift_tables(
    scorer: LiveScorer, data: ReportData, storage: UnitOfWorkFactory
) -> Iterator[Table]:
    """The trained models against the heuristic after their training window.

    Nothing when no model is in use or the report ends within 30 days of training.
    """
    models = scorer.models
    if models is None or not data.periods:
        return
    start, end = models.card.window[1] + dt.timedelta(days=1), data.periods[-1]
    found = samples(storage, start=start, end=end, every_days=7, horizon=30)
    if found:
        rows = [s.features for s in found]
        table_rows = []
        for target in TARGETS:
            y = [s.paid if target == PAID else s.rolled for s in found]
            base = [1 - s.heuristic_risk if target == PAID else s.heuristic_risk for s in found]
            heuristic = separation(y, base)
            for kind in ModelKind:
                trained = separation(y, models.probabilities(kind, target, rows))
                lift = (
                    "—"
                    if trained.auc is None or heuristic.auc is None
                    else f"{trained.auc - heuristic.auc:+.3f}"
                )
                table_rows.append(
                    (
                        target,
                        kind.value,
                        str(trained.n),
                        _num(trained.auc),
                        _num(trained.ks),
                        _num(heuristic.auc),
                        _num(heuristic.ks),
                        lift,
                    )
                )
        yield Table(
            "scoring_lift",
            f"Trained score vs heuristic, cases in collection {start} → {end} (30-day outcomes)",
            ("target", "model", "cases", "AUC", "KS", "heuristic AUC", "heuristic KS", "AUC lift"),
            tuple(table_rows),
        )
    yield Table(
        "scoring_use",
        f"Trained score in use (model {models.card.id})",
        ("cases scored", "drift warnings", "largest PSI"),
        (
            (
                str(scorer.scored),
                str(len(scorer.alerts)),
                _num(max((a.psi for a in scorer.alerts), default=None)),
            ),
        ),
    )


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
