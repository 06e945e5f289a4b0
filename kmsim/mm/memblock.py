"""What a booted x86_64 Linux 6.1 keeps of its RAM, and the boot log lines about it.

The layout is the reference kernel's (Debian 6.1.0-56-amd64 under QEMU,
../shared/reference/out/): the kernel image at 16 MiB with its sections
(14343K code, 2338K rwdata, 9132K rodata, 2824K init, 17344K bss), the struct
page array (mm_init.c calc_memmap_size, per zone), the dentry and inode hash
tables (alloc_large_system_hash), the swiotlb bounce buffer when RAM reaches above
4 GiB, the initrd, and what the kernel frees at the end of boot (free_initmem, the
initrd, the decrypted and SMP-alternatives sections: 13812K).  Everything else
early boot takes (percpu, page tables, ACPI ...) is one calibrated remainder that
makes MemTotal, the zones' managed pages, the watermarks and the lowmem protection
those of the reference at 512M and 4G.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..machine import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE
from . import gfp as G
from .buddy import MIGRATE_MOVABLE, calculate_min_free_kbytes
from .gfp import GFP_HIGHUSER_MOVABLE
from .physmem import PG_hole, PG_reserved

__all__ = ["BootLayout", "x86_64_layout", "calc_memmap_size", "hash_table", "IMAGE_KB",
           "first_deferred_pfn", "recommended_min_free_kbytes", "LATE_FREES"]

KB = 1024
# The reference kernel image (the Memory: line) and the gaps free_initmem releases
IMAGE_KB = {"code": 14343, "rwdata": 2338, "rodata": 9132, "init": 2824, "bss": 17344}
TEXT_RODATA_GAP_KB, RODATA_DATA_GAP_KB = 2040, 1108
# Freed at the end of boot, in the order the log shows them (kB)
LATE_FREES = [("Freeing SMP alternatives memory", 36), ("Freeing initrd memory", 5768),
              ("Freeing unused decrypted memory", 2036),
              ("Freeing unused kernel image (initmem) memory", IMAGE_KB["init"]),
              ("Freeing unused kernel image (text/rodata gap) memory", TEXT_RODATA_GAP_KB),
              ("Freeing unused kernel image (rodata/data gap) memory", RODATA_DATA_GAP_KB)]
SWIOTLB_PAGES = (64 << 20) >> PAGE_SHIFT     # IO_TLB_DEFAULT_SIZE
PERCPU_LOW_PAGES = 528                       # below 4G: the percpu first chunk (2M unit) and more
TOP_BASE_PAGES = 122                         # top-down early allocations at 512M ...
TOP_PER_PAGE = (195, 917504)                 # ... growing by 195 pages from 512M to 4G
EARLY_ALLOC_PAGES = 65                       # taken from the buddy lists before mem_init
PAGES_PER_SECTION = 1 << (27 - PAGE_SHIFT)   # SECTION_SIZE_BITS 27
PAGEBLOCK_NR_PAGES = 512                     # pageblock_order = HUGETLB_PAGE_ORDER (9)
INITRD_ADDR_MAX = 0x7fffffff                 # x86 boot protocol: the initrd is loaded below 2G
ROOTFS_SHMEM_KB = 14512                      # the reference's Shmem (and Cached): its initramfs


def _pages(kb: int) -> int:
    return (kb * KB + PAGE_SIZE - 1) >> PAGE_SHIFT


def calc_memmap_size(spanned: int, present: int) -> int:
    """mm/page_alloc.c calc_memmap_size: pages of struct page for a zone (SPARSEMEM)."""
    pages = present if spanned > present + (present >> 4) else spanned
    return (pages * 64 + PAGE_SIZE - 1) >> PAGE_SHIFT


def hash_table(nr_kernel_pages: int, scale: int, entry_size: int = 8) -> tuple[int, int, int]:
    """alloc_large_system_hash without a size hint: (entries, order, bytes)."""
    n = nr_kernel_pages >> (scale - PAGE_SHIFT) if scale > PAGE_SHIFT else nr_kernel_pages
    entries = 1 << max(n - 1, 1).bit_length()                 # roundup_pow_of_two
    size = entries * entry_size
    order = max(0, (size - 1).bit_length() - PAGE_SHIFT)
    return entries, order, size


def first_deferred_pfn(start: int) -> int:
    """defer_init: the highest zone initialises one section of pages at boot, then stops at
    the next section boundary (CONFIG_DEFERRED_STRUCT_PAGE_INIT)."""
    pfn = start + PAGES_PER_SECTION
    return (pfn + PAGES_PER_SECTION - 1) & ~(PAGES_PER_SECTION - 1)


def recommended_min_free_kbytes(zones, nr_free_buffer_pages: int) -> int:
    """mm/khugepaged.c set_recommended_min_free_kbytes: two free pageblocks a zone, plus
    MIGRATE_PCPTYPES^2 for fallbacks, at most 5% of lowmem."""
    nr_zones = sum(1 for z in zones if z.name in ("DMA", "DMA32", "Normal"))
    rec = PAGEBLOCK_NR_PAGES * nr_zones * 2 + PAGEBLOCK_NR_PAGES * nr_zones * 3 * 3
    return min(rec, nr_free_buffer_pages // 20) << (PAGE_SHIFT - 10)


@dataclass
class BootLayout:
    """Frames early boot keeps: `reserved` for good, `late` until the end of boot."""
    reserved: list[tuple[int, int, str]] = field(default_factory=list)
    late: list[tuple[int, int, str]] = field(default_factory=list)
    memmap_pages: int = 0
    hashes: list[tuple[str, int, int, int]] = field(default_factory=list)
    total_pages: int = 0             # 'Built 1 zonelists ... Total pages' (nr_kernel_pages)
    dma_reserve: int = 0


def x86_64_layout(k) -> BootLayout:
    """The reference kernel's memblock reservations for this machine's zones."""
    zones = k.buddy.zones
    lay = BootLayout()
    lay.reserved.append((1, 0x9f, "real mode/BIOS"))
    lay.dma_reserve = 0x9f - 1
    pfn = k.machine.kernel_phys >> PAGE_SHIFT
    for kb, label, late in ((IMAGE_KB["code"], "kernel code", False),
                            (TEXT_RODATA_GAP_KB, "kernel text/rodata gap", True),
                            (IMAGE_KB["rodata"], "kernel rodata", False),
                            (RODATA_DATA_GAP_KB, "kernel rodata/data gap", True),
                            (IMAGE_KB["rwdata"], "kernel rwdata", False),
                            (IMAGE_KB["init"], "kernel init", True),
                            (IMAGE_KB["bss"], "kernel bss", False),
                            (2036, "decrypted", True), (36, "SMP alternatives", True)):
        n = _pages(kb)
        (lay.late if late else lay.reserved).append((pfn, pfn + n, label))
        pfn += n
    lay.reserved.append((pfn, pfn + PERCPU_LOW_PAGES, "boot allocations"))
    lay.memmap_pages = sum(calc_memmap_size(z.spanned, z.present) for z in zones)
    lay.total_pages = sum(z.present - calc_memmap_size(z.spanned, z.present) for z in zones) \
        - lay.dma_reserve
    top = k.phys_end >> PAGE_SHIFT
    low_top = min(top, k.phys_holes[0][0] if k.phys_holes else top)
    initrd = _pages(5768)
    irtop = min(low_top, (INITRD_ADDR_MAX + 1) >> PAGE_SHIFT)
    lay.late.append((irtop - initrd, irtop, "initrd"))
    if irtop == top:
        top -= initrd
    if top > 1 << (32 - PAGE_SHIFT):                     # swiotlb: memblock_alloc_low
        lay.reserved.append((low_top - SWIOTLB_PAGES, low_top, "swiotlb"))
    lay.reserved.append((top - lay.memmap_pages, top, "mem_map"))
    top -= lay.memmap_pages
    for name, scale in (("Dentry cache", 13), ("Inode-cache", 14)):
        entries, order, size = hash_table(lay.total_pages, scale)
        lay.hashes.append((name, entries, order, size))
        lay.reserved.append((top - (size >> PAGE_SHIFT), top, f"{name} hash table"))
        top -= size >> PAGE_SHIFT
    present = sum(z.present for z in zones)
    rest = TOP_BASE_PAGES + max(0, present - 130942) * TOP_PER_PAGE[0] // TOP_PER_PAGE[1]
    lay.reserved.append((top - rest, top, "boot allocations"))
    return lay


# -- boot steps (Kernel._boot calls these on x86_64) -------------------------------------
def memblock_reserved(k) -> list[tuple[int, int, int]]:
    """The reservations as (start, end, owner id), the late ones included (they are freed
    by free_initmem once the watermarks are set, as the kernel's are)."""
    for start, end in k.phys_holes:
        k.buddy.mark_hole(start, end)
    k.buddy.mark_hole(0, 1)
    k.buddy.mark_hole(0x9f, 0x100)
    lay = x86_64_layout(k)
    k.boot_layout = lay
    k.memmap_pages = lay.memmap_pages
    owners: dict[str, int] = {}
    out = []
    for start, end, label in lay.reserved + lay.late:
        kind = "memmap" if label == "mem_map" else "reserved"
        if label not in owners:
            owners[label] = k.register_owner(kind, label)
        out.append((start, end, owners[label]))
    return out


def boot_messages_nodes(k) -> None:
    """free_area_init's lines after 'Zone ranges:' (x86_64, one node)."""
    p = k.printk
    p.emit(6, "  Device   empty")
    p.emit(6, "Movable zone start for each node")
    p.emit(6, "Early memory node ranges")
    top = k.phys_end >> PAGE_SHIFT
    ranges = [(1, 0x9f)]
    low_end = k.phys_holes[0][0] if k.phys_holes else top
    ranges.append((0x100, low_end))
    if k.phys_holes:
        ranges.append((k.phys_holes[0][1], top))
    for a, b in ranges:
        p.emit(6, f"  node   0: [mem {a << PAGE_SHIFT:#018x}-{(b << PAGE_SHIFT) - 1:#018x}]")
    p.emit(6, f"Initmem setup node 0 [mem {1 << PAGE_SHIFT:#018x}-{(top << PAGE_SHIFT) - 1:#018x}]")
    last = k.buddy.zones[-1].name
    p.emit(6, "On node 0, zone DMA: 1 pages in unavailable ranges")
    p.emit(6, "On node 0, zone DMA: 97 pages in unavailable ranges")
    tail = -low_end % PAGES_PER_SECTION         # up to the end of the section RAM stops in
    if tail:
        p.emit(6, f"On node 0, zone {last}: {tail} pages in unavailable ranges")


def boot_messages_memory(k) -> None:
    """The lines of mm_init: zonelists, the command line, the hash tables, mem_init."""
    lay, p = k.boot_layout, k.printk
    p.emit(6, "Fallback order for Node 0: 0 ")
    p.emit(6, f"Built 1 zonelists, mobility grouping on.  Total pages: {lay.total_pages}")
    p.emit(5, f"Kernel command line: {k.kernel_cmdline}")
    for name, entries, order, size in lay.hashes:
        p.emit(6, f"{name} hash table entries: {entries} (order: {order}, {size} bytes, linear)")
    p.emit(6, "mem auto-init: stack:all(zero), heap alloc:"
              f"{'on' if k.buddy.init_on_alloc else 'off'}, heap free:off")
    zones = k.buddy.zones
    present = sum(z.present for z in zones)
    managed = sum(z.managed for z in zones)
    last = zones[-1]
    deferred = 0
    start = first_deferred_pfn(last.zone_start_pfn)
    if start < last.end_pfn:
        flags = k.phys.flags[start:last.end_pfn]
        deferred = int(((flags & (PG_reserved | PG_hole)) == 0).sum())
    avail = managed - deferred - EARLY_ALLOC_PAGES
    kb = PAGE_SIZE >> 10
    i = IMAGE_KB
    p.emit(6, f"Memory: {avail * kb}K/{present * kb}K available ({i['code']}K kernel code, "
              f"{i['rwdata']}K rwdata, {i['rodata']}K rodata, {i['init']}K init, {i['bss']}K bss, "
              f"{(present - managed) * kb}K reserved, 0K cma-reserved)")


def boot_memory_late(k) -> None:
    """hugepage_init -> set_recommended_min_free_kbytes: with transparent hugepages (not
    below 512M of RAM), khugepaged raises min_free_kbytes and the watermarks follow."""
    b = k.buddy
    totalram = sum(z.managed for z in b.zones)
    if k.machine.name != "x86_64" or totalram < (512 << 20) >> PAGE_SHIFT:
        return
    rec = recommended_min_free_kbytes(b.zones, b.nr_free_buffer_pages())
    lowmem = sum(z.managed for z in b.zones if not z.is_highmem)
    if rec > calculate_min_free_kbytes(lowmem):
        b.setup_min_free_kbytes(rec)


def populate_rootfs(k) -> int:
    """init/initramfs.c: the initramfs unpacked into rootfs, a tmpfs, before the initrd is
    freed: shmem page cache (order-0 Movable pages, as GFP_HIGHUSER_MOVABLE takes them
    from the zones above their low watermark) the size of the reference's Shmem.  Taken in
    bulk (alloc_pages_bulk) unless an allocation hook (KASAN, kmemleak) must see each page.
    Returns the pages it holds."""
    b = k.buddy
    owner = k.register_owner("kernel", "rootfs (the unpacked initramfs)")
    need = _pages(ROOTFS_SHMEM_KB)
    gfp = GFP_HIGHUSER_MOVABLE | G.__GFP_NOWARN | G.__GFP_NORETRY
    got: list[int] = []
    if b.alloc_hooked:
        prev, k.current_owner = k.current_owner, owner
        try:
            while len(got) < need and (pfn := b.alloc(gfp, 0)) >= 0:
                got.append(pfn)
        finally:
            k.current_owner = prev
    else:
        for z in b.zonelists[gfp & 0x7]:
            while len(got) < need and z.nr_free > z.wmark_low:
                # __rmqueue's order-0 requests split the smallest Movable block page by
                # page, in pfn order: a whole block that fits is the same pages at once
                c = next((o for o in range(MAX_ORDER) if z.free_list[o][MIGRATE_MOVABLE]), MAX_ORDER)
                if c < MAX_ORDER and len(got) + (1 << c) <= need and z.nr_free - (1 << c) > z.wmark_low:
                    pfn = z.rmqueue_smallest(c, MIGRATE_MOVABLE)
                    got.extend(range(pfn, pfn + (1 << c)))
                    continue
                pfn = z.rmqueue_buddy(0, MIGRATE_MOVABLE)
                if pfn < 0:
                    break
                got.append(pfn)
        pfns = np.array(got, np.int64)
        k.phys.refcount[pfns] = 1
        k.phys.order[pfns] = 0
        k.phys.owner[pfns] = owner
    for pfn in got:
        zone = b.zone_of(pfn)
        if zone is not None:
            zone.nr_shmem += 1
    for z in b.zones:
        z.lru_owners.add(owner)        # PageLRU: move_freepages_block counts them movable
    return len(got)


def free_initmem(k) -> None:
    """The end of boot: the initramfs unpacked into rootfs, then the initrd and the
    kernel's init sections go to the buddy lists."""
    lay = k.boot_layout
    if lay is None:
        return
    k.shmem_pages = populate_rootfs(k)
    for start, end, _label in lay.late:
        k.buddy.free_reserved_area(start, end)
    for text, kb in LATE_FREES:
        k.printk.emit(6, f"{text}: {kb}K")
