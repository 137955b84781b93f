"""loancollect_score: every contribution collected, combined by weight."""

from __future__ import annotations

from decimal import Decimal

from loancollect.domain.scoring import ScoreContribution, combine, heuristic_contribution


def test_the_example_scores_late_loans_only(plugin_manager, register, example, inputs, inputs_on):
    register(example("loancollect_score"), "model")
    kwargs = inputs.for_hook("loan", "case", "assessment", "as_of")
    (contribution,) = plugin_manager.hook.loancollect_score(**kwargs)
    assert isinstance(contribution, ScoreContribution)
    assert contribution.source == "acme-model"
    assert contribution.risk == min(Decimal(1), Decimal(inputs.assessment.dpd) / 90)

    current = inputs_on(as_of=inputs.loan.disbursement_date)
    assert current.assessment.dpd == 0
    assert (
        plugin_manager.hook.loancollect_score(
            **current.for_hook("loan", "case", "assessment", "as_of")
        )
        == []
    )


def test_contributions_are_combined_with_the_heuristic(plugin_manager, register, example, inputs):
    register(example("loancollect_score"), "model")
    kwargs = inputs.for_hook("loan", "case", "assessment", "as_of")
    contributions = plugin_manager.hook.loancollect_score(**kwargs)
    base = heuristic_contribution(inputs.loan, inputs.assessment, inputs.case, inputs.as_of)
    scores = combine([base, *contributions])
    assert scores.sources == ("heuristic", "acme-model")
    assert scores.risk > base.risk
