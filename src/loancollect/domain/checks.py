"""Checks shared by the domain's constructors: text, dates, instants and enums.

Every check raises :class:`~loancollect.domain.errors.ValidationError` naming the
field and the value (masked by the caller where it is personal), so that bad
input never reaches storage as a half-written record or a raw ``TypeError``.

- **Text** must be a ``str`` that storage can hold: no NUL character (PostgreSQL
  refuses it) and no lone surrogate (not encodable as UTF-8).
- **Dates** must be ``datetime.date`` objects (not datetimes, not ISO strings)
  from :data:`MIN_DATE` to :data:`MAX_DATE`, so that every schedule and every
  date computed from one stays within what Python and the databases represent.
- **Instants** must be time-zone aware and fall within the same years.
- **Enums** are members (``Frequency.MONTHLY``), as the types say; a member's
  value (``"monthly"``) is refused with the member to pass instead. The edges that
  read text (importer, CLI) turn exact values into members with :func:`parse_enum`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any, TypeVar

from loancollect.domain.errors import ValidationError

__all__ = [
    "MAX_DATE",
    "MIN_DATE",
    "check_bool",
    "check_date",
    "check_instant",
    "check_text",
    "enum_validator",
    "optional_enum_validator",
    "parse_enum",
    "require_enum",
]

MIN_DATE = dt.date(1900, 1, 1)
"""The earliest date any record may carry."""

MAX_DATE = dt.date(2999, 12, 31)
"""The latest date any record may carry: a 100-year schedule from it still ends long
before year 9999, where ``datetime`` stops."""

E = TypeVar("E", bound=enum.Enum)


def check_text(
    field: str,
    value: object,
    *,
    required: bool = False,
    mask: Callable[[str], str] | None = None,
) -> None:
    """Raise unless ``value`` is text storage can hold (non-empty if ``required``).

    :param mask: applied to the value before it goes into the message (personal data).
    """
    if not isinstance(value, str):
        shown = value if mask is None or value is None else "***"
        reason = "must be a non-empty string" if required else "expected a string"
        raise ValidationError(field, shown, f"{reason}, got {type(value).__name__}")
    if required and not value.strip():
        raise ValidationError(field, value, "must be a non-empty string")
    if "\x00" in value:
        shown_text = mask(value.replace("\x00", "")) if mask is not None else value
        raise ValidationError(
            field, shown_text, "contains a NUL character (\\x00), which storage cannot hold"
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown_text = (
                mask(value)
                if mask is not None
                else value.encode("utf-8", "replace").decode("utf-8")
            )
            raise ValidationError(
                field, shown_text, "contains a lone surrogate: not valid Unicode text"
            ) from None


def check_date(field: str, value: object) -> None:
    """Raise unless ``value`` is a ``datetime.date`` (not a datetime) within the range."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        hint = ""
        if isinstance(value, str):
            hint = "; convert ISO text first (datetime.date.fromisoformat)"
        elif isinstance(value, dt.datetime):
            hint = "; take its .date() in the right time zone"
        raise ValidationError(field, value, f"expected a date (not a datetime){hint}")
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValidationError(
            field,
            value.isoformat(),
            f"out of range: dates run from {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}",
        )


def check_instant(field: str, value: object) -> None:
    """Raise unless ``value`` is a time-zone-aware datetime within the date range."""
    if not isinstance(value, dt.datetime):
        hint = "; parse ISO text first (pendulum.parse)" if isinstance(value, str) else ""
        raise ValidationError(field, value, f"expected a datetime{hint}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            field,
            value,
            "naive datetime; pass a time-zone-aware one (e.g. pendulum.datetime(..., tz=...))",
        )
    if not MIN_DATE <= value.date() <= MAX_DATE:
        raise ValidationError(
            field,
            value.isoformat(),
            f"out of range: instants run from {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}",
        )


def check_bool(field: str, value: object) -> None:
    """Raise unless ``value`` is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValidationError(field, value, "expected True or False")


def require_enum(enum_type: type[E], value: object, field: str) -> E:
    """``value`` itself, if it is a member of ``enum_type``.

    The domain's constructors take members only (``Frequency.MONTHLY``), as their
    types say; a member's value (``"monthly"``) is refused with the member to use.
    Edges that read text (the importer, the CLI) convert with :func:`parse_enum`.

    :raises ValidationError: naming ``field`` and the accepted members otherwise.
    """
    if isinstance(value, enum_type):
        return value
    for member in enum_type:
        if (
            not isinstance(value, enum.Enum)
            and type(member.value) is type(value)
            and member.value == value
        ):
            raise ValidationError(
                field,
                value,
                f"expected a {enum_type.__name__}, not its value: pass "
                f"{enum_type.__name__}.{member.name}",
            )
    allowed = ", ".join(f"{enum_type.__name__}.{m.name}" for m in enum_type)
    raise ValidationError(field, value, f"expected a {enum_type.__name__} ({allowed})")


def parse_enum(enum_type: type[E], value: object, field: str) -> E:
    """``value`` as a member of ``enum_type``: a member, or a member's exact value.

    For the edges that read text; the domain's constructors take members only.

    :raises ValidationError: naming ``field`` and the accepted values otherwise.
    """
    if isinstance(value, enum_type):
        return value
    if not isinstance(value, enum.Enum):
        for member in enum_type:
            if type(member.value) is type(value) and member.value == value:
                return member
    allowed = ", ".join(repr(m.value) for m in enum_type)
    raise ValidationError(field, value, f"expected one of {allowed}")


def enum_validator(enum_type: type[E], field: str) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that applies :func:`require_enum`."""

    def check(_: Any, __: Any, value: Any) -> None:
        require_enum(enum_type, value, field)

    return check


def optional_enum_validator(enum_type: type[E], field: str) -> Callable[[Any, Any, Any], None]:
    """As :func:`enum_validator`, letting ``None`` through."""

    def check(_: Any, __: Any, value: Any) -> None:
        if value is not None:
            require_enum(enum_type, value, field)

    return check
