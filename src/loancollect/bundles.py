"""Evidence bundles: a zip of a case's evidence with a manifest of SHA-256 digests and
the hash chain of its events, that anyone can check with ``loancollect verify --bundle``.

Layout of a bundle (format ``loancollect-bundle/1``):

- the evidence files (any names, e.g. ``contract.json``, ``schedule.csv``,
  ``documents/complaint.pdf``);
- ``events.jsonl``: the case's event stream, one event a line, with its sequence
  number, previous hash and hash (the hash-chain proof);
- ``manifest.json``: every other file with its size and SHA-256, and the chain's loan,
  first and last sequence numbers and last hash.

:func:`verify_bundle` recomputes every digest, refuses files the manifest does not
list, and rechecks the chain from its first event's previous hash (the genesis hash
when the stream starts at 0) up to the hash the manifest names. The zip is written
deterministically (sorted names, a fixed timestamp), so one case gives one bundle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from loancollect.domain.errors import ValidationError
from loancollect.domain.events import GENESIS, Event, EventKind, verify_chain

__all__ = ["BUNDLE_FORMAT", "BundleCheck", "verify_bundle", "write_bundle"]

BUNDLE_FORMAT = "loancollect-bundle/1"
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
_STAMP = (2000, 1, 1, 0, 0, 0)  # zip entries' timestamp: the bundle does not depend on when


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _event_line(ev: Event) -> str:
    return json.dumps(
        {
            "seq": ev.seq,
            "kind": ev.kind.value,
            "loan_id": ev.loan_id,
            "on": ev.on.isoformat(),
            "at": ev.at.isoformat() if ev.at is not None else None,
            "data": [list(pair) for pair in ev.data],
            "prev_hash": ev.prev_hash,
            "hash": ev.hash,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def _event_from(line: str) -> Event:
    raw = json.loads(line)
    at = raw["at"]
    return Event(
        kind=EventKind(raw["kind"]),
        loan_id=raw["loan_id"],
        on=dt.date.fromisoformat(raw["on"]),
        data=tuple((str(k), str(v)) for k, v in raw["data"]),
        at=dt.datetime.fromisoformat(at) if at is not None else None,
        seq=int(raw["seq"]),
        prev_hash=raw["prev_hash"],
        hash=raw["hash"],
    )


def write_bundle(
    path: Path, files: Mapping[str, bytes], events: Sequence[Event], *, title: str = ""
) -> Path:
    """Write the bundle of ``files`` and the chained ``events`` of one loan to ``path``.

    :raises ValidationError: if a file is named like the manifest or the events, a name
        is not a plain relative path, or the events are not one loan's chained stream.
    """
    for name in files:
        if name in (MANIFEST, EVENTS) or name.startswith("/") or ".." in name.split("/"):
            raise ValidationError("bundle.file", name, "reserved or not a relative path")
    if not events:
        raise ValidationError("bundle.events", 0, "a bundle needs the case's events")
    loans = {ev.loan_id for ev in events}
    if len(loans) != 1:
        raise ValidationError("bundle.events", sorted(loans), "events of one loan only")
    bad = verify_chain(events, events[0].prev_hash)
    if bad is not None:
        raise ValidationError("bundle.events", events[bad].seq, "the chain does not hold here")
    contents = dict(files)
    contents[EVENTS] = "".join(_event_line(ev) + "\n" for ev in events).encode("utf-8")
    manifest = {
        "format": BUNDLE_FORMAT,
        "title": title,
        "files": [
            {"name": name, "bytes": len(data), "sha256": _sha(data)}
            for name, data in sorted(contents.items())
        ],
        "chain": {
            "loan_id": events[0].loan_id,
            "first_seq": events[0].seq,
            "last_seq": events[-1].seq,
            "first_prev_hash": events[0].prev_hash,
            "last_hash": events[-1].hash,
        },
    }
    contents[MANIFEST] = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(contents):
            info = zipfile.ZipInfo(name, date_time=_STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, contents[name])
    tmp.replace(path)  # nothing half-written under the bundle's name
    return path


@attrs.frozen(kw_only=True)
class BundleCheck:
    """What :func:`verify_bundle` found: the files and events checked, and the problems."""

    files: int
    events: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True if the bundle verifies."""
        return not self.problems


def verify_bundle(path: Path) -> BundleCheck:
    """Check a bundle: every digest, no unlisted file, the hash chain of its events."""
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return BundleCheck(files=0, events=0, problems=(f"not a readable zip: {exc}",))
    with zf:
        names = set(zf.namelist())
        if MANIFEST not in names:
            return BundleCheck(files=0, events=0, problems=(f"no {MANIFEST}",))
        try:
            manifest = json.loads(zf.read(MANIFEST))
            listed = {f["name"]: f for f in manifest["files"]}
            chain = manifest["chain"]
        except (ValueError, KeyError, TypeError) as exc:
            return BundleCheck(files=0, events=0, problems=(f"bad manifest: {exc!r}",))
        if manifest.get("format") != BUNDLE_FORMAT:
            problems.append(f"format {manifest.get('format')!r}, expected {BUNDLE_FORMAT!r}")
        for name in sorted(names - set(listed) - {MANIFEST}):
            problems.append(f"{name}: not in the manifest")
        for name, entry in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name}: listed but missing")
                continue
            data = zf.read(name)
            if _sha(data) != entry.get("sha256") or len(data) != entry.get("bytes"):
                problems.append(f"{name}: SHA-256 does not match the manifest")
        events: list[Event] = []
        if EVENTS in names:
            try:
                events = [_event_from(x) for x in zf.read(EVENTS).decode().splitlines() if x]
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(f"{EVENTS}: unreadable event: {exc!r}")
        else:
            problems.append(f"{EVENTS}: missing")
    if events:
        start = chain.get("first_prev_hash", GENESIS)
        if events[0].seq == 0 and start != GENESIS:
            problems.append("the stream starts at 0 but not from the genesis hash")
        bad = verify_chain(events, start)
        if bad is not None:
            problems.append(f"{EVENTS}: the hash chain breaks at seq {events[bad].seq}")
        if events[-1].hash != chain.get("last_hash") or events[-1].seq != chain.get("last_seq"):
            problems.append(f"{EVENTS}: does not end at the manifest's last hash")
        if {e.loan_id for e in events} != {chain.get("loan_id")}:
            problems.append(f"{EVENTS}: events of another loan")
    return BundleCheck(files=len(listed), events=len(events), problems=tuple(problems))
