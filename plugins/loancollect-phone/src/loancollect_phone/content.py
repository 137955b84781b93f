"""Call QA: a script or a transcript checked on its text against the packs' content rules.

The text itself is read, in English and Chinese (:data:`LEXICON`): what it says is
turned into the compliance engine's content tags (a threat, a false legal claim,
impersonating an authority, an insult, telling others about the debt, debt
details), and each tag a pack's :class:`~loancollect.domain.compliance.ContentRule`
forbids on calls becomes a :class:`Finding` with the rule's id and citation. Debt
details said to a third party are a finding of the pack's third-party rule. The
:class:`Review` scores the call from 100 down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from loancollect.domain.compliance import Channel, ContentRule, RulePack, Tag, ThirdPartyRule

__all__ = ["LEXICON", "Finding", "Review", "review_text", "text_tags"]


def _any(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


LEXICON: Mapping[str, tuple[re.Pattern[str], ...]] = MappingProxyType(
    {
        Tag.THREAT: _any(
            r"\b(?:we|i)(?:'ll| will| are going to)\s+(?:arrest|hurt|beat|find|visit)\s+you\b",
            r"\byou(?:'ll| will)\s+(?:go|be sent)\s+to\s+(?:jail|prison)\b",
            r"\bor else\b",
            r"坐牢",
            r"抓你",
            r"弄死",
            r"打断你",
            r"让你好看",
            r"上门找你",
            r"后果自负",
        ),
        Tag.FALSE_LEGAL_CLAIM: _any(
            r"\b(?:arrest )?warrant\b",
            r"\bcriminal (?:charges?|case|record)\b",
            r"追究(?:你的)?刑事责任",
            r"刑事立案",
            r"法院传票已经",
        ),
        Tag.IMPERSONATE_AUTHORITY: _any(
            r"\bthis is (?:the )?(?:police|sheriff|court)\b",
            r"\bi(?:'m| am) (?:a |an )?(?:police officer|officer of the court|detective)\b",
            r"我是(?:警察|公安|法院|检察院)",
            r"(?:公安局|检察院)(?:的|打来)",
        ),
        Tag.INSULT: _any(
            r"\b(?:idiot|stupid|loser|deadbeat|scum|liar)\b",
            r"老赖",
            r"骗子",
            r"废物",
            r"不要脸",
        ),
        Tag.DISCLOSE_PRIVATE_INFO: _any(
            r"\b(?:tell|call|inform)\s+your\s+(?:employer|boss|family|neighbou?rs|colleagues)\b",
            r"通知你的?(?:家人|同事|领导|朋友)",
            r"打给你的?(?:通讯录|家人|同事)",
        ),
        Tag.PUBLIC_NOTICE: _any(
            r"\b(?:tell|inform)\s+your\s+(?:employer|boss|neighbou?rs|colleagues)\b",
            r"\bpost (?:it|this|your name) (?:online|on social media)\b",
            r"曝光",
            r"贴(?:在|到)你(?:家|单位|公司)",
        ),
        Tag.DEBT_DETAILS: _any(
            r"\b(?:owes?|overdue|past due|debt|outstanding balance|arrears)\b",
            r"欠款",
            r"逾期",
            r"欠(?:了|的)?钱",
            r"债务",
        ),
    }
)
"""The phrases that carry each content tag, English and Chinese."""

_PENALTY = 30  # a forbidden statement
_DISCLOSURE_PENALTY = 40  # debt details told to someone else


@attrs.frozen(kw_only=True)
class Finding:
    """One broken rule: the pack's rule, the tag found and a short excerpt of the text."""

    rule_id: str
    citation: str
    tag: str
    excerpt: str


@attrs.frozen(kw_only=True)
class Review:
    """A call's QA result: a score from 0 to 100 and what was found."""

    score: int
    findings: tuple[Finding, ...] = ()

    @property
    def summary(self) -> str:
        """The findings as ``rule:tag`` pairs, comma-separated (for the event)."""
        return ",".join(f"{f.rule_id}:{f.tag}" for f in self.findings)


def text_tags(text: str) -> dict[str, str]:
    """The content tags ``text`` carries, each with the first phrase that carries it."""
    found: dict[str, str] = {}
    for tag, patterns in LEXICON.items():
        for pattern in patterns:
            match = pattern.search(text)
            if match is not None:
                found[tag] = match.group(0)
                break
    return found


def _call_rule(rule: object) -> bool:
    channels: frozenset[object] = getattr(rule, "channels", frozenset())
    return not channels or Channel.CALL in channels


def review_text(
    text: str, packs: Iterable[RulePack], jurisdiction: str, *, third_party: bool = False
) -> Review:
    """Check ``text`` (a script or a transcript) against the content rules of the packs
    covering ``jurisdiction``.

    :param third_party: the call reached someone other than the borrower: any debt
        detail in the text is a disclosure.
    """
    found = text_tags(text)
    findings: list[Finding] = []
    covering = [p for p in packs if p.covers(jurisdiction)]
    for pack in covering:
        for rule in pack.rules:
            if isinstance(rule, ContentRule) and _call_rule(rule):
                for tag in sorted(rule.forbidden & found.keys()):
                    findings.append(
                        Finding(
                            rule_id=rule.info.id,
                            citation=rule.info.citation,
                            tag=tag,
                            excerpt=found[tag],
                        )
                    )
    score = 100 - _PENALTY * len({f.tag for f in findings})
    if third_party and Tag.DEBT_DETAILS in found:
        rule = next((r for p in covering for r in p.rules if isinstance(r, ThirdPartyRule)), None)
        findings.append(
            Finding(
                rule_id=rule.info.id if rule is not None else "PHONE-THIRD-PARTY",
                citation=rule.info.citation if rule is not None else "no disclosure to others",
                tag="third_party_disclosure",
                excerpt=found[Tag.DEBT_DETAILS],
            )
        )
        score -= _DISCLOSURE_PENALTY
    return Review(score=max(score, 0), findings=tuple(findings))
