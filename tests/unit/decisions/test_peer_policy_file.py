"""The peer capabilities in a TOML policy file, and its errors for the new keys."""

from __future__ import annotations

import pytest

from loancollect import Money
from loancollect.domain.credit_control import ComputationMode
from loancollect.domain.policy import CatchUp
from loancollect.domain.policy_file import PolicyFileError, loads_policy

TEXT = """\
[policy]
name = "peers"
catch_up = "replay"
refuse_backdated_runs = true

[[stages]]
name = "level1"
rank = 1
markers = ["block_changes"]
level = { mode = "net_days", days = 10 }
entry = { min_unpaid_installments = 1, last_failed_payment = ["CARD_EXPIRED"] }

[[stages]]
name = "level2"
rank = 2
level = { mode = "previous_date", days = 15 }

[[delinquency_ranges]]
name = "1-30"
min_days = 1
max_days = 30

[[dunning_types]]
name = "First Notice"
stage = "level1"
fee = { EUR = "5.00" }
rate_of_interest = "12"

[[dunning_types.texts]]
language = "en"
body = "Your payment is overdue."

[[campaigns]]
code = "standard"
max_attempts = 3
days_between_attempts = 5
thresholds = { CNY = "5000.00" }

[[strategies]]
name = "s"
"""


def test_every_peer_capability_loads_from_toml() -> None:
    policy = loads_policy(TEXT).policy
    assert policy.catch_up is CatchUp.REPLAY
    assert policy.refuse_backdated_runs
    level1 = policy.stages[0]
    assert level1.markers == {"block_changes"}
    assert level1.level is not None
    assert level1.level.mode is ComputationMode.NET_DAYS
    assert level1.entry.min_unpaid_installments == 1
    assert level1.entry.last_failed_payment == {"CARD_EXPIRED"}
    assert policy.delinquency_ranges[0].max_days == 30
    assert policy.dunning_types[0].fee == Money("5.00", "EUR")
    assert policy.dunning_types[0].texts[0].language == "en"
    assert policy.campaigns[0].thresholds == (Money("5000.00", "CNY"),)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ('catch_up = "replay"', 'catch_up = "backfill"', 3, "allowed: ['jump', 'replay', 'step']"),
        (
            'level = { mode = "net_days", days = 10 }',
            'level = { mode = "net", days = 10 }',
            10,
            "allowed: ['end_of_month', 'net_days', 'previous_date']",
        ),
        ("max_attempts = 3", "max_attempts = 0", 34, "max_attempts=0 must be >= 1"),
        (
            'stage = "level1"\nfee',
            'stage = "level9"\nfee',
            25,
            "unknown stage 'level9' (allowed: ['level1', 'level2'])",
        ),
        ("min_days = 1\n", "min_days = 'one'\n", 20, "expected an integer"),
        ('rate_of_interest = "12"', "rate_of_interest = 12.5", 27, "not floats"),
    ],
)
def test_errors_for_the_new_keys_name_the_line_and_the_allowed_values(
    old: str, new: str, line: int, message: str
) -> None:
    with pytest.raises(PolicyFileError) as info:
        loads_policy(TEXT.replace(old, new, 1), "peers.toml")
    assert info.value.line == line
    assert message in str(info.value)
