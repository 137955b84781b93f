"""Call recording: whether a call may or must be recorded, and what is said first.

A :class:`CallRecording` rule sits in a jurisdiction's :class:`RulePack` beside its
contact rules, with its citation. It never blocks a contact by itself
(:meth:`CallRecording.evaluate` passes): a call desk reads it before a call is
offered (a call that must be recorded is not offered when recording is
unavailable) and plays the notice it names before anything else.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs
import pendulum

from loancollect.domain.compliance.base import Context, Finding, Rule

__all__ = ["CallRecording", "RecordingConsent"]


def _codes(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _texts(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(value)


class RecordingConsent(enum.Enum):
    """Whose consent recording a call needs, strictest last."""

    ONE_PARTY = "one_party"  # a party to the call (the collector) may record
    NOTICE = "notice"  # the other party must be told before recording starts
    ALL_PARTY = "all_party"  # every party must consent (told, and may refuse)

    @property
    def strictness(self) -> int:
        """Order of strictness: one party < notice < all parties."""
        return list(RecordingConsent).index(self)


@attrs.frozen(kw_only=True)
class CallRecording(Rule):
    """How collection calls are recorded where the pack applies.

    :param consent: whose consent recording needs.
    :param required: collection calls must be recorded (and kept: the pack's
        :class:`~loancollect.domain.compliance.Retention` says how long).
    :param jurisdictions: the subdivisions the rule is limited to (``("US-CA",)``);
        empty: every jurisdiction the pack covers.
    :param notice: what is said before recording starts, by language (``en``, ``zh``).
    """

    consent: RecordingConsent
    required: bool = False
    jurisdictions: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    notice: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_texts)

    def applies_to(self, jurisdiction: str) -> bool:
        """True if the rule covers a borrower in ``jurisdiction`` (``"US-CA"``, ``"CN"``)."""
        return not self.jurisdictions or jurisdiction in self.jurisdictions

    def notice_in(self, language: str) -> str:
        """The notice in ``language`` (its first two letters), else the first one given."""
        texts = dict(self.notice)
        return texts.get(language[:2].lower(), self.notice[0][1] if self.notice else "")

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Never objects: recording is decided by the call desk, before the call."""
        return None
