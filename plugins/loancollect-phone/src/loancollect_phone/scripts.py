"""Structured call scripts: one per stage, locale and jurisdiction.

A :class:`CallScript` is a sequence of :class:`Step` records the collector's
desktop walks through in order: the recording notice where the rules want it
first, the right party's identity (nothing about the debt before it is
confirmed), the disclosures the rule packs require on calls, the purpose and the
exact amounts, listening prompts, the arrangement offers the engine computed for
the case, the capture of a promise's terms, and the close. Texts are in English
or Chinese (``en``/``zh`` locales); amounts are :class:`~loancollect.domain.money.Money`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence

import attrs

from loancollect.domain.arrangements import ArrangementKind
from loancollect.domain.compliance import Channel, ContentRule, RulePack, Tag
from loancollect.domain.events import OfferMade
from loancollect.domain.money import Money
from loancollect_phone.consent import RecordingPolicy

__all__ = ["CallScript", "Step", "StepKind", "build_script"]


class StepKind(enum.Enum):
    """The parts of a call, in the order they are said."""

    RECORDING_NOTICE = "recording_notice"
    IDENTITY = "identity"
    DISCLOSURE = "disclosure"
    PURPOSE = "purpose"
    LISTEN = "listen"
    OFFER = "offer"
    PROMISE = "promise"
    CLOSE = "close"


@attrs.frozen(kw_only=True)
class Step:
    """One step: what the collector says, and what they ask or must confirm.

    :param confirm: the collector must confirm the step before the next one is shown
        (the identity of the right party, the borrower's answer to the notice).
    :param fields: what the step captures (``amount``, ``due``: a promise's terms).
    """

    kind: StepKind
    text: str
    prompts: tuple[str, ...] = ()
    confirm: bool = False
    fields: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class CallScript:
    """The script of one call: its steps and where they come from."""

    stage: str
    locale: str
    jurisdiction: str
    steps: tuple[Step, ...]
    citations: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[StepKind, ...]:
        """The steps' kinds, in order."""
        return tuple(s.kind for s in self.steps)

    def text(self) -> str:
        """Everything the collector says, one step a line (what QA reads)."""
        return "\n".join(s.text for s in self.steps)


def _zh(locale: str) -> bool:
    return locale.lower().startswith("zh")


def _money(amount: Money, zh: bool) -> str:
    text = f"{amount.amount:,.{amount.currency_info.minor_units}f}"
    return f"{text} {amount.currency}" if not zh else f"{text} 元({amount.currency})"


# What a required content tag of a call is in words.
_DISCLOSURES: dict[str, tuple[str, str]] = {
    Tag.MINI_MIRANDA: (
        "This is an attempt to collect a debt and any information obtained will be used "
        "for that purpose.",
        "这是一次债务催收,所获得的任何信息将用于该目的。",
    ),
    Tag.DEBT_COLLECTOR_DISCLOSURE: (
        "This communication is from a debt collector.",
        "本次通话来自债务催收方。",
    ),
    Tag.CALLER_IDENTITY: ("I am calling on behalf of {lender}.", "我代表{lender}致电。"),
    Tag.ISSUER_CONTACT: (
        "You can reach {lender} on its published number.",
        "您可拨打{lender}公布的电话联系我们。",
    ),
}

_OFFERS: dict[ArrangementKind, tuple[str, str]] = {
    ArrangementKind.INSTALLMENT_PLAN: (
        "We can offer an instalment plan on {amount}.",
        "我们可以为{amount}提供分期还款方案。",
    ),
    ArrangementKind.WAIVER: (
        "We can waive part of the penalty within my authority if {amount} is paid.",
        "如您还款{amount},我可以在权限内减免部分罚息。",
    ),
    ArrangementKind.GRACE_PERIOD: (
        "We can give you more time to pay {amount}.",
        "我们可以为{amount}给您宽限期。",
    ),
    ArrangementKind.SETTLEMENT: (
        "We can settle the account for {amount}.",
        "我们可以以{amount}结清账户。",
    ),
    ArrangementKind.PROMISE: ("Can you promise to pay {amount}?", "您能承诺还款{amount}吗?"),
}


def _required_tags(packs: Iterable[RulePack], jurisdiction: str) -> tuple[list[str], list[str]]:
    tags: list[str] = []
    citations: list[str] = []
    for pack in packs:
        if not pack.covers(jurisdiction):
            continue
        for rule in pack.rules:
            if not isinstance(rule, ContentRule) or not rule.required:
                continue
            if rule.channels and Channel.CALL not in rule.channels:
                continue
            for tag in sorted(rule.required):
                if tag in _DISCLOSURES and tag not in tags:
                    tags.append(tag)
                    citations.append(f"{rule.info.id}: {rule.info.citation}")
    return tags, citations


def build_script(
    *,
    stage: str,
    locale: str,
    jurisdiction: str,
    packs: Sequence[RulePack],
    recording: RecordingPolicy,
    lender: str,
    borrower: str,
    amount_due: Money,
    overdue_since: dt.date | None = None,
    offers: Sequence[OfferMade] = (),
) -> CallScript:
    """The script of a call to ``borrower`` (their name as the desk shows it) about
    ``amount_due``, in ``locale``, under the packs covering ``jurisdiction``.

    ``offers`` are the offers the engine made for the case (``OFFER_MADE``); only those
    still valid on ``overdue_since``'s side are the caller's business, so pass those
    that are valid today.
    """
    zh = _zh(locale)
    i = 1 if zh else 0
    steps: list[Step] = []
    if recording.notice_first and recording.notice:
        steps.append(
            Step(
                kind=StepKind.RECORDING_NOTICE,
                text=recording.notice,
                confirm=recording.consent.value == "all_party",
                prompts=(("对方是否同意录音?",) if zh else ("Does the person agree to recording?",))
                if recording.consent.value == "all_party"
                else (),
            )
        )
    steps.append(
        Step(
            kind=StepKind.IDENTITY,
            text=(
                f"您好,请问是{borrower}本人吗?" if zh else f"Hello, may I speak with {borrower}?"
            ),
            prompts=(
                ("请核对出生日期或证件号后四位。",)
                if zh
                else ("Confirm the date of birth or the last four digits of the ID.",)
            ),
            confirm=True,
        )
    )
    tags, citations = _required_tags(packs, jurisdiction)
    for tag in tags:
        steps.append(
            Step(kind=StepKind.DISCLOSURE, text=_DISCLOSURES[tag][i].format(lender=lender))
        )
    since = ""
    if overdue_since is not None:
        since = (
            f",自{overdue_since.isoformat()}起逾期"
            if zh
            else f", overdue since {overdue_since.isoformat()}"
        )
    steps.append(
        Step(
            kind=StepKind.PURPOSE,
            text=(
                f"我代表{lender}致电,关于您的贷款,目前应还金额为{_money(amount_due, zh)}{since}。"
                if zh
                else f"I am calling from {lender} about your loan: the amount due is "
                f"{_money(amount_due, zh)}{since}."
            ),
        )
    )
    steps.append(
        Step(
            kind=StepKind.LISTEN,
            text=(
                "请问是什么原因导致还款困难?"
                if zh
                else "Can you tell me what is making it hard to pay?"
            ),
            prompts=(
                ("倾听,不打断;复述对方的情况。", "询问收入变化和可行的还款日期。")
                if zh
                else (
                    "Listen without interrupting; repeat back what you heard.",
                    "Ask about changes in income and a date that works.",
                )
            ),
        )
    )
    for offer in offers:
        amount = Money(offer.amount_due, offer.currency)
        template = _OFFERS.get(offer.type, _OFFERS[ArrangementKind.PROMISE])[i]
        steps.append(
            Step(
                kind=StepKind.OFFER,
                text=template.format(amount=_money(amount, zh)),
                prompts=(f"valid until {offer.valid_until.isoformat()}",),
            )
        )
    steps.append(
        Step(
            kind=StepKind.PROMISE,
            text=("您计划哪天还款,金额多少?" if zh else "When will you pay, and how much?"),
            fields=("amount", "due"),
        )
    )
    steps.append(
        Step(
            kind=StepKind.CLOSE,
            text=(
                "我来复述一下我们的约定。感谢您的配合,再见。"
                if zh
                else "Let me repeat what we agreed. Thank you for your time, goodbye."
            ),
        )
    )
    return CallScript(
        stage=stage,
        locale=locale,
        jurisdiction=jurisdiction,
        steps=tuple(steps),
        citations=(*recording.citations, *citations),
    )
