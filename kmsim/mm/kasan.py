"""Generic KASAN (mm/kasan/): shadow memory, poisoning and the bad-access report.

On with ``--append kasan``; off, ``vm.kasan`` is None and nothing here runs.
One shadow byte covers 8 bytes (KASAN_GRANULE_SIZE): 0 all valid, 1..7 the
first N valid, and the kernel's poison values for red zones and freed memory.
The direct map's shadow is one numpy array; vmalloc and module space have a
shadow page per mapped page.  The allocators' hooks poison and unpoison:

* slab objects (kmalloc with its exact requested size): the rest of the slot is a
  red zone (0xfc), a freed object is 0xfb; a slab's never-allocated objects are
  poisoned the first time KASAN sees the slab;
* kmalloc_large blocks: 0xfe after the request; pages: 0xff when freed;
* vmalloc areas: 0xf8 after the requested size up to the page end.

Only accesses made by module code are checked (the allocators' own accesses to
free objects, e.g. SLUB's freelist pointers, are the kernel's business).  As with
kasan.fault=report, the kernel's default, a bad access prints KASAN's report, taints
B, and then happens: the module carries on.  Only the first report of a boot is
printed (report_enabled), unless the command line has kasan_multi_shot.  A double
or invalid free is reported and not done (____kasan_slab_free returns true).
"""
from __future__ import annotations

import sys
from collections import deque
from types import FrameType

import numpy as np

from ..machine import PAGE_SHIFT, PAGE_SIZE
from ..report import (
    PY_CODE,
    TAINT_BAD_PAGE,
    _is_api,
    format_frame,
    kernel_caller,
    module_frames,
    py_api_frame,
)

__all__ = ["Kasan", "kasan_init", "KASAN_FREE_PAGE", "KASAN_PAGE_REDZONE",
           "KASAN_SLAB_REDZONE", "KASAN_SLAB_FREE", "KASAN_GLOBAL_REDZONE", "KASAN_VMALLOC_INVALID"]

GRANULE = 8
KASAN_FREE_PAGE = 0xFF
KASAN_PAGE_REDZONE = 0xFE
KASAN_SLAB_REDZONE = 0xFC
KASAN_SLAB_FREE = 0xFB
KASAN_GLOBAL_REDZONE = 0xF9
KASAN_VMALLOC_INVALID = 0xF8
BUG_TYPES = {KASAN_FREE_PAGE: "use-after-free", KASAN_PAGE_REDZONE: "slab-out-of-bounds",
             KASAN_SLAB_REDZONE: "slab-out-of-bounds", KASAN_SLAB_FREE: "use-after-free",
             0xFA: "use-after-free", KASAN_GLOBAL_REDZONE: "global-out-of-bounds",
             KASAN_VMALLOC_INVALID: "vmalloc-out-of-bounds"}
QUARANTINE_MAX = 256          # objects held back before the oldest is really freed
RULER = "=================================================================="

# Code whose accesses to poisoned memory are the kernel's own bookkeeping.
INTERNAL = ("kmsim.mm.slub", "kmsim.mm.kmalloc", "kmsim.mm.vmalloc", "kmsim.mm.mempool",
            "kmsim.mm.page_alloc", "kmsim.mm.buddy", "kmsim.mm.kmemleak", "kmsim.mm.kasan",
            "kmsim.mm.debug_vm", "kmsim.module", "kmsim.fs", "kmsim.shell")


def _round_up(x: int, a: int) -> int:
    return (x + a - 1) & ~(a - 1)



# How 6.1 names the API function in a track: kmalloc and kzalloc are inline wrappers of
# kmalloc_trace (as kmemleak's stacks show them).
TRACK_FRAMES = {"kmalloc": "kmalloc_trace+0x26/0x90", "kzalloc": "kmalloc_trace+0x26/0x90",
                "kfree": "kfree+0x7c/0x120"}


def _called_api(files: dict[str, str], frame) -> tuple[str, int, object] | None:
    """The API function the innermost module frame called (the outermost API frame inside
    it), as (name, line, code); None when no module code is on the stack."""
    chain = []
    f = frame
    while f is not None:
        chain.append(f)
        f = f.f_back
    for i, fr in enumerate(chain):          # innermost first
        if fr.f_code.co_filename in files:
            inner = [c for c in chain[:i] if _is_api(c)]
            return (inner[-1].f_code.co_name, inner[-1].f_lineno, inner[-1].f_code) if inner else None
    return None

