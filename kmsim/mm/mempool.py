"""Memory pools (mm/mempool.c): a reserve of preallocated elements.

``mempool_create`` fills the reserve with min_nr elements at once.
``mempool_alloc`` asks the underlying allocator first (without reclaim, retries
or warnings) and falls back to the reserve; ``mempool_free`` tops the reserve up
before giving anything back to the allocator.  The reserve is a LIFO array, as
the kernel's ``elements[curr_nr]``.  With a mask that may sleep and an empty
reserve the kernel waits on the pool (``io_schedule_timeout(5*HZ)``) and retries
the allocator every 5 seconds, forever: kmsim advances the clock and retries the
same way for a while, then says so and returns NULL.  The hung-task detector
stays silent, since the task wakes every 5 seconds.
"""
from __future__ import annotations

from ..errors import KernelBUG, PageFault
from . import gfp as G
from .gfp import __GFP_DIRECT_RECLAIM as _GFP_DIRECT_RECLAIM
from .gfp import __GFP_IO as _GFP_IO
from .gfp import __GFP_NOMEMALLOC as _GFP_NOMEMALLOC
from .gfp import __GFP_NORETRY as _GFP_NORETRY
from .gfp import __GFP_NOWARN as _GFP_NOWARN
from .typed import to_addr

__all__ = ["Mempool", "mempool_create", "mempool_alloc", "mempool_free", "mempool_resize",
           "mempool_destroy"]

_POISON_POINTER = 0x6b6b6b6b6b6b6b6b
MEMPOOL_WAIT_NS = 5 * 1_000_000_000   # io_schedule_timeout(5*HZ)
MEMPOOL_MAX_WAITS = 24                # kmsim stops retrying after 2 simulated minutes
# offset of the field each function reads first: struct mempool_s is
# { spinlock_t lock; int min_nr; int curr_nr; void **elements; void *pool_data; ... }
_FIRST_FIELD = {"mempool_alloc": (0x18, 0x10), "mempool_free": (0x8, 0x8),
                "mempool_resize": (0x0, 0x0), "mempool_destroy": (0x8, 0x8)}


class Mempool:
    """mempool_t: the reserve and the element functions.

    ``min_nr`` and ``curr_nr`` read as the struct's fields do.
    """

    def __init__(self, min_nr: int, alloc_fn, free_fn, pool_data):
        self.min_nr = min_nr
        self.elements: list = []
        self.alloc = alloc_fn
        self.free = free_fn
        self.pool_data = pool_data
        self.out = 0                 # elements handed out and not yet returned
        self.destroyed = False

    @property
    def curr_nr(self) -> int:
        """Elements in the reserve now."""
        return len(self.elements)

    def __repr__(self):
        return f"<mempool_t min_nr={self.min_nr} curr_nr={self.curr_nr}>"

    def add_element(self, elem) -> None:
        """add_element: push onto the reserve."""
        self.elements.append(elem)

    def remove_element(self):
        """remove_element: pop the most recently added element."""
        return self.elements.pop()


def _check_pool(pool, fn: str, ptr_size: int = 8) -> Mempool:
    if pool is None or pool == 0:     # the NULL pool's first field read faults
        off = _FIRST_FIELD.get(fn, (0, 0))[0 if ptr_size == 8 else 1]
        raise PageFault(off, fn == "mempool_resize", hint=f"{fn}() was given a NULL pool: "
                        "mempool_create() returns NULL on failure, test it with 'if not pool:'")
    if not isinstance(pool, Mempool):
        raise TypeError(f"{fn}() takes a mempool_t (from mempool_create), not {type(pool).__name__}")
    if pool.destroyed:
        raise PageFault(_POISON_POINTER, False, reason="protection violation",
                        hint=f"{fn}() on a pool that mempool_destroy() already freed")
    return pool


def _element_ok(elem) -> bool:
    return elem is not None and elem != 0 and elem is not False


def mempool_create(k, min_nr, alloc_fn, free_fn, pool_data, gfp: int = G.GFP_KERNEL):
    """mempool_create_node: a pool with min_nr elements preallocated, or None."""
    if not isinstance(min_nr, int) or isinstance(min_nr, bool):
        raise TypeError(f"min_nr must be an int, not {type(min_nr).__name__}")
    if not callable(alloc_fn) or not callable(free_fn):
        raise TypeError("alloc_fn and free_fn must be functions (mempool_alloc_slab, "
                        "mempool_free_slab, or your own)")
    if min_nr < 0:     # kmalloc_array(min_nr, ...) of a negative int: a huge size that fails
        return None
    pool = Mempool(min_nr, alloc_fn, free_fn, pool_data)
    try:
        while pool.curr_nr < min_nr:
            elem = alloc_fn(gfp, pool_data)
            if not _element_ok(elem):
                _free_reserve(pool)
                return None
            pool.add_element(elem)
    except BaseException:          # the OOM killer ended the task: nothing may stay behind
        _free_reserve(pool)
        raise
    return pool


