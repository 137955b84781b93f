"""The ``letter`` channel: one PDF per letter in a directory, a manifest, and a batch
print file per day."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4

from loancollect.domain.loans import ContactKind
from loancollect.domain.strategy import PlannedAction, Tone
from loancollect.errors import ConfigurationError, ValidationError
from loancollect.ports import (
    CAP_IDEMPOTENT,
    CAP_STATEMENT,
    CAP_SUBJECT,
    DeliveryResult,
    DeliveryStatus,
    RenderedMessage,
)
from loancollect_letters.batch import MANIFEST, build_print_batch
from loancollect_letters.layout import PAGE_SIZES, LetterKind, LetterSpec, render_pdf

__all__ = [
    "CAPABILITIES",
    "SETTINGS",
    "LetterChannel",
    "from_settings",
    "letter_kind",
    "letter_reference",
]

_LOG = logging.getLogger("loancollect_letters")

CAPABILITIES = frozenset({CAP_IDEMPOTENT, CAP_SUBJECT, CAP_STATEMENT})
"""What the letter channel can do (it prints the statement of account)."""

SETTINGS: dict[str, str] = {
    "dir": "required: the directory the PDFs, the manifest and the batch files go to",
    "page_size": "'a4' (default) or 'letter'",
    "font_file": "a TrueType font to embed for all text (default: Helvetica for English, "
    "an embedded WenQuanYi Micro Hei subset for Chinese)",
    "duplex": "'true' (default): batch files start each letter on a new sheet",
}
"""Every settings key the factory accepts, with its meaning."""


def letter_reference(idempotency_key: str) -> str:
    """The letter's reference, printed on it and kept as evidence: ``LTR-`` and twelve
    hex digits of the key's SHA-256, so a re-run produces the same reference."""
    return "LTR-" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:12].upper()


