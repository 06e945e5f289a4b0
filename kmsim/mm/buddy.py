"""Buddy Zone Allocator

One ``Zone`` per populated zone, as mm/page_alloc.c keeps them: free lists per
order (``free_area``), split with ``expand`` and merged in ``__free_one_page``
through the buddy's pfn (``pfn ^ (1 << order)``), and per-cpu page lists (pcp)
for orders up to PAGE_ALLOC_COSTLY_ORDER, refilled and drained in batches.

A free list is a dict used as an ordered set of head pfns: ``popitem()`` takes
the most recently added block, as ``list_first_entry`` after ``list_add`` does,
and removing a buddy during a merge is O(1).  The pcp list is a deque whose
right end is the list head.  Freeing a page onto it (free_unref_page) is also
written out in PageAllocator.free for order 0, the allocator's hot path.
"""
from __future__ import annotations

from collections import deque
from math import isqrt

from ..machine import MAX_ORDER, PAGE_SHIFT
from .physmem import PG_buddy, PG_pcp, PhysMem

PAGE_ALLOC_COSTLY_ORDER = 3
MIGRATE_TYPES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate")

__all__ = ["Zone", "PAGE_ALLOC_COSTLY_ORDER", "MIGRATE_TYPES", "zone_batchsize",
           "free_range_to_blocks"]


