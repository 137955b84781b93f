"""The file outbox: each e-mail written as an ``.eml`` file into a directory.

For local runs and demos with no SMTP server. The file name is derived from the
idempotency key, so a key already written (in this process or an earlier one) is
not written again.
"""

from __future__ import annotations

import os
import tempfile
from email.message import EmailMessage
from pathlib import Path

from loancollect.ports import DeliveryResult, DeliveryStatus

__all__ = ["FileOutbox"]


class FileOutbox:
    """Writes messages as ``<digest>.eml`` files into ``directory`` (created if missing)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path_for(self, digest: str) -> Path:
        """The file a message with key digest ``digest`` is written to."""
        return self.directory / f"{digest}.eml"

    def existing(self, digest: str, message_id: str) -> DeliveryResult | None:
        """The result of an earlier write of ``digest`` (``None`` if there was none)."""
        path = self.path_for(digest)
        return _sent(path, message_id) if path.exists() else None

    def deliver(self, mail: EmailMessage, *, digest: str) -> DeliveryResult:
        """Write ``mail`` atomically (temporary file, then rename); a failing file system
        is a retryable failure."""
        path = self.path_for(digest)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(mail.as_bytes())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            return DeliveryResult.failed_retryable(
                f"cannot write to the outbox directory: {type(exc).__name__}: {exc.strerror}"
            )
        return _sent(path, str(mail["Message-ID"]))

    def close(self) -> None:
        """Nothing to close."""

    def __repr__(self) -> str:
        return f"FileOutbox({str(self.directory)!r})"


def _sent(path: Path, message_id: str) -> DeliveryResult:
    return DeliveryResult(
        status=DeliveryStatus.SENT,
        provider_id=message_id,
        evidence=(("message_id", message_id), ("transport", "file"), ("file", path.name)),
    )
