"""Start-up objects out of the garbage collector's sight while a host runs its days.

A process that runs the cycle first builds what it keeps to the end: the plug-in
manager, the rule packs, their holiday tables, the templates, the storage's metadata.
Python's cyclic garbage collector walks every tracked object at each full collection,
so a day of reviews pays again and again for objects that never die: measured at
20,000 loans, about a fifth of the first-review day's CPU. :func:`start_up_frozen`
moves them to the permanent generation for the block (:func:`gc.freeze`) and gives
them back afterwards (:func:`gc.unfreeze`).

It is the host's choice, not the engine's: the collector is the whole process's.
The command line uses it around ``run`` and the demo, and the workers it spawns::

    engine = CollectionEngine(pm=pm, storage=storage)
    with start_up_frozen():
        engine.run_cycle(day)
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["start_up_frozen"]


@contextlib.contextmanager
def start_up_frozen() -> Iterator[None]:
    """Freeze the objects alive now for the block, and unfreeze them after it.

    Garbage is collected first, so only live objects are frozen. Objects that die
    during the block are still freed by reference counting; only cycles among the
    frozen ones wait until the block ends. A host that froze objects itself keeps
    control: nothing is frozen or unfrozen then.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
