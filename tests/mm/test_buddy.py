"""The buddy zone allocator: split, merge, pcp lists, watermarks, zonelists, failures."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsim.kernel import Kernel
from kmsim.machine import MAX_ORDER
from kmsim.mm import gfp as G
from kmsim.mm.buddy import MIGRATE_MOVABLE, zone_batchsize
from kmsim.mm.physmem import PG_buddy, PG_pcp

GFP_KERNEL, GFP_DMA, GFP_NOWARN = G.GFP_KERNEL, G.GFP_DMA, G.__GFP_NOWARN


def free_state(k):
    """Free blocks per zone and order after draining the pcp lists."""
    k.buddy.drain_all_pages()
    return [sorted((o, p) for o, area in enumerate(z.free_area) for p in area) for z in k.buddy.zones]


def test_expand_keeps_lower_half_and_frees_upper_halves(kernel):
    z = kernel.buddy.zone_by_name["DMA32"]
    kernel.buddy.drain_all_pages()
    before = z.nr_free_blocks_by_type()[MIGRATE_MOVABLE]
    pfn = z.rmqueue_smallest(4, MIGRATE_MOVABLE)
    after = z.nr_free_blocks_by_type()[MIGRATE_MOVABLE]
    # taken from the smallest order >= 4 with a Movable block, split into one block of each
    # lower order on the Movable lists
    src = next(o for o in range(4, MAX_ORDER) if before[o])
    assert after[src] == before[src] - 1
    for o in range(4, src):
        assert after[o] == before[o] + 1
    assert pfn % 16 == 0


def test_free_merges_with_buddy_back_to_the_same_blocks(kernel):
    before = free_state(kernel)
    pfns = [kernel.buddy.alloc(GFP_KERNEL, 5) for _ in range(8)]
    for p in pfns:
        assert p >= 0 and p % 32 == 0
    for p in pfns:
        assert kernel.buddy.free(p, 5)
    assert free_state(kernel) == before


def test_buddy_pfn_is_pfn_xor_block_size(kernel):
    z = kernel.buddy.zone_by_name["DMA32"]
    kernel.buddy.drain_all_pages()
    for o, area in enumerate(z.free_area[:4]):   # make order 3 be served by splitting a larger block
        for p in list(area):
            z.del_page_from_free_list(p, o)
    pfn = z.rmqueue_smallest(3, MIGRATE_MOVABLE)
    assert pfn & 8 == 0 and (pfn ^ 8) in z.free_area[3]     # the upper half is its buddy
    z.free_one_page(pfn, 3)
    assert pfn not in z.free_area[3] and (pfn ^ 8) not in z.free_area[3]   # merged upward


def test_small_allocations_come_from_pcp_and_leave_buddyinfo_alone(kernel):
    from kmsim import fs
    before = fs.read_file(kernel, "/proc/buddyinfo")
    pages = [kernel.buddy.alloc(GFP_KERNEL, o) for o in (2, 0, 2, 0, 0)]
    assert all(p >= 0 for p in pages)
    assert fs.read_file(kernel, "/proc/buddyinfo") == before


def test_pcp_drains_to_buddy_when_above_high(kernel):
    z = kernel.buddy.zone_by_name["DMA32"]
    pages = [kernel.buddy.alloc(GFP_KERNEL, 0) for _ in range(z.pcp_high + 50)]
    for p in pages:
        kernel.buddy.free(p, 0)
    assert z.pcp_count < z.pcp_high


def test_batchsize_matches_kernel_formula():
    # 6.1: min(managed >> 10, 256) / 4, then rounddown_pow_of_two(b + b/2) - 1
    assert zone_batchsize(113264) == 31
    assert zone_batchsize(242688) == 63
    assert zone_batchsize(3840) == 1


def test_watermarks_follow_min_free_kbytes():
    k = Kernel("x86_64", "512M", seed=1)
    dma = k.buddy.zone_by_name["DMA"]
    assert dma.managed == 3840            # as the real 512M guest
    assert dma.present == 3998
    assert dma.wmark_min == 22 and dma.wmark_low == 27 and dma.wmark_high == 32
    dma32 = k.buddy.zone_by_name["DMA32"]
    assert dma32.wmark_low - dma32.wmark_min == dma32.wmark_min // 4


def test_gfp_dma_comes_from_dma_zone_only(kernel):
    pfn = kernel.buddy.alloc(GFP_DMA, 0)
    assert 0 < pfn < (16 << 20) >> 12


def test_pci_hole_moves_ram_above_4g_as_on_a_qemu_pc():
    k = Kernel("x86_64", "4G", seed=1)
    dma32, normal = k.buddy.zone_by_name["DMA32"], k.buddy.zone_by_name["Normal"]
    assert (dma32.spanned, dma32.present) == (1044480, 782304)     # 16M..4G, RAM to 3G-128K
    assert (normal.zone_start_pfn, normal.spanned) == (1 << 20, 1 << 18)
    assert k.buddy.zone_of(k.buddy.alloc(GFP_KERNEL, 0)).name == "Normal"


def test_gfp_kernel_prefers_highest_zone(kernel):
    pfn = kernel.buddy.alloc(GFP_KERNEL, 4)
    assert kernel.buddy.zone_of(pfn).name == "DMA32"
    k = Kernel("x86_64", "5G", seed=1)
    assert k.buddy.zone_of(k.buddy.alloc(GFP_KERNEL, 4)).name == "Normal"


def test_highmem_zone_on_i386_used_only_with_gfp_highmem():
    k = Kernel("i386", "1G", seed=1)
    names = [z.name for z in k.buddy.zones]
    assert names == ["DMA", "Normal", "HighMem"]
    assert k.buddy.zone_of(k.buddy.alloc(GFP_KERNEL, 0)).name == "Normal"
    assert k.buddy.zone_of(k.buddy.alloc(G.GFP_HIGHUSER, 0)).name == "HighMem"


def test_rpi2_has_one_normal_zone():
    k = Kernel("rpi2", "1G", seed=1)
    assert [z.name for z in k.buddy.zones] == ["Normal"]


def test_order_11_warns_once_and_returns_failure(kernel):
    assert kernel.buddy.alloc(GFP_KERNEL, 11) == -1
    text = "\n".join(r.text for r in kernel.printk.records)
    assert "------------[ cut here ]------------" in text
    assert "WARNING: CPU: 0 PID: 1 at mm/page_alloc.c:5634 __alloc_pages+0x2a9/0x330" in text
    n = text.count("WARNING:")
    assert kernel.buddy.alloc(GFP_KERNEL, 11) == -1
    assert "\n".join(r.text for r in kernel.printk.records).count("WARNING:") == n
    assert kernel.taint & (1 << 9)


def test_exhaustion_prints_page_allocation_failure_with_mem_info():
    k = Kernel("x86_64", "64M", seed=1)
    got = 0
    while k.buddy.alloc(GFP_KERNEL, 10) >= 0:
        got += 1
    text = "\n".join(r.text for r in k.printk.records)
    assert ("kmsim: page allocation failure: order:10, mode:0xcc0(GFP_KERNEL), "
            "nodemask=(null),cpuset=/,mems_allowed=0") in text
    assert "Mem-Info:" in text
    assert "Node 0 DMA32: " in text and "kB = " not in text.split("Node 0 DMA32: ")[1].split("\n")[0][:3]
    assert got > 0


def test_nowarn_suppresses_failure_report():
    k = Kernel("x86_64", "64M", seed=1)
    while k.buddy.alloc(GFP_KERNEL | GFP_NOWARN, 10) >= 0:
        pass
    assert "page allocation failure" not in "\n".join(r.text for r in k.printk.records)


def test_double_free_is_bad_page_state_not_a_crash(kernel):
    pfn = kernel.buddy.alloc(GFP_KERNEL, 0)
    assert kernel.buddy.free(pfn, 0)
    assert not kernel.buddy.free(pfn, 0)
    text = "\n".join(r.text for r in kernel.printk.records)
    assert f"BUG: Bad page state in process kmsim  pfn:{pfn:05x}" in text
    assert kernel.taint & (1 << 5)


def test_wrong_order_free_is_reported_and_ignored(kernel):
    pfn = kernel.buddy.alloc(GFP_KERNEL, 2)
    assert not kernel.buddy.free(pfn, 0)
    assert "freed with order 0, allocated with order 2" in "\n".join(r.text for r in kernel.printk.records)
    assert kernel.buddy.free(pfn, 2)


def test_zeroed_on_allocation(kernel):
    pfn = kernel.buddy.alloc(GFP_KERNEL, 0)
    kernel.vm.fill(kernel.pfn_to_virt(pfn), 4096, 0x5a)
    kernel.buddy.free(pfn, 0)
    again = kernel.buddy.alloc(GFP_KERNEL, 0)
    assert again == pfn            # LIFO pcp list
    assert not kernel.phys.bytes[again << 12:(again << 12) + 4096].any()


@pytest.mark.parametrize("order", [0, 2, 6])
@pytest.mark.parametrize("how", ["write_int", "write", "fill", "phys"])
def test_a_written_block_is_zeroed_again_and_a_clean_one_is_left(kernel, order, how):
    """PhysMem.dirty: any write marks the frame, the next allocation clears it and the mark."""
    pfn = kernel.buddy.alloc(GFP_KERNEL, order)
    last = pfn + (1 << order) - 1            # write into the block's last frame
    addr = kernel.pfn_to_virt(last) + 4000
    {"write_int": lambda: kernel.vm.write_int(addr, 8, -1),
     "write": lambda: kernel.vm.write(addr, b"\xff" * 200),       # crosses into the next frame
     "fill": lambda: kernel.vm.fill(addr, 8, 0xff),
     "phys": lambda: kernel.phys.write(addr - kernel.machine.page_offset, b"\xff")}[how]()
    assert kernel.phys.dirty[last] == 1
    assert len(kernel.phys.unmarked_writes()) == 0
    kernel.buddy.free(pfn, order)
    held = []
    while (again := kernel.buddy.alloc(GFP_KERNEL, order)) != pfn:    # LIFO: it comes back soon
        held.append(again)
        assert len(held) < 64
    start = pfn << 12
    assert not kernel.phys.bytes[start:start + (4096 << order)].any()
    assert not kernel.phys.dirty_map[pfn:pfn + (1 << order)].any()


def test_unmarked_writes_finds_a_write_that_bypassed_the_marking(kernel):
    """The safety net debug_vm uses: bytes written behind PhysMem's back are found."""
    pfn = kernel.buddy.alloc(GFP_KERNEL, 0)
    assert len(kernel.phys.unmarked_writes()) == 0
    kernel.phys.bytes[pfn << 12] = 1
    assert list(kernel.phys.unmarked_writes()) == [pfn]


