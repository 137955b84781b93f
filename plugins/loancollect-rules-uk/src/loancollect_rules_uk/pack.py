"""The United Kingdom packs: FCA CONC 7 and the Debt Respite Scheme (England and Wales).

:func:`pack` covers ``GB`` (CONC 7, the Administration of Justice Act 1970 s.40).
:func:`respite_pack` covers ``GB-ENG`` and ``GB-WLS`` only: the Debt Respite Scheme
(Breathing Space Moratorium and Mental Health Crisis Moratorium) Regulations 2020,
SI 2020/1311. CONC sets no numeric hours or frequencies: the window and any caps
are firm policy (options), while the customer's own requests are hard constraints.
"""

from __future__ import annotations

import datetime as dt

import attrs

from loancollect.domain.calendar import business_calendar
from loancollect.domain.compliance import (
    Confidence,
    ContactWindow,
    ContentRule,
    DisputeHold,
    FrequencyCap,
    IdentityBeforeDetails,
    InconvenientPlaces,
    LocalTimeRange,
    MoratoriumCharges,
    MoratoriumStop,
    PreferredChannels,
    Purpose,
    Rule,
    RuleInfo,
    RulePack,
    StatedTimes,
    Tag,
    TargetKind,
    ThirdPartyRule,
    TimeBarredDebt,
    VisitRule,
    WeeklyTimes,
    WorkflowGate,
)
from loancollect.domain.compliance.recording import CallRecording, RecordingConsent
from loancollect.domain.errors import ConfigurationError

__all__ = ["RESPITE_ZONE", "UkOptions", "pack", "respite_pack"]

V, S, K, Q = (
    Confidence.VERIFIED,
    Confidence.SECONDARY,
    Confidence.KNOWLEDGE,
    Confidence.UNCERTAIN,
)

_WEEKDAYS = frozenset(range(6))  # Monday..Saturday


@attrs.frozen(kw_only=True)
class UkOptions:
    """Configuration of the UK packs (firm policy where CONC sets no number).

    :param window_start: firm window opening (08:00) ``[?]``.
    :param window_end: firm window end, exclusive (21:00) ``[?]``.
    :param sundays: allow contact on Sundays.
    :param bank_holidays: allow contact on bank holidays of ``calendar_subdivision``.
    :param calendar_subdivision: ``holidays`` subdivision for bank holidays (``"ENG"``).
    :param daily_contact_cap: optional cap on outbound contacts per day (AJA 1970 s.40).
    :param weekly_contact_cap: optional cap on outbound contacts per 7 days.
    :param visit_notice_days: notice before a field visit ``[?]``.
    :param standard_breathing_space_days: standard moratorium length when no end is
        recorded (60 days counted from the start day, ending at local midnight in
        England and Wales; day-count convention unverified ``[?]``).
    """

    window_start: dt.time = dt.time(8, 0)
    window_end: dt.time = dt.time(21, 0)
    sundays: bool = True
    bank_holidays: bool = True
    calendar_subdivision: str = "ENG"
    daily_contact_cap: int | None = None
    weekly_contact_cap: int | None = None
    visit_notice_days: int = 3
    standard_breathing_space_days: int = 60

    def __attrs_post_init__(self) -> None:
        if self.window_end <= self.window_start:
            raise ConfigurationError(
                f"uk options: window_end={self.window_end} not after window_start"
            )


_info = RuleInfo.of


def _window(options: UkOptions) -> ContactWindow:
    days = frozenset(range(7)) if options.sundays else _WEEKDAYS
    span = LocalTimeRange(options.window_start, options.window_end)
    return ContactWindow(
        info=_info(
            "UK-04-WINDOW",
            "CONC 7.9 (no contact at unreasonable times)",
            Q,
            "Firm policy window: no statutory hours exist in the UK.",
            f"[{options.window_start:%H:%M}, {options.window_end:%H:%M}) local; "
            f"sundays={options.sundays}, bank_holidays={options.bank_holidays}",
            policy=True,
        ),
        allowed=[WeeklyTimes(span, weekdays=days)],
        holidays=None
        if options.bank_holidays
        else business_calendar("GB", options.calendar_subdivision),
        holiday_ranges=None if options.bank_holidays else (),
    )


