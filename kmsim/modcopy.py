"""finit_module's copy of the module file: kernel_read_file and free_copy.

insmod (kmod 30) loads an uncompressed module with finit_module(2): the kernel reads
the whole file into a buffer it vmallocs (fs/kernel_read_file.c kernel_read_file:
``*buf = allocated = vmalloc(i_size)``), load_module works on that copy, and frees it
(kernel/module/main.c free_copy: ``vfree(info->hdr)``) once the module is laid out,
just before do_init_module runs the init function.  The copy's order-0 pages come off
the per-cpu list of the zone GFP_KERNEL uses (vm_area_alloc_pages ->
alloc_pages_bulk_array_mempolicy takes them from the list's head, refilling it with a
batch when it runs empty), and vfree (__vunmap) frees them one by one onto that list's
head again, the last page of the array on top: the pages an init's first order-0
allocations get.

A kmsim module is a source file, not a .ko: the copy is the source's size plus
``KO_IMAGE_BYTES`` for what the reference's .ko files hold besides their code.
"""
from __future__ import annotations

from pathlib import Path

from .mm.gfp import GFP_KERNEL
from .modsource import MAX_MODULE_SIZE, MODULE_SUFFIXES

__all__ = ["KO_IMAGE_BYTES", "ko_file_size", "kernel_read_file", "free_copy"]

# What a lab module's .ko holds that kmsim's source file has no counterpart for: ELF
# headers and section tables, symtab/strtab, .modinfo, __versions (modversions), and the
# DWARF of the kernel headers it includes (Debian's kbuild builds out-of-tree modules
# with CONFIG_DEBUG_INFO).  The reference does not print its .ko sizes; 320 KiB is
# fitted to transcript-zone4g.txt, where zone.ko's insmod took two batches (126 pages)
# from zone Normal's empty order-0 list: the copy and the module's memory are then
# between 64 and 126 pages (kmsim's zone_allocator.py: 81 + 4 + its page tables).
KO_IMAGE_BYTES = 320 << 10
_CALLER = "kernel_read_file+0x25c/0x2b0"


def ko_file_size(path: Path) -> int:
    """i_size of the module file insmod opens: the source's size plus KO_IMAGE_BYTES; 0
    for a file kmsim refuses before reading it (another extension, above MAX_MODULE_SIZE,
    unreadable: modsource), which is then not copied."""
    try:
        size = path.stat().st_size
    except (OSError, ValueError):
        return 0
    if path.suffix not in MODULE_SUFFIXES or size > MAX_MODULE_SIZE:
        return 0
    return size + KO_IMAGE_BYTES


def kernel_read_file(k, path: Path) -> int | None:
    """finit_module -> kernel_read_file: the address of the file's copy in a vmalloc'd
    buffer; 0 when vmalloc failed (finit_module returns -ENOMEM); None when not copied."""
    size = ko_file_size(path)
    if not size:
        return None
    return k.vmalloc.vmalloc(size, GFP_KERNEL, caller=_CALLER, hooks=False)


def free_copy(k, addr: int | None) -> None:
    """load_module's free_copy: vfree the copy (its pages back onto the pcp list)."""
    area = k.vmalloc.find_area(addr) if addr else None
    if area is not None:
        k.vmalloc.remove_vm_area(area)
