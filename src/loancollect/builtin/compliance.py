"""The compliance bridge: every planned contact of the cycle goes through the rule packs.

The pure engine (:func:`loancollect.domain.compliance.check`) judges a
:class:`~loancollect.domain.compliance.ProposedContact` against rule packs, given
what is known about the borrower, the debt and the contact history. This module
translates the cycle's world into those inputs and the verdict back into
:class:`~loancollect.registry.ContactViolation` records:

- the planned action becomes the proposed contact: its channel's medium (a
  compliance :class:`~loancollect.domain.compliance.Channel`, see below), the
  borrower as the target, the contact point (masked) and its label as the place,
  and the content tags of the action's template (:func:`template_tags`) and tone;
- the loan and the case become :class:`~loancollect.domain.compliance.BorrowerFacts`
  (zones from the borrower, flags from holds and case flags, :func:`borrower_flags`)
  and :class:`~loancollect.domain.compliance.DebtFacts` (:func:`debt_facts`);
- the loan's stored events become the contact history (:func:`contact_events`):
  ``ACTION_SENT`` is an outbound attempt at the instant it was sent,
  ``CONTACT_OUTCOME`` says whether that attempt connected and was a conversation,
  ``OPT_OUT`` is the borrower's opt-out of a channel.

The medium of a channel is declared, never guessed from its name. In order:

1. the configuration ``compliance.channels`` (``{"acme-dialer": "call"}``);
2. the channel's registration, ``ChannelSpec(medium=...)``; a registered channel
   that declares none is not used to contact anyone: each of its actions gets a
   violation naming the channel and the fix, so it is blocked (fail closed);
3. for a name no plug-in registers, :data:`CORE_CHANNELS`: the names the
   built-in strategies use (``sms``, ``phone``, ``email``, ``letter``, ``visit``),
   for hosts that pass their own channel objects to the engine under those names.

A channel of medium ``none`` (a CRM sync) contacts nobody and is not checked; any
other channel name is blocked like an undeclared one.

The packs are those registered through ``loancollect_register_rules`` that cover
the borrower's jurisdiction. When the rules cannot decide, nobody is contacted
(fail closed): each action gets a violation without a time, so it is blocked and
recorded with the reason and the fix, and a warning is logged once:

- no registered pack covers the borrower's jurisdiction (:data:`NO_PACK`; ``UK``
  instead of ``GB``, or ``FR`` when the EU pack is configured without it), unless
  the operator lists the jurisdiction in the configuration
  ``compliance.unchecked_jurisdictions`` (:data:`CONFIG_UNCHECKED`, logged with a
  warning at start-up);
- the borrower's zone names no place (``UTC``) and no candidate zone can be
  derived from the contact points, the phone numbers or the jurisdiction
  (:data:`UNKNOWN_ZONE`);
- a pack fails while judging the contact (:data:`UNDECIDED`).

With no rule pack registered at all the guard has nothing to apply: it says so at
start-up and checks only channel media.

How the guard gets the packs without global state: the module is a default
plug-in (``loancollect.builtin.compliance``, block it to switch the bridge off);
:func:`install`, which :class:`~loancollect.engine.CollectionEngine` calls at
start-up, collects the registered packs from *that* plug-in manager, lints the
engine's templates against them and registers a :class:`ComplianceGuard`
instance on the same manager. Each manager has its own guard.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import importlib.resources
import logging
import re
import threading
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import pendulum
import phonenumbers
import pluggy

from loancollect import registry
from loancollect.builtin.visit_notice import VisitNotice, visit_notice
from loancollect.contacts import number_time_zones
from loancollect.domain.case import Case, HoldKind, OutcomeKind
from loancollect.domain.compliance import (
    Bankruptcy,
    BorrowerFacts,
    Channel,
    ContactEvent,
    DebtFacts,
    Deceased,
    Direction,
    Dispute,
    Flags,
    LocationCandidate,
    Moratorium,
    MoratoriumKind,
    OptOut,
    Outcome,
    ProposedContact,
    Purpose,
    RulePack,
    Tag,
    Template,
    Verdict,
    candidate_zones,
    check,
    lint_templates,
)
from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.events import (
    ActionSent,
    ContactOutcomeRecorded,
    Event,
    EventKind,
    OptedOut,
)
from loancollect.domain.legal import court_calendar, loan_limitation
from loancollect.domain.loans import Borrower, ContactKind, ContactPoint, Loan
from loancollect.domain.lpr import CN_ONE_YEAR_LPR, LprTable
from loancollect.domain.strategy import PlannedAction, Tone
from loancollect.domain.zones import check_zone
from loancollect.domain.zones import zone as zone_of
from loancollect.hookspecs import hookimpl
from loancollect.registry import ContactViolation, TemplateSpec
from loancollect.templates import TemplateCatalog

__all__ = [
    "ANY_JURISDICTION",
    "BORROWER_FLAGS",
    "CEASE_FLAG",
    "CONFIG_CHANNELS",
    "CONFIG_UNCHECKED",
    "CORE_CHANNELS",
    "DEBT_FLAGS",
    "GUARD_NAME",
    "IDENTITY_FIRST",
    "NO_PACK",
    "PLUGIN_NAME",
    "REFUSAL_FLAG",
    "UNDECIDED",
    "UNDECLARED_MEDIUM",
    "UNKNOWN_ZONE",
    "ComplianceGuard",
    "borrower_flags",
    "channel_for",
    "contact_events",
    "debt_facts",
    "install",
    "jurisdiction_zones",
    "lint_catalog",
    "phone_zones",
    "proposed_contact",
    "template_jurisdictions",
    "template_tags",
    "violations",
    "warm_calendars",
]

_LOG = logging.getLogger("loancollect.compliance")

PLUGIN_NAME = "loancollect.builtin.compliance"
"""The name this module is registered under (a default plug-in); block it to switch off."""

GUARD_NAME = "loancollect.builtin.compliance.guard"
"""The name :func:`install` registers the :class:`ComplianceGuard` under."""

CONFIG_CHANNELS = "compliance.channels"
"""Configuration key: ``{channel name: compliance channel}``, e.g. ``{"acme-sms": "sms"}``."""

CORE_CHANNELS: Mapping[str, Channel] = MappingProxyType(
    {
        "sms": Channel.SMS,
        "phone": Channel.CALL,
        "email": Channel.EMAIL,
        "letter": Channel.LETTER,
        "visit": Channel.VISIT,
    }
)
"""The media of the channel names the built-in strategies use.