def test_init_on_alloc_0_leaves_old_bytes():
    k = Kernel(append="init_on_alloc=0", seed=1)
    pfn = k.buddy.alloc(GFP_KERNEL, 0)
    k.vm.write_int(k.pfn_to_virt(pfn), 1, 0x77)
    k.buddy.free(pfn, 0)
    assert k.buddy.alloc(GFP_KERNEL, 0) == pfn and k.phys.bytes[pfn << 12] == 0x77
    assert k.buddy.alloc(GFP_KERNEL | G.__GFP_ZERO, 0) >= 0


def test_oom_killer_chooses_the_current_task_which_then_uses_half_the_reserve():
    """GFP_KERNEL order-0 does not fail: the OOM killer marks the current task, whose later
    allocations may take half of the min reserve (ALLOC_OOM) and then fail (nopage)."""
    k = Kernel("x86_64", "64M", seed=1)
    n = 0
    while k.buddy.alloc(GFP_KERNEL, 0) >= 0:
        n += 1
        assert n < 100000
    text = "\n".join(r.text for r in k.printk.records)
    assert "invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0" in text
    assert "Out of memory: Killed process 1 (kmsim)" in text
    assert text.count("invoked oom-killer") == 1
    assert "kmsim: page allocation failure: order:0, mode:0xcc0(GFP_KERNEL)" in text
    assert k.current.oom_victim
    z = k.buddy.zone_by_name["DMA32"]
    assert z.nr_free < z.wmark_min                     # it went into the reserve