def zone_batchsize(managed: int) -> int:
    """pcp batch as mm/page_alloc.c:zone_batchsize computes it (at least 1)."""
    batch = min(managed >> 10, (1 << 20) >> PAGE_SHIFT) // 4
    batch = max(batch, 1)
    batch = 1 << ((batch + batch // 2).bit_length() - 1)
    return max(batch - 1, 1)


def free_range_to_blocks(start: int, end: int):
    """Yield (pfn, order) of the largest aligned blocks covering [start, end).

    As memblock_free_pages/__free_pages_memory cut a range at boot.
    """
    while start < end:
        order = min(MAX_ORDER - 1, (start & -start).bit_length() - 1 if start else MAX_ORDER - 1)
        while start + (1 << order) > end:
            order -= 1
        yield start, order
        start += 1 << order


class Zone:
    """A memory zone: its span, free lists, pcp lists and watermarks.

    :param name: "DMA", "DMA32", "Normal", "HighMem"
    :param idx: the zone's index in the machine's zone list
    :param start_pfn: first pfn spanned
    :param end_pfn: one past the last pfn spanned
    """

    def __init__(self, mem: PhysMem, name: str, idx: int, start_pfn: int, end_pfn: int):
        self.mem = mem
        self.name = name
        self.idx = idx
        self.zone_start_pfn = start_pfn
        self.end_pfn = end_pfn
        self.spanned = end_pfn - start_pfn
        self.present = self.spanned
        self.managed = 0
        self.free_area: list[dict[int, None]] = [dict() for _ in range(MAX_ORDER)]
        self.nr_free = 0                       # NR_FREE_PAGES: buddy lists only
        self.pcp: list[deque[int]] = [deque() for _ in range(PAGE_ALLOC_COSTLY_ORDER + 1)]
        self.pcp0 = self.pcp[0]                # the list of the allocator's hot path
        self.pcp_count = 0
        self.pcp_batch = 1
        self.pcp_high = 4
        self.wmark_min = self.wmark_low = self.wmark_high = 0
        self.lowmem_reserve: list[int] = []
        self.is_highmem = name == "HighMem"
        self.stats = {"alloc": 0, "free": 0, "split": 0, "merge": 0}

    # -- free lists ------------------------------------------------------------
    def add_to_free_list(self, pfn: int, order: int) -> None:
        """Put a free block at the head of its order's list and mark it PageBuddy."""
        self.free_area[order][pfn] = None
        self.mem.c_flags[pfn] = PG_buddy
        self.mem.c_order[pfn] = order
        self.nr_free += 1 << order

    def del_page_from_free_list(self, pfn: int, order: int) -> None:
        """Take a block off its free list and clear PageBuddy."""
        del self.free_area[order][pfn]
        self.mem.c_flags[pfn] = 0
        self.nr_free -= 1 << order

    def expand(self, pfn: int, low: int, high: int) -> None:
        """Split a block of order high down to low, keeping the lower half each time."""
        while high > low:
            high -= 1
            self.add_to_free_list(pfn + (1 << high), high)
            self.stats["split"] += 1

    def __rmqueue_smallest(self, order: int) -> int:
        """Take the first block of the smallest order >= order; -1 if none."""
        free_area = self.free_area
        for current in range(order, MAX_ORDER):
            area = free_area[current]
            if area:
                pfn = area.popitem()[0]
                self.mem.c_flags[pfn] = 0
                self.nr_free -= 1 << current
                if current != order:
                    self.expand(pfn, order, current)
                return pfn
        return -1

    def __free_one_page(self, pfn: int, order: int) -> None:
        """Free a block and merge it with its buddy while the buddy is free at the same order."""
        start, end = self.zone_start_pfn, self.end_pfn
        free_area = self.free_area
        while order < MAX_ORDER - 1:
            buddy = pfn ^ (1 << order)
            if buddy < start or buddy >= end or buddy not in free_area[order]:
                break
            self.del_page_from_free_list(buddy, order)
            self.stats["merge"] += 1
            pfn &= buddy
            order += 1
        self.add_to_free_list(pfn, order)

    # Public names without the name mangling of the double underscore.
    rmqueue_smallest = __rmqueue_smallest
    free_one_page = __free_one_page

    # -- pcp ---------------------------------------------------------------------
    def rmqueue(self, order: int) -> int:
        """Allocate a block: from the pcp list for small orders, else from the buddy lists."""
        if order > PAGE_ALLOC_COSTLY_ORDER:
            return self.__rmqueue_smallest(order)
        lst = self.pcp[order]
        if not lst:
            self.rmqueue_bulk(order, max(self.pcp_batch >> order, 2) if order else self.pcp_batch)
            if not lst:
                return -1
        pfn = lst.pop()
        self.mem.c_flags[pfn] = 0
        self.pcp_count -= 1 << order
        return pfn

    def free_unref_page(self, pfn: int, order: int) -> None:
        """Return a freed block: onto the pcp list for small orders (draining a batch
        above pcp->high), else straight to the buddy lists."""
        if order <= PAGE_ALLOC_COSTLY_ORDER:
            self.mem.c_flags[pfn] = PG_pcp
            self.pcp[order].append(pfn)
            self.pcp_count += 1 << order
            if self.pcp_count >= self.pcp_high:
                self.free_pcppages_bulk(self.pcp_batch)
        else:
            self.mem.c_flags[pfn] = 0
            self.__free_one_page(pfn, order)

    def rmqueue_bulk(self, order: int, count: int) -> int:
        """Move up to count blocks of order from the buddy lists to the pcp list."""
        got = []
        for _ in range(count):
            pfn = self.__rmqueue_smallest(order)
            if pfn < 0:
                break
            self.mem.c_flags[pfn] = PG_pcp
            self.mem.c_order[pfn] = order
            got.append(pfn)
        self.pcp[order].extendleft(got)      # list_add_tail: first taken is served first
        self.pcp_count += len(got) << order
        return len(got)

    def free_pcppages_bulk(self, count: int) -> None:
        """Return about count pages from the tails of the pcp lists to the buddy lists."""
        order = 0
        empty_rounds = 0
        while count > 0 and self.pcp_count > 0:
            lst = self.pcp[order]
            if lst:
                pfn = lst.popleft()
                self.pcp_count -= 1 << order
                count -= 1 << order
                self.mem.c_flags[pfn] = 0
                self.__free_one_page(pfn, order)
                empty_rounds = 0
            else:
                empty_rounds += 1
                if empty_rounds > PAGE_ALLOC_COSTLY_ORDER + 1:
                    break
            order = (order + 1) % (PAGE_ALLOC_COSTLY_ORDER + 1)

    def drain_pages(self) -> None:
        """drain_zone_pages: return every pcp block to the buddy lists."""
        self.free_pcppages_bulk(self.pcp_count)

    # -- accounting ------------------------------------------------------------------
    def nr_free_blocks(self) -> list[int]:
        """Free blocks per order, as /proc/buddyinfo prints them."""
        return [len(a) for a in self.free_area]

    def free_blocks(self):
        """Yield (head pfn, order) of every block on the free lists."""
        for order, area in enumerate(self.free_area):
            for pfn in area:
                yield pfn, order

    def pcp_blocks(self):
        """Yield (head pfn, order) of every block on the per-cpu lists."""
        for order, lst in enumerate(self.pcp):
            for pfn in lst:
                yield pfn, order

    def free_pages_total(self) -> int:
        """Free pages including the pcp lists."""
        return self.nr_free + self.pcp_count

    def contains(self, pfn: int) -> bool:
        """True if the zone spans pfn."""
        return self.zone_start_pfn <= pfn < self.end_pfn

    def watermark_ok(self, order: int, mark: int, classzone_idx_reserve: int = 0) -> bool:
        """__zone_watermark_ok, simplified to the free-pages test and a free block of the order."""
        free = self.nr_free - (1 << order) + 1
        if free <= mark + classzone_idx_reserve:
            return False
        if order == 0:
            return True
        return any(self.free_area[o] for o in range(order, MAX_ORDER))

    def setup_pcp(self) -> None:
        """zone_set_pageset_high_and_batch for one CPU: high follows the low watermark."""
        self.pcp_batch = zone_batchsize(self.managed)
        self.pcp_high = max(self.wmark_low, self.pcp_batch * 4)


def calculate_min_free_kbytes(lowmem_managed_pages: int) -> int:
    """mm/page_alloc.c:calculate_min_free_kbytes."""
    lowmem_kbytes = lowmem_managed_pages * ((1 << PAGE_SHIFT) >> 10)
    return max(128, min(isqrt(lowmem_kbytes * 16), 262144))


def setup_per_zone_wmarks(zones: list[Zone], min_free_kbytes: int | None = None) -> None:
    """__setup_per_zone_wmarks: min split by managed pages, then low and high
    (min_free_kbytes: calculate_min_free_kbytes's unless given)."""
    lowmem = sum(z.managed for z in zones if not z.is_highmem)
    if min_free_kbytes is None:
        min_free_kbytes = calculate_min_free_kbytes(lowmem)
    pages_min = min_free_kbytes >> (PAGE_SHIFT - 10)
    for z in zones:
        if z.is_highmem:
            wmin = max(32, min(z.managed // 1024, 128))
        else:
            wmin = pages_min * z.managed // max(lowmem, 1)
        delta = max(wmin >> 2, z.managed * 10 // 10000)
        z.wmark_min, z.wmark_low, z.wmark_high = wmin, wmin + delta, wmin + 2 * delta
        z.setup_pcp()


LOWMEM_RESERVE_RATIO = {"DMA": 256, "DMA32": 256, "Normal": 32, "HighMem": 0, "Movable": 0}


def setup_per_zone_lowmem_reserve(zones_by_type: list[tuple[str, Zone | None]]) -> None:
    """setup_per_zone_lowmem_reserve: the zoneinfo 'protection' array of each zone."""
    n = len(zones_by_type)
    for i, (name, zone) in enumerate(zones_by_type):
        if zone is None:
            continue
        res = [0] * n
        managed = 0
        ratio = LOWMEM_RESERVE_RATIO.get(name, 0)
        for j in range(i + 1, n):
            upper = zones_by_type[j][1]
            managed += upper.managed if upper else 0
            res[j] = managed // ratio if ratio else 0
        zone.lowmem_reserve = res
