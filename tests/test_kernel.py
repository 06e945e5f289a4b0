"""Hypothesis stateful tests over the whole kernel API, run as module code would run it.

Random interleavings of the zone allocator, slab caches, kmalloc/krealloc/kfree,
mempools and vmalloc, valid and invalid (double frees, wrong orders, wrong caches,
frees of garbage addresses, None/str/float arguments).  Every operation runs through
``kernel.modules.call`` with a dummy module, as a module's code runs: a bad call gets
the kernel's report, never a traceback.  After every step ``check_kernel`` must find
nothing wrong; at teardown everything is freed and the free frames equal the boot
state (after draining the pcp lists), apart from slabs SLUB keeps cached and page
tables, which stay owned and are not leaks.

Examples per run (the README figure): ZoneMachine 20 + KernelMachine 25 examples of up
to 30 steps each.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

import kmsim
from kmsim.kernel import Kernel
from kmsim.linux import gfp as G
from kmsim.linux import mempool as P
from kmsim.linux import mm as M
from kmsim.linux import slab as S
from kmsim.mm.debug_vm import check_kernel
from kmsim.module import Module

# the header, not its vmalloc() (kmsim.linux re-exports every name, and vmalloc is one of them)
V = importlib.import_module("kmsim.linux.vmalloc")

ZONE_EXAMPLES = 20
KERNEL_EXAMPLES = 25
STEPS = 30
# No shrinking: each example boots a machine, and shrinking a long run takes minutes.
# The failing run is printed step by step as it is.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
# Use of a destroyed cache (kmem_cache_alloc/free/destroy after kmem_cache_destroy): it
# once left orphan slab pages (see test_alloc_from_destroyed_cache_is_refused).
FUZZ_DESTROYED_CACHES = True


def boot_with_dummy_module(mem="128M", append=""):
    """A small machine and a loaded dummy module whose 'code' the rules run."""
    k = Kernel("x86_64", mem, append, seed=1)
    mod = Module(name="fuzzmod", path="/nonexistent/fuzzmod.py",
                 owner=k.register_owner("module", "fuzzmod"))
    k.owners[mod.owner].module = mod
    mod.state, mod.init_done, mod.license = "Live", True, "GPL"
    k.modules.modules[mod.name] = mod
    return k, mod


def free_set(k) -> np.ndarray:
    """Boolean array: frames on a buddy free list (after the pcp lists are drained)."""
    k.buddy.drain_all_pages()
    free = np.zeros(k.nr_pages, bool)
    for z in k.buddy.zones:
        for order, area in enumerate(z.free_area):
            for pfn in area:
                free[pfn:pfn + (1 << order)] = True
    return free


def blocks(k) -> list[set]:
    """The buddy free lists as sets of (pfn, order), per zone."""
    return [{(p, o) for o, a in enumerate(z.free_area) for p in a} for z in k.buddy.zones]


class _Base(RuleBasedStateMachine):
    """Runs operations as module code and checks the machine after each step."""

    def __init__(self):
        super().__init__()
        self.k, self.mod = boot_with_dummy_module()
        self.k.buddy.drain_all_pages()
        self.boot_free = free_set(self.k)
        self.boot_blocks = blocks(self.k)
        self.boot_owner = self.k.phys.owner.copy()
        self.events = 0

    def call(self, fn, *args, may_fail: bool = False):
        """Run fn as the module; a valid call must not Oops, an invalid one may."""
        from kmsim.kernel import set_current_kernel
        set_current_kernel(self.k)
        res = self.k.modules.call(self.mod, fn, args, comm="insmod")
        if res.event is not None:
            self.events += 1
            # the OOM killer may end even a valid call when the run has used the memory up
            assert may_fail or res.event == "killed", ((f"{getattr(fn, '__name__', fn)}{args!r} "
                                                        f"stopped with {res.event}:\n")
                              + "\n".join(r.text for r in self.k.printk.records[-30:]))
        text = "\n".join(r.text for r in self.k.printk.records[-40:])
        assert "Traceback" not in text
        return res.value

    def values(self, name: str) -> list:
        """The values still in a bundle (hypothesis keeps references to them)."""
        return [self.names_to_values[getattr(r, "name", r)] for r in self.bundle(name)]

    @invariant()
    def machine_is_consistent(self):
        assert check_kernel(self.k) == []


# ------------------------------------------------------------------------------------
# The zone allocator alone: the teardown state is exactly the boot state.

GFPS = st.sampled_from([G.GFP_KERNEL, G.GFP_DMA, G.GFP_ATOMIC, G.GFP_KERNEL | G.__GFP_ZERO,
                        G.GFP_KERNEL | G.__GFP_NOWARN])
ORDERS = st.integers(0, 10)
# Names with two leading underscores would be mangled inside the classes below.
NOWARN = getattr(G, "__GFP_NOWARN")
NORETRY = getattr(G, "__GFP_NORETRY")
get_free_pages = getattr(G, "__get_free_pages")
free_page_struct = getattr(G, "__free_pages")


class ZoneMachine(_Base):
    """alloc_pages/free_pages/__get_free_pages at orders 0..10, valid and invalid."""

    pages = Bundle("pages")
    addrs = Bundle("addrs")

    def __init__(self):
        super().__init__()
        self.live = 0

    @precondition(lambda self: self.live < 40)
    @rule(target=pages, gfp=GFPS, order=ORDERS)
    def alloc_pages(self, gfp, order):
        page = self.call(G.alloc_pages, gfp | NOWARN | NORETRY, order, may_fail=False)
        if page is not None:
            self.live += 1
        return (page, order)

    @precondition(lambda self: self.live < 40)
    @rule(target=addrs, gfp=GFPS, order=ORDERS)
    def get_free_pages(self, gfp, order):
        addr = self.call(get_free_pages, gfp | NOWARN | NORETRY, order)
        if addr:
            self.live += 1
        return (addr, order)

    @rule(p=consumes(pages))
    def free_page_struct(self, p):
        page, order = p
        if page is not None:
            self.call(free_page_struct, page, order)
            self.live -= 1

    @rule(a=consumes(addrs))
    def free_addr(self, a):
        addr, order = a
        self.call(G.free_pages, addr, order)        # free_pages(0, order) is a no-op
        if addr:
            self.live -= 1

    @rule(order=ORDERS, how=st.sampled_from(["twice", "wrong_order", "tail", "float"]))
    def bad_free(self, order, how):
        """Allocate, then free wrongly; then free correctly (when still allocated)."""
        addr = self.call(get_free_pages, G.GFP_KERNEL | NOWARN | NORETRY, order)
        if not addr:
            return
        if how == "twice":
            self.call(G.free_pages, addr, order)
            self.call(G.free_pages, addr, order, may_fail=True)
            return
        if how == "wrong_order":
            self.call(G.free_pages, addr, (order + 1) % 11, may_fail=True)
        elif how == "tail" and order:
            self.call(G.free_pages, addr + M.PAGE_SIZE, 0, may_fail=True)
        elif how == "float":
            self.call(G.free_pages, addr, float(order), may_fail=True)
        self.call(G.free_pages, addr, order)

    @rule(garbage=st.one_of(st.integers(-2**64, 2**65), st.none(), st.text(max_size=3),
                            st.floats(), st.sampled_from([0xffff888000000000, 0xffff888000001000,
                                                          0xffffc90000000000, 0xdeadbeef, 1])),
          order=st.one_of(ORDERS, st.integers(-3, 40), st.none(), st.text(max_size=2)))
    def free_garbage(self, garbage, order):
        """free_pages of addresses no allocation returned (reserved, holes, unmapped), wrong types."""
        self.call(G.free_pages, garbage, order, may_fail=True)

    @rule(gfp=st.one_of(GFPS, st.none(), st.text(max_size=2), st.integers(-1, 2**40)),
          order=st.one_of(st.integers(-5, 64), st.floats(), st.none(), st.text(max_size=2)))
    def alloc_garbage(self, gfp, order):
        """alloc_pages with wrong masks and orders: the kernel's WARN, or a BUG at the call."""
        page = self.call(G.alloc_pages, gfp, order, may_fail=True)
        if page is not None:
            self.call(free_page_struct, page, order)

    def teardown(self):
        # free whatever is still allocated by the bundles (hypothesis keeps them in self.bundles)
        for page, order in self.values("pages"):
            if page is not None:
                self.call(free_page_struct, page, order, may_fail=True)
        for addr, order in self.values("addrs"):
            self.call(G.free_pages, addr, order, may_fail=True)
        assert check_kernel(self.k) == []
        free = free_set(self.k)
        lost = np.flatnonzero(self.boot_free & ~free)
        assert lost.size == 0, f"{lost.size} frames free at boot are not free at the end: {lost[:5]}"
        assert blocks(self.k) == self.boot_blocks


