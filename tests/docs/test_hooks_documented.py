"""docs/hooks.md documents every hook exactly (datasette's test_plugin_hooks_are_documented)."""

from __future__ import annotations

import importlib.util
import inspect
import re
import textwrap
from pathlib import Path

import pytest

from loancollect import hookspecs
from loancollect.plugins import make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "hooks.md"
EXAMPLES = ROOT / "examples" / "hooks"
PM = make_plugin_manager()
HOOKS = sorted(n for n in dir(PM.hook) if n.startswith("loancollect_"))
FIRST = "first non-None result wins"


def _spec(name: str):
    spec = getattr(PM.hook, name).spec
    assert spec is not None
    return spec


def _section(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f'<a id="hook-{name}"></a>')
    end = text.find('<a id="hook-', start + 1)
    return text[start : end if end != -1 else len(text)]


def _docstring_example(name: str) -> str:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    return textwrap.dedent(doc.split("**Example**::", 1)[1]).strip("\n") + "\n"


def _defaults(name: str) -> dict[str, object]:
    spec = _spec(name)
    return {k: p.default for k, p in inspect.signature(spec.function).parameters.items()}


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_anchor_and_exact_signature_heading(name):
    spec = _spec(name)
    later = [f"{k}={_defaults(name)[k]!r}" for k in spec.kwargnames]  # keywords added later
    heading = f"## {name}({', '.join([*spec.argnames, *later])})"
    text = DOC.read_text(encoding="utf-8")
    assert f'<a id="hook-{name}"></a>\n{heading}\n' in text, f"missing: {heading}"


def test_every_documented_hook_exists():
    documented = re.findall(r'<a id="hook-(\w+)"></a>', DOC.read_text(encoding="utf-8"))
    assert sorted(documented) == HOOKS
    assert len(documented) == len(set(documented))


@pytest.mark.parametrize("name", HOOKS)
def test_every_parameter_is_documented(name):
    section = _section(name)
    for arg in (*_spec(name).argnames, *_spec(name).kwargnames):
        assert f"- `{arg}`:" in section, f"{name}: parameter {arg!r} undocumented"


@pytest.mark.parametrize("name", HOOKS)
def test_spec_docstring_has_an_example_and_version(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "**Example**::" in doc
    assert "@hookimpl" in doc.split("**Example**::", 1)[1]
    assert re.search(r"\.\. versionadded:: \d+\.\d+", doc)


@pytest.mark.parametrize("name", HOOKS)
def test_first_result_hooks_state_the_rule(name):
    spec = _spec(name)
    doc = " ".join((inspect.getdoc(getattr(hookspecs, name)) or "").split())
    section = " ".join(_section(name).split())
    if spec.opts.get("firstresult"):
        assert FIRST in doc
        assert FIRST in section
        assert "if nobody answers" in doc
    else:
        assert FIRST not in doc


@pytest.mark.parametrize("name", HOOKS)
def test_historic_hooks_say_they_cannot_be_wrapped(name):
    doc = " ".join((inspect.getdoc(getattr(hookspecs, name)) or "").split())
    if _spec(name).opts.get("historic"):
        assert "cannot be wrapped" in doc


@pytest.mark.parametrize("name", HOOKS)
def test_the_example_file_is_the_docstring_example_and_is_in_the_doc(name):
    path = EXAMPLES / f"{name}.py"
    code = path.read_text(encoding="utf-8")
    assert code == _docstring_example(name), f"{path.name} differs from the spec docstring"
    assert f"```python\n{code}```" in _section(name)


@pytest.mark.parametrize("name", HOOKS)
def test_the_example_registers_cleanly(name):
    spec = importlib.util.spec_from_file_location(f"doc_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pm = make_plugin_manager(plugins=[module])  # validates names and arguments
    assert pm.get_hookcallers(module)


def test_the_page_is_generated_from_the_current_sources():
    spec = importlib.util.spec_from_file_location("hooks_md", ROOT / "docs" / "hooks_md.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render() == DOC.read_text(encoding="utf-8"), (
        "docs/hooks.md is out of date: run python docs/hooks_md.py"
    )
