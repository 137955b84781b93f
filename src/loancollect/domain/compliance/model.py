"""The input model of the compliance engine (RULES.md §0, "Common input model").

Every record is frozen and slotted. Instants are time-zone aware on input and stored
in UTC (as ``pendulum.DateTime``); local time is only ever derived through an IANA
zone. Personal values (numbers, addresses, names) are masked in every ``repr``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from loancollect.domain.errors import ValidationError
from loancollect.domain.loans import Borrower, ContactKind, ContactPoint
from loancollect.domain.money import Money, to_decimal
from loancollect.domain.privacy import mask_text
from loancollect.domain.zones import check_zone

__all__ = [
    "PLACEHOLDER_ZONES",
    "Attorney",
    "Bankruptcy",
    "BorrowerFacts",
    "Channel",
    "Consent",
    "ConsentScope",
    "ContactEvent",
    "DebtFacts",
    "Deceased",
    "Direction",
    "Dispute",
    "Flags",
    "InconvenientPlace",
    "LocalTimeRange",
    "LocationCandidate",
    "LocationSource",
    "Moratorium",
    "MoratoriumKind",
    "OptOut",
    "Override",
    "ProposedContact",
    "Purpose",
    "Tag",
    "TargetKind",
    "WeeklyTimes",
    "candidate_zones",
    "is_placeholder_zone",
    "to_utc",
]


def to_utc(value: dt.datetime, field: str) -> pendulum.DateTime:
    """``value`` as a UTC ``pendulum.DateTime``; naive datetimes are refused."""
    if not isinstance(value, dt.datetime):
        raise ValidationError(field, value, "expected a time-zone-aware datetime")
    if isinstance(value, pendulum.DateTime) and value.tzinfo is pendulum.UTC:
        return value  # already normalised (the common case: records built from records)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, value, "naive datetime; pass a time-zone-aware one")
    return _in_utc(value)


@functools.lru_cache(maxsize=4096)
def _in_utc(value: dt.datetime) -> pendulum.DateTime:
    """An aware instant in UTC, remembered: a review proposes every contact at one instant
    (equal instants in any zone are the same UTC instant)."""
    return pendulum.instance(value).in_timezone(pendulum.UTC)


def _instants(obj: Any) -> None:
    """Normalise every instant field of a frozen record to UTC, naming bad fields.

    Fields carrying ``metadata={"instant": "<field name>"}`` accept any aware
    datetime and are stored as UTC ``pendulum.DateTime``.
    """
    for attribute, name in _instant_fields(type(obj)):
        value = getattr(obj, attribute)
        if value is not None:
            object.__setattr__(obj, attribute, to_utc(value, name))


_INSTANT_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def _instant_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """``(attribute, field name)`` of the instant fields of an attrs class (its fields
    never change: looked up once per class, not for every record built)."""
    found = _INSTANT_FIELDS.get(cls)
    if found is None:
        found = _INSTANT_FIELDS[cls] = tuple(
            (a.name, a.metadata["instant"])
            for a in attrs.fields(cls)
            if a.metadata.get("instant") is not None
        )
    return found


def _zone(field: str, value: str) -> None:
    check_zone(field, value)


def _strs(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(value)


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _mask(value: str | None) -> str | None:
    return None if value is None else mask_text(value)


class Channel(enum.Enum):
    """The medium of a contact.

    ``NONE`` is the medium of a channel that contacts nobody (a CRM sync, a data
    export): such a channel is never a proposed contact and is never checked.
    """

    CALL = "call"
    VOICEMAIL = "voicemail"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    VISIT = "visit"
    SOCIAL = "social"
    APP_PUSH = "app_push"
    INSTANT_MESSAGE = "instant_message"  # WeChat, WhatsApp, LINE, Telegram …
    NONE = "none"

    @property
    def is_contact(self) -> bool:
        """False for ``NONE`` (no person is contacted), True for every other medium."""
        return self is not Channel.NONE

    @property
    def is_telephone(self) -> bool:
        """Calls and voicemails (a voicemail is left during a call)."""
        return self in (Channel.CALL, Channel.VOICEMAIL)

    @property
    def is_electronic(self) -> bool:
        """Written electronic media: e-mail, text, push, instant message, social."""
        return self in (
            Channel.SMS,
            Channel.EMAIL,
            Channel.APP_PUSH,
            Channel.INSTANT_MESSAGE,
            Channel.SOCIAL,
        )


class Direction(enum.Enum):
    """Who started the contact."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"


