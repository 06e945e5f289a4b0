"""Slab caches' structures and flags: struct slab and struct kmem_cache (mm/slab.h,
include/linux/slub_def.h), the SLAB_* flags (include/linux/slab.h) and poison values
(include/linux/poison.h), and the hardened free pointer (mm/slub.c freelist_ptr).

The allocator is ``mm/slub.py``; its geometry and ``slub_debug=`` parsing are
``mm/slub_geometry.py``; the debug checks and reports are ``mm/slub_debug.py``.
"""
from __future__ import annotations

import functools
import mmap
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..machine import PAGE_SIZE

if TYPE_CHECKING:                      # type-only: slub.py builds these structures
    from .slub import Slub

__all__ = ["Slab", "KmemCache", "Track", "get_freepointer", "set_freepointer", "freelist_ptr", "swab",
           "SLAB_CONSISTENCY_CHECKS", "SLAB_RED_ZONE", "SLAB_POISON", "SLAB_KMALLOC",
           "SLAB_HWCACHE_ALIGN", "SLAB_CACHE_DMA", "SLAB_CACHE_DMA32", "SLAB_STORE_USER",
           "SLAB_RECLAIM_ACCOUNT", "SLAB_PANIC", "SLAB_TYPESAFE_BY_RCU", "SLAB_MEM_SPREAD",
           "SLAB_TRACE", "SLAB_DEBUG_OBJECTS", "SLAB_NOLEAKTRACE", "SLAB_FAILSLAB",
           "SLAB_ACCOUNT", "SLAB_KASAN", "SLAB_NO_USER_FLAGS", "SLAB_SKIP_KFENCE",
           "SLAB_TEMPORARY", "SLAB_FLAGS_PERMITTED", "OBJECT_POISON", "SLAB_DEBUG_FLAGS",
           "SLAB_NEVER_MERGE", "SLAB_MERGE_SAME", "POISON_INUSE", "POISON_FREE",
           "POISON_END", "SLUB_RED_INACTIVE", "SLUB_RED_ACTIVE", "MAX_OBJS_PER_PAGE",
           "SLUB_MAX_ORDER", "TRACK_SIZE"]

# include/linux/slab.h (6.1 values)
SLAB_CONSISTENCY_CHECKS = 0x100
SLAB_RED_ZONE = 0x400
SLAB_POISON = 0x800
SLAB_KMALLOC = 0x1000
SLAB_HWCACHE_ALIGN = 0x2000
SLAB_CACHE_DMA = 0x4000
SLAB_CACHE_DMA32 = 0x8000
SLAB_STORE_USER = 0x10000
SLAB_RECLAIM_ACCOUNT = 0x20000
SLAB_PANIC = 0x40000
SLAB_TYPESAFE_BY_RCU = 0x80000
SLAB_MEM_SPREAD = 0x100000
SLAB_TRACE = 0x200000
SLAB_DEBUG_OBJECTS = 0x400000
SLAB_NOLEAKTRACE = 0x800000
SLAB_FAILSLAB = 0x2000000
SLAB_ACCOUNT = 0x4000000
SLAB_KASAN = 0x8000000
SLAB_NO_USER_FLAGS = 0x10000000
SLAB_SKIP_KFENCE = 0x20000000
SLAB_TEMPORARY = SLAB_RECLAIM_ACCOUNT
# mm/slab.h (6.1): what kmem_cache_create accepts; anything else is -EINVAL.
SLAB_FLAGS_PERMITTED = (SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_PANIC
                        | SLAB_TYPESAFE_BY_RCU | SLAB_DEBUG_OBJECTS | SLAB_RED_ZONE | SLAB_POISON
                        | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS | SLAB_MEM_SPREAD
                        | SLAB_NOLEAKTRACE | SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT | SLAB_NO_USER_FLAGS)
OBJECT_POISON = 0x80000000           # __OBJECT_POISON (mm/slub.c internal)

SLAB_DEBUG_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS
SLAB_NEVER_MERGE = (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_TYPESAFE_BY_RCU
                    | SLAB_NOLEAKTRACE | SLAB_FAILSLAB | SLAB_KASAN)
SLAB_MERGE_SAME = SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_ACCOUNT

