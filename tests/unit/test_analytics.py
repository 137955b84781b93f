"""The collection KPIs over hand-built snapshots and events (docs/kpis.md).

Every expected value is worked out by hand in the test: a rate is the exact
quotient rounded (half-even) to four decimal places, ``None`` when the
denominator is zero.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

import pytest

from loancollect.domain import analytics as kpi
from loancollect.domain.errors import CurrencyMismatchError
from loancollect.domain.events import (
    ActionFailed,
    ActionPlanned,
    ActionSent,
    ContactOutcomeRecorded,
    Event,
    Payload,
    PaymentReceived,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
    new_event,
)
from loancollect.domain.money import Money
from loancollect.domain.overdue import DEFAULT_BUCKETS, RiskClass


def d(iso: str) -> dt.date:
    """A date from an ISO string."""
    return dt.date.fromisoformat(iso)


def snap(
    loan_id: str,
    period: str,
    *,
    dpd: int = 0,
    balance: str = "1000",
    overdue: str = "0",
    risk: RiskClass = RiskClass.NORMAL,
    disbursed: str = "2025-01-10",
    variant: str | None = None,
    currency: str = "CNY",
) -> kpi.Snapshot:
    """A snapshot whose bucket follows the default aging buckets."""
    return kpi.Snapshot(
        loan_id=loan_id,
        period=d(period),
        dpd=dpd,
        bucket=DEFAULT_BUCKETS.bucket(dpd),
        balance=Money(balance, currency),
        overdue=Money(overdue, currency),
        risk_class=risk,
        stage="current" if dpd == 0 else "early_collection",
        disbursed=d(disbursed),
        variant=variant,
    )


class Stream:
    """Events numbered per loan in the order they are built (as storage would), and the
    touches among them."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.touches: list[kpi.Touch] = []
        self._seq: dict[str, int] = defaultdict(int)

    def add(self, payload: Payload, loan_id: str, on: str) -> Stream:
        """Append one event of ``payload`` for ``loan_id`` on the day ``on``."""
        event = new_event(payload, loan_id=loan_id, on=d(on))
        self.events.append(_numbered(event, self._seq[loan_id]))
        self._seq[loan_id] += 1
        return self

    def sent(self, loan_id: str, on: str, channel: str, due: str = "0") -> Stream:
        """An action sent through ``channel`` while ``due`` was due (a touch)."""
        self.add(
            ActionSent(key=f"{loan_id}-{on}", channel=channel, rule="r", attempts=1), loan_id, on
        )
        touch = kpi.Touch.of(self.events[-1], amount_due=Decimal(due))
        assert touch is not None
        self.touches.append(touch)
        return self

    def paid(self, loan_id: str, on: str, amount: str, currency: str = "CNY") -> Stream:
        """A payment received."""
        payment = PaymentReceived(payment=f"P-{on}", amount=Decimal(amount), currency=currency)
        return self.add(payment, loan_id, on)

    def promise(self, loan_id: str, on: str, kept: bool | None) -> Stream:
        """A promise made (``kept=None``), kept or broken."""
        if kept is None:
            return self.add(PromiseMade(arrangement="PTP"), loan_id, on)
        resolution = PromiseKept if kept else PromiseBroken
        status = "kept" if kept else "broken"
        done = resolution(arrangement="PTP", type="promise", status=status, resolved_on=d(on))
        return self.add(done, loan_id, on)


def _numbered(event: Event, seq: int) -> Event:
    import attrs

    return attrs.evolve(event, seq=seq)


# -- roll matrix, roll rates, flow rates, cure and entry -------------------------------
# Start (Jan 31) and end (Feb 28) of one month. F leaves the book, G joins it, H is paid off.
BEFORE = (
    snap("A", "2025-01-31", dpd=0, balance="1000"),
    snap("B", "2025-01-31", dpd=0, balance="2000"),
    snap("C", "2025-01-31", dpd=10, balance="500"),
    snap("D", "2025-01-31", dpd=20, balance="300"),
    snap("E", "2025-01-31", dpd=45, balance="400"),
    snap("F", "2025-01-31", dpd=0, balance="700"),
    snap("H", "2025-01-31", dpd=0, balance="0"),
)
AFTER = (
    snap("A", "2025-02-28", dpd=0, balance="900"),
    snap("B", "2025-02-28", dpd=5, balance="1950"),
    snap("C", "2025-02-28", dpd=38, balance="480"),
    snap("D", "2025-02-28", dpd=0, balance="280"),
    snap("E", "2025-02-28", dpd=73, balance="400"),
    snap("G", "2025-02-28", dpd=3, balance="100"),
    snap("H", "2025-02-28", dpd=0, balance="0"),
)