def test_oom_killed_insmod_runs_init_to_its_end_then_dies():
    """The module's cleanup runs (the memory comes back), init's -ENOMEM unloads it, and
    insmod is Killed (137) on its way back to user space."""
    from conftest import make_shell
    sh = make_shell(mem="64M")
    before = sh.kernel.buddy.nr_free_pages()
    r = sh.execute("insmod tests/check_modules/oom_exhaust.py")
    assert (r.status, r.err) == (137, "Killed\n")
    assert "oom_exhaust" not in sh.execute("lsmod").out
    assert abs(sh.kernel.buddy.nr_free_pages() - before) < 64       # all back (pcp aside)
    d = sh.execute("dmesg").out
    assert "Out of memory: Killed process" in d and "oom_exhaust: got " in d
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


def test_16g_machine_boots_with_lazy_memory():
    k = Kernel("x86_64", "16G", seed=1)
    assert k.nr_pages == (17 << 20) >> 2            # 16 GiB of RAM, 1 GiB of it moved above 4 GiB
    assert sum(z.present for z in k.buddy.zones) == (4 << 20) - 32 - 1 - 97   # less the holes
    assert [z.name for z in k.buddy.zones] == ["DMA", "DMA32", "Normal"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10), st.sampled_from(["k", "dma", "atomic"]),
                          st.integers(0, 1000)), min_size=1, max_size=60))
