"""The start-up objects are frozen for a host's block of days, and given back after it."""

from __future__ import annotations

import gc

from loancollect.engine.startup import start_up_frozen


def test_objects_alive_at_the_start_are_frozen_inside_the_block_and_unfrozen_after() -> None:
    assert gc.get_freeze_count() == 0
    kept = [object() for _ in range(10)]  # alive when the block starts
    with start_up_frozen():
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_freeze_count() == 0


def test_unfrozen_after_the_block_raises() -> None:
    try:
        with start_up_frozen():
            raise RuntimeError("a day that fails")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0


def test_a_host_that_froze_objects_itself_keeps_its_freeze() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with start_up_frozen():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen  # not unfrozen by the block
    finally:
        gc.unfreeze()


def test_cyclic_garbage_made_inside_the_block_is_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    with start_up_frozen():
        Node()  # a cycle, garbage at once: not frozen, so a collection finds it
        assert gc.collect() >= 1