def test_roll_matrix_counts_loans_in_both_periods_by_start_and_end_bucket() -> None:
    matrix = kpi.roll_matrix(BEFORE, AFTER)
    assert matrix.buckets == DEFAULT_BUCKETS.labels
    # A M0→M0, H M0→M0, B M0→M1, C M1→M2, D M1→M0, E M2→M3; F and G are in one period only.
    assert matrix.counts == {
        ("M0", "M0"): 2,
        ("M0", "M1"): 1,
        ("M1", "M2"): 1,
        ("M1", "M0"): 1,
        ("M2", "M3"): 1,
    }


def test_roll_matrix_balances_are_taken_at_the_start() -> None:
    matrix = kpi.roll_matrix(BEFORE, AFTER)
    assert matrix.balances == {
        ("M0", "M0"): Decimal("1000"),  # A 1000 + H 0
        ("M0", "M1"): Decimal("2000"),  # B at the start, not its 1950 at the end
        ("M1", "M2"): Decimal("500"),
        ("M1", "M0"): Decimal("300"),
        ("M2", "M3"): Decimal("400"),
    }


@pytest.mark.parametrize(
    ("bucket", "by_balance", "expected"),
    [
        ("M0", False, Decimal("0.3333")),  # 1 of A, B, H rolled
        ("M0", True, Decimal("0.6667")),  # 2000 / 3000
        ("M1", False, Decimal("0.5000")),  # C of C, D
        ("M1", True, Decimal("0.6250")),  # 500 / 800
        ("M2", False, Decimal("1.0000")),  # E
        ("M3", False, None),  # nobody in M3 at the start
        ("M7+", False, None),  # the worst bucket cannot roll
    ],
)
def test_roll_rate_is_the_share_rolling_one_bucket_worse(
    bucket: str, by_balance: bool, expected: Decimal | None
) -> None:
    assert kpi.roll_matrix(BEFORE, AFTER).roll_rate(bucket, by_balance=by_balance) == expected


def test_flow_rate_is_end_balance_of_next_bucket_over_start_balance_of_bucket() -> None:
    flows = kpi.flow_rates(BEFORE, AFTER)
    assert list(flows) == [
        "M0->M1",
        "M1->M2",
        "M2->M3",
        "M3->M4",
        "M4->M5",
        "M5->M6",
        "M6->M7+",
    ]
    # M0 at the start: A 1000 + B 2000 + F 700 + H 0 = 3700; M1 at the end: B 1950 + G 100.
    assert flows["M0->M1"] == Decimal("0.5541")  # 2050 / 3700 = 0.55405…
    assert flows["M1->M2"] == Decimal("0.6000")  # C 480 / (C 500 + D 300)
    assert flows["M2->M3"] == Decimal("1.0000")  # E 400 / E 400
    assert flows["M3->M4"] is None  # nothing in M3 at the start


def test_cure_rate_is_past_due_at_start_and_current_at_end() -> None:
    # Past due at the start and in both periods: C, D, E; only D is current at the end.
    assert kpi.cure_rate(BEFORE, AFTER) == Decimal("0.3333")


def test_entry_rate_counts_current_loans_with_a_balance_that_fall_past_due() -> None:
    # Current with a balance at the start and in both periods: A, B (H has no balance).
    assert kpi.entry_rate(BEFORE, AFTER) == Decimal("0.5000")


def test_cure_and_entry_rates_are_none_without_loans_to_count() -> None:
    current = [snap("A", "2025-01-31")]
    assert kpi.cure_rate(current, current) is None
    assert kpi.entry_rate([], []) is None
    late = [snap("A", "2025-01-31", dpd=12)]
    assert kpi.entry_rate(late, late) is None


# -- NPL ratio -------------------------------------------------------------------------
def test_npl_ratio_is_substandard_doubtful_and_loss_balance_over_total() -> None:
    snaps = [
        snap("A", "2025-03-31", balance="1000", risk=RiskClass.NORMAL),
        snap("B", "2025-03-31", balance="500", risk=RiskClass.SPECIAL_MENTION),
        snap("C", "2025-03-31", balance="300", risk=RiskClass.SUBSTANDARD),
        snap("D", "2025-03-31", balance="200", risk=RiskClass.DOUBTFUL),
        snap("E", "2025-03-31", balance="100", risk=RiskClass.LOSS),
    ]
    assert kpi.npl_ratio(snaps) == Decimal("0.2857")  # 600 / 2100


