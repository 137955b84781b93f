"""loancollect-letters: the ``letter`` channel (PDF letters, Chinese and English)."""

from loancollect_letters.batch import build_print_batch, letters_on
from loancollect_letters.channel import (
    CAPABILITIES,
    SETTINGS,
    LetterChannel,
    from_settings,
    letter_kind,
    letter_reference,
)
from loancollect_letters.layout import LetterKind, LetterSpec, render_pdf

__version__ = "0.1.0"

__all__ = [
    "CAPABILITIES",
    "SETTINGS",
    "LetterChannel",
    "LetterKind",
    "LetterSpec",
    "build_print_batch",
    "from_settings",
    "letter_kind",
    "letter_reference",
    "letters_on",
    "render_pdf",
]