# include/linux/poison.h
POISON_INUSE = 0x5a
POISON_FREE = 0x6b
POISON_END = 0xa5
SLUB_RED_INACTIVE = 0xbb
SLUB_RED_ACTIVE = 0xcc

MAX_OBJS_PER_PAGE = 32767
SLUB_MAX_ORDER = 3                    # PAGE_ALLOC_COSTLY_ORDER
TRACK_SIZE = 32                       # struct track with STACKDEPOT on 64-bit


def swab(x: int, ptr: int) -> int:
    return int.from_bytes(x.to_bytes(ptr, "little"), "big")



class Slab:
    """struct slab: a block of pages cut into objects; freelist[-1] is the head.

    The list is the chain of free pointers from the head.  ``lost`` counts the objects that
    are neither on that chain nor counted in slab->inuse: a free pointer zapped to NULL in
    the middle of the chain (a double free's slab_free_freelist_hook, "Freechain corrupt")
    cuts the rest off, and only on_freelist's "Object count adjusted" counts them again."""
    __slots__ = ("cache", "pfn", "order", "base", "freelist", "objects", "where", "id", "span",
                 "keys", "lost", "bad_head")

    def __init__(self, cache: KmemCache, pfn: int, base: int, sid: int, keys: array | None = None):
        self.cache = cache
        self.pfn = pfn
        self.order = cache.order
        self.base = base
        self.span = PAGE_SIZE << cache.order
        # per object: s->random ^ swab(address of its free pointer); given when set up in bulk
        self.keys = _fp_keys(cache, base) if keys is None else keys
        self.freelist: list[int] = []
        self.objects = cache.objects
        self.where = ""
        self.id = sid
        self.lost = 0
        self.bad_head: int | None = None   # slab->freelist read from a corrupt free pointer (an alloc)

    @property
    def inuse(self) -> int:
        """slab->inuse: the objects the slab counts as allocated."""
        return self.objects - len(self.freelist) - self.lost

    def cut_chain(self, x: int) -> None:
        """x's free pointer is NULL now: the chain ends at x (the objects after it are lost)."""
        fl = self.freelist
        if x in fl:
            i = fl.index(x)
            self.lost += i
            del fl[:i]


def _fp_keys(s: KmemCache, base: int) -> array:
    """s->random ^ swab(fp address) of every object of a slab at base, at once (numpy)."""
    dt: Any = np.uint64 if s.ptr == 8 else np.uint32     # Any: numpy's stubs cannot type it
    addrs = _object_offsets(s.objects, s.size, s.ptr) + dt(base + s.red_left_pad + s.offset)
    return array("Q" if s.ptr == 8 else "I", (addrs.byteswap() ^ dt(s.random)).tobytes())


def fp_keys_of_slabs(s: KmemCache, bases: list[int]) -> list[array]:
    """_fp_keys of many slabs of a cache (at those base addresses) in one numpy pass."""
    dt: Any = np.uint64 if s.ptr == 8 else np.uint32     # Any: numpy's stubs cannot type it
    first = np.asarray(bases, dtype=dt) + dt(s.red_left_pad + s.offset)
    addrs = _object_offsets(s.objects, s.size, s.ptr) + first[:, None]
    keys = (addrs.byteswap() ^ dt(s.random)).tobytes()
    code, row = ("Q" if s.ptr == 8 else "I"), s.objects * s.ptr
    return [array(code, keys[i * row:(i + 1) * row]) for i in range(len(bases))]


@functools.cache
def _object_offsets(objects: int, size: int, ptr: int) -> np.ndarray:
    """The objects' offsets in a slab (read-only; shared by every slab of that geometry: a boot
    sets up thousands of slabs, and building this array was half of each one's keys)."""
    dt: Any = np.uint64 if ptr == 8 else np.uint32
    offs = np.arange(objects, dtype=dt) * dt(size)
    offs.flags.writeable = False
    return offs


# One set_track record: where (module frame), pid, when (ns), the stack.
Track = tuple[str, int, int, list[str]]


