"""``chain_encoded`` hashes exactly as ``chain`` does and hands back the hashed payload text."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from loancollect.domain.events import GENESIS, Event, EventKind, chain, chain_encoded

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_ZONES = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(-dt.timedelta(hours=5, minutes=30))]
)


@st.composite
def _events(draw: st.DrawFn) -> list[Event]:
    loan_id = draw(st.text(min_size=1, max_size=10).filter(str.strip))
    out = []
    for _ in range(draw(st.integers(1, 4))):
        pairs = draw(st.dictionaries(_TEXT, _TEXT, max_size=4))
        at = draw(st.none() | st.datetimes(timezones=_ZONES))
        out.append(
            Event(
                kind=draw(st.sampled_from(list(EventKind))),
                loan_id=loan_id,
                on=draw(st.dates()),
                data=tuple(sorted(pairs.items())),
                at=at,
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(events=_events(), start=st.integers(0, 10_000))
def test_chain_encoded_gives_the_same_events_and_hashes_as_chain(
    events: list[Event], start: int
) -> None:
    expected = chain(events, prev_hash=GENESIS, start_seq=start)
    got = chain_encoded(events, prev_hash=GENESIS, start_seq=start)
    assert tuple(ev for ev, _ in got) == expected


@settings(max_examples=200, deadline=None)
@given(events=_events())
def test_the_payload_text_is_the_payloads_json(events: list[Event]) -> None:
    for ev, text in chain_encoded(events):
        assert json.loads(text) == [list(pair) for pair in ev.data]
        assert ev.digest(ev.prev_hash) == ev.hash
