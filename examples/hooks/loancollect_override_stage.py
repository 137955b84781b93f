from loancollect import hookimpl


@hookimpl
def loancollect_override_stage(case, proposed):
    if "legal_hold" in case.flags and proposed == "legal":
        return case.stage  # stay where it is while the hold lasts
    return None