They apply only to a name no plug-in registers (a host that passes its own channel
objects to the engine under these names); a registered channel's declaration, and
the configuration, come first. No other name has a medium unless it is declared.
"""

UNDECLARED_MEDIUM = "channel-medium"
"""The rule id of the violation given to every action of a channel with no medium."""

CONFIG_UNCHECKED = "compliance.unchecked_jurisdictions"
"""Configuration key: jurisdictions whose borrowers may be contacted although no
registered pack covers them (``["XX", "CA-QC"]``); a country code covers its
subdivisions. Nobody else is contacted without a pack. Logged with a warning."""
ANY_JURISDICTION = "*"
"""In :data:`CONFIG_UNCHECKED`: every jurisdiction no registered pack covers (tests and
demos of made-up borrowers; never a real deployment)."""

NO_PACK = "compliance-no-pack"
"""The rule id of the violation given when no registered pack covers the jurisdiction."""

UNKNOWN_ZONE = "compliance-unknown-zone"
"""The rule id of the violation given when no candidate zone of the borrower is known."""

UNDECIDED = "compliance-undecided"
"""The rule id of the violation given when a pack fails while judging the contact."""

# Codes people write for a country whose ISO 3166 code is another.
_ISO_ALIASES: Mapping[str, str] = MappingProxyType({"UK": "GB", "EL": "GR"})

_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")

CEASE_FLAG = "cease_communication"
"""Case flag: the borrower asked us to stop communicating (``cease_communication`` or
``cease_communication:YYYY-MM-DD`` with the date the notice was received)."""

REFUSAL_FLAG = "refused_to_pay"
"""Case flag: the borrower refused to pay in writing (optionally ``:YYYY-MM-DD``)."""

BORROWER_FLAGS = ("lost_contact", "incapacitated", "vulnerable", "employer_prohibits_contact")
"""Case flags copied to :class:`~loancollect.domain.compliance.Flags` booleans."""

DEBT_FLAGS = ("time_barred", "forbearance_assessed", "financial_difficulty", "debt_advice_referred")
"""Case flags copied to :class:`~loancollect.domain.compliance.DebtFacts` booleans."""

IDENTITY_FIRST = "identity_check_first"
"""Template content tag: the script establishes the person's identity before any debt
detail (a call script), so the proposed contact counts as ``identity_verified``."""

_DECLARATION = re.compile(r"\{#-?\s*content:(.*?)-?#\}", re.S)
_VARIABLE = re.compile(r"\{\{-?\s*([a-z_]+)")

# What a template variable tells about the content of the message.
_VARIABLE_TAGS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "amount_due": frozenset({Tag.DEBT_DETAILS, Tag.BALANCE}),
        "overdue_amount": frozenset({Tag.DEBT_DETAILS, Tag.BALANCE}),
        "payoff_amount": frozenset({Tag.DEBT_DETAILS, Tag.BALANCE}),
        "penalty": frozenset({Tag.DEBT_DETAILS}),
        "dpd": frozenset({Tag.DEBT_DETAILS}),
        "borrower_name": frozenset({Tag.BORROWER_NAME}),
        "lender_name": frozenset({Tag.CALLER_IDENTITY}),
        "lender_phone": frozenset({Tag.ISSUER_CONTACT}),
        "lender_address": frozenset({Tag.ISSUER_CONTACT}),
    }
)

_TONE_TAGS: Mapping[Tone, frozenset[str]] = MappingProxyType(
    {Tone.LEGAL_WARNING: frozenset({Tag.LEGAL_ACTION})}
)

# CONTACT_OUTCOME -> (connected, conversation with the borrower).
_OUTCOMES: Mapping[OutcomeKind, tuple[bool, bool]] = MappingProxyType(
    {
        OutcomeKind.RIGHT_PARTY_CONTACT: (True, True),
        OutcomeKind.PROMISE: (True, True),
        OutcomeKind.REFUSED: (True, True),
        OutcomeKind.DISPUTE_RAISED: (True, True),
        OutcomeKind.HARDSHIP_STATED: (True, True),
        OutcomeKind.NO_ANSWER: (True, False),
        OutcomeKind.WRONG_NUMBER: (True, False),
        OutcomeKind.THIRD_PARTY: (True, False),
    }
)

# The events the contact history is made of.
_HISTORY = frozenset({EventKind.ACTION_SENT, EventKind.CONTACT_OUTCOME, EventKind.OPT_OUT})

_NOT_IN_COLLECTION = frozenset({"current", "pre_delinquency", "cured", "closed", "settled"})


# -- channels and templates -----------------------------------------------------


def channel_for(name: str, channels: Mapping[str, Channel] = CORE_CHANNELS) -> Channel | None:
    """The medium of channel ``name`` in ``channels`` (names compared lower-cased), or
    ``None`` when it has none. Nothing is guessed from the name."""
    return channels.get(name.strip().lower())


def template_tags(spec: TemplateSpec) -> frozenset[str]:
    """The content tags of a template, for the lint and for the proposed contact.

    Two sources: tags the template declares in a Jinja comment, which is never
    rendered (``{# content: debt_collector_disclosure, opt_out_instructions #}``,
    in any of its parts), and tags implied by the variables it prints
    (``amount_due`` → ``debt_details`` and ``balance``, ``borrower_name`` →
    ``borrower_name``, ``lender_name`` → ``caller_identity``, ``lender_phone`` /
    ``lender_address`` → ``issuer_contact``). A template ``tone`` of
    ``legal_warning`` adds ``legal_action``.
    """
    tags: set[str] = set()
    for part in (spec.source, spec.subject, spec.html):
        if not part:
            continue
        for declared in _DECLARATION.findall(part):
            tags.update(t.strip() for t in declared.replace("\n", ",").split(",") if t.strip())
        for variable in _VARIABLE.findall(part):
            tags.update(_VARIABLE_TAGS.get(variable, ()))
    if spec.tone is not None:
        tags.update(_TONE_TAGS.get(spec.tone, ()))
    return frozenset(tags)


def _label(spec: TemplateSpec) -> str:
    label = f"{spec.channel}/{spec.name}/{spec.locale}"
    if spec.stage is not None:
        label += f" stage={spec.stage}"
    if spec.tone is not None:
        label += f" tone={spec.tone.value}"
    return label


def lint_catalog(
    packs: Iterable[RulePack],
    specs: Iterable[TemplateSpec],
    channels: Mapping[str, Channel] = CORE_CHANNELS,
) -> None:
    """Check every template against every pack's content rules.

    Every template is checked against every pack, whatever its locale: a locale is
    the borrower's language, not their jurisdiction (a Chinese-speaking borrower in
    New York gets the ``zh_CN`` texts under US rules). A template written for some
    jurisdictions only declares them (``{# jurisdictions: GB #}``, see
    :func:`template_jurisdictions`) and is checked against the packs of those
    jurisdictions; sent elsewhere, the contact rules still judge its content at the
    instant of sending (and block it if it lacks what they require). ``channels``
    gives each channel's medium; templates of channels that contact nobody (medium
    ``none``) or have no medium (never sent) are skipped.

    :raises ConfigurationError: naming every template and rule that do not agree.
    """
    chosen = tuple(packs)
    groups: dict[frozenset[str], list[Template]] = {}
    for spec in specs:
        channel = channel_for(spec.channel, channels)
        if channel is None or not channel.is_contact:
            continue
        groups.setdefault(template_jurisdictions(spec), []).append(
            Template(
                name=_label(spec),
                channel=channel,
                content_tags=template_tags(spec),
                purpose=Purpose.COLLECTION,
            )
        )
    for written_for, templates in groups.items():
        judges = tuple(
            p
            for p in chosen
            if not written_for
            or any(j.split("-", 1)[0].upper() in written_for for j in p.jurisdictions)
        )
        if not judges or not templates:
            continue
        try:
            lint_templates(judges, templates)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"message templates break the registered rule packs "
                f"({', '.join(p.name for p in judges)}): {exc}"
            ) from exc


_JURISDICTIONS = re.compile(r"\{#-?\s*jurisdictions:(.*?)-?#\}", re.S)


def template_jurisdictions(spec: TemplateSpec) -> frozenset[str]:
    """The countries a template is written for (empty: every jurisdiction).

    Declared in a Jinja comment, in any part: ``{# jurisdictions: GB #}``. The
    ``en_GB`` texts are written for the UK's rules (free debt advice, no US
    debt-collector disclosure) and say so.
    """
    found: set[str] = set()
    for part in (spec.source, spec.subject, spec.html):
        for declared in _JURISDICTIONS.findall(part or ""):
            found.update(j.strip().upper() for j in declared.split(",") if j.strip())
    return frozenset(found)


# -- facts ------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def _day_start(day: dt.date, zone: str) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, tz=zone_of(zone)).in_timezone(
        pendulum.UTC
    )


def _flag_instant(
    flags: frozenset[str], name: str, zone: str, at: dt.datetime
) -> pendulum.DateTime | None:
    """``name`` or ``name:YYYY-MM-DD`` among case flags, as an instant (no later than ``at``)."""
    now = pendulum.instance(at).in_timezone(pendulum.UTC)
    found: pendulum.DateTime | None = None
    for flag in flags:
        if flag == name:
            when = now
        elif flag.startswith(name + ":"):
            try:
                when = min(_day_start(dt.date.fromisoformat(flag[len(name) + 1 :]), zone), now)
            except ValueError:
                raise ConfigurationError(
                    f"case flag {flag!r}: expected {name!r} or '{name}:YYYY-MM-DD'"
                ) from None
        else:
            continue
        found = when if found is None else min(found, when)
    return found


def _zone_tab() -> str:
    """The tz database's ``zone.tab``, where ``zoneinfo`` finds its zones: the system's
    zone directories first, then the ``tzdata`` package; empty if neither has it."""
    for root in zoneinfo.TZPATH:
        path = Path(root) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return (
            importlib.resources.files("tzdata")
            .joinpath("zoneinfo", "zone.tab")
            .read_text(encoding="utf-8")
        )
    except (ModuleNotFoundError, OSError):
        return ""


@functools.cache
def _country_zones() -> Mapping[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for line in _zone_tab().splitlines():
        parts = line.split("\t")
        if line.startswith("#") or len(parts) < 3:
            continue
        try:
            check_zone("zone.tab", parts[2])
        except ValidationError:  # a zone pendulum does not know
            continue
        table.setdefault(parts[0], []).append(parts[2])
    return MappingProxyType({k: tuple(sorted(v)) for k, v in table.items()})


def jurisdiction_zones(jurisdiction: str) -> tuple[str, ...]:
    """Every IANA zone of the jurisdiction's country (the tz database's ``zone.tab``):
    ``("Europe/London",)`` for ``GB-ENG``, every zone of the United States for
    ``US-NY``, ``()`` for a code the database does not know (``UK``, ``XX``).

    The candidates of last resort for a borrower whose zone is unknown: a contact is
    then allowed only at a time allowed everywhere in the country.
    """
    return _country_zones().get(jurisdiction.split("-", 1)[0], ())


def phone_zones(point: ContactPoint) -> tuple[str, ...]:
    """The zones a phone contact point's number places the borrower in.

    Those of a *geographic* number, whose prefix is tied to a place: a fixed line,
    or a mobile where the numbering plan ties mobiles to a place (``+1 212 …`` gives
    ``America/New_York``, ``+86 138 …`` ``Asia/Shanghai``), as
    :func:`loancollect.contacts.phone_time_zones` gives them. None for a number tied
    to no place (``+1 800 …`` would give every zone from Guam to Newfoundland, a
    window no one is ever in; most mobiles outside North America and China) or one
    that cannot be read; the borrower's other zones, or the jurisdiction's, decide.
    """
    if point.kind is not ContactKind.PHONE:
        return ()
    return _geographic_zones(point.value)


@functools.lru_cache(maxsize=65536)
def _geographic_zones(value: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return ()
    kind = phonenumbers.number_type(number)
    code = number.country_code
    if code is None or not phonenumbers.is_number_type_geographical(kind, code):
        return ()
    # Surrounding blanks, which phone_time_zones strips, never change what parse reads.
    return number_time_zones(number)


def borrower_flags(case: Case, zone: str, as_of: dt.date, at: dt.datetime) -> Flags:
    """Stops and restrictions from the case: its holds active on ``as_of`` and its flags.

    - holds: ``dispute`` → a dispute pending (resolved the day after the hold's end,
      if it has one); ``bankruptcy`` → a petition (stay lifted after the end);
      ``deceased`` → death on the start date; ``breathing_space`` → a standard
      moratorium (ending after the hold's end). Instants are the start of those
      dates in ``zone``. ``legal`` and ``manual`` holds are not compliance facts
      (the core plans no contact while any hold is active).
    - flags: :data:`CEASE_FLAG`, :data:`REFUSAL_FLAG` and :data:`BORROWER_FLAGS`.
    """
    now = pendulum.instance(at).in_timezone(pendulum.UTC)
    values: dict[str, Any] = {}
    for hold in case.holds:
        if not hold.active_on(as_of):
            continue
        start = min(_day_start(hold.start, zone), now)
        end = None if hold.end is None else _day_start(hold.end + dt.timedelta(days=1), zone)
        if hold.kind is HoldKind.DISPUTE:
            values["dispute"] = Dispute(received_at=start, resolved_at=end)
        elif hold.kind is HoldKind.BANKRUPTCY:
            values["bankruptcy"] = Bankruptcy(filed_at=start, stay_lifted_at=end)
        elif hold.kind is HoldKind.DECEASED:
            values["deceased"] = Deceased(date=hold.start)
        elif hold.kind is HoldKind.BREATHING_SPACE:
            values["moratorium"] = Moratorium(kind=MoratoriumKind.STANDARD, start=start, end=end)
    values["cease_received_at"] = _flag_instant(case.flags, CEASE_FLAG, zone, at)
    values["refusal_received_at"] = _flag_instant(case.flags, REFUSAL_FLAG, zone, at)
    for name in BORROWER_FLAGS:
        values[name] = name in case.flags
    return Flags(**values)


def debt_facts(
    loan: Loan,
    case: Case,
    zone: str,
    lpr: LprTable = CN_ONE_YEAR_LPR,
    *,
    history: Sequence[Event] = (),
    as_of: dt.date | None = None,
) -> DebtFacts:
    """What the rules know about the debt: the loan's contract rate, private lending and
    the one-year LPR at the contract date (for the 4 × LPR cap), when the case entered
    collection, and the :data:`DEBT_FLAGS` of the case.

    ``time_barred`` is computed, not set by hand: with ``as_of``, it is true when the
    limitation period of the borrower's jurisdiction (:mod:`loancollect.domain.legal`,
    from the loan and its ``history``: part payments, acknowledgments, delivered
    demands, filings) ran out before ``as_of``. A ``time_barred`` flag recorded on an
    older case still counts."""
    lpr_at_contract = None
    if loan.private_lending:
        try:
            lpr_at_contract = lpr.rate_on(loan.contract_date or loan.disbursement_date)
        except ConfigurationError:
            lpr_at_contract = None
    since = None
    if case.stage not in _NOT_IN_COLLECTION and case.stage_since is not None:
        since = _day_start(case.stage_since, zone)
    return DebtFacts(
        id=loan.id,
        contract_rate=loan.annual_rate,
        lpr_at_contract=lpr_at_contract,
        private_lending=loan.private_lending,
        in_collection_since=since,
        time_barred="time_barred" in case.flags or _time_barred(loan, history, as_of),
        forbearance_assessed="forbearance_assessed" in case.flags,
        financial_difficulty="financial_difficulty" in case.flags,
        debt_advice_referred="debt_advice_referred" in case.flags,
    )


def _time_barred(loan: Loan, history: Sequence[Event], as_of: dt.date | None) -> bool:
    """True if the loan's limitation period ran out before ``as_of``."""
    if as_of is None:
        return False
    limitation = loan_limitation(loan, history, as_of=as_of)
    return limitation is not None and limitation.barred_on(as_of)


