from loancollect import hookimpl
from loancollect.domain.events import ActionSent, EventKind
from loancollect.reporting import Table


@hookimpl
def loancollect_report_tables(data):
    calls = [
        e
        for e in data.events
        if e.kind is EventKind.ACTION_SENT and ActionSent.parse(e).channel == "phone"
    ]
    yield Table("acme_calls", "Calls placed", ("calls",), ((str(len(calls)),),))
