"""The batch print file: the day's letters in one PDF, for the print room or a
hybrid-mail service."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pypdf import PdfReader, PdfWriter

__all__ = ["MANIFEST", "build_print_batch", "letters_on"]

MANIFEST = "manifest.jsonl"
"""The manifest file in the letters directory (one JSON object per letter)."""


def letters_on(directory: str | Path, on: dt.date) -> list[dict[str, object]]:
    """The manifest entries of the letters dated ``on``, ordered by reference."""
    manifest = Path(directory) / MANIFEST
    if not manifest.exists():
        return []
    entries = [
        json.loads(line) for line in manifest.read_text("utf-8").splitlines() if line.strip()
    ]
    chosen = {str(e["reference"]): e for e in entries if e["date"] == on.isoformat()}
    return [chosen[ref] for ref in sorted(chosen)]


def build_print_batch(directory: str | Path, on: dt.date, *, duplex: bool = True) -> Path | None:
    """Concatenate the letters dated ``on`` into ``batch-<date>.pdf`` (``None`` if there
    are none). With ``duplex`` a blank page follows each letter with an odd page count,
    so every letter starts on a new sheet. Rebuilding replaces the file."""
    folder = Path(directory)
    entries = letters_on(folder, on)
    if not entries:
        return None
    writer = PdfWriter()
    for entry in entries:
        reader = PdfReader(folder / str(entry["file"]))
        for page in reader.pages:
            writer.add_page(page)
        if duplex and len(reader.pages) % 2:
            box = reader.pages[-1].mediabox
            writer.add_blank_page(width=float(box.width), height=float(box.height))
    target = folder / f"batch-{on.isoformat()}.pdf"
    tmp = target.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        writer.write(fh)
    tmp.replace(target)
    return target
