"""Page tables in simulated memory: entry formats, walks, table frames."""
from __future__ import annotations

import pytest

from kmsim.kernel import Kernel
from kmsim.machine import PAGE_SHIFT
from kmsim.mm.pagetable import decode_flags
from kmsim.mm.physmem import PG_pgtable


@pytest.fixture(scope="module", params=["x86_64", "i386", "rpi2"])
def mk(request):
    return Kernel(request.param, "256M", "", seed=3)


def _entry(k, phys, size):
    return int.from_bytes(k.phys.mm[phys:phys + size], "little")


def test_walk_reads_the_entries_in_memory(mk):
    v = mk.vmalloc
    addr = v.vmalloc(3 * 4096)
    area = v.find_area(addr)
    for i, pfn in enumerate(area.pages):
        steps = v.pt.walk(addr + (i << PAGE_SHIFT))
        leaf = steps[-1]
        assert leaf.level == "PTE"
        assert _entry(mk, leaf.entry_phys, mk.machine.pte_size) == leaf.entry
        assert (leaf.entry & v.pt.addr_mask) >> PAGE_SHIFT == pfn
        assert leaf.entry & ~v.pt.addr_mask == v.pt.pte_kernel
    v.vfree(addr)


def test_entry_formats():
    k = Kernel("x86_64", "256M", "", seed=1)
    v = k.vmalloc
    addr = v.vmalloc(4096)
    steps = v.pt.walk(addr)
    assert [s.level for s in steps] == ["PGD", "P4D", "PUD", "PMD", "PTE"]
    assert steps[0].index == (addr >> 39) & 511 == 402
    assert steps[1].folded and steps[1].entry == steps[0].entry
    assert all(s.entry & 0xfff == 0x067 for s in steps[:4])
    assert steps[4].entry >> 63 == 1 and steps[4].entry & 0xfff == 0x163
    assert decode_flags("x86_64", steps[4].entry, True) == "P RW A D G NX"
    assert decode_flags("x86_64", steps[0].entry, False) == "P RW US A D"
    line = v.pt.pgd_line(addr + 4096)
    assert line.startswith(f"PGD {steps[0].entry:x} P4D {steps[0].entry:x} PUD ")
    assert line.endswith("PTE 0 ")


def test_i386_two_levels_of_4_byte_entries():
    k = Kernel("i386", "1G", "", seed=1)
    v = k.vmalloc
    addr = v.vmalloc(4096)
    steps = v.pt.walk(addr)
    assert [s.level for s in steps] == ["PGD", "PTE"]
    assert steps[0].index == addr >> 22 and steps[1].index == (addr >> 12) & 1023
    assert steps[1].entry & 0xfff == 0x163 and steps[1].entry < 1 << 32


def test_rpi2_short_descriptors():
    k = Kernel("rpi2", "256M", "", seed=1)
    v = k.vmalloc
    addr = v.vmalloc(4096)
    l1, l2 = v.pt.walk(addr)
    assert l1.index == addr >> 20 and l1.entry & 3 == 1          # coarse page table
    assert l2.index == (addr >> 12) & 255 and l2.entry & 2        # small page
    assert k.phys.order[v.pt.root] == 2                           # 16 KiB L1 table


def test_table_frames_are_pgtable_and_freed(mk):
    v = mk.vmalloc
    before = set(v.pt.used)
    kinds = {mk.owners[int(mk.phys.owner[p])].kind for p in before}
    assert kinds == {"pgtable"}
    assert all(mk.phys.flags[p] & PG_pgtable for p in before)
    far = v.vmalloc_start + (64 << 30 if mk.machine.ptr_size == 8 else 0x4000000)
    assert v.pt.map(far, v.find_area(v.vmalloc(4096)).pages[0]) is True
    assert len(v.pt.used) > len(before)
    v.pt.unmap(far)
    v.vfree(max(a.start for a in v.vmalloc_space.areas.values()))
    assert set(v.pt.used) == before
    assert v.debug_check() == []
