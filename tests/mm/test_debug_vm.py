"""kmsim/mm/debug_vm.py: the machine-wide invariant checker finds each kind of corruption."""
from __future__ import annotations

import pytest
from conftest import make_shell

from kmsim.kernel import Kernel
from kmsim.mm.debug_vm import check_buddy, check_kernel, check_printk, debug_vm_after_command
from kmsim.mm.physmem import PG_buddy, PG_pcp, PG_slab


@pytest.fixture
def k():
    """A small machine."""
    return Kernel("x86_64", "128M", "", seed=1)


def _a_free_block(k, order=None):
    for z in k.buddy.zones:
        for o in range(len(z.free_area) - 1, -1, -1):
            if z.free_area[o] and (order is None or o == order):
                return z, next(iter(z.free_area[o])), o
    raise AssertionError("no free block")


def test_clean_after_boot_on_every_profile():
    """Each machine profile boots clean."""
    for machine, mem in (("x86_64", "1G"), ("i386", "512M"), ("rpi2", "256M"), ("x86_64", "64M")):
        assert check_kernel(Kernel(machine, mem, "", seed=3)) == []


def test_clean_after_allocations_and_frees(k):
    """Allocations and frees of every order keep the invariants (pcp lists included)."""
    got = [(k.buddy.alloc(0xcc0, o % 11), o % 11) for o in range(60)]
    assert check_kernel(k) == []
    for pfn, o in got:
        if pfn >= 0:
            k.buddy.free(pfn, o)
    assert check_kernel(k) == []
    k.buddy.drain_all_pages()
    assert check_kernel(k) == []


def test_owned_frame_on_a_free_list(k):
    """The message names the pfn, the list, the zone and the owner."""
    z, pfn, o = _a_free_block(k)
    slab = k.register_owner("slab", "kmalloc-64")
    k.phys.owner[pfn + 3] = slab
    v = check_buddy(k)
    assert v[0] == (f"pfn {pfn + 3:#x} is on the order-{o} free list of {z.name} but is owned by "
                    f"slab kmalloc-64")


def test_nr_free_mismatch(k):
    """A free counter that disagrees with the lists."""
    z = k.buddy.zones[-1]
    z.nr_free += 1
    want = f"zone {z.name}: nr_free is {z.nr_free} but its free lists hold {z.nr_free - 1} pages"
    assert want in check_buddy(k)


def test_overlapping_free_blocks(k):
    """The same frames on two free lists (a double free that merged twice)."""
    z, pfn, o = _a_free_block(k, 10)
    z.free_area[0][pfn + 5] = None
    k.phys.flags[pfn + 5] = PG_buddy
    k.phys.order[pfn + 5] = 0
    z.nr_free += 1
    v = check_buddy(k)
    assert any(f"pfn {pfn + 5:#x} is in 2 free blocks at once" in x for x in v), v


def test_misaligned_and_outside_zone(k):
    """A block not aligned to its order, a block past its zone's end."""
    z, pfn, o = _a_free_block(k, 10)
    del z.free_area[10][pfn]
    z.free_area[10][pfn + 1] = None
    assert any("is not aligned to 1024 pages" in x for x in check_buddy(k))
    del z.free_area[10][pfn + 1]
    z.free_area[10][z.end_pfn] = None
    assert any("lies outside its zone" in x for x in check_buddy(k))


def test_flags_and_lost_frames(k):
    """PG_buddy on a frame no list holds; a free head without PG_buddy; a frame neither free nor owned."""
    pfn = k.buddy.alloc(0xcc0, 0)
    k.phys.flags[pfn] = PG_buddy
    assert any(f"pfn {pfn:#x} has PG_buddy but is on no free list" in x for x in check_buddy(k))
    k.phys.flags[pfn] = 0
    k.phys.owner[pfn] = 0
    assert any(f"pfn {pfn:#x} is neither free nor owned" in x for x in check_buddy(k))
    z, head, o = _a_free_block(k)
    k.phys.flags[head] = PG_slab
    assert any(f"pfn {head:#x} is on the order-{o} free list" in x and "not PG_buddy alone" in x
               for x in check_buddy(k))


def test_pcp_list_checks(k):
    """A pcp entry whose page lost PG_pcp, and a wrong pcp_count."""
    pfn = k.buddy.alloc(0xcc0, 0)
    k.buddy.free(pfn, 0)
    z = k.buddy.zone_of(pfn)
    assert pfn in z.pcp[0]
    k.phys.flags[pfn] = 0
    assert any("pcp list" in x and "not PG_pcp alone" in x for x in check_buddy(k))
    k.phys.flags[pfn] = PG_pcp
    z.pcp_count += 2
    assert any("pcp_count" in x for x in check_buddy(k))