ZoneMachine.TestCase.settings = settings(max_examples=ZONE_EXAMPLES, stateful_step_count=STEPS,
                                         deadline=None, suppress_health_check=list(HealthCheck),
                                         phases=PHASES)
test_zone_allocator_stateful = ZoneMachine.TestCase


# ------------------------------------------------------------------------------------
# The whole API: zone, slab, kmalloc, mempool, vmalloc.

class KernelMachine(_Base):
    """Interleavings of every allocator, valid and invalid."""

    objs = Bundle("objs")
    kmem = Bundle("kmem")
    caches = Bundle("caches")
    pools = Bundle("pools")
    elems = Bundle("elems")
    vmem = Bundle("vmem")
    pages = Bundle("pages")

    def __init__(self):
        super().__init__()
        self.ncache = 0
        self.cache_objs: dict[int, int] = {}
        self.pool_out: dict[int, int] = {}
        self.dead_caches = []
        self.dead_pools = []

    # -- zone ----------------------------------------------------------------------
    @rule(target=pages, order=st.integers(0, 6), gfp=GFPS)
    def alloc_pages(self, order, gfp):
        return (self.call(G.alloc_pages, gfp | NOWARN | NORETRY, order), order)

    @rule(p=consumes(pages))
    def free_pages(self, p):
        if p[0] is not None:
            self.call(free_page_struct, p[0], p[1])

    # -- kmalloc ---------------------------------------------------------------------
    @rule(target=kmem, size=st.one_of(st.integers(0, 9000), st.sampled_from([1 << 13, 1 << 16, 1 << 20])),
          zero=st.booleans())
    def kmalloc(self, size, zero):
        fn = S.kzalloc if zero else S.kmalloc
        return self.call(fn, size, S.GFP_KERNEL | NOWARN)

    @rule(p=consumes(kmem))
    def kfree(self, p):
        self.call(S.kfree, p)

    @rule(target=kmem, p=consumes(kmem), size=st.integers(0, 5000))
    def krealloc(self, p, size):
        q = self.call(S.krealloc, p, size, S.GFP_KERNEL | NOWARN)
        if size and not q:
            return p            # krealloc failure leaves the old object
        return q

    @rule(size=st.integers(1, 3000))
    def kfree_twice(self, size):
        p = self.call(S.kmalloc, size, S.GFP_KERNEL)
        self.call(S.kfree, p)
        self.call(S.kfree, p, may_fail=True)

    @rule(garbage=st.one_of(st.integers(-2**64, 2**65), st.sampled_from([
        1, 0x10, 0xdead, 0xffff888000000000, 0xffff888000001008, 0xffffc90000000000,
        0xffffffffc0000000, 0xfffffffffffffff4]), st.none(), st.text(max_size=3), st.floats()))
    def kfree_garbage(self, garbage):
        self.call(S.kfree, garbage, may_fail=True)

    @rule(size=st.one_of(st.text(max_size=3), st.floats(), st.none(), st.integers(-2**70, -1),
                         st.just(1 << 40)), flags=st.one_of(GFPS, st.none(), st.text(max_size=2)))
    def kmalloc_garbage(self, size, flags):
        p = self.call(S.kmalloc, size, flags, may_fail=True)
        if p:
            self.call(S.kfree, p)

    # -- caches --------------------------------------------------------------------------
    @rule(target=caches, size=st.integers(1, 4096), align=st.sampled_from([0, 8, 64]),
          hw=st.booleans())
    def cache_create(self, size, align, hw):
        self.ncache += 1
        c = self.call(S.kmem_cache_create, f"fuzz_cache_{self.ncache}", size, align,
                      S.SLAB_HWCACHE_ALIGN if hw else 0, None)
        if c is not None:
            self.cache_objs[id(c)] = 0
        return c

    @rule(target=objs, c=caches)
    def cache_alloc(self, c):
        if c is None or id(c) not in self.cache_objs:
            return (None, 0)
        x = self.call(S.kmem_cache_alloc, c, S.GFP_KERNEL)
        if x:
            self.cache_objs[id(c)] += 1
        return (c, x)

    @rule(o=consumes(objs))
    def cache_free(self, o):
        c, x = o
        if c is None or not x or id(c) not in self.cache_objs:
            return
        self.call(S.kmem_cache_free, c, x)
        self.cache_objs[id(c)] -= 1

    @rule(c=caches, other=caches)
    def cache_free_wrong_cache_then_twice(self, c, other):
        """An object freed to the wrong cache (WARN, freed to its own), then again (double free)."""
        if c is None or other is None or id(c) not in self.cache_objs or id(other) not in self.cache_objs:
            return
        x = self.call(S.kmem_cache_alloc, c, S.GFP_KERNEL)
        if not x:
            return
        self.call(S.kmem_cache_free, other, x, may_fail=True)
        self.call(S.kmem_cache_free, c, x, may_fail=True)

    @rule(c=consumes(caches))
    def cache_destroy(self, c):
        if c is None or id(c) not in self.cache_objs or self.cache_objs[id(c)]:
            return
        self.call(S.kmem_cache_destroy, c)
        del self.cache_objs[id(c)]
        self.dead_caches.append(c)

    @precondition(lambda self: self.dead_caches and FUZZ_DESTROYED_CACHES)
    @rule()
    def use_destroyed_cache(self):
        c = self.dead_caches[-1]
        x = self.call(S.kmem_cache_alloc, c, S.GFP_KERNEL, may_fail=True)
        if x:
            self.call(S.kmem_cache_free, c, x, may_fail=True)
        self.call(S.kmem_cache_destroy, c, may_fail=True)

    @rule(arg=st.one_of(st.none(), st.integers(), st.text(max_size=3)))
    def cache_garbage(self, arg):
        self.call(S.kmem_cache_alloc, arg, S.GFP_KERNEL, may_fail=True)
        self.call(S.kmem_cache_free, arg, 0xffff888000001000, may_fail=True)
        self.call(S.kmem_cache_destroy, arg, may_fail=True)
        c = self.call(S.kmem_cache_create, arg, arg, 0, 0, None, may_fail=True)
        if c is not None:
            self.call(S.kmem_cache_destroy, c)

    # -- mempool -------------------------------------------------------------------------
    @rule(target=pools, min_nr=st.integers(0, 8), size=st.integers(1, 2048))
    def pool_create(self, min_nr, size):
        pool = self.call(P.mempool_create_kmalloc_pool, min_nr, size)
        if pool is not None:
            self.pool_out[id(pool)] = 0
        return pool

    @rule(target=elems, pool=pools)
    def pool_alloc(self, pool):
        if pool is None or id(pool) not in self.pool_out:
            return (None, 0)
        e = self.call(P.mempool_alloc, pool, G.GFP_KERNEL)
        if e:
            self.pool_out[id(pool)] += 1
        return (pool, e)

    @rule(e=consumes(elems))
    def pool_free(self, e):
        pool, x = e
        if pool is None or not x or id(pool) not in self.pool_out:
            return
        self.call(P.mempool_free, x, pool)
        self.pool_out[id(pool)] -= 1

    @rule(pool=consumes(pools))
    def pool_destroy(self, pool):
        if pool is None or id(pool) not in self.pool_out or self.pool_out[id(pool)]:
            return
        self.call(P.mempool_destroy, pool)
        del self.pool_out[id(pool)]
        self.dead_pools.append(pool)

    @rule(arg=st.one_of(st.none(), st.integers(), st.text(max_size=2)), use_dead=st.booleans())
    def pool_garbage(self, arg, use_dead):
        pool = self.dead_pools[-1] if use_dead and self.dead_pools else arg
        self.call(P.mempool_alloc, pool, 0xcc0, may_fail=True)
        self.call(P.mempool_free, 0xffff888000001000, pool, may_fail=True)
        self.call(P.mempool_destroy, pool, may_fail=True)
        pool = self.call(P.mempool_create_kmalloc_pool, arg, arg, may_fail=True)
        if pool is not None:
            self.call(P.mempool_destroy, pool)

    # -- vmalloc -------------------------------------------------------------------------
    @rule(target=vmem, size=st.integers(0, 1 << 20))
    def vmalloc(self, size):
        return self.call(V.vmalloc, size, may_fail=False)

    @rule(p=consumes(vmem))
    def vfree(self, p):
        self.call(V.vfree, p)

    @rule(size=st.integers(1, 1 << 16))
    def vfree_twice(self, size):
        p = self.call(V.vmalloc, size)
        self.call(V.vfree, p)
        self.call(V.vfree, p, may_fail=True)

    @rule(garbage=st.one_of(st.integers(-2**64, 2**65), st.sampled_from([
        1, 0xffffc90000000000, 0xffffc90000001234, 0xffff888000001000, 0xffffffffc0000000]),
        st.none(), st.text(max_size=3), st.floats()))
    def vfree_garbage(self, garbage):
        self.call(V.vfree, garbage, may_fail=True)
        p = self.call(V.vmalloc, garbage, may_fail=True)
        if p:
            self.call(V.vfree, p)

    # -- teardown --------------------------------------------------------------------------
    def teardown(self):
        for p in self.values("pages"):
            if p[0] is not None:
                self.call(free_page_struct, p[0], p[1], may_fail=True)
        for p in self.values("kmem"):
            self.call(S.kfree, p, may_fail=True)
        for c, x in self.values("objs"):
            if c is not None and x and id(c) in self.cache_objs:
                self.call(S.kmem_cache_free, c, x, may_fail=True)
                self.cache_objs[id(c)] -= 1
        for pool, x in self.values("elems"):
            if pool is not None and x and id(pool) in self.pool_out:
                self.call(P.mempool_free, x, pool, may_fail=True)
        for pool in self.values("pools"):
            if pool is not None and id(pool) in self.pool_out:
                self.call(P.mempool_destroy, pool, may_fail=True)
                self.pool_out.pop(id(pool))
        for p in self.values("vmem"):
            self.call(V.vfree, p, may_fail=True)
        for c in self.values("caches"):
            if c is not None and id(c) in self.cache_objs:
                self.call(S.kmem_cache_destroy, c, may_fail=True)
                self.cache_objs.pop(id(c))
        assert check_kernel(self.k) == []
        free = free_set(self.k)
        # Frames free at boot and not free now must be slabs SLUB keeps or page tables.
        taken = np.flatnonzero(self.boot_free & ~free)
        kinds = {self.k.owners[int(o)].kind for o in np.unique(self.k.phys.owner[taken])}
        assert kinds <= {"slab", "pgtable"}, f"{taken.size} frames free at boot are now owned by {kinds}"
        # Frames free now and not at boot: only slabs of boot caches that SLUB discarded.
        freed = np.flatnonzero(free & ~self.boot_free)
        was = {self.k.owners[int(o)].kind for o in np.unique(self.boot_owner[freed])}
        assert was <= {"slab"}, f"{freed.size} frames owned at boot by {was} are free now"


