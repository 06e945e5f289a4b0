"""The page allocator: __alloc_pages over the zonelist, freeing, and its reports.

As mm/page_alloc.c: the zone selected by the GFP mask and every lower one are
tried at the low watermark, then again at min (the slow path); a request too
large warns once; a failure prints warn_alloc's "page allocation failure" with
the Mem-Info summary; a GFP_KERNEL request of a small order goes to the OOM
killer instead.  A bad free is "BUG: Bad page state".
"""
from __future__ import annotations

import mmap

from ..errors import TaskKilled
from ..machine import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE
from . import gfp as G
from .buddy import (PAGE_ALLOC_COSTLY_ORDER, Zone, free_range_to_blocks,
                    setup_per_zone_lowmem_reserve, setup_per_zone_wmarks)
from .physmem import PG_buddy, PG_hole, PG_pcp, PG_reserved, PhysMem

_GFP_ATOMIC = getattr(G, "__GFP_ATOMIC")
_GFP_DIRECT_RECLAIM = getattr(G, "__GFP_DIRECT_RECLAIM")
_GFP_DMA = getattr(G, "__GFP_DMA")
_GFP_DMA32 = getattr(G, "__GFP_DMA32")
_GFP_HIGH = getattr(G, "__GFP_HIGH")
_GFP_HIGHMEM = getattr(G, "__GFP_HIGHMEM")
_GFP_NORETRY = getattr(G, "__GFP_NORETRY")
_GFP_NOWARN = getattr(G, "__GFP_NOWARN")
_GFP_RETRY_MAYFAIL = getattr(G, "__GFP_RETRY_MAYFAIL")
_GFP_ZERO = getattr(G, "__GFP_ZERO")

__all__ = ["PageAllocator"]



_MADVISE_ORDER = 5
# Zero-filled bytes of each order up to _MADVISE_ORDER (larger blocks are cleared with
# MADV_DONTNEED): a plain list, since the fast path indexes it on every allocation.
_ZERO = [bytes(PAGE_SIZE << o) for o in range(_MADVISE_ORDER)]
_FREE_OR_ABSENT = PG_buddy | PG_pcp | PG_reserved | PG_hole

_ALLOC_FRAMES = ["__alloc_pages+0x1a5/0x330"]


