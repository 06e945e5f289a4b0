"""Random modules, loaded and unloaded: the invariants after each step, no leak from a
module that frees what it allocates (issue 15).

A module is a random list of steps, each one allocating with one API and freeing with
its pair, in init or in exit: kmalloc/kfree, __get_free_pages/free_pages,
alloc_pages/__free_pages, vmalloc/vfree, a cache's kmem_cache_alloc/kmem_cache_free.
A bad module also has a wrong step: a double free, a wrong order, a wrong argument
type, an address it never got, a leak, an exception.  After insmod and after rmmod:
no traceback and no internal error in what the shell printed, and check_kernel()
finds nothing wrong.  A good module, loaded a second time, leaves the free pages of
every zone and the objects of every cache as they were before its insmod.
Hypothesis runs with a fixed seed and a bounded number of examples.

The soak at the end (``-m soak``) loads 1,000 random modules with 10% of the
allocations failing.
"""
from __future__ import annotations

import os
import random

import pytest
from conftest import make_shell
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from kmsim.mm.debug_vm import check_kernel

HEAD = """from kmsim.linux.module import *
from kmsim.linux.printk import *
from kmsim.linux.gfp import *
from kmsim.linux.mm import *
from kmsim.linux.slab import *
from kmsim.linux.vmalloc import *
"""

# Each kind: (allocation, free) with {v} the variable, {a} the argument.
KINDS = {
    "kmalloc": ("{v} = kmalloc({a}, GFP_KERNEL)", "kfree({v})"),
    "kzalloc": ("{v} = kzalloc({a}, GFP_KERNEL)", "kfree({v})"),
    "pages": ("{v} = __get_free_pages(GFP_KERNEL, {a})", "free_pages({v}, {a})"),
    "page": ("{v} = alloc_pages(GFP_KERNEL, {a})", "if {v}: __free_pages({v}, {a})"),
    "vmalloc": ("{v} = vmalloc({a})", "vfree({v})"),
    "cache": ("{v} = kmem_cache_alloc(cache, GFP_KERNEL)", "kmem_cache_free(cache, {v})"),
}
ARGS = {"kmalloc": [1, 8, 64, 100, 1000, 4096, 8192, 20000], "kzalloc": [16, 192, 3000],
        "pages": [0, 1, 3, 5], "page": [0, 2, 4], "vmalloc": [1, 4096, 10000, 70000],
        "cache": [0]}
# A wrong step and what it does wrong: {v} is a live allocation of the kind it names.
BAD = {
    "double kfree": ("kmalloc", "kfree({v}); kfree({v})"),
    "kfree of the neighbour": ("kmalloc", "kfree({v} + 4096 if ksize({v}) >= 4096 else {v} + ksize({v}))"),
    "wrong order": ("pages", "free_pages({v}, 9)"),
    "double free_pages": ("pages", "free_pages({v}, {a}); free_pages({v}, {a})"),
    "free_pages of a slab page": ("kmalloc", "free_pages({v} & ~0xfff, 0)"),
    "vfree twice": ("vmalloc", "vfree({v}); vfree({v})"),
    "kfree of a vmalloc address": ("vmalloc", "kfree({v})"),
    "str size": ("kmalloc", "kmalloc('64', GFP_KERNEL)"),
    "float order": ("pages", "__get_free_pages(GFP_KERNEL, 1.5)"),
    "None to kfree": ("kmalloc", "kfree(None); kfree({v})"),
    "garbage address": ("kmalloc", "kfree(0x1234)"),
    "leak": ("kmalloc", "pass"),
    "exception": ("kmalloc", "raise KeyError('lookup')"),
    "base exception": ("kmalloc", "raise GeneratorExit()"),
}

step = st.tuples(st.sampled_from(sorted(KINDS)), st.integers(0, 7), st.booleans())


