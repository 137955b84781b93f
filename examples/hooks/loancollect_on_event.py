from loancollect import hookimpl
from loancollect.domain.events import StageChanged

SEEN = []


@hookimpl
def loancollect_on_event(event):
    payload = event.payload
    if isinstance(payload, StageChanged):
        SEEN.append((event.loan_id, payload.current))
