"""Hook implementations of ``loancollect-rules-us`` (entry point ``rules-us``).

Only ``@hookimpl`` functions live here. The entry point registers the packs with
their default options; to configure them, block the entry point and register a
:class:`loancollect_rules_us.plugin.UsRules` instead (see the README).
"""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import RulePack
from loancollect_rules_us.pack import massachusetts, pack

__all__ = ["loancollect_register_rules"]


@hookimpl
def loancollect_register_rules() -> list[RulePack]:
    """Register the federal pack (``us-fdcpa``) with default :class:`UsOptions` and the
    Massachusetts overlay (``us-ma``, covers only ``US-MA`` borrowers)."""
    return [pack(), massachusetts()]