def module_source(steps, bad=None, where_bad="init") -> str:
    """The text of a module: steps (kind, argument index, freed in exit?) and one bad step."""
    init, exit_, glob = [], [], []
    for i, (kind, ai, in_exit) in enumerate(steps):
        a = ARGS[kind][ai % len(ARGS[kind])]
        alloc, free = KINDS[kind]
        v = f"p{i}"
        init.append(alloc.format(v=v, a=a))
        (exit_ if in_exit else init).append(free.format(v=v, a=a))
        if in_exit:
            glob.append(v)
    if bad is not None:
        kind, wrong = BAD[bad]
        a = ARGS[kind][1]
        alloc = KINDS[kind][0].format(v="b", a=a)
        (init if where_bad == "init" else exit_).extend([alloc, *wrong.format(v="b", a=a).split("; ")])
    decl = f"    global cache{', ' + ', '.join(glob) if glob else ''}\n"
    body = "".join(f"    {line}\n" for line in init)
    ebody = "".join(f"    {line}\n" for line in exit_)
    return (HEAD + "\ncache = None\n\n@module_init\ndef rnd_init():\n" + decl
            + "    cache = kmem_cache_create('rnd_cache', 72, 0, 0, None)\n" + body + "    return 0\n\n"
            + "@module_exit\ndef rnd_exit():\n" + ebody + "    kmem_cache_destroy(cache)\n\n"
            + 'MODULE_LICENSE("GPL")\n')


def state(k) -> tuple:
    """Free pages per zone (pcp lists drained) and objects in use per cache."""
    k.buddy.drain_all_pages()
    slab = k.slab
    return ([z.nr_free for z in k.buddy.zones],
            {s.name: slab.stats(s)["objects"] for s in slab.caches})


def _clean(r, what: str) -> None:
    text = r.out + r.err + r.console
    assert "Traceback" not in text and "internal error" not in text, f"{what}: {text[-1000:]}"


def cycle(sh, path: str) -> None:
    """insmod and rmmod (rmmod -f after an Oops), the invariants checked after each."""
    r = sh.execute(f"insmod {path}")
    _clean(r, "insmod")
    assert check_kernel(sh.kernel) == [], "after insmod"
    if "rnd" in sh.kernel.modules.modules:
        r = sh.execute("rmmod rnd")
        if "rnd" in sh.kernel.modules.modules:
            r = sh.execute("rmmod -f rnd")
        _clean(r, "rmmod")
        assert "rnd" not in sh.kernel.modules.modules
    assert check_kernel(sh.kernel) == [], "after rmmod"


@pytest.fixture(scope="module")
def module_shell():
    """One small machine; the modules come and go on it."""
    return make_shell(mem="128M")


@seed(1515)
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(step, min_size=1, max_size=6))
def test_a_good_random_module_leaves_no_trace(module_shell, tmp_path, steps):
    path = tmp_path / "rnd.py"
    path.write_text(module_source(steps))
    sh = module_shell
    cycle(sh, str(path))                 # the first load may grow caches SLUB keeps
    before = state(sh.kernel)
    cycle(sh, str(path))
    assert state(sh.kernel) == before
    assert "rmmod: rnd left" not in sh.execute("dmesg | tail -n 1").out


@seed(1516)
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(step, max_size=3), st.sampled_from(sorted(BAD)), st.sampled_from(["init", "exit"]))
def test_a_bad_random_module_keeps_the_machine_sound(module_shell, tmp_path, steps, bad, where):
    path = tmp_path / "rnd.py"
    path.write_text(module_source(steps, bad, where))
    cycle(module_shell, str(path))


@pytest.mark.soak
def test_soak_random_modules_under_fault_injection(tmp_path):
    """1,000 random modules (a bad step in one of four) with 10% of the allocations failing."""
    rng = random.Random(15)
    sh = make_shell(mem="128M")
    k = sh.kernel
    cycles = int(os.environ.get("KMSIM_SOAK_ITERATIONS", "1000"))

    def fail(*_a) -> bool:
        return rng.random() < 0.10
    for i in range(cycles):
        steps = [(rng.choice(sorted(KINDS)), rng.randrange(8), rng.random() < 0.5)
                 for _ in range(rng.randrange(1, 6))]
        bad = rng.choice(sorted(BAD)) if rng.random() < 0.25 else None
        path = tmp_path / "rnd.py"
        path.write_text(module_source(steps, bad, rng.choice(["init", "exit"])))
        k.buddy.fail_hook = k.slab.fail_hook = fail
        try:
            r = sh.execute(f"insmod {path}; rmmod rnd")
            if "rnd" in k.modules.modules:
                r = sh.execute("rmmod -f rnd")
        finally:
            k.buddy.fail_hook = k.slab.fail_hook = None
        _clean(r, f"cycle {i}")
        if i % 50 == 0:
            assert check_kernel(k) == [], f"cycle {i}"
        k.printk.clear()
    assert check_kernel(k) == []
