"""Machine profiles: zones, address layout, page-table format, pointer size.

A profile is plain data.  ``Kernel`` boots one; every subsystem reads its layout
from here, never from constants of its own, so that the same allocator code runs
on the 64-bit PC, the 32-bit PC with HighMem and the Raspberry Pi 2.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
MAX_ORDER = 11            # 6.1: exclusive, legal orders are 0..10
MiB = 1 << 20
GiB = 1 << 30

__all__ = ["Machine", "ZoneSpec", "PTLevel", "PROFILES", "get_profile", "parse_size",
           "PAGE_SHIFT", "PAGE_SIZE", "MAX_ORDER"]


@dataclass(frozen=True)
class ZoneSpec:
    """A zone's name and the physical address where it ends (None: end of RAM)."""
    name: str
    end: int | None


@dataclass(frozen=True)
class PTLevel:
    """One level of the page tables: its name, the shift of its index and its width."""
    name: str
    shift: int
    bits: int


@dataclass(frozen=True)
class Machine:
    """A simulated machine: everything that differs between architectures."""
    name: str
    ptr_size: int
    page_offset: int                 # start of the direct (linear) map
    zones: tuple[ZoneSpec, ...]      # populated in this order, lowest first
    lowmem_limit: int | None         # physical bytes the direct map can reach
    vmalloc_offset: int              # gap between the end of lowmem and VMALLOC_START
    vmalloc_start_fixed: int | None  # VMALLOC_START when it does not depend on RAM
    vmalloc_end: int
    modules_vaddr: int
    modules_end: int
    vmemmap_base: int                # where struct pages "live" (for %px of a page)
    pkmap_base: int | None           # HighMem kmap window (32-bit only)
    last_pkmap: int
    pt_levels: tuple[PTLevel, ...]   # highest level first
    pte_size: int                    # bytes per page-table entry
    cache_line: int
    kernel_phys: int                 # where the kernel image is loaded
    kernel_image_size: int
    hardware: str
    utsname_machine: str
    zone_names_all: tuple[str, ...] = field(default=())  # zoneinfo lists empty ones too
    max_mem: int | None = None       # most RAM the profile can address (32-bit), or None
    max_mem_why: str = ""

    @property
    def bits(self) -> int:
        """Pointer width in bits."""
        return self.ptr_size * 8

    @property
    def addr_mask(self) -> int:
        """Mask of a virtual address (and of an unsigned long)."""
        return (1 << self.bits) - 1

    def vmalloc_start(self, lowmem_bytes: int) -> int:
        """VMALLOC_START for a machine whose direct map covers lowmem_bytes."""
        if self.vmalloc_start_fixed is not None:
            return self.vmalloc_start_fixed
        start = self.page_offset + lowmem_bytes + self.vmalloc_offset
        return (start + self.vmalloc_offset - 1) & ~(self.vmalloc_offset - 1)


_X86_64 = Machine(
    name="x86_64", ptr_size=8, page_offset=0xffff888000000000,
    zones=(ZoneSpec("DMA", 16 * MiB), ZoneSpec("DMA32", 4 * GiB), ZoneSpec("Normal", None)),
    lowmem_limit=None, vmalloc_offset=0,
    vmalloc_start_fixed=0xffffc90000000000, vmalloc_end=0xffffe8ffffffffff,
    modules_vaddr=0xffffffffc0000000, modules_end=0xfffffffffeffffff,
    vmemmap_base=0xffffea0000000000, pkmap_base=None, last_pkmap=0,
    # 47-bit address: |PGD 47..39|PUD 38..30|PMD 29..21|PTE 20..12|offset 11..0|
    pt_levels=(PTLevel("PGD", 39, 9), PTLevel("P4D", 39, 0), PTLevel("PUD", 30, 9),
               PTLevel("PMD", 21, 9), PTLevel("PTE", 12, 9)),
    pte_size=8, cache_line=64, kernel_phys=16 * MiB, kernel_image_size=28 * MiB,
    hardware="kmsim Standard PC (x86_64), BIOS kmsim 04/01/2014", utsname_machine="x86_64",
    zone_names_all=("DMA", "DMA32", "Normal", "Movable", "Device"),
)

_I386 = Machine(
    name="i386", ptr_size=4, page_offset=0xC0000000,
    zones=(ZoneSpec("DMA", 16 * MiB), ZoneSpec("Normal", 896 * MiB), ZoneSpec("HighMem", None)),
    lowmem_limit=896 * MiB, vmalloc_offset=8 * MiB,
    vmalloc_start_fixed=None, vmalloc_end=0xff7fe000,
    modules_vaddr=0, modules_end=0,   # i386 loads modules into vmalloc space
    vmemmap_base=0xf6000000, pkmap_base=0xff800000, last_pkmap=1024,
    # non-PAE: |PGD 31..22|PTE 21..12|offset 11..0|
    pt_levels=(PTLevel("PGD", 22, 10), PTLevel("PTE", 12, 10)),
    pte_size=4, cache_line=64, kernel_phys=16 * MiB, kernel_image_size=12 * MiB,
    hardware="kmsim Standard PC (i386), BIOS kmsim 04/01/2014", utsname_machine="i686",
    zone_names_all=("DMA", "Normal", "HighMem", "Movable"),
    max_mem=4 * 1024 * MiB, max_mem_why="a non-PAE kernel addresses 4G of physical memory",
)

_RPI2 = Machine(
    name="rpi2", ptr_size=4, page_offset=0x80000000,
    zones=(ZoneSpec("Normal", None),),
    lowmem_limit=None, vmalloc_offset=8 * MiB,
    vmalloc_start_fixed=None, vmalloc_end=0xff800000,
    modules_vaddr=0x7f000000, modules_end=0x7fffffff,
    vmemmap_base=0xbf000000, pkmap_base=None, last_pkmap=0,
    # ARM short descriptors: |L1 31..20|L2 19..12|offset 11..0|
    pt_levels=(PTLevel("PGD", 20, 12), PTLevel("PTE", 12, 8)),
    pte_size=4, cache_line=64, kernel_phys=32 * 1024, kernel_image_size=10 * MiB,
    hardware="BCM2835 (Raspberry Pi 2 Model B, simulated)", utsname_machine="armv7l",
    zone_names_all=("Normal", "Movable"),
    # 2G/2G split without HighMem: lowmem ends where the 240M vmalloc minimum begins
    max_mem=1792 * MiB, max_mem_why="its one Normal zone is the lowmem of a 2G/2G split",
)

PROFILES = {m.name: m for m in (_X86_64, _I386, _RPI2)}


def get_profile(name: str) -> Machine:
    """Return the profile called name, or raise ValueError listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown machine '{name}' (known: {', '.join(PROFILES)})") from None


def parse_size(text: str) -> int:
    """Parse a memory size as the kernel's memparse does: 64M, 1G, 16G, 524288K, 4096."""
    t = str(text).strip()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    suffix = t[-1:].upper()
    if suffix == "B" and len(t) > 1 and t[-2:-1].upper() in mult:
        t, suffix = t[:-1], t[-2:-1].upper()
    try:
        if suffix in mult:
            return int(t[:-1], 0) * mult[suffix]
        return int(t, 0)
    except ValueError:
        raise ValueError(f"invalid size '{text}'") from None
