"""The page allocator: __alloc_pages over the zonelist, freeing, and its reports.

As mm/page_alloc.c: the zone selected by the GFP mask and every lower one are
tried at the low watermark, then again at min (the slow path); a request too
large warns once; a failure prints warn_alloc's "page allocation failure" with
the Mem-Info summary; a GFP_KERNEL request of a small order goes to the OOM
killer instead.  A bad free is "BUG: Bad page state".
"""
from __future__ import annotations

import mmap
import sys
from itertools import repeat
from types import FrameType

import numpy as np

from ..machine import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE
from ..report import TAINT_BAD_PAGE
from . import gfp as G
from .buddy import (
    ALLOC_NOFRAGMENT,
    GFP_MIGRATETYPE,
    MIGRATE_UNMOVABLE,
    ORDER_NR_PAGES,
    PAGE_ALLOC_COSTLY_ORDER,
    Zone,
    free_range_to_blocks,
    setup_per_zone_lowmem_reserve,
    setup_per_zone_wmarks,
)
from .gfp import __GFP_ATOMIC as _GFP_ATOMIC
from .gfp import __GFP_DIRECT_RECLAIM as _GFP_DIRECT_RECLAIM
from .gfp import __GFP_HIGH as _GFP_HIGH
from .gfp import __GFP_NORETRY as _GFP_NORETRY
from .gfp import __GFP_NOWARN as _GFP_NOWARN
from .gfp import __GFP_RETRY_MAYFAIL as _GFP_RETRY_MAYFAIL
from .gfp import __GFP_ZERO as _GFP_ZERO
from .hooks import RESCHED as _RESCHED
from .hooks import HookList
from .page import Page
from .physmem import (
    PG_buddy,
    PG_hole,
    PG_module,
    PG_pcp,
    PG_pgtable,
    PG_reserved,
    PG_slab,
    PG_vmalloc,
    PhysMem,
)

__all__ = ["PageAllocator"]

_PAGE_CHUNK = 64         # struct pages made at once (new_page)
_MADVISE_ORDER = 5
# Zero-filled bytes of each order up to _MADVISE_ORDER (larger blocks are cleared with
# MADV_DONTNEED): a plain list, since the fast path indexes it on every allocation.
_ZERO = [bytes(PAGE_SIZE << o) for o in range(_MADVISE_ORDER)]
_CLEAN = [bytes(1 << o) for o in range(MAX_ORDER)]       # PhysMem.dirty of a cleared block
# The owner (0) of a freed block's tail pages, by order (in owner's own buffer format)
_FREE_TAILS = [memoryview(np.zeros((1 << o) - 1, np.int32)) for o in range(MAX_ORDER)]  # type: ignore[arg-type]  # numpy's stubs: an ndarray is a buffer
_SECTION_SHIFT = 12      # 16 MiB: every zone boundary (16M, 896M, 4G) is a multiple of it
_FREE_OR_ABSENT = PG_buddy | PG_pcp | PG_reserved | PG_hole
# A page some other allocator still owns: __free_pages refuses it (free_bad says why).
_NOT_FREEABLE = _FREE_OR_ABSENT | PG_slab | PG_pgtable | PG_vmalloc | PG_module

_ALLOC_FRAMES = ["__alloc_pages+0x305/0x330"]
# The kernel function each page API of kmsim.mm.page_api stands for, in call traces.
_API_FRAMES = {"__get_free_pages": "__get_free_pages+0xd/0x40",
               "__get_free_page": "__get_free_pages+0xd/0x40",
               "get_zeroed_page": "__get_free_pages+0xd/0x40",
               "alloc_pages": "alloc_pages+0x90/0x160", "alloc_page": "alloc_pages+0x90/0x160"}


def _api_frames() -> list[str]:
    """The page API function the module called, as a kernel frame (none if not called
    from kmsim.mm.page_api)."""
    f: FrameType | None = sys._getframe(1)
    while f is not None:
        if f.f_globals.get("__name__") == "kmsim.mm.page_api" and f.f_code.co_name in _API_FRAMES:
            return [_API_FRAMES[f.f_code.co_name]]
        f = f.f_back
    return []


