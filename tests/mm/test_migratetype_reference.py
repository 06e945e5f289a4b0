"""Migrate types on the free lists and pageblocks, against Linux 6.1 at 512M (the Mem-Info of
err_exhaust's allocation failure in transcript-main.txt) and 6.1's page_alloc.c rules
(fallbacks[], whole-pageblock steals, gfp_migratetype, ALLOC_NOFRAGMENT)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kmsim import fs
from kmsim.mm import gfp as G
from kmsim.mm.buddy import (
    MIGRATE_MOVABLE,
    MIGRATE_RECLAIMABLE,
    MIGRATE_TYPES,
    MIGRATE_UNMOVABLE,
    gfp_migratetype,
)
from tests.conftest import make_shell
from tests.reference import ref_block

SM = Path(__file__).parent.parent / "slab_modules"
STEP = "err (c') order-10"


@pytest.fixture(scope="module")
def exhausted():
    """kmsim's and the reference's messages of err_exhaust at 512M."""
    sh = make_shell(mem="512M")
    sh.execute(f"insmod {SM}/err_exhaust.py")
    got = [r.text for r in sh.kernel.printk.records]
    ref = ref_block("transcript-main.txt", "/sbin/insmod err_exhaust.ko", STEP)
    return sh, got[next(i for i, ln in enumerate(got) if ln == "Mem-Info:"):], ref


def _numbers_out(line: str) -> str:
    """A Mem-Info line with its counts made equal (they depend on a boot's history)."""
    line = re.sub(r"\([UMEHCI]+\) ", "", line)
    return re.sub(r"\d+", "N", line)


def test_mem_info_lines_read_as_the_references(exhausted):
    _sh, got, ref = exhausted
    ref = ref[ref.index("Mem-Info:"):]
    n = ref.index("0 pages hwpoisoned") + 1
    assert [_numbers_out(x) for x in got[:n]] == [_numbers_out(x) for x in ref[:n]]


def test_buddy_lines_name_the_migrate_types_of_each_order(exhausted):
    """'38*4kB (UME) 28*8kB (UM)': after each non-zero count, the types with free blocks of
    that order, in migratetype order; the reference shows several at once and Reclaimable."""
    _sh, got, ref = exhausted
    def types(lines):
        out = {}
        for ln in lines:
            m = re.match(r"Node 0 (DMA32|DMA): (.*) = \d+kB$", ln)
            if m:
                out[m.group(1)] = re.findall(r"(\d+)\*\d+kB (?:\(([UMEHCI]+)\) )?", m.group(2) + " ")
        return out
    for lines in (got, ref):
        for zone, orders in types(lines).items():
            for count, letters in orders:
                assert (count != "0") == bool(letters), (zone, count, letters)
                assert letters == "".join(c for c in "UMEHCI" if c in letters)
    ref_dma32 = {t for _n, t in types(ref)["DMA32"]}
    assert {"UME", "UM", "UE"} <= ref_dma32
    ours = {t for _n, t in types(got)["DMA32"]}
    assert any(len(t) > 1 for t in ours) and "".join(ours).count("E")


def test_slab_reclaimable_and_shmem_are_near_the_references(exhausted):
    """Mem-Info: slab_reclaimable:2227 (dentries and inodes), shmem:3634 (rootfs, the
    unpacked initramfs: 14512 kB in the meminfo step), free_pcp:0."""
    _sh, got, ref = exhausted
    def field(lines, name):
        return int(next(re.search(rf"\b{name}:(\d+)", x).group(1) for x in lines if f"{name}:" in x))
    assert field(ref, "slab_reclaimable") == 2227 and field(ref, "shmem") == 3634
    assert abs(field(got, "slab_reclaimable") - 2227) < 2227 // 20
    assert field(got, "shmem") == 14512 // 4
    assert field(got, "free_pcp") == field(ref, "free_pcp") == 0


def test_pagetypeinfo_has_unmovable_movable_and_reclaimable_blocks():
    """pagetypeinfo_show's layout (6.1 with CMA): six types; kernel allocations took
    Unmovable pageblocks, reclaimable slabs Reclaimable ones, the rest stays Movable."""
    sh = make_shell(mem="512M")
    text = fs.read_file(sh.kernel, "/proc/pagetypeinfo")
    lines = text.splitlines()
    assert lines[:3] == ["Page block order: 9", "Pages per block:  512", ""]
    assert lines[3] == f"{'Free pages count per migrate type at order':<43} " + "".join(
        f"{o:6d} " for o in range(11))
    assert lines[4].startswith("Node    0, zone      DMA, type    Unmovable ")
    assert [ln.split(", type ")[1][:12].strip() for ln in lines[4:10]] == list(MIGRATE_TYPES)
    i = lines.index("Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic"
                    "          CMA      Isolate ")
    dma32 = [int(n) for n in lines[i + 2].split()[4:]]
    assert lines[i + 2].startswith("Node 0, zone    DMA32 ")
    unmovable, movable, reclaimable = dma32[:3]
    assert unmovable > 0 and reclaimable > 0 and movable > 200 and dma32[3:] == [0, 0, 0]
    assert sum(dma32) == 248          # (0x1ffe0 - 0x1000) / 512, rounded up


def test_gfp_migratetype():
    assert gfp_migratetype(G.GFP_KERNEL) == MIGRATE_UNMOVABLE
    assert gfp_migratetype(G.GFP_HIGHUSER_MOVABLE) == MIGRATE_MOVABLE
    assert gfp_migratetype(G.GFP_KERNEL | G.__GFP_RECLAIMABLE) == MIGRATE_RECLAIMABLE


def test_an_unmovable_request_steals_a_whole_movable_block():
    """__rmqueue_fallback: no Unmovable block left, so the largest Movable block (order 10)
    changes its two pageblocks to Unmovable (change_pageblock_range) and is split."""
    sh = make_shell(mem="512M")
    b = sh.kernel.buddy
    z = b.zone_by_name["DMA32"]
    b.drain_all_pages()
    for o, area in enumerate(z.free_area):
        for p in [p for p, mt in area.items() if mt == MIGRATE_UNMOVABLE]:
            z.del_page_from_free_list(p, o)
    before = z.pageblock_counts()
    pfn = z.rmqueue_buddy(4, MIGRATE_UNMOVABLE)
    assert pfn >= 0 and z.get_pageblock_migratetype(pfn) == MIGRATE_UNMOVABLE
    after = z.pageblock_counts()
    assert after[MIGRATE_UNMOVABLE] == before[MIGRATE_UNMOVABLE] + 2
    assert after[MIGRATE_MOVABLE] == before[MIGRATE_MOVABLE] - 2
    # the rest of the 1024 pages are on the Unmovable lists, one block of each order 4..9
    assert [len(z.free_list[o][MIGRATE_UNMOVABLE]) for o in range(4, 10)] == [1] * 6


def test_a_movable_request_that_cannot_steal_takes_the_smallest_block():
    """fallbacks[MIGRATE_MOVABLE] = {Reclaimable, Unmovable}: when the largest block of
    another type is below pageblock_order / 2, a movable request may not claim its
    pageblock, so it splits the smallest fitting block (find_smallest) and no pageblock
    changes type."""
    sh = make_shell(mem="512M")
    z = sh.kernel.buddy.zone_by_name["DMA32"]
    sh.kernel.buddy.drain_all_pages()
    big = next(iter(z.free_area[10]))
    for o, area in enumerate(z.free_area):
        for p in list(area):
            z.del_page_from_free_list(p, o)
    z.add_to_free_list(big, 3, MIGRATE_UNMOVABLE)
    z.add_to_free_list(big + 512, 1, MIGRATE_UNMOVABLE)
    blocks = z.pageblock_counts()
    assert z.rmqueue_buddy(0, MIGRATE_MOVABLE) == big + 512       # __rmqueue, no pcp list
    assert z.pageblock_counts() == blocks
    assert list(z.free_list[3][MIGRATE_UNMOVABLE]) == [big]
    assert list(z.free_list[0][MIGRATE_MOVABLE]) == [big + 513]
