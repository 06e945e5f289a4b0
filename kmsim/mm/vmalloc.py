"""vmalloc, vmap areas and module memory over real page tables (mm/vmalloc.c).

``vmalloc_init(k)`` builds the kernel's page tables (``pagetable.PageTable``),
registers translators on ``k.vm`` for the vmalloc range, the modules range and
the pkmap window; the kernel reaches it as ``k.vmalloc`` (``k.module_alloc``,
``k.kmap`` ... forward to it).  An area is found first-fit among the vmap
areas (alloc_vmap_area), gets a guard page after it (unless VM_NO_GUARD), and
its order-0 frames are mapped one by one.  Every access through an address of
these ranges is translated by the page tables; a per-page cache (the "TLB") is
dropped on unmap.
"""
from __future__ import annotations

import bisect
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import PageFault
from ..machine import PAGE_SHIFT, PAGE_SIZE
from ..report import format_frame, module_frames
from . import gfp as G
from .highmem import Pkmap
from .hooks import VmallocHook
from .kmalloc import kfree, kmalloc
from .page import Page
from .pagetable import PageTable
from .physmem import PG_module, PG_vmalloc

if TYPE_CHECKING:
    from ..kernel import Kernel
from .gfp import __GFP_DMA as _GFP_DMA
from .gfp import __GFP_DMA32 as _GFP_DMA32
from .gfp import __GFP_HIGHMEM as _GFP_HIGHMEM
from .gfp import __GFP_NOFAIL as _GFP_NOFAIL
from .gfp import __GFP_NORETRY as _GFP_NORETRY
from .gfp import __GFP_NOWARN as _GFP_NOWARN
from .gfp import __GFP_RETRY_MAYFAIL as _GFP_RETRY_MAYFAIL
from .gfp import __GFP_ZERO as _GFP_ZERO

__all__ = ["VmArea", "VmapSpace", "Vmalloc", "vmalloc_init"]

_PAGE_MASK = PAGE_SIZE - 1
GFP_RECLAIM_MASK = 0x400 | 0x800 | 0x20 | 0x40 | 0x80 | 0x2000 | 0x4000 | 0x8000 | 0x10000 \
    | 0x20000 | 0x80000        # mm/internal.h: RECLAIM HIGH IO FS NOWARN RETRY_MAYFAIL NOFAIL ...
GFP_VMALLOC = G.GFP_KERNEL
VM_NO_GUARD = 0x40
_LOAD_MODULE = "load_module+0xbb7/0x21a0"
_FREED_MEMORY = 64                     # recently freed areas kept for the Oops hint


@dataclass
class VmArea:
    """A vmap_area with its vm_struct: [start, start+size) including the guard page."""
    start: int
    size: int
    pages: list = field(default_factory=list)
    caller: object = None            # a string, or (fn, line, module, code, base)
    types: tuple = ("vmalloc",)      # words of /proc/vmallocinfo
    phys: int | None = None          # ioremap: the device address
    guard: bool = True
    owner: int = 0
    module: Any = None               # the loader's Module that asked for it (None: the kernel)
    pages_area: int = 0              # area->pages when it was vmalloc()ed (more than a page)

    @property
    def end(self) -> int:
        """First address after the area (guard page included)."""
        return self.start + self.size

    @property
    def usable(self) -> int:
        """get_vm_area_size(): the size without the guard page."""
        return self.size - (PAGE_SIZE if self.guard else 0)


