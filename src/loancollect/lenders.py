"""Lender profiles: who a message comes from and how to pay, per tenant, product and language.

A real message is signed by the lender, gives a number to call and says how to pay,
in the borrower's language (Chinese messages with Chinese payment instructions). The
profiles live in a TOML file, one ``[[lender]]`` table each::

    [[lender]]                      # the default: no tenant, product or locale
    name = "Example Lending Ltd"
    phone = "0800 123 4567"
    address = "1 High Street, Leeds LS1 1AA"
    licence = "Authorised and regulated by the FCA (FRN 123456)"
    how_to_pay = "Pay online at example.co.uk/pay quoting your loan number."

    [[lender]]
    locale = "zh"                   # every Chinese locale (or "zh_CN": that one only)
    name = "示例消费金融有限公司"
    phone = "400-800-1234"
    how_to_pay = "请通过示例金融App还款，或转账至账户6222 0000 1234 5678并注明借款编号。"

    [[lender]]
    product = "auto"                # the auto loans, in any language
    tenant = "acme"                 # of tenant acme only
    name = "Acme Auto Finance"
    phone = "0800 765 4321"
    how_to_pay = "Pay at acme.example/pay."

For each message the most specific profile that matches wins: a product match counts
more than a locale match, an exact locale more than its language; among equals, the
first in the file. One profile without ``product`` and ``locale`` is required (the
default), so every message has a signer.
"""

from __future__ import annotations

import tomllib
from typing import Any

import attrs

from loancollect.domain.errors import ConfigurationError
from loancollect.templates import LenderInfo

__all__ = ["LenderBook", "LenderProfile", "loads_lenders"]

_FIELDS = ("name", "phone", "how_to_pay", "address", "licence")
_REQUIRED = ("name", "phone", "how_to_pay")
_SELECTORS = ("tenant", "product", "locale")


@attrs.frozen(kw_only=True)
class LenderProfile:
    """A lender's details and the messages they sign.

    :param lender: the details printed in the messages.
    :param tenant: the tenant it belongs to (``None``: every tenant).
    :param product: the loan product it signs for (``None``: every product).
    :param locale: a locale (``zh_CN``) or a language (``zh``) (``None``: every one).
    """

    lender: LenderInfo
    tenant: str | None = None
    product: str | None = None
    locale: str | None = None

    def score(self, product: str, locale: str) -> int | None:
        """How specifically this profile matches (higher wins); ``None`` if it does not."""
        points = 0
        if self.product is not None:
            if self.product != product:
                return None
            points += 4
        if self.locale is not None:
            if self.locale == locale:
                points += 2
            elif "_" not in self.locale and locale.split("_", 1)[0] == self.locale:
                points += 1
            else:
                return None
        return points


@attrs.frozen
class LenderBook:
    """The profiles of one tenant; :meth:`for_message` picks one per message.

    :raises ConfigurationError: without a default profile (no product, no locale).
    """

    profiles: tuple[LenderProfile, ...]

    def __attrs_post_init__(self) -> None:
        if not any(p.product is None and p.locale is None for p in self.profiles):
            raise ConfigurationError(
                "lender profiles: one [[lender]] without product and locale is needed "
                "(the default, which signs every message no other profile matches)"
            )

    def for_message(self, product: str, locale: str) -> LenderInfo:
        """The details for a message about a loan of ``product`` in ``locale``."""
        best: tuple[int, int] | None = None
        chosen: LenderInfo | None = None
        for n, profile in enumerate(self.profiles):
            points = profile.score(product, locale)
            if points is not None and (best is None or (points, -n) > best):
                best, chosen = (points, -n), profile.lender
        assert chosen is not None  # the default always matches
        return chosen

    def for_tenant(self, tenant: str) -> LenderBook:
        """The profiles of ``tenant`` and those of every tenant."""
        return LenderBook(tuple(p for p in self.profiles if p.tenant in (None, tenant)))


def loads_lenders(text: str, source: str = "lenders.toml") -> LenderBook:
    """Lender profiles from TOML text (see the module's documentation).

    :raises ConfigurationError: naming the file, the profile and the field.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: {exc}") from None
    unknown = sorted(set(data) - {"lender"})
    if unknown:
        raise ConfigurationError(f"{source}: unknown table(s) {unknown} (allowed: [[lender]])")
    tables = data.get("lender")
    if not isinstance(tables, list) or not tables:
        raise ConfigurationError(f"{source}: no [[lender]] profile")
    return LenderBook(tuple(_profile(t, f"{source}: lender[{n}]") for n, t in enumerate(tables)))


def _profile(table: Any, where: str) -> LenderProfile:
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: must be a table")
    unknown = sorted(set(table) - set(_FIELDS) - set(_SELECTORS))
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key(s) {unknown} (allowed: {', '.join(_FIELDS + _SELECTORS)})"
        )
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigurationError(f"{where}.{key}: expected text, got {value!r}")
    for key in _REQUIRED:
        if not table.get(key, "").strip():
            raise ConfigurationError(f"{where}.{key}: required (and not empty)")
    details = {k: table[k].strip() for k in _FIELDS if k in table}
    return LenderProfile(
        lender=LenderInfo(**details),
        tenant=_selector(table, "tenant"),
        product=_selector(table, "product"),
        locale=_selector(table, "locale"),
    )


def _selector(table: dict[str, str], key: str) -> str | None:
    value = table.get(key)
    return value.strip() if value is not None and value.strip() else None
