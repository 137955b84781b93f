"""A Salesforce-style REST adapter: upsert by external id, sObject Collections batches.

The documented subset it speaks (REST API, version ``vXX.X``):

- ``PATCH /services/data/vXX.X/sobjects/{object}/{field}/{value}`` upserts one record
  by external id: ``201`` created, ``200``/``204`` updated, ``300`` when several
  records carry the value (nothing changed);
- ``PATCH /services/data/vXX.X/composite/sobjects/{object}/{field}`` upserts up to 200
  records of one object (``{"allOrNone": false, "records": [...]}``, each with its
  ``attributes.type``); ``200`` with one ``UpsertResult`` a record, in order
  (``id``, ``success``, ``created``, ``errors``);
- ``429`` with ``Retry-After``, ``5xx`` and dropped connections are retried (see
  :class:`~loancollect_crm.adapters.base.Retry`).

A case links to its contact, and an activity or a task to its case, through a
relationship field addressed by the parent's external id, so no CRM id is needed.
The bearer token is never logged.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx

from loancollect_crm.adapters.base import Retry, RetryableError, retry_after
from loancollect_crm.records import CrmError, CrmRecord, RecordKind, UpsertResult, UpsertStatus

__all__ = ["SalesforceAdapter", "SalesforceObject", "default_objects"]

_LOG = logging.getLogger("loancollect_crm.salesforce")
MAX_COLLECTION = 200  # the documented limit of one sObject Collections request


@attrs.frozen(kw_only=True)
class SalesforceObject:
    """Where one record kind goes: the sObject, its external-id field, the field names.

    :param fields: our field → the sObject's field (fields not named are not sent).
    :param parent: the relationship to the parent record (e.g. ``Contact``), addressed
        by the parent object's external-id field ``parent_field``.
    :param fixed: fields sent with every record (e.g. a task's ``Status``).
    """

    name: str
    external_field: str
    fields: Mapping[str, str]
    parent: str = ""
    parent_field: str = ""
    fixed: Mapping[str, str] = attrs.field(factory=dict)


def default_objects() -> dict[RecordKind, SalesforceObject]:
    """Contacts on ``Contact``, cases on ``Case``, activities and tasks on ``Task``."""
    ext = "LoanCollect_Id__c"
    return {
        RecordKind.CONTACT: SalesforceObject(
            name="Contact",
            external_field=ext,
            fields={
                "name": "LastName",
                "kind": "Party_Kind__c",
                "jurisdiction": "MailingCountryCode",
                "locale": "Locale__c",
                "time_zone": "Time_Zone__c",
            },
        ),
        RecordKind.CASE: SalesforceObject(
            name="Case",
            external_field=ext,
            parent="Contact",
            parent_field=ext,
            fields={
                "stage": "Collection_Stage__c",
                "stage_since": "Stage_Since__c",
                "status": "Status",
                "principal": "Principal__c",
                "currency": "CurrencyIsoCode",
                "paid": "Paid__c",
                "on_hold": "On_Hold__c",
                "do_not_contact": "Do_Not_Contact__c",
            },
        ),
        RecordKind.ACTIVITY: SalesforceObject(
            name="Task",
            external_field=ext,
            parent="Loan_Case__r",
            parent_field=ext,
            fields={
                "type": "TaskSubtype__c",
                "subject": "Subject",
                "date": "Activity_At__c",
                "answers": "Answers_Key__c",
                "agent": "Agent__c",
            },
            fixed={"Status": "Completed"},
        ),
        RecordKind.TASK: SalesforceObject(
            name="Task",
            external_field=ext,
            parent="Loan_Case__r",
            parent_field=ext,
            fields={"subject": "Subject", "due": "ActivityDate"},
            fixed={"Status": "Not Started"},
        ),
    }


class SalesforceAdapter:
    """Upserts records over a Salesforce-style REST API.

    :param base_url: the instance, e.g. ``https://example.my.salesforce.com``.
    :param token: the OAuth bearer token (never logged).
    :param version: the API version, e.g. ``v60.0``.
    :param batch_size: records per sObject Collections request (at most 200).
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        version: str = "v60.0",
        batch_size: int = MAX_COLLECTION,
        objects: Mapping[RecordKind, SalesforceObject] | None = None,
        retry: Retry | None = None,
        timeout: float = 30.0,
        name: str = "salesforce",
    ) -> None:
        if not 1 <= batch_size <= MAX_COLLECTION:
            raise CrmError(f"batch_size {batch_size}: must be between 1 and {MAX_COLLECTION}")
        self._name = name
        self._batch = batch_size
        self._objects = dict(objects or default_objects())
        self._retry = retry or Retry()
        self._root = f"{base_url.rstrip('/')}/services/data/{version}"
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
        )
        self._requests = 0

    def __repr__(self) -> str:
        return f"SalesforceAdapter({self._root!r}, token=***)"

    @property
    def name(self) -> str:
        """The CRM's name in the sync state."""
        return self._name

    @property
    def batch_size(self) -> int:
        """Records per request."""
        return self._batch

    @property
    def requests(self) -> int:
        """Requests sent so far, retries included."""
        return self._requests

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def upsert(
        self, kind: RecordKind, records: Sequence[CrmRecord], parents: Mapping[str, str]
    ) -> list[UpsertResult]:
        """One request for one record, one sObject Collections request for a batch."""
        obj = self._objects[kind]
        if len(records) == 1:
            return [self._upsert_one(obj, records[0])]
        results: list[UpsertResult] = []
        for i in range(0, len(records), self._batch):
            results.extend(self._upsert_many(obj, records[i : i + self._batch]))
        return results

    def _body(self, obj: SalesforceObject, record: CrmRecord) -> dict[str, Any]:
        body: dict[str, Any] = {
            obj.fields[k]: v for k, v in record.fields.items() if k in obj.fields
        }
        body.update(obj.fixed)
        if obj.parent and record.parent:
            body[obj.parent] = {obj.parent_field: record.parent}
        return body

    def _send(self, method: str, url: str, body: object) -> httpx.Response:
        def once() -> httpx.Response:
            self._requests += 1
            try:
                response = self._client.request(method, url, json=body)
            except httpx.TransportError as exc:  # refused, reset, dropped mid-answer, timed out
                raise RetryableError(f"{type(exc).__name__}") from exc
            if response.status_code == 429:
                raise RetryableError(
                    "429 too many requests", retry_after(response.headers.get("Retry-After"))
                )
            if response.status_code >= 500:
                raise RetryableError(f"{response.status_code} from the CRM")
            return response

        return self._retry.call(f"{method} {url.removeprefix(self._root)}", once)

    def _upsert_one(self, obj: SalesforceObject, record: CrmRecord) -> UpsertResult:
        value = urllib.parse.quote(record.external_id, safe="")
        url = f"{self._root}/sobjects/{obj.name}/{obj.external_field}/{value}"
        response = self._send("PATCH", url, self._body(obj, record))
        ext = record.external_id
        if response.status_code == 201:
            return UpsertResult(
                external_id=ext, status=UpsertStatus.CREATED, remote_id=_id(response)
            )
        if response.status_code in (200, 204):
            remote = _id(response) if response.status_code == 200 else ""
            return UpsertResult(external_id=ext, status=UpsertStatus.UPDATED, remote_id=remote)
        if response.status_code == 300:
            return UpsertResult(
                external_id=ext,
                status=UpsertStatus.DUPLICATE,
                detail=f"{len(_json_list(response))} records match",
            )
        return UpsertResult(external_id=ext, status=UpsertStatus.FAILED, detail=_errors(response))

    def _upsert_many(self, obj: SalesforceObject, batch: Sequence[CrmRecord]) -> list[UpsertResult]:
        url = f"{self._root}/composite/sobjects/{obj.name}/{obj.external_field}"
        rows = []
        for record in batch:
            row = {"attributes": {"type": obj.name}, obj.external_field: record.external_id}
            row.update(self._body(obj, record))
            rows.append(row)
        response = self._send("PATCH", url, {"allOrNone": False, "records": rows})
        if response.status_code != 200:
            detail = _errors(response)
            return [
                UpsertResult(external_id=r.external_id, status=UpsertStatus.FAILED, detail=detail)
                for r in batch
            ]
        answers = _json_list(response)
        if len(answers) != len(batch):
            raise CrmError(f"{obj.name}: {len(answers)} results for {len(batch)} records")
        results = []
        for record, answer in zip(batch, answers, strict=True):
            results.append(_collection_result(record.external_id, answer))
        return results


