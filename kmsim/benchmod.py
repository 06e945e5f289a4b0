"""The benchmark's kernel module: ``python -m kmsim.bench`` loads it with insmod.

Its init times every pair from inside module code, where students call the allocators.
Each figure is measured alternately with its yardstick: the same loop calling two empty
functions with the same arguments, in thread CPU time; the figure is the ratio of the
medians.  ``kmsim.bench.PLAN`` says what to measure, ``kmsim.bench.RESULTS`` receives the
figures (seconds per pair and the yardstick's, as ``(secs, yard)``).
"""
import time

from kmsim import bench as _bench
from kmsim.linux.gfp import __free_pages, alloc_pages
from kmsim.linux.module import MODULE_DESCRIPTION, MODULE_LICENSE, module_exit, module_init
from kmsim.linux.sched import cond_resched
from kmsim.linux.slab import (
    kfree,
    kmalloc,
    kmem_cache_alloc,
    kmem_cache_create,
    kmem_cache_destroy,
    kmem_cache_free,
)
from kmsim.mm.gfp import GFP_KERNEL

_clock = time.thread_time


def _e1(a):
    pass


def _e2(a, b):
    pass


def _e2v(a, b):
    return a


# The timed loops: the figure and its yardstick run the same code with other functions.
def cache_loop(n, alloc, free, c, gfp):
    for _ in range(n):
        free(c, alloc(c, gfp))


def kmalloc_loop(n, alloc, free, size, gfp):
    for _ in range(n):
        free(alloc(size, gfp))


def pages_loop(n, alloc, free, order, gfp):
    for _ in range(n):
        free(alloc(gfp, order), order)


def mixed_loop(n, alloc, free, orders, gfp):
    for i in range(n):
        o = orders[i & 1023]
        free(alloc(gfp, o), o)


def _sample(loop, n, args):
    t = _clock()
    loop(n, *args)
    return _clock() - t


def measure(loop, n, real, empty, repeat):
    """(seconds per pair, seconds per yardstick pair): medians of alternate samples."""
    a, b = [], []
    for _ in range(repeat):
        b.append(_sample(loop, n, empty))
        a.append(_sample(loop, n, real))
    a.sort()
    b.sort()
    return a[len(a) // 2] / n, b[len(b) // 2] / n


_cache = None


def figures(n, repeat, which):
    """Every figure named in which (a set), as {name: (secs, yard)}."""
    global _cache
    out = {}
    if _cache is None:
        _cache = kmem_cache_create("bench_cache", 64, 0, 0, None)
    c = _cache
    if "cache" in which:
        out["cache"] = measure(cache_loop, n, (kmem_cache_alloc, kmem_cache_free, c, GFP_KERNEL),
                               (_e2v, _e2, c, GFP_KERNEL), repeat)
    if "kmalloc" in which:
        out["kmalloc"] = measure(kmalloc_loop, n, (kmalloc, kfree, 64, GFP_KERNEL),
                                 (_e2v, _e1, 64, GFP_KERNEL), repeat)
    if "order0" in which:
        out["order0"] = measure(pages_loop, n, (alloc_pages, __free_pages, 0, GFP_KERNEL),
                                (_e2, _e2, 0, GFP_KERNEL), repeat)
    if "mixed" in which:
        orders = [i % 11 for i in range(1024)]
        out["mixed"] = measure(mixed_loop, max(n // 4, 100), (alloc_pages, __free_pages, orders, GFP_KERNEL),
                               (_e2, _e2, orders, GFP_KERNEL), repeat)
    return out


live: list = []                    # objects (and lists of objects) kept alive


def live_figures(n, repeat, counts):
    """The cache pair with 1, 1,000 ... live objects of the same cache."""
    out = {}
    for count in counts:
        while len(live) < count:
            live.append(kmem_cache_alloc(_cache, GFP_KERNEL))
        out[f"cache_live_{count}"] = measure(cache_loop, n, (kmem_cache_alloc, kmem_cache_free, _cache,
                                                             GFP_KERNEL), (_e2v, _e2, _cache, GFP_KERNEL),
                                             repeat)
    return out


def hold_kmalloc(count, size):
    """Keep count kmalloc(size) objects (for the memory figures)."""
    held = [0] * count
    for i in range(count):
        held[i] = kmalloc(size, GFP_KERNEL)
    live.append(held)


def benchmod_init():
    plan = _bench.PLAN
    res = _bench.RESULTS
    if plan.get("figures"):
        res.update(figures(plan["n"], plan["repeat"], set(plan["figures"])))
    if plan.get("live"):
        figures(1, 1, set())
        res.update(live_figures(plan["n"], plan["repeat"], plan["live"]))
    if plan.get("hold"):
        import tracemalloc
        count, size = plan["hold"]
        if plan.get("tracemalloc"):
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            hold_kmalloc(count, size)
            res["hold_bytes"] = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
        else:
            hold_kmalloc(count, size)
    return 0


def benchmod_exit():
    for i, x in enumerate(live):
        if isinstance(x, list):
            for p in x:
                kfree(p)
        else:
            kmem_cache_free(_cache, x)
        if i % 4096 == 4095:
            cond_resched()          # a long free loop schedules, as kernel code does
    live.clear()
    if _cache is not None:
        kmem_cache_destroy(_cache)


module_init(benchmod_init)
module_exit(benchmod_exit)

MODULE_LICENSE("GPL")
MODULE_DESCRIPTION("kmsim's benchmark, timed from inside module code")