class TargetKind(enum.Enum):
    """Whom a contact reaches, relative to the debt."""

    BORROWER = "borrower"
    SPOUSE = "spouse"
    GUARANTOR = "guarantor"
    REPRESENTATIVE = "representative"  # executor, administrator, guardian, debt adviser
    ATTORNEY = "attorney"
    EMPLOYER = "employer"
    EMERGENCY_CONTACT = "emergency_contact"
    THIRD_PARTY = "third_party"


class LocationSource(enum.Enum):
    """Where a location candidate comes from; ``STATED`` overrides the others."""

    STATED = "stated"
    ADDRESS = "address"
    AREA_CODE = "area_code"
    OTHER = "other"


class ConsentScope(enum.Enum):
    """What a recorded consent permits."""

    CALLS = "calls"  # calls excluded from frequency counts (Reg F 1006.14(b)(3)(i))
    OUTSIDE_HOURS = "outside_hours"  # contact outside the default window / at stated times
    MEDIUM = "medium"  # use of a restricted medium (work e-mail, employer place)
    THIRD_PARTY = "third_party"  # contact with a third party
    VISIT_ENTRY = "visit_entry"  # a visit at a place or entry into premises


class MoratoriumKind(enum.Enum):
    """Debt Respite Scheme moratoria (England and Wales)."""

    STANDARD = "standard"  # breathing space, 60 days
    MENTAL_HEALTH_CRISIS = "mental_health_crisis"  # crisis treatment + 30 days


class Purpose(enum.StrEnum):
    """Why a contact is made. Exemptions in the rules are expressed as purposes."""

    COLLECTION = "collection"
    LOCATION_INFO = "location_info"
    OBTAIN_CONTACT_INFO = "obtain_contact_info"
    RELAY_MESSAGE = "relay_message"
    TERMINATION_NOTICE = "termination_notice"
    REMEDY_NOTICE = "remedy_notice"
    VALIDATION_NOTICE = "validation_notice"
    VERIFICATION = "verification"
    OPTOUT_CONFIRMATION = "optout_confirmation"
    REQUIRED_BY_LAW = "required_by_law"
    STATUTORY_NOTICE = "statutory_notice"
    ADVISER_CONTACT = "adviser_contact"
    UNRELATED_LIABILITY = "unrelated_liability"
    DEBTOR_REQUEST = "debtor_request"
    COMPLAINT_REPLY = "complaint_reply"
    PERMITTED_PROCEEDINGS = "permitted_proceedings"
    ENFORCEMENT = "enforcement"
    LEGAL_ACTION = "legal_action"
    APPLY_FEE = "apply_fee"
    APPLY_INTEREST = "apply_interest"


class Tag(enum.StrEnum):
    """Well-known content tags. Packs and templates may use further strings."""

    DEBT_DETAILS = "debt_details"
    THREAT = "threat"
    THREAT_SUIT = "threat_suit"
    LEGAL_ACTION = "legal_action"
    FALSE_LEGAL_CLAIM = "false_legal_claim"
    IMPERSONATE_AUTHORITY = "impersonate_authority"
    MISLEADING_CONSEQUENCE = "misleading_consequence"
    EXAGGERATED_AMOUNT = "exaggerated_amount"
    INSULT = "insult"
    COLLECTION_FEE = "collection_fee"
    SUGGEST_BORROWING = "suggest_borrowing"
    SHORT_DEADLINE_FULL_BALANCE = "short_deadline_full_balance"
    PUBLIC_NOTICE = "public_notice"
    DISCLOSE_PRIVATE_INFO = "disclose_private_info"
    PREMIUM_RATE_NUMBER = "premium_rate_number"
    MISLEADING_PRETEXT = "misleading_pretext"
    INTEREST_ABOVE_CAP = "interest_above_cap"
    STATUTE_BARRED_ENFORCEABLE = "statute_barred_enforceable"
    MINI_MIRANDA = "mini_miranda"
    DEBT_COLLECTOR_DISCLOSURE = "debt_collector_disclosure"
    OPT_OUT_INSTRUCTIONS = "opt_out_instructions"
    OPTOUT_CONFIRMATION_ONLY = "optout_confirmation_only"
    LIMITED_CONTENT = "limited_content"
    CALLER_IDENTITY = "caller_identity"
    BORROWER_NAME = "borrower_name"
    BALANCE = "balance"
    REASON_AND_LEGAL_BASIS = "reason_and_legal_basis"
    RIGHTS_AND_OBLIGATIONS = "rights_and_obligations"
    HOW_TO_CHECK_AND_OBJECT = "how_to_check_and_object"
    ISSUER_CONTACT = "issuer_contact"
    BUSINESS_SEAL = "business_seal"
    DEBT_ADVICE_REFERRAL = "debt_advice_referral"