def letter_kind(action: PlannedAction) -> LetterKind:
    """Which letter an action asks for: by tone (legal warning: demand; final notice),
    or by template name (``legal_warning``, ``demand``, ``final_notice``)."""
    if action.tone is Tone.LEGAL_WARNING or action.template in ("legal_warning", "demand"):
        return LetterKind.DEMAND
    if action.tone is Tone.FINAL_NOTICE or action.template == "final_notice":
        return LetterKind.FINAL_NOTICE
    return LetterKind.REMINDER


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LetterChannel:
    """The :class:`~loancollect.ports.Channel` for printed letters.

    Each send renders a PDF (reminder, final notice or pre-litigation demand, by the
    action's tone) with the message text and, when the engine attached one, the
    statement of account; writes it as ``<reference>.pdf`` into ``directory``; and
    appends a line to ``manifest.jsonl``. The result's evidence holds the letter
    reference, its date, kind, file, page count and SHA-256: a delivered demand
    interrupts the limitation period, so this is what proves what was sent and when.

    A key already written, by this process or an earlier one, returns its first
    result without writing again.

    :param write: writes bytes to a path (atomically by default); a host may pass one
        that also hands the file to a print service.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        name: str = "letter",
        page_size: tuple[float, float] = A4,
        font_file: str | None = None,
        duplex: bool = True,
        write: Callable[[Path, bytes], None] = _atomic_write,
    ) -> None:
        self.directory = Path(directory)
        self._name = name
        self.page_size = page_size
        self.font_file = font_file
        self.duplex = duplex
        self.write = write
        self._results: dict[str, DeliveryResult] | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The channel name (``"letter"``)."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """Idempotent, subject, statement of account."""
        return CAPABILITIES

    @property
    def manifest(self) -> Path:
        """The manifest: one JSON line per letter written."""
        return self.directory / MANIFEST

    def _known(self) -> dict[str, DeliveryResult]:
        if self._results is None:
            self._results = {}
            if self.manifest.exists():
                for line in self.manifest.read_text("utf-8").splitlines():
                    if line.strip():
                        entry = json.loads(line)
                        self._results[entry["key"]] = _result(entry)
        return self._results

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Write the letter for ``action`` to its postal address."""
        with self._lock:
            known = self._known()
            previous = known.get(idempotency_key)
            if previous is not None and previous.status.is_final:
                return previous
            result = self._write(action, message, idempotency_key)
            if result.status.is_final or idempotency_key not in known:
                known[idempotency_key] = result
            return result

    def _write(self, action: PlannedAction, message: RenderedMessage, key: str) -> DeliveryResult:
        contact = action.contact
        if contact is None or contact.kind is not ContactKind.ADDRESS:
            return DeliveryResult.failed_permanent("the action has no postal address")
        reference = letter_reference(key)
        statement = message.statement
        day = statement.as_of if statement is not None else action.as_of
        kind = letter_kind(action)
        spec = LetterSpec(
            kind=kind,
            locale=message.locale,
            reference=reference,
            date=day,
            recipient_address=contact.value,
            subject=message.subject,
            text=message.text,
            statement=statement,
            lender_name=statement.lender_name if statement is not None else "",
            recipient_name=statement.borrower_name if statement is not None else "",
        )
        try:
            pdf, pages = render_pdf(spec, page_size=self.page_size, font_file=self.font_file)
        except ValidationError as exc:  # a statement whose amounts cannot be summed
            return DeliveryResult.failed_permanent(f"the letter cannot be laid out: {exc}")
        path = self.directory / f"{reference}.pdf"
        entry: dict[str, Any] = {
            "key": key,
            "loan_id": action.loan_id,
            "reference": reference,
            "date": day.isoformat(),
            "kind": kind.value,
            "locale": message.locale,
            "file": path.name,
            "pages": pages,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "statement": statement is not None,
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.write(path, pdf)
            with self.manifest.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        except OSError as exc:
            return DeliveryResult.failed_retryable(
                f"cannot write the letter: {type(exc).__name__}: {exc.strerror or exc}"
            )
        _LOG.info("letter %s (%s, %d pages) written for %s", reference, kind.value, pages, key)
        return _result(entry)

    def print_batch(self, on: dt.date) -> Path | None:
        """Build the batch print file of the letters dated ``on`` (see
        :func:`~loancollect_letters.batch.build_print_batch`)."""
        with self._lock:
            return build_print_batch(self.directory, on, duplex=self.duplex)

    def __repr__(self) -> str:
        return f"LetterChannel(name={self._name!r}, directory={str(self.directory)!r})"


def _result(entry: Mapping[str, Any]) -> DeliveryResult:
    evidence = [
        ("letter_reference", entry["reference"]),
        ("letter_date", entry["date"]),
        ("letter_kind", entry["kind"]),
        ("file", entry["file"]),
        ("pages", str(entry["pages"])),
        ("sha256", entry["sha256"]),
    ]
    if entry["kind"] == LetterKind.DEMAND.value:
        evidence.append(("interrupts_limitation", "on delivery"))
    return DeliveryResult(
        status=DeliveryStatus.SENT, provider_id=entry["reference"], evidence=evidence
    )


def from_settings(settings: Mapping[str, str]) -> LetterChannel:
    """Build the channel from its string settings (every key: :data:`SETTINGS`).

    :raises ConfigurationError: naming the key, for an unknown key, a missing ``dir``
        or a value of the wrong form.
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ConfigurationError(
            f"letter setting {unknown[0]!r} is not known; known settings: {', '.join(SETTINGS)}"
        )
    directory = settings.get("dir")
    if not directory:
        raise ConfigurationError("letter setting 'dir' is required (where the PDFs go)")
    size = settings.get("page_size", "a4").lower()
    if size not in PAGE_SIZES:
        raise ConfigurationError(
            f"letter setting 'page_size': {size!r} is not one of {', '.join(PAGE_SIZES)}"
        )
    duplex_raw = settings.get("duplex", "true").lower()
    if duplex_raw not in ("true", "false"):
        raise ConfigurationError(f"letter setting 'duplex': {duplex_raw!r} is not true/false")
    font_file = settings.get("font_file")
    if font_file is not None and not Path(font_file).is_file():
        raise ConfigurationError(f"letter setting 'font_file': no such file {font_file!r}")
    return LetterChannel(
        directory,
        page_size=PAGE_SIZES[size],
        font_file=font_file,
        duplex=duplex_raw == "true",
    )
