"""Exercises 2, 3, 5, 6: the printed order, nothing leaked, clean failure mid-init."""
from __future__ import annotations

import re

import pytest

from tests.conftest import MODULES, run_kmsim

EXERCISES = {
    "exercise2_stack": lambda n: [f"stack: popped {v * 10}" for v in range(n, 0, -1)],
    "exercise3_dlist": lambda n: (["dlist forward:"] + [f"dlist: {v}" for v in range(1, n + 1)]
                                  + ["dlist backward:"] + [f"dlist: {v}" for v in range(n, 0, -1)]),
    "exercise5_fifo": lambda n: [f"fifo: {v * 100}" for v in range(1, n + 1)],
    "exercise6_cyclic": lambda n: [f"ring: {v}" for v in range(1, n + 1)],
}
# kmalloc calls of a successful init: the nodes, plus the kfifo's buffer for exercise 5.
KMALLOCS = {"exercise2_stack": 0, "exercise3_dlist": 0, "exercise5_fifo": 1, "exercise6_cyclic": 0}


def messages(shell) -> list[str]:
    """dmesg's messages without timestamps."""
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in shell.execute("dmesg").out.splitlines()]


def kmalloc_usage(shell) -> dict:
    """Objects in use per kmalloc cache (slab->inuse summed over the slabs).

    slabinfo's columns and sysfs' objects count a cpu slab's free objects as active, as
    SLUB does, and an emptied slab may stay cached, so a leak shows only in the objects
    the slabs count as allocated.
    """
    slub = shell.kernel.slab
    names = [ln.split()[0] for ln in shell.execute("cat /proc/slabinfo").out.splitlines()
             if ln.startswith("kmalloc-")]
    assert names, "no kmalloc caches in /proc/slabinfo"
    return {n: slub.stats(slub.find(n))["objects"] for n in names}


def run_exercise(shell, name, count):
    before = kmalloc_usage(shell)
    r = shell.execute(f"insmod {MODULES / name}.py count={count}")
    assert r.status == 0, r.err
    assert shell.execute(f"rmmod {name}").status == 0
    return before, kmalloc_usage(shell)


@pytest.mark.parametrize("name", sorted(EXERCISES))
@pytest.mark.parametrize("count", [5, 9])
def test_exercise_prints_in_order_and_frees_everything(shell, name, count):
    before, after = run_exercise(shell, name, count)
    msgs = messages(shell)
    want = EXERCISES[name](count)
    assert msgs[-len(want):] == want
    assert after == before


def fail_kth_kmalloc(shell, k):
    """Make the k-th kmalloc from now on fail (SLUB's should_failslab hook)."""
    calls = {"n": 0}

    def hook(cache, gfp):
        if not cache.name.startswith("kmalloc-"):
            return False
        calls["n"] += 1
        return calls["n"] == k
    shell.kernel.slab.fail_hook = hook
    return calls


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_exercise_fails_cleanly_when_an_allocation_fails(shell, name):
    k = KMALLOCS[name] + 4                # the 4th node's allocation fails
    before = kmalloc_usage(shell)
    calls = fail_kth_kmalloc(shell, k)
    r = shell.execute(f"insmod {MODULES / name}.py count=7")
    shell.kernel.slab.fail_hook = None
    assert calls["n"] == k
    assert r.status == 1
    assert r.err.strip().endswith("Cannot allocate memory")
    assert any("Error allocating" in m and "node 4!" in m for m in messages(shell))
    assert kmalloc_usage(shell) == before
    assert name not in shell.execute("lsmod").out


def test_fifo_fails_cleanly_when_the_kfifo_buffer_fails(shell):
    before = kmalloc_usage(shell)
    fail_kth_kmalloc(shell, 1)
    r = shell.execute(f"insmod {MODULES}/exercise5_fifo.py")
    shell.kernel.slab.fail_hook = None
    assert r.status == 1 and "Cannot allocate memory" in r.err
    assert "Error allocating the fifo: -12" in messages(shell)
    assert kmalloc_usage(shell) == before


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_bad_count_is_rejected(shell, name):
    r = shell.execute(f"insmod {MODULES / name}.py count=0")
    assert r.status == 1 and r.err.strip().endswith("Invalid parameters")


@pytest.mark.e2e
def test_exercises_end_to_end_on_32bit():
    script = "".join(f"insmod modules/{n}.py count=3\nrmmod {n}\n" for n in sorted(EXERCISES))
    r = run_kmsim("--seed", "1", "--machine", "i386", "--mem", "256M", input=script + "dmesg\n")
    assert r.returncode == 0, r.stderr
    out = re.sub(r"\[ *\d+\.\d+\] ", "", r.stdout)
    for n, want in EXERCISES.items():
        assert "\n".join(want(3)) in out, n