@attrs.frozen
class LocationCandidate:
    """A place the borrower may be, as an IANA zone, and why we think so."""

    time_zone: str
    source: LocationSource = LocationSource.ADDRESS

    def __attrs_post_init__(self) -> None:
        _zone("location_candidate.time_zone", self.time_zone)
        if not isinstance(self.source, LocationSource):
            raise ValidationError("location_candidate.source", self.source, "expected a source")


@attrs.frozen
class LocalTimeRange:
    """A half-open local wall-clock range ``[start, end)``; ``end=None`` is midnight."""

    start: dt.time
    end: dt.time | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.start, dt.time) or self.start.tzinfo is not None:
            raise ValidationError("time_range.start", self.start, "expected a naive time of day")
        if self.end is not None:
            if not isinstance(self.end, dt.time) or self.end.tzinfo is not None:
                raise ValidationError("time_range.end", self.end, "expected a naive time of day")
            if self.end <= self.start:
                raise ValidationError(
                    "time_range.end", self.end.isoformat(), f"not after {self.start.isoformat()}"
                )

    def contains(self, wall: dt.time) -> bool:
        """True if ``wall`` is in ``[start, end)``."""
        return self.start <= wall and (self.end is None or wall < self.end)

    def __str__(self) -> str:
        end = "24:00" if self.end is None else self.end.strftime("%H:%M")
        return f"[{self.start.strftime('%H:%M')}, {end})"


_ALL_DAYS = frozenset(range(7))


def _weekdays(value: Iterable[int]) -> frozenset[int]:
    days = frozenset(value)
    if not days or not days <= _ALL_DAYS:
        raise ValidationError("weekly_times.weekdays", sorted(days), "expected weekdays 0..6")
    return days


@attrs.frozen
class WeeklyTimes:
    """A recurring local time range on some weekdays (0 = Monday)."""

    range: LocalTimeRange
    weekdays: frozenset[int] = attrs.field(default=_ALL_DAYS, converter=_weekdays)


@attrs.frozen(repr=False)
class InconvenientPlace:
    """A place, medium or address the borrower said is inconvenient.

    Matches a contact when every given field matches it (``None`` matches anything).
    """

    channel: Channel | None = None
    address: str | None = None
    place: str | None = None

    def matches(self, channel: Channel, address: str | None, place: str | None) -> bool:
        """True if a contact by ``channel`` to ``address`` at ``place`` is covered."""
        return (
            (self.channel is None or self.channel is channel)
            and (self.address is None or self.address == address)
            and (self.place is None or self.place == place)
        )

    def __repr__(self) -> str:
        channel = None if self.channel is None else self.channel.value
        return (
            f"InconvenientPlace(channel={channel!r}, address={_mask(self.address)!r}, "
            f"place={self.place!r})"
        )


@attrs.frozen(kw_only=True)
class Dispute:
    """A dispute of the debt (US validation dispute, UK CONC 7.14 dispute)."""

    received_at: pendulum.DateTime = attrs.field(metadata={"instant": "dispute.received_at"})
    written: bool = True
    within_validation_period: bool = True
    resolved_at: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "dispute.resolved_at"}
    )

    def __attrs_post_init__(self) -> None:
        _instants(self)


@attrs.frozen(kw_only=True)
class Bankruptcy:
    """A bankruptcy or insolvency petition."""

    filed_at: pendulum.DateTime = attrs.field(metadata={"instant": "bankruptcy.filed_at"})
    chapter: str | None = None
    stay_lifted_at: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "bankruptcy.stay_lifted_at"}
    )

    def __attrs_post_init__(self) -> None:
        _instants(self)