def contact_events(
    history: Sequence[Event],
    zone: str,
    channels: Mapping[str, Channel] = CORE_CHANNELS,
) -> tuple[ContactEvent, ...]:
    """The contact history the rules count, from a loan's stored events.

    - ``ACTION_SENT``: an outbound attempt on its channel at the instant it was
      sent, to the contact point recorded with it (``contact``, masked) at its
      ``place``; connected until an outcome says otherwise, no conversation.
    - ``CONTACT_OUTCOME``: completes the latest attempt on the same channel and
      business day that has no outcome yet (connected, conversation); without such
      an attempt (an agent's own call) it is an attempt of its own.
    - ``OPT_OUT``: the borrower's inbound request not to use the channel.

    ``channels`` gives each channel's medium. Events without an instant count at the
    start of their business day in ``zone``. Events on channels that contact nobody
    (medium ``none``) or have no medium are left out.
    """
    out: list[ContactEvent] = []
    open_attempts: dict[tuple[Channel, dt.date], list[int]] = {}
    for event in history:
        if event.kind not in _HISTORY:
            continue
        payload = event.payload
        assert isinstance(payload, ActionSent | ContactOutcomeRecorded | OptedOut)
        channel = channel_for(payload.channel, channels)
        if channel is None or not channel.is_contact:
            continue
        at = (
            pendulum.instance(event.at).in_timezone(pendulum.UTC)
            if event.at is not None
            else _day_start(event.on, zone)
        )
        debt_ids = frozenset({event.loan_id})
        if isinstance(payload, ActionSent):
            open_attempts.setdefault((channel, event.on), []).append(len(out))
            out.append(
                ContactEvent(
                    at=at,
                    channel=channel,
                    debt_ids=debt_ids,
                    address=payload.contact or None,
                    place=payload.place or None,
                )
            )
        elif isinstance(payload, ContactOutcomeRecorded):
            connected, conversation = _OUTCOMES.get(payload.outcome, (True, False))
            waiting = open_attempts.get((channel, event.on), [])
            match = next(
                (i for i in reversed(waiting) if event.at is None or out[i].at <= at), None
            )
            if match is not None:
                waiting.remove(match)
                out[match] = attrs.evolve(
                    out[match], connected=connected, conversation=conversation
                )
            else:
                out.append(
                    ContactEvent(
                        at=at,
                        channel=channel,
                        debt_ids=debt_ids,
                        connected=connected,
                        conversation=conversation,
                    )
                )
        else:
            out.append(
                ContactEvent(
                    at=at,
                    channel=channel,
                    direction=Direction.INBOUND,
                    debt_ids=debt_ids,
                    connected=False,
                    opt_out=OptOut(channel=channel),
                )
            )
    return tuple(out)


