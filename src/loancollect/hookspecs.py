"""The hook specifications: the whole extension contract of loancollect, in one module.

Every hook is named ``loancollect_*`` and takes keyword arguments only; plug-ins
implement any subset, with any subset of the arguments (new arguments may be
added in later versions without breaking them). Arguments are frozen domain
values; a plug-in cannot change engine state by mutating them.

Four kinds of hook:

- **registration** (``loancollect_register_*``), called once at start-up; each
  returns an iterable of frozen records and every result is collected, with
  duplicate names refused (:func:`loancollect.registry.collect`);
- **configuration**: :func:`loancollect_configure`, historic;
- **decisions**, called per case while the cycle decides, pure functions of their
  arguments: :func:`loancollect_score`, :func:`loancollect_segment`,
  :func:`loancollect_override_stage`, :func:`loancollect_plan_actions`,
  :func:`loancollect_offer_arrangements`, :func:`loancollect_check_contact`;
- **observers**, which return nothing: :func:`loancollect_on_event`,
  :func:`loancollect_cycle_started`, :func:`loancollect_cycle_finished`;
- **showing**: :func:`loancollect_report_tables` (tables the report gains) and
  :func:`loancollect_register_demo_parts` (a plug-in's part in the demo).

The order in which the collection cycle fires them, for one run:

1. ``loancollect_cycle_started``
2. per case due for review: ``loancollect_score`` → ``loancollect_segment`` →
   ``loancollect_override_stage`` → ``loancollect_plan_actions`` and
   ``loancollect_offer_arrangements`` → per action ``loancollect_check_contact``
3. after each unit of work commits: ``loancollect_on_event`` for each stored event
4. ``loancollect_cycle_finished``

See ``docs/hooks.md`` for one section per hook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from loancollect.demo_parts import DemoPart
    from loancollect.domain.case import Case
    from loancollect.domain.compliance import RulePack
    from loancollect.domain.decision import Decision
    from loancollect.domain.events import Event
    from loancollect.domain.loans import Loan
    from loancollect.domain.overdue import Assessment
    from loancollect.domain.scoring import ScoreContribution, Scores
    from loancollect.domain.strategy import Offer, PlannedAction
    from loancollect.ports import UnitOfWorkFactory
    from loancollect.registry import (
        ChannelSpec,
        ContactViolation,
        CycleSummary,
        StorageBackendSpec,
        TemplateSpec,
    )
    from loancollect.reporting import ReportData, Table

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "loancollect"
"""The pluggy project name; also the entry-point group plug-ins register under."""

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks a hook specification (only in this module)."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a hook implementation in a plug-in: ``@hookimpl`` (re-exported from ``loancollect``)."""


# -- registration ---------------------------------------------------------------


