"""Physical memory: frames of real bytes and the struct page array.

The frames are one anonymous, lazily committed mapping seen through numpy, so a
16 GiB machine costs host memory only for the frames that are touched.  The
``struct page`` of every frame is a set of numpy arrays indexed by pfn (flags,
order, refcount, owner, private), as the kernel's mem_map is an array indexed by
pfn: no Python object per frame.  Hot paths use memoryviews of those arrays,
which index faster than numpy scalars.
"""
from __future__ import annotations

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
        self.mv_flags = memoryview(self.flags)
        self.mv_order = memoryview(self.order)
        self.mv_refcount = memoryview(self.refcount)
        self.mv_owner = memoryview(self.owner)
        self.mv_private = memoryview(self.private)

    # -- bytes -----------------------------------------------------------------
    def read(self, phys: int, n: int) -> bytes:
        """Read n bytes at a physical address."""
        return self.mm[phys:phys + n]

    def write(self, phys: int, data: bytes) -> None:
        """Write bytes at a physical address."""
        self.mm[phys:phys + len(data)] = data

    def fill(self, phys: int, n: int, value: int) -> None:
        """Set n bytes at a physical address to value (memset)."""
        self.bytes[phys:phys + n] = value

    def zero_pages(self, pfn: int, count: int) -> None:
        """Clear count frames from pfn, as clear_page does."""
        start = pfn << PAGE_SHIFT
        self.bytes[start:start + (count << PAGE_SHIFT)] = 0

    def frame(self, pfn: int) -> np.ndarray:
        """The bytes of one frame as a numpy view."""
        start = pfn << PAGE_SHIFT
        return self.bytes[start:start + PAGE_SIZE]

    def rss_bytes(self) -> int:
        """Host bytes in use for this machine's arrays (not counting untouched frames)."""
        arrays = (self.flags, self.order, self.refcount, self.owner, self.private)
        return sum(a.nbytes for a in arrays)
