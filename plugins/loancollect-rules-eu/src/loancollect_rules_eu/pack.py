"""The EU framework: rules common to every member state, and member-state packs built on it.

No EU instrument sets contact hours or frequency caps: those come from national law.
:func:`pack` holds what the EU instruments require of every member state's
creditors and servicers (CCD2 forbearance and debt-advice referral, the Credit
Servicers Directive's conduct duty, GDPR minimisation for third parties).
:func:`member_state_pack` builds a national pack: the framework rules plus national
rules (hours, caps, channel bans); :func:`italy` is the worked example.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from loancollect.domain.compliance import (
    Channel,
    Confidence,
    ContactWindow,
    ContentRule,
    LocalTimeRange,
    Purpose,
    Rule,
    RuleInfo,
    RulePack,
    Tag,
    TargetKind,
    ThirdPartyRule,
    WeeklyTimes,
    WorkflowGate,
)
from loancollect.domain.errors import ConfigurationError

__all__ = ["MEMBER_STATES", "EuOptions", "framework_rules", "italy", "member_state_pack", "pack"]

V, S, K, Q = (
    Confidence.VERIFIED,
    Confidence.SECONDARY,
    Confidence.KNOWLEDGE,
    Confidence.UNCERTAIN,
)

MEMBER_STATES = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip


@attrs.frozen(kw_only=True)
class EuOptions:
    """Configuration of the EU framework.

    :param member_states: jurisdictions the framework pack covers.
    :param forbearance_before_enforcement: gate enforcement on a recorded forbearance
        assessment (CCD2 art. 35; applies from 20 Nov 2026 through national law).
    :param debt_advice_before_escalation: for consumers flagged in financial
        difficulty, require a debt-advice referral before escalation (CCD2 art. 36).
    :param policy_window: optional firm-policy window until national packs exist ``[?]``.
    """

    member_states: tuple[str, ...] = MEMBER_STATES
    forbearance_before_enforcement: bool = True
    debt_advice_before_escalation: bool = True
    policy_window: tuple[dt.time, dt.time] | None = None

    def __attrs_post_init__(self) -> None:
        if self.policy_window is not None and self.policy_window[1] <= self.policy_window[0]:
            raise ConfigurationError(f"eu options: policy_window={self.policy_window} is empty")


_info = RuleInfo.of


_ESCALATION = frozenset({Purpose.ENFORCEMENT, Purpose.LEGAL_ACTION})


def framework_rules(options: EuOptions | None = None) -> list[Rule]:
    """The rules every member-state pack starts from."""
    options = options or EuOptions()
    rules: list[Rule] = []
    if options.forbearance_before_enforcement:
        rules.append(
            WorkflowGate(
                info=_info(
                    "EU-01",
                    "Directive (EU) 2023/2225 (CCD2) art. 35(1); Directive 2014/17/EU art. 28",
                    V,
                    "Reasonable forbearance, where appropriate, before enforcement proceedings "
                    "are started.",
                    "DebtFacts.forbearance_assessed; EuOptions.forbearance_before_enforcement",
                ),
                purposes=_ESCALATION,
                requires="forbearance_assessed",
            )
        )
    if options.debt_advice_before_escalation:
        rules.append(
            WorkflowGate(
                info=_info(
                    "EU-03",
                    "Directive (EU) 2023/2225 (CCD2) art. 36",
                    V,
                    "Consumers in financial difficulty are referred to debt advice before "
                    "escalation.",
                    "DebtFacts.financial_difficulty, debt_advice_referred",
                ),
                purposes=_ESCALATION,
                requires="debt_advice_referred",
                only_if_difficulty=True,
            )
        )
    rules += [
        ThirdPartyRule(
            info=_info(
                "EU-05",
                "GDPR art. 5(1)(c), 5(1)(f), 6(1)(b)/(f)",
                K,
                "Data minimisation: third-party contact limited to what is necessary "
                "(location), never disclosing the debt.",
                "third parties: location_info only, no debt tags",
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
        ),
        ContentRule(
            info=_info(
                "EU-04",
                "Directive (EU) 2021/2167 (Credit Servicers) art. 10(1)",
                V,
                "Communicate in good faith, without misleading information and without "
                "harassment, coercion or undue influence.",
                "forbidden tags threat, insult, false_legal_claim, misleading_consequence, "
                "exaggerated_amount, impersonate_authority, public_notice",
            ),
            forbidden=frozenset(
                {
                    Tag.THREAT,
                    Tag.INSULT,
                    Tag.FALSE_LEGAL_CLAIM,
                    Tag.MISLEADING_CONSEQUENCE,
                    Tag.EXAGGERATED_AMOUNT,
                    Tag.IMPERSONATE_AUTHORITY,
                    Tag.PUBLIC_NOTICE,
                }
            ),
        ),
    ]
    if options.policy_window is not None:
        start, end = options.policy_window
        rules.append(
            ContactWindow(
                info=_info(
                    "EU-POLICY-WINDOW",
                    "none at EU level (national law)",
                    Q,
                    "Firm policy window until a member-state pack sets the national hours.",
                    f"[{start:%H:%M}, {end:%H:%M}) local",
                    policy=True,
                ),
                allowed=[WeeklyTimes(LocalTimeRange(start, end))],
            )
        )
    return rules


def _version() -> str:
    from loancollect_rules_eu import __version__

    return __version__


def pack(options: EuOptions | None = None) -> RulePack:
    """The EU framework pack, covering every member state in ``options``."""
    options = options or EuOptions()
    return RulePack(
        name="eu-framework",
        jurisdictions=options.member_states,
        rules=framework_rules(options),
        options=options,
        version=_version(),
        description="EU framework: CCD2 forbearance and debt advice, CSD conduct, GDPR",
    )


def member_state_pack(
    country: str, rules: Iterable[Rule], *, name: str | None = None, options: object = None
) -> RulePack:
    """A national pack with only the national rules (stack it with :func:`pack`).

    The engine evaluates every pack covering the borrower, so the framework rules
    and the national ones apply together.
    """
    if country not in MEMBER_STATES:
        raise ConfigurationError(f"{country!r} is not an EU member state code")
    return RulePack(
        name=name or f"eu-{country.lower()}",
        jurisdictions=(country,),
        rules=tuple(rules),
        options=options,
        version=_version(),
        description=f"national rules for {country}",
    )


def italy() -> RulePack:
    """Italy: the Garante's 2005 debt-recovery provision (no disclosure, no pre-recorded calls)."""
    return member_state_pack(
        "IT",
        [
            ContentRule(
                info=_info(
                    "EU-07",
                    "Garante per la protezione dei dati personali, provvedimento generale "
                    "30 Nov 2005 (recupero crediti); vademecum 18 Apr 2016",
                    S,
                    "No pre-recorded reminder calls without an operator, no postcards or "
                    "envelopes marked as debt recovery, no notices on the door.",
                    "forbidden tags prerecorded_no_operator, postcard, "
                    "collection_on_envelope, public_notice",
                ),
                forbidden=frozenset(
                    {
                        "prerecorded_no_operator",
                        "postcard",
                        "collection_on_envelope",
                        Tag.PUBLIC_NOTICE,
                    }
                ),
                # Pre-recorded calls, paper and the door: not electronic messages
                # (SMS, e-mail, instant messages), which the framework rules and the
                # national window cover like every medium.
                channels=frozenset(
                    {Channel.CALL, Channel.VOICEMAIL, Channel.LETTER, Channel.VISIT}
                ),
            ),
        ],
    )
