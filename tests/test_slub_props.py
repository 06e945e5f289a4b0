"""Property tests: random alloc/free never overlaps, counts stay exact, pages all come back."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmsim.kernel import Kernel
from kmsim.mm import kmalloc as KM
from kmsim.mm import slub as S

GFP = 0xcc0
SPECS = [("p_small", 16, 0), ("p_lab", 16, S.SLAB_HWCACHE_ALIGN | S.SLAB_POISON | S.SLAB_RED_ZONE),
         ("p_rz", 100, S.SLAB_RED_ZONE | S.SLAB_CONSISTENCY_CHECKS), ("p_big", 3000, 0)]
KSIZES = [1, 8, 24, 96, 100, 250, 1024, 5000, 8192, 9000, 20000]

ops = st.lists(st.tuples(st.integers(0, len(SPECS) + len(KSIZES) - 1), st.booleans(),
                         st.integers(0, 10 ** 6)), min_size=1, max_size=120)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_random_alloc_free(seq):
    k = Kernel("x86_64", "128M", "slab_nomerge", seed=3)
    slub = k.slab
    k.buddy.drain_all_pages()
    free0 = k.buddy.nr_free_pages()
    pages0 = slub.total_pages()
    caches = [S.kmem_cache_create(k, n, sz, 0, fl, None) for n, sz, fl in SPECS]
    live: dict[int, tuple] = {}
    for which, alloc, pick in seq:
        if alloc or not live:
            if which < len(SPECS):
                s = caches[which]
                x = S.kmem_cache_alloc(s, GFP)
                size = s.object_size
            else:
                size = KSIZES[which - len(SPECS)]
                x = KM.do_kmalloc(k, size, GFP)
            assert x
            live[x] = (which, size)
        else:
            x = sorted(live)[pick % len(live)]
            which, size = live.pop(x)
            if which < len(SPECS):
                S.kmem_cache_free(caches[which], x)
            else:
                KM.do_kfree(k, x)
        spans = sorted((a, a + n) for a, (_w, n) in live.items())
        for (_a0, e0), (a1, _e1) in zip(spans, spans[1:], strict=False):
            assert e0 <= a1, "overlapping objects"
    for s in caches:
        mine = sum(1 for w, _n in live.values() if w == caches.index(s))
        assert slub.stats(s)["objects"] == mine
    assert slub.debug_check() == []
    for x, (which, _size) in list(live.items()):
        if which < len(SPECS):
            S.kmem_cache_free(caches[which], x)
        else:
            KM.do_kfree(k, x)
    for s in caches:
        S.kmem_cache_destroy(k, s)
        assert slub.find(s.name) is None
    # kmalloc caches keep up to min_partial empty slabs, as SLUB does: every other page is back
    k.buddy.drain_all_pages()
    grown = slub.total_pages() - pages0
    empty = sum(1 << sl.order for fam in slub.kmalloc_caches.values() for s in fam
                for sl in s.slabs() if sl.inuse == 0)
    assert 0 <= grown <= empty
    assert k.buddy.nr_free_pages() == free0 - grown
    assert slub.debug_check() == []
