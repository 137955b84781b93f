"""The trained score answers ``loancollect_score``, only where it is asked to, and
warns when the population drifts."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from loancollect_scoring.history import arrived_by
from loancollect_scoring.live import LiveScorer, ScoringSettings
from loancollect_scoring.metrics import psi, stability_bins
from loancollect_scoring.models import ModelSet, train

from loancollect.domain.case import Case
from loancollect.errors import ConfigurationError
from loancollect.ports import UnitOfWorkFactory

ON = dt.date(2025, 3, 10)


@pytest.fixture(scope="module")
def model_dir(history: UnitOfWorkFactory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = train(
        history, start=dt.date(2025, 1, 1), end=dt.date(2025, 4, 30), split=dt.date(2025, 3, 5)
    )
    return models.save(tmp_path_factory.mktemp("model"))


def _a_case_in_collection(history: UnitOfWorkFactory):
    from loancollect.domain.overdue import assess

    with history() as uow:
        for loan_id in uow.loans.list_ids(limit=None):
            loan, case = uow.loans.get(loan_id), uow.cases.get(loan_id)
            if loan is None or case is None:
                continue
            a = assess(loan, arrived_by(uow.loans.payments_for(loan_id), ON), ON)
            if a.dpd >= 1:
                return loan, case, a
    raise AssertionError("no case in collection")


def test_a_configured_model_answers_with_a_risk_and_its_probabilities(
    history: UnitOfWorkFactory, model_dir: Path
) -> None:
    scorer = LiveScorer()
    scorer.configure({"scoring": {"model": str(model_dir), "weight": "3"}})
    loan, case, assessment = _a_case_in_collection(history)
    got = scorer.score(loan, case, assessment, ON)
    assert got is not None
    assert got.source.startswith("scoring:collect-")
    assert got.weight == Decimal(3)
    assert got.risk is not None
    assert Decimal(0) <= got.risk <= Decimal(1)
    assert "p_pay30=" in got.reason


def test_no_model_means_no_opinion(history: UnitOfWorkFactory) -> None:
    scorer = LiveScorer()
    scorer.configure({})
    loan, case, assessment = _a_case_in_collection(history)
    assert scorer.score(loan, case, assessment, ON) is None


def test_as_a_challenger_it_scores_only_the_challengers_cases(
    history: UnitOfWorkFactory, model_dir: Path
) -> None:
    scorer = LiveScorer()
    scorer.configure({"scoring": {"model": str(model_dir), "variants": ["challenger"]}})
    loan, case, assessment = _a_case_in_collection(history)
    import attrs

    champion: Case = attrs.evolve(case, variant="champion")
    challenger: Case = attrs.evolve(case, variant="challenger")
    assert scorer.score(loan, champion, assessment, ON) is None
    assert scorer.score(loan, challenger, assessment, ON) is not None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"kind": "forest"}, "scoring.kind = 'forest': expected one of"),
        ({"weight": "-1"}, "scoring.weight = -1: must be positive"),
        ({"variants": "challenger"}, "scoring.variants = 'challenger'"),
        ({"colour": "red"}, "unknown keys ['colour']"),
        ({"model": "/nowhere"}, "no card.json in /nowhere"),
    ],
)
def test_bad_settings_name_the_key_and_the_value(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        LiveScorer().configure({"scoring": section})
    assert message in str(error.value)


def test_the_same_population_is_stable_and_a_shifted_one_warns(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    models = ModelSet.load(model_dir)
    scorer = LiveScorer()
    scorer.use(models, ScoringSettings(model=model_dir))
    card = models.card
    # Scores drawn at the training deciles' own edges stay put ...
    same = [e for e in card.stability_edges for _ in range(10)]
    assert psi(card.stability_shares, card.stability_edges, same) < psi(
        card.stability_shares, card.stability_edges, [min(card.stability_edges) - 50] * 100
    )
    # ... a population all below the lowest decile drifts.
    scorer._points = [min(card.stability_edges) - 50.0] * 100  # the cycle's scores
    with caplog.at_level(logging.WARNING, logger="loancollect.scoring"):
        alert = scorer.cycle_finished(ON, "run-1")
    assert alert is not None
    assert alert.psi > 0.25
    assert "score drift" in caplog.text


def test_psi_of_a_sample_against_its_own_bins_is_near_zero() -> None:
    scores = [float(i % 97) for i in range(2000)]
    edges, shares = stability_bins(scores)
    assert psi(shares, edges, scores) < 1e-9
