"""Hook implementations of ``loancollect-rules-eu`` (entry point ``rules-eu``).

Only ``@hookimpl`` functions live here. The entry point registers the packs with
their default options; to configure them, block the entry point and register a
:class:`loancollect_rules_eu.plugin.EuRules` instead (see the README).
"""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import RulePack
from loancollect_rules_eu.pack import italy, pack

__all__ = ["loancollect_register_rules"]


@hookimpl
def loancollect_register_rules() -> list[RulePack]:
    """Register the EU framework pack (``eu-framework``, every member state) with default
    :class:`EuOptions` and the Italian national pack (``eu-it``, covers only ``IT``)."""
    return [pack(), italy()]
