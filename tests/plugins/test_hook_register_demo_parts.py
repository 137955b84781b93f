"""loancollect_register_demo_parts: a plug-in takes part in the demo."""

from __future__ import annotations

import pytest

from loancollect.demo_parts import DemoPart
from loancollect.domain.errors import ConfigurationError
from loancollect.registry import demo_parts


def test_the_example_registers_a_desk_that_answers_calls(plugin_manager, register, example):
    register(example("loancollect_register_demo_parts"), "desk")
    (part,) = demo_parts(plugin_manager)
    assert part.name == "desk"
    assert part.answers == frozenset({"phone"})


def test_parts_are_called_in_the_order_of_their_names(plugin_manager, register):
    class Part(DemoPart):
        def __init__(self, name: str) -> None:
            self.name = name

    class Provider:
        from loancollect import hookimpl

        @hookimpl
        def loancollect_register_demo_parts(self):
            return [Part("visits"), Part("agencies"), Part("phone")]

    register(Provider(), "parts")
    assert [p.name for p in demo_parts(plugin_manager)] == ["agencies", "phone", "visits"]


def test_a_part_without_a_name_is_refused(plugin_manager, register):
    class Provider:
        from loancollect import hookimpl

        @hookimpl
        def loancollect_register_demo_parts(self):
            return [DemoPart()]

    register(Provider(), "nameless")
    with pytest.raises(ConfigurationError, match=r"demo_part\.name"):
        demo_parts(plugin_manager)
