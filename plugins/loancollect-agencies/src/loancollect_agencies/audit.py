"""The audit trail of the agency API: every call, allowed or refused, is written down.

An entry says who called (the credential's agency and tenant; empty when the
credential was unknown), what was asked (method, path, the loan it named), and
what the API answered (status, allowed or refused, and why). Never a token,
never a borrower's personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Protocol

import attrs

__all__ = ["AuditEntry", "AuditTrail", "JsonLinesAuditTrail", "MemoryAuditTrail"]


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One call to the agency API and what it was answered."""

    at: dt.datetime
    tenant: str
    agency: str
    method: str
    path: str
    loan_id: str
    status: int
    allowed: bool
    reason: str = ""

    def to_json(self) -> str:
        """One JSON line (keys sorted)."""
        data = attrs.asdict(self)
        data["at"] = self.at.isoformat()
        return json.dumps(data, sort_keys=True, ensure_ascii=False)


class AuditTrail(Protocol):
    """Where audit entries go (append-only)."""

    def record(self, entry: AuditEntry) -> None:
        """Append ``entry``."""
        ...

    def entries(self) -> tuple[AuditEntry, ...]:
        """Every entry, in the order recorded."""
        ...


class MemoryAuditTrail:
    """An audit trail in memory (tests, the demo)."""

    def __init__(self) -> None:
        self._entries: list[AuditEntry] = []
        self._lock = threading.Lock()

    def record(self, entry: AuditEntry) -> None:
        """Append ``entry``."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> tuple[AuditEntry, ...]:
        """Every entry, in the order recorded."""
        with self._lock:
            return tuple(self._entries)


class JsonLinesAuditTrail:
    """An audit trail appended to a JSON-lines file (one entry a line, flushed each time)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def record(self, entry: AuditEntry) -> None:
        """Append ``entry`` to the file."""
        with self._lock, self._path.open("a", encoding="utf-8") as f:
            f.write(entry.to_json() + "\n")

    def entries(self) -> tuple[AuditEntry, ...]:
        """Every entry in the file."""
        if not self._path.exists():
            return ()
        out = []
        for line in self._path.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            data["at"] = dt.datetime.fromisoformat(data["at"])
            out.append(AuditEntry(**data))
        return tuple(out)
