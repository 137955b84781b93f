"""The pure audit helpers: each fault named at its first bad seq, signatures bound to
the tenant and to the kind of record, and the key never shown."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from loancollect.domain.errors import ConfigurationError
from loancollect.domain.events import (
    Event,
    EventKind,
    StreamFault,
    StreamHead,
    audit_stream,
    chain,
    event_mac,
    head_mac,
)
from loancollect.ports import AuditKey
from loancollect.testing import make_event

SECRET = b"unit-test-audit-key-0123456789"


def _stream(n: int = 4) -> tuple[Event, ...]:
    return chain(make_event(EventKind.ACTION_SENT, "L-1", key=f"k{i}") for i in range(n))


def _head(stream: tuple[Event, ...], key: bytes | None = None) -> StreamHead:
    last = stream[-1]
    mac = None if key is None else head_mac(key, "t", "L-1", last.seq, last.hash)
    return StreamHead(loan_id="L-1", seq=last.seq, hash=last.hash, mac=mac)


def _macs(stream: tuple[Event, ...], key: bytes = SECRET) -> list[str | None]:
    return [event_mac(key, "t", "L-1", e.seq, e.hash) for e in stream]


def _fault(events: tuple[Event, ...], head: StreamHead | None, **kw: object) -> object:
    found = audit_stream("L-1", events, head, tenant="t", **kw)  # type: ignore[arg-type]
    return None if found is None else (found.seq, found.fault)


def test_an_intact_stream_and_an_empty_one_verify() -> None:
    stream = _stream()
    assert _fault(stream, _head(stream)) is None
    assert _fault(stream, _head(stream, SECRET), key=SECRET, macs=_macs(stream)) is None
    assert _fault((), None) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s[:3], (3, StreamFault.TRUNCATED)),
        (lambda s: (), (0, StreamFault.DELETED)),
        (lambda s: (s[0], s[2], s[3]), (1, StreamFault.MISSING)),
        (lambda s: (s[0], s[2], s[1], s[3]), (1, StreamFault.MISSING)),
        (
            lambda s: (s[0], attrs.evolve(s[2], seq=1), attrs.evolve(s[1], seq=2), s[3]),
            (1, StreamFault.REORDERED),
        ),
        (lambda s: (s[0], attrs.evolve(s[1], data=()), *s[2:]), (1, StreamFault.EDITED)),
        (lambda s: (s[0], attrs.evolve(s[1], prev_hash="f" * 64), *s[2:]), (1, StreamFault.EDITED)),
    ],
    ids=["truncated", "deleted", "missing", "out-of-order", "reordered", "edited", "bad-link"],
)
def test_each_fault_is_named_at_its_first_bad_seq(
    change: object, expected: tuple[int, StreamFault]
) -> None:
    stream = _stream()
    assert _fault(change(stream), _head(stream)) == expected  # type: ignore[operator]


def test_a_hash_recomputed_for_one_event_is_named_there() -> None:
    stream = _stream()
    edited = attrs.evolve(stream[1], data=(("forged", "yes"),))
    rehashed = chain([edited], prev_hash=stream[0].hash, start_seq=1)[0]
    assert _fault((stream[0], rehashed, *stream[2:]), _head(stream)) == (
        1,
        StreamFault.REHASHED,
    )


def test_a_stream_without_a_head_or_past_it() -> None:
    stream = _stream()
    assert _fault(stream, None) == (0, StreamFault.UNANCHORED)
    assert _fault(stream, _head(stream[:2])) == (2, StreamFault.EXTENDED)
    assert _fault(stream, StreamHead(loan_id="L-1", seq=-1, hash="")) == (0, StreamFault.EXTENDED)


def test_signatures_bind_the_tenant_and_the_kind_of_record() -> None:
    stream = _stream()
    macs = _macs(stream)
    head = _head(stream, SECRET)
    assert event_mac(SECRET, "t", "L-1", 0, stream[0].hash) != event_mac(
        SECRET, "u", "L-1", 0, stream[0].hash
    )
    assert head.mac != event_mac(SECRET, "t", "L-1", head.seq, head.hash)
    found = audit_stream("L-1", stream, head, tenant="u", key=SECRET, macs=macs)
    assert found is not None
    assert (found.tenant, found.seq, found.fault) == ("u", 0, StreamFault.REHASHED)
    as_head = attrs.evolve(head, mac=macs[-1])  # an event's signature is not a head's
    assert _fault(stream, as_head, key=SECRET, macs=macs) == (3, StreamFault.REHASHED)


def test_missing_signatures_are_problems_unless_accepted() -> None:
    stream = _stream()
    unsigned = [None, *_macs(stream)[1:]]
    assert _fault(stream, _head(stream, SECRET), key=SECRET, macs=unsigned) == (
        0,
        StreamFault.UNSIGNED,
    )
    assert _fault(stream, _head(stream), key=SECRET, macs=_macs(stream)) == (
        3,
        StreamFault.UNSIGNED,
    )
    assert _fault(stream, _head(stream), key=SECRET, macs=unsigned, unsigned_ok=True) is None


def test_a_stored_utc_copy_must_match_the_hashed_instant() -> None:
    import pendulum

    at = pendulum.datetime(2025, 3, 1, 9, tz="Asia/Shanghai")
    stream = chain([make_event(at=at), make_event(at=at.add(hours=1)), make_event()])
    head = _head(stream)
    first, second = at.in_tz("UTC"), at.add(hours=1).in_tz("UTC")
    assert _fault(stream, head, stored_utc=[first, second, None]) is None
    moved = second.add(minutes=1)
    assert _fault(stream, head, stored_utc=[first, moved, None]) == (1, StreamFault.BAD_AT_UTC)
    assert _fault(stream, head, stored_utc=[first, second, at]) == (2, StreamFault.BAD_AT_UTC)


def test_the_key_is_never_shown_and_must_be_long_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = AuditKey("a-long-enough-secret-key")
    assert repr(key) == str(key) == "AuditKey(<hidden>)"
    assert key == AuditKey(b"a-long-enough-secret-key")
    assert key != AuditKey("another-long-enough-key")
    with pytest.raises(ConfigurationError, match="at least 16 bytes") as raised:
        AuditKey("tiny-secret")
    assert "tiny-secret" not in str(raised.value)
    path = tmp_path / "audit.key"
    path.write_bytes(b"a-long-enough-secret-key\n")
    assert AuditKey.from_file(path) == key
    with pytest.raises(ConfigurationError, match="cannot read it"):
        AuditKey.from_file(tmp_path / "missing.key")
    assert AuditKey.from_env({}) is None
    assert AuditKey.from_env({"LOANCOLLECT_AUDIT_KEY_FILE": str(path)}) == key
    env = {"LOANCOLLECT_AUDIT_KEY": "the-variable-wins-here", "LOANCOLLECT_AUDIT_KEY_FILE": "x"}
    assert AuditKey.from_env(env) == AuditKey("the-variable-wins-here")
    monkeypatch.setenv("LOANCOLLECT_AUDIT_KEY", "from-the-process-environment")
    assert AuditKey.from_env() == AuditKey("from-the-process-environment")