class Kasan:
    """Shadow memory and reports of one kernel."""

    def __init__(self, kernel):
        self.k = kernel
        self.off = kernel.machine.page_offset
        self.direct_end = kernel.vm.direct_end
        self.shadow = np.zeros((self.direct_end - self.off) >> 3, dtype=np.uint8)
        self.vshadow: dict[int, np.ndarray] = {}
        self.alloc_track: dict[int, tuple[int, list[str]]] = {}
        self.free_track: dict[int, tuple[int, list[str]]] = {}
        self.seen_slabs: set[int] = set()
        self.vareas: dict[int, int] = {}
        self.globals: dict[int, tuple[int, int]] = {}     # module static -> (size, redzone)
        self.quarantine: deque = deque()
        self.q_set: set[int] = set()
        self._releasing = False
        self.reports = 0
        self.multi_shot = "kasan_multi_shot" in kernel.params
        self.reported = False

    # -- shadow ----------------------------------------------------------------------
    def _set(self, addr: int, n: int, value: int) -> None:
        """Set the shadow of the granules of [addr, addr+n) to value."""
        if n <= 0:
            return
        if self.off <= addr and addr + n <= self.direct_end:
            i = (addr - self.off) >> 3
            self.shadow[i:i + ((n + 7) >> 3)] = value
            return
        end = addr + n
        while addr < end:
            page_end = (addr | (PAGE_SIZE - 1)) + 1
            arr = self.vshadow.get(addr >> PAGE_SHIFT)
            if arr is None:
                arr = self.vshadow[addr >> PAGE_SHIFT] = np.zeros(PAGE_SIZE >> 3, dtype=np.uint8)
            lo = (addr & (PAGE_SIZE - 1)) >> 3
            hi = ((min(end, page_end) - 1) & (PAGE_SIZE - 1)) >> 3
            arr[lo:hi + 1] = value
            addr = page_end

    def _get(self, addr: int) -> int:
        """The shadow byte of addr's granule."""
        if self.off <= addr < self.direct_end:
            return int(self.shadow[(addr - self.off) >> 3])
        arr = self.vshadow.get(addr >> PAGE_SHIFT)
        return int(arr[(addr & (PAGE_SIZE - 1)) >> 3]) if arr is not None else 0

    def poison(self, addr: int, n: int, value: int) -> None:
        """kasan_poison: [addr, addr+n) (granule aligned) becomes value."""
        self._set(addr, n, value)

    def unpoison(self, addr: int, n: int) -> None:
        """kasan_unpoison: n bytes valid; a partial last granule keeps n % 8."""
        full = n & ~7
        self._set(addr, full, 0)
        if n & 7:
            self._set(addr + full, 1, n & 7)

    # -- the check -------------------------------------------------------------------
    def check(self, addr: int, n: int, write: bool) -> None:
        """kasan_check_range: called by VirtMem for every typed access."""
        if n <= 0:
            return
        if self.off <= addr and addr + n <= self.direct_end:
            i0 = (addr - self.off) >> 3
            if not self.shadow[i0:((addr + n - 1 - self.off) >> 3) + 1].any():
                return
        elif not self.vshadow or (addr >> PAGE_SHIFT) not in self.vshadow and \
                ((addr + n - 1) >> PAGE_SHIFT) not in self.vshadow:
            return
        bad = self._first_bad(addr, n)
        if bad is None or self._internal():
            return
        if self.report_enabled():
            self.report(addr, n, write, bad)

    def report_enabled(self) -> bool:
        """report_enabled: the first report of the boot, or every one with kasan_multi_shot."""
        if self.multi_shot:
            return True
        first, self.reported = not self.reported, True
        return first

    def _first_bad(self, addr: int, n: int) -> int | None:
        a = addr
        end = addr + n
        while a < end:
            g = a & ~7
            v = self._get(a)
            if v >= 0x80 or (v and (a - g) >= v):
                return a
            a = min(end, g + 8) if v == 0 or (min(end, g + 8) - g) <= v else g + v
        return None

    def _internal(self) -> bool:
        files = self.k.modules.module_files()
        f: FrameType | None = sys._getframe(3)
        while f is not None:
            if f.f_code.co_filename in files or f.f_globals.get("__name__") == PY_CODE:
                return False            # a module's code, or py's (kernel code of the shell's task)
            if f.f_globals.get("__name__", "").startswith(INTERNAL):
                return True
            f = f.f_back
        return True

    # -- allocator hooks --------------------------------------------------------------
    def _track(self) -> tuple[int, list[str]]:
        """kasan_set_track: the task and the stack: the API function the module called (as
        6.1 compiles it: kmalloc inlined into kmalloc_trace), then the module's frames."""
        files = self.k.modules.module_files()
        mods = module_frames(files, frame=sys._getframe(2), api=False) if files else []
        frames = [format_frame(fn, ln, code, mod) for fn, ln, mod, code in mods]
        api = _called_api(files, sys._getframe(2)) if files else None
        if api is None and not mods and self.k.py_depth:   # a py statement: the API it called, its caller
            py = py_api_frame(sys._getframe(2), outermost=True)
            api = py and (py[0], py[1], py[3])
            frames = [f" {kernel_caller(self.k)}"] if py is not None else []
        if api is not None and frames:
            fn, ln, code = api
            frames.insert(0, f" {TRACK_FRAMES[fn]}" if fn in TRACK_FRAMES
                          else format_frame(fn, ln, code, None))
        return self.k.current.pid, frames

    def page_alloc(self, pfn: int, order: int, gfp: int) -> None:
        """kasan_unpoison_pages."""
        addr = self.k.pfn_to_virt(pfn)
        if addr:
            self._set(addr, PAGE_SIZE << order, 0)
            self.alloc_track[addr] = self._track()

    def page_free(self, pfn: int, order: int) -> None:
        """kasan_poison_pages: a freed page is 0xff."""
        addr = self.k.pfn_to_virt(pfn)
        if addr:
            self._set(addr, PAGE_SIZE << order, KASAN_FREE_PAGE)
            self.free_track[addr] = self._track()

    def slab_alloc(self, cache, addr: int, size: int) -> None:
        """__kasan_kmalloc: the requested bytes valid, the rest of the slot a red zone."""
        slab = self.k.slab
        if cache is None:
            order = slab.large.get(self.k.virt_to_pfn(addr), 0)
            self._set(addr, PAGE_SIZE << order, KASAN_PAGE_REDZONE)
        else:
            sl = slab.find_slab(addr)
            if sl is not None and id(sl) not in self.seen_slabs:
                self.seen_slabs.add(id(sl))
                self._set(sl.base, PAGE_SIZE << sl.order, KASAN_SLAB_REDZONE)
            slot = cache.size or _round_up(size, 8)
            self._set(addr, slot - cache.red_left_pad, KASAN_SLAB_REDZONE)
        self.unpoison(addr, size)
        self.alloc_track[addr] = self._track()
        self.free_track.pop(addr, None)

    def slab_free(self, cache, addr: int) -> None:
        """__kasan_slab_free: the object becomes 0xfb (kmalloc_large: 0xff)."""
        if self._releasing:
            return
        if cache is None:
            slab = self.k.slab
            order = slab.large.get(self.k.virt_to_pfn(addr), 0)
            self._set(addr, PAGE_SIZE << order, KASAN_FREE_PAGE)
        else:
            size = cache.object_size or 8
            self._set(addr, size, KASAN_SLAB_FREE)
        self.free_track[addr] = self._track()

    def vmalloc_alloc(self, addr: int, size: int) -> None:
        """kasan_unpoison_vmalloc: the area's bytes after size up to the page end are 0xf8."""
        span = _round_up(max(size, 1), PAGE_SIZE)
        self._set(addr, span, KASAN_VMALLOC_INVALID)
        self.unpoison(addr, size)
        self.alloc_track[addr] = self._track()
        self.vareas[addr] = size

    def vmalloc_free(self, addr: int, size: int = 0) -> None:
        """kasan_poison_vmalloc: forget the area's shadow (its pages are unmapped)."""
        for vpn in range(addr >> PAGE_SHIFT, (addr + max(size, 1) - 1 >> PAGE_SHIFT) + 1):
            self.vshadow.pop(vpn, None)
        self.alloc_track.pop(addr, None)
        self.vareas.pop(addr, None)

    def global_redzone(self, size: int) -> int:
        """The red zone the compiler puts after a global: to a 32-byte boundary, plus 32."""
        return _round_up(size, 32) - _round_up(size, 8) + 32

    def global_alloc(self, addr: int, size: int, redzone: int) -> None:
        """A module static: its bytes valid, then `redzone` bytes of 0xf9."""
        self._set(addr + _round_up(size, 8), redzone, KASAN_GLOBAL_REDZONE)
        self.unpoison(addr, size)
        end = addr + _round_up(size, 8) + redzone
        for a in [a for a, (n, rz) in self.globals.items()          # an unloaded module's
                  if a < end and addr < a + _round_up(n, 8) + rz]:  # statics, in reused memory
            del self.globals[a]
        self.globals[addr] = (size, redzone)

    def _variable(self, addr: int) -> str | None:
        """' NAME+0xOFF/0xSIZE [mod]' (%pS) of the module static whose bytes or red zone
        hold addr, or None when addr is not in one."""
        hits = [a for a, (n, rz) in self.globals.items() if a <= addr < a + _round_up(n, 8) + rz]
        if not hits:
            return None
        start = max(hits)
        size, rz = self.globals[start]
        span = _round_up(size, 8) + rz
        for mod in list(self.k.modules.modules.values()):
            if not any(a <= start < a + n for a, n in mod.chunks):
                continue
            for name, v in mod.namespace.items():
                if not name.startswith("__") and getattr(v, "addr", None) == start:
                    return f" {name}+{addr - start:#x}/{span:#x} [{mod.name}]"
            return f" {start:#x}+{addr - start:#x}/{span:#x} [{mod.name}]"
        return f" {addr:#x}"

    # -- quarantine (mm/kasan/quarantine.c) ------------------------------------------
    def attach_quarantine(self, slub) -> None:
        """Route SLUB's frees through the quarantine: a freed object stays allocated in
        SLUB's eyes (poisoned 0xfb) until QUARANTINE_MAX later frees push it out, so a
        stale pointer is caught even after the next allocations."""
        self._slub = slub
        slub.free_intercept = self.quarantine_free
        slub.destroy_hooks.append(self.quarantine_destroy)
        slub.update_fast()

    def quarantine_free(self, s, x: int, caller: str = "kmem_cache_free") -> bool:
        """kasan_slab_free (SLUB's free_intercept): catch a double free, poison, and delay
        the real free.  True: KASAN has the object (or refused the free); False: free it now."""
        slub = self._slub
        sl = slub.find_slab(x) if isinstance(x, int) else None
        if sl is None or self._releasing:
            return False
        if s is not None and sl.cache is not s:
            return False                                 # cache_from_obj's report
        if (x - sl.base - sl.cache.red_left_pad) % sl.cache.size:
            self.report_free(x, "invalid-free")          # ____kasan_slab_free: nearest_obj != object
            return True
        if x in self.q_set or self._get(x) >= 0x80 or slub.is_free(sl.cache, x):
            self.report_free(x, "double-free")           # !kasan_byte_accessible: not freed again
            return True
        for hook in slub.free_hooks:
            hook(sl.cache, x)
        self.quarantine.append((s, x, caller))
        self.q_set.add(x)
        while len(self.quarantine) > QUARANTINE_MAX:
            self._release(*self.quarantine.popleft())
        return True

    def _release(self, s, x: int, caller: str) -> None:
        self.q_set.discard(x)
        self._releasing = True
        try:
            self._slub.slab_free(s, x, caller)
        finally:
            self._releasing = False

    def quarantine_destroy(self, s) -> None:
        """kasan_cache_shutdown (a SLUB destroy hook): release the cache's quarantined objects."""
        keep = []
        for item in self.quarantine:
            sl = self._slub.find_slab(item[1])
            if sl is not None and sl.cache is s:
                self._release(*item)
            else:
                keep.append(item)
        self.quarantine.clear()
        self.quarantine.extend(keep)

    def report_free(self, x: int, kind: str) -> None:
        """'BUG: KASAN: double-free in FUNC', 'Free of addr ... by task ...'."""
        if not self.report_enabled():
            return
        k, r, w = self.k, self.k.reporter, self.k.machine.ptr_size * 2
        mods, where = self._start(sys._getframe(1), access=False)
        head = [RULER, f"BUG: KASAN: {kind} in {where}",
                f"Free of addr {x:0{w}x} by task {k.current.comm}/{k.current.pid}", "",
                r.cpu_line(), r.hardware_line(), "Call Trace:", " <TASK>",
                " dump_stack_lvl+0x44/0x5c", " print_report+0x184/0x4be",
                " kasan_report_invalid_free+0x98/0xc0"]
        self._finish(head, mods, x, x, f"KASAN: {kind} of {x:#x}")

    # -- the report ------------------------------------------------------------------
    def bug_type(self, bad: int) -> str:
        """get_shadow_bug_type: a partial granule looks at the next shadow byte."""
        v = self._get(bad)
        if 0 < v < 8:
            v = self._get((bad & ~7) + 8)
        return BUG_TYPES.get(v, "out-of-bounds")

    def report(self, addr: int, n: int, write: bool, bad: int) -> None:
        """Print KASAN's report and taint B; the access then happens."""
        k, r, w = self.k, self.k.reporter, self.k.machine.ptr_size * 2
        mods, where = self._start(sys._getframe(1))
        head = [RULER, f"BUG: KASAN: {self.bug_type(bad)} in {where}",
                f"{'Write' if write else 'Read'} of size {n} at addr {addr:0{w}x} by task "
                f"{k.current.comm}/{k.current.pid}", "", r.cpu_line(), r.hardware_line(),
                "Call Trace:", " <TASK>", " dump_stack_lvl+0x44/0x5c",
                " print_report+0x184/0x4be", " kasan_report+0xc2/0x100"]
        self._finish(head, mods, addr, bad, f"KASAN: {self.bug_type(bad)} at {addr:#x}")

    def _start(self, frame, access: bool = True) -> tuple[list, str]:
        """Count a report; the module frames of the live stack and the function it is 'in'.
        For an access, the API function that made it (strlen, memcpy ...) when there is
        one, as KASAN names the instrumented function; for a bad free, the caller of
        kfree/kmem_cache_free (_RET_IP_ of the inlined free hooks): the module's."""
        self.reports += 1
        mods = module_frames(self.k.modules.module_files(), frame=frame)
        if not mods:                    # a py statement: its API call, then the task's kernel frames
            api = py_api_frame(frame)
            mods = [api] if api is not None else []
            if access and mods and mods[0][0] not in INTERCEPTED:
                return mods, format_frame(*_reorder(mods[0])).strip()
            return mods, kernel_caller(self.k)
        if access and mods and mods[0][2] is None and mods[0][0] in INTERCEPTED and len(mods) > 1:
            return mods, format_frame(*_reorder(mods[1])).strip()      # their _RET_IP_: the caller
        if access and mods:
            return mods, format_frame(*_reorder(mods[0])).strip()
        return mods, next((format_frame(*_reorder(m)).strip() for m in mods if m[2]), kernel_caller(self.k))

    def _finish(self, head: list[str], mods, addr: int, bad: int, msg: str) -> None:
        """The rest of a report: module frames, object description, shadow rows; taint B
        and print it (end_report).  ``msg`` names the report for hints."""
        k = self.k
        if mods and mods[0][2] is None and mods[0][0] in INTERCEPTED and "kasan_report+" in head[-1]:
            head = head + [" kasan_check_range+0x13d/0x1a0"]
        lines = head + [format_frame(*_reorder(m)) for m in mods]
        lines += [f" {f}" for f in k.current.entry_frames] + k.reporter.user_frame(k.current.entry_frames)
        lines += [" </TASK>", ""]
        lines += self._describe(addr, bad)
        lines += self._memory_state(addr)
        lines.append(RULER)
        k.add_taint(TAINT_BAD_PAGE)
        k.reporter.emit(lines, level=3)
        k.modules.lockdep_off()
        if self.reports == 1 and not self.multi_shot:
            who = "the module" if any(m[2] for m in mods) else "the code"
            k.printk.emit(4, f"kmsim: {msg}: {who} went on running, as with the kernel's "
                             f"kasan.fault=report; KASAN reports only the first bad access of a "
                             f"boot (--append kasan_multi_shot reports them all)")

    def _describe(self, addr: int, bad: int) -> list[str]:
        k = self.k
        var = self._variable(addr)
        if var is not None:         # a module global: no object, no vmalloc area, no page
            return ["The buggy address belongs to the variable:", var, ""]
        w = k.machine.ptr_size * 2
        slab = k.slab
        found = slab.find_object(addr)
        if found is None and slab.find_slab(addr) is not None:       # only in addr's own slab
            found = slab.find_object(addr - 8)
        base = found[1] if found else self._area_start(addr)
        out = []
        pfn = k.virt_to_pfn(addr)
        vmap = pfn < 0 and (addr >> PAGE_SHIFT) in self.vshadow
        for title, track in (("Allocated", self.alloc_track.get(base)),
                             ("Freed", self.free_track.get(base))):
            if track is not None and not vmap:      # vmalloc: the area's caller instead
                pid, frames = track
                kasan = [" kasan_save_stack+0x22/0x50", " kasan_set_track+0x25/0x30"]
                kasan.append(" __kasan_kmalloc+0x7e/0x90" if title == "Allocated"
                             else " kasan_save_free_info+0x2b/0x50")
                out += [f"{title} by task {pid}:"] + kasan + frames + [""]
        if found:
            cache, start, size = found
            if addr < start:
                rel, where = start - addr, "to the left of"
            elif addr >= start + size:
                rel, where = addr - start - size, "to the right of"
            else:
                rel, where = addr - start, "inside of"
            out += [f"The buggy address belongs to the object at {start:0{w}x}",
                    f" which belongs to the cache {cache.name} of size {size}",
                    f"The buggy address is located {rel} bytes {where}",
                    f" {size}-byte region [{start:0{w}x}, {start + size:0{w}x})", ""]
        if vmap:
            start = self._area_start(addr)
            end = start + _round_up(self.vareas.get(start, PAGE_SIZE), PAGE_SIZE) + PAGE_SIZE
            frames = (self.alloc_track.get(start) or (0, []))[1]
            caller = next((f for f in frames if f.endswith("]")), " vmalloc+0x4f/0x60")
            out += ["The buggy address belongs to the virtual mapping at",
                    f" [{start:0{w}x}, {end:0{w}x}) created by:", caller, ""]
            try:                                    # vmalloc_to_page
                pfn = k.vm.translate(addr) >> PAGE_SHIFT
            except Exception:
                pfn = -1
        if pfn >= 0:
            out += ["The buggy address belongs to the physical page:",
                    f"page:{k.printk_ctx.hash_pointer(k.page_struct_addr(pfn))} refcount:"
                    f"{int(k.phys.refcount[pfn])} mapcount:0 mapping:{0:0{w}x} index:0x0 "
                    f"pfn:{pfn:#x}",
                    self._page_flags(pfn),
                    "page dumped because: kasan: bad access detected", ""]
        return out

    def _page_flags(self, pfn: int) -> str:
        """dump_page's 'flags: %pGp' line, as SLUB's print_slab_info shows a slab page's."""
        k = self.k
        zone = k.buddy.zone_of(pfn)
        zi = zone.idx if zone is not None else 0
        if k.slab.find_slab(k.pfn_to_virt(pfn)) is not None:
            return f"flags: 0xfffffc0000200(slab|node=0|zone={zi}|lastcpupid=0x1fffff)"
        return f"flags: 0xfffffc0000000(node=0|zone={zi}|lastcpupid=0x1fffff)"

    def _area_start(self, addr: int) -> int:
        starts = [a for a in self.alloc_track if a <= addr]
        return max(starts) if starts else addr & ~(PAGE_SIZE - 1)

    def _memory_state(self, addr: int) -> list[str]:
        """print_memory_metadata: 5 rows of 16 shadow bytes, '>' on the row, '^' under the byte."""
        w = self.k.machine.ptr_size * 2
        row_span = 16 * GRANULE
        row = addr & ~(row_span - 1)
        out = ["Memory state around the buggy address:"]
        for i in range(-2, 3):
            ra = row + i * row_span
            vals = " ".join(f"{self._get(ra + j * GRANULE):02x}" for j in range(16))
            out.append(f"{'>' if i == 0 else ' '}{ra:0{w}x}: {vals}")
            if i == 0:
                col = 3 + w + ((addr - row) // GRANULE) * 3
                out.append(" " * col + "^")
        return out


# mm/kasan/shadow.c: memset, memcpy and memmove are not instrumented but check their range
# with kasan_check_range(..., _RET_IP_), so the report is "in" their caller
INTERCEPTED = {"memset", "memcpy", "memmove"}


def _reorder(m):
    fn, ln, mod, code = m
    return fn, ln, code, mod


def kasan_init(kernel) -> Kasan | None:
    """Boot step: with 'kasan' on the command line, shadow memory and the allocator hooks."""
    if not kernel.params.get("kasan") or kernel.params.get("kasan") in ("off", "0"):
        return None
    ks = Kasan(kernel)
    kernel.buddy.alloc_hooks.append(ks.page_alloc)
    kernel.buddy.free_hooks.append(ks.page_free)
    kernel.slab.alloc_hooks.append(ks.slab_alloc)
    kernel.slab.free_hooks.append(ks.slab_free)
    ks.attach_quarantine(kernel.slab)
    kernel.vmalloc.alloc_hooks.append(ks.vmalloc_alloc)
    kernel.vmalloc.free_hooks.append(ks.vmalloc_free)
    kernel.vm.kasan = ks
    kernel.printk.emit(6, "kasan: KernelAddressSanitizer initialized")
    return ks