def test_npl_ratio_is_none_for_an_empty_or_fully_repaid_book() -> None:
    assert kpi.npl_ratio([]) is None
    assert kpi.npl_ratio([snap("A", "2025-03-31", balance="0")]) is None


# -- promises, right-party contact, contacts per unit recovered ---------------------------
def test_promise_kept_rate_is_kept_over_kept_plus_broken() -> None:
    s = Stream()
    for loan in ("A", "B", "C"):
        s.promise(loan, "2025-02-01", None)
        s.promise(loan, "2025-02-05", True)
    s.promise("D", "2025-02-01", None)
    s.promise("D", "2025-02-06", False)
    s.promise("E", "2025-02-07", None)  # still open: not counted
    assert kpi.promise_kept_rate(s.events) == Decimal("0.7500")
    assert kpi.promise_kept_rate([]) is None


def test_right_party_contact_rate_counts_contact_promise_and_hardship_outcomes() -> None:
    s = Stream()
    outcomes = (
        "right_party_contact",
        "promise",
        "hardship_stated",
        "no_answer",
        "refused",
        "wrong_number",
        "third_party",
    )
    for i, outcome in enumerate(outcomes):
        s.add(ContactOutcomeRecorded(channel="phone", outcome=outcome), f"L{i}", "2025-02-01")
    s.sent("L0", "2025-02-01", "phone")  # actions are not outcomes
    assert kpi.right_party_contact_rate(s.events) == Decimal("0.4286")  # 3 / 7
    assert kpi.right_party_contact_rate(s.events[-1:]) is None


def test_contacts_per_1000_recovered_is_actions_sent_times_1000_over_payments() -> None:
    s = Stream()
    for i in range(6):
        s.sent("A", f"2025-02-0{i + 1}", "sms")
    planned = ActionPlanned(rule="r", channel="sms", key="k", template="t")
    s.add(planned, "A", "2025-02-01")  # planned, not sent
    failed = ActionFailed(
        key="k", channel="sms", rule="r", status="rejected", detail="", attempts=1
    )
    s.add(failed, "A", "2025-02-01")
    s.paid("A", "2025-02-10", "1500").paid("B", "2025-02-11", "500")
    assert kpi.contacts_per_unit_recovered(s.events) == Decimal("3.0000")  # 6 × 1000 / 2000
    assert kpi.contacts_per_unit_recovered(s.events, unit=Decimal(100)) == Decimal("0.3000")


def test_contacts_per_unit_recovered_is_none_when_nothing_was_recovered() -> None:
    assert kpi.contacts_per_unit_recovered(Stream().sent("A", "2025-02-01", "sms").events) is None


# -- recovery by group ---------------------------------------------------------------------
def _by_channel(t: kpi.Touch) -> str | None:
    return t.channel


def _recovery_events() -> Stream:
    s = Stream()
    # A: a reminder before anything is due does not fix the exposure at zero, and the
    # payment that follows it is not a recovery.
    s.sent("A", "2025-01-01", "sms", due="0")
    s.paid("A", "2025-01-05", "100")
    s.sent("A", "2025-01-10", "sms", due="1000")  # sms exposure of A: 1000
    s.sent("A", "2025-01-12", "phone", due="1000")  # phone exposure of A: 1000
    s.paid("A", "2025-01-20", "400")  # 8 days after the call: phone
    s.paid("A", "2025-02-19", "300")  # 38 days after the call: outside the window
    s.sent("A", "2025-03-01", "sms", due="1500")  # sms again: exposure stays 1000
    s.paid("A", "2025-03-02", "1200")  # sms; capped at 1000
    # B: one letter; payments on day 30 (counts) and day 31 (does not).
    s.sent("B", "2025-01-03", "letter", due="500")
    s.paid("B", "2025-02-02", "200")
    s.paid("B", "2025-02-03", "100")
    return s