class VmapSpace:
    """A virtual range with its busy areas kept sorted (the vmap_area tree)."""

    def __init__(self, name: str, start: int, end: int):
        self.name, self.start, self.end = name, start, end
        self.starts: list[int] = []
        self.areas: dict[int, VmArea] = {}
        self.cache_addr = 0              # where the last search ended (0: from the start)
        self.cached_hole = 0             # the largest hole skipped before cache_addr

    def contains(self, addr: int) -> bool:
        """True if addr lies in this range."""
        return self.start <= addr < self.end

    def find_hole(self, size: int, align: int = PAGE_SIZE) -> int:
        """alloc_vmap_area: the lowest aligned address where size bytes fit, or 0.

        As the kernel's free_vmap_cache did: the search resumes after the last area
        placed unless a hole skipped on the way could hold size (or an area below
        was freed), so filling the space area after area stays linear.
        """
        starts, areas = self.starts, self.areas
        if self.cache_addr and size > self.cached_hole:
            addr = self.cache_addr
            i = bisect.bisect_left(starts, addr)
            if i and areas[starts[i - 1]].end > addr:
                addr = areas[starts[i - 1]].end
        else:
            addr, i, self.cached_hole = self.start, 0, 0
        addr = (addr + align - 1) & ~(align - 1)
        for j in range(i, len(starts)):
            s = starts[j]
            if addr + size <= s:
                break
            self.cached_hole = max(self.cached_hole, s - addr)
            end = areas[s].end
            if end > addr:
                addr = (end + align - 1) & ~(align - 1)
        return addr if addr + size <= self.end else 0

    def insert(self, area: VmArea) -> None:
        """Link a busy area."""
        bisect.insort(self.starts, area.start)
        self.areas[area.start] = area
        self.cache_addr = area.end

    def remove(self, area: VmArea) -> None:
        """Unlink a busy area."""
        i = bisect.bisect_left(self.starts, area.start)
        del self.starts[i]
        del self.areas[area.start]
        if area.start < self.cache_addr:
            self.cache_addr = 0

    def area_of(self, addr: int) -> VmArea | None:
        """find_vmap_area: the busy area holding addr (guard page included)."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return None
        a = self.areas[self.starts[i]]
        return a if addr < a.end else None


class Vmalloc:
    """The vmalloc subsystem of one kernel (k.vmalloc)."""

    def __init__(self, k):
        self.k = k
        m = k.machine
        self.owner = k.register_owner("vmalloc", "vmalloc")
        self.pt_owner = k.register_owner("pgtable", "page tables")
        self.pt = PageTable(k, self.pt_owner)
        self.tlb: dict[int, int] = k.vm.tlb   # vpage -> phys page, shared with k.vm
        self.vmalloc_start = m.vmalloc_start(k.lowmem_bytes)
        self.vmalloc_end = m.vmalloc_end
        self.vmalloc_space = VmapSpace("vmalloc", self.vmalloc_start, self.vmalloc_end)
        self.spaces = [self.vmalloc_space]
        self.modules_space = self.vmalloc_space
        if m.modules_vaddr:
            self.modules_space = VmapSpace("modules", m.modules_vaddr, m.modules_end + 1)
            self.spaces.append(self.modules_space)
        self.alloc_hooks: list[VmallocHook] = []    # after vmalloc
        self.free_hooks: list[VmallocHook] = []     # before vfree
        self.freed: list[VmArea] = []               # recently freed, for Oops hints
        self.nr_vmalloc_pages = 0
        self.pkmap: Pkmap | None = None              # HighMem machines only

    # -- translation ---------------------------------------------------------------
    def translate(self, addr: int, write: bool) -> int:
        """The translator registered on k.vm: TLB, else a page-table walk, else PageFault."""
        base = self.tlb.get(addr >> PAGE_SHIFT)
        if base is not None:
            return base | (addr & _PAGE_MASK)
        pfn = self.pt.lookup(addr)
        if pfn < 0:
            raise PageFault(addr & self.k.machine.addr_mask, write,
                            pgd_line=self.pt.pgd_line(addr), hint=self.fault_hint(addr))
        base = pfn << PAGE_SHIFT
        self.tlb[addr >> PAGE_SHIFT] = base
        return base | (addr & _PAGE_MASK)

    def fault_hint(self, addr: int) -> str | None:
        """Why addr is not mapped: a guard page, a freed area, or nothing."""
        for sp in self.spaces:
            a = sp.area_of(addr) if sp.contains(addr) else None
            if a is not None and a.guard and addr >= a.start + a.usable:
                return (f"{addr:#x} is in the guard page after the vmalloc area at {a.start:#x} "
                        f"({a.usable} bytes): offset {addr - a.start}, "
                        f"{addr - a.start - a.usable} bytes past its end")
            if a is not None:
                return f"{addr:#x} is in the area at {a.start:#x}, which maps no page there"
        for a in reversed(self.freed):
            if a.start <= addr < a.end:
                return (f"{addr:#x} is in the vmalloc area at {a.start:#x} ({a.usable} bytes), "
                        f"which was vfree()d: its page-table entries are gone")
        if self.pkmap is not None and self.pkmap.contains(addr):
            return (f"{addr:#x} is in the pkmap window, where no page is kmapped now: "
                    f"an address kmap() returned is valid only until the matching kunmap()")
        return None

    # -- areas ---------------------------------------------------------------------
    def _space(self, area: VmArea) -> VmapSpace:
        """The space an area was carved from."""
        sp = self.space_of(area.start)
        assert sp is not None, area
        return sp

    def space_of(self, addr: int) -> VmapSpace | None:
        """The vmap range holding addr."""
        for sp in self.spaces:
            if sp.contains(addr):
                return sp
        return None

    def find_area(self, addr: int) -> VmArea | None:
        """The busy area that starts at addr (vfree's lookup)."""
        sp = self.space_of(addr)
        return sp.areas.get(addr) if sp is not None else None

    def all_areas(self) -> list[VmArea]:
        """Every busy area in address order (what /proc/vmallocinfo lists)."""
        out = []
        for sp in sorted(self.spaces, key=lambda s: s.start):
            out += [sp.areas[s] for s in sp.starts]
        return out

    def caller_info(self, default: str):
        """The module frame that called (for vmallocinfo), or a kernel function name."""
        k = self.k
        frames = [f for f in module_frames(k.modules.module_files(), frame=sys._getframe(2))
                  if f[2] is not None]
        if not frames:
            return default
        fn, ln, modname, code = frames[0]
        mod = k.modules.modules.get(modname)
        base = mod.chunks[0][0] if mod is not None and mod.chunks else self.modules_space.start
        return (fn, ln, modname, code, base)

    def caller_text(self, caller) -> str:
        """%pS of the caller: 'fn+0x1c/0x80 [mod]', or a raw address once __init text is gone."""
        if isinstance(caller, str):
            return caller
        fn, ln, modname, code, base = caller
        mod = self.k.modules.modules.get(modname)
        text = format_frame(fn, ln, code, modname).strip()
        init = getattr(mod.init_fn, "__code__", None) if mod is not None else None
        if mod is None or (mod.init_done and init is code):
            off = int(text.split("+")[1].split("/")[0], 16)
            return f"{(base + 0x11 + off) & self.k.machine.addr_mask:#x}"
        return text

    # -- vmalloc -------------------------------------------------------------------
    def vmalloc(self, size, gfp: int = GFP_VMALLOC, caller=None, space: VmapSpace | None = None,
                module=None, hooks: bool = True) -> int:
        """__vmalloc_node_range: map order-0 frames at consecutive addresses; 0 on failure."""
        k = self.k
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"size must be an int, not {type(size).__name__}")
        real_size = size & k.machine.addr_mask         # an unsigned long in C
        if real_size == 0:
            k.reporter.warn("mm/vmalloc.c:3128", "__vmalloc_node_range+0x63/0x7a0",
                            once_key="vmalloc0", kernel_frames=["__vmalloc_node+0x4e/0x70"])
            return 0
        if (real_size >> PAGE_SHIFT) > sum(z.managed for z in k.buddy.zones):
            self.warn_alloc(gfp, f"vmalloc error: size {real_size}, exceeds total pages")
            return 0
        size = (real_size + _PAGE_MASK) & ~_PAGE_MASK
        caller = caller if caller is not None else self.caller_info("vmalloc+0x4b/0x60")
        sp = space or self.vmalloc_space
        area = self.get_vm_area(size, sp, caller)
        if area is None:
            if not gfp & _GFP_NOWARN:
                k.printk.emit(4, f"vmap allocation for size {size + PAGE_SIZE} failed: "
                                 f"use vmalloc=<size> to increase size")
            self.warn_alloc(gfp, f"vmalloc error: size {real_size}, vm_struct allocation failed")
            return 0
        area.module = module
        area.owner = module.owner if module is not None else self.owner
        if not self.vmalloc_area_node(area, gfp, module is not None):
            return 0
        if hooks:
            for hook in self.alloc_hooks:
                hook(area.start, real_size)
        return area.start

    @staticmethod
    def page_gfp(gfp: int) -> int:
        """__vmalloc_area_node's mask for the data pages: __GFP_HIGHMEM unless DMA/DMA32."""
        return gfp if gfp & (_GFP_DMA | _GFP_DMA32) else gfp | _GFP_HIGHMEM

    def get_vm_area(self, size: int, sp: VmapSpace, caller, guard: bool = True) -> VmArea | None:
        """__get_vm_area_node: reserve size (+ a guard page) in sp."""
        total = size + (PAGE_SIZE if guard else 0)
        addr = sp.find_hole(total)
        if not addr:
            return None
        area = VmArea(addr, total, caller=caller, guard=guard)
        sp.insert(area)
        return area

    def vmalloc_area_node(self, area: VmArea, gfp: int, module: bool) -> bool:
        """__vmalloc_area_node: the page array, then the frames, then the mapping; on
        failure warn_alloc (with the pages' mask), undo and False."""
        gfp = self.page_gfp(gfp)
        nr = area.usable >> PAGE_SHIFT
        try:
            if not self.alloc_page_array(area, nr, gfp):
                return False
            self.alloc_pages_into(area, nr, gfp | _GFP_NOWARN, PG_module if module else PG_vmalloc)
            if len(area.pages) != nr:
                if not self.k.current.oom_victim:        # fatal_signal_pending(): no warning
                    self.warn_alloc(gfp, f"vmalloc error: size {len(area.pages) << PAGE_SHIFT}, "
                                         "failed to allocate pages")
                self._undo(area)
                return False
            if self.pt.map_range(area.start, area.pages) < nr:
                self.warn_alloc(gfp, f"vmalloc error: size {nr << PAGE_SHIFT}, failed to map pages")
                self._undo(area)
                return False
        except BaseException:
            self._undo(area)
            raise
        self.nr_vmalloc_pages += nr       # vmalloc_nr_pages: module memory too
        return True

    def alloc_page_array(self, area: VmArea, nr: int, gfp: int) -> bool:
        """area->pages: kmalloc'd up to a page (not shown), else vmalloc'd by the same
        caller (its own vmallocinfo line, and 'vpages' on the area's)."""
        size = nr * self.k.machine.ptr_size
        if size <= PAGE_SIZE:
            return True
        nested = (gfp & GFP_RECLAIM_MASK) | _GFP_ZERO
        area.pages_area = self.vmalloc(size, nested, caller=area.caller, hooks=False)
        if area.pages_area:
            area.types = area.types + ("vpages",)
            return True
        self.warn_alloc(gfp, f"vmalloc error: size {nr << PAGE_SHIFT}, "
                             f"failed to allocated page array size {size}")
        self._space(area).remove(area)
        return False

    def alloc_pages_into(self, area: VmArea, nr: int, gfp: int, flag: int) -> None:
        """vm_area_alloc_pages: order-0 frames one by one, stopping at a failure or once
        the OOM killer has chosen the task."""
        k = self.k
        ph = k.phys
        task = k.current
        while len(area.pages) < nr and not task.oom_victim:
            pfn = k.buddy.alloc(gfp, 0)
            if pfn < 0:
                return
            area.pages.append(pfn)
            ph.c_flags[pfn] |= flag
            ph.c_owner[pfn] = area.owner

    def _undo(self, area: VmArea) -> None:
        self.unmap_area(area)
        self.free_frames(area)
        self.free_page_array(area)
        self._space(area).remove(area)

    def free_page_array(self, area: VmArea) -> None:
        """kvfree(area->pages) when it was a vmalloc area of its own."""
        if area.pages_area:
            inner = self.vmalloc_space.areas.get(area.pages_area)
            area.pages_area = 0
            if inner is not None:
                self.remove_vm_area(inner)

    def unmap_area(self, area: VmArea) -> None:
        """vunmap_range: clear the PTEs (and drop their TLB entries)."""
        tlb = self.tlb
        first = area.start >> PAGE_SHIFT
        for vp in range(first, first + len(area.pages)):
            tlb.pop(vp, None)
        self.pt.unmap_range(area.start, len(area.pages))

    def free_frames(self, area: VmArea) -> None:
        """Return the area's frames to the page allocator."""
        ph = self.k.phys
        for pfn in area.pages:
            ph.c_flags[pfn] &= ~(PG_vmalloc | PG_module)
            self.k.buddy.free(pfn, 0)
        area.pages = []

    def vfree(self, addr, fn: str = "vfree") -> bool:
        """vfree: unmap and free an area; vfree(0) does nothing; a bad address WARNs."""
        if not isinstance(addr, int) or isinstance(addr, bool):
            raise TypeError(f"{fn}() takes an address (int), not {type(addr).__name__}")
        if addr == 0:
            return True
        area = self.find_area(addr)
        if area is None and not addr & _PAGE_MASK:
            # 6.1's find_vm_area() finds the area that *holds* addr (guard page
            # included), so a page-aligned address inside an area frees all of it
            sp = self.space_of(addr)
            area = sp.area_of(addr) if sp is not None else None
            if area is not None and area.module is None and "vmalloc" in area.types:
                self.k.printk.emit(4, f"kmsim: {fn}({addr:#x}) is inside the vmalloc area "
                                      f"{area.start:#x}-{area.end:#x}: as in Linux 6.1, the "
                                      "whole area is freed; pass the address vmalloc() returned")
            else:
                area = None
        if area is None or area.module is not None or "vmalloc" not in area.types:
            self.bad_vfree(addr, fn)
            return False
        for hook in self.free_hooks:
            hook(area.start, area.usable)
        self.remove_vm_area(area)
        return True

    def remove_vm_area(self, area: VmArea) -> None:
        """remove_vm_area + __vunmap: unmap, free the frames, free the range."""
        self.nr_vmalloc_pages -= len(area.pages)
        self.unmap_area(area)
        self.free_frames(area)
        self.free_page_array(area)
        self._space(area).remove(area)
        self.freed.append(area)
        del self.freed[:-_FREED_MEMORY]

    def bad_vfree(self, addr: int, fn: str) -> None:
        """mm/vmalloc.c __vunmap: WARN(1, 'Trying to vfree() nonexistent vm area (%p)')."""
        k = self.k
        if addr & _PAGE_MASK:
            msg = f"Trying to vfree() bad address ({k.printk_ctx.hash_pointer(addr)})"
        else:
            msg = f"Trying to vfree() nonexistent vm area ({k.printk_ctx.hash_pointer(addr)})"
        k.reporter.warn("mm/vmalloc.c:2665", "__vunmap+0x2a8/0x2c0", message=msg,
                        kernel_frames=[f"{fn}+0x2d/0x70"] if fn != "vfree" else ["vfree+0x2d/0x70"])
        area = self.find_area(addr)
        if area is not None and area.module is not None:
            k.printk.emit(4, f"kmsim: {addr:#x} is the module's own memory (module_alloc) of "
                             f"{area.module.name}: only the loader frees it, at rmmod")
        elif area is not None:
            k.printk.emit(4, f"kmsim: {addr:#x} is a boot-time {area.types[0]} area, not vmalloc() memory")
        if k.vm.is_direct(addr):
            k.printk.emit(4, f"kmsim: {addr:#x} is in the direct map (kmalloc, __get_free_pages): "
                             f"free it with kfree()/free_pages(), vfree() only takes what vmalloc() returned")

    def warn_alloc(self, gfp: int, text: str) -> None:
        """warn_alloc(gfp, NULL, 'vmalloc error: ...'), unless __GFP_NOWARN."""
        k = self.k
        if gfp & _GFP_NOWARN:
            return
        k.printk.emit(4, f"{k.current.comm}: {text}, mode:{G.format_gfp(gfp)}, "
                         f"nodemask=(null),cpuset=/,mems_allowed=0")
        k.reporter.dump_stack(["warn_alloc+0x151/0x170", "__vmalloc_node_range+0x6a1/0x7a0",
                               "__vmalloc_node+0x4e/0x70"])
        k.buddy.show_mem()

    # -- kvmalloc -------------------------------------------------------------------
    def kvmalloc(self, size, flags: int) -> int:
        """kvmalloc_node: kmalloc first (quietly for more than a page), then vmalloc."""
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"size must be an int, not {type(size).__name__}")
        kflags = flags
        if size > PAGE_SIZE:
            kflags |= _GFP_NOWARN
            if not kflags & _GFP_RETRY_MAYFAIL:
                kflags |= _GFP_NORETRY
            kflags &= ~_GFP_NOFAIL
        ret = self._kmalloc(size, kflags)
        if ret or size <= PAGE_SIZE or (flags & G.GFP_KERNEL) != G.GFP_KERNEL:
            return ret
        if size > 0x7fffffff:
            self.k.reporter.warn("mm/util.c:596", "kvmalloc_node+0x10b/0x120",
                                 once_key="kvmalloc_intmax", kernel_frames=[])
            return 0
        return self.vmalloc(size, flags, caller=self.caller_info("kvmalloc_node+0x8b/0x120"))

    def kvfree(self, addr) -> None:
        """kvfree: vfree for a vmalloc address, kfree otherwise."""
        if self.is_vmalloc_addr(addr):
            self.vfree(addr, "kvfree")
        elif addr:
            self._kfree(addr)

    def _kmalloc(self, size: int, flags: int) -> int:
        return kmalloc(size, flags)

    def _kfree(self, addr: int) -> None:
        kfree(addr)

    # -- kmap (mm/highmem.c): pkmap slots on a HighMem machine, else the direct map -----
    def kmap(self, page: Page) -> int:
        """kmap: a HighMem page through a pkmap slot; on a machine without HighMem,
        page_address."""
        if self.pkmap is not None:
            return self.pkmap.kmap(page)
        if page is None:
            raise PageFault(0, False, hint="kmap() was given NULL")
        return self.k.pfn_to_virt(page.pfn)

    def kunmap(self, page: Page) -> None:
        """kunmap: drop the pkmap reference (nothing without HighMem)."""
        if self.pkmap is not None:
            self.pkmap.kunmap(page)

    def kmap_address(self, pfn: int) -> int:
        """The pkmap address of a mapped HighMem frame, else 0."""
        return self.pkmap.kmap_address(pfn) if self.pkmap is not None else 0

    def kunmap_addr(self, addr: int) -> None:
        """kunmap by address (kunmap_local)."""
        if self.pkmap is not None:
            self.pkmap.kunmap_addr(addr)

    # -- lookups -------------------------------------------------------------------
    def is_vmalloc_addr(self, addr) -> bool:
        """VMALLOC_START <= addr < VMALLOC_END."""
        return isinstance(addr, int) and self.vmalloc_start <= addr < self.vmalloc_end

    def vmalloc_to_pfn(self, addr: int) -> int:
        """The frame behind a vmalloc/module/pkmap address (a walk of the tables), or -1."""
        if self.space_of(addr) is None and not (self.pkmap and self.pkmap.contains(addr)):
            return -1
        return self.pt.lookup(addr)

    # -- module memory ---------------------------------------------------------------
    def module_alloc(self, size: int) -> int:
        """module_alloc: the module's core image in the modules area (0 on failure)."""
        k = self.k
        mod = k.modules.current_module()
        return self.vmalloc(size, GFP_VMALLOC | _GFP_NOWARN, caller=_LOAD_MODULE,
                            space=self.modules_space, module=mod)

    def module_memfree(self, addr: int) -> bool:
        """module_memfree: True if addr was module memory (now freed)."""
        area = self.modules_space.areas.get(addr)
        if area is None or area.module is None:
            return False
        self.remove_vm_area(area)
        return True

    # -- numbers for /proc/meminfo and checks -----------------------------------------
    def stats(self) -> tuple[int, int]:
        """(VmallocUsed kB, page-table pages): vmalloc_nr_pages() and the table frames."""
        return self.nr_vmalloc_pages * (PAGE_SIZE >> 10), self.pt.nr_table_pages()

    def debug_check(self) -> list[str]:
        """Invariants: tables map only our frames, each once; no table frame leaked."""
        k = self.k
        errs = []
        seen: dict[int, int] = {}
        expect: dict[int, int] = {}
        for a in self.all_areas():
            for i, pfn in enumerate(a.pages):
                expect[a.start + (i << PAGE_SHIFT)] = pfn
        if self.pkmap is not None:
            expect.update(self.pkmap.mappings())
        pk = self.pkmap
        mapped = set()
        for va, pfn in self.pt.leaves():
            mapped.add(va)
            if pk is not None and pk.idle(va):      # a stale kmap of a page that may be reused
                continue
            if pfn in seen:
                errs.append(f"pfn {pfn:#x} mapped twice: {seen[pfn]:#x} and {va:#x}")
            seen[pfn] = va
            kind = k.owners[int(k.phys.owner[pfn])].kind
            if expect.get(va) != pfn:
                errs.append(f"{va:#x} maps pfn {pfn:#x}, no area gave it that frame")
            elif kind not in ("vmalloc", "module") and not (self.pkmap and self.pkmap.contains(va)):
                errs.append(f"{va:#x} maps pfn {pfn:#x} owned by a {kind}")
        for va, pfn in expect.items():
            if va not in mapped:
                errs.append(f"{va:#x} should map pfn {pfn:#x} but the tables have no entry")
        for vp, base in self.tlb.items():
            if self.pt.lookup(vp << PAGE_SHIFT) != base >> PAGE_SHIFT:
                errs.append(f"stale TLB entry for {vp << PAGE_SHIFT:#x}")
        reach = self.pt.table_frames()
        if reach != set(self.pt.used):
            errs.append(f"page-table frames leaked: {sorted(set(self.pt.used) - reach)}")
        return errs

    # -- boot-time areas ---------------------------------------------------------------
    def boot_areas(self) -> None:
        """A few areas a booted kernel has: IRQ stacks, ioremaps, kernel stacks, percpu."""
        v = self.vmalloc_space
        if self.k.machine.name == "rpi2":        # the SoC's peripherals, mapped by drivers
            ioremaps = (("of_iomap+0x30/0x3c", 0x3f00b000, 1), ("devm_ioremap+0x4c/0x80", 0x3f200000, 1),
                        ("bcm2835_dma_probe+0xc0/0x4e0", 0x3f007000, 1))
        else:
            irq = self.get_vm_area(4 * PAGE_SIZE, v, "irq_init_percpu_irqstack+0xf0/0x120")
            assert irq is not None                 # at boot the space is empty
            irq.types = ("vmap",)
            ioremaps = (("acpi_os_map_iomem+0x1b6/0x1d0", 0x1ffe1000, 1),
                        ("acpi_os_map_iomem+0x1b6/0x1d0", 0x1ffe0000, 2),
                        ("hpet_enable+0xef/0x46d", 0xfed00000, 1))
        for caller, phys, pages in ioremaps:
            a = self.get_vm_area(pages * PAGE_SIZE, v, caller)
            assert a is not None                   # at boot the space is empty
            a.types, a.phys = ("ioremap",), phys
        if self.k.mem_bytes >= 256 << 20:
            boot = [(caller, pages) for caller, pages, n in _BOOT_AREAS for _ in range(n)]
        else:
            boot = [("gen_pool_add_owner+0x3a/0xc0", 1), ("kernel_clone+0xbf/0x430", 4),
                    ("bpf_prog_alloc_no_stats+0x31/0x1f0", 1), ("kernel_clone+0xbf/0x430", 4),
                    ("pcpu_create_chunk+0x167/0x1b0", 2), ("kernel_clone+0xbf/0x430", 4)]
        for caller, pages in boot:
            self.vmalloc(pages * PAGE_SIZE, GFP_VMALLOC | _GFP_NOWARN, caller=caller)


