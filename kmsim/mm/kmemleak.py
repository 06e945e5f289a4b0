"""kmemleak (mm/kmemleak.c): who allocated what, and what nobody points to any more.

Every allocation a module makes (pages, slab objects and kmalloc, vmalloc areas,
mempool elements through those) is recorded with its owner module, the task and
the module's Python frames at that moment.  Allocations the kernel makes for
itself (``kernel.current_owner == kernel.kernel_owner``) cost one comparison.

* At ``rmmod``, whatever the module still owns is reported in kmemleak's format
  and summarised on the shell (``rmmod: NAME left 3 objects (240 bytes) allocated``);
  the memory stays allocated, as in the kernel.
* ``scan()`` is kmemleak's mark and sweep over simulated memory: the roots are the
  modules' statics (their Python globals, and their module memory), every object
  reachable from a root is scanned for pointer-sized values that point into other
  tracked objects; what is left unreached is a suspected leak.
"""
from __future__ import annotations

import bisect
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import FrameType

import numpy as np

from ..machine import PAGE_SHIFT, PAGE_SIZE
from ..report import ENTRY_CODES, format_frame
from . import page_api as _page_api
from .gfp import __GFP_DIRECT_RECLAIM as _GFP_DIRECT_RECLAIM
from .hooks import RESCHED as _RESCHED
from .physmem import PG_buddy, PG_hole, PG_pcp, PG_reserved

__all__ = ["KmemleakObject", "Kmemleak", "kmemleak_init", "alloc_context", "hex_dump_lines",
           "INITIAL_JIFFIES", "HZ"]

HZ = 250
INITIAL_JIFFIES = (1 << 32) - 300 * HZ
HEX_MAX = 32
_REPORTED, _IGNORED = 1, 2
_FREE_OR_ABSENT = PG_buddy | PG_pcp | PG_reserved | PG_hole

# Allocator internals whose own allocations are not objects of the module
# (SLUB's slab pages, vmalloc's backing pages, the loader's module memory).
INTERNAL_PAGE = ("kmsim.mm.slub", "kmsim.mm.kmalloc", "kmsim.mm.vmalloc", "kmsim.module", "kmsim.mm.kasan")
INTERNAL_SLAB = ("kmsim.mm.vmalloc", "kmsim.module", "kmsim.mm.kasan")
INTERNAL_VMALLOC = ("kmsim.module",)

# The page API functions that call the allocator's fast path for their caller (compared by
# identity: hashing a code object hashes its bytecode).
_ALLOC_PAGES_CODE = _page_api.alloc_pages.__code__
_GET_FREE_PAGES_CODE = _page_api.__get_free_pages.__code__
_getframe = sys._getframe

KIND_FRAMES = {"page": ["__alloc_pages+0x1d7/0x330", "alloc_pages+0x90/0x160"],
               "slab": ["kmem_cache_alloc+0x1ab/0x340"],
               "kmalloc": ["kmalloc_trace+0x26/0x90"],
               "vmalloc": ["__vmalloc_node_range+0x6c8/0x8b0", "vmalloc+0x4f/0x60"]}


def alloc_context(k, internal: tuple[str, ...], depth: int = 2):
    """The module frames of the live stack (innermost first), or None when the
    allocation is made by one of the ``internal`` kmsim modules on a module's behalf."""
    files = k.modules.module_files()
    f: FrameType | None = sys._getframe(depth)
    frames = []
    while f is not None:
        code = f.f_code
        if code in ENTRY_CODES:             # the kernel's side of the stack starts here
            break
        name = files.get(code.co_filename)
        if name is not None:
            frames.append((code.co_name, f.f_lineno, name, code))
        elif not frames and f.f_globals.get("__name__", "").startswith(internal):
            return None
        f = f.f_back
    return frames


@dataclass(slots=True)
class KmemleakObject:
    """struct kmemleak_object, as a report sees it: built from the compact record
    (``Kmemleak.objects[addr]``) and its stack depot entry when it is asked for."""
    addr: int
    size: int
    kind: str                 # page, slab, kmalloc, vmalloc
    owner: int
    modname: str
    comm: str
    pid: int
    ns: int
    stack: tuple = ((), ())                        # (module frames, the task's entry frames)
    site: tuple | None = None                      # (file, line, function) of the module
    cache: str = ""
    pfn: int = -1
    order: int = 0
    reported: bool = False
    ignored: bool = False

    @property
    def trace(self) -> list[str]:
        """The backtrace: the allocator, the module's functions, the system call."""
        frames, entry = self.stack
        return (list(KIND_FRAMES.get(self.kind, []))
                + [format_frame(fn, ln, code, mod).strip() for fn, ln, mod, code in frames]
                + list(entry))


