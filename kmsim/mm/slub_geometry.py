"""A slab cache's geometry and the slub_debug= command line (mm/slub.c, mm/slab_common.c, 6.1).

``calculate_alignment`` and ``calculate_sizes`` lay an object out in its slot (red zones,
free pointer, tracks); ``calculate_order`` picks the slab's page order; the
``slub_debug=`` parsers give the debug flags each cache is created with.
"""
from __future__ import annotations

from ..machine import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE
from .slab import (
    MAX_OBJS_PER_PAGE,
    OBJECT_POISON,
    SLAB_CONSISTENCY_CHECKS,
    SLAB_FAILSLAB,
    SLAB_HWCACHE_ALIGN,
    SLAB_POISON,
    SLAB_RED_ZONE,
    SLAB_STORE_USER,
    SLAB_TRACE,
    SLAB_TYPESAFE_BY_RCU,
    SLUB_MAX_ORDER,
    TRACK_SIZE,
)

__all__ = ["calculate_alignment", "calculate_sizes", "calc_slab_order", "calculate_order",
           "parse_slub_debug", "parse_slub_debug_blocks", "slub_debug_match", "ARCH_SLAB_MINALIGN", "ALIGN"]

# -- geometry -------------------------------------------------------------------------------
def ALIGN(x: int, a: int) -> int:
    return (x + a - 1) & ~(a - 1)


# __alignof__(unsigned long long): 8 on x86_64, on i386 (GCC's preferred alignment) and on
# ARM (which defines it as 8 for 64-bit aligned slab pointers).
ARCH_SLAB_MINALIGN = 8


def calculate_alignment(flags: int, align: int, size: int, cache_line: int, ptr: int) -> int:
    """mm/slab_common.c calculate_alignment: HWCACHE_ALIGN halves the line while it fits twice."""
    if flags & SLAB_HWCACHE_ALIGN:
        ralign = cache_line
        while size <= ralign // 2:
            ralign //= 2
        align = max(align, ralign)
    align = max(align, ARCH_SLAB_MINALIGN)
    return ALIGN(align, ptr)


def calculate_sizes(object_size: int, align: int, flags: int, has_ctor: bool, ptr: int,
                    kmalloc: bool = False) -> dict:
    """mm/slub.c calculate_sizes: inuse, offset (free pointer), red_left_pad, size, flags."""
    size = ALIGN(object_size, ptr)
    if flags & SLAB_POISON and not flags & SLAB_TYPESAFE_BY_RCU and not has_ctor:
        flags |= OBJECT_POISON
    else:
        flags &= ~OBJECT_POISON
    if flags & SLAB_RED_ZONE and size == object_size:
        size += ptr
    inuse = size
    if (flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON) or has_ctor
            or (flags & SLAB_RED_ZONE and object_size < ptr)):
        offset = size
        size += ptr
    else:
        offset = (object_size // 2) & ~(ptr - 1)
    if flags & SLAB_STORE_USER:
        size += 2 * (TRACK_SIZE if ptr == 8 else 24)
        if kmalloc:
            size += 4
    red_left_pad = 0
    if flags & SLAB_RED_ZONE:
        size += ptr
        red_left_pad = ALIGN(ptr, align)
        size += red_left_pad
    size = ALIGN(size, align)
    return {"size": size, "inuse": inuse, "offset": offset, "red_left_pad": red_left_pad,
            "flags": flags}


def _get_order(size: int) -> int:
    return 0 if size <= PAGE_SIZE else ((size - 1) >> PAGE_SHIFT).bit_length()


def calc_slab_order(size: int, min_objects: int, max_order: int, fract_leftover: int) -> int:
    """mm/slub.c calc_slab_order (6.1)."""
    if (PAGE_SIZE // size) > MAX_OBJS_PER_PAGE:
        return _get_order(size * MAX_OBJS_PER_PAGE) - 1
    order = _get_order(min_objects * size)
    while order <= max_order:
        slab_size = PAGE_SIZE << order
        if slab_size % size <= slab_size // fract_leftover:
            break
        order += 1
    return order


def calculate_order(size: int, nr_cpus: int = 1, min_objects: int = 0,
                    max_order: int = SLUB_MAX_ORDER) -> int:
    """mm/slub.c calculate_order (6.1): the slab order for objects of size bytes, or -1."""
    if not min_objects:
        min_objects = 4 * (nr_cpus.bit_length() + 1)
    max_objects = (PAGE_SIZE << max_order) // size
    min_objects = min(min_objects, max_objects)
    while min_objects > 1:
        fraction = 16
        while fraction >= 4:
            order = calc_slab_order(size, min_objects, max_order, fraction)
            if order <= max_order:
                return order
            fraction //= 2
        min_objects -= 1
    order = calc_slab_order(size, 1, max_order, 1)
    if order <= max_order:
        return order
    order = calc_slab_order(size, 1, MAX_ORDER, 1)
    return order if order < MAX_ORDER else -1


def parse_slub_debug(text) -> tuple[int, set | None]:
    """slub_debug=[options[,slabs]]: (flags, cache names or None for all).  Bare = FZPU."""
    if text is True or text == "":
        return SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER, None
    opts, _comma, names = str(text).partition(",")
    flags = 0
    letters = {"f": SLAB_CONSISTENCY_CHECKS, "z": SLAB_RED_ZONE, "p": SLAB_POISON,
               "u": SLAB_STORE_USER, "t": SLAB_TRACE, "a": SLAB_FAILSLAB}
    if opts == "" and names:
        flags = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER
    for ch in opts.lower():
        if ch == "-":
            flags = 0
        elif ch in letters:
            flags |= letters[ch]
    sel = {n for n in names.split(",") if n} if names else None
    return flags, sel


_DEBUG_LETTERS = {"f": SLAB_CONSISTENCY_CHECKS, "z": SLAB_RED_ZONE, "p": SLAB_POISON,
                  "u": SLAB_STORE_USER, "t": SLAB_TRACE, "a": SLAB_FAILSLAB}
_DEBUG_DEFAULT = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER


def parse_slub_debug_blocks(text) -> tuple[int, list, list[str]]:
    """mm/slub.c:setup_slub_debug: (global flags, [(flags, [slab patterns])], unknown letters).

    Blocks are separated by ';', each 'options[,slab,slab...]'; an empty option list with
    slabs means full debugging for them; a pattern may end in '*'.  A single block with a
    slab list leaves the global flags alone (0), as the kernel's backward compatibility says."""
    if text is True or text == "":
        return _DEBUG_DEFAULT, [], []
    global_flags, blocks, unknown = 0, [], []
    for block in str(text).split(";"):
        if not block:
            continue
        opts, comma, names = block.partition(",")
        flags = _DEBUG_DEFAULT if (comma and opts == "") else 0
        for ch in opts:
            c = ch.lower()
            if c == "-":
                flags = 0
            elif c in _DEBUG_LETTERS:
                flags |= _DEBUG_LETTERS[c]
            elif c != "o":
                unknown.append(ch)
        if comma:
            blocks.append((flags, [n for n in names.split(",") if n]))
        else:
            global_flags = flags
    return global_flags, blocks, unknown


def slub_debug_match(blocks, name: str) -> int | None:
    """kmem_cache_flags: the flags of the first block whose slab list names this cache."""
    for flags, pats in blocks:
        for pat in pats:
            if (name.startswith(pat[:pat.index("*")]) if "*" in pat else name == pat):
                return flags
    return None

