"""Hook implementations of ``loancollect-rules-uk`` (entry point ``rules-uk``).

Only ``@hookimpl`` functions live here. The entry point registers the packs with
their default options; to configure them, block the entry point and register a
:class:`loancollect_rules_uk.plugin.UkRules` instead (see the README).
"""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import RulePack
from loancollect_rules_uk.pack import pack, respite_pack

__all__ = ["loancollect_register_rules"]


@hookimpl
def loancollect_register_rules() -> list[RulePack]:
    """Register the CONC 7 pack (``uk-conc``, ``GB``) and the Debt Respite Scheme pack
    (``uk-debt-respite``, ``GB-ENG`` and ``GB-WLS`` only), with default :class:`UkOptions`."""
    return [pack(), respite_pack()]