def hex_dump_lines(data: bytes, prefix: str = "    ") -> list[str]:
    """print_hex_dump(DUMP_PREFIX_NONE, 16, 1, ascii): 'xx xx ...  ascii'."""
    out = []
    for i in range(0, len(data), 16):
        row = data[i:i + 16]
        hexpart = " ".join(f"{b:02x}" for b in row)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        out.append(f"{prefix}{hexpart:<49}{text}")
    return out


# How a code object's frames count in an allocation's stack (StackDepot.classify).
_OTHER, _MODULE, _MODULE_NOCACHE, _STOP, _INTERNAL = 0, 1, 2, 3, 4
_CO_SUSPENDS = 0x20 | 0x80 | 0x200        # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
HANDLE_BITS = 32
HANDLE_MASK = (1 << HANDLE_BITS) - 1
_NO_FAST = (None, -1, -1, None, 0)


class StackDepot:
    """lib/stackdepot.c for kmemleak: one small int per distinct allocation context.

    A context is the module frames of the stack (code object and instruction offset of
    each, up to the loader's call), the owner and task, and the kind, size and cache of
    the allocation.  ``handle()`` returns its number; ``entries[h]`` keeps what a report
    needs: ``(kind, size, cache, owner, modname, comm, pid, frames, entry_frames, site)``.
    A loop that allocates from one line finds its stack with one identity test: while a
    frame runs, the frames below it cannot change, so (innermost module frame, its
    instruction offset) names the whole stack.
    """

    def __init__(self, k):
        self.k = k
        self.entries: list[tuple] = []
        self._handles: dict[tuple, int] = {}
        self._stacks: dict[tuple, int] = {}      # (owner, pid, (code, lasti) ...) -> stack id
        self._stack_info: list[tuple] = []       # stack id -> (frames, site)
        self._classes: dict[object, tuple[int, str]] = {}
        self._decisions: dict[tuple, dict[object, int]] = {}    # internal -> {code: _OTHER ...}
        self._last: tuple = (None, -1, -1)       # (frame, lasti, stack id)
        self.fast_last: tuple = _NO_FAST         # slab_fast: (frame, lasti, size, cache, handle + 1)

    def forget_frames(self) -> None:
        """Module code stopped running: drop the cached frame."""
        self._last = (None, -1, -1)
        self.fast_last = _NO_FAST

    def forget_code(self) -> None:
        """A module was loaded or unloaded: its files' code objects change meaning."""
        self._classes.clear()
        self._decisions.clear()
        self._last = (None, -1, -1)
        self.fast_last = _NO_FAST

    def classify(self, f) -> tuple[int, str]:
        """(_MODULE / _MODULE_NOCACHE / _STOP / _OTHER, module name or Python module name)."""
        code = f.f_code
        c = self._classes.get(code)
        if c is not None:
            return c
        if code in ENTRY_CODES:
            c = (_STOP, "")
        else:
            name = self.k.modules.module_files().get(code.co_filename)
            if name is not None:
                c = (_MODULE_NOCACHE if code.co_flags & _CO_SUSPENDS else _MODULE, name)
            else:
                c = (_OTHER, f.f_globals.get("__name__", ""))
        self._classes[code] = c
        return c

    def _decide(self, f, internal: tuple[str, ...], table: dict) -> int:
        kind, name = self.classify(f)
        d = _INTERNAL if kind == _OTHER and name.startswith(internal) else kind
        table[f.f_code] = d
        return d

    def stack_of(self, depth: int, internal: tuple[str, ...]) -> int:
        """The stack id of the allocation whose hook called us (depth frames up), or -1
        when one of the ``internal`` kmsim modules allocates on a module's behalf."""
        f: FrameType | None = sys._getframe(depth)
        table = self._decisions.get(internal)
        if table is None:
            table = self._decisions[internal] = {}
        while f is not None:
            d = table.get(f.f_code)
            if d is None:
                d = self._decide(f, internal, table)
            if d:
                break
            f = f.f_back
        else:
            return self._stack_id(None, False)
        if d == _MODULE:
            last = self._last
            if f is last[0] and f.f_lasti == last[1]:
                return last[2]
            return self._stack_id(f, True)
        if d == _INTERNAL:
            return -1
        return self._stack_id(f if d == _MODULE_NOCACHE else None, False)

    def _stack_id(self, m, cacheable: bool) -> int:
        """Walk the module frames from m (the innermost) to the loader's call."""
        k = self.k
        key: list = [k.current_owner, k.current.pid]
        frames = []
        f = m
        while f is not None:
            c = self.classify(f)
            if c[0] == _STOP:
                break
            if c[0] != _OTHER:
                key += (f.f_code, f.f_lasti)
                frames.append((f.f_code, c[1], f))
            f = f.f_back
        tkey = tuple(key)
        sid = self._stacks.get(tkey)
        if sid is None:
            sid = len(self._stack_info)
            self._stacks[tkey] = sid
            fr = tuple((code.co_name, fo.f_lineno, name, code) for code, name, fo in frames)
            site = (fr[0][3].co_filename, fr[0][1], fr[0][0]) if fr else None
            task = k.current
            self._stack_info.append((fr, site, k.current_owner, task.comm, task.pid, task.entry_frames))
        if m is not None and cacheable:
            self._last = (m, m.f_lasti, sid)
        return sid

    def handle(self, sid: int, kind: str, size: int, cache: str) -> int:
        """The depot handle of an allocation of stack sid."""
        key = (sid, kind, size, cache)
        h = self._handles.get(key)
        if h is None:
            h = len(self.entries)
            self._handles[key] = h
            fr, site, owner, comm, pid, entry = self._stack_info[sid]
            self.entries.append((kind, size, cache, owner, self.k.owners[owner].name, comm, pid,
                                 fr, tuple(entry), site))
        return h