@attrs.frozen(kw_only=True)
class Deceased:
    """The borrower has died; only the representative may be contacted."""

    date: dt.date
    representative_id: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class Attorney:
    """The borrower is represented by an attorney for this debt."""

    known_at: pendulum.DateTime = attrs.field(metadata={"instant": "attorney.known_at"})
    name: str = ""
    consents_to_direct_contact: bool = False
    contacted_at: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "attorney.contacted_at"}
    )
    responded: bool = False

    def __attrs_post_init__(self) -> None:
        _instants(self)

    def __repr__(self) -> str:
        return (
            f"Attorney(known_at={self.known_at.isoformat()}, name={_mask(self.name)!r}, "
            f"consents={self.consents_to_direct_contact}, responded={self.responded})"
        )


@attrs.frozen(kw_only=True)
class Moratorium:
    """A Debt Respite Scheme moratorium; ``end=None`` means no end date is known.

    :param debt_ids: the moratorium debts; empty means every debt.
    """

    kind: MoratoriumKind
    start: pendulum.DateTime = attrs.field(metadata={"instant": "moratorium.start"})
    end: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "moratorium.end"}
    )
    debt_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_strs)

    def __attrs_post_init__(self) -> None:
        _instants(self)
        if self.end is not None and self.end <= self.start:
            raise ValidationError("moratorium.end", self.end.isoformat(), "not after its start")

    def covers(self, debt_ids: Iterable[str]) -> bool:
        """True if any of ``debt_ids`` is a moratorium debt."""
        return not self.debt_ids or bool(self.debt_ids & set(debt_ids))


@attrs.frozen(kw_only=True)
class Flags:
    """Facts that stop or restrict collection (RULES.md §0 ``flags``)."""

    cease_received_at: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "flags.cease_received_at"}
    )
    refusal_received_at: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "flags.refusal_received_at"}
    )
    dispute: Dispute | None = None
    bankruptcy: Bankruptcy | None = None
    deceased: Deceased | None = None
    attorney: Attorney | None = None
    moratorium: Moratorium | None = None
    lost_contact: bool = False
    incapacitated: bool = False
    vulnerable: bool = False
    employer_prohibits_contact: bool = False

    def __attrs_post_init__(self) -> None:
        _instants(self)


PLACEHOLDER_ZONES = frozenset(
    {
        "UTC",
        "UCT",
        "Universal",
        "Zulu",
        "GMT",
        "GMT0",
        "GMT+0",
        "GMT-0",
        "Greenwich",
        "Factory",
    }
)
"""Zone names that say nothing about where a person is (besides every ``Etc/`` zone)."""


def is_placeholder_zone(name: str) -> bool:
    """True for a zone that names no place: ``UTC`` and its aliases, ``Factory``, and the
    ``Etc/`` zones (``Etc/UTC``, ``Etc/Unknown``, fixed offsets such as ``Etc/GMT-8``).

    A borrower recorded in such a zone has an unknown location: local time must come
    from a real IANA zone (RULES.md §0.1: never a fixed offset, which is wrong on
    the days daylight saving time changes).
    """
    return name in PLACEHOLDER_ZONES or name.startswith("Etc/")


def candidate_zones(
    borrower: Borrower,
    *,
    number_zones: Callable[[ContactPoint], Iterable[str]] | None = None,
    fallback_zones: Iterable[str] = (),
) -> tuple[LocationCandidate, ...]:
    """The zones ``borrower`` may be in, with where each comes from (may be empty).

    - the residence zone (``ADDRESS``), unless it names no place (``UTC``);
    - each contact point's own ``time_zone`` (``AREA_CODE`` for a phone, ``ADDRESS``
      otherwise); for a phone without one, the zones ``number_zones`` gives for its
      number (``AREA_CODE``): an Eastern area code with a Pacific address makes both
      candidates, and a contact is allowed only when both allow it (12 CFR
      1006.6(b)(1)(i), Supplement I comment 6(b)(1)(i)-1, ``[S]``);
    - only when none of those gives a zone: ``fallback_zones`` (``OTHER``), e.g. every
      zone of the borrower's country.

    Zones that name no place (:func:`is_placeholder_zone`) are never candidates.
    """
    out: list[LocationCandidate] = []
    if not is_placeholder_zone(borrower.time_zone):
        out.append(LocationCandidate(borrower.time_zone, LocationSource.ADDRESS))
    for cp in borrower.contact_points:
        phone = cp.kind is ContactKind.PHONE
        source = LocationSource.AREA_CODE if phone else LocationSource.ADDRESS
        if cp.time_zone is not None:
            zones: Iterable[str] = (cp.time_zone,)
        elif phone and number_zones is not None:
            zones = number_zones(cp)
        else:
            zones = ()
        out.extend(LocationCandidate(z, source) for z in zones if not is_placeholder_zone(z))
    if not out:
        out.extend(
            LocationCandidate(z, LocationSource.OTHER)
            for z in fallback_zones
            if not is_placeholder_zone(z)
        )
    return tuple(out)


