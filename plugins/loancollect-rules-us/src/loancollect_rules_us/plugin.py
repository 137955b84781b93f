"""A configurable plug-in object registering the US packs with the host's options.

The entry point ``rules-us`` registers the packs with default options. A host that
wants other options blocks the entry point and registers an instance of
:class:`UsRules` instead; each plug-in manager gets its own instance, so there
is no module-level state::

    from loancollect import make_plugin_manager
    from loancollect_rules_us.pack import UsOptions
    from loancollect_rules_us.plugin import UsRules

    pm = make_plugin_manager(
        load_entrypoints=True,
        block=["rules-us"],
        plugins=[UsRules(UsOptions())],
    )
"""

from __future__ import annotations

from collections.abc import Iterable

from loancollect import hookimpl
from loancollect.domain.compliance import RulePack
from loancollect_rules_us.pack import UsOptions, massachusetts, pack

__all__ = ["UsRules"]


class UsRules:
    """Registers the US packs built with ``options``.

    :param options: the packs' options (``None``: the defaults).
    :param overlays: state overlay packs stacked on the federal pack (default:
        :func:`massachusetts`); each covers only its own state.
    """

    def __init__(
        self, options: UsOptions | None = None, *, overlays: Iterable[RulePack] | None = None
    ) -> None:
        self.options = options or UsOptions()
        self.overlays = (massachusetts(),) if overlays is None else tuple(overlays)

    @hookimpl
    def loancollect_register_rules(self) -> list[RulePack]:
        """The packs, built with this object's options."""
        return [pack(self.options), *self.overlays]

    def __repr__(self) -> str:
        return f"UsRules({self.options!r})"
