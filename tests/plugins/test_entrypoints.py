"""Loading installed plug-ins end to end: real distributions with entry points.

A tiny distribution ``loancollect-undo-demo`` is built from a temporary
directory and installed with pip into a temporary ``--target`` directory, which
is put on ``sys.path``; ``make_plugin_manager(load_entrypoints=True)`` must find
it through ``importlib.metadata``, register it, record its distribution and call
its hooks. A second, hand-written ``.dist-info`` checks the error paths.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loancollect.errors import ConfigurationError
from loancollect.plugins import ENV_LOAD_PLUGINS, make_plugin_manager, plugin_info
from loancollect.registry import channel_specs, make_channel

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "loancollect-undo-demo"
version = "1.2.3"

[project.entry-points.loancollect]
undo-demo = "loancollect_undo_demo.hooks"

[tool.hatch.build.targets.wheel]
packages = ["src/loancollect_undo_demo"]
"""

HOOKS = """\
from loancollect import hookimpl
from loancollect.builtin.recording import RecordingChannel
from loancollect.registry import ChannelSpec

CONFIG = {}


@hookimpl
def loancollect_register_channels():
    return [ChannelSpec(name="demo-sms", factory=lambda settings: RecordingChannel("demo-sms"))]


@hookimpl
def loancollect_configure(config):
    CONFIG.update(config)
"""

MODULES = ("loancollect_undo_demo", "loancollect_undo_demo.hooks", "loancollect_undo_broken")


def _on_path(path: Path) -> Iterator[None]:
    sys.path.insert(0, str(path))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(path))
        for name in MODULES:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``loancollect-undo-demo`` pip-installed into a target directory on sys.path."""
    project = tmp_path_factory.mktemp("project")
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    package = project / "src" / "loancollect_undo_demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Demo plug-in."""\n', encoding="utf-8")
    (package / "hooks.py").write_text(HOOKS, encoding="utf-8")
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(project),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    yield from _on_path(target)


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[Path]:
    """A hand-written distribution whose entry point does not import."""
    info = tmp_path / "loancollect_undo_broken-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: loancollect-undo-broken\nVersion: 0.0.1\n",
        encoding="utf-8",
    )
    (info / "entry_points.txt").write_text(
        "[loancollect]\nundo-broken = loancollect_undo_broken.missing\n", encoding="utf-8"
    )
    yield from _on_path(tmp_path)


def test_entry_points_are_not_loaded_unless_asked(installed):
    pm = make_plugin_manager()
    assert not pm.has_plugin("undo-demo")
    assert "demo-sms" not in channel_specs(pm)


def test_an_installed_plugin_is_loaded_registered_and_called(installed):
    pm = make_plugin_manager(load_entrypoints=True, environ={}, config={"demo.key": "v"})
    assert pm.has_plugin("undo-demo")
    assert make_channel(pm, "demo-sms").name == "demo-sms"
    info = {i.name: i for i in plugin_info(pm)}["undo-demo"]
    assert (info.distribution, info.version) == ("loancollect-undo-demo", "1.2.3")
    assert info.hooks == ("loancollect_configure", "loancollect_register_channels")
    assert sys.modules["loancollect_undo_demo.hooks"].CONFIG == {"demo.key": "v"}


def test_an_allow_list_loads_only_the_named_plugins(installed):
    pm = make_plugin_manager(load_entrypoints=["undo-demo"])
    assert pm.has_plugin("undo-demo")
    pm = make_plugin_manager(load_entrypoints=True, environ={ENV_LOAD_PLUGINS: ""})
    assert not pm.has_plugin("undo-demo")


def test_the_environment_variable_selects_plugins(installed, monkeypatch):
    monkeypatch.setenv(ENV_LOAD_PLUGINS, " undo-demo , ")
    assert make_plugin_manager(load_entrypoints=True).has_plugin("undo-demo")


def test_a_blocked_plugin_is_not_loaded(installed):
    pm = make_plugin_manager(load_entrypoints=["undo-demo"], block=["undo-demo"])
    assert not pm.has_plugin("undo-demo")


def test_a_duplicate_with_an_installed_plugin_names_its_distribution(installed):
    from loancollect.hookspecs import hookimpl
    from loancollect.registry import ChannelSpec
    from loancollect.testing import RecordingChannel

    class Local:
        @hookimpl
        def loancollect_register_channels(self):
            return [ChannelSpec(name="DEMO-SMS", factory=lambda s: RecordingChannel())]

    pm = make_plugin_manager(load_entrypoints=["undo-demo"], plugins=[Local()])
    with pytest.raises(ConfigurationError, match=r"'undo-demo' \(loancollect-undo-demo 1\.2\.3\)"):
        channel_specs(pm)


def test_a_plugin_that_fails_to_import_is_a_configuration_error(broken):
    with pytest.raises(
        ConfigurationError,
        match=r"plug-in 'undo-broken' \(loancollect-undo-broken 0\.0\.1\) failed to load",
    ):
        make_plugin_manager(load_entrypoints=["undo-broken"])
