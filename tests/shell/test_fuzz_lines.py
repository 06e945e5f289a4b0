"""Random shell lines through Shell.execute, the machine's invariants checked after each.

Where tests/test_fuzz_shell.py throws random characters at the parser, these lines are
made of what a student types: the lab's modules loaded and unloaded with parameters,
fault injection switched on and off, py allocations and frees (good and bad), views,
filters and redirection, in any order.  After every line: no traceback or internal
error, a shell status, and check_kernel() (mm/debug_vm.py) finds nothing wrong.
Hypothesis runs with a fixed seed and a bounded number of examples (CI, issue 15).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, make_shell
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from kmsim.mm.debug_vm import check_kernel

LAB = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "modules").glob("*.py"))
NAMES = [Path(p).stem for p in LAB]
FORBIDDEN = ("Traceback", "internal error")

_word = st.sampled_from
LINES = st.one_of(
    st.builds(lambda m, a: f"insmod {m} {a}".strip(), _word(LAB),
              _word(["", "who=x", "nope=1", "order=3", "order=-1", "count=99999999999", "=", "x="])),
    st.builds(lambda n, f: f"rmmod {f}{n}", _word(NAMES + ["nothere", ""]), _word(["", "-f "])),
    st.builds(lambda n: f"modprobe {n}", _word(NAMES + ["nothere"])),
    st.builds(lambda n: f"modprobe -r {n}", _word(NAMES)),
    st.builds(lambda n: f"modinfo {n}", _word(NAMES + LAB)),
    st.builds(lambda f, v: f"echo {v} > /sys/kernel/debug/{f}",
              _word(["failslab/probability", "fail_page_alloc/probability", "failslab/times",
                     "fail_page_alloc/times", "failslab/interval"]),
              _word(["0", "10", "100", "-1", "1", "abc"])),
    _word(["py p = kmalloc(64, GFP_KERNEL)", "py kfree(p)", "py kfree(p + 64)",
           "py q = alloc_pages(GFP_KERNEL, 2)", "py __free_pages(q, 2)", "py __free_pages(q, 1)",
           "py a = __get_free_pages(GFP_KERNEL, 1)", "py free_pages(a, 1)", "py free_pages(a, 0)",
           "py v = vmalloc(20000)", "py vfree(v)", "py kmalloc(1 << 40, GFP_KERNEL)",
           "py c = kmem_cache_create('fz', 40, 0, 0, None)", "py o = kmem_cache_alloc(c, GFP_KERNEL)",
           "py kmem_cache_free(c, o)", "py kmem_cache_destroy(c)", "py kfree('x')"]),
    _word(["lsmod", "dmesg | tail -n 3", "cat /proc/buddyinfo", "cat /proc/slabinfo | grep kmalloc",
           "cat /proc/meminfo | head -n 2", "cat /proc/vmallocinfo | wc -l", "slabinfo", "free -m",
           "memmap DMA", "kmemleak scan", "cat /sys/kernel/debug/kmemleak | wc -l", "zoneinfo | wc -l",
           "dmesg -C", "lsmod > out.txt", "cat out.txt", "dmesg >> out.txt", "slabtop -o | head -n 4",
           "memmap --svg out.svg"]),
)


@pytest.fixture(scope="module")
def line_shell():
    """One small machine for the whole run (as a student's session is one machine)."""
    return make_shell(mem="128M", append="kmemleak=on")


@seed(15)
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(LINES, min_size=1, max_size=4))
def test_random_session_lines_keep_the_invariants(line_shell, tmp_path, monkeypatch, lines):
    """Each line runs or says why not; after each, every allocator invariant holds."""
    monkeypatch.chdir(tmp_path)          # out.txt, out.svg
    for line in lines:
        r = line_shell.execute(line)
        text = r.out + r.err + r.console
        for bad in FORBIDDEN:
            assert bad not in text, f"{line!r}: {text[-800:]}"
        assert 0 <= r.status <= 255
        assert check_kernel(line_shell.kernel) == [], line
    line_shell.execute("echo 0 > /sys/kernel/debug/failslab/probability; "
                       "echo 0 > /sys/kernel/debug/fail_page_alloc/probability")
