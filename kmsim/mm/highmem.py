"""HighMem: the pkmap window and kmap/kunmap (mm/highmem.c), on 32-bit machines.

A HighMem frame has no address in the direct map: ``page_address()`` is 0 until
``kmap(page)`` puts it in one of the LAST_PKMAP slots of the pkmap window
(PKMAP_BASE ...), through the kernel's page tables.  As in the kernel, a slot's
count is 0 when free, 1 when mapped with no user, n+1 with n users: ``kunmap``
drops a user but leaves the page mapped (``page_address`` still returns the
address) until ``flush_all_zero_pkmaps`` runs when the search for a free slot
wraps around.  ``kunmap_local`` (kmsim's kmap_local_page shares the pkmap
slots) unmaps at once, as the kernel's per-CPU kmap_local slots do.
"""
from __future__ import annotations

from ..errors import KernelBUG, PageFault
from ..machine import PAGE_SHIFT, PAGE_SIZE
from .page import Page
from .physmem import PG_highmem_mapped

__all__ = ["Pkmap"]


class Pkmap:
    """The pkmap window of one kernel: slots, their counts and the page of each."""

    def __init__(self, k, vm):
        self.k = k
        self.vm = vm
        self.start = k.machine.pkmap_base
        self.n = k.machine.last_pkmap
        self.end = self.start + self.n * PAGE_SIZE
        self.slot_pfn: list[int] = [-1] * self.n
        self.count: list[int] = [0] * self.n
        self.slot_of: dict[int, int] = {}         # pfn -> slot
        self.last_nr = 0

    def contains(self, addr: int) -> bool:
        """True for an address of the pkmap window."""
        return self.start <= addr < self.end

    def _check(self, page, fn: str) -> int:
        if page is None or page == 0:
            raise PageFault(0, False, hint=f"{fn}() was given NULL")
        if not isinstance(page, Page):
            raise TypeError(f"{fn}() takes a struct page (from alloc_pages), not {type(page).__name__}")
        return page.pfn

    def kmap(self, page) -> int:
        """kmap: the page's address; a HighMem page gets a pkmap slot (kmap_high)."""
        pfn = self._check(page, "kmap")
        addr = self.k.pfn_to_virt(pfn)
        if addr:
            return addr
        slot = self.slot_of.get(pfn)
        if slot is None:
            slot = self.map_new_virtual(pfn)
            if slot < 0:
                return 0
        self.k.phys.c_flags[pfn] |= PG_highmem_mapped
        self.count[slot] += 1
        return self.start + (slot << PAGE_SHIFT)

    def map_new_virtual(self, pfn: int) -> int:
        """The next free slot after last_pkmap_nr (flushing unused ones on wrap); its PTE set."""
        for _ in range(self.n):
            self.last_nr = (self.last_nr + 1) % self.n
            if self.last_nr == 0:
                self.flush_all_zero_pkmaps()
            if self.count[self.last_nr] == 0:
                break
        else:
            self.k.printk.emit(4, f"kmsim: all {self.n} pkmap slots are in use: kmap() would sleep "
                                  f"until someone calls kunmap(); returning NULL instead")
            return -1
        slot = self.last_nr
        if not self.vm.pt.map(self.start + (slot << PAGE_SHIFT), pfn):
            return -1
        self.count[slot] = 1
        self.slot_pfn[slot] = pfn
        self.slot_of[pfn] = slot
        self.k.phys.c_flags[pfn] |= PG_highmem_mapped
        return slot

    def flush_all_zero_pkmaps(self) -> None:
        """Unmap every slot that is mapped but has no user (count 1)."""
        for slot in range(self.n):
            if self.count[slot] == 1:
                self.count[slot] = 0
                self.unmap_slot(slot)

    def kunmap(self, page) -> None:
        """kunmap: drop a user (kunmap_high); the page stays mapped until the next flush."""
        pfn = self._check(page, "kunmap")
        if self.k.pfn_to_virt(pfn):
            return
        slot = self.slot_of.get(pfn)
        if slot is None:
            raise KernelBUG("mm/highmem.c:345", rip="kunmap_high+0x9d/0xb0",
                            hint=f"kunmap() of pfn {pfn:#x}, which is not kmapped")
        self.count[slot] -= 1
        if self.count[slot] == 0:
            raise KernelBUG("mm/highmem.c:355", rip="kunmap_high+0xa5/0xb0",
                            hint=f"kunmap() of pfn {pfn:#x} once more than kmap(): "
                                 "pkmap_count went down to zero")

    def unmap_slot(self, slot: int) -> None:
        """Clear a slot's PTE and forget its page."""
        va = self.start + (slot << PAGE_SHIFT)
        self.vm.tlb.pop(va >> PAGE_SHIFT, None)
        self.vm.pt.unmap(va)
        pfn = self.slot_pfn[slot]
        self.slot_pfn[slot] = -1
        del self.slot_of[pfn]
        self.k.phys.c_flags[pfn] &= ~PG_highmem_mapped

    def kmap_address(self, pfn: int) -> int:
        """page_address of a HighMem frame: its pkmap address, or 0."""
        slot = self.slot_of.get(pfn)
        return 0 if slot is None else self.start + (slot << PAGE_SHIFT)

    def kunmap_addr(self, addr: int) -> None:
        """kunmap_local(addr): drop the mapping at once (a direct-map address needs nothing)."""
        if not isinstance(addr, int) or not self.contains(addr):
            return
        slot = (addr - self.start) >> PAGE_SHIFT
        if self.slot_pfn[slot] < 0:
            return
        self.kunmap(Page(self.k, self.slot_pfn[slot]))
        if self.count[slot] == 1:
            self.count[slot] = 0
            self.unmap_slot(slot)

    def idle(self, addr: int) -> bool:
        """True for a slot still mapped but with no user (waiting for the next flush)."""
        return self.contains(addr) and self.count[(addr - self.start) >> PAGE_SHIFT] == 1

    def mappings(self) -> dict[int, int]:
        """{virtual address: pfn} of the slots in use."""
        return {self.start + (s << PAGE_SHIFT): pfn for s, pfn in enumerate(self.slot_pfn) if pfn >= 0}
