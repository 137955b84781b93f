"""Hook implementations of ``loancollect-rules-cn`` (entry point ``rules-cn``).

Only ``@hookimpl`` functions live here. The entry point registers the packs with
their default options; to configure them, block the entry point and register a
:class:`loancollect_rules_cn.plugin.CnRules` instead (see the README).
"""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import RulePack
from loancollect_rules_cn.pack import pack

__all__ = ["loancollect_register_rules"]


@hookimpl
def loancollect_register_rules() -> list[RulePack]:
    """Register the PRC pack (``cn``) with default :class:`CnOptions`."""
    return [pack()]