def _candidates(value: Iterable[LocationCandidate]) -> tuple[LocationCandidate, ...]:
    out = tuple(value)
    if not out:
        raise ValidationError("borrower.location_candidates", (), "at least one zone is needed")
    for i, c in enumerate(out):
        if not isinstance(c, LocationCandidate):
            raise ValidationError(
                f"borrower.location_candidates[{i}]", c, "expected a LocationCandidate"
            )
    return out


@attrs.frozen(kw_only=True, repr=False)
class BorrowerFacts:
    """What the compliance engine knows about the borrower.

    :param location_candidates: zones the borrower may be in; a time is allowed only
        if it is allowed in every zone (a ``STATED`` location overrides the others).
    :param stated_inconvenient_times: recurring local times the borrower said are
        inconvenient (hard constraints).
    :param stated_inconvenient_places: media, addresses or places said to be inconvenient.
    :param preferred_channels: channels the borrower asked to be contacted by (UK
        CONC 7.9); ``None`` means no request.
    """

    id: str
    jurisdiction: str
    location_candidates: tuple[LocationCandidate, ...] = attrs.field(converter=_candidates)
    stated_inconvenient_times: tuple[WeeklyTimes, ...] = attrs.field(default=(), converter=_tuple)
    stated_inconvenient_places: tuple[InconvenientPlace, ...] = attrs.field(
        default=(), converter=_tuple
    )
    preferred_channels: frozenset[Channel] | None = None
    flags: Flags = Flags()

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError("borrower.id", self.id, "must be a non-empty string")

    @property
    def zones(self) -> tuple[str, ...]:
        """Candidate IANA zones, stated ones overriding inferred ones, without repeats."""
        stated = [
            c.time_zone for c in self.location_candidates if c.source is LocationSource.STATED
        ]
        chosen = stated or [c.time_zone for c in self.location_candidates]
        return tuple(dict.fromkeys(chosen))

    @classmethod
    def from_borrower(
        cls,
        borrower: Borrower,
        *,
        number_zones: Callable[[ContactPoint], Iterable[str]] | None = None,
        fallback_zones: Iterable[str] = (),
        **kwargs: Any,
    ) -> BorrowerFacts:
        """Build from a :class:`~loancollect.domain.loans.Borrower`.

        The candidates (:func:`candidate_zones`): the residence zone is an ``ADDRESS``
        candidate; a contact point's own zone is an ``AREA_CODE`` candidate for a
        phone and an ``ADDRESS`` candidate otherwise; a phone without its own zone
        gives the zones ``number_zones`` derives from its number (``AREA_CODE``).
        Zones that name no place (:func:`is_placeholder_zone`, e.g. ``UTC``) are
        left out. Only when nothing else gives a zone, ``fallback_zones`` (e.g. the
        zones of the jurisdiction) are the candidates (``OTHER``). Extra keyword
        arguments are passed on (flags, stated times ...).

        :raises ValidationError: when no candidate zone is left
            (``borrower.location_candidates``); check :func:`candidate_zones` first.
        """
        kwargs.setdefault(
            "location_candidates",
            candidate_zones(borrower, number_zones=number_zones, fallback_zones=fallback_zones),
        )
        return cls(id=borrower.id, jurisdiction=borrower.jurisdiction, **kwargs)

    def __repr__(self) -> str:
        return (
            f"BorrowerFacts(id={self.id!r}, jurisdiction={self.jurisdiction!r}, "
            f"zones={list(self.zones)!r}, flags={self.flags!r})"
        )


