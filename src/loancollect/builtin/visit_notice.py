"""What a field-visit contact is, as to its notice: the notice itself, or the visit.

A visit action of the cycle does not put an agent at the door when it is
dispatched. Its dispatch to a channel of medium ``visit`` that delivers the action's
message to the borrower as the written notice of the visit (capability
:data:`~loancollect.ports.CAP_VISIT_NOTICE`: the field-visit plug-in's channel with
a letter or e-mail channel to post it, before it keeps the action as a visit request)
is the **notice** of the visit. The **visit itself** is made days later, and whoever makes it (a
planner choosing the day's windows, an agent's phone checking in) judges that
instant again through ``loancollect_check_contact``. The rule packs' visit rules
(UK CONC 7.9: adequate notice before a visit) need to know which of the two they
judge, and for the visit, when the notice was given.

:func:`visit_notice` decides it from the hook's ``visit_notice_at`` and the loan's
stored events, failing closed:

- the action's dispatch is recorded in the history (``ACTION_SENT`` with its key):
  the contact is the visit. Its notice is that record's instant when the record
  says the channel delivered the notice (``ActionSent.notice``, written by the
  engine only for a channel declaring ``CAP_VISIT_NOTICE``), or the caller's
  ``visit_notice_at`` when it is later (the later of the two; a caller cannot move
  a recorded notice earlier). A record later than the instant judged is no notice
  yet; a dispatch through a channel that delivered no notice is none at all;
- no dispatch is recorded and ``visit_notice_at`` is the very instant judged: the
  contact is the notice being given now (what the engine asks before it
  dispatches a visit action through a channel declaring ``CAP_VISIT_NOTICE``; it
  names no notice for any other channel, so that dispatch is judged as a visit
  without notice);
- otherwise no notice is recorded: the contact is a visit without notice, which a
  pack requiring notice refuses. A caller's ``visit_notice_at`` alone never counts
  as notice: it must be recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import pendulum

from loancollect.domain.errors import ValidationError
from loancollect.domain.events import ActionSent, Event, EventKind
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import CAP_VISIT_NOTICE

__all__ = ["VisitNotice", "visit_notice"]


@attrs.frozen(kw_only=True)
class VisitNotice:
    """How a contact of medium visit stands to its notice.

    :param gives: the contact is the notice itself, given at the instant judged.
    :param sent_at: for the visit itself, the instant its notice was recorded
        (UTC); ``None`` when no notice is recorded (or when ``gives``).
    """

    gives: bool = False
    sent_at: pendulum.DateTime | None = None


def _recorded(event: Event, zone: str) -> pendulum.DateTime:
    """When a recorded dispatch happened; an event without an instant is taken at the
    end of its business day in ``zone``, the latest it can have been (a later notice
    is the safe side)."""
    if event.at is not None:
        return pendulum.instance(event.at).in_timezone(pendulum.UTC)
    start = pendulum.datetime(event.on.year, event.on.month, event.on.day, tz=zone)
    return start.add(days=1).in_timezone(pendulum.UTC)


def _dispatch_of(sent: ActionSent, action: PlannedAction) -> bool:
    """Whether ``sent`` records the dispatch of ``action`` (its key, on its channel)."""
    return sent.key == action.idempotency_key and sent.channel == action.channel


def visit_notice(
    action: PlannedAction,
    at: dt.datetime,
    claimed: dt.datetime | None,
    history: Sequence[Event],
    zone: str,
) -> VisitNotice:
    """What the visit contact ``action`` at ``at`` is (see the module's rules).

    :param claimed: the caller's ``visit_notice_at``: the instant it says notice was
        given (``at`` itself: notice is being given now).
    :param history: the loan's stored events (the dispatch of ``action`` is its
        ``ACTION_SENT``, under the action's idempotency key).
    :param zone: the zone the case's business dates are read in.
    :raises ValidationError: when ``claimed`` is a naive datetime.
    """
    if claimed is not None and (claimed.tzinfo is None or claimed.utcoffset() is None):
        raise ValidationError(
            "visit_notice_at", claimed.isoformat(), "naive datetime; give an aware instant"
        )
    when = pendulum.instance(at).in_timezone(pendulum.UTC)
    dispatches = [
        (sent, e)
        for e in history
        if e.kind is EventKind.ACTION_SENT
        for sent in (ActionSent.parse(e),)
        if _dispatch_of(sent, action)
    ]
    if dispatches:
        # The action was dispatched: what is judged now is the visit. Its notice is a
        # dispatch whose channel delivered it; any other dispatch gave no notice.
        notices = [_recorded(e, zone) for sent, e in dispatches if sent.notice == CAP_VISIT_NOTICE]
        if not notices:
            return VisitNotice()
        given = max(notices)
        if claimed is not None:
            given = max(given, pendulum.instance(claimed).in_timezone(pendulum.UTC))
        return VisitNotice(sent_at=given if given <= when else None)
    if claimed is not None and pendulum.instance(claimed) == when:
        return VisitNotice(gives=True)
    return VisitNotice()
