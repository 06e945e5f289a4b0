"""The per-cpu page lists against Linux 6.1's transcripts: insmod's copy of the module file
(finit_module's kernel_read_file, vfree'd by free_copy just before init) and zone.ko's small
allocations at 512M come from the pcp lists (buddyinfo unmoved, transcript-main.txt); at 4G
they refill zone Normal's empty order-0 list twice from the buddy lists (126 pages,
transcript-zone4g.txt); the batch sizes are zone_batchsize's (31 at 512M, 63 at 4G), and the
reference's change after rmmod at 512M is one order-2 refill of batch >> 2 blocks."""
from __future__ import annotations

import os
import re

from kmsim.mm.buddy import MIGRATE_UNMOVABLE, zone_batchsize
from kmsim.modcopy import KO_IMAGE_BYTES
from tests.conftest import make_shell
from tests.reference import ref_text

ZONE = "modules/zone_allocator.py"     # the lab's listing 1: zone.c's allocations and frees
BAD = "tests/bad_modules"


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
    z = sh.kernel.buddy.zone_by_name["DMA32"]
    assert len(z.pcp[0]) == 4 * z.pcp_batch >= 81 + 4 + 3 + 3   # the copy, the module, tables, zone.ko's
    b0 = buddyinfo(sh)
    assert sh.execute(f"insmod {ZONE}").status == 0
    assert buddyinfo(sh) == b0
    assert sh.execute("rmmod zone_allocator").status == 0
    assert buddyinfo(sh) == b0       # kmsim has no other task to refill a list (docs/fidelity.md)


def test_4g_zone_insmod_refills_normal_with_two_batches():
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
    # the copy (81 pages), the module's memory (4) and its page tables (3): two refills;
    # which free blocks they split depends on what kmsim's boot left on Normal's
    # Unmovable lists (the reference's, finding none, stole an order-10 block)
    assert pages(b1["Normal"]) - pages(b0["Normal"]) == ref_delta
    assert sh.execute("rmmod zone_allocator").status == 0
    assert buddyinfo(sh) == b1


def ref_zone_pfns(name: str) -> list[int]:
    """The pfns of zone.ko's five allocations in the first `zone insmod` of a transcript."""
    text = ref_text(name)
    return [int(p) for p in re.findall(r"^\[[ .\d]+\] zone: .* pfn (\d+) zone", text, re.M)[:5]]


def kmsim_zone_pfns(sh) -> list[int]:
    """The pfns of zone_allocator's allocations, in its init's order (the reference's)."""
    k = sh.kernel
    ns = k.modules.modules["zone_allocator"].namespace
    return [ns["pages_pointer"].pfn, ns["page_pointer"].pfn, k.virt_to_pfn(ns["multiple_pages_address"]),
            k.virt_to_pfn(ns["single_page_address"]), k.virt_to_pfn(ns["zeroed_page_address"])]


def test_zone_init_gets_the_pages_free_copy_put_on_top():
    """free_copy vfrees the copy just before init, its last page on top of the order-0
    list: zone.ko's three order-0 pages are consecutive pfns, decreasing at 4G (the copy
    came from a refill, in pfn order) and increasing at 512M (it came from a list in the
    order frees leave one)."""
    ref512, ref4g = ref_zone_pfns("transcript-main.txt"), ref_zone_pfns("transcript-zone4g.txt")
    assert ref512[1::2] + ref512[4:] == [93082, 93083, 93084]
    assert ref4g[1::2] + ref4g[4:] == [1055548, 1055547, 1055546]
    for mem, step in (("512M", 1), ("4G", -1)):
        sh = make_shell(mem=mem)
        assert sh.execute(f"insmod {ZONE}").status == 0
        pfns = kmsim_zone_pfns(sh)
        small = [pfns[1], pfns[3], pfns[4]]
        assert small == [small[0], small[0] + step, small[0] + 2 * step], (mem, pfns)


def test_insmod_vmallocs_the_module_file_and_frees_it_before_init():
    """kernel_read_file's buffer is i_size bytes (the source plus KO_IMAGE_BYTES) and is
    gone by the time init runs; a failed vmalloc of it is insmod's ENOMEM."""
    sh = make_shell(mem="512M")
    k = sh.kernel
    seen = []
    orig = k.vmalloc.vmalloc

    def spy(size, *a, **kw):
        addr = orig(size, *a, **kw)
        seen.append((size, kw.get("caller"), addr))
        return addr

    k.vmalloc.vmalloc = spy
    assert sh.execute(f"insmod {ZONE}").status == 0
    size, caller, addr = seen[0]
    assert size == os.path.getsize(ZONE) + KO_IMAGE_BYTES and caller.startswith("kernel_read_file+")
    assert k.vmalloc.find_area(addr) is None
    assert "kernel_read_file" not in sh.execute("cat /proc/vmallocinfo").out
    k.vmalloc.vmalloc = lambda *a, **kw: 0
    r = sh.execute("insmod modules/hello.py")
    assert r.status == 1 and "could not insert module modules/hello.py: Cannot allocate memory" in r.err
    k.vmalloc.vmalloc = orig
    assert sh.execute("insmod modules/hello.py").status == 0


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


def test_every_failed_insmod_frees_its_copy():
    """load_module's error paths end in free_copy too: after a refused duplicate and a file
    that is no module, no page is held by a copy."""
    sh = make_shell(mem="512M")
    k = sh.kernel
    assert sh.execute(f"insmod {ZONE}").status == 0
    held = k.vmalloc.nr_vmalloc_pages, k.buddy.nr_free_pages()
    assert "File exists" in sh.execute(f"insmod {ZONE}").err
    assert "Invalid module format" in sh.execute(f"insmod {BAD}/binary_garbage.py").err
    assert (k.vmalloc.nr_vmalloc_pages, k.buddy.nr_free_pages()) == held
    assert not [a for a in k.vmalloc.all_areas() if str(a.caller).startswith("kernel_read_file")]
