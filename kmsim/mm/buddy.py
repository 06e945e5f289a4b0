"""Buddy Zone Allocator

One ``Zone`` per populated zone, as mm/page_alloc.c keeps them: free lists per
order and migrate type (``free_area[order].free_list[mt]``), split with ``expand``
and merged in ``__free_one_page`` through the buddy's pfn (``pfn ^ (1 << order)``),
a migrate type per pageblock (2 MiB on x86_64), the fallback of
``__rmqueue_fallback`` that steals another type's blocks (``steal_suitable_fallback``,
``move_freepages_block``), and per-cpu page lists (pcp) per order and migrate type for
orders up to PAGE_ALLOC_COSTLY_ORDER, refilled by ``rmqueue_bulk`` and drained by
``free_pcppages_bulk`` as 6.1 does (``nr_pcp_high``, ``nr_pcp_free``, ``free_factor``).

A free list is a dict used as an ordered set of head pfns: ``popitem()`` takes
the most recently added block, as ``list_first_entry`` after ``list_add`` does,
and removing a buddy during a merge is O(1).  ``free_area[order]`` maps every free
head of the order to its list's migrate type (the buddy's list in a merge), and
``free_list[order][mt]`` holds the heads of one type (``free_lists_of_type[mt][order]``
is the same dict, for the search of one type).  A pcp list is a deque whose
right end is the list head; ``pcp[order * 3 + mt]`` is order_to_pindex.  Freeing a
page onto it (free_unref_page) is also written out in PageAllocator.free for order 0,
the allocator's hot path.
"""
from __future__ import annotations

from collections import deque
from math import isqrt

from ..machine import MAX_ORDER, PAGE_SHIFT
from .physmem import PG_buddy, PG_hole, PG_pcp, PhysMem

PAGE_ALLOC_COSTLY_ORDER = 3
# migratetype_names of a kernel with CONFIG_CMA and CONFIG_MEMORY_ISOLATION (Debian's)
MIGRATE_TYPES = ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")
(MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_HIGHATOMIC, MIGRATE_CMA,
 MIGRATE_ISOLATE) = range(6)
MIGRATE_PCPTYPES = 3
MIGRATETYPE_LETTERS = "UMEHCI"          # show_migration_types
NR_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1)
# The types __rmqueue_fallback tries, in order, for each type that ran out
FALLBACKS = ((MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE), (MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE),
             (MIGRATE_UNMOVABLE, MIGRATE_MOVABLE))
ALLOC_NOFRAGMENT = 0x100                # alloc_flags: steal only whole pageblocks
# 1 << order, by order: the hot paths index it (a tuple index costs about half a shift on
# 3.11, and a block of 512 pages or more is then no new int)
ORDER_NR_PAGES = tuple(1 << o for o in range(MAX_ORDER))
# gfp_migratetype by (gfp >> GFP_MOVABLE_SHIFT) & 3: __GFP_MOVABLE 0x08, __GFP_RECLAIMABLE 0x10
# (both at once is a caller's bug the kernel warns about; kmsim takes it as movable)
GFP_MIGRATETYPE = (MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE)
# The pcp list a freed page goes to by its pageblock's type (HighAtomic's and CMA's go to
# Movable's; kmsim never isolates a pageblock)
_PCP_FREE_TYPE = (MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE,
                  MIGRATE_MOVABLE, MIGRATE_MOVABLE)

__all__ = ["Zone", "PAGE_ALLOC_COSTLY_ORDER", "MIGRATE_TYPES", "MIGRATE_UNMOVABLE", "MIGRATE_MOVABLE",
           "MIGRATE_RECLAIMABLE", "MIGRATETYPE_LETTERS", "ALLOC_NOFRAGMENT", "GFP_MIGRATETYPE",
           "gfp_migratetype", "zone_batchsize", "free_range_to_blocks", "fill_pcp_lists"]