def test_recovery_by_attributes_payments_to_the_latest_touch_within_30_days() -> None:
    s = _recovery_events()
    result = kpi.recovery_by(s.touches, s.events, _by_channel)
    assert list(result) == ["letter", "phone", "sms"]
    assert result["sms"] == kpi.GroupRates("sms", Decimal("1000"), Decimal("1000"), 1)
    assert result["phone"] == kpi.GroupRates("phone", Decimal("1000"), Decimal("400"), 1)
    assert result["letter"] == kpi.GroupRates("letter", Decimal("500"), Decimal("200"), 1)
    assert result["sms"].recovery_rate == Decimal("1.0000")
    assert result["phone"].recovery_rate == Decimal("0.4000")
    assert result["letter"].recovery_rate == Decimal("0.4000")


def test_recovery_by_window_is_a_parameter() -> None:
    s = _recovery_events()
    result = kpi.recovery_by(s.touches, s.events, _by_channel, window_days=40)
    assert result["phone"].recovered == Decimal("700")  # 400 + the payment on day 38
    assert result["letter"].recovered == Decimal("300")  # both of B's payments


def test_recovery_by_sums_loans_of_a_group_and_counts_each_loan_once() -> None:
    s = Stream()
    s.sent("A", "2025-01-10", "sms", due="1000").sent("A", "2025-01-15", "sms", due="1000")
    s.sent("B", "2025-01-10", "sms", due="3000")
    s.paid("A", "2025-01-16", "250").paid("B", "2025-01-20", "3000")
    result = kpi.recovery_by(s.touches, s.events, _by_channel)
    assert result == {"sms": kpi.GroupRates("sms", Decimal("4000"), Decimal("3250"), 2)}
    assert result["sms"].recovery_rate == Decimal("0.8125")


def test_recovery_rate_is_none_for_a_group_with_nothing_due_at_its_touches() -> None:
    s = Stream().sent("A", "2025-01-01", "sms", due="0").paid("A", "2025-01-02", "100")
    result = kpi.recovery_by(s.touches, s.events, _by_channel)
    assert result["sms"] == kpi.GroupRates("sms", Decimal("0"), Decimal("0"), 1)
    assert result["sms"].recovery_rate is None


def test_recovery_by_orders_same_day_touch_and_payment_by_stream_position() -> None:
    s = Stream()
    s.sent("A", "2025-01-10", "sms", due="100")
    s.paid("A", "2025-01-11", "60")  # sms
    s.sent("A", "2025-01-11", "phone", due="40")
    s.paid("A", "2025-01-11", "40")  # after the call, the same day: phone
    result = kpi.recovery_by(s.touches[::-1], s.events[::-1], _by_channel)
    assert result["sms"].recovered == Decimal("60")
    assert result["phone"].recovered == Decimal("40")


# -- vintage curves --------------------------------------------------------------------------
def _vintage_snapshots(b_last_dpd: int = 30) -> list[kpi.Snapshot]:
    out = []
    a = ((0, "1000"), (0, "950"), (35, "950"), (0, "800"))  # A: 2025-01 cohort, bad in March
    b = ((0, "3000"), (0, "2900"), (0, "2800"), (b_last_dpd, "2800"))  # B: 2025-01 cohort
    periods = ("2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30")
    for period, (dpd, balance) in zip(periods, a, strict=True):
        out.append(snap("A", period, dpd=dpd, balance=balance, disbursed="2025-01-10"))
    for period, (dpd, balance) in zip(periods, b, strict=True):
        out.append(snap("B", period, dpd=dpd, balance=balance, disbursed="2025-01-20"))
    c = ((0, "2000"), (10, "2000"), (31, "2000"))  # C: 2025-02 cohort, bad in April
    for period, (dpd, balance) in zip(periods[1:], c, strict=True):
        out.append(snap("C", period, dpd=dpd, balance=balance, disbursed="2025-02-05"))
    return out


def test_vintage_curve_is_share_of_cohort_ever_past_30_dpd_by_months_on_book() -> None:
    curves = kpi.vintage_curves(_vintage_snapshots())
    # A cured in April but stays "ever bad"; B at exactly 30 DPD is not past 30.
    assert curves == {
        "2025-01": {
            0: Decimal("0.0000"),
            1: Decimal("0.0000"),
            2: Decimal("0.5000"),
            3: Decimal("0.5000"),
        },
        "2025-02": {0: Decimal("0.0000"), 1: Decimal("0.0000"), 2: Decimal("1.0000")},
    }


def test_vintage_curve_by_balance_weights_loans_by_their_first_balance() -> None:
    curves = kpi.vintage_curves(_vintage_snapshots(), by_balance=True)
    assert curves["2025-01"][2] == Decimal("0.2500")  # A's 1000 of A 1000 + B 3000
    assert curves["2025-02"][2] == Decimal("1.0000")


