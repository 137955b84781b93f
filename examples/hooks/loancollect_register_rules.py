from loancollect import hookimpl
from loancollect.domain.compliance import RulePack


@hookimpl
def loancollect_register_rules():
    return [RulePack(name="acme-house", jurisdictions=("CN",), rules=())]
