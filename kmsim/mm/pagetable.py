"""Kernel page tables (init_mm) in simulated memory, in the format of each machine.

Every table is a frame from the page allocator (owner kind "pgtable", PG_pgtable);
its entries are little-endian integers in that frame's bytes, so ``x`` on the
table's direct-map address shows the real entries.  ``walk()`` reads them
exactly as the MMU (or the kernel's pgd/p4d/pud/pmd/pte_offset helpers) does.
Python keeps only a count of used entries per table, to free a table when its
last entry goes (the tables themselves are the truth).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..machine import PAGE_SHIFT
from . import gfp as G
from .gfp import __GFP_NORETRY as _GFP_NORETRY
from .gfp import __GFP_NOWARN as _GFP_NOWARN
from .gfp import __GFP_ZERO as _GFP_ZERO
from .physmem import PG_pgtable

__all__ = ["PageTable", "WalkStep", "X86_FLAGS", "decode_flags", "PTE_KERNEL", "TABLE_ENTRY"]

# x86 entry bits (arch/x86/include/asm/pgtable_types.h)
_PAGE_PRESENT, _PAGE_RW, _PAGE_USER = 1 << 0, 1 << 1, 1 << 2
_PAGE_PWT, _PAGE_PCD, _PAGE_ACCESSED = 1 << 3, 1 << 4, 1 << 5
_PAGE_DIRTY, _PAGE_PSE, _PAGE_GLOBAL = 1 << 6, 1 << 7, 1 << 8
_PAGE_NX = 1 << 63
X86_FLAGS = [(_PAGE_PRESENT, "P"), (_PAGE_RW, "RW"), (_PAGE_USER, "US"), (_PAGE_PWT, "PWT"),
             (_PAGE_PCD, "PCD"), (_PAGE_ACCESSED, "A"), (_PAGE_DIRTY, "D"), (_PAGE_PSE, "PSE"),
             (_PAGE_GLOBAL, "G"), (_PAGE_NX, "NX")]
# ARM short descriptors (ARM ARM B3.5): L1 coarse table = 0b01, L2 small page = 0b1x
_ARM_FLAGS = [(1 << 0, "XN"), (1 << 1, "SMALL"), (1 << 2, "B"), (1 << 3, "C"),
              (1 << 4, "AP0"), (1 << 5, "AP1"), (1 << 9, "APX"), (1 << 10, "S"), (1 << 11, "nG")]
_ARM_L1_FLAGS = [(1 << 0, "COARSE"), (1 << 3, "NS")]

# _PAGE_TABLE (= _KERNPG_TABLE | _PAGE_USER) for an upper level; PAGE_KERNEL for a leaf
TABLE_ENTRY = {"x86_64": 0x067, "i386": 0x067, "rpi2": 0x001}
PTE_KERNEL = {"x86_64": _PAGE_NX | _PAGE_GLOBAL | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_RW
              | _PAGE_PRESENT,                       # 0x8000000000000163
              "i386": 0x163,                         # non-PAE has no NX bit
              "rpi2": 0x01f}                         # small page, C B, AP=01 (kernel RW), XN
_ADDR_MASK = {"x86_64": 0x000ffffffffff000, "i386": 0xfffff000, "rpi2": 0xfffff000}
_L1_ADDR_MASK_ARM = 0xfffffc00


@dataclass
class WalkStep:
    """One level of a walk: its name, index, the entry's address and value."""
    level: str
    index: int
    entry_phys: int
    entry: int
    present: bool
    folded: bool = False


def decode_flags(machine: str, entry: int, leaf: bool) -> str:
    """'P RW A D G NX': the names of an entry's flag bits."""
    table = (_ARM_FLAGS if leaf else _ARM_L1_FLAGS) if machine == "rpi2" else X86_FLAGS
    return " ".join(n for bit, n in table if entry & bit) or "-"


