"""The United States pack: FDCPA (15 U.S.C. §1692 et seq.) and Regulation F (12 CFR 1006).

:func:`pack` builds the federal rules from :class:`UsOptions`; :func:`state_overlay`
builds a stricter state pack stacked on top of it (the engine evaluates every pack
covering the borrower's jurisdiction, so the strictest rule wins);
:func:`massachusetts` is the worked example (940 CMR 7.04(1)(f)).

Rules tagged ``[?]`` in the research catalog are options here, never hard-coded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from loancollect.domain.compliance import (
    AttorneyRepresentation,
    BankruptcyStay,
    CeaseCommunication,
    Channel,
    ChannelBan,
    ChannelOptOut,
    Confidence,
    ContactWindow,
    ContentRule,
    ConversationCooldown,
    Count,
    DeceasedBorrower,
    DisputeHold,
    FrequencyCap,
    InconvenientPlaces,
    LifetimeCap,
    LocalTimeRange,
    Purpose,
    Retention,
    Rule,
    RuleInfo,
    RulePack,
    StatedTimes,
    Tag,
    TargetKind,
    ThirdPartyRule,
    TimeBarredDebt,
    WeeklyTimes,
    WorkplaceRestriction,
)
from loancollect.domain.compliance.recording import CallRecording, RecordingConsent
from loancollect.domain.errors import ConfigurationError

__all__ = [
    "LIMITED_CONTENT_TAGS",
    "REBUTTAL_REASONS",
    "UsOptions",
    "massachusetts",
    "pack",
    "state_overlay",
]

V, S, K, Q = (
    Confidence.VERIFIED,
    Confidence.SECONDARY,
    Confidence.KNOWLEDGE,
    Confidence.UNCERTAIN,
)

#: Reasons that rebut the 7-in-7 and post-conversation presumptions (Supplement I).
REBUTTAL_REASONS = frozenset({"consumer_request", "required_by_law", "litigation"})

#: Content a limited-content message may carry (12 CFR 1006.2(j)).
LIMITED_CONTENT_TAGS = frozenset(
    {
        Tag.LIMITED_CONTENT,
        Tag.CALLER_IDENTITY,  # business name not indicating debt collection
        "reply_request",
        "contact_name",
        "reply_number",
        "salutation",
        "date_time",
        "suggested_reply_times",
        "any_representative",
        Tag.OPT_OUT_INSTRUCTIONS,
    }
)

_CALLS = frozenset({Channel.CALL, Channel.VOICEMAIL})
# Electronic communications: media other than telephone calls, e-mail, text and
# instant messages among them (12 CFR 1006.2(d)); an instant message (WeChat,
# WhatsApp) is judged like a text message.
_ELECTRONIC = frozenset({Channel.EMAIL, Channel.SMS, Channel.INSTANT_MESSAGE})
# Every communication carries the debt collector disclosure (15 U.S.C. §1692e(11)):
# calls, letters and the electronic media.
_COMMUNICATIONS = frozenset({Channel.CALL, Channel.LETTER}) | _ELECTRONIC
# Persons whose calls are excluded from the frequency counts (1006.14(b)(3)(iii)).
_EXCLUDED = frozenset({TargetKind.ATTORNEY})
_THIRD_PARTIES = frozenset(
    {TargetKind.THIRD_PARTY, TargetKind.EMPLOYER, TargetKind.EMERGENCY_CONTACT}
)


@attrs.frozen(kw_only=True)
class UsOptions:
    """Configuration of the US pack.

    :param is_debt_collector: the user is an FDCPA "debt collector" (third-party
        collector or debt buyer). An original creditor collecting its own debt in its
        own name is not: then only the bankruptcy stay applies federally, plus state
        overlays and ``creditor_window`` if set.
    :param window_start: opening of the daily window (08:00; 08:01 is a guard band
        for the ambiguous boundary, ``[?]``).
    :param window_end: end of the window, exclusive (21:00).
    :param last_call_start: optional earlier end for *calls* only, so a call does not
        run past the window (e.g. 20:50) ``[?]``.
    :param calls_per_seven_days: the 7-in-7 presumption.
    :param cooldown_days: days blocked after a telephone conversation, its date day 1.
    :param consent_days: validity of a direct consent to calls, its date day 1.
    :param attorney_reasonable_days: "reasonable time" for an attorney to answer ``[?]``.
    :param min_gap_same_number: optional minimum gap between calls to one number ``[?]``.
    :param max_calls_per_day: optional daily cap on calls per person and debt ``[?]``.
    :param max_electronic_per_week: optional cap on e-mails and texts per 7 days ``[?]``.
    :param voicemail_limited_content_only: voicemails must be limited-content messages.
    :param creditor_window: for a non-collector, still apply the window as firm policy.
    """

    is_debt_collector: bool = True
    window_start: dt.time = dt.time(8, 0)
    window_end: dt.time = dt.time(21, 0)
    last_call_start: dt.time | None = None
    calls_per_seven_days: int = 7
    cooldown_days: int = 7
    consent_days: int = 7
    attorney_reasonable_days: int = 30
    min_gap_same_number: dt.timedelta | None = None
    max_calls_per_day: int | None = None
    max_electronic_per_week: int | None = None
    voicemail_limited_content_only: bool = True
    creditor_window: bool = False

    def __attrs_post_init__(self) -> None:
        if self.window_end <= self.window_start:
            raise ConfigurationError(
                f"us options: window_end={self.window_end} not after window_start"
            )
        if self.last_call_start is not None and not (
            self.window_start < self.last_call_start <= self.window_end
        ):
            raise ConfigurationError(
                f"us options: last_call_start={self.last_call_start} outside the window"
            )


_info = RuleInfo.of


def _window(options: UsOptions, rule_id: str, *, policy: bool = False) -> ContactWindow:
    return ContactWindow(
        info=_info(
            rule_id,
            "15 U.S.C. §1692c(a)(1); 12 CFR 1006.6(b)(1)(i); Supplement I comment 6(b)(1)(i)-1",
            V,
            "No contact before 8:00 or from 9:00 p.m. local time, in every candidate zone "
            "of the consumer (conflicting area code and address: the intersection). "
            "Electronic messages are judged at the send time.",
            f"window [{options.window_start:%H:%M}, {options.window_end:%H:%M}); "
            "UsOptions.window_start / window_end (guard band [?]); consent lifts it",
            policy=policy,
        ),
        allowed=[WeeklyTimes(LocalTimeRange(options.window_start, options.window_end))],
    )


def _federal(options: UsOptions) -> list[Rule]:
    rules: list[Rule] = [
        BankruptcyStay(
            info=_info(
                "US-31",
                "11 U.S.C. §362(a)(6)",
                K,
                "Once a bankruptcy petition is filed, no act to collect a pre-petition claim.",
                "always on; Flags.bankruptcy",
            )
        ),
    ]
    if not options.is_debt_collector:
        if options.creditor_window:
            rules.append(_window(options, "US-POLICY-WINDOW", policy=True))
        return rules
    rules += [
        CeaseCommunication(
            info=_info(
                "US-16",
                "15 U.S.C. §1692c(c); 12 CFR 1006.6(c)",
                V,
                "After a written refusal to pay or request to stop, no communication about the "
                "debt except to say collection ends or which remedies may or will be invoked.",
                "Flags.cease_received_at / refusal_received_at (receipt; e-mail counts as "
                "writing [?])",
            )
        ),
        DisputeHold(
            info=_info(
                "US-28",
                "15 U.S.C. §1692g(b); 12 CFR 1006.38(b)(1), (d)(2)",
                V,
                "A written dispute within the validation period stops collection of the "
                "debt until verification is sent; sending it stays allowed.",
                "Flags.dispute (written, within_validation_period, resolved_at)",
            ),
            written_in_period_only=True,
        ),
        AttorneyRepresentation(
            info=_info(
                "US-07",
                "15 U.S.C. §1692c(a)(2); 12 CFR 1006.6(b)(2)",
                V,
                "No contact with a consumer known to be represented by an attorney for the "
                "debt, unless the attorney consents or fails to answer in a reasonable time.",
                f"reasonable time {options.attorney_reasonable_days} days "
                "(UsOptions.attorney_reasonable_days, [?])",
            ),
            reasonable_days=options.attorney_reasonable_days,
        ),
        DeceasedBorrower(
            info=_info(
                "US-32",
                "12 CFR 1006.6(a)(4), comment 6(a)(4)-1",
                V,
                "After death, 'consumer' means the executor, administrator or personal "
                "representative; others are third parties.",
                "Flags.deceased.representative_id",
            )
        ),
        ChannelOptOut(
            info=_info(
                "US-17",
                "12 CFR 1006.14(h)(1), (h)(2)",
                V,
                "Do not use a medium or address the person asked not to be used; one "
                "confirmation of the opt-out and communications required by law are allowed.",
                "opt-out events; one-time reply to a consumer-initiated message ((h)(2)(ii), [K])",
            )
        ),
        InconvenientPlaces(
            info=_info(
                "US-04-PLACE",
                "15 U.S.C. §1692c(a)(1); 12 CFR 1006.6(b)(1)(ii); comment 6(b)(1)-1",
                S,
                "No contact at a place or through a medium the consumer said is inconvenient "
                "(one same-medium reply to a consumer-initiated contact, or consent, excepted).",
                "BorrowerFacts.stated_inconvenient_places",
            )
        ),
        WorkplaceRestriction(
            info=_info(
                "US-06",
                "15 U.S.C. §1692c(a)(3); 12 CFR 1006.6(b)(3); 12 CFR 1006.22(f)(3)",
                V,
                "No communication at work where the employer prohibits it; no e-mail to an "
                "employer-provided address without consent or a message from it.",
                "Flags.employer_prohibits_contact; ProposedContact.place / employer_provided",
            )
        ),
        ChannelBan(
            info=_info(
                "US-19",
                "12 CFR 1006.22(f)(4)",
                V,
                "No communication on social media viewable by the public or the person's contacts.",
                "ProposedContact.place == 'public' on Channel.SOCIAL",
            ),
            channels=frozenset({Channel.SOCIAL}),
            places=frozenset({"public"}),
        ),
        ThirdPartyRule(
            info=_info(
                "US-21",
                "15 U.S.C. §1692c(b), (d); 12 CFR 1006.6(a), (d)(1)-(2); §1692b; 12 CFR 1006.10",
                V,
                "Third parties only for location information (or with the consumer's direct "
                "consent), never telling them of the debt; stop when they refuse.",
                "consumer = borrower, spouse, representative; attorney allowed",
            ),
            allowed_targets=frozenset(
                {
                    TargetKind.BORROWER,
                    TargetKind.SPOUSE,
                    TargetKind.REPRESENTATIVE,
                    TargetKind.ATTORNEY,
                    TargetKind.GUARANTOR,
                }
            ),
            allowed_purposes=frozenset({Purpose.LOCATION_INFO}),
            consent_allows=True,
        ),
        LifetimeCap(
            info=_info(
                "US-22",
                "15 U.S.C. §1692b(3); 12 CFR 1006.10",
                V,
                "Contact each third party for location information only once, unless asked "
                "or the earlier answer is believed wrong and now correctable.",
                "override reasons: requested, reasonable_belief_update",
            ),
            overridable_by=frozenset({"requested", "reasonable_belief_update"}),
            cap=1,
            purposes=frozenset({Purpose.LOCATION_INFO}),
            target_kinds=_THIRD_PARTIES,
        ),
        _window(options, "US-01"),
        StatedTimes(
            info=_info(
                "US-04-TIME",
                "12 CFR 1006.6(b)(1)(i); comment 6(b)(1)-1",
                S,
                "No contact at a time the consumer said is inconvenient (weekly recurring "
                "local times); one same-medium reply to a consumer-initiated contact allowed.",
                "BorrowerFacts.stated_inconvenient_times; consent lifts it",
            )
        ),
    ]
    if options.last_call_start is not None:
        rules.append(
            ContactWindow(
                info=_info(
                    "US-01-CALLS",
                    "15 U.S.C. §1692c(a)(1) (calls spanning 9 p.m.)",
                    Q,
                    "Policy: do not start calls so late that they run past the window.",
                    f"calls in [{options.window_start:%H:%M}, {options.last_call_start:%H:%M})",
                    policy=True,
                ),
                allowed=[
                    WeeklyTimes(LocalTimeRange(options.window_start, options.last_call_start))
                ],
                channels=_CALLS,
            )
        )
    rules += [
        FrequencyCap(
            info=_info(
                "US-08",
                "12 CFR 1006.14(b)(2)(i)(A), (b)(3), (b)(4)",
                V,
                "Presumed violation: more than 7 calls within 7 consecutive days to a person "
                "about a debt. Not-connected calls, calls within 7 days of consent and calls "
                "to the consumer's attorney are not counted.",
                f"cap {options.calls_per_seven_days} per 7 local days per (person, debt); "
                "rebuttable: Override reasons consumer_request, required_by_law, litigation; "
                "day boundaries in every candidate zone [?]",
            ),
            overridable_by=REBUTTAL_REASONS,
            cap=options.calls_per_seven_days,
            days=7,
            channels=_CALLS,
            exclude_not_connected=True,
            excluded_targets=_EXCLUDED,
            consent_days=options.consent_days,
        ),
        ConversationCooldown(
            info=_info(
                "US-09",
                "12 CFR 1006.14(b)(2)(i)(B); comment 14(b)(4)-1.ii",
                V,
                "Presumed violation: a call within 7 days after a telephone conversation "
                "with the person about the debt (the conversation date is day 1), whoever "
                "started it.",
                f"{options.cooldown_days} days; rebuttable like US-08",
            ),
            overridable_by=REBUTTAL_REASONS,
            days=options.cooldown_days,
            excluded_targets=_EXCLUDED,
            consent_days=options.consent_days,
        ),
    ]
    if options.min_gap_same_number is not None:
        rules.append(
            FrequencyCap(
                info=_info(
                    "US-14-GAP",
                    "12 CFR 1006.14(a); Supplement I rebuttal factors",
                    Q,
                    "Policy: no calls in rapid succession to the same number.",
                    f"min gap {options.min_gap_same_number}",
                    policy=True,
                ),
                cap=1,
                duration=options.min_gap_same_number,
                channels=_CALLS,
                per_person=False,
                per_debt=False,
                per_number=True,
            )
        )
    if options.max_calls_per_day is not None:
        rules.append(
            FrequencyCap(
                info=_info(
                    "US-14-DAY",
                    "12 CFR 1006.14(a); Supplement I rebuttal factors",
                    Q,
                    "Policy: a daily cap on calls per person and debt.",
                    f"cap {options.max_calls_per_day} per local day",
                    policy=True,
                ),
                cap=options.max_calls_per_day,
                days=1,
                channels=_CALLS,
                exclude_not_connected=True,
                excluded_targets=_EXCLUDED,
            )
        )
    if options.max_electronic_per_week is not None:
        rules.append(
            FrequencyCap(
                info=_info(
                    "US-15",
                    "12 CFR 1006.14(a) (texts and e-mails are not calls)",
                    Q,
                    "Policy: a weekly cap on e-mails, texts and instant messages (not counted "
                    "in 7-in-7).",
                    f"cap {options.max_electronic_per_week} per 7 local days",
                    policy=True,
                ),
                cap=options.max_electronic_per_week,
                days=7,
                channels=_ELECTRONIC,
            )
        )
    rules += [
        TimeBarredDebt(
            info=_info(
                "US-29",
                "12 CFR 1006.26(b)",
                K,
                "No suit or threat of suit on a time-barred debt.",
                "DebtFacts.time_barred (from a state limitations module); state disclosures "
                "via overlays",
            )
        ),
        ContentRule(
            info=_info(
                "US-CONDUCT",
                "15 U.S.C. §1692d, §1692e, §1692f; 12 CFR 1006.14, 1006.18, 1006.22",
                K,
                "No harassment, threats, false or misleading representations (legal status, "
                "consequences, amounts, authority) and no unauthorised fees.",
                "forbidden content tags",
            ),
            forbidden=frozenset(
                {
                    Tag.THREAT,
                    Tag.INSULT,
                    Tag.FALSE_LEGAL_CLAIM,
                    Tag.IMPERSONATE_AUTHORITY,
                    Tag.MISLEADING_CONSEQUENCE,
                    Tag.EXAGGERATED_AMOUNT,
                    Tag.COLLECTION_FEE,
                    Tag.PUBLIC_NOTICE,
                }
            ),
        ),
        ContentRule(
            info=_info(
                "US-20",
                "12 CFR 1006.22(f)(1)-(2); 15 U.S.C. §1692f(7)-(8)",
                S,
                "No postcards; nothing on an envelope showing debt collection.",
                "letter tags 'postcard', 'collection_on_envelope' forbidden",
            ),
            forbidden=frozenset({"postcard", "collection_on_envelope"}),
            channels=frozenset({Channel.LETTER}),
        ),
        ContentRule(
            info=_info(
                "US-18",
                "12 CFR 1006.6(e)",
                K,
                "Every e-mail, text and instant message carries a clear, simple way to opt out.",
                "required tag opt_out_instructions (the opt-out confirmation is exempt)",
            ),
            required=frozenset({Tag.OPT_OUT_INSTRUCTIONS}),
            channels=_ELECTRONIC,
            unless_tags=frozenset({Tag.OPTOUT_CONFIRMATION_ONLY}),
        ),
        ContentRule(
            info=_info(
                "US-24",
                "15 U.S.C. §1692e(11); 12 CFR 1006.18(e)",
                V,
                "Every communication says it is from a debt collector; the initial one also "
                "that information will be used to collect the debt (the mini-Miranda).",
                "required tag debt_collector_disclosure; limited-content messages exempt",
            ),
            required=frozenset({Tag.DEBT_COLLECTOR_DISCLOSURE}),
            channels=_COMMUNICATIONS,
            purposes=frozenset({Purpose.COLLECTION}),
            unless_tags=frozenset({Tag.LIMITED_CONTENT, Tag.OPTOUT_CONFIRMATION_ONLY}),
        ),
        ContentRule(
            info=_info(
                "US-24-INITIAL",
                "15 U.S.C. §1692e(11); 12 CFR 1006.18(e)(1)",
                V,
                "The initial communication gives the mini-Miranda.",
                "required tag mini_miranda on the first outbound communication (run time)",
            ),
            required=frozenset({Tag.MINI_MIRANDA}),
            channels=_COMMUNICATIONS,
            purposes=frozenset({Purpose.COLLECTION}),
            unless_tags=frozenset({Tag.LIMITED_CONTENT, Tag.OPTOUT_CONFIRMATION_ONLY}),
            first_contact_only=True,
        ),
        ContentRule(
            info=_info(
                "US-33",
                "12 CFR 1006.14(g)",
                V,
                "Telephone calls meaningfully disclose the caller's identity.",
                "required tag caller_identity on calls and voicemails",
            ),
            required=frozenset({Tag.CALLER_IDENTITY}),
            channels=_CALLS,
        ),
    ]
    if options.voicemail_limited_content_only:
        rules.append(
            ContentRule(
                info=_info(
                    "US-23",
                    "12 CFR 1006.2(j), (b), (d); comments 2(d)-2, 2(j)-2",
                    V,
                    "A voicemail is a limited-content message: business name, a request to "
                    "reply, a contact name, a reply number and optional courtesies only.",
                    "UsOptions.voicemail_limited_content_only; whitelist LIMITED_CONTENT_TAGS",
                    policy=True,
                ),
                required=frozenset({Tag.LIMITED_CONTENT}),
                allowed_only=LIMITED_CONTENT_TAGS,
                channels=frozenset({Channel.VOICEMAIL}),
            )
        )
    rules += recording_rules()
    return rules


def pack(options: UsOptions | None = None) -> RulePack:
    """The federal US pack (jurisdiction ``US``) configured by ``options``."""
    options = options or UsOptions()
    return RulePack(
        name="us-fdcpa",
        jurisdictions=("US",),
        rules=_federal(options),
        options=options,
        version=_version(),
        description="FDCPA and Regulation F (debt collectors); bankruptcy stay (all creditors)",
        retention=(
            Retention(
                id="US-34",
                records="collection records (3 years after the last activity) and call "
                "recordings (3 years after the call)",
                years=3,
                citation="12 CFR 1006.100(a)-(b)",
                confidence="V",
            ),
        ),
    )


def state_overlay(
    jurisdiction: str, rules: Iterable[Rule], *, name: str | None = None, options: object = None
) -> RulePack:
    """A stricter state pack stacked on the federal one, e.g. ``state_overlay("US-MA", ...)``.

    Its rules add to (never replace) the federal rules for borrowers in that state.
    """
    if not jurisdiction.startswith("US-"):
        raise ConfigurationError(f"state overlay jurisdiction {jurisdiction!r} is not 'US-XX'")
    return RulePack(
        name=name or f"us-{jurisdiction[3:].lower()}",
        jurisdictions=(jurisdiction,),
        rules=tuple(rules),
        options=options,
        version=_version(),
        description=f"state overlay for {jurisdiction}",
    )


def massachusetts(*, count_attempts: bool = True) -> RulePack:
    """Massachusetts overlay: 2 calls per 7 days at home or personal phones, 2 per 30 elsewhere.

    940 CMR 7.04(1)(f) reaches creditors as well as collectors. The place of the call
    is ``ProposedContact.place`` / ``ContactEvent.place``; ``"work"`` is "other".
    Whether an unanswered attempt is a "communication" is unsettled ``[?]``: by default
    every attempt counts (``count_attempts=False`` counts conversations only). Texts and
    recorded messages count with calls.
    """
    count = Count.ATTEMPTS if count_attempts else Count.CONVERSATIONS
    # 940 CMR 7.04(1)(f) counts communications "via telephone, either in person or via
    # text messaging or recorded audio message"; an instant message to the debtor's
    # phone is counted as text messaging [?].
    phone = frozenset({Channel.CALL, Channel.VOICEMAIL, Channel.SMS, Channel.INSTANT_MESSAGE})
    return state_overlay(
        "US-MA",
        [
            FrequencyCap(
                info=_info(
                    "US-MA-1",
                    "940 CMR 7.04(1)(f)",
                    S,
                    "At most 2 telephone communications in 7 days per debt to the debtor's "
                    "residence or personal phone.",
                    "cap 2 per 7 local days; places other than 'work'",
                ),
                cap=2,
                days=7,
                channels=phone,
                count=count,
                exclude_places=frozenset({"work"}),
                target_kinds=frozenset({TargetKind.BORROWER}),
            ),
            FrequencyCap(
                info=_info(
                    "US-MA-2",
                    "940 CMR 7.04(1)(f)",
                    S,
                    "At most 2 telephone communications in 30 days per debt at other numbers "
                    "(e.g. work).",
                    "cap 2 per 30 local days; place 'work'",
                ),
                cap=2,
                days=30,
                channels=phone,
                count=count,
                places=frozenset({"work"}),
                target_kinds=frozenset({TargetKind.BORROWER}),
            ),
        ],
        name="us-ma",
        options={"count_attempts": count_attempts},
    )


def _version() -> str:
    from loancollect_rules_us import __version__

    return __version__


# States whose wiretap laws need every party's consent to record a call [K].
ALL_PARTY_CONSENT_STATES: tuple[tuple[str, str], ...] = (
    ("US-CA", "Cal. Penal Code § 632"),
    ("US-FL", "Fla. Stat. § 934.03"),
    ("US-IL", "720 ILCS 5/14-2"),
    ("US-MD", "Md. Code, Cts. & Jud. Proc. § 10-402"),
    ("US-MA", "Mass. Gen. Laws ch. 272, § 99"),
    ("US-MT", "Mont. Code Ann. § 45-8-213"),
    ("US-NH", "N.H. Rev. Stat. § 570-A:2"),
    ("US-PA", "18 Pa. C.S. § 5704"),
    ("US-WA", "Rev. Code Wash. § 9.73.030"),
)

_US_NOTICE = (
    ("en", "This call may be recorded for quality and compliance purposes."),
    ("zh", "本次通话可能会被录音,用于质量和合规目的。"),
)


def recording_rules() -> list[Rule]:
    """Call recording: one party's consent federally, every party's in the listed states.

    Federal law lets a party to the call record it (18 U.S.C. § 2511(2)(d)); the
    states in :data:`ALL_PARTY_CONSENT_STATES` need every party's consent, so the
    call opens with the notice and the borrower may refuse. Recordings that are made
    are kept 3 years (US-34).
    """
    rules: list[Rule] = [
        CallRecording(
            info=_info(
                "US-REC",
                "18 U.S.C. § 2511(2)(d)",
                K,
                "A party to a call may record it (one-party consent), unless a state "
                "needs every party's consent.",
            ),
            consent=RecordingConsent.ONE_PARTY,
            notice=_US_NOTICE,
        )
    ]
    for state, citation in ALL_PARTY_CONSENT_STATES:
        rules.append(
            CallRecording(
                info=_info(
                    f"US-REC-{state[3:]}",
                    citation,
                    K,
                    f"{state}: every party must consent before a call is recorded.",
                ),
                consent=RecordingConsent.ALL_PARTY,
                jurisdictions=(state,),
                notice=_US_NOTICE,
            )
        )
    return rules
