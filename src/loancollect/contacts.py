"""Contact details and countries from outside input, checked at the edge.

The domain keeps its own checks small (it may import only attrs, pendulum,
holidays and the standard library). Where contact points and jurisdictions come
from outside — the importer, the CLI, a host's own forms — they are checked here
with the reference libraries:

- e-mail addresses with ``email-validator`` (syntax only: no DNS look-up);
- phone numbers with ``phonenumbers`` (Google's libphonenumber), parsed in the
  borrower's country when they have no ``+`` prefix, stored in E.164;
- countries with ``pycountry``: ISO 3166-1 alpha-2 (``GB``, not ``UK``), or an
  ISO 3166-2 subdivision (``US-NY``, ``GB-ENG``).

:func:`phone_time_zones` gives the IANA time zones a phone number may ring in, so
that the contact rules can judge a call in every zone it may reach (a ``UTC``
borrower with a New York number must not be called at 07:00 in New York).

Every failure is a :class:`~loancollect.errors.ValidationError` naming the field;
personal values are masked in it.
"""

from __future__ import annotations

import functools

import email_validator
import phonenumbers
import pycountry
from phonenumbers import timezone as phone_timezone

from loancollect.domain.checks import check_text, parse_enum
from loancollect.domain.errors import ValidationError
from loancollect.domain.loans import ContactKind, ContactPoint
from loancollect.domain.privacy import mask_email, mask_phone, mask_text

__all__ = [
    "check_jurisdiction",
    "contact_point",
    "normalize_email",
    "normalize_phone",
    "number_time_zones",
    "phone_time_zones",
]

_UNKNOWN_ZONE = "Etc/Unknown"


def normalize_email(value: object, field: str = "email") -> str:
    """The e-mail address ``value``, checked and normalised (domain lower-cased).

    :raises ValidationError: naming ``field``, the address masked.
    """
    check_text(field, value, required=True, mask=mask_email)
    assert isinstance(value, str)
    try:
        checked = email_validator.validate_email(value.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError(
            field, mask_email(value), f"not a valid e-mail address: {exc}"
        ) from None
    return str(checked.normalized)


def _parse_phone(value: str, region: str | None, field: str) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        hint = (
            "; write it with its country code (+86 …)"
            if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
            else ""
        )
        raise ValidationError(
            field, mask_phone(value), f"not a phone number: {getattr(exc, '_msg', exc)}{hint}"
        ) from None


def _check_region(region: object) -> None:
    if region is not None and (
        not isinstance(region, str) or region not in phonenumbers.SUPPORTED_REGIONS
    ):
        raise ValidationError("region", region, "not a country code phonenumbers knows (CN, US…)")


def normalize_phone(value: object, *, region: str | None = None, field: str = "phone") -> str:
    """The phone number ``value`` in E.164 (``+8613800138000``), checked.

    :param region: ISO 3166-1 alpha-2 country in which a number without ``+`` is
        read (the borrower's country); ``None`` requires the ``+`` prefix.
    :raises ValidationError: naming ``field``, the number masked, if it cannot be
        parsed or is not a valid number in its country's numbering plan.
    """
    check_text(field, value, required=True, mask=mask_phone)
    assert isinstance(value, str)
    _check_region(region)
    number = _parse_phone(value, region, field)
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or "its country"
        raise ValidationError(
            field, mask_phone(value), f"not a valid phone number in {where}'s numbering plan"
        )
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_time_zones(number: str, region: str | None = None) -> tuple[str, ...]:
    """The IANA time zones a phone number may ring in (``phonenumbers.timezone``).

    ``("America/New_York",)`` for ``+1 212 …``; several for a number that is not
    tied to one place (``+1 800 …`` gives every North American zone). An empty
    tuple when the zone cannot be told (an unparseable or unknown number): the
    caller must then fall back to what else it knows, failing closed.

    Meant for the compliance bridge: a call is allowed only at an instant allowed
    in the borrower's zone *and* in each of these.

    :param region: country in which a number without ``+`` is read.
    """
    if not isinstance(number, str) or not (region is None or isinstance(region, str)):
        return ()
    return _zones(number.strip(), region)


@functools.lru_cache(maxsize=4096)
def _zones(number: str, region: str | None) -> tuple[str, ...]:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return ()
    return number_time_zones(parsed)


def number_time_zones(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    """:func:`phone_time_zones` of a number parsed already (a caller that parsed it
    for another question need not parse it again)."""
    zones = phone_timezone.time_zones_for_number(number)
    return tuple(sorted(z for z in zones if z != _UNKNOWN_ZONE))


@functools.cache
def _iso_3166() -> tuple[frozenset[str], frozenset[str]]:
    countries = frozenset(str(c.alpha_2) for c in pycountry.countries)
    subdivisions = frozenset(str(s.code) for s in pycountry.subdivisions)
    return countries, subdivisions


def check_jurisdiction(value: object, field: str = "jurisdiction") -> str:
    """``value`` if it is an ISO 3166-1 alpha-2 country or an ISO 3166-2 subdivision.

    ``"GB"``, ``"US-NY"`` and ``"GB-ENG"`` pass; ``"UK"`` (the country is ``GB``),
    ``"gb"`` and ``"US-XX"`` are refused.

    :raises ValidationError: naming ``field``.
    """
    check_text(field, value, required=True)
    assert isinstance(value, str)
    countries, subdivisions = _iso_3166()
    country, dash, _ = value.partition("-")
    if country not in countries:
        hint = " (the United Kingdom is GB)" if country.upper() == "UK" else ""
        raise ValidationError(field, value, f"not an ISO 3166-1 alpha-2 country code{hint}")
    if dash and value not in subdivisions:
        raise ValidationError(
            field, value, f"not an ISO 3166-2 subdivision of {country} (e.g. US-NY, GB-ENG)"
        )
    return value


def contact_point(
    kind: ContactKind | str,
    value: object,
    *,
    region: str | None = None,
    label: str = "",
    time_zone: str | None = None,
    verified: bool = False,
    field: str | None = None,
) -> ContactPoint:
    """A :class:`ContactPoint` from outside input, checked and normalised.

    Phone numbers are checked with ``phonenumbers`` and stored in E.164 (read in
    ``region`` when they have no ``+``); e-mail addresses with ``email-validator``;
    addresses need only be non-empty text.

    :param kind: a :class:`ContactKind` or its value (``"phone"``, ``"email"``,
        ``"address"``).
    :param field: the name to report in errors (default: the kind's value).
    :raises ValidationError: naming the field, the value masked.
    """
    contact_kind = parse_enum(ContactKind, kind, field or "contact_point.kind")
    name = field or contact_kind.value
    if contact_kind is ContactKind.PHONE:
        text = normalize_phone(value, region=region, field=name)
    elif contact_kind is ContactKind.EMAIL:
        text = normalize_email(value, field=name)
    else:
        check_text(name, value, required=True, mask=mask_text)
        assert isinstance(value, str)
        text = value.strip()
    return ContactPoint(contact_kind, text, label, time_zone, verified)