def test_vintage_threshold_is_a_parameter() -> None:
    curves = kpi.vintage_curves(_vintage_snapshots(), dpd_threshold=29)
    assert curves["2025-01"][3] == Decimal("1.0000")  # B's 30 DPD now counts


# -- champion vs challenger ------------------------------------------------------------------
def test_variant_comparison_per_variant_as_assigned_at_the_start() -> None:
    before = [
        snap("L1", "2025-01-31", dpd=20, overdue="1000", variant="champion"),
        snap("L2", "2025-01-31", dpd=0, overdue="0", variant="champion"),
        snap("L3", "2025-01-31", dpd=40, overdue="500", variant="champion"),
        snap("L4", "2025-01-31", dpd=15, overdue="800", variant="challenger"),
        snap("L5", "2025-01-31", dpd=15, overdue="800", variant=None),  # not in the test
    ]
    after = [
        snap("L1", "2025-02-28", dpd=0, variant="champion"),
        snap("L2", "2025-02-28", dpd=0, variant="champion"),
        snap("L3", "2025-02-28", dpd=68, overdue="900", variant="champion"),
        snap("L4", "2025-02-28", dpd=0, variant="challenger"),
        snap("L5", "2025-02-28", dpd=0),
    ]
    s = Stream()
    s.sent("L1", "2025-02-01", "sms").sent("L1", "2025-02-03", "phone")
    s.sent("L3", "2025-02-01", "sms").sent("L3", "2025-02-05", "sms")
    s.sent("L3", "2025-02-09", "letter")
    s.sent("L4", "2025-02-02", "sms")
    s.paid("L1", "2025-02-04", "1200")  # capped at its 1000 overdue at the start
    s.paid("L2", "2025-02-10", "300")  # current at the start: not a recovery
    s.paid("L3", "2025-02-12", "100")
    s.paid("L4", "2025-02-06", "800")
    s.paid("L5", "2025-02-06", "800")
    result = kpi.variant_comparison(before, after, s.events)
    assert result == {
        "challenger": {
            "cure_rate": Decimal("1.0000"),
            "recovery_rate": Decimal("1.0000"),
            "contacts_per_1000": Decimal("1.2500"),  # 1 × 1000 / 800
        },
        "champion": {
            "cure_rate": Decimal("0.5000"),  # L1 of L1, L3
            "recovery_rate": Decimal("0.7333"),  # (1000 + 100) / (1000 + 500)
            "contacts_per_1000": Decimal("3.1250"),  # 5 × 1000 / (1200 + 300 + 100)
        },
    }


def test_variant_comparison_without_variants_is_empty() -> None:
    assert kpi.variant_comparison([snap("A", "2025-01-31")], [], []) == {}


# -- currencies are never mixed --------------------------------------------------------------
MIXED = [snap("A", "2025-01-31"), snap("B", "2025-01-31", currency="USD")]
MIXED_PAYMENTS = Stream().paid("A", "2025-01-02", "1").paid("B", "2025-01-03", "1", "USD").events


@pytest.mark.parametrize(
    "call",
    [
        lambda: kpi.roll_matrix(MIXED, MIXED),
        lambda: kpi.flow_rates(MIXED, MIXED),
        lambda: kpi.npl_ratio(MIXED),
        lambda: kpi.vintage_curves(MIXED, by_balance=True),
        lambda: kpi.variant_comparison(MIXED, MIXED, []),
        lambda: kpi.contacts_per_unit_recovered(MIXED_PAYMENTS),
        lambda: kpi.recovery_by([], MIXED_PAYMENTS, _by_channel),
        lambda: kpi.check_one_currency(MIXED),
    ],
    ids=[
        "roll_matrix",
        "flow_rates",
        "npl_ratio",
        "vintage_by_balance",
        "variant_comparison",
        "contacts_per_unit",
        "recovery_by",
        "check_one_currency",
    ],
)
def test_amount_kpis_refuse_to_mix_currencies(call: Callable[[], object]) -> None:
    with pytest.raises(CurrencyMismatchError, match="CNY and USD"):
        call()


def test_counts_need_no_single_currency() -> None:
    curves = kpi.vintage_curves(MIXED)  # by count
    assert curves == {"2025-01": {0: Decimal("0.0000")}}
    assert kpi.check_one_currency([]) is None
    assert kpi.check_one_currency(MIXED[:1]) == "CNY"