KernelMachine.TestCase.settings = settings(max_examples=KERNEL_EXAMPLES, stateful_step_count=STEPS,
                                           deadline=None, suppress_health_check=list(HealthCheck),
                                           phases=PHASES)
test_whole_kernel_stateful = KernelMachine.TestCase


def test_alloc_from_destroyed_cache_is_refused():
    """Using a cache after kmem_cache_destroy gets a report and does not corrupt the slab lists."""
    k, mod = boot_with_dummy_module()

    def body():
        c = S.kmem_cache_create("dead_cache", 4096, 0, 0, None)
        S.kmem_cache_destroy(c)
        S.kmem_cache_alloc(c, S.GFP_KERNEL)
    k.modules.call(mod, body, comm="insmod")
    assert check_kernel(k) == []


def _is_kernel(node) -> bool:
    """k, kernel, self.k, or a probe of one of their attributes (getattr(getattr(k, ...)))."""
    if isinstance(node, ast.Name):
        return node.id in ("k", "kernel")
    if isinstance(node, ast.Attribute):
        return node.attr == "k" or _is_kernel(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
        return node.func.id == "getattr" and _is_kernel(node.args[0])
    return False


def test_no_getattr_probe_of_the_kernel():
    """Every subsystem is a declared attribute of Kernel (None while off or not yet booted):
    nothing probes the kernel or its subsystems with getattr/hasattr or its __dict__."""
    probes = []
    for path in sorted(Path(kmsim.__file__).parent.rglob("*.py")):
        text = path.read_text()
        if "getattr(" not in text and "hasattr(" not in text and "__dict__" not in text:
            continue
        for node in ast.walk(ast.parse(text, str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            probe = isinstance(f, ast.Name) and f.id in ("getattr", "hasattr") and _is_kernel(node.args[0])
            in_dict = (isinstance(f, ast.Attribute) and f.attr == "get" and isinstance(f.value, ast.Attribute)
                       and f.value.attr == "__dict__" and _is_kernel(f.value.value))
            if probe or in_dict:
                probes.append(f"{path.name}:{node.lineno}")
    assert probes == []
