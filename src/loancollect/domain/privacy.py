"""Masking of personal data for reprs, logs and error messages.

Collection records are full of phone numbers, e-mail addresses and national ID
numbers. Nothing in loancollect prints them in full: every ``repr``, log line and
exception goes through one of these functions first.
"""

from __future__ import annotations

__all__ = ["mask_email", "mask_id_number", "mask_name", "mask_phone", "mask_text"]


def mask_phone(value: str) -> str:
    """Keep the first three and last two digits of a phone number.

    >>> mask_phone("+86 138 0013 8000")
    '+86*********00'
    """
    digits = [c for c in value if c.isdigit() or c == "+"]
    if len(digits) <= 5:
        return "*" * len(digits)
    return "".join(digits[:3]) + "*" * (len(digits) - 5) + "".join(digits[-2:])


def mask_email(value: str) -> str:
    """Keep the first character of the local part and the domain.

    >>> mask_email("zhang.wei@example.com")
    'z***@example.com'
    """
    local, sep, domain = value.partition("@")
    if not sep:
        return mask_text(value)
    return (local[:1] or "") + "***@" + domain


def mask_id_number(value: str) -> str:
    """Keep the last four characters of an identity or account number.

    >>> mask_id_number("110101199003071234")
    '**************1234'
    """
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_name(value: str) -> str:
    """Keep the first character of a personal name.

    >>> mask_name("张伟")
    '张*'
    """
    if not value:
        return value
    return value[:1] + "*" * max(1, len(value) - 1)


def mask_text(value: str) -> str:
    """Mask free text of unknown kind (addresses, notes): keep its first two characters."""
    if len(value) <= 2:
        return "*" * len(value)
    return value[:2] + "*" * min(len(value) - 2, 8)