def _contract_rate(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, "debt.contract_rate")


def _lpr_at_contract(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, "debt.lpr_at_contract")


@attrs.frozen(kw_only=True)
class DebtFacts:
    """What the compliance engine knows about the debt.

    :param related_ids: other debt ids that count as this debt (e.g. student loans
        serviced under one account number at acquisition, Reg F 1006.14(b)(4)).
    :param time_barred: the limitation period has run (statute-barred).
    :param contract_rate: agreed annual rate (all-in, as a fraction).
    :param lpr_at_contract: one-year LPR in force at the contract date (PRC).
    :param demandable: the most that may be demanded (e.g. ``Assessment.amount_due``,
        which already leaves out a private-lending penalty excess).
    """

    id: str
    related_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_strs)
    kind: str = "consumer"
    time_barred: bool = False
    limitation_source: str = ""
    contract_rate: Decimal | None = attrs.field(default=None, converter=_contract_rate)
    lpr_at_contract: Decimal | None = attrs.field(default=None, converter=_lpr_at_contract)
    private_lending: bool = False
    in_collection_since: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "debt.in_collection_since"}
    )
    forbearance_assessed: bool = False
    financial_difficulty: bool = False
    debt_advice_referred: bool = False
    demandable: Money | None = None

    def __attrs_post_init__(self) -> None:
        _instants(self)
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError("debt.id", self.id, "must be a non-empty string")

    @property
    def keys(self) -> frozenset[str]:
        """This debt's id and the ids that count as the same debt."""
        return self.related_ids | {self.id}


@attrs.frozen(kw_only=True)
class Consent:
    """A consent given directly by the person contacted.

    :param channels: channels it covers; empty means all.
    :param valid_until: end of validity (exclusive); ``None`` means until withdrawn.
    """

    scope: ConsentScope
    given_at: pendulum.DateTime = attrs.field(metadata={"instant": "consent.given_at"})
    valid_until: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "consent.valid_until"}
    )
    channels: frozenset[Channel] = frozenset()

    def __attrs_post_init__(self) -> None:
        _instants(self)

    def active(self, at: pendulum.DateTime, channel: Channel) -> bool:
        """True if the consent covers ``channel`` at ``at``."""
        return (
            self.given_at <= at
            and (self.valid_until is None or at < self.valid_until)
            and (not self.channels or channel in self.channels)
        )


@attrs.frozen(kw_only=True, repr=False)
class OptOut:
    """A request not to use a medium (or one address of it)."""

    channel: Channel
    address: str | None = None

    def __repr__(self) -> str:
        return f"OptOut(channel={self.channel.value!r}, address={_mask(self.address)!r})"


def _tags(value: Iterable[str]) -> frozenset[str]:
    return frozenset(str(v) for v in value)


@attrs.frozen(kw_only=True, repr=False)
class ContactEvent:
    """One recorded contact or attempt, by the lender or any of its agencies.

    :param target_id: the person reached (or tried).
    :param address: the number, e-mail or postal address used.
    :param place: where it landed (``"home"``, ``"work"`` ...), when known.
    :param connected: the call reached the dialled number (busy / not in service = False).
    :param conversation: a conversation took place (an effective call).
    :param discussed_debt_ids: debts discussed in the conversation (default: ``debt_ids``).
    :param agent: organisation that made the contact (the lender or an agency).
    :param refused_further_contact: the person asked not to be contacted again.
    """

    at: pendulum.DateTime = attrs.field(metadata={"instant": "event.at"})
    channel: Channel
    direction: Direction = Direction.OUTBOUND
    target_id: str = ""
    target_kind: TargetKind = TargetKind.BORROWER
    address: str | None = None
    place: str | None = None
    debt_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_strs)
    connected: bool = True
    conversation: bool = False
    discussed_debt_ids: frozenset[str] | None = None
    agent: str = "lender"
    purpose: str = Purpose.COLLECTION
    consent: Consent | None = None
    opt_out: OptOut | None = None
    refused_further_contact: bool = False
    content_tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)

    def __attrs_post_init__(self) -> None:
        _instants(self)

    @property
    def discussed(self) -> frozenset[str]:
        """Debts discussed in the conversation (empty if there was none)."""
        if not self.conversation:
            return frozenset()
        return self.debt_ids if self.discussed_debt_ids is None else self.discussed_debt_ids

    def __repr__(self) -> str:
        return (
            f"ContactEvent(at={self.at.isoformat()}, channel={self.channel.value}, "
            f"direction={self.direction.value}, target={self.target_kind.value}:{self.target_id}, "
            f"address={_mask(self.address)!r}, debts={sorted(self.debt_ids)}, "
            f"connected={self.connected}, conversation={self.conversation})"
        )