def gfp_migratetype(gfp: int) -> int:
    """include/linux/gfp.h gfp_migratetype: GFP_KERNEL Unmovable, __GFP_MOVABLE Movable,
    __GFP_RECLAIMABLE Reclaimable."""
    return GFP_MIGRATETYPE[(gfp >> 3) & 3]


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
    """A memory zone: its span, free lists, pageblock types, pcp lists and watermarks.

    :param name: "DMA", "DMA32", "Normal", "HighMem"
    :param idx: the zone's index in the machine's zone list
    :param start_pfn: first pfn spanned
    :param end_pfn: one past the last pfn spanned
    :param pageblock_order: 9 on x86_64 (HUGETLB_PAGE_ORDER), MAX_ORDER - 1 without hugepages
    """

    # Declared slots: CPython 3.11-3.13 keep at most 29 attributes of an instance inline;
    # past that an instance gets a real dict and every method call on it loses its
    # specialization (with 30 attributes here and 31 in PageAllocator, the mixed-order
    # pair took 35,099 instructions instead of 31,584)
    __slots__ = ("mem", "name", "idx", "zone_start_pfn", "end_pfn", "spanned", "present", "managed",
                 "free_area", "free_list", "nr_free", "pageblock_order", "pageblock_mt", "pcp", "pcp0",
                 "pcp0_by_gfp", "pcp0_by_block", "pcp0_at", "pcp_count", "pcp_batch", "pcp_high",
                 "free_factor", "lru_owners", "nr_shmem", "wmark_min", "wmark_low", "wmark_high",
                 "lowmem_reserve", "is_highmem", "stats", "_cflags", "_corder", "free_lists_of_type")

    def __init__(self, mem: PhysMem, name: str, idx: int, start_pfn: int, end_pfn: int,
                 pageblock_order: int = 9):
        self.mem = mem
        # struct page's flags and order for the hot paths: storing into a memoryview costs
        # about a quarter of storing into PhysMem's ctypes views (c_flags, c_order)
        self._cflags, self._corder = memoryview(mem.flags), memoryview(mem.order)  # type: ignore[arg-type]  # numpy's stubs: an ndarray is a buffer
        self.name = name
        self.idx = idx
        self.zone_start_pfn = start_pfn
        self.end_pfn = end_pfn
        self.spanned = end_pfn - start_pfn
        self.present = self.spanned
        self.managed = 0
        self.free_area: list[dict[int, int]] = [dict() for _ in range(MAX_ORDER)]
        self.free_list: list[list[dict[int, None]]] = [[dict() for _ in MIGRATE_TYPES]
                                                       for _ in range(MAX_ORDER)]
        # the same lists by type, then order (what __rmqueue_smallest searches)
        self.free_lists_of_type: list[list[dict[int, None]]] = [
            [self.free_list[o][mt] for o in range(MAX_ORDER)] for mt in range(len(MIGRATE_TYPES))]
        self.nr_free = 0                       # NR_FREE_PAGES: buddy lists only
        self.pageblock_order = pageblock_order
        # memmap_init: every pageblock starts MIGRATE_MOVABLE (indexed by pfn >> pageblock_order)
        self.pageblock_mt = bytearray([MIGRATE_MOVABLE]) * ((end_pfn >> pageblock_order) + 1)
        self.pcp: list[deque[int]] = [deque() for _ in range(NR_PCP_LISTS)]
        self.pcp0 = self.pcp[0]                # order 0, Unmovable
        # The order-0 lists the hot paths index: by (gfp >> 3) & 3, and by pageblock type
        self.pcp0_by_gfp = [self.pcp[mt] for mt in GFP_MIGRATETYPE]
        self.pcp0_by_block = [self.pcp[mt] for mt in _PCP_FREE_TYPE]
        # ... and by pfn >> 9 (a pageblock is 512 or 1024 pages): the list an order-0 free
        # of that pfn goes to, kept in step with the pageblock's type
        self.pcp0_at = [self.pcp[MIGRATE_MOVABLE]] * ((end_pfn >> 9) + 1)
        self.pcp_count = 0
        self.pcp_batch = 1
        self.pcp_high = 4
        self.free_factor = 0                   # pcp->free_factor: frees without allocations
        self.lru_owners: set[int] = set()      # owners of pages on an LRU (PageLRU: movable)
        self.nr_shmem = 0                      # NR_SHMEM: rootfs's pages in the zone
        self.wmark_min = self.wmark_low = self.wmark_high = 0
        self.lowmem_reserve: list[int] = []
        self.is_highmem = name == "HighMem"
        self.stats = {"alloc": 0, "free": 0, "split": 0, "merge": 0, "steal": 0}

    # -- pageblocks ------------------------------------------------------------------
    def get_pageblock_migratetype(self, pfn: int) -> int:
        """The migrate type of the pageblock holding pfn."""
        return self.pageblock_mt[pfn >> self.pageblock_order]

    def set_pageblock_migratetype(self, pfn: int, mt: int) -> None:
        """Give the pageblock holding pfn a migrate type."""
        pb = self.pageblock_order
        self.pageblock_mt[pfn >> pb] = mt
        first = (pfn >> pb) << (pb - 9)
        self.pcp0_at[first:first + (1 << (pb - 9))] = [self.pcp0_by_block[mt]] * (1 << (pb - 9))

    def pageblock_counts(self) -> list[int]:
        """Pageblocks per migrate type, as pagetypeinfo counts them: one every
        pageblock_nr_pages from the zone's first pfn, holes (absent sections) skipped."""
        counts = [0] * len(MIGRATE_TYPES)
        c_flags = self.mem.c_flags
        for pfn in range(self.zone_start_pfn, self.end_pfn, 1 << self.pageblock_order):
            if not c_flags[pfn] & PG_hole:            # pfn_to_online_page
                counts[self.pageblock_mt[pfn >> self.pageblock_order]] += 1
        return counts

    # -- free lists ------------------------------------------------------------
    def add_to_free_list(self, pfn: int, order: int, mt: int = MIGRATE_MOVABLE) -> None:
        """Put a free block at the head of its order's list of type mt; mark it PageBuddy."""
        self.free_area[order][pfn] = mt
        self.free_list[order][mt][pfn] = None
        self._cflags[pfn] = PG_buddy
        self._corder[pfn] = order
        self.nr_free += 1 << order

    def del_page_from_free_list(self, pfn: int, order: int) -> None:
        """Take a block off its free list and clear PageBuddy."""
        mt = self.free_area[order].pop(pfn)
        del self.free_list[order][mt][pfn]
        self._cflags[pfn] = 0
        self.nr_free -= 1 << order

    def move_to_free_list(self, pfn: int, order: int, mt: int) -> None:
        """A free block onto the list of another migrate type."""
        area = self.free_area[order]
        del self.free_list[order][area[pfn]][pfn]
        self.free_list[order][mt][pfn] = None
        area[pfn] = mt

    def expand(self, pfn: int, low: int, high: int, mt: int = MIGRATE_MOVABLE) -> None:
        """Split a block of order high down to low, keeping the lower half each time."""
        # add_to_free_list written out, its counts added once: a split is on the path of
        # most large allocations
        free_area, lists = self.free_area, self.free_lists_of_type[mt]
        c_flags, c_order = self._cflags, self._corder
        self.nr_free += ORDER_NR_PAGES[high] - ORDER_NR_PAGES[low]
        self.stats["split"] += high - low
        while high > low:
            high -= 1
            buddy = pfn + ORDER_NR_PAGES[high]
            free_area[high][buddy] = mt
            lists[high][buddy] = None
            c_flags[buddy] = PG_buddy
            c_order[buddy] = high

    def __rmqueue_smallest(self, order: int, mt: int = MIGRATE_UNMOVABLE) -> int:
        """Take the first block of type mt of the smallest order >= order; -1 if none."""
        lists = self.free_lists_of_type[mt]
        current = order
        while current < MAX_ORDER:           # not a range: making one costs more than most searches
            lst = lists[current]
            if lst:
                pfn = lst.popitem()[0]
                del self.free_area[current][pfn]
                self._cflags[pfn] = 0
                self.nr_free -= ORDER_NR_PAGES[current]
                if current != order:
                    self.expand(pfn, order, current, mt)
                return pfn
            current += 1
        return -1

    def __rmqueue(self, order: int, mt: int, alloc_flags: int = 0) -> int:
        """__rmqueue: a block of type mt, or one stolen from another type's lists."""
        while True:
            pfn = self.__rmqueue_smallest(order, mt)
            if pfn >= 0 or not self.__rmqueue_fallback(order, mt, alloc_flags):
                return pfn

    def find_suitable_fallback(self, order: int, mt: int) -> tuple[int, bool]:
        """The first type of fallbacks[mt] with a free block of the order, and whether
        the request may steal its pageblock (can_steal_fallback); (-1, False) if none."""
        if not self.free_area[order]:
            return -1, False
        lists = self.free_list[order]
        for fallback_mt in FALLBACKS[mt]:
            if lists[fallback_mt]:
                return fallback_mt, self.can_steal_fallback(order, mt)
        return -1, False

    def can_steal_fallback(self, order: int, start_mt: int) -> bool:
        """A large block, or an unmovable or reclaimable request, takes the whole pageblock."""
        pb = self.pageblock_order
        return order >= pb // 2 or start_mt in (MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE)

    def __rmqueue_fallback(self, order: int, start_mt: int, alloc_flags: int) -> bool:
        """Move a block of another type to start_mt's lists: the largest one (with
        ALLOC_NOFRAGMENT only whole pageblocks), or for a movable request that cannot
        steal the block, the smallest.  False if no type has a block to give."""
        min_order = self.pageblock_order if alloc_flags & ALLOC_NOFRAGMENT else order
        for current in range(MAX_ORDER - 1, min_order - 1, -1):
            fallback_mt, can_steal = self.find_suitable_fallback(current, start_mt)
            if fallback_mt < 0:
                continue
            if not can_steal and start_mt == MIGRATE_MOVABLE and current > order:
                for current in range(order, MAX_ORDER):       # find_smallest
                    fallback_mt, can_steal = self.find_suitable_fallback(current, start_mt)
                    if fallback_mt >= 0:
                        break
            pfn = next(reversed(self.free_list[current][fallback_mt]))   # get_page_from_free_area
            self.steal_suitable_fallback(pfn, current, start_mt, can_steal)
            return True
        return False

    def steal_suitable_fallback(self, pfn: int, order: int, start_type: int, whole_block: bool) -> None:
        """Take the pageblock(s) of a free block for start_type: all of them for a block of
        pageblock_order or more; else its free pages, and the block's type too when at
        least half of it is free or alike; else just the one block."""
        self.stats["steal"] += 1
        old_type = self.get_pageblock_migratetype(pfn)
        if old_type != MIGRATE_HIGHATOMIC:
            if order >= self.pageblock_order:
                for p in range(pfn, pfn + (1 << order), 1 << self.pageblock_order):
                    self.set_pageblock_migratetype(p, start_type)      # change_pageblock_range
            elif whole_block:
                free_pages, movable_pages = self.move_freepages_block(pfn, start_type)
                if free_pages:
                    nr = 1 << self.pageblock_order
                    if start_type == MIGRATE_MOVABLE:
                        alike = movable_pages
                    else:
                        alike = nr - free_pages - movable_pages if old_type == MIGRATE_MOVABLE else 0
                    if free_pages + alike >= nr >> 1:
                        self.set_pageblock_migratetype(pfn, start_type)
                    return
        self.move_to_free_list(pfn, order, start_type)

    def move_freepages_block(self, pfn: int, mt: int) -> tuple[int, int]:
        """Every free block of pfn's pageblock onto mt's lists: (pages moved, movable
        pages in use: those of an owner on an LRU, the page cache).  Nothing if the
        pageblock reaches past the zone's end."""
        nr = 1 << self.pageblock_order
        start = pfn & ~(nr - 1)
        end = start + nr
        if start < self.zone_start_pfn:
            start = pfn
        if end > self.end_pfn:
            return 0, 0
        c_flags, c_order, c_owner = self.mem.c_flags, self.mem.c_order, self.mem.c_owner
        lru = self.lru_owners
        moved = movable = 0
        p = start
        while p < end:
            if c_flags[p] & PG_buddy:
                order = c_order[p]
                if self.free_area[order].get(p, mt) != mt:
                    self.move_to_free_list(p, order, mt)
                moved += 1 << order
                p += 1 << order
            else:
                if lru and c_owner[p] in lru:
                    movable += 1
                p += 1
        return moved, movable

    def __free_one_page(self, pfn: int, order: int, mt: int | None = None) -> None:
        """Free a block and merge it with its buddy while the buddy is free at the same
        order; the result goes to the list of mt (default: pfn's pageblock type)."""
        if mt is None:
            mt = self.pageblock_mt[pfn >> self.pageblock_order]
        free_area, free_list, c_flags = self.free_area, self.free_list, self._cflags
        first_order, max_order = order, MAX_ORDER - 1
        size = ORDER_NR_PAGES[order]
        # A buddy outside the zone is never on the zone's lists: the pop finds no buddy
        # there, as the zone_start_pfn/end_pfn bounds test would.  (size doubled and the
        # lower pfn kept by a comparison: fewer instructions than 1 << order and pfn & buddy)
        while order < max_order:
            buddy = pfn ^ size
            bmt = free_area[order].pop(buddy, None)
            if bmt is None:
                break
            del free_list[order][bmt][buddy]
            c_flags[buddy] = 0
            if buddy < pfn:
                pfn = buddy
            size += size
            order += 1
        if order != first_order:
            self.stats["merge"] += order - first_order
        # add_to_free_list written out (every free of a large block ends here); merging
        # leaves nr_free as it was, less the buddies' pages taken, plus the merged block's
        free_area[order][pfn] = mt
        free_list[order][mt][pfn] = None
        c_flags[pfn] = PG_buddy
        self._corder[pfn] = order
        self.nr_free += ORDER_NR_PAGES[first_order]

    # Public names without the name mangling of the double underscore.
    rmqueue_smallest = __rmqueue_smallest
    rmqueue_fallback = __rmqueue_fallback
    free_one_page = __free_one_page
    rmqueue_buddy = __rmqueue

    # -- pcp ---------------------------------------------------------------------
    def rmqueue(self, order: int, mt: int = MIGRATE_UNMOVABLE, alloc_flags: int = 0) -> int:
        """Allocate a block: from the pcp list of (order, mt) for small orders, refilled
        with a batch from the buddy lists when empty; else from the buddy lists."""
        if order > PAGE_ALLOC_COSTLY_ORDER:
            # __rmqueue's first step called directly: its fallback only when mt has no block
            pfn = self.__rmqueue_smallest(order, mt)
            return pfn if pfn >= 0 else self.__rmqueue(order, mt, alloc_flags)
        lst = self.pcp[order * MIGRATE_PCPTYPES + mt]
        if not lst:
            batch = self.pcp_batch
            if batch > 1:
                batch = max(batch >> order, 2)
            self.rmqueue_bulk(order, batch, mt, alloc_flags)
            if not lst:
                return -1
        if self.free_factor:
            self.free_factor >>= 1
        pfn = lst.pop()
        self._cflags[pfn] = 0
        self.pcp_count -= ORDER_NR_PAGES[order]
        return pfn

    def free_unref_page(self, pfn: int, order: int) -> None:
        """Return a freed block: onto the pcp list of its pageblock's type for small orders
        (free_unref_page_commit), else straight to the buddy lists."""
        if order <= PAGE_ALLOC_COSTLY_ORDER:
            self._cflags[pfn] = PG_pcp
            pindex = order * MIGRATE_PCPTYPES + _PCP_FREE_TYPE[self.pageblock_mt[pfn >> self.pageblock_order]]
            self.pcp[pindex].append(pfn)
            self.pcp_count += ORDER_NR_PAGES[order]
            if self.free_factor and order:               # free_high: nr_pcp_high is 0
                self.free_pcppages_bulk(self.nr_pcp_free(0, True), pindex)
            elif self.pcp_count >= self.pcp_high:
                self.free_pcppages_bulk(self.nr_pcp_free(self.pcp_high, False), pindex)
        else:
            self._cflags[pfn] = 0
            self.__free_one_page(pfn, order)

    def pcp_overflow(self, pfn: int) -> None:
        """free_unref_page_commit's drain once an order-0 free of pfn reached pcp->high:
        from the list pfn went to first."""
        pindex = _PCP_FREE_TYPE[self.pageblock_mt[pfn >> self.pageblock_order]]
        self.free_pcppages_bulk(self.nr_pcp_free(self.pcp_high, False), pindex)

    def nr_pcp_free(self, high: int, free_high: bool) -> int:
        """How many pages a full pcp frees: all of them after a high-order free while
        freeing dominates (free_high); else batch, doubled by each consecutive drain
        (free_factor), at most high - batch."""
        if free_high:
            return self.pcp_count
        batch = self.pcp_batch
        if high < batch:
            return 1
        max_nr_free = high - batch
        n = batch << self.free_factor
        if n < max_nr_free:
            self.free_factor += 1
        return max(batch, min(n, max_nr_free))

    def rmqueue_bulk(self, order: int, count: int, mt: int = MIGRATE_UNMOVABLE, alloc_flags: int = 0) -> int:
        """Move up to count blocks of order from the buddy lists to the pcp list of (order, mt)."""
        got = []
        c_flags, c_order = self._cflags, self._corder
        for _ in range(count):
            pfn = self.__rmqueue(order, mt, alloc_flags)
            if pfn < 0:
                break
            c_flags[pfn] = PG_pcp
            c_order[pfn] = order
            got.append(pfn)
        self.pcp[order * MIGRATE_PCPTYPES + mt].extendleft(got)   # list_add_tail: first taken is served first
        self.pcp_count += len(got) << order
        return len(got)

    def free_pcppages_bulk(self, count: int, pindex: int = 0) -> None:
        """Return count pages from the tails of the pcp lists to the buddy lists, list by
        list round robin from pindex, each list emptied before the next (6.1)."""
        count = min(self.pcp_count, count)
        pcp = self.pcp
        min_p, max_p = 0, NR_PCP_LISTS - 1
        pindex -= 1
        c_flags = self._cflags
        while count > 0:
            while True:
                pindex += 1
                if pindex > max_p:
                    pindex = min_p
                lst = pcp[pindex]
                if lst:
                    break
                if pindex == max_p:
                    max_p -= 1
                if pindex == min_p:
                    min_p += 1
            order, mt = divmod(pindex, MIGRATE_PCPTYPES)
            n = 1 << order
            while True:
                pfn = lst.popleft()
                count -= n
                self.pcp_count -= n
                c_flags[pfn] = 0
                self.__free_one_page(pfn, order, mt)
                if count <= 0 or not lst:
                    break

    def drain_pages(self) -> None:
        """drain_zone_pages: return every pcp block to the buddy lists."""
        self.free_pcppages_bulk(self.pcp_count)

    # -- accounting ------------------------------------------------------------------
    def nr_free_blocks(self) -> list[int]:
        """Free blocks per order, as /proc/buddyinfo prints them."""
        return [len(a) for a in self.free_area]

    def nr_free_blocks_by_type(self) -> list[list[int]]:
        """Free blocks per migrate type and order, as /proc/pagetypeinfo prints them."""
        return [[len(self.free_list[o][mt]) for o in range(MAX_ORDER)] for mt in range(len(MIGRATE_TYPES))]

    def free_types(self, order: int) -> str:
        """show_migration_types: the letters of the types with free blocks of the order."""
        lists = self.free_list[order]
        return "".join(MIGRATETYPE_LETTERS[mt] for mt in range(len(MIGRATE_TYPES)) if lists[mt])

    def free_blocks(self):
        """Yield (head pfn, order) of every block on the free lists."""
        for order, area in enumerate(self.free_area):
            for pfn in area:
                yield pfn, order

    def pcp_blocks(self):
        """Yield (head pfn, order) of every block on the per-cpu lists."""
        for pindex, lst in enumerate(self.pcp):
            for pfn in lst:
                yield pfn, pindex // MIGRATE_PCPTYPES

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
        """zone_set_pageset_high_and_batch for one CPU (zone_batchsize, zone_highsize):
        high is the low watermark, at least 4 batches."""
        self.pcp_batch = zone_batchsize(self.managed)
        self.pcp_high = max(self.wmark_low, self.pcp_batch * 4)