def opt_out_events(
    case: Case, zone: str, channels: Mapping[str, Channel] = CORE_CHANNELS
) -> tuple[ContactEvent, ...]:
    """The opt-outs kept on the case (flags ``opt_out:<channel>:<YYYY-MM-DD>``, set by
    the engine's ``record_opt_out``), as inbound opt-out events whatever their age."""
    out = []
    for flag in sorted(case.flags):
        parts = flag.split(":")
        if len(parts) != 3 or parts[0] != "opt_out":
            continue
        channel = channel_for(parts[1], channels)
        try:
            on = dt.date.fromisoformat(parts[2])
        except ValueError:
            continue
        if channel is None or not channel.is_contact:
            continue
        out.append(
            ContactEvent(
                at=_day_start(on, zone),
                channel=channel,
                direction=Direction.INBOUND,
                debt_ids=frozenset({case.loan_id}),
                connected=False,
                opt_out=OptOut(channel=channel),
            )
        )
    return tuple(out)


def proposed_contact(
    action: PlannedAction,
    at: dt.datetime,
    channel: Channel,
    tags: frozenset[str],
    *,
    notice: VisitNotice | None = None,
) -> ProposedContact:
    """The planned action as the engine's proposed contact (to the borrower, for collection).

    The address is the contact point's masked value (what ``ACTION_SENT`` records),
    the place its label (``"mobile"``, ``"work"``); a template tagged
    :data:`IDENTITY_FIRST` counts as establishing identity before debt details. For a
    visit, ``notice`` (:func:`~loancollect.builtin.visit_notice.visit_notice`) says
    whether the contact is the notice itself or the visit, and when its notice was
    recorded; ``None`` is a visit without a recorded notice.
    """
    point = action.contact
    return ProposedContact(
        at=pendulum.instance(at),
        channel=channel,
        address=None if point is None else point.masked,
        place=(point.label or None) if point is not None else None,
        debt_ids=frozenset({action.loan_id}),
        purpose=Purpose.COLLECTION,
        content_tags=tags,
        identity_verified=IDENTITY_FIRST in tags,
        gives_visit_notice=notice is not None and notice.gives,
        visit_notice_sent_at=None if notice is None else notice.sent_at,
    )


