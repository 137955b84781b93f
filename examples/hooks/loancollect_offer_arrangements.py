import datetime as dt

from loancollect import hookimpl
from loancollect.domain.arrangements import ArrangementKind
from loancollect.domain.strategy import Offer


@hookimpl
def loancollect_offer_arrangements(loan, decision, as_of):
    if decision.segment != "hardship":
        return []
    return [
        Offer(
            rule_id="acme-hardship-plan",
            kind=ArrangementKind.INSTALLMENT_PLAN,
            loan_id=loan.id,
            valid_until=as_of + dt.timedelta(days=14),
            amount_due=decision.assessment.amount_due,
            max_installments=12,
        )
    ]
