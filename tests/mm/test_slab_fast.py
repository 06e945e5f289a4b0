"""The fast paths' structures of mm/slab.py: the cpu slab's fast-free table, kmemleak's
per-slab record arrays, and where a blocking allocation counts as a scheduling point."""
from __future__ import annotations

from conftest import make_shell
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmsim.kernel import Kernel
from kmsim.linux import slab as L
from kmsim.mm import slub as S
from kmsim.mm.gfp import GFP_ATOMIC, GFP_KERNEL
from kmsim.mm.hooks import RESCHED
from kmsim.mm.slab import NO_TAB, get_freepointer

RECS = """from kmsim.linux.module import *
from kmsim.linux.slab import *

keep = []


@module_init
def recs_init():
    global keep
    keep = [kmalloc(64, GFP_KERNEL) for _ in range(300)]
    for p in keep[:100]:
        kfree(p)
    keep = keep[100:]
    return 0


@module_exit
def recs_exit():
    pass


MODULE_LICENSE("GPL")
"""


def _decodes_free(s, sl, x: int) -> bool:
    """What a free object's free pointer looks like: NULL or an address in its slab."""
    fp = get_freepointer(s, x)
    return fp == 0 or sl.base <= fp < sl.base + sl.span


def _fast_ok(s, sl, x: int) -> bool:
    """The fast free's test of x with the table (Slab.fast_table)."""
    w, key, lo, hi, _i = sl.tab[x]
    raw = s.mvw[w]
    return raw != key and not lo <= raw < hi


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 200)), min_size=1, max_size=120),
       st.sampled_from([16, 64, 192, 1024]))
def test_fast_table_agrees_with_the_decoded_free_pointer(ops, size):
    """Whatever the allocations and frees, the table's test and the decoded free pointer
    agree for every object of the cpu slab, its word is the object's free pointer, and a
    free object never takes the fast free."""
    k = Kernel("x86_64", "64M", "slab_nomerge", seed=1)
    c = L.kmem_cache_create("fasttab", size, 0, 0, None)
    live: list[int] = []
    for alloc, n in ops:
        if alloc or not live:
            x = L.kmem_cache_alloc(c, GFP_KERNEL)
            k.vm.write(x, n.to_bytes(8, "little") * (size // 8))     # the object's own data
            live.append(x)
        else:
            L.kmem_cache_free(c, live.pop(n % len(live)))
    for x in live:
        L.kmem_cache_free(c, x)
        sl = c.cpu_slab
        if sl is None or sl.tab is NO_TAB:
            continue
        assert sorted(sl.tab) == [sl.base + i * c.size for i in range(sl.objects)]
        for y, (w, _key, _lo, _hi, i) in sl.tab.items():
            assert w == (y + c.offset - c.po) >> c.wshift and sl.index_of(y) == i
            assert _fast_ok(c, sl, y) == (not _decodes_free(c, sl, y))
        for y in sl.freelist:
            assert not _fast_ok(c, sl, y)


def test_table_only_while_cpu_slab():
    k = Kernel("x86_64", "64M", "slab_nomerge", seed=1)
    c = L.kmem_cache_create("fasttab2", 64, 0, 0, None)
    first = [L.kmem_cache_alloc(c, GFP_KERNEL) for _ in range(c.objects)]
    sl = c.cpu_slab
    L.kmem_cache_free(c, first.pop())          # the first free of the cpu slab builds it
    assert sl.tab is not NO_TAB and len(sl.tab) == sl.objects
    first.append(L.kmem_cache_alloc(c, GFP_KERNEL))
    L.kmem_cache_alloc(c, GFP_KERNEL)          # a new cpu slab: the old one's table goes
    assert c.cpu_slab is not sl and sl.tab is NO_TAB
    for x in first:
        L.kmem_cache_free(c, x)
    assert k.slab.debug_check() == []


def test_kmemleak_records_live_in_the_slab(tmp_path):
    """A module's live objects are records of their slabs' arrays; kl.objects shows them."""
    sh = make_shell()
    path = tmp_path / "recs.py"
    path.write_text(RECS)
    assert sh.execute(f"insmod {path}").status == 0
    k = sh.kernel
    kl = k.kmemleak
    keep = k.modules.modules["recs"].namespace["keep"]
    mine = {a for a, r in kl.slab_records()
            if kl.depot.entries[r & 0xffffffff][4] == "recs"}
    assert mine == set(keep) and all(a in kl.objects for a in keep)
    assert kl.get(keep[0]) is not None and kl.get(keep[0]).size == 64
    assert kl.slab_record(keep[0] + 8) is None
    r = sh.execute("rmmod recs")
    assert "rmmod: recs left 200 objects (12800 bytes) allocated" in r.out + r.err


def test_blocking_allocation_counts_only_where_watched():
    """Unwatched kernel code does not count; the watchdog's py (set_watched) and module code do."""
    k = Kernel("x86_64", "64M", seed=1)
    c = k.slab.kmalloc_lookup[64]
    assert c.leak is None
    before = RESCHED[0]
    L.kfree(L.kmalloc(64, GFP_KERNEL))
    assert RESCHED[0] == before
    k.slab.set_watched(True)
    assert c.leak is S.sched_point
    L.kfree(L.kmalloc(64, GFP_KERNEL))
    L.kfree(L.kmalloc(64, GFP_ATOMIC))
    assert RESCHED[0] > before
    n = RESCHED[0]
    L.kfree(L.kmalloc(64, GFP_ATOMIC))
    assert RESCHED[0] == n
    k.slab.set_watched(False)
    assert c.leak is None
    k.watchdog.arm()                            # the shell's py arms it outside module code
    assert c.leak is S.sched_point
    k.watchdog.disarm()
    assert c.leak is None