def test_stale_flags_on_free_tail(k):
    """A frame inside a free block that keeps PG_slab (a slab page freed without clearing)."""
    z, pfn, o = _a_free_block(k, 10)
    k.phys.flags[pfn + 7] = PG_slab
    assert any(f"pfn {pfn + 7:#x} is free" in x and "keeps page flags" in x for x in check_buddy(k))


def test_printk_checks(k):
    """Records renumbered, bytes miscounted."""
    assert check_printk(k) == []
    k.printk.records[3].seq += 5
    assert any("follows seq" in x for x in check_printk(k))
    k.printk.records[3].seq -= 5
    k.printk.used += 8
    assert any("bytes used" in x for x in check_printk(k))


def test_subsystem_checks_are_collected(k):
    """Each subsystem's debug_check() is called, a raising one is reported too."""
    class Bad:
        def debug_check(self):
            return ["two objects share an address"]

    class Broken:
        def debug_check(self):
            raise KeyError("x")
    checkers = k.debug_checkers()
    k.debug_checkers = lambda: [*checkers, ("fake", Bad().debug_check), ("broken", Broken().debug_check)]
    v = check_kernel(k)
    assert "fake: two objects share an address" in v
    assert "broken: debug_check() raised KeyError: 'x'" in v


def test_clean_on_1g_with_thousands_of_allocated_blocks():
    """(No timed assertion: the rules leave speed to python -m kmsim.bench.)"""
    k = Kernel("x86_64", "1G", "", seed=1)
    for i in range(3000):
        k.buddy.alloc(0xcc0, i % 4)
    check_kernel(k)
    assert check_buddy(k) + check_printk(k) == []


def test_append_debug_vm_reports_once_in_bug_style():
    """--append debug_vm: the first violation after a command, as 'BUG: debug_vm: ...', taint B."""
    sh = make_shell(mem="128M", append="debug_vm")
    assert sh.execute("lsmod").status == 0
    assert not any("BUG: debug_vm" in r.text for r in sh.kernel.printk.records)
    k = sh.kernel
    z, pfn, o = _a_free_block(k)
    k.phys.owner[pfn] = k.kernel_owner
    r = sh.execute("true")
    bugs = [r_.text for r_ in k.printk.records if r_.text.startswith("BUG: debug_vm:")]
    assert bugs == [(f"BUG: debug_vm: pfn {pfn:#x} is on the order-{o} free list of {z.name} but is "
                     f"owned by kernel")]
    assert "BUG: debug_vm" in r.console
    assert k.taint & (1 << 5)
    sh.execute("true")           # the same violation is not reported again
    assert len([r_ for r_ in k.printk.records if r_.text.startswith("BUG: debug_vm:")]) == 1


def test_without_debug_vm_nothing_runs(monkeypatch):
    """Without the parameter the hook does nothing (no cost on every command)."""
    k = Kernel("x86_64", "64M", "", seed=1)
    import kmsim.mm.debug_vm as D
    monkeypatch.setattr(D, "check_kernel", lambda k: (_ for _ in ()).throw(AssertionError))
    debug_vm_after_command(k)


@pytest.mark.e2e
def test_debug_vm_end_to_end(kmsim):
    """python -m kmsim --append debug_vm: modules load and unload with no violation."""
    r = kmsim("--seed", "1", "--mem", "128M", "--append", "debug_vm", "-c",
              "insmod modules/zone_allocator.py; rmmod zone_allocator; insmod modules/hello.py; "
              "rmmod hello; dmesg | grep -c 'BUG: debug_vm'")
    assert r.stdout.strip().splitlines()[-1] == "0", r.stdout + r.stderr
    assert "Traceback" not in r.stderr


def test_a_write_behind_the_dirty_marking_is_a_violation():
    """check_clean_frames: bytes that reached a frame without marking it would survive the
    next allocation's clearing; the checker names the frame."""
    from kmsim.mm.debug_vm import check_clean_frames
    k = Kernel("x86_64", "64M", seed=1)
    assert check_clean_frames(k) == []
    pfn = k.buddy.alloc(0xcc0, 0)             # GFP_KERNEL
    k.phys.bytes[(pfn << 12) + 7] = 0x41
    assert check_clean_frames(k) == [f"pfn {pfn:#x} is marked clean but holds data "
                                     f"(a write that did not mark it)"]
    assert check_kernel(k)[0] == check_clean_frames(k)[0]
