from loancollect import hookimpl

TOTALS = {}


@hookimpl
def loancollect_cycle_finished(run_id, summary):
    TOTALS[run_id] = (summary.reviewed, summary.sent, summary.errors)
