from loancollect import hookimpl
from loancollect.domain.strategy import PlannedAction, Tone, idempotency_key


@hookimpl
def loancollect_plan_actions(loan, decision, as_of):
    if decision.stage != "further_collection":
        return []
    return [
        PlannedAction(
            loan_id=loan.id,
            rule_id="crm-sync",
            stage=decision.stage,
            channel="crm",
            template="crm_update",
            tone=Tone.REMINDER,
            as_of=as_of,
            locale=loan.borrower.locale,
            idempotency_key=idempotency_key(loan.id, "crm-sync", as_of),
        )
    ]
