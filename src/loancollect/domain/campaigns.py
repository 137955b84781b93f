"""Dunning campaigns (Lago's): a bounded series of attempts, spaced, above a threshold.

A :class:`Campaign` starts while the case is in one of its stages (any delinquent
stage if none are named) and the overdue amount is at least its threshold in the
loan's currency (no threshold in that currency: the campaign does not apply); once
started it runs on in later stages, each attempt waiting while the overdue amount
is below the threshold.
Each attempt is an action; attempts are at least ``days_between_attempts``
apart; after ``max_attempts`` the campaign is finished (a ``campaign_finished``
event, with the last attempt, as Lago's ``dunning_campaign.finished``). A case
runs one campaign at a time: another starts only once the previous one finished,
and a finished campaign does not start again until the balance is paid, which
ends whatever campaign the case had (Lago resets the customer's attempts when the
overdue balance is paid).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import attrs

from loancollect.domain.errors import ConfigurationError
from loancollect.domain.money import Money

__all__ = ["Campaign", "CampaignState"]


def _thresholds(value: Mapping[str, Money] | Iterable[Money]) -> tuple[Money, ...]:
    if isinstance(value, Mapping):
        return tuple(value.values())
    return tuple(value)


def _fs(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen(kw_only=True)
class Campaign:
    """A dunning campaign.

    :param thresholds: per currency, the overdue amount at or above which it starts.
    :param stages: the stages it runs in (empty: every delinquent stage).
    """

    code: str
    max_attempts: int
    days_between_attempts: int
    thresholds: tuple[Money, ...] = attrs.field(converter=_thresholds)
    channel: str = "email"
    template: str = "dunning_reminder"
    stages: frozenset[str] = attrs.field(default=frozenset(), converter=_fs)

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(
                f"campaign {self.code!r}: max_attempts={self.max_attempts} must be >= 1"
            )
        if self.days_between_attempts < 1:
            raise ConfigurationError(
                f"campaign {self.code!r}: days_between_attempts={self.days_between_attempts} "
                "must be >= 1"
            )
        currencies = [m.currency for m in self.thresholds]
        if len(set(currencies)) != len(currencies):
            raise ConfigurationError(f"campaign {self.code!r}: two thresholds share a currency")

    def threshold(self, currency: str) -> Money | None:
        """The threshold in ``currency`` (``None``: the campaign does not apply)."""
        return next((m for m in self.thresholds if m.currency == currency), None)

    def applies(self, stage: str, overdue: Money) -> bool:
        """True if the campaign may run in ``stage`` for ``overdue``."""
        if self.stages and stage not in self.stages:
            return False
        threshold = self.threshold(overdue.currency)
        return threshold is not None and overdue >= threshold


@attrs.frozen(kw_only=True)
class CampaignState:
    """The campaign a case runs (or ran): attempts made and when."""

    code: str
    started_on: dt.date
    attempts: int = 0
    last_attempt_on: dt.date | None = None
    finished_on: dt.date | None = None

    @property
    def finished(self) -> bool:
        """True once every attempt was made."""
        return self.finished_on is not None