class PageTable:
    """The kernel's page tables for the non-linear part of the address space.

    :param kernel: the Kernel (its buddy allocator provides table frames)
    :param owner: owner id for table frames
    """

    def __init__(self, kernel, owner: int):
        self.k = kernel
        m = kernel.machine
        self.machine = m.name
        self.levels = [lv for lv in m.pt_levels if lv.bits]      # P4D is folded on x86_64
        self.folded = [lv.name for lv in m.pt_levels if not lv.bits]
        self.esize = m.pte_size
        self.mm = kernel.phys.mm
        self.owner = owner
        self.table_entry = TABLE_ENTRY[m.name]
        self.pte_kernel = PTE_KERNEL[m.name]
        self.addr_mask = _ADDR_MASK[m.name]
        self.used: dict[int, int] = {}           # table pfn -> entries in use
        self.root_order = 2 if m.name == "rpi2" else 0     # ARM's L1 table is 16 KiB
        self.root = self._alloc_table(self.root_order)
        if self.root < 0:
            raise MemoryError("no memory for the kernel page tables")

    # -- table frames --------------------------------------------------------------
    def _alloc_table(self, order: int = 0) -> int:
        """pte_alloc_one_kernel / __pmd_alloc ...: a zeroed table frame, or -1."""
        k = self.k
        caller, k.current_owner = k.current_owner, k.kernel_owner    # init_mm's, not the module's
        try:
            pfn = k.buddy.alloc(G.GFP_KERNEL | _GFP_ZERO | _GFP_NOWARN | _GFP_NORETRY, order)
        finally:
            k.current_owner = caller
        if pfn < 0:
            return -1
        ph = self.k.phys
        ph.flags[pfn:pfn + (1 << order)] |= PG_pgtable
        ph.owner[pfn:pfn + (1 << order)] = self.owner
        ph.dirty_map[pfn:pfn + (1 << order)] = 1     # entries are written directly, not through VirtMem
        self.used[pfn] = 0
        return pfn

    def _free_table(self, pfn: int) -> None:
        ph = self.k.phys
        ph.c_flags[pfn] &= ~PG_pgtable
        del self.used[pfn]
        self.k.buddy.free(pfn, 0)

    def nr_table_pages(self) -> int:
        """Frames used by the tables (the PageTables line of /proc/meminfo)."""
        return len(self.used) - 1 + (1 << self.root_order)

    # -- entries -------------------------------------------------------------------
    def _get(self, phys: int) -> int:
        return int.from_bytes(self.mm[phys:phys + self.esize], "little")

    def _set(self, phys: int, val: int) -> None:
        self.mm[phys:phys + self.esize] = val.to_bytes(self.esize, "little")

    def _next_table(self, entry: int, level_idx: int) -> int:
        """Physical address of the table an upper-level entry points to."""
        if self.machine == "rpi2":
            return entry & _L1_ADDR_MASK_ARM
        return entry & self.addr_mask

    def next_table(self, entry: int) -> int:
        """Physical address of the table an upper-level entry points to (pmd_page & co)."""
        return self._next_table(entry, 0)

    def _index(self, vaddr: int, lv) -> int:
        return (vaddr >> lv.shift) & ((1 << lv.bits) - 1)

    # -- the walk ------------------------------------------------------------------
    #
    # x86_64, 4 levels (P4D folded into the PGD):
    #
    #   63     48 47      39 38      30 29      21 20      12 11          0
    #  +---------+----------+----------+----------+----------+-------------+
    #  | sign ext| PGD index| PUD index| PMD index| PTE index| page offset |
    #  +---------+----------+----------+----------+----------+-------------+
    #               9 bits     9 bits     9 bits     9 bits      12 bits
    #  entries are 8 bytes: phys[51:12] | NX(63) G(8) PSE(7) D(6) A(5) PCD(4) PWT(3) US(2) RW(1) P(0)
    #
    # i386 without PAE, 2 levels:
    #
    #   31          22 21          12 11          0
    #  +--------------+--------------+-------------+
    #  |  PGD index   |  PTE index   | page offset |
    #  +--------------+--------------+-------------+
    #      10 bits        10 bits        12 bits      entries are 4 bytes, no NX
    #
    # rpi2 (ARMv7, short descriptors): we keep the *hardware* view, not Linux ARM's
    # 2048 x 2 MiB software view, so the walk is what the MMU does:
    #
    #   31             20 19        12 11          0
    #  +-----------------+------------+-------------+
    #  |   L1 index      |  L2 index  | page offset |
    #  +-----------------+------------+-------------+
    #       12 bits          8 bits       12 bits
    #  L1: 4096 x 4-byte entries (a 16 KiB table); a coarse-table entry is
    #  L2phys[31:10] | 0b01.  L2: 256 x 4-byte entries (1 KiB; kmsim gives each L2
    #  table a frame of its own); a small-page entry is phys[31:12] | AP | C B | 0b1 XN.
    #
    def walk(self, vaddr: int) -> list[WalkStep]:
        """Read the tables for vaddr, top level first; stops at the first empty entry."""
        steps = []
        table = self.root << PAGE_SHIFT
        last = len(self.levels) - 1
        for i, lv in enumerate(self.levels):
            idx = self._index(vaddr, lv)
            ephys = table + idx * self.esize
            ent = self._get(ephys)
            present = bool(ent & 1) if self.machine != "rpi2" else bool(ent & 3)
            steps.append(WalkStep(lv.name, idx, ephys, ent, present))
            if i == 0:
                for name in self.folded:
                    steps.append(WalkStep(name, idx, ephys, ent, present, folded=True))
            if not present or i == last:
                break
            table = self._next_table(ent, i)
        return steps

    def lookup(self, vaddr: int) -> int:
        """The frame vaddr maps to, or -1 (what vmalloc_to_page walks)."""
        table = self.root << PAGE_SHIFT
        last = len(self.levels) - 1
        arm = self.machine == "rpi2"
        for i, lv in enumerate(self.levels):
            ent = self._get(table + self._index(vaddr, lv) * self.esize)
            if not (ent & 3 if arm else ent & 1):
                return -1
            if i == last:
                return (ent & self.addr_mask) >> PAGE_SHIFT
            table = self._next_table(ent, i)
        return -1

    def pgd_line(self, vaddr: int) -> str:
        """'PGD 1fa08067 P4D 1fa08067 PUD 1fa07067 PMD 0 ' as the #PF report prints it."""
        parts = []
        if self.machine == "i386":
            # arch/x86/mm/fault.c dump_pagetable() of a non-PAE 32-bit kernel
            return "".join(f"*{'pde' if s.level == 'PGD' else 'pte'} = {s.entry:08x} "
                           for s in self.walk(vaddr))
        for s in self.walk(vaddr):
            parts.append(f"{s.level} {s.entry:x} " if s.present or s.level != "PTE"
                         else f"{s.level} 0 ")
        return "".join(parts)

    # -- mapping -------------------------------------------------------------------
    def map(self, vaddr: int, pfn: int, prot: int | None = None) -> bool:
        """Map one page (vmap_pte_range); False if a table could not be allocated."""
        table_pfn = self.root
        last = len(self.levels) - 1
        for i, lv in enumerate(self.levels):
            ephys = (table_pfn << PAGE_SHIFT) + self._index(vaddr, lv) * self.esize
            ent = self._get(ephys)
            if i == last:
                if ent & 3:
                    raise AssertionError(f"vmap: {vaddr:#x} is already mapped")
                self._set(ephys, (pfn << PAGE_SHIFT) | (self.pte_kernel if prot is None else prot))
                self.used[table_pfn] += 1
                return True
            if not ent & 3:
                new = self._alloc_table()
                if new < 0:
                    return False
                self._set(ephys, (new << PAGE_SHIFT) | self.table_entry)
                self.used[table_pfn] += 1
                table_pfn = new
            else:
                table_pfn = self._next_table(ent, i) >> PAGE_SHIFT
        return False

    def unmap(self, vaddr: int) -> int:
        """Clear vaddr's PTE (vunmap_pte_range); free tables left empty.  The old pfn or -1."""
        path = []
        table_pfn = self.root
        last = len(self.levels) - 1
        for i, lv in enumerate(self.levels):
            ephys = (table_pfn << PAGE_SHIFT) + self._index(vaddr, lv) * self.esize
            ent = self._get(ephys)
            if not ent & 3:
                return -1
            path.append((table_pfn, ephys))
            if i == last:
                break
            table_pfn = self._next_table(ent, i) >> PAGE_SHIFT
        old = (self._get(path[-1][1]) & self.addr_mask) >> PAGE_SHIFT
        self._unlink(path)
        return old

    def _pte_table(self, vaddr: int, create: bool):
        """The last-level table for vaddr and the upper entries leading to it (or None)."""
        table_pfn = self.root
        path = []
        for i, lv in enumerate(self.levels[:-1]):
            ephys = (table_pfn << PAGE_SHIFT) + self._index(vaddr, lv) * self.esize
            ent = self._get(ephys)
            path.append((table_pfn, ephys))
            if ent & 3:
                table_pfn = self._next_table(ent, i) >> PAGE_SHIFT
                continue
            if not create:
                return None, path
            new = self._alloc_table()
            if new < 0:
                return None, path
            self._set(ephys, (new << PAGE_SHIFT) | self.table_entry)
            self.used[table_pfn] += 1
            table_pfn = new
        return table_pfn, path

    def map_range(self, vaddr: int, pfns: list[int], prot: int | None = None) -> int:
        """vmap_pages_range: map pfns at consecutive pages; returns how many were mapped."""
        lv = self.levels[-1]
        per = 1 << lv.bits
        es = self.esize
        prot = self.pte_kernel if prot is None else prot
        done = 0
        while done < len(pfns):
            va = vaddr + (done << PAGE_SHIFT)
            table_pfn, _path = self._pte_table(va, True)
            if table_pfn is None:
                return done
            idx = self._index(va, lv)
            n = min(len(pfns) - done, per - idx)
            start = (table_pfn << PAGE_SHIFT) + idx * es
            if any(self.mm[start:start + n * es]):
                raise AssertionError(f"vmap: {va:#x}.. is already mapped")
            self.mm[start:start + n * es] = b"".join(
                ((p << PAGE_SHIFT) | prot).to_bytes(es, "little") for p in pfns[done:done + n])
            self.used[table_pfn] += n
            done += n
        return done

    def unmap_range(self, vaddr: int, npages: int) -> None:
        """vunmap_range: clear npages PTEs from vaddr; free the tables left empty."""
        lv = self.levels[-1]
        per = 1 << lv.bits
        es = self.esize
        done = 0
        while done < npages:
            va = vaddr + (done << PAGE_SHIFT)
            idx = self._index(va, lv)
            n = min(npages - done, per - idx)
            done += n
            table_pfn, path = self._pte_table(va, False)
            if table_pfn is None:
                continue
            start = (table_pfn << PAGE_SHIFT) + idx * es
            raw = self.mm[start:start + n * es]
            cleared = sum(1 for j in range(0, n * es, es) if any(raw[j:j + es]))
            self.mm[start:start + n * es] = bytes(n * es)
            self.used[table_pfn] -= cleared
            if cleared and not self.used[table_pfn]:
                self._release(table_pfn, path)

    def _release(self, table_pfn: int, path) -> None:
        """Free an empty table and every ancestor it leaves empty (never the root)."""
        self._free_table(table_pfn)
        self._unlink(path)

    def _unlink(self, path) -> None:
        """Clear path's entries from the bottom up, freeing each table left empty (not the root)."""
        for table_pfn, ephys in reversed(path):
            self._set(ephys, 0)
            self.used[table_pfn] -= 1
            if self.used[table_pfn] or table_pfn == self.root:
                return
            self._free_table(table_pfn)

    def leaves(self):
        """Yield (vaddr, pfn) of every mapped page (for the debug checks)."""
        yield from self._leaves(self.root << PAGE_SHIFT, 0, 0)

    def _present(self, table: int, i: int) -> list[tuple[int, int]]:
        """(index, entry) of the present entries of a table at level i, in index order."""
        n = 1 << self.levels[i].bits
        ents = np.frombuffer(self.mm, dtype="<u8" if self.esize == 8 else "<u4", count=n, offset=table)
        idx = np.flatnonzero(ents & 3)
        return list(zip(idx.tolist(), ents[idx].tolist(), strict=True))

    def _leaves(self, table: int, i: int, base: int):
        lv = self.levels[i]
        last = len(self.levels) - 1
        for idx, ent in self._present(table, i):
            va = base | (idx << lv.shift)
            if i == last:
                yield self._canonical(va), (ent & self.addr_mask) >> PAGE_SHIFT
            else:
                yield from self._leaves(self._next_table(ent, i), i + 1, va)

    def _canonical(self, va: int) -> int:
        if self.machine == "x86_64" and va & (1 << 47):
            return va | 0xffff000000000000
        return va

    def table_frames(self):
        """pfns of every table frame reachable from the root (root included)."""
        out = {self.root}
        self._tables(self.root << PAGE_SHIFT, 0, out)
        return out

    def _tables(self, table: int, i: int, out: set) -> None:
        if i >= len(self.levels) - 1:
            return
        for _idx, ent in self._present(table, i):
            nt = self._next_table(ent, i)
            out.add(nt >> PAGE_SHIFT)
            self._tables(nt, i + 1, out)


