"""tests/forked.py, the per-test fork: a pristine kernel behaves as a fresh boot, a child that
dies is a failed test, --no-fork runs in the process."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from kmsim.kernel import Kernel
from kmsim.shell.core import Shell
from tests import forked
from tests.conftest import ROOT
from tests.forked import POOL

SESSION = ["insmod modules/zone_allocator.py", "cat /proc/buddyinfo", "cat /proc/meminfo",
           "cat /proc/slabinfo", "cat /proc/vmallocinfo", "rmmod zone_allocator", "dmesg"]


def _transcript(k: Kernel) -> list[tuple[str, str, int]]:
    sh = Shell(lambda: k)
    return [(r.out, r.err, r.status) for r in map(sh.execute, SESSION)]


def test_a_kernel_booted_before_others_behaves_as_a_fresh_boot():
    """What the pool relies on: a seeded kernel booted earlier, with other kernels booted
    since (the worker's pristine one), gives what a kernel booted just now gives."""
    early = Kernel("x86_64", "256M", "", seed=7)
    Kernel("x86_64", "64M", "kasan", seed=2)
    later = Kernel("x86_64", "256M", "", seed=7)
    assert _transcript(early) == _transcript(later)


def test_the_pool_hands_a_configuration_out_once_per_child():
    if Kernel.__init__ is not forked._init:
        pytest.skip("the fork is off (--no-fork, --pdb)")
    key = ("x86_64", "64M", "", 11)
    POOL.learn([key, key], {key: 1.0})           # as if its boots had cost a second
    k = POOL.pristine[key]
    in_child, POOL.in_child = POOL.in_child, True
    taken = set(POOL.taken)
    try:
        POOL.taken.discard(key)
        assert Kernel("x86_64", "64M", seed=11) is k
        assert Kernel("x86_64", "64M", "", 11) is not k
        assert Kernel("x86_64", "64M", "", seed=12) is not k
    finally:
        POOL.in_child, POOL.taken = in_child, taken
    assert POOL.key(("x86_64",), {"mem": 64 << 20, "seed": 3}) == ("x86_64", 64 << 20, "", 3)
    assert POOL.key(("x86_64", "64M"), {}) is None                 # unseeded: never shared


@pytest.mark.e2e
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_child_that_dies_is_a_failed_test(tmp_path):
    (tmp_path / "conftest.py").write_text(
        "from tests.forked import pytest_addoption, pytest_configure, pytest_runtest_protocol  # noqa\n")
    (tmp_path / "test_die.py").write_text(textwrap.dedent("""
        import os, signal, pytest
        @pytest.mark.forked
        def test_dies():
            os.kill(os.getpid(), signal.SIGKILL)
        @pytest.mark.forked
        def test_lives():
            assert os.getpid() != PARENT
        PARENT = os.getpid()
    """))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                        str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert "1 failed, 1 passed" in p.stdout, p.stdout + p.stderr
    assert "the forked child running this test killed by signal SIGKILL" in p.stdout
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                        "--no-fork", "-k", "lives", str(tmp_path)],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert "1 failed" in p.stdout and "assert" in p.stdout       # in the process: the same pid
