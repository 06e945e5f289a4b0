"""Physical memory: frames of real bytes and the struct page array.

The frames are one anonymous, lazily committed mapping seen through numpy, so a
16 GiB machine costs host memory only for the frames that are touched.  The
``struct page`` of every frame is a set of numpy arrays indexed by pfn (flags,
order, refcount, owner, private), as the kernel's mem_map is an array indexed by
pfn: no Python object per frame.  Hot paths index ctypes views of those
arrays, which are faster than numpy scalars.

``dirty`` has one byte per frame: 0 while the frame is known to hold only zeros
(as the host gives it, or as the allocator cleared it), 1 once anything may have
written it.  Every write to frames goes through ``write``, ``fill``, ``frame``,
``VirtMem`` or an owner that marks its frames when it takes them (SLUB, the page
tables); the page allocator then zeroes only the blocks that need it.
"""
from __future__ import annotations

import ctypes
import mmap

import numpy as np

from ..machine import PAGE_SHIFT, PAGE_SIZE

__all__ = ["PhysMem", "PG_reserved", "PG_buddy", "PG_pcp", "PG_slab", "PG_head",
           "PG_tail", "PG_vmalloc", "PG_pgtable", "PG_module", "PG_hole", "PG_highmem_mapped",
           "PAGE_FLAG_NAMES"]

# Page flags.  Kernel names where the kernel has the flag; PG_pcp, PG_vmalloc,
# PG_module and PG_hole record what the kernel keeps elsewhere.
PG_reserved = 1 << 0
PG_buddy = 1 << 1          # head of a free block on a buddy free list
PG_pcp = 1 << 2            # free, on a per-cpu page list
PG_slab = 1 << 3
PG_head = 1 << 4
PG_tail = 1 << 5
PG_vmalloc = 1 << 6
PG_pgtable = 1 << 7
PG_module = 1 << 8
PG_hole = 1 << 9           # not present (a hole in the memory map)
PG_highmem_mapped = 1 << 10

PAGE_FLAG_NAMES = {PG_reserved: "reserved", PG_buddy: "buddy", PG_pcp: "pcp",
                   PG_slab: "slab", PG_head: "head", PG_tail: "tail",
                   PG_vmalloc: "vmalloc", PG_pgtable: "pgtable", PG_module: "module",
                   PG_hole: "hole", PG_highmem_mapped: "kmapped"}

_MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000)


def _ctypes_view(a: np.ndarray, ctype):
    """A ctypes array sharing a numpy array's memory."""
    return (ctype * len(a)).from_buffer(a)


class PhysMem:
    """The machine's RAM and its struct page array.

    :param nr_pages: number of frames (pfn 0 .. nr_pages-1)
    """

    def __init__(self, nr_pages: int):
        self.nr_pages = nr_pages
        self.size = nr_pages << PAGE_SHIFT
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE
        self.mm = mmap.mmap(-1, self.size, flags=flags)
        self.bytes = np.frombuffer(self.mm, dtype=np.uint8)
        self.flags = np.zeros(nr_pages, np.uint32)
        self.order = np.zeros(nr_pages, np.int8)
        self.refcount = np.zeros(nr_pages, np.int32)
        self.owner = np.zeros(nr_pages, np.int32)
        self.private = np.zeros(nr_pages, np.int64)
        # ctypes views of the same memory, for the hot paths: indexing one from Python
        # costs about two thirds of a memoryview's and a third of a numpy scalar's.
        self.c_flags = _ctypes_view(self.flags, ctypes.c_uint32)
        self.c_order = _ctypes_view(self.order, ctypes.c_int8)
        self.c_refcount = _ctypes_view(self.refcount, ctypes.c_int32)
        self.c_owner = _ctypes_view(self.owner, ctypes.c_int32)
        self.c_private = _ctypes_view(self.private, ctypes.c_int64)
        self.mv_owner = memoryview(self.owner)  # type: ignore[arg-type]  # for slice copies; numpy's stubs: an ndarray is a buffer
        self.dirty = bytearray(nr_pages)                      # indexed from Python
        self.dirty_map = np.frombuffer(self.dirty, np.uint8)  # the same bytes, for numpy

    # -- bytes -----------------------------------------------------------------
    def read(self, phys: int, n: int) -> bytes:
        """Read n bytes at a physical address."""
        return self.mm[phys:phys + n]

    def mark_dirty(self, phys: int, n: int) -> None:
        """Record that [phys, phys+n) may no longer be zero."""
        if n > 0:
            first, last = phys >> PAGE_SHIFT, (phys + n - 1) >> PAGE_SHIFT
            if first == last:
                self.dirty[first] = 1
            else:
                self.dirty_map[first:last + 1] = 1

    def write(self, phys: int, data: bytes) -> None:
        """Write bytes at a physical address."""
        self.mark_dirty(phys, len(data))
        self.mm[phys:phys + len(data)] = data

    def fill(self, phys: int, n: int, value: int) -> None:
        """Set n bytes at a physical address to value (memset)."""
        self.mark_dirty(phys, n)
        self.bytes[phys:phys + n] = value

    def zero_pages(self, pfn: int, count: int) -> None:
        """Clear count frames from pfn, as clear_page does."""
        start = pfn << PAGE_SHIFT
        self.bytes[start:start + (count << PAGE_SHIFT)] = 0
        self.dirty_map[pfn:pfn + count] = 0

    def frame(self, pfn: int) -> np.ndarray:
        """The bytes of one frame as a writable numpy view (so the frame counts as written)."""
        start = pfn << PAGE_SHIFT
        self.dirty[pfn] = 1
        return self.bytes[start:start + PAGE_SIZE]

    def resident(self) -> np.ndarray:
        """Per frame, True if the host has memory behind it (mincore): a frame the host
        never backed has never been written.  All True where mincore is unavailable."""
        vec = np.zeros(self.nr_pages, np.uint8)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            base = ctypes.addressof(ctypes.c_char.from_buffer(self.mm))
            if libc.mincore(ctypes.c_void_p(base), ctypes.c_size_t(self.size),
                            vec.ctypes.data_as(ctypes.c_void_p)) != 0:
                raise OSError(ctypes.get_errno(), "mincore")
        except (OSError, AttributeError):
            return np.ones(self.nr_pages, bool)
        return (vec & 1).astype(bool)

    def unmarked_writes(self) -> np.ndarray:
        """pfns marked clean whose bytes are not all zero: a write that did not mark its
        frame (debug_vm's check of the marking).  Only frames the host backs are read."""
        suspects = np.flatnonzero((self.dirty_map == 0) & self.resident())
        frames = self.bytes.reshape(self.nr_pages, PAGE_SIZE)
        chunks = np.array_split(suspects, len(suspects) // 4096 + 1)
        bad = [chunk[frames[chunk].any(axis=1)] for chunk in chunks]
        return np.concatenate(bad)

    def owner_ids(self, start: int, end: int) -> np.ndarray:
        """The owner id of each frame of [start, end), as an int64 copy (memmap's input)."""
        return self.owner[start:end].astype(np.int64)

    def flagged(self, flag: int, start: int, end: int) -> np.ndarray:
        """Per frame of [start, end): True if its page flags include flag (PG_hole ...)."""
        return (self.flags[start:end] & flag) != 0

    def rss_bytes(self) -> int:
        """Host bytes in use for this machine's arrays (not counting untouched frames)."""
        arrays = (self.flags, self.order, self.refcount, self.owner, self.private, self.dirty_map)
        return sum(a.nbytes for a in arrays)
