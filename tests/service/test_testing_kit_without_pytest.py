"""``loancollect.testing`` imports in a program without pytest: only the conformance
suites need it. Each check runs in a fresh interpreter where importing pytest fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "embed_minimal.py"

# ``sys.modules["pytest"] = None`` makes every ``import pytest`` raise ImportError.
BLOCK = "import sys\nsys.modules['pytest'] = None\nsys.modules['_pytest'] = None\n"


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_kit_imports_and_works_without_pytest(tmp_path: Path) -> None:
    result = _run(
        """
        import loancollect.testing as kit
        from loancollect.testing import (
            FixedClock, HookRecorder, MemoryDatabase, MemoryStore, RecordingChannel,
            make_action, make_case, make_loan, make_message,
        )
        from loancollect.plugins import make_plugin_manager

        store = MemoryDatabase().store("brand-a")
        with store() as uow:
            uow.loans.add(make_loan())
            uow.cases.save(make_case())
            uow.commit()
        channel = RecordingChannel("sms")
        action = make_action()
        assert channel.send(action, make_message(), action.idempotency_key).ok
        pm = make_plugin_manager()
        with HookRecorder(pm) as recorder:
            pass
        assert recorder.calls == []
        assert FixedClock.__name__ == "FixedClock"
        assert "pytest" not in sys.modules or sys.modules["pytest"] is None
        try:
            kit.StorageContract
        except ImportError as exc:
            assert "needs pytest" in str(exc), exc
        else:
            raise AssertionError("the contracts should need pytest")
        print("ok")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip() == "ok"


def test_the_minimal_embedding_example_runs_without_pytest(tmp_path: Path) -> None:
    result = _run(
        f"""
        import runpy
        runpy.run_path({str(EXAMPLE)!r}, run_name="__main__")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.strip()


def test_the_contracts_load_from_the_kit_when_pytest_is_there() -> None:
    import loancollect.testing as kit
    from loancollect.testing import contracts

    for name in contracts.__all__:
        if name.endswith("Contract"):
            assert getattr(kit, name) is getattr(contracts, name)
            assert name in kit.__all__