def violations(verdict: Verdict) -> list[ContactViolation]:
    """One violation per failing rule: all with the earliest allowed instant when the
    verdict is ``RESCHEDULED``, all without one when it is ``BLOCKED``."""
    if verdict.allowed:
        return []
    when = verdict.earliest if verdict.outcome is Outcome.RESCHEDULED else None
    return [
        ContactViolation(
            rule_id=r.rule_id, citation=r.citation, detail=r.detail, reschedule_at=when
        )
        for r in verdict.reasons
    ]


# -- the guard --------------------------------------------------------------------


class _UndecidedError(Exception):
    """The rules cannot decide: the violations that block the action instead."""

    def __init__(self, *found: ContactViolation) -> None:
        super().__init__("; ".join(v.detail for v in found))
        self.violations = list(found)


_FACTS_KEPT = 2048
"""How many cases' facts the guard remembers: more than a review batch (500 cases by
default) hands on to be sent, so the send-time judgement of a batch finds every case
the review judged; a miss only costs deriving the facts again."""


@attrs.frozen(kw_only=True, eq=False)
class _CaseFacts:
    """What the guard derived for one case: the inputs (by identity) and the facts."""

    loan: Loan
    case: Case
    as_of: dt.date
    history: Sequence[Event]
    at: dt.datetime
    candidates: tuple[LocationCandidate, ...]
    zone: str
    facts: BorrowerFacts
    debt: DebtFacts

    def matches(self, loan: Loan, case: Case, as_of: dt.date, history: Sequence[Event]) -> bool:
        """True if these are the same loan, case and history objects, on the same day."""
        return (
            self.loan is loan
            and self.case is case
            and self.history is history
            and self.as_of == as_of
        )


