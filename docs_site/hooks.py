"""MkDocs hooks that build the parts of the site nobody should have to list by hand.

- **Plug-in pages**: one page per ``plugins/*/README.md``, generated at build time
  under ``plugins/``, with a "Plug-ins" section added to the navigation. A plug-in
  added later joins the site without an edit to ``mkdocs.yml``.
- **API reference**: one page per public module of ``loancollect`` and of every
  plug-in package, rendered by mkdocstrings from the docstrings.
- **Links**: a relative link that leaves the documentation folder (``../../README.md``
  in a plug-in's README, a link to a source file) is rewritten: to the site's page
  when the target is a page (the top-level README is the home page, another plug-in's
  README its page), otherwise to the path in code type. A link whose target does not
  exist is left alone, so ``mkdocs build --strict`` still fails on it.
- **Missing docstrings**: every public module, class and function of the reference
  must have a docstring; each one missing is a warning (an error with ``--strict``).
"""

from __future__ import annotations

import ast
import logging
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.loancollect")

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"

_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)(\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~)")

# Generated page (site path) -> the file its Markdown was written in (links are relative to it).
_SOURCES: dict[str, Path] = {}


# -- what to generate -----------------------------------------------------------------------
def _plugin_readmes() -> list[Path]:
    """Every plug-in README, in name order."""
    return sorted(p for p in PLUGINS.glob("*/README.md") if (p.parent / "pyproject.toml").is_file())


def _plugin_page(readme: Path) -> str:
    return f"plugins/{readme.parent.name}.md"


def _title(markdown: str, default: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return default


def _packages() -> list[tuple[str, Path]]:
    """(package name, source folder) of the core and of every plug-in package."""
    found = [("loancollect", ROOT / "src" / "loancollect")]
    for src in sorted(PLUGINS.glob("*/src/*/__init__.py")):
        found.append((src.parent.name, src.parent))
    return found


def _public_modules(package: str, folder: Path) -> list[tuple[str, Path]]:
    """Every module of ``package`` whose dotted name has no part starting with ``_``."""
    modules = []
    for path in sorted(folder.rglob("*.py")):
        parts = list(path.relative_to(folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") or not p.isidentifier() for p in parts) or "migrations" in parts:
            continue  # private, or database migrations (run by the storage plug-in, not called)
        modules.append((".".join([package, *parts]), path))
    return modules


def _reference_page(module: str) -> str:
    return "reference/" + module.replace(".", "/") + ".md"


# -- hooks ----------------------------------------------------------------------------------
def on_config(config: Any) -> Any:
    """Add the plug-in pages and the API reference to the navigation."""
    nav = config["nav"]
    if nav is None:
        return config
    plugin_nav = []
    for readme in _plugin_readmes():
        text = readme.read_text(encoding="utf-8")
        plugin_nav.append({_title(text, readme.parent.name): _plugin_page(readme)})
    reference_nav = []
    for package, folder in _packages():
        modules = _public_modules(package, folder)
        pages = [{module: _reference_page(module)} for module, _ in modules]
        reference_nav.append({package: pages})
    listed = set(_nav_pages(nav))
    docs = Path(config["docs_dir"])
    unlisted = [
        path.relative_to(docs).as_posix()
        for path in sorted(docs.rglob("*.md"))
        if path.relative_to(docs).as_posix() not in listed
    ]
    if unlisted:  # a page someone added without a nav entry still gets one
        nav.append({"More": [{_title(_read(docs / p), p): p} for p in unlisted]})
    nav.append({"Plug-ins": plugin_nav})
    nav.append({"API reference": reference_nav})
    return config


def _nav_pages(nav: Any) -> list[str]:
    """Every page path named in a navigation tree."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def on_files(files: Files, config: Any) -> Files:
    """Generate the plug-in pages and the API reference pages."""
    for readme in _plugin_readmes():
        page = _plugin_page(readme)
        _SOURCES[page] = readme
        files.append(File.generated(config, page, content=readme.read_text(encoding="utf-8")))
    for package, folder in _packages():
        for module, path in _public_modules(package, folder):
            _check_docstrings(module, path)
            content = f"# `{module}`\n\n::: {module}\n"
            files.append(File.generated(config, _reference_page(module), content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Rewrite the relative links that leave the documentation folder."""
    docs = Path(config["docs_dir"]).resolve()
    src_uri: str = page.file.src_uri
    source = _SOURCES.get(src_uri, docs / src_uri)
    out = []
    fenced = False
    for line in markdown.splitlines(keepends=True):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
        if fenced:
            out.append(line)
            continue
        out.append(_LINK.sub(lambda m: _rewrite(m, source, src_uri, docs), line))
    return "".join(out)


def _rewrite(match: re.Match[str], source: Path, src_uri: str, docs: Path) -> str:
    bang, text, target, title = match.group(1), match.group(2), match.group(3), match.group(4)
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
        return match.group(0)
    path, _, anchor = target.partition("#")
    resolved = (source.parent / path).resolve()
    if not resolved.exists():
        return match.group(0)  # a broken link: left for --strict to report
    page: str | None = None
    if resolved.is_relative_to(docs):
        if source.is_relative_to(docs):
            return match.group(0)  # an ordinary link between documentation pages
        page = resolved.relative_to(docs).as_posix()
    elif resolved == ROOT / "README.md":
        page = "index.md"
    elif resolved.name == "README.md" and resolved.parent.parent == PLUGINS:
        page = _plugin_page(resolved)
    if page is None:
        shown = resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else path
        return f"{text} (`{shown}`)" if text and not bang else f"`{shown}`"
    link = posixpath.relpath(page, posixpath.dirname(src_uri) or ".")
    if anchor:
        link += "#" + anchor
    return f"{bang}[{text}]({link}{title or ''})"


# -- docstrings -----------------------------------------------------------------------------
def _check_docstrings(module: str, path: Path) -> None:
    """Warn for each public module, class, function or method without a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    if ast.get_docstring(tree) is None:
        log.warning("%s: the module has no docstring", module)
    exported = _all(tree)

    def visit(node: ast.AST, prefix: str, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            name = child.name
            if name.startswith("_") or (in_class and name.startswith("test_")):
                continue  # a contract test's name states its rule
            if not in_class and exported is not None and name not in exported:
                continue
            if _is_overload(child):
                continue
            if ast.get_docstring(child) is None:
                log.warning("%s.%s%s has no docstring", module, prefix, name)
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{name}.", True)

    visit(tree, "", False)


def _all(tree: ast.Module) -> set[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            try:
                return set(ast.literal_eval(node.value))
            except ValueError:
                return None
    return None


def _is_overload(node: ast.AST) -> bool:
    decorators = getattr(node, "decorator_list", [])
    # An overload's docstring is on the implementation; a setter's on the property.
    return any(
        (isinstance(d, ast.Name) and d.id == "overload")
        or (isinstance(d, ast.Attribute) and d.attr in {"overload", "setter", "deleter"})
        for d in decorators
    )
