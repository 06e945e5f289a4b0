"""GFP flags: the kernel's bit values (6.1), their printed names, and the zone they select.

Values from include/linux/gfp_types.h of 6.1 (``___GFP_ATOMIC`` is 0x200 there);
names printed in the order of include/trace/events/mmflags.h, as ``%pGg`` does.
"""
from __future__ import annotations

___GFP_DMA = 0x01
___GFP_HIGHMEM = 0x02
___GFP_DMA32 = 0x04
___GFP_MOVABLE = 0x08
___GFP_RECLAIMABLE = 0x10
___GFP_HIGH = 0x20
___GFP_IO = 0x40
___GFP_FS = 0x80
___GFP_ZERO = 0x100
___GFP_ATOMIC = 0x200
___GFP_DIRECT_RECLAIM = 0x400
___GFP_KSWAPD_RECLAIM = 0x800
___GFP_WRITE = 0x1000
___GFP_NOWARN = 0x2000
___GFP_RETRY_MAYFAIL = 0x4000
___GFP_NOFAIL = 0x8000
___GFP_NORETRY = 0x10000
___GFP_MEMALLOC = 0x20000
___GFP_COMP = 0x40000
___GFP_NOMEMALLOC = 0x80000
___GFP_HARDWALL = 0x100000
___GFP_THISNODE = 0x200000
___GFP_ACCOUNT = 0x400000
___GFP_ZEROTAGS = 0x800000

__GFP_DMA = ___GFP_DMA
__GFP_HIGHMEM = ___GFP_HIGHMEM
__GFP_DMA32 = ___GFP_DMA32
__GFP_MOVABLE = ___GFP_MOVABLE
__GFP_RECLAIMABLE = ___GFP_RECLAIMABLE
__GFP_HIGH = ___GFP_HIGH
__GFP_IO = ___GFP_IO
__GFP_FS = ___GFP_FS
__GFP_ZERO = ___GFP_ZERO
__GFP_ATOMIC = ___GFP_ATOMIC
__GFP_DIRECT_RECLAIM = ___GFP_DIRECT_RECLAIM
__GFP_KSWAPD_RECLAIM = ___GFP_KSWAPD_RECLAIM
__GFP_RECLAIM = ___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM
__GFP_WRITE = ___GFP_WRITE
__GFP_NOWARN = ___GFP_NOWARN
__GFP_RETRY_MAYFAIL = ___GFP_RETRY_MAYFAIL
__GFP_NOFAIL = ___GFP_NOFAIL
__GFP_NORETRY = ___GFP_NORETRY
__GFP_MEMALLOC = ___GFP_MEMALLOC
__GFP_COMP = ___GFP_COMP
__GFP_NOMEMALLOC = ___GFP_NOMEMALLOC
__GFP_HARDWALL = ___GFP_HARDWALL
__GFP_THISNODE = ___GFP_THISNODE
__GFP_ACCOUNT = ___GFP_ACCOUNT
__GFP_ZEROTAGS = ___GFP_ZEROTAGS

