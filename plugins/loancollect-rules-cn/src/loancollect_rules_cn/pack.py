"""The PRC pack (中国): collection conduct, third parties, content and the 4 × LPR cap.

Parameters follow GB/T 45251—2025 (互联网金融 个人网络消费信贷 贷后催收风控指引) and the
China Banking Association 2026 guideline (金融机构个人消费类贷款催收工作指引（试行）),
with the credit-card rules (商业银行信用卡业务监督管理办法) and the private-lending
judicial interpretation (民间借贷规定). Points the research marks ``[?]`` are options.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loancollect.domain.calendar import business_calendar
from loancollect.domain.compliance import (
    Channel,
    ChannelBan,
    Confidence,
    ContactWindow,
    ContentRule,
    Count,
    FrequencyCap,
    LocalTimeRange,
    Purpose,
    RateCap,
    Retention,
    Rule,
    RuleInfo,
    RulePack,
    Tag,
    TargetKind,
    ThirdPartyRule,
    WeeklyTimes,
)
from loancollect.domain.compliance.recording import CallRecording, RecordingConsent
from loancollect.domain.errors import ConfigurationError

__all__ = ["BEIJING", "COLLECTION_LETTER_TAGS", "FORBIDDEN_CONTENT", "CnOptions", "pack"]

V, S, K, Q = (
    Confidence.VERIFIED,
    Confidence.SECONDARY,
    Confidence.KNOWLEDGE,
    Confidence.UNCERTAIN,
)

BEIJING = "Asia/Shanghai"
URUMQI = "Asia/Urumqi"

#: Prohibited conduct and content (CBA 2026 指引; 刑法 art. 293-1; NIFA themes).
FORBIDDEN_CONTENT = frozenset(
    {
        Tag.IMPERSONATE_AUTHORITY,  # 冒充行政、司法机关
        Tag.DISCLOSE_PRIVATE_INFO,  # 散布隐私
        Tag.THREAT,  # 威胁、恐吓
        Tag.INSULT,  # 侮辱
        Tag.FALSE_LEGAL_CLAIM,  # 虚假法律后果
        Tag.MISLEADING_CONSEQUENCE,  # 虚构黑名单、夸大后果
        Tag.EXAGGERATED_AMOUNT,  # 夸大金额
        Tag.COLLECTION_FEE,  # 收取催收费
        Tag.SUGGEST_BORROWING,  # 诱导借新还旧
        Tag.PUBLIC_NOTICE,  # 公共场所张贴、律师函公示
    }
)

#: Required elements of a collection letter (催收函), 信用卡办法 art. 69.
COLLECTION_LETTER_TAGS = frozenset(
    {
        Tag.BORROWER_NAME,
        Tag.BALANCE,
        Tag.REASON_AND_LEGAL_BASIS,
        Tag.RIGHTS_AND_OBLIGATIONS,
        Tag.HOW_TO_CHECK_AND_OBJECT,
        Tag.ISSUER_CONTACT,
        Tag.BUSINESS_SEAL,
    }
)

_VOICE = frozenset({Channel.CALL, Channel.VOICEMAIL})
# Instant messages (WeChat, QQ) are written electronic messages like SMS: the window
# (CN-01), the content rules (CN-08) and third-party limits (CN-05) name no medium and
# apply to them; the private-account ban (CN-08-ACCOUNTS) lists them with SMS. The
# frequency caps CN-03 and CN-04 count calls (effective conversations and unanswered
# dial attempts), not messages.


@attrs.frozen(kw_only=True)
class CnOptions:
    """Configuration of the PRC pack.

    :param window_start: start of collection hours (08:00).
    :param window_end: end of collection hours, exclusive (22:00).
    :param legacy_strict_21h: opt-in profile quiet from 21:00 (secondary sources on the
        2018 NIFA convention conflict) ``[?]``.
    :param holidays_as_quiet_days: no collection on PRC public holidays (firm policy;
        no national text found) ``[?]``.
    :param quiet_dates: further quiet dates of the firm's own.
    :param xinjiang_intersection: for borrowers with an ``Asia/Urumqi`` candidate,
        allow only times inside the window in both zones ``[?]``.
    :param conversations_per_day: collector-initiated effective conversations per
        debtor per day, lender and agencies together.
    :param unanswered_per_number_per_day: unanswered attempts per number per day.
    :param visits_per_day: optional daily cap on field visits ``[?]``.
    :param count_inbound_conversations: also count inbound conversations ``[?]``.
    :param rate_cap_multiple: the private-lending cap as a multiple of the one-year LPR.
    :param card_recording_years: retention of card collection records (2 years).
    :param standard_retention_years: optional longer retention (5 years claimed) ``[?]``.
    """

    window_start: dt.time = dt.time(8, 0)
    window_end: dt.time = dt.time(22, 0)
    legacy_strict_21h: bool = False
    holidays_as_quiet_days: bool = False
    quiet_dates: frozenset[dt.date] = frozenset()
    xinjiang_intersection: bool = False
    conversations_per_day: int = 3
    unanswered_per_number_per_day: int = 6
    visits_per_day: int | None = None
    count_inbound_conversations: bool = False
    rate_cap_multiple: Decimal = Decimal(4)
    card_recording_years: int = 2
    standard_retention_years: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.window_end <= self.window_start:
            raise ConfigurationError(
                f"cn options: window_end={self.window_end} not after window_start"
            )

    @property
    def effective_window_end(self) -> dt.time:
        """22:00, or 21:00 with the legacy strict profile."""
        if self.legacy_strict_21h:
            return min(self.window_end, dt.time(21, 0))
        return self.window_end


_info = RuleInfo.of


def _rules(options: CnOptions) -> list[Rule]:
    end = options.effective_window_end
    rules: list[Rule] = [
        ThirdPartyRule(
            info=_info(
                "CN-05",
                "GB/T 45251—2025; CBA 2026 指引; 信用卡办法 art. 68; PIPL art. 6",
                S,
                "Collect only from the debtor (and guarantors). Contacts and emergency "
                "contacts only when the debtor is unreachable, dead or incapacitated, only to "
                "obtain contact details or pass on a message, never disclosing the debt; "
                "stop for good when they refuse.",
                "Flags.lost_contact / deceased / incapacitated; refusal events",
            ),
            allowed_targets=frozenset(
                {TargetKind.BORROWER, TargetKind.GUARANTOR, TargetKind.REPRESENTATIVE}
            ),
            require_unreachable=True,
            allowed_purposes=frozenset({Purpose.OBTAIN_CONTACT_INFO, Purpose.RELAY_MESSAGE}),
            forbidden_tags=frozenset({Tag.DEBT_DETAILS, Tag.BALANCE}),
        ),
        ChannelBan(
            info=_info(
                "CN-08-ACCOUNTS",
                "CBA 2026 指引 (prohibitions)",
                S,
                "Agency staff may not use private phones or social-media accounts without consent.",
                "ProposedContact.agent_uses_private_account; MEDIUM consent lifts it",
            ),
            channels=frozenset(
                {Channel.CALL, Channel.SMS, Channel.SOCIAL, Channel.INSTANT_MESSAGE}
            ),
            private_account_only=True,
            waived_by_consent=True,
        ),
        ContactWindow(
            info=_info(
                "CN-01",
                "GB/T 45251—2025 §5.3; CBA 2026 指引 ch. 3; NIFA 2024 指引",
                S,
                "Unless agreed with the debtor, no collection (calls, SMS, AI voice, visits) "
                "between 22:00 and 08:00 Beijing time.",
                f"[{options.window_start:%H:%M}, {end:%H:%M}) {BEIJING}; "
                "OUTSIDE_HOURS consent lifts it; legacy_strict_21h, holidays_as_quiet_days, "
                "quiet_dates, xinjiang_intersection [?]",
            ),
            allowed=[WeeklyTimes(LocalTimeRange(options.window_start, end))],
            zones=(BEIJING,),
            also_candidate_zones=frozenset({URUMQI})
            if options.xinjiang_intersection
            else (frozenset()),
            holidays=business_calendar("CN") if options.holidays_as_quiet_days else None,
            quiet_dates=options.quiet_dates,
            holiday_ranges=() if (options.holidays_as_quiet_days or options.quiet_dates) else None,
        ),
        FrequencyCap(
            info=_info(
                "CN-03",
                "GB/T 45251—2025 (frequency clause); NIFA 2024 指引",
                S,
                "At most 3 collector-initiated effective conversations (AI voice included) "
                "with a debtor a day, the lender and all its agencies together.",
                f"cap {options.conversations_per_day} per Beijing day; per_agent=False; "
                "count_inbound_conversations [?]",
            ),
            cap=options.conversations_per_day,
            days=1,
            channels=_VOICE,
            count=Count.CONVERSATIONS,
            count_inbound=options.count_inbound_conversations,
            per_debt=False,
            target_kinds=frozenset({TargetKind.BORROWER}),
            zones=(BEIJING,),
        ),
        FrequencyCap(
            info=_info(
                "CN-04",
                "CBA 2026 指引",
                S,
                "If the debtor does not answer, at most 6 attempts a day to the same number.",
                f"cap {options.unanswered_per_number_per_day} unanswered per number per "
                "Beijing day",
            ),
            cap=options.unanswered_per_number_per_day,
            days=1,
            channels=_VOICE,
            count=Count.UNANSWERED,
            per_person=False,
            per_debt=False,
            per_number=True,
            zones=(BEIJING,),
        ),
    ]
    if options.visits_per_day is not None:
        rules.append(
            FrequencyCap(
                info=_info(
                    "CN-14-VISITS",
                    "GB/T 45251—2025 (per one lawyer's summary)",
                    Q,
                    "Policy: at most one field visit a day (with at least two collectors).",
                    f"cap {options.visits_per_day} per Beijing day",
                    policy=True,
                ),
                cap=options.visits_per_day,
                days=1,
                channels=frozenset({Channel.VISIT}),
                per_debt=False,
                zones=(BEIJING,),
            )
        )
    rules += [
        ContentRule(
            info=_info(
                "CN-08",
                "CBA 2026 指引 (prohibitions); 刑法 art. 293-1; 治安管理处罚法 (2012) art. 42(5)",
                S,
                "No impersonation of authorities, spreading private information, threats, "
                "insults, misleading statements (blacklists, amounts, legal consequences), "
                "collection fees, pushing new borrowing or public notices.",
                "forbidden content tags FORBIDDEN_CONTENT",
            ),
            forbidden=FORBIDDEN_CONTENT,
        ),
        ContentRule(
            info=_info(
                "CN-07",
                "商业银行信用卡业务监督管理办法 art. 69",
                S,
                "A collection letter states the name and balance, the reason and legal basis, "
                "rights and obligations, how to check and object, the issuer's contacts and "
                "the business seal.",
                "required tags COLLECTION_LETTER_TAGS on collection letters",
            ),
            required=COLLECTION_LETTER_TAGS,
            channels=frozenset({Channel.LETTER}),
            purposes=frozenset({Purpose.COLLECTION}),
        ),
        RateCap(
            info=_info(
                "CN-I3",
                "最高人民法院关于审理民间借贷案件适用法律若干问题的规定 (2020) arts. 25, 28, 29",
                V,
                "Private lending: rates above 4 x the one-year LPR at contract are not "
                "supported; the loan is flagged and the excess is never demanded. Licensed "
                "financial institutions are outside these rules (art. 1, SPC reply).",
                f"multiple {options.rate_cap_multiple}; DebtFacts.private_lending, "
                "contract_rate, lpr_at_contract, demandable",
            ),
            multiple=options.rate_cap_multiple,
        ),
    ]
    rules += recording_rules()
    return rules


def pack(options: CnOptions | None = None) -> RulePack:
    """The PRC pack (jurisdiction ``CN``) configured by ``options``."""
    options = options or CnOptions()
    retention = [
        Retention(
            id="CN-06",
            records="credit-card collection records and recordings",
            years=options.card_recording_years,
            citation="商业银行信用卡业务监督管理办法 art. 68",
            confidence="S",
        )
    ]
    if options.standard_retention_years is not None:
        retention.append(
            Retention(
                id="CN-14-RECORDS",
                records="collection records (claimed by one secondary source)",
                years=options.standard_retention_years,
                citation="GB/T 45251—2025 (unverified)",
                confidence="?",
            )
        )
    from loancollect_rules_cn import __version__

    return RulePack(
        name="cn",
        jurisdictions=("CN",),
        rules=_rules(options),
        options=options,
        version=__version__,
        description="PRC collection conduct (GB/T 45251—2025, CBA 2026) and the 4 x LPR cap",
        retention=tuple(retention),
    )


def recording_rules() -> list[Rule]:
    """Collection calls are recorded and the records kept (CN-06), with a notice first.

    The card rules require collection to be recorded and the records kept at least
    two years (商业银行信用卡业务监督管理办法 art. 68, ``[S]``; the industry
    conventions say the same for other lending); the borrower is told first
    (个人信息保护法 art. 17, notice of processing, ``[K]``).
    """
    return [
        CallRecording(
            info=_info(
                "CN-REC",
                "商业银行信用卡业务监督管理办法 art. 68; 个人信息保护法 art. 17",
                S,
                "Collection calls are recorded (and kept, CN-06); the borrower is told "
                "before the recording starts.",
            ),
            consent=RecordingConsent.NOTICE,
            required=True,
            notice=(
                ("zh", "为保障您的权益,本次通话将被录音。"),
                ("en", "To protect your rights, this call will be recorded."),
            ),
        )
    ]
