"""The evidence bundle: written from a real case, verified by ``loancollect verify
--bundle``, and every kind of tampering found."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner
from loancollect_courts.bundle import write_matter_bundle
from loancollect_courts.desk import LegalDesk

import loancollect.cli as cli
from loancollect.bundles import verify_bundle
from loancollect.domain.events import DeliveryReceipt, Event, new_event
from loancollect.domain.loans import Payment
from loancollect.domain.money import Money
from loancollect.engine import CollectionEngine
from loancollect.plugins import make_plugin_manager
from loancollect.testing import FixedClock, MemoryStore, make_loan

ON = dt.date(2026, 3, 2)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    store = MemoryStore()
    engine = CollectionEngine(
        pm=make_plugin_manager(),
        storage=store,
        clock=FixedClock(pendulum.datetime(2026, 3, 2, 2, tz="UTC")),
        validate_templates=False,
    )
    engine.add_loans([make_loan()], review_on=dt.date(2025, 2, 15))
    engine.record_payment(
        Payment(
            id="P-1",
            loan_id="L-1",
            amount=Money("500.00", "CNY"),
            value_date=dt.date(2025, 3, 1),
            received_at=pendulum.datetime(2025, 3, 1, 2, tz="UTC"),
        )
    )
    desk = LegalDesk(engine.apply, store)
    desk.open("L-1", "cn_litigation", ON, matter="M1")
    desk.advance("L-1", "demand_letter_sent", ON)
    view = desk.view("L-1")
    path = tmp_path / "L-1.zip"
    write_matter_bundle(
        path, view.loan, view.payments, view.history, ON, documents={"note.pdf": b"%PDF-1.4 x"}
    )
    return path


def _rewrite(path: Path, change: dict[str, bytes | None]) -> None:
    with zipfile.ZipFile(path) as zf:
        contents = {n: zf.read(n) for n in zf.namelist()}
    for name, data in change.items():
        if data is None:
            contents.pop(name)
        else:
            contents[name] = data
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)


def test_a_fresh_bundle_verifies_with_every_file_listed(bundle: Path) -> None:
    check = verify_bundle(bundle)
    assert check.ok, check.problems
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        contacts = zf.read("contacts.csv").decode()
        limitation = zf.read("limitation.txt").decode()
    assert {
        "contract.json",
        "schedule.csv",
        "statement.csv",
        "payments.csv",
        "contacts.csv",
        "events.jsonl",
        "documents/note.pdf",
    } <= names
    assert {f["name"] for f in manifest["files"]} == names - {"manifest.json"}
    assert check.events == manifest["chain"]["last_seq"] + 1
    assert contacts.startswith("on,at,kind,channel")
    assert "art. 188" in limitation


def test_an_edited_file_is_found(bundle: Path) -> None:
    _rewrite(bundle, {"payments.csv": b"payment,value_date\nP-1,2025-03-01,5000.00\n"})
    assert verify_bundle(bundle).problems == ("payments.csv: SHA-256 does not match the manifest",)


def test_an_added_or_removed_file_is_found(bundle: Path) -> None:
    _rewrite(bundle, {"extra.txt": b"x", "schedule.csv": None})
    problems = verify_bundle(bundle).problems
    assert "extra.txt: not in the manifest" in problems
    assert "schedule.csv: listed but missing" in problems


def test_an_edited_event_breaks_the_chain_even_with_a_matching_manifest(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        lines = zf.read("events.jsonl").decode().splitlines()
        manifest = json.loads(zf.read("manifest.json"))
    first = json.loads(lines[0])
    first["on"] = "2020-01-01"
    lines[0] = json.dumps(first, ensure_ascii=False, sort_keys=True)
    data = ("\n".join(lines) + "\n").encode()
    # A forger who also fixes the manifest's digest still meets the hash chain.
    import hashlib

    for entry in manifest["files"]:
        if entry["name"] == "events.jsonl":
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            entry["bytes"] = len(data)
    _rewrite(bundle, {"events.jsonl": data, "manifest.json": json.dumps(manifest).encode()})
    assert verify_bundle(bundle).problems == ("events.jsonl: the hash chain breaks at seq 0",)


def test_loancollect_verify_accepts_bundles(bundle: Path, tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    ok = runner.invoke(cli.main, ["verify", "--bundle", str(bundle)])
    assert ok.exit_code == 0, ok.output
    assert "verifies" in ok.output
    _rewrite(bundle, {"contract.json": b"{}"})
    bad = runner.invoke(cli.main, ["verify", "--bundle", str(bundle)])
    assert bad.exit_code == 1
    assert "contract.json: SHA-256 does not match" in bad.output


def test_a_bundle_needs_one_loans_chained_events(tmp_path: Path) -> None:
    from loancollect.bundles import write_bundle
    from loancollect.domain.errors import ValidationError

    loose: Event = new_event(
        DeliveryReceipt(key="k", channel="sms", status="sent"), loan_id="L", on=ON
    )
    with pytest.raises(ValidationError, match="chain"):
        write_bundle(tmp_path / "b.zip", {}, [loose])
    with pytest.raises(ValidationError, match="reserved"):
        write_bundle(tmp_path / "b.zip", {"manifest.json": b""}, [loose])
    assert not (tmp_path / "b.zip").exists()
