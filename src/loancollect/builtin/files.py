"""A channel that writes each message as one JSON line in a file: a local outbox.

Used by the demo for channels that have no server configured (SMS, call
scripts, visit notices), and handy when embedding: what would have been sent is
there to read. Idempotent: a key already in the file is not written again.
Contact points are stored masked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path

from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.errors import ConfigurationError
from loancollect.domain.strategy import PlannedAction
from loancollect.hookspecs import hookimpl
from loancollect.ports import (
    CAP_IDEMPOTENT,
    CAP_POLL,
    Channel,
    DeliveryResult,
    RenderedMessage,
)
from loancollect.registry import ChannelSpec

__all__ = ["FileChannel", "loancollect_register_channels"]


class FileChannel:
    """Writes messages to ``<directory>/<name>.jsonl``.

    :param name: the channel name it serves (``"sms"``, ``"phone"`` …).
    :param directory: where the file goes (created if missing).
    """

    def __init__(self, name: str, directory: Path | str) -> None:
        self._name = name
        self.path = Path(directory) / f"{name}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        if self.path.exists():
            with self.path.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        self._keys.add(json.loads(line)["key"])

    @property
    def name(self) -> str:
        """The channel name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """Idempotent (keys already written are skipped) and pollable."""
        return frozenset({CAP_IDEMPOTENT, CAP_POLL})

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Append the message (once per key) and report it sent."""
        with self._lock:
            if idempotency_key not in self._keys:
                record = {
                    "key": idempotency_key,
                    "loan_id": action.loan_id,
                    "as_of": action.as_of.isoformat(),
                    "stage": action.stage,
                    "template": message.template,
                    "locale": message.locale,
                    "to": action.contact.masked if action.contact is not None else None,
                    "subject": message.subject,
                    "text": message.text,
                }
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                self._keys.add(idempotency_key)
        return DeliveryResult.sent(provider_id=f"{self.path.name}:{idempotency_key}")

    def poll(self, idempotency_key: str) -> DeliveryResult | None:
        """Sent if the key is in the file, else ``None``."""
        with self._lock:
            if idempotency_key in self._keys:
                return DeliveryResult.sent(provider_id=f"{self.path.name}:{idempotency_key}")
        return None

    def __repr__(self) -> str:
        return f"FileChannel(name={self._name!r}, path={self.path.name!r})"


def _make(settings: Mapping[str, str]) -> Channel:
    directory = settings.get("dir")
    if not directory:
        raise ConfigurationError("channel 'file': setting 'dir' (the output directory) is required")
    return FileChannel(settings.get("name", "file"), directory)


@hookimpl
def loancollect_register_channels() -> list[ChannelSpec]:
    """The file channel: settings ``dir`` (required) and ``name`` (the file's name).

    Under its own name it contacts nobody (medium ``NONE``: the messages stay in a
    file). Standing in for a real channel (the demo writes its ``sms``, ``phone`` and
    ``visit`` messages so), a :class:`FileChannel` is given to the engine under that
    channel's name, and the medium of that name applies.
    """
    return [
        ChannelSpec(
            name="file",
            factory=_make,
            medium=Medium.NONE,
            contact_kind=None,
            capabilities=frozenset({CAP_IDEMPOTENT, CAP_POLL}),
            description="writes each message as a JSON line into <dir>/<name>.jsonl",
        )
    ]
