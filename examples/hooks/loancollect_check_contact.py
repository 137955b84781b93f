from loancollect import hookimpl
from loancollect.registry import ContactViolation


@hookimpl
def loancollect_check_contact(action, case):
    if action.channel == "visit" and "no_visits" in case.flags:
        return [ContactViolation(rule_id="acme.no-visits", detail="borrower asked")]
    return []
