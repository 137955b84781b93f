"""A configurable plug-in object registering the CN packs with the host's options.

The entry point ``rules-cn`` registers the packs with default options. A host that
wants other options blocks the entry point and registers an instance of
:class:`CnRules` instead; each plug-in manager gets its own instance, so there
is no module-level state::

    from loancollect import make_plugin_manager
    from loancollect_rules_cn.pack import CnOptions
    from loancollect_rules_cn.plugin import CnRules

    pm = make_plugin_manager(
        load_entrypoints=True,
        block=["rules-cn"],
        plugins=[CnRules(CnOptions())],
    )
"""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import RulePack
from loancollect_rules_cn.pack import CnOptions, pack

__all__ = ["CnRules"]


class CnRules:
    """Registers the CN packs built with ``options``.

    :param options: the packs' options (``None``: the defaults).
    """

    def __init__(self, options: CnOptions | None = None) -> None:
        self.options = options or CnOptions()

    @hookimpl
    def loancollect_register_rules(self) -> list[RulePack]:
        """The packs, built with this object's options."""
        return [pack(self.options)]

    def __repr__(self) -> str:
        return f"CnRules({self.options!r})"
