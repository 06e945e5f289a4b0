"""SLUB: slab caches as mm/slub.c (6.1) lays them out, allocates and frees them.

Objects live in the simulated RAM.  A cache's geometry comes from
``calculate_sizes``/``calculate_order`` (``mm/slub_geometry.py``); a slab is a block of
pages from the buddy allocator (PG_slab, owned by the cache); its free objects are a
Python list of addresses (the top is the freelist head) and each free object also holds
the hardened free pointer in its own bytes, so ``x ADDR`` shows it.  Poison and red zones
are real bytes.  Non-debug caches allocate from a per-cpu slab (the fast path is a list
pop/append); debug caches go through alloc/free_debug_processing (``mm/slub_debug.py``)
and report corruption in SLUB's format.  The structures and flags are ``mm/slab.py``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import KernelBUG, PageFault
from ..machine import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE
from ..report import format_frame, kernel_caller
from . import gfp as G
from .hooks import RESCHED as _RESCHED
from .hooks import (
    CacheFailHook,
    CacheHook,
    HookList,
    SlabAllocHook,
    SlabFastHook,
    SlabFreeHook,
    SlabFreeIntercept,
)
from .physmem import PG_slab
from .slab import (
    MAX_OBJS_PER_PAGE,
    NO_TAB,
    OBJECT_POISON,
    POISON_END,
    POISON_FREE,
    POISON_INUSE,
    SLAB_ACCOUNT,
    SLAB_CACHE_DMA,
    SLAB_CACHE_DMA32,
    SLAB_CONSISTENCY_CHECKS,
    SLAB_DEBUG_FLAGS,
    SLAB_DEBUG_OBJECTS,
    SLAB_FAILSLAB,
    SLAB_FLAGS_PERMITTED,
    SLAB_HWCACHE_ALIGN,
    SLAB_KASAN,
    SLAB_KMALLOC,
    SLAB_MEM_SPREAD,
    SLAB_MERGE_SAME,
    SLAB_NEVER_MERGE,
    SLAB_NO_USER_FLAGS,
    SLAB_NOLEAKTRACE,
    SLAB_PANIC,
    SLAB_POISON,
    SLAB_RECLAIM_ACCOUNT,
    SLAB_RED_ZONE,
    SLAB_SKIP_KFENCE,
    SLAB_STORE_USER,
    SLAB_TEMPORARY,
    SLAB_TRACE,
    SLAB_TYPESAFE_BY_RCU,
    SLUB_MAX_ORDER,
    SLUB_RED_ACTIVE,
    SLUB_RED_INACTIVE,
    KmemCache,
    Slab,
    fp_keys_of_slabs,
    set_freepointer,
)
from .slub_debug import (
    alloc_checked,
    caller_frames,
    frame_args,
    free_debug_processing,
    free_on_freelist,
    hp,
    init_object,
    list_slab_objects,
    slab_fix,
    slub_invariants,
    validate_slab_cache,
    wrong_cache,
)
from .slub_geometry import (
    ALIGN,
    calculate_alignment,
    calculate_order,
    calculate_sizes,
    parse_slub_debug,
    parse_slub_debug_blocks,
    slub_debug_match,
)
from .typed import alignof, sizeof, to_addr

_GFP_DIRECT_RECLAIM = G.__GFP_DIRECT_RECLAIM

if TYPE_CHECKING:
    from ..kernel import Kernel

__all__ = ["Slub", "KmemCache", "Slab", "kmem_cache_init", "kmem_cache_alloc", "kmem_cache_free",
           "calculate_sizes", "calculate_order", "parse_slub_debug",
           "SLAB_CONSISTENCY_CHECKS", "SLAB_RED_ZONE", "SLAB_POISON", "SLAB_KMALLOC",
           "SLAB_HWCACHE_ALIGN", "SLAB_CACHE_DMA", "SLAB_CACHE_DMA32", "SLAB_STORE_USER",
           "SLAB_RECLAIM_ACCOUNT", "SLAB_PANIC", "SLAB_TYPESAFE_BY_RCU", "SLAB_MEM_SPREAD",
           "SLAB_TRACE", "SLAB_DEBUG_OBJECTS", "SLAB_NOLEAKTRACE", "SLAB_FAILSLAB",
           "SLAB_ACCOUNT", "SLAB_KASAN", "SLAB_NO_USER_FLAGS", "SLAB_SKIP_KFENCE",
           "SLAB_TEMPORARY", "POISON_INUSE", "POISON_FREE", "POISON_END",
           "SLUB_RED_INACTIVE", "SLUB_RED_ACTIVE"]

_GFP_ZERO = G.__GFP_ZERO
_GFP_NOWARN = G.__GFP_NOWARN
_GFP_NOFAIL = G.__GFP_NOFAIL
_GFP_NORETRY = G.__GFP_NORETRY
_GFP_DMA = G.__GFP_DMA
_GFP_DMA32 = G.__GFP_DMA32
_GFP_RECLAIMABLE = G.__GFP_RECLAIMABLE


# -- the allocator ------------------------------------------------------------------------
class Slub:
    """The slab allocator of one kernel (k.slab)."""

    def __init__(self, k: Kernel):
        self.k = k
        self.caches: list[KmemCache] = []       # newest first, as slab_caches is walked
        self.slab_of: dict[int, Slab] = {}      # pfn of every slab page -> slab
        # hook points (mm/hooks.py): the debugging tools add themselves, the fast paths test `fast`
        self.alloc_hooks: HookList[SlabAllocHook] = HookList(self.update_fast)  # after each allocation
        self.free_hooks: HookList[SlabFreeHook] = HookList(self.update_fast)    # before each free
        self.free_intercept: SlabFreeIntercept | None = None   # slab_free_hook: KASAN's quarantine
        self.tracker = None         # kmemleak: .slab_fast(s, x, size, gfp), for the fast paths
        self.destroy_hooks: list[CacheHook] = []  # kasan_cache_shutdown: before a cache is destroyed
        self._fail_hook: CacheFailHook | None = None   # should_failslab
        self.ptr = k.machine.ptr_size
        self.mvw = memoryview(k.phys.mm).cast("Q" if self.ptr == 8 else "I")
        self.nomerge = "slab_nomerge" in k.params
        self.debug_flags, self.debug_caches = (0, None)
        self.debug_blocks: list = []
        if "slub_debug" in k.params:
            self.debug_flags, self.debug_blocks, bad = parse_slub_debug_blocks(k.params["slub_debug"])
            for ch in bad:
                k.printk.emit(3, f"slub_debug option '{ch}' unknown. skipped")
            if self.debug_flags & SLAB_POISON and k.buddy.init_on_alloc:
                k.printk.emit(6, "mem auto-init: SLAB_POISON will take precedence over "
                                 "init_on_alloc/init_on_free")
        self.min_objects = _int_param(k.params.get("slub_min_objects"), 0)
        self.max_order = min(_int_param(k.params.get("slub_max_order"), SLUB_MAX_ORDER), MAX_ORDER - 1)
        self.next_slab_id = 1
        self.large: dict[int, int] = {}         # kmalloc_large: pfn -> order
        self.kmalloc_caches: dict[str, list[KmemCache]] = {}   # family -> caches by size class
        self.kmalloc_sizes: list[int] = []      # the size classes
        self.kmalloc_lookup: list[KmemCache] = []   # size -> normal kmalloc cache
        self.lockdep_done = False
        self.watched = False        # the watchdog watches code outside a module (set_watched)

    @property
    def fail_hook(self) -> CacheFailHook | None:
        """None or fn(cache, gfp) -> bool: True fails the allocation (should_failslab)."""
        return self._fail_hook

    @fail_hook.setter
    def fail_hook(self, fn: CacheFailHook | None) -> None:
        self._fail_hook = fn
        self.update_fast()

    def hooked(self) -> bool:
        """True while some hook must see every allocation and free.  Hooks marked
        ``module_only`` (kmemleak) only matter while module code runs, and not even then
        when the tracker (kmemleak) records from the fast paths."""
        hooks = list(self.alloc_hooks) + list(self.free_hooks)
        if self._fail_hook is not None or self.free_intercept is not None or any(
                not getattr(h, "module_only", False) for h in hooks):
            return True
        if self.k.thread_owners:
            # a module's thread may allocate while no module code runs here (kmsim/modthread.py)
            return bool(hooks)
        return bool(hooks) and self.k.module_depth > 0 and self.tracker is None

    def update_fast(self) -> None:
        """Allow the fast paths only for caches without debug flags while no hook must run
        (called when hooks change, when module code starts or stops running and when the
        watchdog starts or stops watching); while module code runs they call the tracker's
        record, and while the watchdog may be watching they count the scheduling points."""
        hooked = self.hooked()
        leak = self._fast_leak(hooked)
        for s in self.caches:
            s.fast = s.alive and not s.debug and not hooked
            s.leak = leak

    def _fast_leak(self, hooked: bool) -> SlabFastHook | None:
        """What the fast paths call after an allocation (their frees then clear kmemleak's
        record).  The kernel's own code, unwatched, calls nothing: a blocking allocation
        only counts as a scheduling point (mm/hooks.RESCHED) where the watchdog may look."""
        k = self.k
        t = self.tracker if k.module_depth > 0 and not hooked else None
        if t is not None:
            return t.slab_fast
        watched = k.module_depth > 0 or self.watched or bool(k.thread_owners)
        return sched_point if watched else None

    def set_watched(self, on: bool) -> None:
        """The watchdog watches code outside a module (the shell's py) from now on, or stops."""
        if self.watched != on:
            self.watched = on
            self.update_fast()

    # -- creation ------------------------------------------------------------------------
    def find(self, name: str) -> KmemCache | None:
        """The cache (or alias) of that name."""
        for s in self.caches:
            if s.name == name:
                return s
        for s in self.caches:
            if name in s.aliases:
                return s
        return None

    def create(self, name: str, size: int, align: int = 0, flags: int = 0, ctor=None,
               boot: bool = False, usersize: int = 0) -> KmemCache | None:
        """kmem_cache_create: a cache, an alias of a mergeable one, or None."""
        k = self.k
        block = slub_debug_match(self.debug_blocks, name) if self.debug_blocks else None
        flags |= self.debug_flags if block is None else block
        if not boot and not self.nomerge and ctor is None and not usersize:
            s = self.find_mergeable(size, align, flags)
            if s is not None:
                s.refcount += 1
                s.aliases.append(name)
                k.printk.emit(4, f"kmsim: kmem_cache_create('{name}') was merged into '{s.name}' "
                                 f"(same size, no ctor, no debug flags): /proc/slabinfo lists only "
                                 f"'{s.name}'; boot with --append slab_nomerge to keep it separate")
                return s
        s = KmemCache(self, name, size, flags, ctor, self.ptr, k.phys.mm, self.mvw, k.machine.page_offset)
        s.align = calculate_alignment(flags, align, size, k.machine.cache_line, self.ptr)
        geo = calculate_sizes(size, s.align, flags, ctor is not None, self.ptr,
                              kmalloc=bool(flags & SLAB_KMALLOC))
        s.size, s.inuse, s.offset = geo["size"], geo["inuse"], geo["offset"]
        s.red_left_pad, s.flags = geo["red_left_pad"], geo["flags"]
        order = calculate_order(s.size, 1, self.min_objects, self.max_order)
        if order < 0:
            return None
        s.order = order
        s.objects = min((PAGE_SIZE << order) // s.size, MAX_OBJS_PER_PAGE)
        s.random = k.rng.getrandbits(self.ptr * 8)
        seq = list(range(s.objects))
        k.rng.shuffle(seq)                     # freelist_randomize: the cache's random_seq
        s.random_seq = seq
        s.owner = k.register_owner("slab", name)
        s.min_partial = max(5, min(10, (s.size.bit_length() - 1) // 2))
        s.cpu_partial = 0 if s.debug_any else (6 if s.size >= PAGE_SIZE else 24 if s.size >= 1024
                                               else 52 if s.size >= 256 else 120)
        s.debug = bool(s.flags & SLAB_DEBUG_FLAGS)
        s.checks = bool(s.flags & SLAB_CONSISTENCY_CHECKS)
        s.poison = bool(s.flags & OBJECT_POISON)
        s.redzone = bool(s.flags & SLAB_RED_ZONE)
        s.store_user = bool(s.flags & SLAB_STORE_USER)
        hooked = self.hooked()
        s.fast = not s.debug and not hooked
        s.leak = self._fast_leak(hooked)
        s.wshift = 3 if self.ptr == 8 else 2
        s.fpbase = k.machine.page_offset - s.offset
        s.init = k.buddy.init_on_alloc and ctor is None and not s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON)
        # slab_want_init_on_alloc: __GFP_ZERO zeroes, except a ctor cache under init_on_alloc
        s.zgfp = 0 if (k.buddy.init_on_alloc and ctor is not None) else _GFP_ZERO
        s.zeros = bytes(size)
        s.kmalloc = bool(flags & SLAB_KMALLOC)
        s.usersize = usersize
        s.mergeable = not boot
        s.module = k.modules.current_module()
        s.ctor_name = self._ctor_name(ctor, s.module)
        self.caches.insert(0, s)
        return s

    def _ctor_name(self, ctor, mod) -> str | None:
        if ctor is None:
            return None
        code = getattr(ctor, "__code__", None)
        name = getattr(ctor, "__name__", "ctor")
        if code is None:
            return f"{name}+0x0/0x10"
        return format_frame(name, 0, code, mod.name if mod else None).strip()

    def find_mergeable(self, size: int, align: int, flags: int) -> KmemCache | None:
        """find_mergeable: the oldest cache this one can alias."""
        if flags & SLAB_NEVER_MERGE:
            return None
        ptr = self.ptr
        size = ALIGN(size, ptr)
        align = calculate_alignment(flags, align, size, self.k.machine.cache_line, ptr)
        size = ALIGN(size, align)
        for s in reversed(self.caches):
            if not s.mergeable or s.ctor is not None or s.flags & SLAB_NEVER_MERGE or s.usersize:
                continue
            if size > s.size or (flags & SLAB_MERGE_SAME) != (s.flags & SLAB_MERGE_SAME):
                continue
            if (s.size & ~(align - 1)) != s.size or s.size - size >= ptr:
                continue
            return s
        return None

    def creation_hint(self, s: KmemCache) -> None:
        """One kmsim: line when debug flags are set but consistency checks are off."""
        if s.flags & (SLAB_RED_ZONE | SLAB_POISON) and not s.checks:
            what = " and ".join(w for w, f in (("red zones", SLAB_RED_ZONE), ("poison", SLAB_POISON))
                                if s.flags & f)
            self.k.printk.emit(4, f"kmsim: cache '{s.name}' has {what} but no consistency checks: "
                                  f"as in Linux 6.1, corruption of them is not reported; add "
                                  f"SLAB_CONSISTENCY_CHECKS to the flags or boot with "
                                  f"--append slub_debug=F to get SLUB's reports")

    # -- slabs ---------------------------------------------------------------------------
    def new_slab(self, s: KmemCache, gfp: int) -> Slab | None:
        """allocate_slab: pages from the buddy allocator, objects laid out, ctor run."""
        k = self.k
        pgfp = (gfp & (G.GFP_KERNEL | G.GFP_ATOMIC | _GFP_NOWARN | _GFP_NOFAIL)) & ~_GFP_ZERO
        if s.flags & SLAB_CACHE_DMA:
            pgfp |= _GFP_DMA
        elif s.flags & SLAB_CACHE_DMA32:
            pgfp |= _GFP_DMA32
        if s.flags & SLAB_RECLAIM_ACCOUNT:         # s->allocflags: Reclaimable pageblocks
            pgfp |= _GFP_RECLAIMABLE
        prev = k.current_owner
        k.current_owner = s.owner
        try:
            pfn = k.buddy.alloc(pgfp | _GFP_NOWARN | _GFP_NORETRY, s.order) if s.order else -1
            if pfn < 0:
                pfn = k.buddy.alloc(pgfp, s.order)
        finally:
            k.current_owner = prev
        if pfn < 0:
            return None
        sl = self._setup_slab(s, pfn)
        order = self._shuffled(s, sl)
        self._layout_objects(s, sl, order)
        sl.freelist = order[::-1]
        self._write_chain(s, sl.freelist)
        sl.where = "partial"                     # listed before the ctor runs: a faulting
        s.partial[sl] = None                     # ctor leaves the cache consistent
        if s.ctor is not None:
            for x in order:
                s.ctor(x)
        return sl

    def _setup_slab(self, s: KmemCache, pfn: int) -> Slab:
        k, n = self.k, 1 << s.order
        sid = self.next_slab_id
        self.next_slab_id += 1
        sl = Slab(s, pfn, k.pfn_to_virt(pfn), sid)
        ph = k.phys
        ph.flags[pfn:pfn + n] |= PG_slab
        ph.owner[pfn:pfn + n] = s.owner
        ph.private[pfn:pfn + n] = sid
        ph.dirty_map[pfn:pfn + n] = 1        # SLUB writes its slabs directly, not through VirtMem
        for p in range(pfn, pfn + n):
            self.slab_of[p] = sl
        return sl

    def setup_full_slabs(self, s: KmemCache, pfns: list[int]) -> None:
        """_setup_slab for many slabs of a cache at once, listed full (boot_fill's bulk: the
        page arrays in one pass instead of four numpy slices a slab)."""
        if not pfns:
            return
        k, n = self.k, 1 << s.order
        sid = self.next_slab_id
        self.next_slab_id += len(pfns)
        first = np.asarray(pfns, dtype=np.int64)
        pages = (first[:, None] + np.arange(n)).ravel()
        ph = k.phys
        ph.flags[pages] |= PG_slab
        ph.owner[pages] = s.owner
        ph.private[pages] = np.repeat(np.arange(sid, sid + len(pfns), dtype=np.int64), n)
        ph.dirty_map[pages] = 1
        bases = [k.pfn_to_virt(pfn) for pfn in pfns]
        for i, (pfn, keys) in enumerate(zip(pfns, fp_keys_of_slabs(s, bases), strict=True)):
            sl = Slab(s, pfn, bases[i], sid + i, keys)
            sl.where = "full"
            s.full[sl] = None
            for p in range(pfn, pfn + n):
                self.slab_of[p] = sl

    def _shuffled(self, s: KmemCache, sl: Slab) -> list[int]:
        """shuffle_freelist: the random sequence from a random start."""
        seq = s.random_seq
        pos = self.k.rng.randrange(len(seq))
        base = sl.base + s.red_left_pad
        sz = s.size
        return [base + seq[(pos + i) % len(seq)] * sz for i in range(len(seq))]

    def _layout_objects(self, s: KmemCache, sl: Slab, order: list[int]) -> None:
        """setup_slab_debug and init_object(SLUB_RED_INACTIVE) for every object."""
        if not s.debug:
            return
        ph = self.k.phys
        start = sl.base - s.po
        if s.flags & SLAB_POISON:
            ph.bytes[start:start + (PAGE_SIZE << s.order)] = POISON_INUSE
        for x in order:
            init_object(s, x, SLUB_RED_INACTIVE)

    def _write_chain(self, s: KmemCache, fl: list[int]) -> None:
        nxt = 0
        for x in fl:
            set_freepointer(s, x, nxt)
            nxt = x

    def discard_slab(self, s: KmemCache, sl: Slab) -> None:
        """discard_slab: the pages go back to the buddy allocator."""
        k, n, pfn = self.k, 1 << sl.order, sl.pfn
        ph = k.phys
        ph.flags[pfn:pfn + n] &= ~PG_slab & 0xffffffff
        ph.private[pfn:pfn + n] = 0
        for p in range(pfn, pfn + n):
            self.slab_of.pop(p, None)
        sl.where = "gone"
        k.buddy.free(pfn, sl.order)

    # -- allocation ----------------------------------------------------------------------
    def slab_alloc(self, s: KmemCache, gfp: int, size: int | None = None) -> int:
        """slab_alloc_node: the slow path (and every debug-cache allocation)."""
        _RESCHED[0] += gfp & _GFP_DIRECT_RECLAIM        # might_sleep: a scheduling point
        if self._fail_hook is not None and self._fail_hook(s, gfp):
            return 0
        x = self._alloc_debug(s, gfp) if s.debug else self._alloc_cpu(s, gfp)
        if not x:
            return 0
        if self.slab_want_init_on_alloc(s, gfp):
            o = x - s.po
            s.mm[o:o + s.object_size] = s.zeros
        for hook in self.alloc_hooks:
            hook(s, x, s.object_size if size is None else size)
        return x

    def slab_want_init_on_alloc(self, s: KmemCache, gfp: int) -> bool:
        """mm/slab.h slab_want_init_on_alloc (6.1): with init_on_alloc, every cache but a
        ctor, RCU or poison one; otherwise (and for RCU/poison caches) only __GFP_ZERO.
        A ctor cache is never zeroed while init_on_alloc is on, even with __GFP_ZERO."""
        return bool(s.init or gfp & s.zgfp)

    def _alloc_cpu(self, s: KmemCache, gfp: int) -> int:
        fl = s.cpu_freelist
        if not fl:
            old = s.cpu_slab
            if old is not None:
                old.where, old.tab = "full", NO_TAB
                s.full[old] = None
            if s.partial:
                sl: Slab | None = next(iter(s.partial))
            else:
                sl = self.new_slab(s, gfp)
            if sl is None:
                s.cpu_slab, s.cpu_freelist = None, []
                return 0
            del s.partial[sl]
            sl.where = "cpu"
            s.cpu_slab, s.cpu_freelist = sl, sl.freelist
            fl = sl.freelist
        return fl.pop()

    def _deactivate(self, s: KmemCache) -> None:
        """deactivate_slab: the cpu slab goes to the partial or full list."""
        sl = s.cpu_slab
        if sl is None:
            return
        s.cpu_slab, s.cpu_freelist = None, []
        sl.tab = NO_TAB
        s.full.pop(sl, None)
        if len(sl.freelist) == sl.objects and len(s.partial) >= s.min_partial:
            self.discard_slab(s, sl)
        elif sl.freelist:
            sl.where = "partial"
            s.partial[sl] = None
        else:
            sl.where = "full"
            s.full[sl] = None

    def _alloc_debug(self, s: KmemCache, gfp: int) -> int:
        while True:
            sl = next(iter(s.partial)) if s.partial else self.new_slab(s, gfp)
            if sl is None:
                return 0
            x = sl.freelist.pop()
            if not sl.freelist:
                del s.partial[sl]
                sl.where = "full"
                s.full[sl] = None
            if alloc_checked(s, sl, x):
                return x

    def slab_free(self, s: KmemCache | None, x: int, caller: str = "kmem_cache_free") -> None:
        """kmem_cache_free/kfree of a slab object: checks, then back on its slab (unless
        free_intercept, KASAN's quarantine, keeps it)."""
        if self.free_intercept is not None and self.free_intercept(s, x, caller):
            return
        k = self.k
        sl = self.slab_of.get((x - k.machine.page_offset) >> PAGE_SHIFT) if x > 0 else None
        if sl is None:
            self._free_not_slab(s, x, caller)
            return
        real = sl.cache
        if s is not None and real is not s:
            wrong_cache(s, real, x)
        s = real
        for hook in self.free_hooks:
            hook(s, x)
        if s.debug:
            self._free_debug(s, sl, x)
            return
        if not s.object_index_ok(sl, x):
            k.printk.emit(4, f"kmsim: {caller}({x:#x}): not the start of an object of '{s.name}' "
                             f"(SLUB without consistency checks would corrupt its freelist); ignored")
            return
        fl = sl.freelist
        if fl and fl[-1] == x:
            raise KernelBUG("mm/slub.c:419", rip="kmem_cache_free+0x2f7/0x310",
                            hint=f"double free of {x:#x} in '{s.name}': the hardened freelist "
                                 f"(BUG_ON(object == fp) in set_freepointer) caught it")
        if x in fl:
            self._free_twice(s, x, caller)
            return
        i = (x - sl.base - s.red_left_pad) // s.size
        s.mvw[(x - s.fpbase) >> s.wshift] = (fl[-1] if fl else 0) ^ sl.keys[i]
        fl.append(x)
        if sl.where != "cpu":
            self._after_free(s, sl, len(fl))
        elif sl.tab is NO_TAB:
            sl.tab = sl.fast_table()             # the next frees of the cpu slab are fast

    def _free_twice(self, s: KmemCache, x: int, caller: str) -> None:
        """The free of an object deeper in the freelist than its head, without slub_debug:
        the kernel says nothing and makes its freelist a cycle; kmsim says one line and
        keeps its freelist (and the invariant checker) sound by not freeing it again."""
        self.k.printk.emit(4, f"kmsim: {caller}({x:#x}): object {x:#x} of '{s.name}' is already "
                              f"free; the kernel frees it again without a word, and its freelist "
                              f"becomes a cycle (one address handed out twice); kmsim ignores this "
                              f"free. Boot with --append slub_debug=F, or kasan, for the kernel's report")

    def _after_free(self, s: KmemCache, sl: Slab, nfree: int) -> None:
        """The slab's list after a free: off the full list when it was empty before, back to
        the page allocator once nothing is in use and enough partial slabs remain."""
        if nfree == 1 and sl.where == "full":
            del s.full[sl]
            sl.where = "partial"
            s.partial[sl] = None
        if sl.inuse == 0 and sl.where == "partial" and len(s.partial) > s.min_partial:
            del s.partial[sl]
            self.discard_slab(s, sl)

    def _free_debug(self, s: KmemCache, sl: Slab, x: int) -> None:
        """free_to_partial_list (6.1): slab_free_freelist_hook has already set the object's
        free pointer to NULL; free_debug_processing decides; then the object is freed."""
        valid = s.object_index_ok(sl, x)
        if valid:
            self.slab_free_freelist_hook(s, sl, x)
        elif not s.checks and sl.inuse > 0:
            self.k.printk.emit(4, f"kmsim: kmem_cache_free({x:#x}): not the start of an object of "
                                  f"'{s.name}'; ignored")
            return
        if not free_debug_processing(s, sl, x):
            slab_fix(s, f"Object at 0x{hp(self.k, x)} not freed")
            return
        fl = sl.freelist
        if x in fl:                              # only without consistency checks
            free_on_freelist(s, sl, x)
            return
        set_freepointer(s, x, fl[-1] if fl else 0)
        fl.append(x)
        self._after_free(s, sl, len(fl))

    def slab_free_freelist_hook(self, s: KmemCache, sl: Slab, x: int) -> None:
        """set_freepointer(s, object, NULL) before the free: an object that is already free
        becomes the tail of the chain, and the free objects after it are lost."""
        set_freepointer(s, x, 0)
        sl.cut_chain(x)

    def _free_not_slab(self, s: KmemCache | None, x: int, caller: str) -> None:
        k = self.k
        if not k.vm.is_direct(x):
            bogus = k.page_struct_addr(((x - k.machine.page_offset) & k.machine.addr_mask) >> PAGE_SHIFT)
            raise PageFault(bogus & k.machine.addr_mask, False,
                            hint=f"{caller}() was given {x:#x}, which is not an address from the "
                                 f"slab allocator (not in the direct map)")
        k.reporter.warn("mm/slab.h:627", "kmem_cache_free+0x2c5/0x310",
                        message="virt_to_cache: Object is not a Slab page!",
                        once_key="virt_to_cache_not_slab")
        k.printk.emit(4, f"kmsim: {caller}({x:#x}): that address is not in a slab page; "
                         f"nothing was freed")

    def destroy(self, s: KmemCache, caller: str | None = None) -> bool:
        """kmem_cache_destroy: False (after the kernel's reports) if objects remain."""
        if s is None or not s.alive:
            return True
        for hook in self.destroy_hooks:
            hook(s)
        s.refcount -= 1
        if s.refcount > 0:
            if s.aliases:
                s.aliases.pop()
            return True
        if self.kmem_cache_shutdown(s):
            s.refcount = 1
            s.destroy_failed = True          # kmemleak then says so instead of "not destroyed"
            frames = caller_frames(self.k)
            who = caller or (format_frame(*frame_args(frames[0])).strip() if frames
                             else kernel_caller(self.k))
            self.k.reporter.warn("mm/slab_common.c:493", "kmem_cache_destroy+0x141/0x150",
                                 message=f"kmem_cache_destroy {s.name}: Slab cache still has "
                                         f"objects when called from {who}")
            return False
        s.alive = False
        s.fast = False
        if s in self.caches:
            self.caches.remove(s)
        return True

    def kmem_cache_shutdown(self, s: KmemCache) -> bool:
        """__kmem_cache_shutdown (6.1): flush the cpu slab, then free_partial: empty partial
        slabs go, the others are listed.  True (busy) if any slab is left."""
        self._deactivate(s)
        for sl in list(s.partial):
            if sl.inuse == 0:
                del s.partial[sl]
                self.discard_slab(s, sl)
            else:
                list_slab_objects(s, sl, f"Objects remaining in {s.name} on "
                                              f"__kmem_cache_shutdown()")
        return bool(s.partial or s.full)

    def find_slab(self, addr: int) -> Slab | None:
        """The slab whose pages hold addr."""
        k = self.k
        if not k.vm.is_direct(addr):
            return None
        return self.slab_of.get((addr - k.machine.page_offset) >> PAGE_SHIFT)

    def find_object(self, addr: int):
        """(cache, object start, object_size) of the object slot containing addr, or None."""
        sl = self.find_slab(addr)
        if sl is None:
            return None
        s = sl.cache
        off = addr - sl.base
        i = off // s.size
        if i >= sl.objects:
            return None
        start = sl.base + i * s.size + s.red_left_pad
        return s, start, s.object_size

    def is_free(self, s: KmemCache, x: int) -> bool:
        """True if object x is on a freelist."""
        sl = self.find_slab(x)
        return sl is not None and x in sl.freelist

    def stats(self, s: KmemCache) -> dict:
        """Numbers for slabinfo and sysfs: active/num objects, slabs, partial counts."""
        slabs = s.slabs()
        num_slabs = len(slabs)
        num_objs = sum(sl.objects for sl in slabs)
        free_partial = sum(sl.objects - sl.inuse for sl in s.partial)   # count_free
        active = num_objs - free_partial
        inuse = sum(sl.inuse for sl in slabs)
        return {"active_objs": active, "num_objs": num_objs, "num_slabs": num_slabs,
                "active_slabs": num_slabs, "objects": inuse, "partial": len(s.partial),
                "objects_partial": sum(sl.inuse for sl in s.partial),
                "cpu_slabs": 1 if s.cpu_slab is not None else 0,
                "pages": num_slabs << s.order}

    def total_pages(self) -> int:
        """Pages held by every cache plus kmalloc_large blocks (meminfo's Slab)."""
        return len(self.slab_of) + sum(1 << o for o in self.large.values())

    def boot_message(self) -> None:
        """kmem_cache_init's line, once the boot caches exist."""
        k = self.k
        k.printk.emit(6, f"SLUB: HWalign={k.machine.cache_line}, Order=0-{self.max_order}, "
                         f"MinObjects={self.min_objects}, CPUs=1, Nodes=1")

    def debug_check(self) -> list[str]:
        """Invariant violations of every cache (debug_vm's check_subsystems)."""
        return slub_invariants(self)

    def validate(self, s: KmemCache) -> None:
        """validate_slab_cache (the sysfs 'validate' file)."""
        validate_slab_cache(s)

    def shrink(self, s: KmemCache) -> None:
        """__kmem_cache_do_shrink: flush the cpu slab, then give every empty slab of the
        partial list back to the page allocator (min_partial does not apply)."""
        self._deactivate(s)
        for sl in [sl for sl in s.partial if len(sl.freelist) == sl.objects]:
            del s.partial[sl]
            self.discard_slab(s, sl)

def _int_param(val, default: int) -> int:
    try:
        return int(val) if isinstance(val, str) else default
    except ValueError:
        return default


# -- the fast paths (called straight from kmsim.linux.slab) ---------------------------------
def sched_point(s, x: int, size: int, gfp: int) -> int:
    """A fast allocation's s.leak while the watchdog may be watching and kmemleak does not
    record: might_sleep, a blocking allocation is a scheduling point (mm/hooks.RESCHED)."""
    _RESCHED[0] += gfp & _GFP_DIRECT_RECLAIM
    return x


def kmem_cache_alloc(s, gfpflags):
    """void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags): an address, or 0."""
    try:
        # might_sleep, a scheduling point: counted by s.leak while someone watches, else by slab_alloc
        if s.fast:
            x = s.cpu_freelist.pop()
            if s.init or gfpflags & s.zgfp:         # slab_want_init_on_alloc
                s.mm[x - s.po:x - s.po + s.object_size] = s.zeros
            return x if s.leak is None else s.leak(s, x, s.object_size, gfpflags)   # module code runs
    except (AttributeError, IndexError, TypeError):
        pass
    if not isinstance(s, KmemCache) or not s.alive:
        return _bad_cache(s, "kmem_cache_alloc")
    if isinstance(gfpflags, bool) or not isinstance(gfpflags, int):
        raise TypeError(f"kmem_cache_alloc() flags must be GFP_* (int), not {type(gfpflags).__name__}")
    return s.slub.slab_alloc(s, gfpflags)


def kmem_cache_free(s, x, _caller: str = "kmem_cache_free"):
    """void kmem_cache_free(struct kmem_cache *s, void *x) (_caller: kfree, for kmsim's lines)."""
    try:
        sl = s.cpu_slab
        w, key, lo, hi, i = sl.tab[x]    # KeyError: x is no object of the cpu slab (Slab.fast_table)
        if s.fast:
            head = fl[-1] if (fl := sl.freelist) else 0
            raw = (mvw := s.mvw)[w]
            # x holds a free pointer (NULL or into its slab, as a free object does): the slow path
            if head != x and raw != key and not lo <= raw < hi:
                if s.leak is not None and (r := sl.rec_h):     # module code runs: kmemleak forgets
                    r[i] = 0
                mvw[w] = head ^ key
                fl.append(x)
                return
    except (AttributeError, KeyError, TypeError):
        pass
    if not isinstance(s, KmemCache) or not s.alive:
        _bad_cache(s, "kmem_cache_free")
        return
    x = to_address(x, "kmem_cache_free() object")
    if x == 0:
        raise PageFault(s.slub.k.page_struct_addr((-s.po & s.slub.k.machine.addr_mask) >> PAGE_SHIFT)
                        & s.slub.k.machine.addr_mask, False,
                        hint="kmem_cache_free() was given NULL: unlike kfree(), it does not "
                             "accept NULL")
    s.slub.slab_free(s if _caller == "kmem_cache_free" else None, x, _caller)


def to_address(x, what: str) -> int:
    """An object argument as an address: an int as it is, a typed view by its address."""
    if x.__class__ is int:
        return x
    if isinstance(x, bool):
        raise TypeError(f"{what} must be an address (int), not bool")
    return to_addr(x, what)


def _bad_cache(s, fn: str):
    if s is None or s == 0:
        raise PageFault(0x0, False, hint=f"{fn}() was given a NULL cache pointer")
    if isinstance(s, KmemCache):
        raise PageFault(0x6b6b6b6b6b6b6b6b & s.slub.k.machine.addr_mask, False,
                        hint=f"{fn}() on '{s.name}' after kmem_cache_destroy() freed it "
                             f"(use after free of the struct kmem_cache)")
    raise TypeError(f"{fn}() takes a struct kmem_cache * (from kmem_cache_create), "
                    f"not {type(s).__name__}")


def kmem_cache_init(k: Kernel) -> Slub:
    """Boot: the SLUB allocator (the kernel then creates the kmalloc and boot caches,
    mm/kmalloc.py create_boot_caches, and Slub.boot_message says so)."""
    slub = Slub(k)
    k.context_hooks.append(slub.update_fast)
    return slub


# -- module API bodies ----------------------------------------------------------------------
def kmem_cache_create(k, name, size, align, flags, ctor):
    """kmem_cache_create: checks as mm/slab_common.c does, then Slub.create (None on failure)."""
    slub = k.slab
    for arg, what in ((size, "size"), (align, "align"), (flags, "flags")):
        if isinstance(arg, bool) or not isinstance(arg, int):
            raise TypeError(f"kmem_cache_create() {what} must be an int, not {type(arg).__name__}")
    if ctor is not None and not callable(ctor):
        raise TypeError("kmem_cache_create() ctor must be a function or None")
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    err = 0
    if not isinstance(name, str) or not name or size < 1 or size > (1 << (MAX_ORDER + PAGE_SHIFT - 1)):
        err = -22
        k.printk.emit(4, f"kmem_cache_create({name}) integrity check failed")
    elif flags & ~SLAB_FLAGS_PERMITTED:
        err = -22                               # "Refuse requests with allocator specific flags"
    elif any(s.name == name for s in slub.caches) and _sysfs_name_taken(slub, name, size, align, flags, ctor):
        err = -17
    s = None
    if not err:
        s = slub.create(name, size, align, flags & ~OBJECT_POISON, ctor)
        if s is None:
            err = -7
    if err:
        if flags & SLAB_PANIC:
            raise KernelBUG("mm/slab_common.c:335", hint=f"kmem_cache_create({name}) failed with "
                                                         f"SLAB_PANIC: the kernel would panic here")
        k.printk.emit(4, f"kmem_cache_create_usercopy({name}) failed with error {err}")
        k.reporter.dump_stack(["kmem_cache_create_usercopy.cold+0x5e/0x80",
                               "kmem_cache_create+0x16/0x20"])
        if err == -22 and flags & ~SLAB_FLAGS_PERMITTED:
            k.printk.emit(4, f"kmsim: kmem_cache_create('{name}') flags {flags:#x} include "
                             f"{flags & ~SLAB_FLAGS_PERMITTED:#x}, which is no SLAB_* flag a cache "
                             f"may be created with (GFP_* flags belong to kmem_cache_alloc)")
        return None
    assert s is not None
    if s.name == name:
        slub.creation_hint(s)
    return s


def _sysfs_name_taken(slub, name, size, align, flags, ctor) -> bool:
    """A second cache of the same name: sysfs refuses the duplicate directory (-EEXIST)."""
    if not slub.nomerge and ctor is None and slub.find_mergeable(size, align, flags) is not None:
        return False
    k = slub.k
    k.printk.emit(3, f"sysfs: cannot create duplicate filename '/kernel/slab/{name}'")
    k.reporter.dump_stack(["sysfs_warn_dup.cold+0x17/0x24", "sysfs_create_dir_ns+0xcc/0xe0",
                           "kobject_add_internal+0xbc/0x2b0", "kobject_init_and_add+0x6f/0xa0",
                           "sysfs_slab_add+0x105/0x260", "__kmem_cache_create+0x390/0x580",
                           "kmem_cache_create_usercopy+0x133/0x2b0", "kmem_cache_create+0x16/0x20"])
    k.printk.emit(3, f"kobject_add_internal failed for {name} with -EEXIST, don't try to register "
                     f"things with the same name in the same directory.")
    k.printk.emit(4, f"kmsim: a cache named '{name}' already exists (another module still has it): "
                     f"SLUB's sysfs needs unique names")
    return True


def KMEM_CACHE(k, struct, flags):
    """KMEM_CACHE(struct, flags): kmem_cache_create(#struct, sizeof, __alignof__, flags, NULL)."""
    return kmem_cache_create(k, struct.__name__, sizeof(struct), alignof(struct), flags, None)


def kmem_cache_destroy(k, s) -> None:
    """kmem_cache_destroy: NULL is a no-op; objects left give the kernel's reports."""
    if s is None or s == 0:
        return
    if not isinstance(s, KmemCache):
        _bad_cache(s, "kmem_cache_destroy")
    if not s.alive:
        k.printk.emit(4, f"kmsim: kmem_cache_destroy('{s.name}') called again on a destroyed "
                         f"cache (a use after free in a real kernel); ignored")
        return
    k.slab.destroy(s)


def kmem_cache_shrink(k, s) -> int:
    """kmem_cache_shrink: release the cache's empty slabs; 0."""
    if not isinstance(s, KmemCache) or not s.alive:
        _bad_cache(s, "kmem_cache_shrink")
    k.slab.shrink(s)
    return 0


def kmem_cache_size(s) -> int:
    """kmem_cache_size: the object size the cache was created with."""
    if not isinstance(s, KmemCache):
        _bad_cache(s, "kmem_cache_size")
    return s.object_size