def dump_pagetable(k, addr: int) -> str:
    """arch/x86/mm/fault.c dump_pagetable() for any kernel address: the vmalloc and
    module areas walk kmsim's real tables; the direct map and vmemmap, which kmsim
    does not map in tables, walk the tables a booted 6.1 has there (the direct map in
    2M pages, vmemmap in 2M pages of struct pages).  User addresses: 'PGD 0 P4D 0 '."""
    m = k.machine
    if m.name != "x86_64":
        return "*pde = 00000000 " if m.name == "i386" else f"[{addr:08x}] *pgd=00000000"
    if addr < 1 << 47:
        return "PGD 0 P4D 0 "
    pt = k.page_tables                                     # None while vmalloc_init runs
    if pt is not None and pt.walk(addr)[0].present:
        return pt.pgd_line(addr)
    top = k.lowmem_bytes >> PAGE_SHIFT
    if m.vmemmap_base <= addr < m.vmemmap_base + (1 << 39):
        pgd, pud = top - 0x5d8, top - 0x5d9       # two boot tables near the top of RAM
        span, base = k.memmap_pages << PAGE_SHIFT, m.vmemmap_base
    elif m.page_offset <= addr < m.page_offset + (1 << 39):
        pgd, pud = (m.kernel_phys >> PAGE_SHIFT) + 0x1a01, (m.kernel_phys >> PAGE_SHIFT) + 0x1a02
        span, base = k.phys_end, m.page_offset
    else:
        return "PGD 0 P4D 0 "
    off = addr - base
    line = f"PGD {pgd << PAGE_SHIFT | 0x067:x} P4D {pgd << PAGE_SHIFT | 0x067:x} "
    if off >> 30 > (span - 1) >> 30:
        return line + "PUD 0 "
    line += f"PUD {(pud + (off >> 30)) << PAGE_SHIFT | 0x067:x} "
    if off >= ((span + (1 << 21) - 1) & ~((1 << 21) - 1)):
        return line + "PMD 0 "
    return line + f"PMD {_PAGE_NX | (off & ~((1 << 21) - 1)) | 0x1e3:x} "
