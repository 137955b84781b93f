"""The domain package imports only attrs, pendulum, holidays, the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import loancollect.domain

DOMAIN = Path(loancollect.domain.__file__).parent
ALLOWED_THIRD_PARTY = {"attrs", "pendulum", "holidays"}
MODULES = sorted(DOMAIN.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(DOMAIN.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, package: str) -> list[str]:
    """Absolute names of everything ``source`` imports, anywhere (also under TYPE_CHECKING).

    ``package`` is the package the module lives in, to resolve relative imports.
    """
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                names.append(".".join([*base, node.module] if node.module else base))
            else:
                names.append(node.module or "")
    return names


def allowed(name: str) -> bool:
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY or top == "__future__":
        return True
    return name == "loancollect.domain" or name.startswith("loancollect.domain.")


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def test_the_scan_finds_the_domain_modules() -> None:
    names = {p.stem for p in MODULES}
    assert {"money", "calendar", "loans", "schedule", "allocation", "overdue"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DOMAIN)))
def test_domain_module_imports_only_attrs_pendulum_holidays_stdlib_and_domain(
    path: Path,
) -> None:
    source = path.read_text(encoding="utf-8")
    bad = [name for name in imported_modules(source, package_of(path)) if not allowed(name)]
    assert not bad, f"{module_name(path)} imports {bad}; the domain must stay pure"


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ("import attrs", True),
        ("import decimal, datetime", True),
        ("from collections.abc import Sequence", True),
        ("from loancollect.domain.money import Money", True),
        ("from . import money", True),
        ("from .money import Money", True),
        ("import pluggy", False),
        ("import requests", False),
        ("import loancollect.services", False),
        ("from loancollect import hookspecs", False),
        ("from .. import hookspecs", False),
        ("from ..plugins import x", False),
        ("if TYPE_CHECKING:\n    import sqlalchemy", False),
        ("def f():\n    import logging.config\n    import jinja2", False),
    ],
)
def test_the_purity_rule_catches_what_it_should(source: str, ok: bool) -> None:
    names = imported_modules(source, "loancollect.domain")
    assert all(allowed(n) for n in names) is ok