def _free_reserve(pool: Mempool) -> None:
    while pool.elements:
        pool.free(pool.remove_element(), pool.pool_data)


def mempool_alloc(k, pool, gfp_mask: int):
    """mempool_alloc: the allocator first, then the reserve; NULL only for masks that cannot sleep."""
    pool = _check_pool(pool, "mempool_alloc", k.machine.ptr_size)
    if not isinstance(gfp_mask, int) or isinstance(gfp_mask, bool):
        raise TypeError(f"gfp_mask must be a GFP_* int, not {type(gfp_mask).__name__}")
    gfp_mask |= _GFP_NOMEMALLOC | _GFP_NORETRY | _GFP_NOWARN
    gfp_temp = gfp_mask & ~(_GFP_DIRECT_RECLAIM | _GFP_IO)
    waits = 0
    while True:                                     # repeat_alloc:
        elem = pool.alloc(gfp_temp, pool.pool_data)
        if _element_ok(elem):
            pool.out += 1
            return elem
        if pool.elements:
            pool.out += 1
            return pool.remove_element()
        if gfp_temp != gfp_mask:        # the reserve is empty: retry with the caller's mask
            gfp_temp = gfp_mask
            continue
        if not gfp_mask & _GFP_DIRECT_RECLAIM:
            return 0
        if waits == MEMPOOL_MAX_WAITS:
            report_endless_wait(k, waits)
            return 0
        waits += 1
        k.tick(MEMPOOL_WAIT_NS)         # io_schedule_timeout(5*HZ), then try again


def report_endless_wait(k, waits: int) -> None:
    """A kmsim: hint where mempool_alloc would keep sleeping and retrying forever."""
    k.printk.emit(4, f"kmsim: mempool_alloc() with a mask that may sleep never returns NULL: with the "
                     f"allocator failing and the reserve empty it sleeps in state D and retries every "
                     f"5 seconds until someone calls mempool_free(); after {waits * 5} simulated seconds "
                     f"of that, kmsim returns NULL instead (the real task would hang, silently: the "
                     f"hung-task detector does not report a task that wakes up every 5 seconds)")


def mempool_free(k, element, pool) -> None:
    """mempool_free: refill the reserve first, else give the element back to the allocator."""
    if not _element_ok(element):
        return
    pool = _check_pool(pool, "mempool_free", k.machine.ptr_size)
    if not isinstance(element, int) and hasattr(element, "_a"):
        element = to_addr(element, "element")      # a typed view: the pointer it stands for
    pool.out = max(0, pool.out - 1)
    if pool.curr_nr < pool.min_nr:
        pool.add_element(element)
        return
    pool.free(element, pool.pool_data)


def mempool_resize(k, pool, new_min_nr) -> int:
    """mempool_resize: shrink (freeing reserve elements) or grow (filling what it can); 0."""
    pool = _check_pool(pool, "mempool_resize", k.machine.ptr_size)
    if not isinstance(new_min_nr, int) or new_min_nr <= 0:
        raise KernelBUG("mm/mempool.c:269", rip="mempool_resize+0x1ba/0x1c0",
                        hint=f"mempool_resize(pool, {new_min_nr}): BUG_ON(new_min_nr <= 0)")
    if new_min_nr <= pool.min_nr:
        while pool.curr_nr > new_min_nr:
            pool.free(pool.remove_element(), pool.pool_data)
        pool.min_nr = new_min_nr
        return 0
    pool.min_nr = new_min_nr
    while pool.curr_nr < pool.min_nr:
        elem = pool.alloc(G.GFP_KERNEL, pool.pool_data)
        if not _element_ok(elem):
            break                  # not an error: later frees top the reserve up
        pool.add_element(elem)
    return 0


def mempool_destroy(k, pool) -> None:
    """mempool_destroy: free the reserve; elements still handed out are not tracked (leak)."""
    if pool is None or pool == 0:
        return
    pool = _check_pool(pool, "mempool_destroy", k.machine.ptr_size)
    _free_reserve(pool)
    pool.destroyed = True
    if pool.out:
        k.printk.emit(4, f"kmsim: mempool_destroy(): {pool.out} element"
                         f"{'s' if pool.out > 1 else ''} taken with mempool_alloc() "
                         f"{'were' if pool.out > 1 else 'was'} never given back with mempool_free(); "
                         f"the pool does not track them, so they leak (the cache may complain "
                         f"at kmem_cache_destroy)")