def _rules(options: UkOptions) -> list[Rule]:
    # CONC 7 names no medium: every rule here (window, caps, the customer's requests)
    # applies to calls, letters, visits, SMS, e-mail and instant messages alike.
    rules: list[Rule] = [
        DisputeHold(
            info=_info(
                "UK-11",
                "CONC 7.14.3R",
                K,
                "A debt disputed on valid or possibly valid grounds: suspend recovery until "
                "the dispute is investigated.",
                "Flags.dispute (any recorded dispute)",
            ),
            written_in_period_only=False,
        ),
        TimeBarredDebt(
            info=_info(
                "UK-12",
                "CONC 7.15 (believed 7.15.4R); Limitation Act 1980 s.5",
                K,
                "Statute-barred debts: do not claim they are enforceable, do not threaten "
                "court action, stop demanding once the customer says the debt is "
                "statute-barred and will not be paid.",
                "DebtFacts.time_barred per nation; Flags.refusal_received_at",
            ),
            stop_after_refusal=True,
        ),
        PreferredChannels(
            info=_info(
                "UK-04-HOW",
                "CONC 7.9 (believed 7.9.4R)",
                S,
                "Honour the customer's reasonable requests about how to be contacted.",
                "BorrowerFacts.preferred_channels (hard constraint)",
            )
        ),
        InconvenientPlaces(
            info=_info(
                "UK-04-WHERE",
                "CONC 7.9 (believed 7.9.4R)",
                S,
                "Honour the customer's reasonable requests about where to be contacted.",
                "BorrowerFacts.stated_inconvenient_places (hard constraint)",
            )
        ),
        ThirdPartyRule(
            info=_info(
                "UK-06",
                "CONC 7.9.7R-7.9.8G",
                V,
                "No unfair disclosure of the debt to third parties; third-party contact is "
                "for location only and never reveals the debt.",
                "debt adviser and representatives are not third parties",
            ),
            allowed_targets=frozenset(
                {
                    TargetKind.BORROWER,
                    TargetKind.REPRESENTATIVE,
                    TargetKind.ATTORNEY,
                    TargetKind.GUARANTOR,
                }
            ),
            allowed_purposes=frozenset({Purpose.LOCATION_INFO}),
            consent_allows=True,
        ),
        VisitRule(
            info=_info(
                "UK-08",
                "CONC 7.9.12R-7.9.13G and the following rule on visits",
                V,
                "Visits: adequate notice, never to a customer known or suspected to be "
                "particularly vulnerable, not at an inappropriate place without consent.",
                f"notice {options.visit_notice_days} days [?]; Flags.vulnerable; place 'home'",
            ),
            notice=dt.timedelta(days=options.visit_notice_days),
        ),
        _window(options),
        StatedTimes(
            info=_info(
                "UK-04-WHEN",
                "CONC 7.9 (believed 7.9.4R)",
                S,
                "Honour the customer's reasonable requests about when to be contacted (for "
                "example shift workers).",
                "BorrowerFacts.stated_inconvenient_times (hard constraint)",
            ),
            allow_reply_to_inbound=False,
        ),
    ]
    if options.daily_contact_cap is not None:
        rules.append(
            FrequencyCap(
                info=_info(
                    "UK-10-DAY",
                    "Administration of Justice Act 1970 s.40",
                    Q,
                    "Policy: a daily cap on demands, so frequency does not cause alarm or "
                    "distress.",
                    f"cap {options.daily_contact_cap} outbound contacts per local day",
                    policy=True,
                ),
                cap=options.daily_contact_cap,
                days=1,
                per_debt=False,
            )
        )
    if options.weekly_contact_cap is not None:
        rules.append(
            FrequencyCap(
                info=_info(
                    "UK-10-WEEK",
                    "Administration of Justice Act 1970 s.40",
                    Q,
                    "Policy: a weekly cap on demands.",
                    f"cap {options.weekly_contact_cap} outbound contacts per 7 local days",
                    policy=True,
                ),
                cap=options.weekly_contact_cap,
                days=7,
                per_debt=False,
            )
        )
    rules += [
        IdentityBeforeDetails(
            info=_info(
                "UK-07",
                "CONC 7.9.10R, 7.9.11G",
                V,
                "Establish identity before disclosing debt details in a live contact.",
                "ProposedContact.identity_verified",
            )
        ),
        ContentRule(
            info=_info(
                "UK-03",
                "CONC 7.3.10R",
                V,
                "No pressure to pay in one or very few large payments, within an "
                "unreasonably short time, or by selling property or borrowing.",
                "forbidden tags short_deadline_full_balance, suggest_borrowing",
            ),
            forbidden=frozenset({Tag.SHORT_DEADLINE_FULL_BALANCE, Tag.SUGGEST_BORROWING}),
        ),
        ContentRule(
            info=_info(
                "UK-05",
                "CONC 7.9.2R, 7.9.3G",
                V,
                "No statement that makes the customer contact the firm under a "
                "misunderstanding (e.g. a 'missed delivery' card).",
                "forbidden tag misleading_pretext",
            ),
            forbidden=frozenset({Tag.MISLEADING_PRETEXT}),
        ),
        ContentRule(
            info=_info(
                "UK-09",
                "CONC 7.9.5R",
                K,
                "The customer must not be required to call a premium-rate number.",
                "forbidden tag premium_rate_number",
            ),
            forbidden=frozenset({Tag.PREMIUM_RATE_NUMBER}),
        ),
        ContentRule(
            info=_info(
                "UK-10",
                "Administration of Justice Act 1970 s.40; CONC 7.3",
                K,
                "No threats, publicity or humiliation with demands for payment.",
                "forbidden tags threat, insult, public_notice, false_legal_claim, "
                "misleading_consequence",
            ),
            forbidden=frozenset(
                {
                    Tag.THREAT,
                    Tag.INSULT,
                    Tag.PUBLIC_NOTICE,
                    Tag.FALSE_LEGAL_CLAIM,
                    Tag.MISLEADING_CONSEQUENCE,
                    Tag.IMPERSONATE_AUTHORITY,
                }
            ),
        ),
        WorkflowGate(
            info=_info(
                "UK-02",
                "CONC 7.3.4R (pre-November 2024 numbering); PS24/2",
                S,
                "Forbearance and due consideration before enforcement: legal action needs "
                "a recorded forbearance assessment.",
                "DebtFacts.forbearance_assessed",
            ),
            purposes=frozenset({Purpose.LEGAL_ACTION, Purpose.ENFORCEMENT}),
            requires="forbearance_assessed",
        ),
    ]
    rules += recording_rules()
    return rules


