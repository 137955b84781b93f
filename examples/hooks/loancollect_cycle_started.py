import logging

from loancollect import hookimpl


@hookimpl
def loancollect_cycle_started(as_of, run_id):
    logging.getLogger("acme").info("run %s for %s started", run_id, as_of)