# The page-backed areas of the reference's /proc/vmallocinfo after boot (transcript-main,
# `vk: full /proc/vmallocinfo`), in address order, as (caller, pages, how many): the kernel
# threads' and the shell's stacks, the percpu allocator's chunks (one of 4 MiB, whose page
# array is the 2-page area of the same caller), the zswap compressor's buffers, the BPF
# program pack: VmallocUsed 7352 kB, pages the page allocator no longer has (err_exhaust).
_K, _G = "kernel_clone+0xbf/0x430", "gen_pool_add_owner+0x3a/0xc0"
_BOOT_AREAS = [(_G, 1, 1), (_K, 4, 1), ("bpf_prog_alloc_no_stats+0x31/0x1f0", 1, 1), (_K, 4, 1),
               (_G, 1, 1), (_K, 4, 1), (_G, 1, 1), (_K, 4, 1), (_G, 1, 1), (_K, 4, 3),
               (_K, 4, 28),
               ("pcpu_create_chunk+0x4e/0x1b0", 16, 1), ("pcpu_create_chunk+0x75/0x1b0", 17, 1),
               ("pcpu_create_chunk+0x92/0x1b0", 4, 1), ("pcpu_create_chunk+0x167/0x1b0", 1024, 1),
               (_K, 4, 8), ("n_tty_open+0x14/0xa0", 3, 1), (_K, 4, 2),
               ("crypto_scomp_init_tfm+0x75/0xe0", 32, 1), ("crypto_scomp_init_tfm+0x93/0xe0", 32, 1),
               (_K, 4, 2), ("n_tty_open+0x14/0xa0", 3, 1), ("bpf_prog_pack_alloc+0x292/0x3b0", 512, 1)]


def vmalloc_init(k: Kernel) -> Vmalloc:
    """Boot step: page tables, translators, module area, pkmap, boot-time areas."""
    v = Vmalloc(k)
    for sp in v.spaces:
        k.vm.register(sp.start, sp.end, v.translate)
    if k.machine.pkmap_base:
        v.pkmap = Pkmap(k, v)
        k.vm.register(v.pkmap.start, v.pkmap.end, v.translate)
    v.boot_areas()
    return v
