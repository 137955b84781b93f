from loancollect import hookimpl
from loancollect.domain.events import EventKind

SEEN = []


@hookimpl
def loancollect_on_event(event):
    if event.kind is EventKind.STAGE_CHANGED:
        SEEN.append((event.loan_id, event.get("to")))