@hookspec
def loancollect_register_channels() -> Iterable[ChannelSpec]:
    """Register delivery channels.

    Called once when the host builds its channels. Return an iterable of
    :class:`~loancollect.registry.ChannelSpec`; every plug-in's result is
    collected. Names are normalised (lower case); two channels with the same name
    are a :class:`~loancollect.errors.ConfigurationError` naming every provider.
    Each spec declares its compliance ``medium`` (SMS, call, e-mail, letter, visit,
    instant message, or none for a channel that contacts nobody); a channel that
    declares none is never used to contact anyone unless the host maps it in the
    configuration ``compliance.channels``.

    :return: channel descriptors (an empty iterable or ``None`` for none).

    Not historic; wrapping is possible but pointless (results are collected per
    plug-in).

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl
        from loancollect.builtin.recording import RecordingChannel
        from loancollect.domain.compliance import Channel
        from loancollect.domain.loans import ContactKind
        from loancollect.registry import ChannelSpec


        @hookimpl
        def loancollect_register_channels():
            yield ChannelSpec(
                name="acme-sms",
                factory=lambda settings: RecordingChannel(name="acme-sms"),
                medium=Channel.SMS,  # what the rule packs judge it as; never guessed
                contact_kind=ContactKind.PHONE,
                capabilities={"idempotent"},
                description="Acme SMS gateway",
            )
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec
def loancollect_register_storage() -> Iterable[StorageBackendSpec]:
    """Register storage backends by URL scheme.

    Called once when the host opens its storage URL
    (:func:`loancollect.registry.open_storage`). Return an iterable of
    :class:`~loancollect.registry.StorageBackendSpec`; every result is collected.
    A backend name or URL scheme provided twice is a
    :class:`~loancollect.errors.ConfigurationError` naming every provider.

    Storage is opened for one tenant. A backend that keeps tenants apart says so
    with ``tenants=True``; its factory is then called as ``factory(url, tenant=...)``
    and must scope every query and write to that tenant (the conformance suite
    :class:`loancollect.testing.TenantIsolationContract` checks it). A backend
    without it, like the example, opens only the default tenant.

    :return: storage backend descriptors.

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl
        from loancollect.builtin.memory import MemoryStore
        from loancollect.registry import StorageBackendSpec


        @hookimpl
        def loancollect_register_storage():
            return [
                StorageBackendSpec(
                    name="scratch",
                    schemes=("scratch",),
                    factory=lambda url: MemoryStore(),
                )
            ]
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec
def loancollect_register_rules() -> Iterable[RulePack]:
    """Register compliance rule packs (jurisdiction packs, house rules).

    Called once at start-up. Return an iterable of
    :class:`~loancollect.domain.compliance.RulePack`; every result is collected
    and two packs with the same name are a
    :class:`~loancollect.errors.ConfigurationError` naming every provider. The
    engine applies every pack that covers a borrower's jurisdiction, so overlays
    stack and the strictest rule wins.

    :return: rule packs.

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl
        from loancollect.domain.compliance import RulePack


        @hookimpl
        def loancollect_register_rules():
            return [RulePack(name="acme-house", jurisdictions=("CN",), rules=())]
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec
def loancollect_register_templates() -> Iterable[TemplateSpec]:
    """Register message templates.

    Called once when the host builds its
    :class:`~loancollect.templates.TemplateCatalog`. Return an iterable of
    :class:`~loancollect.registry.TemplateSpec`; every result is collected. Two
    templates with the same ``(name, channel, locale, stage, tone)`` are a
    :class:`~loancollect.errors.ConfigurationError` naming every provider. To
    replace a built-in template, register one with a ``stage`` or ``tone`` (more
    specific wins) or block the built-in plug-in.

    :return: template descriptors (Jinja2 source, run in the sandbox).

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl
        from loancollect.registry import TemplateSpec


        @hookimpl
        def loancollect_register_templates():
            return [
                TemplateSpec(
                    name="thank_you",
                    channel="sms",
                    locale="en_US",
                    source="Thank you, {{ borrower_name }}. Next: {{ amount_due }} "
                    "by {{ due_date }}. {{ how_to_pay }}",
                )
            ]
    """
    raise NotImplementedError  # a specification; pluggy never calls it


# -- configuration --------------------------------------------------------------


@hookspec(historic=True)
def loancollect_configure(config: Mapping[str, object]) -> None:
    """Receive the host's configuration.

    Called once after the plug-in manager is built, with the host's read-only
    configuration mapping. The hook is *historic*: a plug-in registered later is
    called with the same configuration on registration. Because pluggy replays
    historic calls per implementation, this hook **cannot be wrapped**
    (``wrapper=True`` / ``hookwrapper=True`` implementations are refused), and
    its return value is ignored.

    :param config: the host's configuration; keys by convention
        ``"<plug-in name>.<setting>"``.

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl

        SETTINGS = {}


        @hookimpl
        def loancollect_configure(config):
            SETTINGS["gateway"] = config.get("acme-sms.gateway", "https://sms.example.com")
    """


# -- decisions ------------------------------------------------------------------


@hookspec
def loancollect_score(
    loan: Loan, case: Case, assessment: Assessment, as_of: dt.date
) -> ScoreContribution | None:
    """Contribute a risk / ability / willingness score for a case.

    Called for every case under review, before segmentation. Every non-``None``
    result is collected and combined with the built-in heuristic by weight
    (:func:`loancollect.domain.scoring.combine`). This is the place for data and
    machine-learning models; keep it pure and fast (it runs for every case).

    :param loan: the loan, frozen.
    :param case: the case as of the start of review (before today's decision).
    :param assessment: the overdue assessment as of ``as_of``.
    :param as_of: the business date of the run.
    :return: a :class:`~loancollect.domain.scoring.ScoreContribution`, or ``None``
        for no opinion.

    .. versionadded:: 0.1

    **Example**::

        from decimal import Decimal

        from loancollect import hookimpl
        from loancollect.domain.scoring import ScoreContribution


        @hookimpl
        def loancollect_score(loan, assessment):
            if assessment.dpd == 0:
                return None
            return ScoreContribution(
                source="acme-model",
                risk=min(Decimal(1), Decimal(assessment.dpd) / 90),
                weight=Decimal(2),
            )
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec(firstresult=True)
def loancollect_segment(
    loan: Loan, case: Case, assessment: Assessment, scores: Scores, as_of: dt.date
) -> str | None:
    """Choose the segment of a case.

    Called for every case under review, after the scores are combined. The
    first non-None result wins and the remaining implementations are not called;
    if nobody answers, the built-in ability × willingness matrix decides
    (:func:`loancollect.domain.scoring.segment_for`).

    :param loan: the loan.
    :param case: the case before today's decision.
    :param assessment: the overdue assessment.
    :param scores: the combined scores.
    :param as_of: the business date of the run.
    :return: a segment name used by strategy rules, or ``None`` for no opinion.

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl


        @hookimpl
        def loancollect_segment(loan, scores):
            if loan.product == "student":
                return "student"
            return None
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec(firstresult=True)
def loancollect_override_stage(loan: Loan, case: Case, proposed: str, as_of: dt.date) -> str | None:
    """Override the stage the policy proposes (legal holds, bankruptcy, manual moves).

    Called for every case under review after the stage policy proposed a stage.
    The first non-None result wins and the remaining implementations are not
    called; if nobody answers, the proposed stage stands. The returned name must
    be a stage of the policy.

    :param loan: the loan.
    :param case: the case before today's decision (holds, flags).
    :param proposed: the stage the policy proposes.
    :param as_of: the business date of the run.
    :return: the stage to use instead, or ``None`` for no opinion.

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl


        @hookimpl
        def loancollect_override_stage(case, proposed):
            if "legal_hold" in case.flags and proposed == "legal":
                return case.stage  # stay where it is while the hold lasts
            return None
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec
def loancollect_plan_actions(
    loan: Loan, case: Case, decision: Decision, as_of: dt.date
) -> Iterable[PlannedAction]:
    """Add actions to a case's plan for today.

    Called for every case under review after the strategy planned its own
    actions (``decision.actions``). Every result is collected; the actions are
    added to the plan and go through compliance, the outbox and dispatch like
    any other. Give each action a deterministic ``idempotency_key``
    (:func:`loancollect.domain.strategy.idempotency_key`), so a re-run of the
    day plans nothing twice.

    :param loan: the loan.
    :param case: the case after today's decision (stage updated).
    :param decision: the decision of the pure core for today.
    :param as_of: the business date of the run.
    :return: extra planned actions (empty for none).

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl
        from loancollect.domain.strategy import PlannedAction, Tone, idempotency_key


        @hookimpl
        def loancollect_plan_actions(loan, decision, as_of):
            if decision.stage != "further_collection":
                return []
            return [
                PlannedAction(
                    loan_id=loan.id,
                    rule_id="crm-sync",
                    stage=decision.stage,
                    channel="crm",
                    template="crm_update",
                    tone=Tone.REMINDER,
                    as_of=as_of,
                    locale=loan.borrower.locale,
                    idempotency_key=idempotency_key(loan.id, "crm-sync", as_of),
                )
            ]
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec
def loancollect_offer_arrangements(
    loan: Loan, case: Case, decision: Decision, as_of: dt.date
) -> Iterable[Offer]:
    """Add arrangement offers (installment plan, waiver, settlement) for a case.

    Called for every case under review after the strategy made its own offers
    (``decision.offers``). Every result is collected and added to the offers the
    case may be made today.

    :param loan: the loan.
    :param case: the case after today's decision.
    :param decision: the decision of the pure core for today.
    :param as_of: the business date of the run.
    :return: extra :class:`~loancollect.domain.strategy.Offer` records.

    .. versionadded:: 0.1

    **Example**::

        import datetime as dt

        from loancollect import hookimpl
        from loancollect.domain.arrangements import ArrangementKind
        from loancollect.domain.strategy import Offer


        @hookimpl
        def loancollect_offer_arrangements(loan, decision, as_of):
            if decision.segment != "hardship":
                return []
            return [
                Offer(
                    rule_id="acme-hardship-plan",
                    kind=ArrangementKind.INSTALLMENT_PLAN,
                    loan_id=loan.id,
                    valid_until=as_of + dt.timedelta(days=14),
                    amount_due=decision.assessment.amount_due,
                    max_installments=12,
                )
            ]
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec
def loancollect_check_contact(
    action: PlannedAction,
    loan: Loan,
    case: Case,
    as_of: dt.date,
    at: dt.datetime,
    history: tuple[Event, ...],
    visit_notice_at: dt.datetime | None = None,
) -> Iterable[ContactViolation]:
    """Object to a proposed contact.

    Called for every planned action before it is written to the outbox (and
    again before dispatch if it waited), in addition to the registered rule
    packs. Every result is collected; any violation blocks the action. If every
    violation carries ``reschedule_at``, the action is rescheduled to the latest
    of them; otherwise it is dropped, and the reasons are recorded.

    :param action: the proposed action.
    :param loan: the loan.
    :param case: the case after today's decision.
    :param as_of: the business date of the run.
    :param at: the instant the contact would happen, time-zone aware.
    :param history: the loan's recent stored events, oldest first (contacts sent,
        outcomes, opt-outs, holds …) from the last ``CycleConfig.history_days`` days:
        what frequency caps and cool-downs count. Opt-outs of any age are also kept
        on the case (flags ``opt_out:<channel>:<date>``).
    :param visit_notice_at: for an action of medium ``visit``, when its notice was
        given (time-zone aware). The dispatch of a visit action through a channel that
        delivers the written notice (capability ``CAP_VISIT_NOTICE``) *is* the visit's
        notice; the visit is made later. The engine, which dispatches, passes ``at``
        itself for such a channel: what is judged is the notice being given now (a
        pack's visit rules check the visit it announces, vulnerability and place, but
        not the notice period, which starts now); for a visit channel that delivers
        no notice it passes ``None``, and the dispatch is judged as a visit without
        notice. Whoever makes the visit later (a planner, a check-in at the door)
        passes the instant the notice was given (``VisitRequest.requested_at``) or
        ``None``: what is judged is the visit itself, which a pack requiring notice
        (UK ``VisitRule``) allows only from the notice plus its notice period. The
        built-in bridge counts a notice only as recorded: the action's
        ``ACTION_SENT`` in ``history`` marked ``notice="visit_notice"`` (or this
        instant when later). Once that dispatch is recorded the contact is always the
        visit; with no such record there is no notice, and the visit is refused.
        Added after 0.1 as a keyword with a default: callers and implementations that
        do not name it keep working (pluggy >= 1.7 passes it to an implementation
        naming it with a default).
    :return: :class:`~loancollect.registry.ContactViolation` records (empty: allowed).

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl
        from loancollect.registry import ContactViolation


        @hookimpl
        def loancollect_check_contact(action, case):
            if action.channel == "visit" and "no_visits" in case.flags:
                return [ContactViolation(rule_id="acme.no-visits", detail="borrower asked")]
            return []
    """
    raise NotImplementedError  # a specification; pluggy never calls it


# -- observers ------------------------------------------------------------------


@hookspec
def loancollect_on_event(event: Event) -> None:
    """Observe a domain event after it was stored.

    Called once per event (stage changed, action sent / failed / blocked,
    payment received, promise kept / broken, arrangement made / broken, case
    placed / recalled ...) after the unit of work that stored it committed, in
    stream order. Every implementation runs; the return value is ignored. An
    exception is logged and counted, and does not stop the cycle. Audit and
    tracing plug-ins may wrap it with ``@hookimpl(wrapper=True)``.

    :param event: the stored, hash-chained :class:`~loancollect.domain.events.Event`;
        ``event.payload`` is its typed payload record (``StageChanged``, ``ActionSent`` …).

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl
        from loancollect.domain.events import StageChanged

        SEEN = []


        @hookimpl
        def loancollect_on_event(event):
            payload = event.payload
            if isinstance(payload, StageChanged):
                SEEN.append((event.loan_id, payload.current))
    """


@hookspec
def loancollect_cycle_started(as_of: dt.date, run_id: str) -> None:
    """Observe the start of a collection cycle.

    Called once per run, before the first case is reviewed. Every
    implementation runs; the return value is ignored.

    :param as_of: the business date of the run.
    :param run_id: a unique id of the run (the same in ``cycle_finished``).

    .. versionadded:: 0.1

    **Example**::

        import logging

        from loancollect import hookimpl


        @hookimpl
        def loancollect_cycle_started(as_of, run_id):
            logging.getLogger("acme").info("run %s for %s started", run_id, as_of)
    """


@hookspec
def loancollect_cycle_finished(as_of: dt.date, run_id: str, summary: CycleSummary) -> None:
    """Observe the end of a collection cycle.

    Called once per run, after the last case was reviewed and the outbox
    dispatched, also when the run stopped early on an error. Every
    implementation runs; the return value is ignored.

    :param as_of: the business date of the run.
    :param run_id: the id given to ``loancollect_cycle_started``.
    :param summary: the run's counts (:class:`~loancollect.registry.CycleSummary`).

    .. versionadded:: 0.1

    **Example**::

        from loancollect import hookimpl

        TOTALS = {}


        @hookimpl
        def loancollect_cycle_finished(run_id, summary):
            TOTALS[run_id] = (summary.reviewed, summary.sent, summary.errors)
    """


# -- showing ----------------------------------------------------------------------


@hookspec
def loancollect_report_tables(data: ReportData, storage: UnitOfWorkFactory) -> Iterable[Table]:
    """Add tables to the collection report.

    Called once per report (``loancollect report`` and the demo's), after the
    core's tables are built. Return :class:`~loancollect.reporting.Table` values;
    they are printed, written as CSV and kept in the order the plug-ins return
    them. A table name already used by the core or another plug-in is a
    :class:`~loancollect.errors.ConfigurationError`.

    :param data: what the core's report read: its periods, month-end snapshots
        and the period's events (:class:`~loancollect.reporting.ReportData`).
    :param storage: the unit-of-work factory, to read what the plug-in stored.
    :return: tables (an empty iterable or ``None`` for none).

    .. versionadded:: 0.2

    **Example**::

        from loancollect import hookimpl
        from loancollect.domain.events import ActionSent, EventKind
        from loancollect.reporting import Table


        @hookimpl
        def loancollect_report_tables(data):
            calls = [
                e
                for e in data.events
                if e.kind is EventKind.ACTION_SENT and ActionSent.parse(e).channel == "phone"
            ]
            yield Table("acme_calls", "Calls placed", ("calls",), ((str(len(calls)),),))
    """
    raise NotImplementedError  # a specification; pluggy never calls it


@hookspec
def loancollect_register_demo_parts() -> Iterable[DemoPart]:
    """Take part in ``loancollect demo``.

    Called once when the demo starts. Return :class:`~loancollect.demo_parts.DemoPart`
    objects: each provides channels for the demo, adjusts the cycle's
    configuration and acts at fixed points of each simulated day (see
    :mod:`loancollect.demo_parts`). Two parts with the same name are a
    :class:`~loancollect.errors.ConfigurationError` naming both providers.

    :return: demo parts (an empty iterable or ``None`` for none).

    .. versionadded:: 0.2

    **Example**::

        from loancollect import hookimpl
        from loancollect.demo_parts import DemoPart


        class Desk(DemoPart):
            name = "desk"
            answers = frozenset({"phone"})  # the desk answers calls, not the world

            def before_cycle(self, run, day):
                for demo in run.portfolio[:3]:
                    run.world.react(run.engine, demo.loan.id, day, channel="phone")


        @hookimpl
        def loancollect_register_demo_parts():
            return [Desk()]
    """
    raise NotImplementedError  # a specification; pluggy never calls it