def _collection_result(ext: str, answer: Any) -> UpsertResult:
    if not isinstance(answer, dict):
        return UpsertResult(external_id=ext, status=UpsertStatus.FAILED, detail="malformed result")
    if answer.get("success"):
        status = UpsertStatus.CREATED if answer.get("created") else UpsertStatus.UPDATED
        return UpsertResult(external_id=ext, status=status, remote_id=str(answer.get("id") or ""))
    errors = answer.get("errors") or []
    codes = [str(e.get("statusCode", "")) for e in errors if isinstance(e, dict)]
    if "DUPLICATE_EXTERNAL_ID" in codes:
        return UpsertResult(
            external_id=ext, status=UpsertStatus.DUPLICATE, detail="several records match"
        )
    return UpsertResult(
        external_id=ext, status=UpsertStatus.FAILED, detail=",".join(codes) or "refused"
    )


def _id(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("id", "")) if isinstance(body, dict) else ""


def _json_list(response: httpx.Response) -> list[Any]:
    try:
        body = response.json()
    except ValueError:
        return []
    return body if isinstance(body, list) else []


def _errors(response: httpx.Response) -> str:
    # the CRM's error codes only: its messages may quote the record's values
    codes = [str(e.get("errorCode", "")) for e in _json_list(response) if isinstance(e, dict)]
    return f"{response.status_code} {','.join(c for c in codes if c)}".strip()
