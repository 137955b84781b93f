"""loancollect_offer_arrangements: extra offers, every result collected."""

from __future__ import annotations

import datetime as dt

from loancollect.domain.arrangements import ArrangementKind


def test_the_example_offers_a_plan_to_hardship_cases(
    plugin_manager, register, example, inputs, inputs_on
):
    register(example("loancollect_offer_arrangements"), "hardship")
    hardship = inputs_on(segment="hardship")
    kwargs = hardship.for_hook("loan", "case", "decision", "as_of")
    (offers,) = plugin_manager.hook.loancollect_offer_arrangements(**kwargs)
    (offer,) = offers
    assert offer.kind is ArrangementKind.INSTALLMENT_PLAN
    assert offer.amount_due == hardship.assessment.amount_due
    assert offer.valid_until == hardship.as_of + dt.timedelta(days=14)

    assert inputs.decision.segment != "hardship"
    kwargs = inputs.for_hook("loan", "case", "decision", "as_of")
    assert plugin_manager.hook.loancollect_offer_arrangements(**kwargs) == [[]]