def test_random_alloc_free_never_overlaps_and_merges_back(ops):
    k = Kernel("x86_64", "64M", seed=3)
    boot = free_state(k)
    held: dict[int, int] = {}
    owned = np.zeros(k.nr_pages, bool)
    masks = {"k": GFP_KERNEL | GFP_NOWARN, "dma": GFP_DMA | GFP_NOWARN,
             "atomic": G.GFP_ATOMIC | GFP_NOWARN}
    for is_alloc, order, m, pick in ops:
        if is_alloc or not held:
            pfn = k.buddy.alloc(masks[m] | G.__GFP_NORETRY, order)
            if pfn < 0:
                continue
            assert pfn % (1 << order) == 0
            assert not owned[pfn:pfn + (1 << order)].any(), "frame handed out twice"
            owned[pfn:pfn + (1 << order)] = True
            held[pfn] = order
        else:
            pfn = sorted(held)[pick % len(held)]
            order = held.pop(pfn)
            assert k.buddy.free(pfn, order)
            owned[pfn:pfn + (1 << order)] = False
        free_flags = (k.phys.flags & (PG_buddy | PG_pcp)) != 0
        assert not (free_flags & owned).any()
        for z in k.buddy.zones:
            assert z.nr_free == sum(len(a) << o for o, a in enumerate(z.free_area))
            assert z.pcp_count == sum(1 << o for _p, o in z.pcp_blocks())
    for pfn, order in held.items():
        assert k.buddy.free(pfn, order)
    assert free_state(k) == boot


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10), st.sampled_from(["u", "m", "e"]),
                          st.integers(0, 1000)), min_size=1, max_size=80))
def test_migrate_types_keep_the_free_lists_consistent_and_merge_back(ops):
    """Unmovable, Movable and Reclaimable requests mixed: fallbacks steal blocks and
    pageblocks, yet every free head is on exactly the list of the type free_area says, the
    pageblocks keep their number, and freeing everything merges back to boot's blocks."""
    from kmsim.mm.debug_vm import check_buddy
    k = Kernel("x86_64", "64M", seed=5)
    boot = free_state(k)
    blocks = [sum(z.pageblock_counts()) for z in k.buddy.zones]
    masks = {"u": GFP_KERNEL, "m": G.GFP_HIGHUSER_MOVABLE, "e": GFP_KERNEL | G.__GFP_RECLAIMABLE}
    held: dict[int, int] = {}
    for is_alloc, order, m, pick in ops:
        if is_alloc or not held:
            pfn = k.buddy.alloc(masks[m] | GFP_NOWARN | G.__GFP_NORETRY, order)
            if pfn >= 0:
                held[pfn] = order
        else:
            pfn = sorted(held)[pick % len(held)]
            assert k.buddy.free(pfn, held.pop(pfn))
    assert check_buddy(k) == []
    assert [sum(z.pageblock_counts()) for z in k.buddy.zones] == blocks
    for z in k.buddy.zones:            # the free path's list per 512 pages follows the types
        assert all(z.pcp0_at[i] is z.pcp0_by_block[z.get_pageblock_migratetype(i << 9)]
                   for i in range(z.zone_start_pfn >> 9, (z.end_pfn - 1 >> 9) + 1))
        # __rmqueue_smallest's lists by type are the free lists themselves
        assert all(z.free_lists_of_type[mt][o] is z.free_list[o][mt]
                   for o in range(len(z.free_list)) for mt in range(len(z.free_list[o])))
    for pfn, order in held.items():
        assert k.buddy.free(pfn, order)
    assert free_state(k) == boot


def test_page_allocation_failure_report_reads_as_6_1_prints_it():
    """warn_alloc: the API frame under __alloc_pages, Mem-Info's one-record summary (one
    timestamp), free without the pcp pages, and __show_mem's closing lines."""
    from conftest import make_shell
    sh = make_shell(mem="512M")
    sh.execute("insmod tests/bad_modules/alloc_until_failure.py")
    lines = sh.execute("dmesg").out.splitlines()
    msgs = [line.split("] ", 1)[1] for line in lines]
    i = msgs.index(" __alloc_pages+0x305/0x330")
    assert msgs[i + 1] == " __get_free_pages+0xd/0x40"
    m = msgs.index("Mem-Info:")
    block = lines[m + 1:m + 9]
    assert len({line.split("]")[0] for line in block}) == 1          # one record, one time
    assert msgs[m + 8].startswith(" free:") and msgs[m + 9].endswith("all_unreclaimable? no")
    dma = next(x for x in msgs if x.startswith("Node 0 DMA free:"))
    lists = next(x for x in msgs if x.startswith("Node 0 DMA: "))
    assert dma.split()[3] == "free:" + lists.split("= ")[1]       # the buddy lists, no pcp
    end = msgs.index("0 pages hwpoisoned")
    assert msgs[end - 8:end - 3] == ["Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 "
                                     "hugepages_size=2048kB",
                                     f"{sh.kernel.shmem_pages} total pagecache pages",
                                     "0 pages in swap cache", "Free swap  = 0kB", "Total swap = 0kB"]
    assert msgs[end - 3].endswith(" pages RAM") and msgs[end - 1].endswith(" pages reserved")