@attrs.frozen(kw_only=True)
class Override:
    """A recorded rebuttal of a presumption (e.g. a call-back the consumer requested).

    :param rule_ids: the presumption rules it overrides.
    :param reason: one of the reasons the rule accepts (e.g. ``"consumer_request"``).
    :param note: free text kept in the audit trail; required.
    """

    rule_ids: frozenset[str] = attrs.field(converter=_strs)
    reason: str
    note: str

    def __attrs_post_init__(self) -> None:
        if not self.rule_ids:
            raise ValidationError("override.rule_ids", (), "name the rules overridden")
        if not self.reason.strip():
            raise ValidationError("override.reason", self.reason, "a reason must be recorded")
        if not self.note.strip():
            raise ValidationError("override.note", self.note, "a note must be recorded")


@attrs.frozen(kw_only=True, repr=False)
class ProposedContact:
    """A contact the strategy wants to make at instant ``at``.

    :param place: where the contact lands (``"home"``, ``"work"``, ``"public"`` ...).
    :param employer_provided: the address is provided by the borrower's employer.
    :param identity_verified: the person's identity has been established (UK CONC 7.9.10R).
    :param visit_notice_sent_at: for the visit itself (channel ``VISIT``): when notice
        of it was given, as recorded; ``None`` when no notice is recorded (the visit
        rules then refuse the visit).
    :param demand: amount demanded, checked against ``DebtFacts.demandable``.
    :param gives_visit_notice: the contact is the *notice* of a later field visit (the
        dispatch of a visit action), not the visit: the visit rules judge the visit it
        announces (vulnerability, place) but not its notice period, which starts now;
        the visit itself is judged when it is made, with ``visit_notice_sent_at``.
        Only a ``VISIT`` contact gives such notice, and it cannot carry an earlier
        notice of itself.
    """

    at: pendulum.DateTime = attrs.field(metadata={"instant": "proposed.at"})
    channel: Channel
    target_id: str = ""
    target_kind: TargetKind = TargetKind.BORROWER
    address: str | None = None
    place: str | None = None
    employer_provided: bool = False
    debt_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_strs)
    agent: str = "lender"
    agent_uses_private_account: bool = False
    purpose: str = Purpose.COLLECTION
    content_tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    identity_verified: bool = False
    visit_notice_sent_at: pendulum.DateTime | None = attrs.field(
        default=None, metadata={"instant": "proposed.visit_notice_sent_at"}
    )
    demand: Money | None = None
    override: Override | None = None
    gives_visit_notice: bool = False

    def __attrs_post_init__(self) -> None:
        _instants(self)
        if not isinstance(self.channel, Channel):
            raise ValidationError("proposed.channel", self.channel, "expected a Channel")
        if self.gives_visit_notice and self.channel is not Channel.VISIT:
            raise ValidationError(
                "proposed.gives_visit_notice",
                self.channel.value,
                "only a visit contact gives notice of a visit",
            )
        if self.gives_visit_notice and self.visit_notice_sent_at is not None:
            raise ValidationError(
                "proposed.visit_notice_sent_at",
                self.visit_notice_sent_at.isoformat(),
                "a contact that gives the notice of a visit is not the visit: it has no "
                "earlier notice",
            )
        if not self.channel.is_contact:
            raise ValidationError(
                "proposed.channel", self.channel.value, "contacts nobody; there is nothing to check"
            )
        if not isinstance(self.target_kind, TargetKind):
            raise ValidationError("proposed.target_kind", self.target_kind, "expected a TargetKind")

    def __repr__(self) -> str:
        return (
            f"ProposedContact(at={self.at.isoformat()}, channel={self.channel.value}, "
            f"target={self.target_kind.value}:{self.target_id}, "
            f"address={_mask(self.address)!r}, purpose={self.purpose!s}, "
            f"tags={sorted(self.content_tags)})"
        )
