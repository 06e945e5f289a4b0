"""The per-cpu page lists against Linux 6.1's transcripts: zone.ko's small allocations at 512M
come from the pcp lists (buddyinfo unmoved, transcript-main.txt); at 4G insmod refills zone
Normal's empty order-0 list with a batch from the buddy lists (transcript-zone4g.txt);
the batch sizes are zone_batchsize's (31 at 512M, 63 at 4G), and the reference's change
after rmmod at 512M is one order-2 refill of batch >> 2 blocks."""
from __future__ import annotations

import re

from kmsim.mm.buddy import MIGRATE_UNMOVABLE, zone_batchsize
from tests.conftest import make_shell
from tests.reference import ref_text

ZONE = "modules/zone_allocator.py"     # the lab's listing 1: zone.c's allocations and frees


def ref_buddyinfo(name: str) -> list[dict[str, list[int]]]:
    """Every `cat /proc/buddyinfo` of a transcript, in order, as zone -> counts."""
    lines = ref_text(name).splitlines()
    out = []
    for i, ln in enumerate(lines):
        if ln == "$ cat /proc/buddyinfo":
            rows = {}
            for row in lines[i + 1:]:
                m = re.match(r"Node 0, zone +(\w+)((?: +\d+){11}) $", row)
                if not m:
                    break
                rows[m.group(1)] = [int(n) for n in m.group(2).split()]
            out.append(rows)
    return out


def buddyinfo(sh) -> dict[str, list[int]]:
    return {z.name: z.nr_free_blocks() for z in sh.kernel.buddy.zones}


def pages(counts: list[int]) -> int:
    return sum(n << o for o, n in enumerate(counts))


def test_512m_zone_insmod_is_served_by_the_pcp_lists():
    before, after_insmod, after_rmmod = ref_buddyinfo("transcript-main.txt")[:3]
    assert after_insmod == before and after_rmmod["DMA32"] != before["DMA32"]
    sh = make_shell(mem="512M")
    b0 = buddyinfo(sh)
    assert sh.execute(f"insmod {ZONE}").status == 0
    assert buddyinfo(sh) == b0
    assert sh.execute("rmmod zone_allocator").status == 0
    assert buddyinfo(sh) == b0       # kmsim has no other task to refill a list (docs/fidelity.md)


def test_4g_zone_insmod_refills_normal_with_a_batch():
    before, after_insmod, after_rmmod = ref_buddyinfo("transcript-zone4g.txt")[:3]
    ref_delta = pages(after_insmod["Normal"]) - pages(before["Normal"])
    assert ref_delta == -2 * zone_batchsize(243907) == -126            # two refills of 63
    assert after_insmod["Normal"][10] == before["Normal"][10] - 1      # from one order-10 block
    assert after_rmmod == after_insmod and after_insmod["DMA32"] == before["DMA32"]
    sh = make_shell(mem="4G")
    normal = sh.kernel.buddy.zone_by_name["Normal"]
    assert normal.pcp_batch == 63 and not normal.pcp[0]
    b0 = buddyinfo(sh)
    assert sh.execute(f"insmod {ZONE}").status == 0
    b1 = buddyinfo(sh)
    assert b1["DMA32"] == b0["DMA32"] and b1["DMA"] == b0["DMA"]
    # one refill (kmsim's insmod needs fewer pages); which free block it splits depends on
    # what the boot left on Normal's Unmovable lists
    assert pages(b1["Normal"]) - pages(b0["Normal"]) == -63
    assert sh.execute("rmmod zone_allocator").status == 0
    assert buddyinfo(sh) == b1


def test_512m_rmmod_change_is_one_order_2_refill_of_the_pcp_batch():
    """The reference's DMA32 line after rmmod: order 2 went 9 -> 2, nothing else moved: some
    task's order-2 allocation found its pcp list empty and rmqueue_bulk took max(31 >> 2, 2)
    = 7 blocks.  kmsim's refill of an empty order-2 list takes the same 28 pages."""
    before, _after_insmod, after_rmmod = ref_buddyinfo("transcript-main.txt")[:3]
    delta = [a - b for a, b in zip(after_rmmod["DMA32"], before["DMA32"], strict=True)]
    assert delta == [0, 0, -7, 0, 0, 0, 0, 0, 0, 0, 0]
    sh = make_shell(mem="512M")
    z = sh.kernel.buddy.zone_by_name["DMA32"]
    assert z.pcp_batch == zone_batchsize(113264) == 31 and z.pcp_high == z.wmark_low == 813
    lst = z.pcp[2 * 3 + MIGRATE_UNMOVABLE]
    while lst:                           # the list the reference's task found empty
        z.free_one_page(lst.popleft(), 2, MIGRATE_UNMOVABLE)
        z.pcp_count -= 4
    free = z.nr_free
    assert z.rmqueue(2, MIGRATE_UNMOVABLE) >= 0
    assert free - z.nr_free == 7 * 4 and len(lst) == 6


def test_a_high_order_free_while_freeing_dominates_drains_the_pcp_lists():
    """free_unref_page_commit: once a drain above pcp->high raised free_factor, freeing an
    order 1-3 block frees every pcp page (free_high)."""
    sh = make_shell(mem="512M")
    b = sh.kernel.buddy
    z = b.zone_by_name["DMA32"]
    held = [b.alloc(0xcc0, 0) for _ in range(z.pcp_high + 2 * z.pcp_batch)]
    high2 = b.alloc(0xcc0, 2)
    for pfn in held:
        b.free(pfn, 0)
    assert z.free_factor > 0 and 0 < z.pcp_count < z.pcp_high
    b.free(high2, 2)
    assert z.pcp_count == 0