class ComplianceGuard:
    """The plug-in object that checks planned contacts against the registered packs.

    Built and registered by :func:`install`; one per plug-in manager. It reads the
    configuration keys :data:`CONFIG_CHANNELS` and :data:`CONFIG_UNCHECKED`
    (``loancollect_configure`` is historic, so the host's configuration reaches it
    when it is registered, at start-up).

    :param packs: the registered rule packs.
    :param templates: the engine's templates, for the content tags of each action.
    :param media: the medium each registered channel declares (``None``: it declares
        none), as :func:`loancollect.registry.channel_media` gives them.
    :param channels: media that override the declarations (what the configuration
        ``compliance.channels`` adds).
    :param unchecked: jurisdictions contacted without a pack (what the configuration
        ``compliance.unchecked_jurisdictions`` adds).
    :param number_zones: the IANA zones of a phone contact point's number, for the
        borrower's candidate zones (``None``: numbers give no zone).
    :param lpr: the one-year LPR table for the private-lending cap.
    """

    def __init__(
        self,
        packs: Iterable[RulePack],
        *,
        templates: TemplateCatalog | None = None,
        media: Mapping[str, Channel | None] | None = None,
        channels: Mapping[str, Channel] | None = None,
        unchecked: Iterable[str] = (),
        number_zones: Callable[[ContactPoint], Iterable[str]] | None = None,
        lpr: LprTable = CN_ONE_YEAR_LPR,
    ) -> None:
        self.packs: tuple[RulePack, ...] = tuple(packs)
        self.templates = templates
        self._declared = {k.strip().lower(): v for k, v in (media or {}).items()}
        self._configured = {k.strip().lower(): v for k, v in (channels or {}).items()}
        self.channels: Mapping[str, Channel] = self._resolve()
        self.unchecked: frozenset[str] = _jurisdictions(unchecked, "unchecked")
        self.number_zones = number_zones
        self.lpr = lpr
        self._tags = (
            {spec.key: template_tags(spec) for spec in templates.specs} if templates else {}
        )
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._last_history: tuple[Sequence[Event], str, tuple[ContactEvent, ...]] | None = None
        # The facts of the cases judged lately (see _case_facts), oldest first.
        self._facts: collections.OrderedDict[int, _CaseFacts] = collections.OrderedDict()
        # The packs covering each jurisdiction asked about, with the packs they came from.
        self._covering: dict[str, tuple[tuple[RulePack, ...], tuple[RulePack, ...]]] = {}

    def __repr__(self) -> str:
        return f"ComplianceGuard(packs={[p.name for p in self.packs]})"

    def _resolve(self) -> Mapping[str, Channel]:
        """Every channel name with a medium: configured, else declared, else a core name
        no plug-in registers."""
        merged = {n: m for n, m in CORE_CHANNELS.items() if n not in self._declared}
        merged.update((n, m) for n, m in self._declared.items() if m is not None)
        merged.update(self._configured)
        return MappingProxyType(merged)

    def medium(self, name: str) -> Channel | None:
        """The medium of channel ``name`` (``Channel.NONE`` if it contacts nobody), or
        ``None`` if it has none: then it must not be used to contact anyone."""
        return channel_for(name, self.channels)

    def undeclared(self, name: str) -> ContactViolation:
        """The violation every action of channel ``name``, which has no medium, gets."""
        declared = name.strip().lower() in self._declared
        return ContactViolation(
            rule_id=UNDECLARED_MEDIUM,
            detail=(
                f"channel {name!r} "
                + ("declares no compliance medium" if declared else "is not registered")
                + ", so nothing may be sent through it: declare ChannelSpec(medium=...) "
                f"in its registration, or map it in the configuration {CONFIG_CHANNELS!r}"
            ),
        )

    # -- which packs -------------------------------------------------------------------

    def is_unchecked(self, jurisdiction: str) -> bool:
        """True if the operator listed ``jurisdiction``, its country or
        :data:`ANY_JURISDICTION` in :data:`CONFIG_UNCHECKED`."""
        unchecked = self.unchecked
        return (
            ANY_JURISDICTION in unchecked
            or jurisdiction in unchecked
            or jurisdiction.split("-", 1)[0] in unchecked
        )

    def _registered(self) -> str:
        return ", ".join(f"{p.name} ({' '.join(p.jurisdictions)})" for p in self.packs) or "none"

    def no_pack(self, jurisdiction: str) -> ContactViolation:
        """The violation every action for a borrower in ``jurisdiction`` gets when no
        registered pack covers it."""
        country = jurisdiction.split("-", 1)[0]
        hint = ""
        if country in _ISO_ALIASES:
            iso = _ISO_ALIASES[country] + jurisdiction[len(country) :]
            hint = f" ({jurisdiction!r} is not an ISO 3166 code: did you mean {iso!r}?)"
        return ContactViolation(
            rule_id=NO_PACK,
            citation="fail closed: no contact without the rules of the jurisdiction",
            detail=(
                f"no registered rule pack covers jurisdiction {jurisdiction!r}{hint}, so "
                f"nobody there is contacted (registered: {self._registered()}): correct "
                "the borrower's jurisdiction, install and register the pack that covers "
                "it, or list it in the configuration "
                f"{CONFIG_UNCHECKED!r} to contact its borrowers without any check"
            ),
        )

    def packs_for(self, jurisdiction: str) -> tuple[RulePack, ...] | None:
        """The registered packs covering ``jurisdiction`` (national pack and overlays).

        ``None`` when nothing is to be checked: the operator listed the jurisdiction
        (or :data:`ANY_JURISDICTION`) in :data:`CONFIG_UNCHECKED`. With no pack
        registered at all, every jurisdiction is uncovered: nobody is contacted unless
        the operator says so that way.

        :raises ConfigurationError: when packs are registered but none covers it (see
            :meth:`no_pack`; the hook answers with that violation instead).
        """
        packs = self.packs
        known = self._covering.get(jurisdiction)
        if known is not None and known[0] is packs:
            chosen = known[1]
        else:
            # Remembered per jurisdiction for these very packs (every action asks).
            chosen = tuple(p for p in packs if p.covers(jurisdiction))
            with self._lock:
                self._covering[jurisdiction] = (packs, chosen)
        if chosen:
            return chosen
        if self.is_unchecked(jurisdiction):
            self._warn_once(
                f"unchecked:{jurisdiction}",
                "no registered rule pack covers jurisdiction %s; its contacts are NOT "
                "checked, as the configuration %r says",
                jurisdiction,
                CONFIG_UNCHECKED,
            )
            return None
        raise ConfigurationError(self.no_pack(jurisdiction).detail)

    # -- configuration -------------------------------------------------------------------

    @hookimpl
    def loancollect_configure(self, config: Mapping[str, object]) -> None:
        """Read channel media from ``config["compliance.channels"]`` (``{name: medium}``),
        which override what the channels declare, and the jurisdictions contacted without
        a pack from ``config["compliance.unchecked_jurisdictions"]`` (logged as a warning).
        """
        extra = config.get(CONFIG_CHANNELS)
        if extra is not None:
            self._configure_channels(extra)
        unchecked = config.get(CONFIG_UNCHECKED)
        if unchecked is not None:
            self._configure_unchecked(unchecked)

    def _configure_channels(self, extra: object) -> None:
        if not isinstance(extra, Mapping):
            raise ConfigurationError(
                f"configuration {CONFIG_CHANNELS!r}: expected a mapping of channel names "
                f"to one of {sorted(c.value for c in Channel)}"
            )
        merged = dict(self._configured)
        for name, value in extra.items():
            try:
                merged[str(name).strip().lower()] = (
                    value if isinstance(value, Channel) else Channel(str(value))
                )
            except ValueError:
                raise ConfigurationError(
                    f"configuration {CONFIG_CHANNELS!r}: channel {name!r} maps to {value!r}, "
                    f"not one of {sorted(c.value for c in Channel)}"
                ) from None
        self._configured = merged
        self.channels = self._resolve()

    def _configure_unchecked(self, value: object) -> None:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ConfigurationError(
                f"configuration {CONFIG_UNCHECKED!r}: expected a list of ISO 3166 codes "
                f"like ['XX', 'CA-QC'], got {value!r}"
            )
        listed = list(value)
        everywhere = ANY_JURISDICTION in listed
        codes = _jurisdictions([v for v in listed if v != ANY_JURISDICTION], CONFIG_UNCHECKED)
        if everywhere:
            _LOG.warning(
                "configuration %r lists %r: borrowers in every jurisdiction no registered "
                "rule pack covers are contacted WITHOUT any compliance check",
                CONFIG_UNCHECKED,
                ANY_JURISDICTION,
            )
            codes = codes | {ANY_JURISDICTION}
        self.unchecked = self.unchecked | codes
        named = codes - {ANY_JURISDICTION}
        covered = sorted(c for c in named if any(p.covers(c) for p in self.packs))
        loose = sorted(named - set(covered))
        if loose:
            _LOG.warning(
                "configuration %r: borrowers in %s are contacted WITHOUT any compliance "
                "check where no registered rule pack covers them",
                CONFIG_UNCHECKED,
                ", ".join(loose),
            )
        if covered:
            _LOG.warning(
                "configuration %r: %s covered by a registered rule pack, so their "
                "contacts are checked all the same",
                CONFIG_UNCHECKED,
                ", ".join(covered) + (" is" if len(covered) == 1 else " are"),
            )

    def lint(self, specs: Iterable[TemplateSpec]) -> None:
        """Check templates against the packs (:func:`lint_catalog`).

        :raises ConfigurationError: for a template that breaks a pack's content rules.
        """
        lint_catalog(self.packs, specs, self.channels)

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        _LOG.warning(message, *args)

    def _has_template(self, action: PlannedAction) -> bool:
        """Whether the catalog holds the template ``action`` is rendered with."""
        return (
            self.templates is not None
            and self.templates.find(
                action.template,
                action.channel,
                action.locale,
                stage=action.stage,
                tone=action.tone,
            )
            is not None
        )

    def _content(self, action: PlannedAction) -> frozenset[str]:
        tags: set[str] = set(_TONE_TAGS.get(action.tone, ()))
        if self.templates is not None:
            spec = self.templates.find(
                action.template,
                action.channel,
                action.locale,
                stage=action.stage,
                tone=action.tone,
            )
            if spec is not None:
                tags |= self._tags.get(spec.key) or template_tags(spec)
        return frozenset(tags)

    # -- judging -------------------------------------------------------------------------

    def unknown_zone(self, borrower: Borrower) -> ContactViolation:
        """The violation every action for ``borrower`` gets when none of its zones is known."""
        return ContactViolation(
            rule_id=UNKNOWN_ZONE,
            citation="fail closed: local time must come from the borrower's IANA zone",
            detail=(
                f"borrower {borrower.id}'s time zone {borrower.time_zone!r} names no place "
                "and no candidate zone can be derived (no contact point with a zone, no "
                f"phone number with known zones, no zone of jurisdiction "
                f"{borrower.jurisdiction!r}), so the borrower's local time is unknown and "
                "nobody is contacted: record the borrower's IANA zone (e.g. "
                "'Europe/London') or a contact point's time_zone"
            ),
        )

    def verdict(
        self,
        *,
        action: PlannedAction,
        loan: Loan,
        case: Case,
        as_of: dt.date,
        at: dt.datetime,
        history: Sequence[Event],
        visit_notice_at: dt.datetime | None = None,
    ) -> Verdict | None:
        """The engine's verdict on ``action``, or ``None`` when nothing applies.

        ``None`` means the channel contacts nobody (medium ``none``), or nothing is to
        be checked for the borrower's jurisdiction (:meth:`packs_for`).
        ``visit_notice_at`` is the hook's (``loancollect_check_contact``): for a
        visit, the notice or the visit is judged as
        :func:`~loancollect.builtin.visit_notice.visit_notice` says.

        :raises ConfigurationError: when the rules cannot decide: the action's channel
            has no medium (:meth:`undeclared`), no registered pack covers the
            jurisdiction (:meth:`no_pack`), no zone of the borrower is known
            (:meth:`unknown_zone`), or a pack fails; the hook answers with those
            violations instead.
        """
        try:
            return self._judge(
                action=action,
                loan=loan,
                case=case,
                as_of=as_of,
                at=at,
                history=history,
                visit_notice_at=visit_notice_at,
            )
        except _UndecidedError as objection:
            raise ConfigurationError(str(objection)) from None

    def _judge(
        self,
        *,
        action: PlannedAction,
        loan: Loan,
        case: Case,
        as_of: dt.date,
        at: dt.datetime,
        history: Sequence[Event],
        visit_notice_at: dt.datetime | None = None,
    ) -> Verdict | None:
        channel = self.medium(action.channel)
        if channel is None:
            raise _UndecidedError(self.undeclared(action.channel))
        if not channel.is_contact:
            return None
        borrower = loan.borrower
        try:
            packs = self.packs_for(borrower.jurisdiction)
        except ConfigurationError:
            self._warn_once(
                f"jurisdiction:{borrower.jurisdiction}",
                "%s",
                self.no_pack(borrower.jurisdiction).detail,
            )
            raise _UndecidedError(self.no_pack(borrower.jurisdiction)) from None
        if packs is None:
            return None
        facts, debt, zone = self._case_facts(loan, case, as_of, at, history)
        notice = (
            visit_notice(action, at, visit_notice_at, history, zone)
            if channel is Channel.VISIT
            else None
        )
        if notice is not None and not notice.gives and not self._has_template(action):
            # What is said at the door decides whether identity comes before the debt's
            # details (UK-07): a script the catalog does not hold cannot be judged.
            raise _UndecidedError(
                ContactViolation(
                    rule_id=UNDECIDED,
                    citation="fail closed: no visit whose script the rules cannot judge",
                    detail=(
                        f"the visit's script {action.template!r} (channel {action.channel!r}, "
                        f"locale {action.locale!r}) is not in the template catalog, so what "
                        "is said at the door cannot be judged and the visit is not made: "
                        "register it (the shipped one is 'door_script')"
                    ),
                )
            )
        try:
            return check(
                proposed_contact(action, at, channel, self._content(action), notice=notice),
                facts,
                debt,
                self._contact_events(history, zone) + opt_out_events(case, zone, self.channels),
                packs,
            )
        except Exception as exc:  # a pack that cannot decide must not let the contact through
            names = ", ".join(p.name for p in packs)
            self._warn_once(
                f"undecided:{names}:{type(exc).__name__}",
                "rule packs %s could not judge a contact (%s: %s); such contacts are blocked",
                names,
                type(exc).__name__,
                exc,
            )
            raise _UndecidedError(
                ContactViolation(
                    rule_id=UNDECIDED,
                    citation="fail closed: no contact the rules cannot judge",
                    detail=(
                        f"rule packs {names} could not judge the contact "
                        f"({type(exc).__name__}: {exc}), so it is not made"
                    ),
                )
            ) from exc

    def _case_facts(
        self,
        loan: Loan,
        case: Case,
        as_of: dt.date,
        at: dt.datetime,
        history: Sequence[Event] = (),
    ) -> tuple[BorrowerFacts, DebtFacts, str]:
        """Borrower and debt facts and the zone the case's dates are read in.

        Remembered for the cases judged lately (:data:`_FACTS_KEPT`), keyed by the very
        loan, case and history objects (frozen records: the same objects are the same
        inputs): every action of a case in one review, and the send-time judgement of
        the actions the review handed on with those objects, reuse the candidate zones
        and the debt facts (its limitation period). Only the borrower's flags depend on
        the instant: they are computed again for another ``at``.

        :raises _UndecidedError: when no candidate zone of the borrower is known.
        """
        key = id(loan)
        with self._lock:
            known = self._facts.get(key)
        if known is not None and known.matches(loan, case, as_of, history):
            if known.at == at:
                return known.facts, known.debt, known.zone
            facts = BorrowerFacts.from_borrower(
                loan.borrower,
                location_candidates=known.candidates,
                flags=borrower_flags(case, known.zone, as_of, at),
            )
            return facts, known.debt, known.zone
        borrower = loan.borrower
        candidates = candidate_zones(
            borrower,
            number_zones=self.number_zones,
            fallback_zones=jurisdiction_zones(borrower.jurisdiction),
        )
        if not candidates:
            self._warn_once(
                f"zone:{borrower.jurisdiction}:{borrower.time_zone}",
                "%s (the first such borrower; others in %s with zone %r are blocked too)",
                self.unknown_zone(borrower).detail,
                borrower.jurisdiction,
                borrower.time_zone,
            )
            raise _UndecidedError(self.unknown_zone(borrower))
        # The case's dates (holds, flags, events without an instant) are read in the
        # borrower's own zone; when it names no place, in the first candidate zone.
        zone = candidates[0].time_zone
        facts = BorrowerFacts.from_borrower(
            borrower,
            location_candidates=candidates,
            flags=borrower_flags(case, zone, as_of, at),
        )
        debt = debt_facts(loan, case, zone, self.lpr, history=history, as_of=as_of)
        entry = _CaseFacts(
            loan=loan,
            case=case,
            as_of=as_of,
            history=history,
            at=at,
            candidates=candidates,
            zone=zone,
            facts=facts,
            debt=debt,
        )
        with self._lock:
            self._facts[key] = entry
            self._facts.move_to_end(key)
            while len(self._facts) > _FACTS_KEPT:
                self._facts.popitem(last=False)
        return facts, debt, zone

    def forget(self) -> None:
        """Drop the facts remembered for the cases judged lately.

        They only spare deriving the facts again for the very same loan, case and history
        objects (a review batch's, judged again when its actions are sent); once a batch's
        actions are sent those objects are not seen again, and keeping them would keep a
        few batches of loans, cases and histories alive for the garbage collector to walk.
        The engine calls this after each batch is sent and at the end of a cycle. Nothing
        judged depends on it: a miss derives the facts again.
        """
        with self._lock:
            self._facts.clear()
            self._last_history = None

    def _contact_events(self, history: Sequence[Event], zone: str) -> tuple[ContactEvent, ...]:
        """:func:`contact_events`, remembered for the history last seen: the engine asks
        about every action of a case with the same history object."""
        with self._lock:
            last = self._last_history
            if last is not None and last[0] is history and last[1] == zone:
                return last[2]
        events = contact_events(history, zone, self.channels)
        with self._lock:
            self._last_history = (history, zone, events)
        return events

    @hookimpl
    def loancollect_check_contact(
        self,
        action: PlannedAction,
        loan: Loan,
        case: Case,
        as_of: dt.date,
        at: dt.datetime,
        history: tuple[Event, ...],
        visit_notice_at: dt.datetime | None = None,
    ) -> list[ContactViolation]:
        """Object to the action when the packs block or reschedule it, and block it when
        the rules cannot decide (a channel without a medium, a jurisdiction no pack
        covers, no known zone, a pack that fails). A visit is judged as its notice or
        as the visit itself with its recorded notice
        (:func:`~loancollect.builtin.visit_notice.visit_notice`)."""
        if self.medium(action.channel) is None:
            self._warn_once(
                f"medium:{action.channel}",
                "%s",
                self.undeclared(action.channel).detail + "; its actions are blocked",
            )
            return [self.undeclared(action.channel)]
        try:
            verdict = self._judge(
                action=action,
                loan=loan,
                case=case,
                as_of=as_of,
                at=at,
                history=history,
                visit_notice_at=visit_notice_at,
            )
        except _UndecidedError as objection:
            return objection.violations
        return [] if verdict is None else violations(verdict)


