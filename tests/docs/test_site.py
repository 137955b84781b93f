"""The documentation site's build hooks: plug-in pages, links out of docs/, docstrings.

The full build (``mkdocs build --strict``) runs in CI (``.ci/run``); these tests check
the hooks' decisions quickly and without MkDocs' theme.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    """``docs_site/hooks.py``, loaded as MkDocs loads it (by path)."""
    spec = importlib.util.spec_from_file_location("site_hooks", ROOT / "docs_site" / "hooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rewrite(hooks: ModuleType, markdown: str, source: Path, src_uri: str) -> str:
    return str(hooks._LINK.sub(lambda m: hooks._rewrite(m, source, src_uri, DOCS), markdown))


def test_every_plugin_readme_gets_a_page_and_a_nav_entry(hooks: ModuleType) -> None:
    readmes = sorted(ROOT.glob("plugins/*/README.md"))
    assert readmes
    config = {"nav": [{"Home": "index.md"}], "docs_dir": str(DOCS)}
    hooks.on_config(config)
    plugin_section = next(item["Plug-ins"] for item in config["nav"] if "Plug-ins" in item)
    pages = [page for entry in plugin_section for page in entry.values()]
    assert pages == [f"plugins/{r.parent.name}.md" for r in readmes]


def test_pages_missing_from_the_nav_are_listed_under_more(hooks: ModuleType) -> None:
    config = {"nav": [{"Home": "index.md"}], "docs_dir": str(DOCS)}
    hooks.on_config(config)
    more = next(item["More"] for item in config["nav"] if "More" in item)
    assert {"cli.md", "getting-started.md"} <= {p for entry in more for p in entry.values()}


def test_a_plugin_readme_link_to_the_project_readme_goes_to_the_home_page(
    hooks: ModuleType,
) -> None:
    readme = ROOT / "plugins" / "loancollect-email" / "README.md"
    out = rewrite(hooks, "[loancollect](../../README.md)", readme, "plugins/loancollect-email.md")
    assert out == "[loancollect](../index.md)"


def test_a_plugin_readme_link_into_docs_becomes_a_site_link(hooks: ModuleType) -> None:
    readme = ROOT / "plugins" / "loancollect-email" / "README.md"
    out = rewrite(hooks, "[hooks](../../docs/hooks.md#top)", readme, "plugins/loancollect-email.md")
    assert out == "[hooks](../hooks.md#top)"


def test_a_link_to_a_source_file_becomes_its_path_in_code_type(hooks: ModuleType) -> None:
    out = rewrite(hooks, "see [the CLI](../src/loancollect/cli.py)", DOCS / "cli.md", "cli.md")
    assert out == "see the CLI (`src/loancollect/cli.py`)"


def test_a_broken_link_is_left_for_the_strict_build_to_report(hooks: ModuleType) -> None:
    text = "[gone](../no/such/file.md) and [missing](nowhere.md)"
    assert rewrite(hooks, text, DOCS / "cli.md", "cli.md") == text


def test_links_between_docs_pages_and_to_the_web_are_unchanged(hooks: ModuleType) -> None:
    text = "[policy](policy.md#files) [web](https://example.com/x.md) [here](#values)"
    assert rewrite(hooks, text, DOCS / "cli.md", "cli.md") == text


def test_a_public_function_without_a_docstring_is_a_warning(
    hooks: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""A module."""\n\n__all__ = ["bare", "Documented"]\n\n'
        "def bare() -> None:\n    pass\n\n"
        'class Documented:\n    """Yes."""\n\n    def method(self) -> None:\n        pass\n\n'
        "    def test_a_rule_named_by_its_test(self) -> None:\n        pass\n\n"
        "def not_exported() -> None:\n    pass\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        hooks._check_docstrings("pkg.m", module)
    warned = sorted(re.sub(r" has no docstring$", "", r.getMessage()) for r in caplog.records)
    assert warned == ["pkg.m.Documented.method", "pkg.m.bare"]


def test_mkdocs_config_builds_strictly_in_ci() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"mkdocs build --strict", ci)
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "docs_site/hooks.py" in config
    assert "mkdocstrings" in config
