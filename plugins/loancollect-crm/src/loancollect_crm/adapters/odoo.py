"""An Odoo adapter over the external API (XML-RPC ``execute_kw``).

The documented subset it speaks: ``authenticate(db, login, password, {})`` on
``/xmlrpc/2/common`` for the user id, then ``execute_kw(db, uid, password, model,
method, args, kwargs)`` on ``/xmlrpc/2/object`` with ``search_read``, ``create``
(a list of values makes several records in one call) and ``write``.

Borrowers are ``res.partner`` records, cases ``crm.lead``, activities (actions sent,
outcomes) ``mail.message`` notes on the lead, tasks ``mail.activity`` with their
``date_deadline``. Each carries the external id in ``x_loancollect_id``. An upsert
of a batch reads the batch's external ids (one ``search_read``), creates the new
records (one ``create``) and writes the changed ones; a record found twice is a
duplicate match and is left alone.

Odoo sends no webhooks by itself: :meth:`OdooAdapter.poll` lists the notes
collectors wrote on the leads (outcomes: comments carrying ``x_outcome``), the
leads' assignments and edits of the engine-owned fields since a cursor.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import xmlrpc.client
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from loancollect.domain.case import OutcomeKind
from loancollect_crm.adapters.base import Retry, RetryableError, retry_after
from loancollect_crm.records import (
    ChangeKind,
    CrmError,
    CrmRecord,
    InboundChange,
    RecordKind,
    UpsertResult,
    UpsertStatus,
)

__all__ = ["OdooAdapter", "OdooModel", "default_models"]

_LOG = logging.getLogger("loancollect_crm.odoo")
EXTERNAL_FIELD = "x_loancollect_id"
_ODOO_TIME = "%Y-%m-%d %H:%M:%S"


@attrs.frozen(kw_only=True)
class OdooModel:
    """Where one record kind goes: the model, our field → its field, the parent link.

    :param parent: the many2one (or ``res_id``) field holding the parent's Odoo id.
    :param fixed: values sent with every record (e.g. ``model`` of a message).
    """

    model: str
    fields: Mapping[str, str]
    parent: str = ""
    fixed: Mapping[str, Any] = attrs.field(factory=dict)


def default_models() -> dict[RecordKind, OdooModel]:
    """``res.partner``, ``crm.lead``, ``mail.message`` and ``mail.activity``."""
    case_fields = ("stage", "stage_since", "status", "principal", "currency", "paid")
    return {
        RecordKind.CONTACT: OdooModel(
            model="res.partner",
            fields={
                "name": "name",
                "kind": "x_party_kind",
                "jurisdiction": "x_jurisdiction",
                "locale": "lang",
                "time_zone": "tz",
            },
        ),
        RecordKind.CASE: OdooModel(
            model="crm.lead",
            parent="partner_id",
            fields={
                **{k: f"x_{k}" for k in case_fields},
                "on_hold": "x_on_hold",
                "do_not_contact": "x_do_not_contact",
            },
        ),
        RecordKind.ACTIVITY: OdooModel(
            model="mail.message",
            parent="res_id",
            fields={
                "type": "x_type",
                "subject": "subject",
                "date": "date",
                "answers": "x_answers",
                "agent": "x_agent",
                "status": "x_status",
            },
            fixed={"model": "crm.lead", "message_type": "notification"},
        ),
        RecordKind.TASK: OdooModel(
            model="mail.activity",
            parent="res_id",
            fields={"subject": "summary", "due": "date_deadline"},
            fixed={"res_model": "crm.lead"},
        ),
    }


class _Transport(xmlrpc.client.Transport):
    """Counts requests; keeps the response headers of a refused request (Retry-After)."""

    def __init__(self, counter: list[int]) -> None:
        super().__init__()
        self._counter = counter

    def request(self, host: Any, handler: str, request_body: Any, verbose: bool = False) -> Any:
        # One attempt only: the standard transport resends a request once when the
        # connection drops, which would repeat a ``create`` the server has done.
        # The adapter retries whole upserts instead (they read before they create).
        self._counter[0] += 1
        return self.single_request(host, handler, request_body, verbose)


class OdooAdapter:
    """Upserts records through Odoo's external API; polls it for collectors' changes.

    :param url: the Odoo server, e.g. ``https://example.odoo.com``.
    :param password: the user's password or API key (never logged).
    :param batch_size: records per upsert (one ``search_read`` and one ``create``).
    """

    def __init__(
        self,
        *,
        url: str,
        db: str,
        login: str,
        password: str,
        batch_size: int = 100,
        models: Mapping[RecordKind, OdooModel] | None = None,
        retry: Retry | None = None,
        name: str = "odoo",
    ) -> None:
        self._name = name
        self._url = url.rstrip("/")
        self._db = db
        self._login = login
        self._password = password
        self._batch = batch_size
        self._models = dict(models or default_models())
        self._retry = retry or Retry()
        self._count = [0]
        self._uid: int | None = None
        self._common = xmlrpc.client.ServerProxy(
            f"{self._url}/xmlrpc/2/common", transport=_Transport(self._count), allow_none=True
        )
        self._object = xmlrpc.client.ServerProxy(
            f"{self._url}/xmlrpc/2/object", transport=_Transport(self._count), allow_none=True
        )

    def __repr__(self) -> str:
        return f"OdooAdapter({self._url!r}, db={self._db!r}, login={self._login!r}, password=***)"

    @property
    def name(self) -> str:
        """The CRM's name in the sync state."""
        return self._name

    @property
    def batch_size(self) -> int:
        """Records per batch."""
        return self._batch

    @property
    def requests(self) -> int:
        """XML-RPC requests sent so far, retries included."""
        return self._count[0]

    # -- calls -------------------------------------------------------------------------
    def _call(
        self,
        what: str,
        proxy: xmlrpc.client.ServerProxy,
        method: str,
        *args: Any,
        retry: bool = True,
    ) -> Any:
        def once() -> Any:
            try:
                return getattr(proxy, method)(*args)
            except xmlrpc.client.ProtocolError as exc:
                if exc.errcode == 429:
                    raise RetryableError(
                        "429 too many requests", retry_after(exc.headers.get("Retry-After"))
                    ) from exc
                if exc.errcode >= 500:
                    raise RetryableError(f"{exc.errcode} from the CRM") from exc
                raise CrmError(f"{what}: HTTP {exc.errcode}") from exc
            except xmlrpc.client.Fault as exc:
                raise CrmError(f"{what}: fault {exc.faultCode}") from exc
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, dropped
                raise RetryableError(type(exc).__name__) from exc

        return self._retry.call(what, once) if retry else once()

    def _uid_now(self) -> int:
        if self._uid is None:
            uid = self._call(
                "authenticate",
                self._common,
                "authenticate",
                self._db,
                self._login,
                self._password,
                {},
            )
            if not uid:
                raise CrmError(f"Odoo refused the login {self._login!r} on database {self._db!r}")
            self._uid = int(uid)
        return self._uid

    def execute(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        retry: bool = True,
    ) -> Any:
        """``execute_kw`` on ``model``; retried (see :class:`Retry`) unless ``retry`` is false."""
        uid = self._uid_now()
        return self._call(
            f"{model}.{method}",
            self._object,
            "execute_kw",
            self._db,
            uid,
            self._password,
            model,
            method,
            args,
            kwargs or {},
            retry=retry,
        )

    # -- upsert ------------------------------------------------------------------------
    def upsert(
        self, kind: RecordKind, records: Sequence[CrmRecord], parents: Mapping[str, str]
    ) -> list[UpsertResult]:
        """Read the batch's external ids, create the new records, write the others.

        Retried whole: after a lost answer the re-read finds what was created.
        """
        self._uid_now()
        return self._retry.call(
            f"upsert {kind.value}", lambda: self._upsert(kind, records, parents)
        )

    def _upsert(
        self, kind: RecordKind, records: Sequence[CrmRecord], parents: Mapping[str, str]
    ) -> list[UpsertResult]:
        spec = self._models[kind]
        ours = {v: k for k, v in spec.fields.items()}
        ids = [r.external_id for r in records]
        found = self.execute(
            spec.model,
            "search_read",
            [[[EXTERNAL_FIELD, "in", ids]]],
            {"fields": [EXTERNAL_FIELD, *spec.fields.values()]},
            retry=False,
        )
        matches: dict[str, list[dict[str, Any]]] = {}
        for row in found:
            matches.setdefault(str(row[EXTERNAL_FIELD]), []).append(row)
        results: dict[str, UpsertResult] = {}
        to_create: list[CrmRecord] = []
        for record in records:
            ext = record.external_id
            rows = matches.get(ext, [])
            values = self._values(spec, record, parents)
            if values is None:
                results[ext] = UpsertResult(
                    external_id=ext, status=UpsertStatus.FAILED, detail="parent not in the CRM"
                )
            elif len(rows) > 1:
                results[ext] = UpsertResult(
                    external_id=ext,
                    status=UpsertStatus.DUPLICATE,
                    detail=f"{len(rows)} records match",
                )
            elif rows:
                row = rows[0]
                before = {ours[k]: _text(v) for k, v in row.items() if k in ours}
                self.execute(spec.model, "write", [[row["id"]], values], retry=False)
                results[ext] = UpsertResult(
                    external_id=ext,
                    status=UpsertStatus.UPDATED,
                    remote_id=str(row["id"]),
                    before=before,
                )
            else:
                to_create.append(record)
        if to_create:
            made = self.execute(
                spec.model,
                "create",
                [[self._values(spec, r, parents) for r in to_create]],
                retry=False,
            )
            made = made if isinstance(made, list) else [made]
            if len(made) != len(to_create):
                raise CrmError(f"{spec.model}.create: {len(made)} ids for {len(to_create)} records")
            for record, remote in zip(to_create, made, strict=True):
                results[record.external_id] = UpsertResult(
                    external_id=record.external_id,
                    status=UpsertStatus.CREATED,
                    remote_id=str(remote),
                )
        return [results[r.external_id] for r in records]

    def _values(
        self, spec: OdooModel, record: CrmRecord, parents: Mapping[str, str]
    ) -> dict[str, Any] | None:
        values: dict[str, Any] = {
            spec.fields[k]: v for k, v in record.fields.items() if k in spec.fields
        }
        values[EXTERNAL_FIELD] = record.external_id
        values.update(spec.fixed)
        if spec.parent and record.parent:
            parent = parents.get(record.parent)
            if not parent:
                return None
            values[spec.parent] = int(parent)
        return values

    # -- polling -----------------------------------------------------------------------
    def poll(self, cursor: str | None) -> tuple[list[InboundChange], str]:
        """Comments on leads (notes; outcomes when they carry ``x_outcome``) and lead
        edits (assignment, engine-owned fields) after ``cursor``."""
        saved = json.loads(cursor) if cursor else {}
        last_message = int(saved.get("message", 0))
        last_lead = str(saved.get("lead", "1970-01-01 00:00:00"))
        changes: list[InboundChange] = []
        notes = self.execute(
            "mail.message",
            "search_read",
            [
                [
                    ["id", ">", last_message],
                    ["model", "=", "crm.lead"],
                    ["message_type", "=", "comment"],
                ]
            ],
            {
                "fields": ["id", "res_id", "date", "author_id", *_OUTCOME_FIELDS],
                "order": "id",
                "limit": 500,
            },
        )
        lead_ids = sorted({int(n["res_id"]) for n in notes})
        loans: dict[int, str] = {}
        if lead_ids:
            for row in self.execute("crm.lead", "read", [lead_ids], {"fields": [EXTERNAL_FIELD]}):
                loans[int(row["id"])] = str(row[EXTERNAL_FIELD])
        for note in notes:
            loan = loans.get(int(note["res_id"]))
            last_message = max(last_message, int(note["id"]))
            if loan:
                changes.append(self._note_or_outcome(note, loan))
        case = self._models[RecordKind.CASE]
        leads = self.execute(
            "crm.lead",
            "search_read",
            # ">=": a lead written in the same second as the cursor is read again (the
            # inbox drops what it has: event ids carry the write date)
            [[["write_date", ">=", last_lead]]],
            {
                "fields": [
                    EXTERNAL_FIELD,
                    "user_id",
                    "team_id",
                    "write_date",
                    *case.fields.values(),
                ],
                "order": "write_date",
            },
        )
        ours = {v: k for k, v in case.fields.items()}
        for lead in leads:
            last_lead = max(last_lead, str(lead["write_date"]))
            loan = str(lead.get(EXTERNAL_FIELD) or "")
            if not loan:
                continue
            at = _instant(lead["write_date"])
            stamp = f"{self._name}:lead:{lead['id']}:{lead['write_date']}"
            agent, team = _many2one(lead.get("user_id")), _many2one(lead.get("team_id"))
            if agent or team:
                changes.append(
                    InboundChange(
                        event_id=f"{stamp}:assign",
                        kind=ChangeKind.ASSIGN,
                        loan_id=loan,
                        at=at,
                        agent=agent,
                        team=team,
                    )
                )
            for odoo_field, ours_field in ours.items():
                if odoo_field in lead:
                    changes.append(
                        InboundChange(
                            event_id=f"{stamp}:{ours_field}",
                            kind=ChangeKind.FIELD,
                            loan_id=loan,
                            at=at,
                            field=ours_field,
                            value=_text(lead[odoo_field]),
                        )
                    )
        return changes, json.dumps({"message": last_message, "lead": last_lead})

    def _note_or_outcome(self, note: dict[str, Any], loan: str) -> InboundChange:
        """A comment on a lead: an outcome when it carries ``x_outcome``, else a note."""
        common: dict[str, Any] = {
            "event_id": f"{self._name}:message:{note['id']}",
            "loan_id": loan,
            "at": _instant(note["date"]),
            "agent": _many2one(note.get("author_id")),
        }
        kind = _text(note.get("x_outcome"))
        if not kind:
            return InboundChange(
                **common, kind=ChangeKind.NOTE, text=f"odoo mail.message {note['id']}"
            )
        try:
            outcome = OutcomeKind(kind)
            amount = _text(note.get("x_promise_amount"))
            due = _text(note.get("x_promise_due"))
            return InboundChange(
                **common,
                kind=ChangeKind.OUTCOME,
                outcome=outcome,
                channel=_text(note.get("x_channel")),
                key=_text(note.get("x_answers")),
                promise_amount=Decimal(amount) if amount else None,
                promise_due=dt.date.fromisoformat(due) if due else None,
            )
        except (ValueError, ArithmeticError) as exc:
            # kept as a note naming the message, so the poll goes on past it
            _LOG.warning("mail.message %s: outcome not understood: %s", note["id"], exc)
            text = f"odoo mail.message {note['id']} (outcome not understood)"
            return InboundChange(**common, kind=ChangeKind.NOTE, text=text)


_OUTCOME_FIELDS = ("x_outcome", "x_channel", "x_answers", "x_promise_amount", "x_promise_due")
"""A logged call's custom fields: the outcome's kind, channel, the action it answers, a
promise's amount (text, never a float) and due date."""


def _text(value: Any) -> str:
    if value is False or value is None:
        return ""
    if isinstance(value, list):  # a many2one reads as [id, name]
        return str(value[0]) if value else ""
    return str(value)


def _many2one(value: Any) -> str:
    if isinstance(value, list) and len(value) == 2:
        return str(value[1])
    return ""


def _instant(text: Any) -> dt.datetime:
    # Odoo keeps datetimes in UTC, written without a zone
    return dt.datetime.strptime(str(text), _ODOO_TIME).replace(tzinfo=dt.UTC)
