"""SMS segment counting: GSM-7 (160 / 153 characters) or UCS-2 (70 / 67)."""

from __future__ import annotations

import math

import attrs

__all__ = ["GSM7_BASIC", "GSM7_EXTENDED", "Segments", "count_segments"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet (one septet each)."""

GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
"""Characters of the GSM 03.38 extension table (an escape plus one septet: two each)."""


@attrs.frozen
class Segments:
    """How a text travels: ``encoding`` (``"gsm7"`` or ``"ucs2"``), ``units`` (septets
    or UTF-16 code units) and the number of ``segments`` (concatenated SMS parts)."""

    encoding: str
    units: int
    segments: int


def _gsm_segments(text: str) -> int:
    units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
    if units <= 160:
        return 1
    # 153 septets per part; an escape sequence is never split across two parts
    parts, used = 1, 0
    for c in text:
        width = 2 if c in GSM7_EXTENDED else 1
        if used + width > 153:
            parts, used = parts + 1, 0
        used += width
    return parts


def count_segments(text: str) -> Segments:
    """The encoding and segment count of ``text``.

    GSM-7 when every character is in the GSM alphabet (extension characters count
    twice): one SMS up to 160 septets, else parts of 153. Otherwise UCS-2 (Chinese
    text): one SMS up to 70 UTF-16 units, else parts of 67 (a character outside the
    BMP, such as an emoji, takes two units).
    """
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return Segments("gsm7", units, _gsm_segments(text) if text else 1)
    units = len(text.encode("utf-16-le")) // 2
    return Segments("ucs2", units, 1 if units <= 70 else math.ceil(units / 67))