def _jurisdictions(values: Iterable[object], what: str) -> frozenset[str]:
    """ISO 3166 codes (``"XX"``, ``"CA-QC"``), upper-cased.

    :raises ConfigurationError: naming ``what`` and the first bad code.
    """
    out = set()
    for value in values:
        code = str(value).strip().upper()
        if not _CODE.match(code):
            raise ConfigurationError(
                f"configuration {what!r}: {value!r} is not an ISO 3166 code like 'XX' or 'CA-QC'"
            )
        out.add(code)
    return frozenset(out)


def warm_calendars(packs: Iterable[RulePack]) -> tuple[str, ...]:
    """Build, once, the court calendars of the packs' jurisdictions (limitation periods).

    A borrower's limitation period (:func:`debt_facts`) rolls its last day to a court
    business day, from the ``holidays`` package's tables; the first such check imports
    the country's module and builds its tables, a one-off cost that would otherwise
    fall on the first case of the day. :func:`install` calls this at start-up, so it
    is paid there. Nothing is judged here: the calendars are the same objects the
    first check would build (:func:`~loancollect.domain.legal.court_calendar` keeps
    them), and every contact is still judged at its own instant.

    :returns: the jurisdictions whose calendar was built.
    """
    built = []
    for pack in packs:
        for jurisdiction in pack.jurisdictions:
            # A country-level pack (``US``) also covers its states' borrowers, whose
            # calendars come from the same country module: built here too.
            if court_calendar(jurisdiction) is not None:
                built.append(jurisdiction)
    return tuple(dict.fromkeys(built))


