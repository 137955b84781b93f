"""loancollect_on_event: every observer runs; wrappers see the call."""

from __future__ import annotations

from loancollect.domain.events import EventKind, chain
from loancollect.hookspecs import hookimpl
from loancollect.testing import make_event


def test_the_example_collects_stage_changes(plugin_manager, register, example):
    module = register(example("loancollect_on_event"), "audit")
    stage, opened = chain([make_event(), make_event(EventKind.CASE_OPENED)])
    assert plugin_manager.hook.loancollect_on_event(event=stage) == []
    plugin_manager.hook.loancollect_on_event(event=opened)
    assert module.SEEN == [("L-1", "late")]


def test_a_wrapper_sees_every_event(plugin_manager, register, example):
    module = register(example("loancollect_on_event"), "audit")
    wrapped = []

    class Tracing:
        @hookimpl(wrapper=True)
        def loancollect_on_event(self, event):
            wrapped.append(event.kind)
            return (yield)

    register(Tracing(), "tracing")
    (event,) = chain([make_event()])
    plugin_manager.hook.loancollect_on_event(event=event)
    assert wrapped == [EventKind.STAGE_CHANGED]
    assert module.SEEN == [("L-1", "late")]
