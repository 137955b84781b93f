"""The limitation rules of the PRC, England and Wales, Northern Ireland and US states.

Every rule carries its citation and a confidence tag (:class:`Confidence`). The US
table covers fifteen states for three kinds of consumer debt; all of it is from prior
knowledge of the statutes, not re-verified against the codes (``[K]``), and rows where
sources conflict or the debt's classification varies (credit cards as written
contracts or open accounts) are ``[?]``. Revival after expiry is listed only where the
statute is believed to allow it; where it is uncertain, the debt is NOT revived (the
conservative choice for the "no suit, no threat of suit" rules).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from loancollect.domain.calendar import BusinessCalendar, business_calendar
from loancollect.domain.legal.limitation import (
    Citation,
    Confidence,
    LimitationEventKind,
    Regime,
)

__all__ = [
    "ENGLAND_WALES",
    "NORTHERN_IRELAND",
    "PRC",
    "US_STATES",
    "DebtType",
    "UsStatute",
    "court_calendar",
    "regime_for",
]

K = Confidence.KNOWN
U = Confidence.UNCERTAIN
S = Confidence.SECONDARY

_D = LimitationEventKind.DEMAND_DELIVERED
_A = LimitationEventKind.ACKNOWLEDGMENT
_P = LimitationEventKind.PART_PAYMENT
_F = LimitationEventKind.FILING


class DebtType(enum.Enum):
    """The kind of debt, as limitation statutes classify it."""

    WRITTEN_CONTRACT = "written_contract"  # a written loan agreement
    OPEN_ACCOUNT = "open_account"  # a revolving account (credit card), book account
    PROMISSORY_NOTE = "promissory_note"


PRC = Regime(
    name="CN",
    years=3,
    period=Citation(source="PRC Civil Code art. 188 (three years)", confidence=K),
    accrual=Citation(
        source="PRC Civil Code art. 189 (instalment debt: from the last instalment's due date)",
        confidence=K,
    ),
    restarts=(
        (_D, Citation(source="PRC Civil Code art. 195(1) (demand for performance)", confidence=K)),
        (
            _A,
            Citation(source="PRC Civil Code art. 195(2) (obligor agrees to perform)", confidence=K),
        ),
        (_P, Citation(source="PRC Civil Code art. 195(2) (part performance)", confidence=K)),
        (
            _F,
            Citation(source="PRC Civil Code art. 195(3) (suit or arbitration filed)", confidence=K),
        ),
    ),
    # A demand by letter or data message counts when it reaches (or should reach) the
    # debtor: SPC Provisions on Limitation of Actions (2020) art. 8(2).
    data_messages=True,
    revives=(
        (
            _A,
            Citation(
                source="PRC Civil Code art. 192 para. 2; SPC Limitation Provisions art. 19 "
                "(agreeing to perform after expiry waives the defence)",
                confidence=K,
            ),
        ),
    ),
    suspension_window_months=6,
    suspension=Citation(
        source="PRC Civil Code art. 194 (suspension in the last six months; six months after "
        "the cause ends)",
        confidence=K,
    ),
    roll_last_day=True,
    roll=Citation(
        source="PRC Civil Code art. 203 (last day a statutory holiday: the day after)",
        confidence=K,
    ),
    counting=Citation(
        source="PRC Civil Code arts. 200-204 (start day not counted; corresponding day; "
        "holiday last day)",
        confidence=K,
    ),
    note="A part payment after expiry is not treated as a waiver of the whole debt "
    "(SPC art. 19 speaks of voluntary performance; its reach is contested) [?].",
)

ENGLAND_WALES = Regime(
    name="GB-ENG",
    years=6,
    period=Citation(source="Limitation Act 1980 s. 5 (simple contract: six years)", confidence=K),
    accrual=Citation(
        source="Limitation Act 1980 s. 5 (from accrual: each instalment, or the whole "
        "balance on termination)",
        confidence=K,
    ),
    restarts=(
        (
            _A,
            Citation(
                source="Limitation Act 1980 s. 29(5)(a), s. 30 (acknowledgment in writing, signed)",
                confidence=K,
            ),
        ),
        (_P, Citation(source="Limitation Act 1980 s. 29(5)(b) (part payment)", confidence=K)),
        (_F, Citation(source="Limitation Act 1980 s. 5 (claim issued in time)", confidence=K)),
    ),
    written_only=frozenset({_A}),
    data_messages=False,
    revives=(),  # s. 29(7): a period once expired is not revived
    roll_last_day=True,
    roll=Citation(
        source="Pritam Kaur v S Russell & Sons [1973] QB 336 (court office closed on the last day)",
        confidence=K,
    ),
    counting=Citation(
        source="Marren v Dawson Bentley [1961] (day of accrual excluded); Dodds v Walker "
        "[1981] (corresponding date)",
        confidence=K,
    ),
    note="A demand for payment does not restart the period. Limitation Act 1980 s. 29(7): "
    "no revival after expiry. CONC 7.15 governs collecting statute-barred debt.",
)

NORTHERN_IRELAND = attrs.evolve(
    ENGLAND_WALES,
    name="GB-NIR",
    period=Citation(
        source="Limitation (Northern Ireland) Order 1989 art. 4 (six years)", confidence=K
    ),
    restarts=(
        (_A, Citation(source="Limitation (NI) Order 1989 arts. 54-55", confidence=K)),
        (_P, Citation(source="Limitation (NI) Order 1989 art. 54", confidence=K)),
        (_F, Citation(source="Limitation (NI) Order 1989 art. 4", confidence=K)),
    ),
)


@attrs.frozen(kw_only=True)
class UsStatute:
    """One row of the US table: a state's period for a kind of consumer debt.

    :param acknowledgment_revives: a signed written acknowledgment restarts the period
        or revives an expired debt.
    :param payment_revives: a part payment does.
    :param extinguishes: expiry ends the debt itself (not only the remedy).
    """

    state: str
    debt_type: DebtType
    years: int
    source: str
    confidence: Confidence
    acknowledgment_revives: bool
    payment_revives: bool
    revival_source: str
    revival_confidence: Confidence
    extinguishes: bool = False
    note: str = ""


def _rows(
    state: str,
    written: tuple[int, str],
    account: tuple[int, str],
    note_: tuple[int, str],
    *,
    ack: bool,
    pay: bool,
    revival: str,
    revival_confidence: Confidence = K,
    account_confidence: Confidence = U,
    extinguishes: bool = False,
    note: str = "",
) -> tuple[UsStatute, ...]:
    out = []
    for debt_type, (years, source), confidence in (
        (DebtType.WRITTEN_CONTRACT, written, K),
        (DebtType.OPEN_ACCOUNT, account, account_confidence),
        (DebtType.PROMISSORY_NOTE, note_, K),
    ):
        out.append(
            UsStatute(
                state=state,
                debt_type=debt_type,
                years=years,
                source=source,
                confidence=confidence,
                acknowledgment_revives=ack,
                payment_revives=pay,
                revival_source=revival,
                revival_confidence=revival_confidence,
                extinguishes=extinguishes,
                note=note,
            )
        )
    return tuple(out)


US_STATES: tuple[UsStatute, ...] = (
    *_rows(
        "CA",
        (4, "Cal. Code Civ. Proc. § 337(a)"),
        (4, "Cal. Code Civ. Proc. § 337(b) (book account)"),
        (4, "Cal. Code Civ. Proc. § 337(a)"),
        ack=True,
        pay=False,
        revival="Cal. Code Civ. Proc. § 360 (signed written acknowledgment)",
        note="Cal. Civ. Code § 1788.14(d): no suit on time-barred debt; disclosure required.",
    ),
    *_rows(
        "NY",
        (3, "N.Y. CPLR § 214-i (consumer credit transaction)"),
        (3, "N.Y. CPLR § 214-i (consumer credit transaction)"),
        (3, "N.Y. CPLR § 214-i (consumer credit transaction)"),
        ack=False,
        pay=False,
        revival="N.Y. CPLR § 214-i; Gen. Oblig. Law § 17-101 (no revival of consumer credit debt)",
        account_confidence=K,
        note="Consumer Credit Fairness Act (2022); non-consumer contracts: CPLR § 213(2), 6 years.",
    ),
    *_rows(
        "TX",
        (4, "Tex. Civ. Prac. & Rem. Code § 16.004(a)(3)"),
        (4, "Tex. Civ. Prac. & Rem. Code § 16.004(c)"),
        (4, "Tex. Civ. Prac. & Rem. Code § 16.004(a)(3)"),
        ack=True,
        pay=False,
        revival="Tex. Civ. Prac. & Rem. Code § 16.065 (signed acknowledgment); Tex. Fin. Code "
        "§ 392.307 (a payment does not revive a time-barred consumer debt)",
        account_confidence=K,
    ),
    *_rows(
        "FL",
        (5, "Fla. Stat. § 95.11(2)(b)"),
        (4, "Fla. Stat. § 95.11(3)(k)"),
        (5, "Fla. Stat. § 95.11(2)(b)"),
        ack=True,
        pay=False,
        revival="Fla. Stat. § 95.04 (acknowledgment or promise in writing, signed)",
    ),
    *_rows(
        "IL",
        (10, "735 ILCS 5/13-206"),
        (5, "735 ILCS 5/13-205"),
        (10, "735 ILCS 5/13-206"),
        ack=True,
        pay=True,
        revival="735 ILCS 5/13-206 (part payment or written promise)",
        revival_confidence=U,
    ),
    *_rows(
        "PA",
        (4, "42 Pa. C.S. § 5525(a)"),
        (4, "42 Pa. C.S. § 5525(a)"),
        (4, "42 Pa. C.S. § 5525(a)"),
        ack=True,
        pay=False,
        revival="Pennsylvania common law (unequivocal written acknowledgment)",
        revival_confidence=U,
        account_confidence=K,
    ),
    *_rows(
        "OH",
        (6, "Ohio Rev. Code § 2305.06 (as amended 2021)"),
        (4, "Ohio Rev. Code § 2305.07"),
        (6, "Ohio Rev. Code § 2305.06"),
        ack=True,
        pay=False,
        revival="Ohio Rev. Code § 2305.08 (written acknowledgment)",
    ),
    *_rows(
        "GA",
        (6, "O.C.G.A. § 9-3-24"),
        (4, "O.C.G.A. § 9-3-25"),
        (6, "O.C.G.A. § 9-3-24"),
        ack=True,
        pay=False,
        revival="O.C.G.A. § 9-3-110 (written acknowledgment)",
    ),
    *_rows(
        "NC",
        (3, "N.C. Gen. Stat. § 1-52(1)"),
        (3, "N.C. Gen. Stat. § 1-52(1)"),
        (3, "N.C. Gen. Stat. § 1-52(1)"),
        ack=True,
        pay=False,
        revival="N.C. Gen. Stat. § 1-26 (acknowledgment in writing)",
        account_confidence=K,
        note="N.C. Gen. Stat. § 58-70-115: a debt buyer may not sue on time-barred debt.",
    ),
    *_rows(
        "MI",
        (6, "Mich. Comp. Laws § 600.5807(9)"),
        (6, "Mich. Comp. Laws § 600.5807(9)"),
        (6, "Mich. Comp. Laws § 600.5807(9)"),
        ack=True,
        pay=False,
        revival="Mich. Comp. Laws § 600.5866 (signed written acknowledgment)",
        account_confidence=K,
    ),
    *_rows(
        "NJ",
        (6, "N.J. Stat. § 2A:14-1"),
        (6, "N.J. Stat. § 2A:14-1"),
        (6, "N.J. Stat. § 2A:14-1"),
        ack=True,
        pay=False,
        revival="New Jersey common law (written acknowledgment)",
        revival_confidence=U,
        account_confidence=K,
    ),
    *_rows(
        "WA",
        (6, "Rev. Code Wash. § 4.16.040(1)"),
        (3, "Rev. Code Wash. § 4.16.080(3)"),
        (6, "Rev. Code Wash. § 4.16.040(1)"),
        ack=True,
        pay=False,
        revival="Rev. Code Wash. § 4.16.280 (written acknowledgment)",
    ),
    *_rows(
        "WI",
        (6, "Wis. Stat. § 893.43"),
        (6, "Wis. Stat. § 893.43"),
        (6, "Wis. Stat. § 893.43"),
        ack=False,
        pay=False,
        revival="Wis. Stat. § 893.05 (expiry extinguishes the right)",
        extinguishes=True,
        account_confidence=K,
    ),
    *_rows(
        "AZ",
        (6, "Ariz. Rev. Stat. § 12-548(A)(1)"),
        (6, "Ariz. Rev. Stat. § 12-548(A)(2) (credit card)"),
        (6, "Ariz. Rev. Stat. § 12-548(A)(1)"),
        ack=True,
        pay=False,
        revival="Ariz. Rev. Stat. § 12-508 (signed written acknowledgment)",
        note="Open accounts other than credit cards: § 12-543, 3 years.",
    ),
    *_rows(
        "MA",
        (6, "Mass. Gen. Laws ch. 260 § 2"),
        (6, "Mass. Gen. Laws ch. 260 § 2"),
        (6, "Mass. Gen. Laws ch. 260 § 2"),
        ack=True,
        pay=False,
        revival="Mass. Gen. Laws ch. 260 § 13 (written acknowledgment)",
        account_confidence=K,
        note="940 CMR 7.08: no suit on time-barred debt [?].",
    ),
)

_US: Mapping[tuple[str, DebtType], UsStatute] = MappingProxyType(
    {(row.state, row.debt_type): row for row in US_STATES}
)


def _us_regime(row: UsStatute) -> Regime:
    revival = Citation(source=row.revival_source, confidence=row.revival_confidence)
    restarts: list[tuple[LimitationEventKind, Citation]] = [
        (_F, Citation(source=row.source + " (suit filed in time)", confidence=row.confidence))
    ]
    revives: list[tuple[LimitationEventKind, Citation]] = []
    if row.acknowledgment_revives:
        restarts.append((_A, revival))
        revives.append((_A, revival))
    if row.payment_revives:
        restarts.append((_P, revival))
        revives.append((_P, revival))
    return Regime(
        name=f"US-{row.state}",
        years=row.years,
        period=Citation(source=row.source, confidence=row.confidence),
        accrual=Citation(source="accrual at default (state common law)", confidence=U),
        restarts=tuple(restarts),
        written_only=frozenset({_A}),
        revives=tuple(revives),
        extinguishes=row.extinguishes,
        note=row.note,
    )


def regime_for(jurisdiction: str, debt_type: DebtType = DebtType.WRITTEN_CONTRACT) -> Regime | None:
    """The limitation regime of a borrower's jurisdiction, or None when not covered.

    ``CN`` (and its provinces ``CN-xx``) → :data:`PRC`; ``GB``, ``GB-ENG``, ``GB-WLS``
    (and ``UK``) → :data:`ENGLAND_WALES` (Scotland's prescription is not covered);
    ``GB-NIR`` → :data:`NORTHERN_IRELAND`; ``US-xx`` → the state's row of
    :data:`US_STATES` for ``debt_type``.
    """
    code = jurisdiction.strip().upper()
    country, _, sub = code.partition("-")
    if country == "CN":
        return PRC
    if country in ("GB", "UK"):
        if sub in ("", "ENG", "WLS"):
            return ENGLAND_WALES
        if sub == "NIR":
            return NORTHERN_IRELAND
        return None
    if country == "US":
        row = _US.get((sub, debt_type))
        return None if row is None else _us_regime(row)
    return None


@functools.lru_cache(maxsize=64)
def court_calendar(jurisdiction: str) -> BusinessCalendar | None:
    """The court business calendar for a jurisdiction (``holidays`` package): China's
    statutory holidays with its make-up working days, England's bank holidays, a US
    state's legal holidays (the federal ones for ``US``); None where none is known."""
    code = jurisdiction.strip().upper()
    country, _, sub = code.partition("-")
    if country == "CN":
        return business_calendar("CN")
    if country in ("GB", "UK"):
        return business_calendar("GB", {"": "ENG", "WLS": "WLS", "ENG": "ENG"}.get(sub, sub))
    if country == "US":
        return business_calendar("US", sub or None)
    return None
