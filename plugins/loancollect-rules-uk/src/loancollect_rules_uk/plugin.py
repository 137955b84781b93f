"""A configurable plug-in object registering the UK packs with the host's options.

The entry point ``rules-uk`` registers the packs with default options. A host that
wants other options blocks the entry point and registers an instance of
:class:`UkRules` instead; each plug-in manager gets its own instance, so there
is no module-level state::

    from loancollect import make_plugin_manager
    from loancollect_rules_uk.pack import UkOptions
    from loancollect_rules_uk.plugin import UkRules

    pm = make_plugin_manager(
        load_entrypoints=True,
        block=["rules-uk"],
        plugins=[UkRules(UkOptions())],
    )
"""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import RulePack
from loancollect_rules_uk.pack import UkOptions, pack, respite_pack

__all__ = ["UkRules"]


class UkRules:
    """Registers the UK packs built with ``options``.

    :param options: the packs' options (``None``: the defaults).
    :param respite: also register the Debt Respite Scheme pack (England and Wales).
    """

    def __init__(self, options: UkOptions | None = None, *, respite: bool = True) -> None:
        self.options = options or UkOptions()
        self.respite = respite

    @hookimpl
    def loancollect_register_rules(self) -> list[RulePack]:
        """The packs, built with this object's options."""
        return [pack(self.options), *([respite_pack(self.options)] if self.respite else [])]

    def __repr__(self) -> str:
        return f"UkRules({self.options!r})"
