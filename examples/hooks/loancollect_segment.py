from loancollect import hookimpl


@hookimpl
def loancollect_segment(loan, scores):
    if loan.product == "student":
        return "student"
    return None