# The Debt Respite Scheme extends to England and Wales: its days are London days.
RESPITE_ZONE = "Europe/London"


def _respite_rules(options: UkOptions) -> list[Rule]:
    days = options.standard_breathing_space_days
    return [
        MoratoriumStop(
            info=_info(
                "UK-13",
                "SI 2020/1311 reg. 11(1)-(2); reg. 26 (60 days); Part 3 (MHCM)",
                V,
                "During a breathing space or mental health crisis moratorium, no contact "
                "about a moratorium debt, except with the debt adviser, about unrelated "
                "matters, at the debtor's request, answering a query or complaint, about "
                "permitted proceedings, or where the law requires it. A crisis moratorium "
                "without a known end blocks with no time.",
                f"standard length {days} days counted from the start day, ending at local "
                f"midnight ({RESPITE_ZONE}), when no end is recorded [?]; Flags.moratorium",
            ),
            standard_days=days,
            zone=RESPITE_ZONE,
        ),
        MoratoriumCharges(
            info=_info(
                "UK-15",
                "SI 2020/1311 reg. 7",
                S,
                "No interest, fees, penalties or charges on moratorium debts for the "
                "moratorium period, ever (a charge is blocked, not rescheduled); no "
                "enforcement action while the moratorium lasts (it waits for the end).",
                "purposes apply_fee, apply_interest and tags apply_fee, apply_interest "
                "blocked for good; purposes enforcement, legal_action and tag legal_action "
                "wait for the end",
            ),
            standard_days=days,
            zone=RESPITE_ZONE,
        ),
    ]


def _version() -> str:
    from loancollect_rules_uk import __version__

    return __version__


def pack(options: UkOptions | None = None) -> RulePack:
    """The UK conduct pack (jurisdiction ``GB``): CONC 7 and firm policy."""
    options = options or UkOptions()
    return RulePack(
        name="uk-conc",
        jurisdictions=("GB",),
        rules=_rules(options),
        options=options,
        version=_version(),
        description="FCA CONC 7 arrears, default and recovery conduct",
    )


def respite_pack(options: UkOptions | None = None) -> RulePack:
    """The Debt Respite Scheme pack (``GB-ENG``, ``GB-WLS``): moratoria and their effects."""
    options = options or UkOptions()
    return RulePack(
        name="uk-debt-respite",
        jurisdictions=("GB-ENG", "GB-WLS"),
        rules=_respite_rules(options),
        options=options,
        version=_version(),
        description="Debt Respite Scheme (England and Wales): breathing space and MHCM",
    )


def recording_rules() -> list[Rule]:
    """A business may record its calls when the caller is told first.

    The Investigatory Powers (Interception by Businesses etc. for Monitoring and
    Record-keeping Purposes) Regulations 2018, reg. 3, with the transparency duty of
    UK GDPR art. 13 (``[K]``): the call opens with the notice.
    """
    return [
        CallRecording(
            info=_info(
                "UK-REC",
                "SI 2018/356 reg. 3; UK GDPR art. 13",
                K,
                "Calls may be recorded for business purposes when the customer is told "
                "before the recording starts.",
            ),
            consent=RecordingConsent.NOTICE,
            notice=(
                ("en", "This call is recorded for training and compliance purposes."),
                ("zh", "本次通话将被录音,用于培训和合规目的。"),
            ),
        )
    ]