class PageAllocator:
    """All zones of the machine and the entry points of the buddy allocator.

    Pages are identified by pfn.  ``alloc(gfp, order)`` returns a pfn or -1;
    ``free(pfn, order)`` checks the page state first.
    """

    # Declared slots, as Zone's: with 30 attributes or more in an instance dict, the method
    # calls of the hot paths (self._alloc, self.prep_new_page ...) lose their specialization.
    __slots__ = ("k", "mem", "zones", "zone_by_name", "_fail_hook", "hooked", "alloc_hooked", "free_hooked",
                 "lone_module_hook", "alloc_hooks", "free_hooks", "module_alloc_hooks", "module_free_hooks",
                 "nr_pages", "init_on_alloc", "_nopage_rs", "kernel_owner", "_cflags", "_crefcount",
                 "_corder", "_cowner", "_mv_owner", "_mm", "_dirty", "_owner_fills", "pages", "zonelists",
                 "nofragment", "fast_zonelists", "_zone_at", "min_free_kbytes")

    def __init__(self, kernel, mem: PhysMem):
        self.k = kernel
        self.mem = mem
        self.zones: list[Zone] = []
        self.zone_by_name: dict[str, Zone] = {}
        self._fail_hook = None           # fault injection: fn(gfp, order) -> bool
        self.hooked = False              # some list below is not empty
        self.alloc_hooked = self.free_hooked = False     # alloc_hooks or module_alloc_hooks ...
        self.lone_module_hook = None     # the one module alloc hook when it is the only alloc hook
        self.alloc_hooks: list = HookList(self._update_hooked)  # fn(pfn, order, gfp) after an allocation
        self.free_hooks: list = HookList(self._update_hooked)   # fn(pfn, order) before a free
        # Hooks that only care about modules' pages (kmemleak): called for allocations made
        # by module code and frees of pages not owned by the kernel.
        self.module_alloc_hooks: list = HookList(self._update_hooked)
        self.module_free_hooks: list = HookList(self._update_hooked)
        self.nr_pages = mem.nr_pages
        self.init_on_alloc = True
        self._nopage_rs = (-(1 << 62), 0, 0)        # warn_alloc's ratelimit: start, printed, missed
        self.kernel_owner = kernel.kernel_owner
        # What the hot paths index, without a lookup through self.mem:
        # (memoryviews: indexing one costs less than a ctypes array's on 3.11 and 3.13)
        self._cflags, self._crefcount = memoryview(mem.flags), memoryview(mem.refcount)  # type: ignore[arg-type]  # numpy's stubs: an ndarray is a buffer
        self._corder, self._cowner = memoryview(mem.order), memoryview(mem.owner)  # type: ignore[arg-type]  # the same
        self._mv_owner = mem.mv_owner
        self._mm, self._dirty = mem.mm, mem.dirty
        self._owner_fills: dict[int, list[memoryview]] = {}     # tail pages' owner by order (prep_new_page)
        self.pages: list[Page | None] = [None] * mem.nr_pages   # struct page of each frame (page_of)
        self.zonelists: list[list[Zone]] = [[] for _ in range(8)]   # by gfp & 7 (the zone modifiers)
        self.nofragment = [0] * 8        # alloc_flags_nofragment by gfp & 7
        self.fast_zonelists = self.zonelists                      # no zones while a fail hook is set
        self._zone_at: list[Zone | None] = []                     # by pfn >> _SECTION_SHIFT

    @property
    def fail_hook(self):
        """None or fn(gfp, order) -> bool: True fails the allocation (should_fail_alloc_page)."""
        return self._fail_hook

    @fail_hook.setter
    def fail_hook(self, fn) -> None:
        self._fail_hook = fn
        self.fast_zonelists = self.zonelists if fn is None else [[] for _ in range(8)]

    def _update_hooked(self) -> None:
        self.alloc_hooked = bool(self.alloc_hooks or self.module_alloc_hooks)
        self.free_hooked = bool(self.free_hooks or self.module_free_hooks)
        self.hooked = self.alloc_hooked or self.free_hooked
        # kmemleak's alone (the default): the fast path calls it directly, for module pages only
        lone = len(self.module_alloc_hooks) == 1 and not self.alloc_hooks
        self.lone_module_hook = self.module_alloc_hooks[0] if lone else None

    def new_page(self, pfn: int) -> Page:
        """The struct page of frame pfn, the first time it is asked for (page_of): those
        of its 64 neighbours are made with it, in one map (a list of Nones never has a
        Page among them: they are made together)."""
        start = pfn & -_PAGE_CHUNK
        end = min(start + _PAGE_CHUNK, self.nr_pages)
        self.pages[start:end] = map(Page, repeat(self.k, end - start), range(start, end))
        return self.pages[pfn]  # type: ignore[return-value]  # just made

    # -- boot --------------------------------------------------------------------
    def build_zones(self, machine, nr_pages: int) -> None:
        """Create the populated zones over [0, nr_pages)."""
        start = 1 if machine.name in ("x86_64", "i386") else 0   # pfn 0 is not memory on a PC
        for idx, spec in enumerate(machine.zones):
            end = nr_pages if spec.end is None else min(nr_pages, spec.end >> PAGE_SHIFT)
            if end > start:
                z = Zone(self.mem, spec.name, idx, start, end, self.pageblock_order(machine))
                self.zones.append(z)
                self.zone_by_name[z.name] = z
            start = max(start, end)
        self.zonelists = [self.zonelist(key) for key in range(8)]
        # alloc_flags_nofragment: with ZONE_DMA32 configured (x86_64), a request whose
        # preferred zone is Normal first steals only whole pageblocks
        self.nofragment = [ALLOC_NOFRAGMENT if machine.name == "x86_64" and zl
                           and zl[0].name == "Normal" else 0 for zl in self.zonelists]
        self.fail_hook = self._fail_hook
        sections = (nr_pages + (1 << _SECTION_SHIFT) - 1) >> _SECTION_SHIFT
        self._zone_at = [self._section_zone(i << _SECTION_SHIFT, (i + 1) << _SECTION_SHIFT)
                         for i in range(sections)]

    @staticmethod
    def pageblock_order(machine) -> int:
        """pageblock_order: HUGETLB_PAGE_ORDER (9) on x86_64, MAX_ORDER - 1 on i386 (no
        PAE) and ARM, which have no 2 MiB hugepages."""
        return 9 if machine.ptr_size == 8 else MAX_ORDER - 1

    def _section_zone(self, start: int, end: int) -> Zone | None:
        """The zone spanning every pfn of [start, end) that is in a zone, None if two do."""
        zones = {id(z): z for z in self.zones if z.zone_start_pfn < end and start < z.end_pfn}
        return next(iter(zones.values())) if len(zones) == 1 else None

    def zone_of(self, pfn: int) -> Zone | None:
        """The zone spanning pfn."""
        for z in self.zones:
            if z.zone_start_pfn <= pfn < z.end_pfn:
                return z
        return None

    def mark_hole(self, start: int, end: int) -> None:
        """Frames that do not exist (the BIOS hole, pfn 0)."""
        self.mem.flags[start:end] = PG_hole
        for z in self.zones:
            lo, hi = max(start, z.zone_start_pfn), min(end, z.end_pfn)
            if hi > lo:
                z.present -= hi - lo

    def free_boot_memory(self, reserved: list[tuple[int, int, int]], rng) -> None:
        """memblock_free_all: free every present frame not reserved; shuffle the lists.

        :param reserved: (start_pfn, end_pfn, owner id) ranges kept by the kernel
        """
        flags = self.mem.flags
        for start, end, owner in reserved:
            flags[start:end] |= PG_reserved
            self.mem.owner[start:end] = owner
            self.mem.refcount[start:end] = 1
        taken = (flags & (PG_reserved | PG_hole)) != 0
        for z in self.zones:
            seg = taken[z.zone_start_pfn:z.end_pfn]
            z.managed = int(z.spanned - seg.sum())
            blocks = []
            pfn = z.zone_start_pfn
            # walk runs of free frames
            edges = _runs(~seg)
            for a, b in edges:
                blocks.extend(free_range_to_blocks(z.zone_start_pfn + a, z.zone_start_pfn + b))
            rng.shuffle(blocks)      # CONFIG_SHUFFLE_PAGE_ALLOCATOR
            for bpfn, order in blocks:
                z.free_one_page(bpfn, order)
            del pfn
        setup_per_zone_wmarks(self.zones)
        by_type = [(name, self.zone_by_name.get(name)) for name in self.k.machine.zone_names_all]
        setup_per_zone_lowmem_reserve(by_type)

    def free_reserved_area(self, start: int, end: int) -> int:
        """free_reserved_area: give boot-reserved frames [start, end) to the buddy lists
        (free_initmem, the initrd); the zones' managed pages grow.  Returns the count."""
        flags = self.mem.flags
        n = 0
        for z in self.zones:
            lo, hi = max(start, z.zone_start_pfn), min(end, z.end_pfn)
            if hi <= lo:
                continue
            flags[lo:hi] &= flags.dtype.type(~PG_reserved & 0xffffffff)
            self.mem.owner[lo:hi] = 0
            self.mem.refcount[lo:hi] = 0
            for bpfn, order in free_range_to_blocks(lo, hi):
                z.free_one_page(bpfn, order)
            z.managed += hi - lo
            n += hi - lo
        return n

    def nr_free_buffer_pages(self) -> int:
        """nr_free_buffer_pages: managed pages above the high watermark, lowmem zones."""
        return sum(max(z.managed - z.wmark_high, 0) for z in self.zones if not z.is_highmem)

    def setup_min_free_kbytes(self, min_free_kbytes: int) -> None:
        """Watermarks again for a new min_free_kbytes (khugepaged raises it)."""
        self.min_free_kbytes = min_free_kbytes
        setup_per_zone_wmarks(self.zones, min_free_kbytes)

    # -- zonelists -------------------------------------------------------------------
    def zonelist(self, gfp: int) -> list[Zone]:
        """Zones a mask may use, highest first: GFP_KERNEL Normal, DMA32, DMA.  Built once
        per zone modifier at boot (``zonelists``)."""
        names = [z.name for z in self.zones]
        top = G.gfp_zone_name(gfp, names)
        if top is None:
            return []
        top_idx = names.index(top)
        return [z for z in reversed(self.zones) if names.index(z.name) <= top_idx]

    # -- allocation ------------------------------------------------------------------
    def alloc(self, gfp: int, order: int) -> int:
        """__alloc_pages: a pfn, or -1 on failure (after the kernel's report).

        The order-0 fast path (a page from the pcp list above the low watermark) is
        written out inline: it is the hottest code of the simulator.  A pcp page
        already has its order in struct page, and only a written page is cleared.
        A blocking request (__GFP_DIRECT_RECLAIM) is a scheduling point (might_sleep).
        """
        _RESCHED[0] += gfp & _GFP_DIRECT_RECLAIM
        if order == 0:
            for z in self.fast_zonelists[gfp & 0x7]:
                if z.nr_free <= z.wmark_low:
                    continue
                # the list of gfp_migratetype (most requests are Unmovable)
                lst = z.pcp0_by_gfp[(gfp >> 3) & 3] if gfp & 0x18 else z.pcp0
                if not lst:
                    break       # the pcp list needs a refill: the general path
                pfn = lst.pop()
                z.pcp_count -= 1
                if z.free_factor:                        # an allocation halves it
                    z.free_factor >>= 1
                owner = self.k.current_owner
                self._cflags[pfn] = 0
                self._crefcount[pfn] = 1
                self._cowner[pfn] = owner
                if self._dirty[pfn] and (self.init_on_alloc or gfp & _GFP_ZERO):
                    start = pfn << PAGE_SHIFT
                    self._mm[start:start + PAGE_SIZE] = _ZERO[0]
                    self._dirty[pfn] = 0
                if self.alloc_hooked and (self.alloc_hooks or owner != self.kernel_owner):
                    hook = self.lone_module_hook
                    if hook is not None:
                        hook(pfn, 0, gfp)
                    else:
                        self.run_alloc_hooks(pfn, 0, gfp, owner)
                return pfn
        return self._alloc(gfp, order)

    def _alloc(self, gfp: int, order: int) -> int:
        """The general path of __alloc_pages."""
        if order >= MAX_ORDER or order < 0:
            if not gfp & _GFP_NOWARN:
                self.k.reporter.warn("mm/page_alloc.c:5634", "__alloc_pages+0x2a9/0x330",
                                     once_key="alloc_order", kernel_frames=_api_frames())
            return -1
        if self._fail_hook is not None and self._fail_hook(gfp, order):
            return -1
        zi = gfp & 0x7
        zl = self.zonelists[zi]
        mt = GFP_MIGRATETYPE[(gfp >> 3) & 3] if gfp & 0x18 else MIGRATE_UNMOVABLE
        alloc_flags = self.nofragment[zi]
        while True:                          # get_page_from_freelist
            for z in zl:
                if z.nr_free - ORDER_NR_PAGES[order] >= z.wmark_low:
                    pfn = z.rmqueue(order, mt, alloc_flags)
                    if pfn >= 0:
                        return self.prep_new_page(pfn, order, gfp)
            if not alloc_flags:
                break
            alloc_flags = 0                  # every zone fragmented: again, stealing anything
        return self.alloc_slowpath(gfp, order, zl)

    def alloc_slowpath(self, gfp: int, order: int, zl: list[Zone], drained: bool = False) -> int:
        """Retry at the min watermark (halved for __GFP_HIGH), then OOM or fail.

        A GFP_KERNEL request of a small order does not fail: the OOM killer runs and
        chooses the current task, which then may use half of the min reserve
        (ALLOC_OOM); when that is gone too, its allocations fail (nopage)."""
        victim = self.k.current.oom_victim
        mt = GFP_MIGRATETYPE[(gfp >> 3) & 3]
        for z in zl:
            mark = z.wmark_min
            if gfp & _GFP_HIGH:
                mark >>= 1
            if gfp & _GFP_ATOMIC or not gfp & _GFP_DIRECT_RECLAIM:
                mark -= mark >> 2
            if victim:
                mark -= mark >> 1
            if z.watermark_ok(order, mark) or z.pcp_count >= (1 << order):
                pfn = z.rmqueue(order, mt)
                if pfn < 0 and order <= PAGE_ALLOC_COSTLY_ORDER:
                    z.drain_pages()
                    pfn = z.rmqueue(order, mt)
                if pfn >= 0:
                    return self.prep_new_page(pfn, order, gfp)
        if gfp & _GFP_DIRECT_RECLAIM and not drained and any(z.pcp_count for z in zl):
            self.drain_all_pages()     # __alloc_pages_direct_reclaim: drain the pcp lists, retry
            return self.alloc_slowpath(gfp, order, zl, drained=True)
        if (not victim and gfp & _GFP_DIRECT_RECLAIM and order <= PAGE_ALLOC_COSTLY_ORDER
                and not gfp & (_GFP_NORETRY | _GFP_RETRY_MAYFAIL)):
            self.out_of_memory(gfp, order)
            return self.alloc_slowpath(gfp, order, zl)
        if not gfp & _GFP_NOWARN:
            self.warn_alloc(gfp, order)
        return -1

    def prep_new_page(self, pfn: int, order: int, gfp: int) -> int:
        """Set the new page's struct page; zero it if asked (or init_on_alloc)."""
        owner = self.k.current_owner
        self._crefcount[pfn] = 1
        self._corder[pfn] = order
        self._cowner[pfn] = owner
        if order:                            # the tail pages' owner
            try:
                fills = self._owner_fills[owner]
            except KeyError:
                fills = self._tail_fills(owner)
            self._mv_owner[pfn + 1:pfn + ORDER_NR_PAGES[order]] = fills[order]
        # kernel_init_pages, unless no frame of the block was written since it was cleared
        if (self.init_on_alloc or gfp & _GFP_ZERO) and (
                self._dirty[pfn] or self._dirty[pfn:pfn + ORDER_NR_PAGES[order]] != _CLEAN[order]):
            self.clear_pages(pfn, order)
        if self.alloc_hooked and (self.alloc_hooks or owner != self.kernel_owner):
            hook = self.lone_module_hook
            if hook is not None:
                hook(pfn, order, gfp)
            else:
                self.run_alloc_hooks(pfn, order, gfp, owner)
        return pfn

    def run_alloc_hooks(self, pfn: int, order: int, gfp: int, owner: int) -> None:
        """After an allocation: KASAN's unpoisoning, kmemleak's record of a module's block."""
        for hook in self.alloc_hooks:
            hook(pfn, order, gfp)
        if owner != self.kernel_owner:
            for hook in self.module_alloc_hooks:
                hook(pfn, order, gfp)

    def run_free_hooks(self, pfn: int, order: int) -> None:
        """Before a free: KASAN's poisoning, kmemleak forgetting a module's block."""
        for hook in self.free_hooks:
            hook(pfn, order)
        if self._cowner[pfn] != self.kernel_owner:
            for hook in self.module_free_hooks:
                hook(pfn, order)

    def _tail_fills(self, owner: int) -> list[memoryview]:
        """What a block's tail pages' owner is set from, by order (a memoryview copy:
        faster than a numpy fill); made once per owner."""
        fills = [memoryview(np.full((1 << o) - 1, owner, np.int32)) for o in range(MAX_ORDER)]  # type: ignore[arg-type]  # numpy's stubs: an ndarray is a buffer
        self._owner_fills[owner] = fills
        return fills

    def clear_pages(self, pfn: int, order: int) -> None:
        """kernel_init_pages: zero a block some frame of which was written since it was
        last cleared (prep_new_page tests that).  Large blocks are dropped from the host
        mapping instead (MADV_DONTNEED reads back as zeros), which is faster than writing
        128 KiB or more and gives the host memory back.
        """
        dirty = self._dirty
        n = 1 << order
        start = pfn << PAGE_SHIFT
        if order >= _MADVISE_ORDER:
            self._mm.madvise(mmap.MADV_DONTNEED, start, PAGE_SIZE << order)
        else:
            self._mm[start:start + (PAGE_SIZE << order)] = _ZERO[order]
        dirty[pfn:pfn + n] = _CLEAN[order]

    # -- freeing ---------------------------------------------------------------------
    def free(self, pfn: int, order: int) -> bool:
        """__free_pages: check the page, then return it.  False after a Bad page report.

        The order-0 case of free_unref_page is written out inline (the hot path); a
        block above PAGE_ALLOC_COSTLY_ORDER goes to the buddy lists (free_the_page).
        """
        cflags = self._cflags
        if (0 <= pfn < self.nr_pages and not cflags[pfn] & _NOT_FREEABLE and self._crefcount[pfn] > 0
                and order == self._corder[pfn] and type(order) is int):
            if self.free_hooked and (self.free_hooks or self._cowner[pfn] != self.kernel_owner):
                self.run_free_hooks(pfn, order)
            self._crefcount[pfn] = 0
            self._cowner[pfn] = 0
            z: Zone = self._zone_at[pfn >> _SECTION_SHIFT] or self.zone_of(pfn)  # type: ignore[assignment]  # a freed pfn is in a zone: free() checked it
            if order == 0:
                cflags[pfn] = PG_pcp
                z.pcp0_at[pfn >> 9].append(pfn)          # the list of its pageblock's type
                z.pcp_count += 1
                if z.pcp_count >= z.pcp_high:
                    z.pcp_overflow(pfn)
            else:
                self._mv_owner[pfn + 1:pfn + ORDER_NR_PAGES[order]] = _FREE_TAILS[order]
                if order > PAGE_ALLOC_COSTLY_ORDER:         # free_the_page: __free_pages_ok
                    cflags[pfn] = 0
                    z.free_one_page(pfn, order)
                else:
                    z.free_unref_page(pfn, order)
            return True
        return self.free_bad(pfn, order)

    def free_bad(self, pfn: int, order: int) -> bool:
        """Why a free was refused: report it as the kernel's bad_page does."""
        mem = self.mem
        if type(order) is not int:      # checked before the page is touched (a float order)
            if isinstance(order, bool) or not hasattr(order, "__index__"):
                raise TypeError(f"order must be an int, not {type(order).__name__}")
            return self.free(pfn, order.__index__())
        if not 0 <= pfn < mem.nr_pages:
            self.bad_page(pfn, "invalid pfn")
            return False
        flags = mem.c_flags[pfn]
        if flags & (PG_buddy | PG_pcp):
            self.bad_page(pfn, "page already free (double free)")
        elif flags & (PG_slab | PG_pgtable):
            self.free_owned(pfn, flags)
        elif flags & (PG_vmalloc | PG_module):
            self.free_vmalloc_page(pfn, flags)
        elif flags & (PG_reserved | PG_hole) or mem.c_refcount[pfn] <= 0:
            self.bad_page(pfn, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set" if flags
                          else "_refcount is 0: not the first page of an allocated block")
        elif order != mem.c_order[pfn]:
            self.bad_page(pfn, f"freed with order {order}, allocated with order {mem.c_order[pfn]}")
        else:
            self.bad_page(pfn, f"invalid order {order}")
        return False

    def free_owned(self, pfn: int, flags: int) -> None:
        """__free_pages of a slab's page or a page table: put_page_testzero drops the
        refcount to 0, then free_pages_prepare finds PG_slab (one of PAGE_FLAGS_CHECK_AT_FREE)
        or the page type in _mapcount, and bad_page keeps the page out of the free lists.
        kmsim keeps its refcount too, so the slab (or the page tables) still own it."""
        reason = ("PAGE_FLAGS_CHECK_AT_FREE flag(s) set" if flags & PG_slab else "nonzero mapcount")
        self.bad_page(pfn, reason, refcount=0)
        self.k.printk.emit(4, f"kmsim: pfn {pfn:#x} belongs to {self._owner_text(pfn)}: free it "
                              f"with {'kfree()/kmem_cache_free()' if flags & PG_slab else 'nothing'}"
                              f", not free_pages(); the page was not freed")

    def free_vmalloc_page(self, pfn: int, flags: int) -> None:
        """__free_pages of a page that backs a vmalloc area (or module memory): the kernel
        would free it without a word (such a page carries no page flag), and vfree() would
        free it again later.  kmsim refuses it and says why in one line."""
        self.k.printk.emit(4, f"kmsim: free_pages(): pfn {pfn:#x} backs {self._owner_text(pfn)}: "
                              f"the kernel would free it silently and vfree() would free it again "
                              f"(a use-after-free); not freed, vfree() the area instead")

    def _owner_text(self, pfn: int) -> str:
        flags = int(self.mem.c_flags[pfn])
        kind = "a slab" if flags & PG_slab else "a page table" if flags & PG_pgtable else "a vmalloc area"
        oid = int(self.mem.owner[pfn])
        name = self.k.owners[oid].name if 0 < oid < len(self.k.owners) else ""
        return f"{kind} of {name}" if name and name not in kind else kind

    # -- reports ---------------------------------------------------------------------
    def bad_page(self, pfn: int, reason: str, refcount: int | None = None) -> None:
        """mm/page_alloc.c:bad_page: 'BUG: Bad page state in process insmod  pfn:0xxxxx'."""
        k = self.k
        lines = [f"BUG: Bad page state in process {k.current.comm}  pfn:{pfn:05x}"]
        if 0 <= pfn < self.mem.nr_pages:
            ref = int(self.mem.refcount[pfn]) if refcount is None else refcount
            lines.append(f"page:{k.printk_ctx.hash_pointer(k.page_struct_addr(pfn))} "
                         f"refcount:{ref} mapcount:0 "
                         f"mapping:0000000000000000 index:0x0 pfn:{pfn:#x}")
            lines.append(f"flags: {int(self.mem.flags[pfn]):#x}({self.k.page_flag_names(pfn)})")
        lines.append(f"page dumped because: {reason}")
        k.reporter.emit(lines, level=1)
        k.reporter.dump_stack(["bad_page+0xcf/0x100", "free_pages+0x5a/0xa0"], level=4)
        k.modules.lockdep_off()
        k.add_taint(TAINT_BAD_PAGE)

    def warn_alloc(self, gfp: int, order: int) -> None:
        """'insmod: page allocation failure: order:N, mode:0x...(...), nodemask=(null),...',
        rate-limited as the kernel's nopage_rs (10 reports in 5 s)."""
        k = self.k
        now = k.clock_ns()
        start, printed, missed = self._nopage_rs
        if now - start >= 5_000_000_000:
            start, printed = now, 0
        if printed >= 10:
            self._nopage_rs = (start, printed, missed + 1)
            return
        if missed:
            k.printk.emit(4, f"warn_alloc: {missed} callbacks suppressed")
        self._nopage_rs = (start, printed + 1, 0)
        k.printk.emit(4, f"{k.current.comm}: page allocation failure: order:{order}, "
                         f"mode:{G.format_gfp(gfp)}, nodemask=(null),cpuset=/,mems_allowed=0")
        k.reporter.dump_stack(["warn_alloc+0x151/0x170",
                               "__alloc_pages_slowpath.constprop.0+0xd04/0xe70"]
                              + _ALLOC_FRAMES + _api_frames())
        self.show_mem()

    def show_mem(self) -> None:
        """__show_mem: Mem-Info, the node line, per-zone lines, the buddy lines, the rest.
        Free pages are the buddy lists' (NR_FREE_PAGES); the pcp lists are free_pcp."""
        k = self.k
        kb = PAGE_SIZE >> 10
        ptables = k.vmalloc_stats()[1]
        rec, shmem = k.slab_reclaimable_pages(), k.shmem_pages
        out = ["Mem-Info:\n",
               f"active_anon:0 inactive_anon:{shmem} isolated_anon:0\n active_file:0 inactive_file:0 "
               f"isolated_file:0\n unevictable:0 dirty:0 writeback:0\n slab_reclaimable:{rec} "
               f"slab_unreclaimable:{k.slab_pages() - rec}\n mapped:0 shmem:{shmem} pagetables:{ptables}\n"
               f" sec_pagetables:0 bounce:0\n kernel_misc_reclaimable:0\n"
               f" free:{sum(z.nr_free for z in self.zones)} free_pcp:"
               f"{sum(z.pcp_count for z in self.zones)} free_cma:0\n",
               f"Node 0 active_anon:0kB inactive_anon:{shmem * kb}kB active_file:0kB inactive_file:0kB "
               f"unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:0kB dirty:0kB "
               f"writeback:0kB shmem:{shmem * kb}kB shmem_thp: 0kB shmem_pmdmapped: 0kB anon_thp: 0kB "
               f"writeback_tmp:0kB kernel_stack:64kB pagetables:{ptables * kb}kB "
               f"sec_pagetables:0kB all_unreclaimable? no"]
        for z in self.zones:
            out.append(f"Node 0 {z.name} free:{z.nr_free * kb}kB boost:0kB "
                       f"min:{z.wmark_min * kb}kB low:{z.wmark_low * kb}kB high:{z.wmark_high * kb}kB "
                       f"reserved_highatomic:0KB active_anon:0kB inactive_anon:{z.nr_shmem * kb}kB "
                       f"active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB "
                       f"present:{z.present * kb}kB managed:{z.managed * kb}kB mlocked:0kB bounce:0kB "
                       f"free_pcp:{z.pcp_count * kb}kB local_pcp:{z.pcp_count * kb}kB free_cma:0kB")
            out.append("lowmem_reserve[]: " + " ".join(str(v) for v in z.lowmem_reserve))
        for z in self.zones:
            out.append(self.buddy_line(z))
        if k.machine.name in ("x86_64", "i386"):      # hugetlb_show_meminfo_node
            huge = 2048 if k.machine.name == "x86_64" else 4096
            out.append(f"Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 "
                       f"hugepages_size={huge}kB")
        total = sum(z.present for z in self.zones)
        out += [f"{shmem} total pagecache pages", "0 pages in swap cache", "Free swap  = 0kB",
                "Total swap = 0kB", f"{total} pages RAM",
                f"{sum(z.present for z in self.zones if z.is_highmem)} pages HighMem/MovableOnly",
                f"{total - sum(z.managed for z in self.zones)} pages reserved",
                "0 pages hwpoisoned"]
        for text in out:                  # one printk each; the summary block is one record
            k.printk.emit(4, text)

    def buddy_line(self, z: Zone) -> str:
        """'Node 0 DMA32: 38*4kB (UME) 28*8kB (UM) ... = 15800kB': the letters are the
        migrate types with free blocks of the order (show_migration_types)."""
        parts, total = [], 0
        for order, n in enumerate(z.nr_free_blocks()):
            kb = (PAGE_SIZE >> 10) << order
            parts.append(f"{n}*{kb}kB " + (f"({z.free_types(order)}) " if n else ""))
            total += n * kb
        return f"Node 0 {z.name}: " + "".join(parts) + f"= {total}kB"

    def out_of_memory(self, gfp: int, order: int) -> None:
        """The OOM killer: with no user task to choose, it kills the current task.  The task
        goes on in the kernel (its module code runs to its end) and dies on return to user
        space; ModuleLoader.call reports it as Killed."""
        k = self.k
        k.printk.emit(4, f"{k.current.comm} invoked oom-killer: gfp_mask={G.format_gfp(gfp)}, "
                         f"order={order}, oom_score_adj=0")
        k.reporter.dump_stack(["dump_header+0x4a/0x211", "oom_kill_process.cold+0xb/0x10",
                               "out_of_memory+0x1ed/0x2e0",
                               "__alloc_pages_slowpath.constprop.0+0xcb1/0xe70"]
                              + _ALLOC_FRAMES + _api_frames())
        self.show_mem()
        k.printk.emit(6, "Tasks state (memory values in pages):")
        k.printk.emit(6, "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name")
        k.printk.emit(6, f"[{k.current.pid:7d}]     0 {k.current.pid:5d}      597      209    45056        0"
                         f"             0 {k.current.comm}")
        k.printk.emit(6, f"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
                         f"global_oom,task_memcg=/,task={k.current.comm},pid={k.current.pid},uid=0")
        k.printk.emit(3, f"Out of memory: Killed process {k.current.pid} ({k.current.comm}) "
                         f"total-vm:2388kB, anon-rss:96kB, file-rss:740kB, shmem-rss:0kB, UID:0 "
                         f"pgtables:44kB oom_score_adj:0")
        k.current.oom_victim = True        # mark_oom_victim: the kill lands on return to user space

    # -- totals ----------------------------------------------------------------------
    def nr_free_pages(self) -> int:
        """Free pages of every zone, pcp lists included."""
        return sum(z.free_pages_total() for z in self.zones)

    def drain_all_pages(self) -> None:
        """drain_all_pages: empty every pcp list into the buddy lists."""
        for z in self.zones:
            z.drain_pages()


def _runs(mask):
    """(start, end) of the runs of True in a boolean numpy array."""
    import numpy as np
    m = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.diff(m)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=False))
