"""Rule packs: the unit a jurisdiction plug-in registers.

A :class:`RulePack` is a frozen record naming the jurisdictions it covers and the
configured rules it contributes. Plug-ins return packs from the
``loancollect_register_rules`` hook; the engine (:func:`check`) evaluates every
rule of every pack it is given, so state overlays stack on a national pack and the
strictest rule wins.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import attrs

from loancollect.domain.calendar import add_months
from loancollect.domain.errors import ConfigurationError, ValidationError

__all__ = ["Retention", "RulePack"]

_JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Retention:
    """How long a kind of collection record must be kept.

    :param records: what is kept (``"call_recordings"``, ``"collection_records"``).
    :param years: minimum years after the record (or the last activity) is made.
    :param citation: the source; :param confidence: its tag letter (``"V"``, ``"S"`` ...).
    """

    id: str
    records: str
    years: int
    citation: str
    confidence: str = "S"

    def __attrs_post_init__(self) -> None:
        if self.years < 0:
            raise ValidationError("retention.years", self.years, "may not be negative")

    def keep_until(self, recorded_on: dt.date) -> dt.date:
        """The first date on which a record made on ``recorded_on`` may be deleted."""
        return add_months(recorded_on, 12 * self.years)


@attrs.frozen(kw_only=True)
class RulePack:
    """A named, configured set of compliance rules for one or more jurisdictions.

    :param name: unique registry name, lower case (``"us-fdcpa"``, ``"cn"``).
    :param jurisdictions: ISO 3166 codes it covers (``"US"``, ``"US-MA"``, ``"GB-ENG"``).
    :param rules: the configured rules (instances of :class:`Rule`), each with a unique id.
    :param options: the pack's own frozen options record (e.g. ``UsOptions``), kept
        for the audit trail and the documentation.
    :param version: version of the distribution that built the pack.
    :param description: one line for listings.
    :param retention: record-keeping duties of the jurisdiction.
    """

    name: str
    jurisdictions: tuple[str, ...] = attrs.field(converter=_tuple)
    rules: tuple[Any, ...] = attrs.field(default=(), converter=_tuple)
    options: Any = None
    version: str = ""
    description: str = ""
    retention: tuple[Retention, ...] = attrs.field(default=(), converter=_tuple)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValidationError("rule_pack.name", self.name, "expected a lower-case name")
        if not self.jurisdictions:
            raise ValidationError("rule_pack.jurisdictions", (), "must name a jurisdiction")
        for code in self.jurisdictions:
            if not isinstance(code, str) or not _JURISDICTION.match(code):
                raise ValidationError(
                    "rule_pack.jurisdictions", code, "expected ISO 3166 code like 'US' or 'US-MA'"
                )
        seen: set[str] = set()
        for rule in self.rules:
            rule_id = getattr(getattr(rule, "info", None), "id", None)
            if rule_id is None:
                raise ConfigurationError(f"rule pack {self.name!r}: {rule!r} is not a Rule")
            if rule_id in seen:
                raise ConfigurationError(f"rule pack {self.name!r}: duplicate rule id {rule_id!r}")
            seen.add(rule_id)

    def covers(self, jurisdiction: str) -> bool:
        """True if this pack applies to ``jurisdiction`` (``"US"`` covers ``"US-MA"``)."""
        country = jurisdiction.split("-", 1)[0]
        return jurisdiction in self.jurisdictions or country in self.jurisdictions