def install(
    pm: pluggy.PluginManager, templates: TemplateCatalog | None = None, *, lint: bool = True
) -> ComplianceGuard | None:
    """Build the guard for ``pm`` from its registered packs and register it.

    Called by the engine at start-up. Replaces a guard registered earlier on the
    same manager (a second engine). With ``lint``, the templates are checked
    against the packs first.

    :returns: the guard, or ``None`` when the host blocked (or never registered) the
        plug-in :data:`PLUGIN_NAME`.
    :raises ConfigurationError: when a template breaks a pack's content rules, or
        the registered packs conflict.
    """
    if pm.is_blocked(PLUGIN_NAME) or not pm.has_plugin(PLUGIN_NAME):
        return None
    guard = ComplianceGuard(
        registry.rule_packs(pm).values(),
        templates=templates,
        media=registry.channel_media(pm),
        number_zones=phone_zones,
    )
    if not guard.packs:
        _LOG.warning(
            "no rule pack is registered (loancollect_register_rules): nobody is contacted "
            "unless the configuration %r lists the jurisdiction (or '*'); install the "
            "packs your portfolio needs (e.g. make_plugin_manager(load_entrypoints=True))",
            CONFIG_UNCHECKED,
        )
    # One-off costs of the first judgement belong to start-up: the court calendars and
    # the table of each country's zones (read from the tz database once).
    warm_calendars(guard.packs)
    _country_zones()
    previous = pm.get_plugin(GUARD_NAME)
    if previous is not None:
        pm.unregister(previous)
    pm.register(guard, name=GUARD_NAME)  # historic loancollect_configure reaches it here
    if lint and templates is not None:
        try:
            guard.lint(templates.specs)
        except ConfigurationError:
            pm.unregister(guard)
            if previous is not None:
                pm.register(previous, name=GUARD_NAME)
            raise
    return guard