GFP_ATOMIC = __GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM
GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS
GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT
GFP_NOWAIT = __GFP_KSWAPD_RECLAIM
GFP_NOIO = __GFP_RECLAIM
GFP_NOFS = __GFP_RECLAIM | __GFP_IO
GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL
GFP_DMA = __GFP_DMA
GFP_DMA32 = __GFP_DMA32
GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM
GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE
GFP_TRANSHUGE_LIGHT = (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM
GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM

GFP_ZONEMASK = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE

# include/trace/events/mmflags.h __def_gfpflag_names, 6.1 order
_GFP_NAMES = [
    ("GFP_TRANSHUGE", GFP_TRANSHUGE), ("GFP_TRANSHUGE_LIGHT", GFP_TRANSHUGE_LIGHT),
    ("GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE), ("GFP_HIGHUSER", GFP_HIGHUSER),
    ("GFP_USER", GFP_USER), ("GFP_KERNEL_ACCOUNT", GFP_KERNEL_ACCOUNT),
    ("GFP_KERNEL", GFP_KERNEL), ("GFP_NOFS", GFP_NOFS), ("GFP_ATOMIC", GFP_ATOMIC),
    ("GFP_NOIO", GFP_NOIO), ("GFP_NOWAIT", GFP_NOWAIT), ("GFP_DMA", GFP_DMA),
    ("__GFP_HIGHMEM", __GFP_HIGHMEM), ("GFP_DMA32", GFP_DMA32), ("__GFP_HIGH", __GFP_HIGH),
    ("__GFP_ATOMIC", __GFP_ATOMIC), ("__GFP_IO", __GFP_IO), ("__GFP_FS", __GFP_FS),
    ("__GFP_NOWARN", __GFP_NOWARN), ("__GFP_RETRY_MAYFAIL", __GFP_RETRY_MAYFAIL),
    ("__GFP_NOFAIL", __GFP_NOFAIL), ("__GFP_NORETRY", __GFP_NORETRY),
    ("__GFP_COMP", __GFP_COMP), ("__GFP_ZERO", __GFP_ZERO),
    ("__GFP_NOMEMALLOC", __GFP_NOMEMALLOC), ("__GFP_MEMALLOC", __GFP_MEMALLOC),
    ("__GFP_HARDWALL", __GFP_HARDWALL), ("__GFP_THISNODE", __GFP_THISNODE),
    ("__GFP_RECLAIMABLE", __GFP_RECLAIMABLE), ("__GFP_MOVABLE", __GFP_MOVABLE),
    ("__GFP_ACCOUNT", __GFP_ACCOUNT), ("__GFP_WRITE", __GFP_WRITE),
    ("__GFP_RECLAIM", __GFP_RECLAIM), ("__GFP_DIRECT_RECLAIM", __GFP_DIRECT_RECLAIM),
    ("__GFP_KSWAPD_RECLAIM", __GFP_KSWAPD_RECLAIM), ("__GFP_ZEROTAGS", __GFP_ZEROTAGS),
]

__all__ = [n for n in dir() if n.startswith(("GFP_", "__GFP_"))] + [
    "gfp_names", "format_gfp", "gfp_zone_name", "gfpflags_allow_blocking", "GFP_ZONEMASK"]


def gfp_names(gfp: int) -> str:
    """The flag names as %pGg prints them: 0xdc0 -> 'GFP_KERNEL|__GFP_ZERO'."""
    parts, rest = [], gfp
    for name, mask in _GFP_NAMES:
        if mask and (rest & mask) == mask:
            parts.append(name)
            rest &= ~mask
    if rest:
        parts.append(f"{rest:#x}")
    return "|".join(parts) if parts else "none"


def format_gfp(gfp: int) -> str:
    """'mode:%#x(%pGg)' as warn_alloc prints it: '0xcc0(GFP_KERNEL)'."""
    return f"{gfp:#x}({gfp_names(gfp)})"


def gfpflags_allow_blocking(gfp: int) -> bool:
    """True if the mask may sleep (direct reclaim allowed)."""
    return bool(gfp & __GFP_DIRECT_RECLAIM)


def gfp_zone_name(gfp: int, zone_names: list[str]) -> str | None:
    """The highest zone a mask allows, as gfp_zone does, among the zones that exist.

    Returns None for an invalid combination (GFP_ZONE_BAD).
    """
    zbits = gfp & (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32)
    if zbits & (zbits - 1):
        return None
    if zbits == __GFP_DMA:
        want = ["DMA"]
    elif zbits == __GFP_DMA32:
        want = ["DMA32", "Normal"]
    elif zbits == __GFP_HIGHMEM:
        want = ["HighMem", "Normal"]
    else:
        want = ["Normal"]
    for name in want:
        if name in zone_names:
            return name
    # OPT_ZONE_*: a zone the machine lacks maps to the highest lowmem zone it has
    lowmem = [z for z in zone_names if z != "HighMem"]
    return lowmem[-1] if lowmem else zone_names[0]
