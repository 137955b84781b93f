"""A configurable plug-in object registering the EU packs with the host's options.

The entry point ``rules-eu`` registers the packs with default options. A host that
wants other options blocks the entry point and registers an instance of
:class:`EuRules` instead; each plug-in manager gets its own instance, so there
is no module-level state::

    from loancollect import make_plugin_manager
    from loancollect_rules_eu.pack import EuOptions
    from loancollect_rules_eu.plugin import EuRules

    pm = make_plugin_manager(
        load_entrypoints=True,
        block=["rules-eu"],
        plugins=[EuRules(EuOptions())],
    )
"""

from __future__ import annotations

from collections.abc import Iterable

from loancollect import hookimpl
from loancollect.domain.compliance import RulePack
from loancollect_rules_eu.pack import EuOptions, italy, pack

__all__ = ["EuRules"]


class EuRules:
    """Registers the EU packs built with ``options``.

    :param options: the packs' options (``None``: the defaults).
    :param national: member-state packs stacked on the framework (default:
        :func:`italy`); each covers only its own country.
    """

    def __init__(
        self, options: EuOptions | None = None, *, national: Iterable[RulePack] | None = None
    ) -> None:
        self.options = options or EuOptions()
        self.national = (italy(),) if national is None else tuple(national)

    @hookimpl
    def loancollect_register_rules(self) -> list[RulePack]:
        """The packs, built with this object's options."""
        return [pack(self.options), *self.national]

    def __repr__(self) -> str:
        return f"EuRules({self.options!r})"