class PageAllocator:
    """All zones of the machine and the entry points of the buddy allocator.

    Pages are identified by pfn.  ``alloc(gfp, order)`` returns a pfn or -1;
    ``free(pfn, order)`` checks the page state first.
    """

    def __init__(self, kernel, mem: PhysMem):
        self.k = kernel
        self.mem = mem
        self.zones: list[Zone] = []
        self.zone_by_name: dict[str, Zone] = {}
        self._zonelists: dict[int, list[Zone]] = {}
        self.fail_hook = None            # fault injection: fn(gfp, order) -> bool
        self.alloc_hooks: list = []      # fn(pfn, order, gfp) after a successful allocation
        self.free_hooks: list = []       # fn(pfn, order) before a free
        # Hooks that only care about modules' pages (kmemleak): called for allocations made
        # by module code and frees of pages not owned by the kernel, so that the kernel's
        # own allocations keep the fast path.
        self.module_alloc_hooks: list = []
        self.module_free_hooks: list = []
        self.init_on_alloc = True

    # -- boot --------------------------------------------------------------------
    def build_zones(self, machine, nr_pages: int) -> None:
        """Create the populated zones over [0, nr_pages)."""
        start = 1 if machine.name in ("x86_64", "i386") else 0   # pfn 0 is not memory on a PC
        for idx, spec in enumerate(machine.zones):
            end = nr_pages if spec.end is None else min(nr_pages, spec.end >> PAGE_SHIFT)
            if end > start:
                z = Zone(self.mem, spec.name, idx, start, end)
                self.zones.append(z)
                self.zone_by_name[z.name] = z
            start = max(start, end)

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

    # -- zonelists -------------------------------------------------------------------
    def zonelist(self, gfp: int) -> list[Zone]:
        """Zones a mask may use, highest first: GFP_KERNEL Normal, DMA32, DMA."""
        key = gfp & (_GFP_DMA | _GFP_DMA32 | _GFP_HIGHMEM)
        zl = self._zonelists.get(key)
        if zl is None:
            names = [z.name for z in self.zones]
            top = G.gfp_zone_name(gfp, names)
            if top is None:
                return []
            top_idx = names.index(top)
            zl = [z for z in reversed(self.zones) if names.index(z.name) <= top_idx]
            self._zonelists[key] = zl
        return zl

    # -- allocation ------------------------------------------------------------------
    def alloc(self, gfp: int, order: int) -> int:
        """__alloc_pages: a pfn, or -1 on failure (after the kernel's report).

        The fast path (a small order from a pcp list above the low watermark) is
        written out inline: it is the hottest code of the simulator.
        """
        zl = self._zonelists.get(gfp & 0x7)
        if zl is not None and 0 <= order <= PAGE_ALLOC_COSTLY_ORDER and self.fail_hook is None:
            need = 1 << order
            for z in zl:
                if z.nr_free - need < z.wmark_low:
                    continue
                lst = z.pcp[order]
                if lst:
                    pfn = lst.pop()
                    z.pcp_count -= need
                    mem = self.mem
                    owner = self.k.current_owner
                    mem.mv_flags[pfn] = 0
                    mem.mv_refcount[pfn] = 1
                    mem.mv_order[pfn] = order
                    mem.mv_owner[pfn] = owner
                    if order:
                        mem.owner[pfn + 1:pfn + need] = owner
                    if self.init_on_alloc or gfp & _GFP_ZERO:
                        start = pfn << PAGE_SHIFT
                        mem.mm[start:start + (need << PAGE_SHIFT)] = _ZERO[order]
                    if self.alloc_hooks:
                        for hook in self.alloc_hooks:
                            hook(pfn, order, gfp)
                    if self.module_alloc_hooks and owner != self.k.kernel_owner:
                        for hook in self.module_alloc_hooks:
                            hook(pfn, order, gfp)
                    return pfn
                break           # this zone's pcp list needs a refill: the general path
        return self._alloc(gfp, order)

    def _alloc(self, gfp: int, order: int) -> int:
        """The general path of __alloc_pages."""
        if order >= MAX_ORDER or order < 0:
            if not gfp & _GFP_NOWARN:
                self.k.reporter.warn("mm/page_alloc.c:5634", "__alloc_pages+0x2a9/0x330",
                                     once_key="alloc_order", kernel_frames=[])
            return -1
        if self.fail_hook is not None and self.fail_hook(gfp, order):
            return -1
        zl = self._zonelists.get(gfp & 0x7) or self.zonelist(gfp)
        for z in zl:
            if z.nr_free - (1 << order) >= z.wmark_low:
                pfn = z.rmqueue(order)
                if pfn >= 0:
                    return self.prep_new_page(pfn, order, gfp)
        return self.alloc_slowpath(gfp, order, zl)

    def alloc_slowpath(self, gfp: int, order: int, zl: list[Zone]) -> int:
        """Retry at the min watermark (halved for __GFP_HIGH), then OOM or fail."""
        for z in zl:
            mark = z.wmark_min
            if gfp & _GFP_HIGH:
                mark >>= 1
            if gfp & _GFP_ATOMIC or not gfp & _GFP_DIRECT_RECLAIM:
                mark -= mark >> 2
            if z.watermark_ok(order, mark) or z.pcp_count >= (1 << order):
                pfn = z.rmqueue(order)
                if pfn < 0 and order <= PAGE_ALLOC_COSTLY_ORDER:
                    z.drain_pages()
                    pfn = z.rmqueue(order)
                if pfn >= 0:
                    return self.prep_new_page(pfn, order, gfp)
        if (gfp & _GFP_DIRECT_RECLAIM and order <= PAGE_ALLOC_COSTLY_ORDER
                and not gfp & (_GFP_NORETRY | _GFP_RETRY_MAYFAIL)):
            self.out_of_memory(gfp, order)
        if not gfp & _GFP_NOWARN:
            self.warn_alloc(gfp, order)
        return -1

    def prep_new_page(self, pfn: int, order: int, gfp: int) -> int:
        """Set the new page's struct page; zero it if asked (or init_on_alloc)."""
        mem = self.mem
        mem.mv_refcount[pfn] = 1
        mem.mv_order[pfn] = order
        mem.mv_owner[pfn] = self.k.current_owner
        if order:
            end = pfn + (1 << order)
            mem.owner[pfn + 1:end] = self.k.current_owner
        if self.init_on_alloc or gfp & _GFP_ZERO:
            self.clear_pages(pfn, order)
        for hook in self.alloc_hooks:
            hook(pfn, order, gfp)
        if self.module_alloc_hooks and self.k.current_owner != self.k.kernel_owner:
            for hook in self.module_alloc_hooks:
                hook(pfn, order, gfp)
        return pfn

    def clear_pages(self, pfn: int, order: int) -> None:
        """kernel_init_pages: zero a block.  Large blocks are dropped from the host mapping
        instead (MADV_DONTNEED reads back as zeros), which is faster than writing 128 KiB
        or more and gives the host memory back.
        """
        start = pfn << PAGE_SHIFT
        if order >= _MADVISE_ORDER:
            self.mem.mm.madvise(mmap.MADV_DONTNEED, start, PAGE_SIZE << order)
        else:
            self.mem.mm[start:start + (PAGE_SIZE << order)] = _ZERO[order]

    # -- freeing ---------------------------------------------------------------------
    def free(self, pfn: int, order: int) -> bool:
        """__free_pages: check the page, then return it.  False after a Bad page report."""
        mem = self.mem
        if (type(order) is int and 0 <= pfn < mem.nr_pages and not mem.mv_flags[pfn] & _FREE_OR_ABSENT
                and mem.mv_refcount[pfn] > 0 and order == mem.mv_order[pfn]):
            if self.free_hooks:
                for hook in self.free_hooks:
                    hook(pfn, order)
            if self.module_free_hooks and mem.mv_owner[pfn] != self.k.kernel_owner:
                for hook in self.module_free_hooks:
                    hook(pfn, order)
            mem.mv_refcount[pfn] = 0
            mem.mv_owner[pfn] = 0
            if order:
                mem.owner[pfn + 1:pfn + (1 << order)] = 0
            for z in self.zones:
                if z.zone_start_pfn <= pfn < z.end_pfn:
                    if order <= PAGE_ALLOC_COSTLY_ORDER:
                        mem.mv_flags[pfn] = PG_pcp
                        z.pcp[order].append(pfn)
                        z.pcp_count += 1 << order
                        if z.pcp_count >= z.pcp_high:
                            z.free_pcppages_bulk(z.pcp_batch)
                    else:
                        mem.mv_flags[pfn] = 0
                        z.free_one_page(pfn, order)
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
        flags = mem.mv_flags[pfn]
        if flags & (PG_buddy | PG_pcp):
            self.bad_page(pfn, "page already free (double free)")
        elif flags & (PG_reserved | PG_hole) or mem.mv_refcount[pfn] <= 0:
            self.bad_page(pfn, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set" if flags
                          else "_refcount is 0: not the first page of an allocated block")
        elif order != mem.mv_order[pfn]:
            self.bad_page(pfn, f"freed with order {order}, allocated with order {mem.mv_order[pfn]}")
        else:
            self.bad_page(pfn, f"invalid order {order}")
        return False

    # -- reports ---------------------------------------------------------------------
    def bad_page(self, pfn: int, reason: str) -> None:
        """mm/page_alloc.c:bad_page: 'BUG: Bad page state in process insmod  pfn:0xxxxx'."""
        k = self.k
        from ..report import TAINT_BAD_PAGE
        lines = [f"BUG: Bad page state in process {k.current.comm}  pfn:{pfn:05x}"]
        if 0 <= pfn < self.mem.nr_pages:
            lines.append(f"page:{k.printk_ctx.hash_pointer(k.page_struct_addr(pfn))} "
                         f"refcount:{int(self.mem.refcount[pfn])} mapcount:0 "
                         f"mapping:0000000000000000 index:0x0 pfn:{pfn:#x}")
            lines.append(f"flags: {int(self.mem.flags[pfn]):#x}({self.k.page_flag_names(pfn)})")
        lines.append(f"page dumped because: {reason}")
        k.reporter.emit(lines, level=1)
        k.reporter.dump_stack(["bad_page+0xcf/0x100", "free_pages+0x5a/0xa0"], level=4)
        k.modules.lockdep_off()
        k.add_taint(TAINT_BAD_PAGE)

    def warn_alloc(self, gfp: int, order: int) -> None:
        """'insmod: page allocation failure: order:N, mode:0x...(...), nodemask=(null),...'."""
        k = self.k
        k.printk.emit(4, f"{k.current.comm}: page allocation failure: order:{order}, "
                         f"mode:{G.format_gfp(gfp)}, nodemask=(null),cpuset=/,mems_allowed=0")
        k.reporter.dump_stack(["warn_alloc+0x151/0x170",
                               "__alloc_pages_slowpath.constprop.0+0xd04/0xe70"] + _ALLOC_FRAMES)
        self.show_mem()

    def show_mem(self) -> None:
        """__show_mem: Mem-Info, per-zone lines and the buddy lines."""
        k = self.k
        out = ["Mem-Info:",
               f"active_anon:0 inactive_anon:0 isolated_anon:0\n active_file:0 inactive_file:0 "
               f"isolated_file:0\n unevictable:0 dirty:0 writeback:0\n slab_reclaimable:0 "
               f"slab_unreclaimable:{k.slab_pages()}\n mapped:0 shmem:0 pagetables:0\n"
               f" sec_pagetables:0 bounce:0\n kernel_misc_reclaimable:0\n"
               f" free:{sum(z.free_pages_total() for z in self.zones)} free_pcp:"
               f"{sum(z.pcp_count for z in self.zones)} free_cma:0"]
        for z in self.zones:
            kb = PAGE_SIZE >> 10
            out.append(f"Node 0 {z.name} free:{z.free_pages_total() * kb}kB boost:0kB "
                       f"min:{z.wmark_min * kb}kB low:{z.wmark_low * kb}kB high:{z.wmark_high * kb}kB "
                       f"reserved_highatomic:0KB active_anon:0kB inactive_anon:0kB active_file:0kB "
                       f"inactive_file:0kB unevictable:0kB writepending:0kB present:{z.present * kb}kB "
                       f"managed:{z.managed * kb}kB mlocked:0kB bounce:0kB free_pcp:{z.pcp_count * kb}kB "
                       f"local_pcp:{z.pcp_count * kb}kB free_cma:0kB")
            out.append("lowmem_reserve[]: " + " ".join(str(v) for v in z.lowmem_reserve))
        for z in self.zones:
            out.append(self.buddy_line(z))
        total = sum(z.present for z in self.zones)
        out += ["0 total pagecache pages", f"{total} pages RAM",
                f"{sum(z.present for z in self.zones if z.is_highmem)} pages HighMem/MovableOnly",
                f"{total - sum(z.managed for z in self.zones)} pages reserved"]
        k.printk.emit(4, "\n".join(out))

    def buddy_line(self, z: Zone) -> str:
        """'Node 0 DMA32: 38*4kB (U) 28*8kB (U) ... = 15800kB'."""
        parts, total = [], 0
        for order, n in enumerate(z.nr_free_blocks()):
            kb = (PAGE_SIZE >> 10) << order
            parts.append(f"{n}*{kb}kB " + ("(U) " if n else ""))
            total += n * kb
        return f"Node 0 {z.name}: " + "".join(parts) + f"= {total}kB"

    def out_of_memory(self, gfp: int, order: int) -> None:
        """The OOM killer: with no user task to choose, it kills the current task."""
        k = self.k
        k.printk.emit(4, f"{k.current.comm} invoked oom-killer: gfp_mask={G.format_gfp(gfp)}, "
                         f"order={order}, oom_score_adj=0")
        k.reporter.dump_stack(["dump_header+0x4a/0x211", "oom_kill_process.cold+0xb/0x10",
                               "out_of_memory+0x1ed/0x2e0",
                               "__alloc_pages_slowpath.constprop.0+0xcb1/0xe70"] + _ALLOC_FRAMES)
        self.show_mem()
        k.printk.emit(6, "Tasks state (memory values in pages):")
        k.printk.emit(6, "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name")
        k.printk.emit(6, f"[{k.current.pid:7d}]     0 {k.current.pid:5d}      597      209    45056        0             0 {k.current.comm}")
        k.printk.emit(6, f"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
                         f"global_oom,task_memcg=/,task={k.current.comm},pid={k.current.pid},uid=0")
        k.printk.emit(3, f"Out of memory: Killed process {k.current.pid} ({k.current.comm}) "
                         f"total-vm:2388kB, anon-rss:96kB, file-rss:740kB, shmem-rss:0kB, UID:0 "
                         f"pgtables:44kB oom_score_adj:0")
        raise TaskKilled("Killed", 137)

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
    return list(zip(starts.tolist(), ends.tolist()))