class _Records(Mapping[int, int]):
    """Kmemleak.objects: the records of the slab objects and the others, as one mapping."""

    def __init__(self, kl: Kmemleak):
        self.kl = kl

    def __getitem__(self, addr: int) -> int:
        rec = self.kl.others.get(addr)
        if rec is None:
            rec = self.kl.slab_record(addr)
        if rec is None:
            raise KeyError(addr)
        return rec

    def __iter__(self) -> Iterator[int]:
        return iter([a for a, _r in self.kl.records()])

    def __len__(self) -> int:
        return len(self.kl.records())


class Kmemleak:
    """The tracked objects of one kernel, the rmmod report and the scanner."""

    def __init__(self, kernel):
        self.k = kernel
        # A slab object's record is two array items of its slab (Slab.rec_ns, Slab.rec_h: 12
        # bytes of host memory); the others' (vmalloc, kmalloc_large) are in this dict:
        # addr -> ns << HANDLE_BITS | depot handle.  ``objects`` shows both as one mapping.
        self.others: dict[int, int] = {}
        self.flags: dict[int, int] = {}        # addr -> _REPORTED | _IGNORED (the few reported)
        self.depot = StackDepot(kernel)
        self.cache_snapshots: dict[int, dict[int, int]] = {}
        self.enabled = True
        self._clock = kernel.clock_ns
        self._last_handle: tuple = (-1, -1, None, -1)       # (stack id, size, cache, handle)
        self._last_page: tuple = (-1, -1, 0)                 # (stack id, order, handle + 1)
        # A module's pages: struct page-like arrays by pfn (zero pages until written), the
        # depot handle + 1 and the time of the allocation.  A record counts while its block
        # is allocated to the owner it names (checked when asked): freeing costs nothing.
        n = kernel.phys.nr_pages
        self.page_handle = np.zeros(n, np.uint32)
        self.page_ns = np.zeros(n, np.int64)
        self._ph, self._pns = memoryview(self.page_handle), memoryview(self.page_ns)  # type: ignore[arg-type]  # numpy's stubs: an ndarray is a buffer

    # -- recording -------------------------------------------------------------------
    def _record(self, addr: int, size: int, kind: str, internal, cache: str = "", sl=None) -> None:
        sid = self.depot.stack_of(3, internal)
        if sid < 0:
            return
        h = self.depot.handle(sid, kind, size, cache)
        i = sl.index_of(addr) if sl is not None else -1
        if i >= 0:
            (sl.rec_h or sl.new_records())[i] = h + 1
            sl.rec_ns[i] = self._clock()
        else:
            self.others[addr] = self._clock() << HANDLE_BITS | h
        if self.flags:
            self.flags.pop(addr, None)

    @property
    def objects(self) -> Mapping[int, int]:
        """Every tracked object's record (slab objects, vmalloc areas, kmalloc_large blocks):
        addr -> ns << HANDLE_BITS | depot handle."""
        return _Records(self)

    def slab_record(self, addr: int) -> int | None:
        """The record of the slab object that starts at addr, or None."""
        sl = self.k.slab.find_slab(addr)
        if sl is None or not sl.rec_h:
            return None
        i = sl.index_of(addr)
        h = sl.rec_h[i] if i >= 0 else 0
        return sl.rec_ns[i] << HANDLE_BITS | (h - 1) if h else None

    def slab_records(self) -> list[tuple[int, int]]:
        """(addr, record) of every recorded slab object, slab by slab."""
        out = []
        for s in self.k.slab.caches:
            for sl in s.slabs():
                rh = sl.rec_h
                if not rh:
                    continue
                ns, base, size = sl.rec_ns, sl.base + s.red_left_pad, s.size
                for i in np.flatnonzero(np.frombuffer(rh, np.uint32)).tolist():
                    out.append((base + i * size, ns[i] << HANDLE_BITS | (rh[i] - 1)))
        return out

    def records(self) -> list[tuple[int, int]]:
        """(addr, record) of every tracked object but the page blocks."""
        return [*self.others.items(), *self.slab_records()]

    def _forget_slab(self, addr: int) -> bool:
        """Drop the record of the slab object at addr; True if there was one."""
        sl = self.k.slab.find_slab(addr)
        if sl is None or not sl.rec_h:
            return False
        i = sl.index_of(addr)
        if i < 0 or not sl.rec_h[i]:
            return False
        sl.rec_h[i] = 0
        return True

    def get(self, addr: int) -> KmemleakObject | None:
        """The tracked object that starts at addr, as a report sees it."""
        rec = self.others.get(addr)
        if rec is None:
            rec = self.slab_record(addr)
        if rec is None:
            rec = next((r for a, r in self.page_records() if a == addr), None)
        return None if rec is None else self._object(addr, rec)

    def _object(self, addr: int, rec: int) -> KmemleakObject:
        entry_ = self.depot.entries[rec & HANDLE_MASK]
        kind, size, cache, owner, modname, comm, pid, frames, entry, site = entry_
        fl = self.flags.get(addr, 0)
        pfn, order = -1, 0
        if kind == "page":
            order = (size >> PAGE_SHIFT).bit_length() - 1
            pfn = self.page_pfn(addr)
        return KmemleakObject(addr, size, kind, owner, modname, comm, pid, rec >> HANDLE_BITS,
                              (frames, entry), site, cache, pfn, order, bool(fl & _REPORTED),
                              bool(fl & _IGNORED))

    def all_objects(self) -> list[KmemleakObject]:
        """Every tracked object (unordered)."""
        return [self._object(a, r) for a, r in (*self.records(), *self.page_records())]

    def mark(self, o: KmemleakObject, flag: int) -> None:
        """Set _REPORTED or _IGNORED on a tracked object."""
        self.flags[o.addr] = self.flags.get(o.addr, 0) | flag
        if flag == _REPORTED:
            o.reported = True
        else:
            o.ignored = True

    def context_changed(self) -> None:
        """Context hook: module code started or stopped running."""
        self.depot.forget_frames()
        self.attach_page_hooks()

    def attach_page_hooks(self) -> None:
        """Context hook: the page allocator's hooks go in when module code first runs.
        Until then every page is the kernel's, and the allocator keeps its fast path."""
        buddy = self.k.buddy
        if self.page_alloc not in buddy.module_alloc_hooks:
            buddy.module_alloc_hooks.append(self.page_alloc)

    def page_alloc(self, pfn: int, order: int, gfp: int) -> None:
        """buddy alloc hook (module context): two array writes and the depot handle.

        The allocator calls it straight from its fast path (the page API two frames up)
        or from prep_new_page (four up: prep_new_page, _alloc, alloc).  When that frame is
        the page API and its caller is the module frame the depot saw last, at the same
        instruction, the stack is the one the depot saw: no walk."""
        api = _getframe(2)
        code = api.f_code
        if code is not _ALLOC_PAGES_CODE and code is not _GET_FREE_PAGES_CODE and api.f_back is not None:
            api = api.f_back.f_back or api
            code = api.f_code
        m = api.f_back
        last = self.depot._last
        if (m is last[0] and m.f_lasti == last[1]
                and (code is _ALLOC_PAGES_CODE or code is _GET_FREE_PAGES_CODE)):
            sid = last[2]
        else:
            sid = self.depot.stack_of(3, INTERNAL_PAGE)
            if sid < 0:
                self._ph[pfn] = 0                   # allocated on the module's behalf
                return
        lp = self._last_page
        if lp[0] == sid and lp[1] == order:
            h = lp[2]
        else:
            h = self.depot.handle(sid, "page", PAGE_SIZE << order, "") + 1
            self._last_page = (sid, order, h)
        self._ph[pfn] = h
        self._pns[pfn] = self._clock()
        if self.flags:
            self.flags.pop(self.page_key(pfn), None)

    def page_records(self, owner: int | None = None) -> list[tuple[int, int]]:
        """(addr, record) of the modules' page blocks still allocated to the owner that
        allocated them (of one owner if given); stale records are dropped."""
        cand = np.flatnonzero(self.page_handle)
        if not len(cand):
            return []
        entries = self.depot.entries
        h = self.page_handle[cand].astype(np.int64) - 1
        owners = np.array([e[3] for e in entries], np.int32)[h]
        orders = np.array([(e[1] >> PAGE_SHIFT).bit_length() - 1 for e in entries], np.int8)[h]
        ph = self.k.phys
        ok = ((ph.refcount[cand] > 0) & (ph.owner[cand] == owners) & (ph.order[cand] == orders)
              & (ph.flags[cand] & _FREE_OR_ABSENT == 0))
        self.page_handle[cand[~ok]] = 0
        if owner is not None:
            ok &= owners == owner
        out = []
        for pfn, hh in zip(cand[ok].tolist(), h[ok].tolist(), strict=True):
            out.append((self.page_key(pfn), int(self.page_ns[pfn]) << HANDLE_BITS | hh))
        return out

    def slab_alloc(self, cache, addr: int, size: int) -> None:
        """SLUB alloc hook (kmalloc included, with the requested size)."""
        if self.k.current_owner == self.k.kernel_owner:
            return
        name = cache.name if cache is not None else ""
        kind = "kmalloc" if cache is None or name.startswith("kmalloc") else "slab"
        self._record(addr, size, kind, INTERNAL_SLAB, name,
                     None if cache is None else self.k.slab.find_slab(addr))

    def slab_free(self, cache, addr: int) -> None:
        """SLUB free hook (cache None: a kmalloc_large block)."""
        had = self._forget_slab(addr) if cache is not None else self.others.pop(addr, None) is not None
        if had and self.flags:
            self.flags.pop(addr, None)

    def slab_fast(self, cache, addr: int, size: int, gfp: int) -> int:
        """What SLUB's fast paths call while module code runs (Slub.tracker): the scheduling
        point of a blocking allocation (mm/hooks.RESCHED), then the record of slab_alloc,
        with the depot's cached frame tried first (the API's caller)."""
        _RESCHED[0] += gfp & _GFP_DIRECT_RECLAIM
        k = self.k
        if k.current_owner == k.kernel_owner:
            return addr
        f = sys._getframe(2)
        last = self.depot.fast_last
        if f is last[0] and f.f_lasti == last[1] and size == last[2] and cache is last[3]:
            h1 = last[4]
        else:
            h1 = self._fast_handle(f, cache, size)
            if not h1:
                return addr
        sl = cache.cpu_slab                 # the fast paths allocate from it
        i = (addr - sl.base) // cache.size  # (no red zone on a cache they serve)
        (sl.rec_h or sl.new_records())[i] = h1
        sl.rec_ns[i] = self._clock()
        if self.flags:
            self.flags.pop(addr, None)
        return addr

    def _fast_handle(self, f, cache, size: int) -> int:
        """slab_fast's depot handle + 1 (0: not the module's), remembered for the next
        allocation of the same size from the same cache and instruction of frame f."""
        last = self.depot._last
        if f is last[0] and f.f_lasti == last[1]:
            sid = last[2]
        else:
            sid = self.depot.stack_of(4, INTERNAL_SLAB)
            if sid < 0:
                return 0
        lh = self._last_handle
        if lh[0] == sid and lh[1] == size and lh[2] is cache:
            h = lh[3]
        else:
            name = str(cache.name)
            h = self.depot.handle(sid, "kmalloc" if name.startswith("kmalloc") else "slab", size, name)
            self._last_handle = (sid, size, cache, h)
        if self.depot._last[0] is f:            # the depot's cached frame: f names the stack
            self.depot.fast_last = (f, f.f_lasti, size, cache, h + 1)
        return h + 1

    # SLUB may skip these while only the kernel's own code runs (its fast paths).
    slab_alloc.__dict__["module_only"] = True
    slab_free.__dict__["module_only"] = True

    def vmalloc_alloc(self, addr: int, size: int) -> None:
        """vmalloc alloc hook."""
        if self.k.current_owner == self.k.kernel_owner:
            return
        self._record(addr, size, "vmalloc", INTERNAL_VMALLOC)

    def vmalloc_free(self, addr: int, size: int = 0) -> None:
        """vmalloc free hook."""
        if self.others.pop(addr, None) is not None and self.flags:
            self.flags.pop(addr, None)

    def page_key(self, pfn: int) -> int:
        """A page block's address: its direct-map address, else its struct page's."""
        return self.k.pfn_to_virt(pfn) or self.k.page_struct_addr(pfn)

    def page_pfn(self, addr: int) -> int:
        """The pfn of a page_key."""
        k = self.k
        base = k.machine.vmemmap_base
        if base <= addr < base + k.phys.nr_pages * 64:
            return (addr - base) // 64
        return k.virt_to_pfn(addr)

    # -- queries -------------------------------------------------------------------
    def owned_by(self, owner: int) -> list[KmemleakObject]:
        """Objects an owner (a module's id) still holds, oldest first."""
        self.forget_freed()
        entries = self.depot.entries
        pages = self.page_records(owner)
        mine = [(a, r) for a, r in self.records() if entries[r & HANDLE_MASK][3] == owner]
        return sorted((self._object(a, r) for a, r in mine + pages), key=lambda o: o.ns)

    def forget_freed(self) -> None:
        """Drop records of slab objects freed while SLUB's fast path ran (no hook saw it):
        the kernel's own code may free what a module allocated."""
        slub = self.k.slab
        entries = self.depot.entries
        slabby = ("slab", "kmalloc")
        for addr in [a for a, r in self.others.items() if entries[r & HANDLE_MASK][0] in slabby]:
            sl = slub.find_slab(addr)
            if sl is not None and addr in sl.freelist:
                del self.others[addr]
                self.flags.pop(addr, None)
        for s in slub.caches:
            for sl in s.slabs():
                rh = sl.rec_h
                if not rh or not sl.freelist:
                    continue
                base, size = sl.base + s.red_left_pad, s.size
                free = set(sl.freelist)
                for i in np.flatnonzero(np.frombuffer(rh, np.uint32)).tolist():
                    if base + i * size in free:
                        rh[i] = 0
                        self.flags.pop(base + i * size, None)

    def suspects(self) -> list[KmemleakObject]:
        """Objects reported as unreferenced and not cleared."""
        live = dict(self.page_records()) if self.flags else {}
        live.update(self.records())
        return sorted((self._object(a, live[a]) for a, f in self.flags.items()
                       if f == _REPORTED and a in live), key=lambda o: o.ns)

    # -- report ----------------------------------------------------------------------
    def format_object(self, o: KmemleakObject) -> list[str]:
        """print_unreferenced(): the lines of one object (without the 'kmemleak: ' prefix)."""
        k = self.k
        now = k.clock_ns()
        jiffies = (INITIAL_JIFFIES + o.ns * HZ // 1_000_000_000) & ((1 << 64) - 1)
        age_ms = max(0, now - o.ns) // 1_000_000
        lines = [f"unreferenced object 0x{o.addr:08x} (size {o.size}):",
                 f'  comm "{o.comm}", pid {o.pid}, jiffies {jiffies} '
                 f"(age {age_ms // 1000}.{age_ms % 1000:03d}s)"]
        data = k.vm.peek(o.addr, min(o.size, HEX_MAX)) if o.kind != "page" or k.pfn_to_virt(o.pfn) else None
        if data:
            lines.append(f"  hex dump (first {len(data)} bytes):")
            lines += hex_dump_lines(data)
        lines.append("  backtrace:")
        for i, fr in enumerate(o.trace):
            h = k.printk_ctx.hash_pointer(0xffffffffc0000000 + (o.addr >> 4 & 0xfffff) + i * 0x40)
            lines.append(f"    [<{h}>] {fr}")
        return lines

    def report_lines(self) -> list[str]:
        """The text of /sys/kernel/debug/kmemleak."""
        out = []
        for o in self.suspects():
            out += self.format_object(o)
        return out

    def module_loaded(self, mod) -> None:
        """insmod hook: remember the caches that exist before the module's init runs."""
        slab = self.k.slab
        self.cache_snapshots[mod.owner] = {id(c): c.refcount for c in slab.caches}

    def leaked_caches(self, mod) -> list[str]:
        """Names of the caches created while the module was loaded and not destroyed."""
        slab = self.k.slab
        before = self.cache_snapshots.get(mod.owner)
        if before is None:
            return []
        names = []
        for c in slab.caches:
            delta = c.refcount - before.get(id(c), 0)
            if delta <= 0 or str(c.name).startswith(("kmalloc", "dma-kmalloc")):
                continue
            # a cache merged into an existing one shows as a higher refcount and an alias
            aliases = [str(a) for a in c.aliases]
            names += aliases[-delta:] if id(c) in before and aliases else [str(c.name)]
        return names

    def module_unloaded(self, mod) -> list[str]:
        """rmmod hook: report what the module left allocated; the memory stays allocated."""
        out = []
        slab = self.k.slab
        for name in self.leaked_caches(mod):
            cache = slab.find(name)
            if cache is not None and cache.destroy_failed:
                self.k.printk.emit(4, f"kmsim: {mod.name} called kmem_cache_destroy('{name}') "
                                      f"with objects still allocated: the cache stays")
                out.append(f"rmmod: {mod.name} left cache {name} (destroy failed: objects "
                           f"still allocated)")
                continue
            self.k.printk.emit(4, f"kmsim: {mod.name} did not destroy its cache '{name}' "
                                  f"(kmem_cache_destroy() is missing from its exit path)")
            out.append(f"rmmod: {mod.name} left cache {name} (not destroyed)")
        self.cache_snapshots.pop(mod.owner, None)
        self.depot.forget_code()
        left = self.owned_by(mod.owner)
        if not left:
            return out
        new = [o for o in left if not o.reported]
        for o in new:
            self.mark(o, _REPORTED)
            for line in self.format_object(o):
                self.k.printk.emit(4, "kmemleak: " + line)
        if new:
            self.k.printk.emit(6, f"kmemleak: {len(new)} new suspected memory leaks "
                                  f"(see /sys/kernel/debug/kmemleak)")
        total = sum(o.size for o in left)
        noun = "object" if len(left) == 1 else "objects"
        return [f"rmmod: {mod.name} left {len(left)} {noun} ({total} bytes) allocated"] + out

    # -- scan ------------------------------------------------------------------------
    def scan(self) -> int:
        """kmemleak_scan(): mark from the roots, report the white objects; returns the new count."""
        objs = sorted(self.all_objects(), key=lambda o: o.addr)
        if not objs:
            return 0
        starts = [o.addr for o in objs]
        reached: set[int] = set()
        grey: list[KmemleakObject] = []

        def mark(value: int) -> None:
            i = bisect.bisect_right(starts, value) - 1
            if i >= 0:
                o = objs[i]
                if value < o.addr + max(o.size, 1) and o.addr not in reached:
                    reached.add(o.addr)
                    grey.append(o)

        lo, hi = starts[0], max(o.addr + o.size for o in objs)
        for value in self._root_values():
            if lo <= value < hi:
                mark(value)
        for addr, size in self._root_ranges():
            self._scan_block(addr, size, lo, hi, mark)
        while grey:
            o = grey.pop()
            if o.kind != "page" or self.k.pfn_to_virt(o.pfn):
                self._scan_block(o.addr, o.size, lo, hi, mark)
        new = 0
        for o in objs:
            if o.addr not in reached and not o.reported:
                self.mark(o, _REPORTED)
                new += 1
        if new:
            self.k.printk.emit(6, f"kmemleak: {new} new suspected memory leaks "
                                  f"(see /sys/kernel/debug/kmemleak)")
        return new

    def _scan_block(self, addr: int, size: int, lo: int, hi: int, mark) -> None:
        ps = self.k.machine.ptr_size
        start = (addr + ps - 1) & ~(ps - 1)
        data = self.k.vm.peek(start, max(0, addr + size - start) & ~(ps - 1))
        if not data:
            return
        vals = np.frombuffer(data, dtype=np.uint64 if ps == 8 else np.uint32)
        for v in vals[(vals >= lo) & (vals < hi)].tolist():  # type: ignore[operator]  # numpy's stubs cannot type uint32-or-uint64 array arithmetic
            mark(int(v))

    def _root_ranges(self) -> list[tuple[int, int]]:
        out = []
        for mod in self.k.modules.modules.values():
            out += list(mod.chunks)
        return out

    def _root_values(self):
        """Addresses held by the modules' statics (their Python globals), a few levels deep."""
        k = self.k
        # the kernel and its subsystems are not module data: never walk into them
        seen: set[int] = {id(x) for x in (k, k.modules, k.buddy, k.vm, k.phys, k.printk, self,
                                          k.slab, k.vmalloc, k.faultinject, k.kasan, k.watchdog)}
        stack = [(v, 0) for mod in self.k.modules.modules.values()
                 for key, v in mod.namespace.items() if not key.startswith("__")]
        while stack:
            v, depth = stack.pop()
            if isinstance(v, bool):
                continue
            if isinstance(v, int):
                yield v
                continue
            if id(v) in seen or depth > 4 or callable(v) and not hasattr(v, "__dict__"):
                continue
            seen.add(id(v))
            pfn = getattr(v, "pfn", None) if not isinstance(v, type) else None
            if isinstance(pfn, int):
                yield self.page_key(pfn)
            addr = getattr(v, "addr", None) if not isinstance(v, type) else None
            if isinstance(addr, int):
                yield addr
            if isinstance(v, (list, tuple, set, frozenset)):
                stack += [(x, depth + 1) for x in v]
            elif isinstance(v, dict):
                stack += [(x, depth + 1) for x in v.values()]
            elif type(v).__module__.startswith("kmsim") and not isinstance(v, type):
                attrs = getattr(v, "__dict__", None) or {}
                stack += [(x, depth + 1) for x in attrs.values()]
                for slot in getattr(type(v), "__slots__", ()):
                    if slot != "k":
                        stack.append((getattr(v, slot, None), depth + 1))

    def dump_object_info(self, addr: int) -> bool:
        """'echo dump=ADDR > /sys/kernel/debug/kmemleak' (dump_str_object_info): the object
        that starts at addr, in the log; False (EINVAL) when there is none."""
        pr = self.k.printk
        o = self.get(addr)
        if o is None:
            pr.emit(6, f"kmemleak: Unknown object at 0x{addr:08x}")
            return False
        import zlib
        jiffies = (INITIAL_JIFFIES + o.ns * HZ // 1_000_000_000) & ((1 << 64) - 1)
        data = self.k.vm.peek(o.addr, o.size) if o.kind != "page" or self.k.pfn_to_virt(o.pfn) else b""
        flags = 0x1 | (0x2 if o.reported else 0)        # OBJECT_ALLOCATED | OBJECT_REPORTED
        for line in (f"Object 0x{o.addr:08x} (size {o.size}):",
                     f'  comm "{o.comm}", pid {o.pid}, jiffies {jiffies}', "  min_count = 1",
                     f"  count = {0 if o.reported else 1}", f"  flags = 0x{flags:x}",
                     f"  checksum = {zlib.crc32(data or b'')}", "  backtrace:"):
            pr.emit(5, f"kmemleak: {line}")
        for fr in o.trace:                  # stack_trace_print(trace, nr, 4): no prefix
            pr.emit(5, f"     {fr}")
        return True

    def clear(self) -> None:
        """kmemleak_clear(): current suspects are not reported again."""
        for addr, f in list(self.flags.items()):
            if f & _REPORTED:
                self.flags[addr] = f | _IGNORED


def kmemleak_init(kernel) -> Kmemleak | None:
    """Boot step: track allocations through the allocators' hooks, report at rmmod.

    On by default (CONFIG_DEBUG_KMEMLEAK); ``kmemleak=off`` on the command line
    leaves SLUB's fast paths unhooked.
    """
    if kernel.params.get("kmemleak") in ("off", "0"):
        return None
    kl = Kmemleak(kernel)
    kernel.context_hooks.append(kl.context_changed)
    kernel.slab.alloc_hooks.append(kl.slab_alloc)
    kernel.slab.free_hooks.append(kl.slab_free)
    kernel.slab.tracker = kl
    kernel.slab.update_fast()
    kernel.vmalloc.alloc_hooks.append(kl.vmalloc_alloc)
    kernel.vmalloc.free_hooks.append(kl.vmalloc_free)
    kernel.modules.unload_hooks.append(kl.module_unloaded)
    kernel.modules.load_hooks.append(kl.module_loaded)
    kernel.modules.load_hooks.append(lambda mod: kl.depot.forget_code())
    return kl
