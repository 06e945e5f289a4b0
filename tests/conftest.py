"""Shared fixtures: a booted kernel, a shell on it, and kmsim in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.forked import pytest_addoption, pytest_configure, pytest_runtest_protocol  # noqa: F401  (hooks)

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "modules"


def pytest_collection_modifyitems(config, items):
    """Soak tests run only when -m names them (`-m soak`): another -m, such as the fast
    loop's `-m "not e2e"`, replaces the ini's, so the ini cannot keep them out by itself."""
    if "soak" in (config.option.markexpr or ""):
        return
    soak = [it for it in items if it.get_closest_marker("soak") is not None]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [it for it in items if it.get_closest_marker("soak") is None]


@pytest.fixture
def kernel():
    """A freshly booted x86_64 machine with 1 GiB and seed 1."""
    from kmsim.kernel import Kernel
    return Kernel("x86_64", "1G", "", seed=1)


def make_shell(machine="x86_64", mem="1G", append="", seed=1):
    """A Shell on a new kernel (not a fixture, for tests that want options)."""
    from kmsim.kernel import Kernel
    from kmsim.shell.core import Shell
    return Shell(lambda: Kernel(machine, mem, append, seed))


@pytest.fixture
def shell():
    """A Shell on a fresh x86_64 1G machine with seed 1."""
    return make_shell()


def run_kmsim(*args, input=None, timeout=120, env=None):
    """Run `python -m kmsim ARGS` from the project root; returns CompletedProcess (text)."""
    e = dict(os.environ)
    e.pop("COLUMNS", None)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "kmsim", *args], cwd=ROOT, input=input,
                          capture_output=True, text=True, timeout=timeout, env=e)


@pytest.fixture
def kmsim():
    """The run_kmsim function."""
    return run_kmsim