# The batches on DMA32's order-0 Unmovable list at the end of a boot without zone Normal:
# the reference's insmod of zone.ko took its copy of the .ko and the module's memory (88
# pages in kmsim) from that list without moving buddyinfo (transcript-main.txt), so it
# held at least that many; kmsim gives it 4 batches (124 pages at 512M), the least
# pcp->high can be (zone_highsize: batch << 2).
PCP_BOOT_BATCHES = 4


def fill_pcp_lists(zones: list[Zone]) -> None:
    """The pcp lists at the end of boot, calibrated on the reference's transcripts (where
    they stand depends on what user space did before the shell).  The Unmovable lists of
    DMA and DMA32 hold a batch of every small order (at 512M zone.ko's pages came from
    them, buddyinfo unmoved); zone Normal's order-0 Unmovable list is empty (at 4G
    zone.ko's insmod refilled it twice from the buddy lists).  Without a zone Normal,
    DMA32's order-0 list, the one GFP_KERNEL uses, holds PCP_BOOT_BATCHES batches in the
    order frees leave a list (the highest pfn, freed last, at its head)."""
    has_normal = any(z.name == "Normal" for z in zones)
    for z in zones:
        if z.name == "Normal":
            lst = z.pcp[0]
            while lst:
                pfn = lst.popleft()
                z.pcp_count -= 1
                z.mem.c_flags[pfn] = 0
                z.free_one_page(pfn, 0, MIGRATE_UNMOVABLE)
            continue
        if z.managed < 8 * z.pcp_batch:
            continue
        for order in range(PAGE_ALLOC_COSTLY_ORDER + 1):
            z.rmqueue_bulk(order, max(z.pcp_batch >> order, 2) - len(z.pcp[order * MIGRATE_PCPTYPES]))
        if z.name == "DMA32" and not has_normal:
            z.rmqueue_bulk(0, (PCP_BOOT_BATCHES - 1) * z.pcp_batch)
            z.pcp[0].reverse()


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
