from decimal import Decimal

from loancollect import hookimpl
from loancollect.domain.scoring import ScoreContribution


@hookimpl
def loancollect_score(loan, assessment):
    if assessment.dpd == 0:
        return None
    return ScoreContribution(
        source="acme-model",
        risk=min(Decimal(1), Decimal(assessment.dpd) / 90),
        weight=Decimal(2),
    )
