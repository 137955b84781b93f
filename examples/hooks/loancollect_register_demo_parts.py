from loancollect import hookimpl
from loancollect.demo_parts import DemoPart


class Desk(DemoPart):
    name = "desk"
    answers = frozenset({"phone"})  # the desk answers calls, not the world

    def before_cycle(self, run, day):
        for demo in run.portfolio[:3]:
            run.world.react(run.engine, demo.loan.id, day, channel="phone")


@hookimpl
def loancollect_register_demo_parts():
    return [Desk()]
