"""Recording hook calls, in order, to assert which hooks fired (pytester's HookRecorder)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import attrs
import pluggy

__all__ = ["HookCall", "HookRecorder"]


@attrs.frozen
class HookCall:
    """One hook call: the hook name and the keyword arguments it was called with."""

    name: str
    kwargs: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.kwargs[key]


class HookRecorder:
    """Record every hook call of a plug-in manager, via ``add_hookcall_monitoring``.

    Use it as a context manager or call :meth:`stop` when done::

        with HookRecorder(pm) as rec:
            pm.hook.loancollect_cycle_started(as_of=day, run_id="r1")
        rec.assert_fired(["loancollect_cycle_started"])

    :param names: record only these hooks (default: every hook).
    """

    def __init__(self, pm: pluggy.PluginManager, *, names: Iterable[str] | None = None) -> None:
        self.calls: list[HookCall] = []
        self._only = None if names is None else frozenset(names)
        self._undo: Callable[[], None] | None = pm.add_hookcall_monitoring(
            self._before, self._after
        )

    def _before(
        self, hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        if self._only is None or hook_name in self._only:
            self.calls.append(HookCall(hook_name, dict(kwargs)))

    def _after(
        self,
        outcome: pluggy.Result[Any],
        hook_name: str,
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, Any],
    ) -> None:
        return None

    def stop(self) -> None:
        """Stop recording (the calls recorded so far are kept)."""
        if self._undo is not None:
            self._undo()
            self._undo = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def names(self) -> list[str]:
        """The names of the recorded calls, in order."""
        return [c.name for c in self.calls]

    def calls_of(self, name: str) -> list[HookCall]:
        """The recorded calls of hook ``name``, in order."""
        return [c for c in self.calls if c.name == name]

    def assert_fired(self, names_in_order: Sequence[str]) -> None:
        """Assert that the hooks fired in this order (other calls may come in between)."""
        position = 0
        recorded = self.names
        for wanted in names_in_order:
            try:
                position = recorded.index(wanted, position) + 1
            except ValueError:
                raise AssertionError(
                    f"hook {wanted!r} did not fire (in order) after position {position}; "
                    f"recorded: {recorded}"
                ) from None

    def assert_not_fired(self, name: str) -> None:
        """Assert that hook ``name`` was not called."""
        if name in self.names:
            raise AssertionError(f"hook {name!r} fired {self.names.count(name)} time(s)")

    def clear(self) -> None:
        """Forget the recorded calls."""
        self.calls.clear()
