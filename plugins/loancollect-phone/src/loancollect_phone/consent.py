"""Recording and consent per jurisdiction, from the rule packs.

The packs carry :class:`~loancollect.domain.compliance.recording.CallRecording`
rules (with their citations) and :class:`~loancollect.domain.compliance.Retention`
duties. :func:`recording_policy` folds those that apply to a borrower into one
:class:`RecordingPolicy`: the strictest consent, whether the call must be recorded,
the notice to say first, and how long a recording is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from loancollect.domain.compliance import RulePack
from loancollect.domain.compliance.recording import CallRecording, RecordingConsent
from loancollect.errors import ConfigurationError

__all__ = ["RecordingPolicy", "recording_policy"]


@attrs.frozen(kw_only=True)
class RecordingPolicy:
    """How calls to a borrower in one jurisdiction are recorded.

    :param citations: the rules the policy comes from (``"US-REC-CA: Cal. Penal Code § 632"``).
    :param keep_years: years a recording is kept; ``None`` when no pack says.
    """

    jurisdiction: str
    consent: RecordingConsent
    required: bool
    notice: str
    citations: tuple[str, ...]
    keep_years: int | None

    @property
    def notice_first(self) -> bool:
        """The call opens with the recording notice (the borrower is told first)."""
        return self.consent is not RecordingConsent.ONE_PARTY

    def keep_until(self, recorded_on: dt.date) -> dt.date:
        """The first date a recording made on ``recorded_on`` may be deleted (never
        sooner than three years when no pack says: the longest period the packs know)."""
        years = self.keep_years if self.keep_years is not None else 3
        try:
            return recorded_on.replace(year=recorded_on.year + years)
        except ValueError:  # 29 February
            return dt.date(recorded_on.year + years, 3, 1)


def recording_policy(
    packs: Iterable[RulePack], jurisdiction: str, *, language: str = "en"
) -> RecordingPolicy:
    """The recording policy for a borrower in ``jurisdiction``, from ``packs``.

    The strictest consent of every applicable rule wins; recording is required when
    any rule requires it; the notice is the strictest rule's, in ``language``.

    :raises ConfigurationError: when no pack covers ``jurisdiction`` (nobody is
        called without rules), or none of those that do says how calls are recorded.
    """
    covering = [p for p in packs if p.covers(jurisdiction)]
    if not covering:
        raise ConfigurationError(
            f"no rule pack covers jurisdiction {jurisdiction!r}: calls are not recorded "
            "or made without rules"
        )
    rules = [
        r
        for p in covering
        for r in p.rules
        if isinstance(r, CallRecording) and r.applies_to(jurisdiction)
    ]
    if not rules:
        raise ConfigurationError(
            f"the rule packs for {jurisdiction!r} ({', '.join(p.name for p in covering)}) "
            "say nothing about recording calls (no CallRecording rule)"
        )
    strictest = max(rules, key=lambda r: r.consent.strictness)
    years = [t.years for p in covering for t in p.retention if "recording" in t.records]
    return RecordingPolicy(
        jurisdiction=jurisdiction,
        consent=strictest.consent,
        required=any(r.required for r in rules),
        notice=strictest.notice_in(language),
        citations=tuple(f"{r.info.id}: {r.info.citation}" for r in rules),
        keep_years=max(years) if years else None,
    )