@dataclass(slots=True, eq=False, repr=False)
class KmemCache:
    """struct kmem_cache: the geometry calculate_sizes gives, the slab lists, and the
    flags the fast paths test (``fast``, ``init``, ``zgfp``) precomputed once."""
    slub: Slub
    name: str
    object_size: int
    flags: int
    ctor: Callable[[int], object] | None
    ptr: int                                  # sizeof(void *) of the machine
    mm: mmap.mmap                             # simulated RAM
    mvw: memoryview                           # RAM as machine words
    po: int                                   # PAGE_OFFSET
    align: int = 0
    size: int = 0                             # the slot: object, red zones, free pointer, tracks
    inuse: int = 0                            # the object and its right red zone
    offset: int = 0                           # of the free pointer from the object
    red_left_pad: int = 0
    order: int = 0
    objects: int = 0                          # per slab
    random: int = 0                           # s->random (SLAB_FREELIST_HARDENED)
    random_seq: list[int] = field(default_factory=list)    # freelist_randomize's sequence
    refcount: int = 1
    aliases: list[str] = field(default_factory=list)        # merged caches' names
    alias_of: KmemCache | None = None
    owner: int = 0                            # owner id of the cache's pages and objects
    min_partial: int = 5
    cpu_partial: int = 0
    cpu_slab: Slab | None = None
    cpu_freelist: list[int] = field(default_factory=list)   # the cpu slab's freelist
    partial: dict[Slab, None] = field(default_factory=dict)  # ordered sets of slabs
    full: dict[Slab, None] = field(default_factory=dict)
    debug: bool = False                       # any SLUB debug flag
    checks: bool = False                      # SLAB_CONSISTENCY_CHECKS
    poison: bool = False                      # __OBJECT_POISON
    redzone: bool = False
    store_user: bool = False
    fast: bool = False                        # the fast paths may serve this cache now
    leak: Callable[..., None] | None = None   # kmemleak's record, while module code runs
    leak_objects: dict[int, int] = field(default_factory=dict)  # kmemleak's objects, or an empty dict
    init: bool = False                        # init_on_alloc zeroes every object
    zgfp: int = 0                             # the GFP bit that zeroes (0: none does)
    fpbase: int = 0                           # PAGE_OFFSET - offset: free pointer word index base
    wshift: int = 3                           # log2(ptr)
    zeros: bytes = b""                        # object_size zero bytes
    tracks: dict[int, list[Track | None]] = field(default_factory=dict)   # SLAB_STORE_USER
    kmalloc: bool = False
    usersize: int = 0
    mergeable: bool = True
    module: Any = None                        # the loader's Module that created it, or None
    ctor_name: str | None = None
    hint_printed: bool = False
    alive: bool = True
    destroy_failed: bool = False

    def __repr__(self) -> str:
        return f"<struct kmem_cache '{self.name}' size={self.size}>"

    @property
    def debug_any(self) -> bool:
        """kmem_cache_debug(s): any SLUB debug flag."""
        return bool(self.flags & SLAB_DEBUG_FLAGS)

    def slabs(self) -> list[Slab]:
        """Every slab of the cache (cpu, partial, full)."""
        out = list(self.partial) + list(self.full)
        if self.cpu_slab is not None:
            out.append(self.cpu_slab)
        return out

    def object_index_ok(self, sl: Slab, x: int) -> bool:
        """check_valid_pointer: x is the start of one of the slab's objects."""
        off = x - sl.base - self.red_left_pad
        return off >= 0 and off % self.size == 0 and off // self.size < sl.objects


def freelist_ptr(s: KmemCache, x: int, nxt: int) -> bytes:
    """freelist_ptr: ptr ^ s->random ^ swab(ptr_addr) (SLAB_FREELIST_HARDENED), as stored."""
    return (nxt ^ s.random ^ swab(x + s.offset, s.ptr)).to_bytes(s.ptr, "little")


def get_freepointer(s: KmemCache, x: int) -> int:
    """get_freepointer: the decoded free pointer stored in object x."""
    o = x + s.offset - s.po
    raw = int.from_bytes(s.mm[o:o + s.ptr], "little")
    return raw ^ s.random ^ swab(x + s.offset, s.ptr)


def set_freepointer(s: KmemCache, x: int, nxt: int) -> None:
    """set_freepointer: store the hardened free pointer in the object's bytes."""
    o = x + s.offset - s.po
    s.mm[o:o + s.ptr] = freelist_ptr(s, x, nxt & ((1 << (8 * s.ptr)) - 1))
