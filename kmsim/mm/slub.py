"""SLUB: slab caches as mm/slub.c (6.1) lays them out, allocates and checks them.

Objects live in the simulated RAM.  A cache's geometry comes from
``calculate_sizes``/``calculate_order``; a slab is a block of pages from the
buddy allocator (PG_slab, owned by the cache); its free objects are a Python
list of addresses (the top is the freelist head) and each free object also
holds the hardened free pointer in its own bytes, so ``x ADDR`` shows it.  Poison
and red zones are real bytes.  Non-debug caches allocate from a per-cpu slab
(the fast path is a list pop/append); debug caches go through
alloc/free_debug_processing and report corruption in SLUB's format.
"""
from __future__ import annotations

from array import array

import numpy as np

from ..errors import KernelBUG, PageFault
from ..machine import MAX_ORDER, PAGE_SHIFT, PAGE_SIZE
from ..report import TAINT_BAD_PAGE, format_frame, module_frames
from . import gfp as G
from .hooks import HookList
from .physmem import PG_slab

__all__ = ["Slub", "KmemCache", "Slab", "kmem_cache_init", "kmem_cache_alloc", "kmem_cache_free",
           "calculate_sizes", "calculate_order", "parse_slub_debug",
           "SLAB_CONSISTENCY_CHECKS", "SLAB_RED_ZONE", "SLAB_POISON", "SLAB_KMALLOC",
           "SLAB_HWCACHE_ALIGN", "SLAB_CACHE_DMA", "SLAB_CACHE_DMA32", "SLAB_STORE_USER",
           "SLAB_RECLAIM_ACCOUNT", "SLAB_PANIC", "SLAB_TYPESAFE_BY_RCU", "SLAB_MEM_SPREAD",
           "SLAB_TRACE", "SLAB_DEBUG_OBJECTS", "SLAB_NOLEAKTRACE", "SLAB_FAILSLAB",
           "SLAB_ACCOUNT", "SLAB_KASAN", "SLAB_NO_USER_FLAGS", "SLAB_SKIP_KFENCE",
           "SLAB_TEMPORARY", "POISON_INUSE", "POISON_FREE", "POISON_END",
           "SLUB_RED_INACTIVE", "SLUB_RED_ACTIVE"]

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
_OBJECT_POISON = 0x80000000          # __OBJECT_POISON (mm/slub.c internal)

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
_GFP_ZERO = getattr(G, "__GFP_ZERO")
_GFP_NOWARN = getattr(G, "__GFP_NOWARN")
_GFP_NOFAIL = getattr(G, "__GFP_NOFAIL")
_GFP_NORETRY = getattr(G, "__GFP_NORETRY")
_GFP_DMA = getattr(G, "__GFP_DMA")
_GFP_DMA32 = getattr(G, "__GFP_DMA32")
_BANNER = "=" * 77
_DASHES = "-" * 77
# Return addresses in check_object of each check_bytes_and_report/object_err call (the
# kernel's own for Right Redzone and Poison, from the reference transcripts; the others
# placed in source order between them).
_CHECK_OBJECT_RET = {"Left Redzone": 0x16f, "Right Redzone": 0x1a1, "Alignment padding": 0x1d4,
                     "Poison": 0x22b, "End Poison": 0x24e, "Object padding": 0x25d,
                     "Freepointer corrupt": 0x26c}
_ALLOC_FRAMES = ["alloc_debug_processing+0xa8/0x120", "get_partial_node.part.0+0x256/0x400",
                 "___slab_alloc+0x6f1/0x990", "kmem_cache_alloc+0x2b8/0x300"]


# -- geometry -------------------------------------------------------------------------------
def _align(x: int, a: int) -> int:
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
    return _align(align, ptr)


def calculate_sizes(object_size: int, align: int, flags: int, has_ctor: bool, ptr: int,
                    kmalloc: bool = False) -> dict:
    """mm/slub.c calculate_sizes: inuse, offset (free pointer), red_left_pad, size, flags."""
    size = _align(object_size, ptr)
    if flags & SLAB_POISON and not flags & SLAB_TYPESAFE_BY_RCU and not has_ctor:
        flags |= _OBJECT_POISON
    else:
        flags &= ~_OBJECT_POISON
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
        red_left_pad = _align(ptr, align)
        size += red_left_pad
    size = _align(size, align)
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


def _swab(x: int, ptr: int) -> int:
    return int.from_bytes(x.to_bytes(ptr, "little"), "big")


# -- objects ------------------------------------------------------------------------------
class Slab:
    """struct slab: a block of pages cut into objects; freelist[-1] is the head.

    The list is the chain of free pointers from the head.  ``lost`` counts the objects that
    are neither on that chain nor counted in slab->inuse: a free pointer zapped to NULL in
    the middle of the chain (a double free's slab_free_freelist_hook, "Freechain corrupt")
    cuts the rest off, and only on_freelist's "Object count adjusted" counts them again."""
    __slots__ = ("cache", "pfn", "order", "base", "freelist", "objects", "where", "id", "span",
                 "keys", "lost", "bad_head")

    def __init__(self, cache, pfn: int, base: int, sid: int):
        self.cache = cache
        self.pfn = pfn
        self.order = cache.order
        self.base = base
        self.span = PAGE_SIZE << cache.order
        self.keys = None            # per object: s->random ^ swab(address of its free pointer)
        self.freelist: list[int] = []
        self.objects = cache.objects
        self.where = ""
        self.id = sid
        self.lost = 0
        self.bad_head = None        # slab->freelist read from a corrupt free pointer (an alloc)

    @property
    def inuse(self) -> int:
        """slab->inuse: the objects the slab counts as allocated."""
        return self.objects - len(self.freelist) - self.lost


class KmemCache:
    """struct kmem_cache."""
    __slots__ = ("slub", "name", "object_size", "size", "align", "flags", "ctor", "ctor_name",
                 "offset", "inuse", "red_left_pad", "order", "objects", "random", "random_seq",
                 "refcount", "aliases", "owner", "min_partial", "cpu_slab", "cpu_freelist",
                 "partial", "full", "fast", "init", "po", "mm", "zeros", "debug", "checks",
                 "poison", "redzone", "store_user", "tracks", "kmalloc", "mergeable", "usersize",
                 "module", "ptr", "cpu_partial", "alias_of", "hint_printed", "alive", "mvw",
                 "fpbase", "wshift", "destroy_failed", "zgfp")

    def __repr__(self):
        return f"<struct kmem_cache '{self.name}' size={self.size}>"

    @property
    def debug_any(self) -> bool:
        """kmem_cache_debug(s): any SLUB debug flag."""
        return bool(self.flags & SLAB_DEBUG_FLAGS)

    def slabs(self):
        """Every slab of the cache (cpu, partial, full)."""
        out = list(self.partial) + list(self.full)
        if self.cpu_slab is not None:
            out.append(self.cpu_slab)
        return out

    def object_index_ok(self, sl: Slab, x: int) -> bool:
        """check_valid_pointer: x is the start of one of the slab's objects."""
        off = x - sl.base - self.red_left_pad
        return off >= 0 and off % self.size == 0 and off // self.size < sl.objects


# -- the allocator ------------------------------------------------------------------------
class Slub:
    """The slab allocator of one kernel (kernel.subsystems['slab'])."""

    def __init__(self, k):
        self.k = k
        self.caches: list[KmemCache] = []       # newest first, as slab_caches is walked
        self.slab_of: dict[int, Slab] = {}      # pfn of every slab page -> slab
        self.alloc_hooks: list = HookList(self.update_fast)  # fn(cache, addr, size) after each allocation
        self.free_hooks: list = HookList(self.update_fast)   # fn(cache, addr) before each free
        self._fail_hook = None                  # fn(cache, gfp) -> bool: fail (should_failslab)
        self.ptr = k.machine.ptr_size
        self.mvw = memoryview(k.phys.mm).cast("Q" if self.ptr == 8 else "I")
        self.nomerge = "slab_nomerge" in k.params
        self.debug_flags, self.debug_caches = (0, None)
        self.debug_blocks: list = []
        if "slub_debug" in k.params:
            self.debug_flags, self.debug_blocks, bad = parse_slub_debug_blocks(k.params["slub_debug"])
            for ch in bad:
                k.printk.emit(3, f"slub_debug option '{ch}' unknown. skipped")
            if self.debug_flags & SLAB_POISON and getattr(k.buddy, "init_on_alloc", True):
                k.printk.emit(6, "mem auto-init: SLAB_POISON will take precedence over "
                                 "init_on_alloc/init_on_free")
        self.min_objects = _int_param(k.params.get("slub_min_objects"), 0)
        self.max_order = min(_int_param(k.params.get("slub_max_order"), SLUB_MAX_ORDER), MAX_ORDER - 1)
        self.next_slab_id = 1
        self.large: dict[int, int] = {}         # kmalloc_large: pfn -> order
        self.kmalloc_caches: dict[str, list] = {}
        self.lockdep_done = False

    @property
    def fail_hook(self):
        """None or fn(cache, gfp) -> bool: True fails the allocation (should_failslab)."""
        return self._fail_hook

    @fail_hook.setter
    def fail_hook(self, fn):
        self._fail_hook = fn
        self.update_fast()

    def hooked(self) -> bool:
        """True while some hook must see every allocation and free.  Hooks marked
        ``module_only`` (kmemleak) only matter while module code runs."""
        hooks = list(self.alloc_hooks) + list(self.free_hooks)
        if self._fail_hook is not None or any(not getattr(h, "module_only", False) for h in hooks):
            return True
        return bool(hooks) and self.k.module_depth > 0

    def update_fast(self) -> None:
        """Allow the fast paths only for caches without debug flags while no hook must run
        (called when hooks change and when module code starts or stops running)."""
        hooked = self.hooked()
        for s in self.caches:
            s.fast = s.alive and not s.debug and not hooked

    # -- creation ------------------------------------------------------------------------
    def find(self, name: str) -> KmemCache | None:
        """The cache (or alias) of that name."""
        for s in self.caches:
            if s.name == name:
                return s
        for s in self.caches:
            if name in s.aliases:
                return s
        return None

    def create(self, name: str, size: int, align: int = 0, flags: int = 0, ctor=None,
               boot: bool = False, usersize: int = 0) -> KmemCache | None:
        """kmem_cache_create: a cache, an alias of a mergeable one, or None."""
        k = self.k
        block = slub_debug_match(self.debug_blocks, name) if self.debug_blocks else None
        flags |= self.debug_flags if block is None else block
        if not boot and not self.nomerge and ctor is None and not usersize:
            s = self.find_mergeable(size, align, flags)
            if s is not None:
                s.refcount += 1
                s.aliases.append(name)
                k.printk.emit(4, f"kmsim: kmem_cache_create('{name}') was merged into '{s.name}' "
                                 f"(same size, no ctor, no debug flags): /proc/slabinfo lists only "
                                 f"'{s.name}'; boot with --append slab_nomerge to keep it separate")
                return s
        s = KmemCache()
        s.slub, s.name, s.object_size, s.flags, s.ctor = self, name, size, flags, ctor
        s.ptr = self.ptr
        s.align = calculate_alignment(flags, align, size, k.machine.cache_line, self.ptr)
        geo = calculate_sizes(size, s.align, flags, ctor is not None, self.ptr,
                              kmalloc=bool(flags & SLAB_KMALLOC))
        s.size, s.inuse, s.offset = geo["size"], geo["inuse"], geo["offset"]
        s.red_left_pad, s.flags = geo["red_left_pad"], geo["flags"]
        order = calculate_order(s.size, 1, self.min_objects, self.max_order)
        if order < 0:
            return None
        s.order = order
        s.objects = min((PAGE_SIZE << order) // s.size, MAX_OBJS_PER_PAGE)
        s.random = k.rng.getrandbits(self.ptr * 8)
        seq = list(range(s.objects))
        k.rng.shuffle(seq)                     # freelist_randomize: the cache's random_seq
        s.random_seq = seq
        s.refcount, s.aliases, s.alias_of = 1, [], None
        s.owner = k.register_owner("slab", name)
        s.min_partial = max(5, min(10, (s.size.bit_length() - 1) // 2))
        s.cpu_partial = 0 if s.debug_any else (6 if s.size >= PAGE_SIZE else 24 if s.size >= 1024
                                               else 52 if s.size >= 256 else 120)
        s.cpu_slab, s.cpu_freelist = None, []
        s.partial, s.full = {}, {}
        s.debug = bool(s.flags & SLAB_DEBUG_FLAGS)
        s.checks = bool(s.flags & SLAB_CONSISTENCY_CHECKS)
        s.poison = bool(s.flags & _OBJECT_POISON)
        s.redzone = bool(s.flags & SLAB_RED_ZONE)
        s.store_user = bool(s.flags & SLAB_STORE_USER)
        s.fast = not s.debug and not self.hooked()
        s.mvw = self.mvw
        s.wshift = 3 if self.ptr == 8 else 2
        s.fpbase = k.machine.page_offset - s.offset
        s.init = k.buddy.init_on_alloc and ctor is None and not s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON)
        # slab_want_init_on_alloc: __GFP_ZERO zeroes, except a ctor cache under init_on_alloc
        s.zgfp = 0 if (k.buddy.init_on_alloc and ctor is not None) else _GFP_ZERO
        s.po, s.mm = k.machine.page_offset, k.phys.mm
        s.zeros = bytes(size)
        s.tracks = {}
        s.kmalloc = bool(flags & SLAB_KMALLOC)
        s.usersize = usersize
        s.mergeable = not boot
        s.module = k.modules.current_module() if hasattr(k, "modules") else None
        s.ctor_name = self._ctor_name(ctor, s.module)
        s.hint_printed = False
        s.destroy_failed = False
        s.alive = True
        self.caches.insert(0, s)
        return s

    def _ctor_name(self, ctor, mod) -> str | None:
        if ctor is None:
            return None
        code = getattr(ctor, "__code__", None)
        name = getattr(ctor, "__name__", "ctor")
        if code is None:
            return f"{name}+0x0/0x10"
        return format_frame(name, 0, code, mod.name if mod else None).strip()

    def find_mergeable(self, size: int, align: int, flags: int) -> KmemCache | None:
        """find_mergeable: the oldest cache this one can alias."""
        if flags & SLAB_NEVER_MERGE:
            return None
        ptr = self.ptr
        size = _align(size, ptr)
        align = calculate_alignment(flags, align, size, self.k.machine.cache_line, ptr)
        size = _align(size, align)
        for s in reversed(self.caches):
            if not s.mergeable or s.ctor is not None or s.flags & SLAB_NEVER_MERGE or s.usersize:
                continue
            if size > s.size or (flags & SLAB_MERGE_SAME) != (s.flags & SLAB_MERGE_SAME):
                continue
            if (s.size & ~(align - 1)) != s.size or s.size - size >= ptr:
                continue
            return s
        return None

    def creation_hint(self, s: KmemCache) -> None:
        """One kmsim: line when debug flags are set but consistency checks are off."""
        if s.flags & (SLAB_RED_ZONE | SLAB_POISON) and not s.checks:
            what = " and ".join(w for w, f in (("red zones", SLAB_RED_ZONE), ("poison", SLAB_POISON))
                                if s.flags & f)
            self.k.printk.emit(4, f"kmsim: cache '{s.name}' has {what} but no consistency checks: "
                                  f"as in Linux 6.1, corruption of them is not reported; add "
                                  f"SLAB_CONSISTENCY_CHECKS to the flags or boot with "
                                  f"--append slub_debug=F to get SLUB's reports")

    # -- slabs ---------------------------------------------------------------------------
    def new_slab(self, s: KmemCache, gfp: int) -> Slab | None:
        """allocate_slab: pages from the buddy allocator, objects laid out, ctor run."""
        k = self.k
        pgfp = (gfp & (G.GFP_KERNEL | G.GFP_ATOMIC | _GFP_NOWARN | _GFP_NOFAIL)) & ~_GFP_ZERO
        if s.flags & SLAB_CACHE_DMA:
            pgfp |= _GFP_DMA
        elif s.flags & SLAB_CACHE_DMA32:
            pgfp |= _GFP_DMA32
        prev = k.current_owner
        k.current_owner = s.owner
        try:
            pfn = k.buddy.alloc(pgfp | _GFP_NOWARN | _GFP_NORETRY, s.order) if s.order else -1
            if pfn < 0:
                pfn = k.buddy.alloc(pgfp, s.order)
        finally:
            k.current_owner = prev
        if pfn < 0:
            return None
        sl = self._setup_slab(s, pfn)
        order = self._shuffled(s, sl)
        self._layout_objects(s, sl, order)
        sl.freelist = order[::-1]
        self._write_chain(s, sl.freelist)
        sl.where = "partial"                     # listed before the ctor runs: a faulting
        s.partial[sl] = None                     # ctor leaves the cache consistent
        if s.ctor is not None:
            for x in order:
                s.ctor(x)
        return sl

    def _setup_slab(self, s: KmemCache, pfn: int) -> Slab:
        k, n = self.k, 1 << s.order
        sid = self.next_slab_id
        self.next_slab_id += 1
        sl = Slab(s, pfn, k.pfn_to_virt(pfn), sid)
        ph = k.phys
        ph.flags[pfn:pfn + n] |= PG_slab
        ph.owner[pfn:pfn + n] = s.owner
        ph.private[pfn:pfn + n] = sid
        ph.dirty_map[pfn:pfn + n] = 1        # SLUB writes its slabs directly, not through VirtMem
        for p in range(pfn, pfn + n):
            self.slab_of[p] = sl
        sl.keys = self._fp_keys(s, sl)
        return sl

    def _fp_keys(self, s: KmemCache, sl: Slab):
        """s->random ^ swab(fp address) of every object, computed at once (numpy)."""
        dt = np.uint64 if s.ptr == 8 else np.uint32
        first = sl.base + s.red_left_pad + s.offset
        addrs = np.arange(sl.objects, dtype=dt) * dt(s.size) + dt(first)
        keys = addrs.byteswap() ^ dt(s.random)
        return array("Q" if s.ptr == 8 else "I", keys.tobytes())

    def _shuffled(self, s: KmemCache, sl: Slab) -> list[int]:
        """shuffle_freelist: the random sequence from a random start."""
        seq = s.random_seq
        pos = self.k.rng.randrange(len(seq))
        base = sl.base + s.red_left_pad
        sz = s.size
        return [base + seq[(pos + i) % len(seq)] * sz for i in range(len(seq))]

    def _layout_objects(self, s: KmemCache, sl: Slab, order: list[int]) -> None:
        """setup_slab_debug and init_object(SLUB_RED_INACTIVE) for every object."""
        if not s.debug:
            return
        ph = self.k.phys
        start = sl.base - s.po
        if s.flags & SLAB_POISON:
            ph.bytes[start:start + (PAGE_SIZE << s.order)] = POISON_INUSE
        for x in order:
            self.init_object(s, x, SLUB_RED_INACTIVE)

    def encode_fp(self, s: KmemCache, x: int, nxt: int) -> bytes:
        """freelist_ptr: ptr ^ s->random ^ swab(ptr_addr) (SLAB_FREELIST_HARDENED)."""
        return (nxt ^ s.random ^ _swab(x + s.offset, s.ptr)).to_bytes(s.ptr, "little")

    def get_freepointer(self, s: KmemCache, x: int) -> int:
        """The decoded free pointer stored in an object."""
        o = x + s.offset - s.po
        raw = int.from_bytes(s.mm[o:o + s.ptr], "little")
        return raw ^ s.random ^ _swab(x + s.offset, s.ptr)

    def set_freepointer(self, s: KmemCache, x: int, nxt: int) -> None:
        """Store the hardened free pointer in the object's bytes."""
        o = x + s.offset - s.po
        s.mm[o:o + s.ptr] = self.encode_fp(s, x, nxt & self.k.machine.addr_mask)

    def _write_chain(self, s: KmemCache, fl: list[int]) -> None:
        nxt = 0
        for x in fl:
            self.set_freepointer(s, x, nxt)
            nxt = x

    def discard_slab(self, s: KmemCache, sl: Slab) -> None:
        """discard_slab: the pages go back to the buddy allocator."""
        k, n, pfn = self.k, 1 << sl.order, sl.pfn
        ph = k.phys
        ph.flags[pfn:pfn + n] &= ~PG_slab & 0xffffffff
        ph.private[pfn:pfn + n] = 0
        for p in range(pfn, pfn + n):
            self.slab_of.pop(p, None)
        sl.where = "gone"
        k.buddy.free(pfn, sl.order)

    # -- allocation ----------------------------------------------------------------------
    def slab_alloc(self, s: KmemCache, gfp: int, size: int | None = None) -> int:
        """slab_alloc_node: the slow path (and every debug-cache allocation)."""
        if self._fail_hook is not None and self._fail_hook(s, gfp):
            return 0
        if s.debug:
            x = self._alloc_debug(s, gfp)
        else:
            x = self._alloc_cpu(s, gfp)
        if not x:
            return 0
        if self.slab_want_init_on_alloc(s, gfp):
            o = x - s.po
            s.mm[o:o + s.object_size] = s.zeros
        for hook in self.alloc_hooks:
            hook(s, x, s.object_size if size is None else size)
        return x

    def slab_want_init_on_alloc(self, s: KmemCache, gfp: int) -> bool:
        """mm/slab.h slab_want_init_on_alloc (6.1): with init_on_alloc, every cache but a
        ctor, RCU or poison one; otherwise (and for RCU/poison caches) only __GFP_ZERO.
        A ctor cache is never zeroed while init_on_alloc is on, even with __GFP_ZERO."""
        return bool(s.init or gfp & s.zgfp)

    def _alloc_cpu(self, s: KmemCache, gfp: int) -> int:
        fl = s.cpu_freelist
        if not fl:
            old = s.cpu_slab
            if old is not None:
                old.where = "full"
                s.full[old] = None
            if s.partial:
                sl = next(iter(s.partial))
            else:
                sl = self.new_slab(s, gfp)
                if sl is None:
                    s.cpu_slab, s.cpu_freelist = None, []
                    return 0
            del s.partial[sl]
            sl.where = "cpu"
            s.cpu_slab, s.cpu_freelist = sl, sl.freelist
            fl = sl.freelist
        return fl.pop()

    def _deactivate(self, s: KmemCache) -> None:
        """deactivate_slab: the cpu slab goes to the partial or full list."""
        sl = s.cpu_slab
        if sl is None:
            return
        s.cpu_slab, s.cpu_freelist = None, []
        s.full.pop(sl, None)
        if len(sl.freelist) == sl.objects and len(s.partial) >= s.min_partial:
            self.discard_slab(s, sl)
        elif sl.freelist:
            sl.where = "partial"
            s.partial[sl] = None
        else:
            sl.where = "full"
            s.full[sl] = None

    def _alloc_debug(self, s: KmemCache, gfp: int) -> int:
        while True:
            if s.partial:
                sl = next(iter(s.partial))
            else:
                sl = self.new_slab(s, gfp)
                if sl is None:
                    return 0
            x = sl.freelist.pop()
            if not sl.freelist:
                del s.partial[sl]
                sl.where = "full"
                s.full[sl] = None
            if self._alloc_checked(s, sl, x):
                return x

    def _alloc_checked(self, s: KmemCache, sl: Slab, x: int) -> bool:
        """alloc_single_from_partial has already set slab->freelist to x's stored free
        pointer: a corrupt one shows as the slab's fp in the reports of the checks."""
        if s.checks:
            nxt = self.get_freepointer(s, x) & self.k.machine.addr_mask
            if nxt != (sl.freelist[-1] if sl.freelist else 0):
                sl.bad_head = nxt
        try:
            return self.alloc_debug_processing(s, sl, x)
        finally:
            sl.bad_head = None

    def alloc_debug_processing(self, s: KmemCache, sl: Slab, x: int) -> bool:
        """alloc_debug_processing: checks (F), then init_object(SLUB_RED_ACTIVE) and the alloc
        track.  A failed check marks every object of the slab used (freelist NULL)."""
        if s.checks and not self.check_object(s, sl, x, SLUB_RED_INACTIVE, _ALLOC_FRAMES):
            self.slab_fix(s, "Marking all objects used")
            sl.freelist.clear()
            sl.lost = 0                          # slab->inuse = slab->objects
            s.partial.pop(sl, None)
            sl.where = "full"
            s.full[sl] = None
            return False
        self.init_object(s, x, SLUB_RED_ACTIVE)
        if s.store_user:
            self.set_track(s, x, 0)
        return True

    # -- freeing -------------------------------------------------------------------------
    def slab_free(self, s: KmemCache | None, x: int, caller: str = "kmem_cache_free") -> None:
        """kmem_cache_free/kfree of a slab object: checks, then back on its slab."""
        k = self.k
        sl = self.slab_of.get((x - k.machine.page_offset) >> PAGE_SHIFT) if x > 0 else None
        if sl is None:
            self._free_not_slab(s, x, caller)
            return
        real = sl.cache
        if s is not None and real is not s:
            self.wrong_cache(s, real, x)
        s = real
        for hook in self.free_hooks:
            hook(s, x)
        if s.debug:
            self._free_debug(s, sl, x)
            return
        if not s.object_index_ok(sl, x):
            k.printk.emit(4, f"kmsim: {caller}({x:#x}): not the start of an object of '{s.name}' "
                             f"(SLUB without consistency checks would corrupt its freelist); ignored")
            return
        fl = sl.freelist
        if fl and fl[-1] == x:
            raise KernelBUG("mm/slub.c:419", rip="kmem_cache_free+0x2f7/0x310",
                            hint=f"double free of {x:#x} in '{s.name}': the hardened freelist "
                                 f"(BUG_ON(object == fp) in set_freepointer) caught it")
        i = (x - sl.base - s.red_left_pad) // s.size
        s.mvw[(x - s.fpbase) >> s.wshift] = (fl[-1] if fl else 0) ^ sl.keys[i]
        fl.append(x)
        if sl.where != "cpu":
            self._after_free(s, sl, len(fl))

    def _after_free(self, s: KmemCache, sl: Slab, nfree: int) -> None:
        """The slab's list after a free: off the full list when it was empty before, back to
        the page allocator once nothing is in use and enough partial slabs remain."""
        if nfree == 1 and sl.where == "full":
            del s.full[sl]
            sl.where = "partial"
            s.partial[sl] = None
        if sl.inuse == 0 and sl.where == "partial" and len(s.partial) > s.min_partial:
            del s.partial[sl]
            self.discard_slab(s, sl)

    def _free_debug(self, s: KmemCache, sl: Slab, x: int) -> None:
        """free_to_partial_list (6.1): slab_free_freelist_hook has already set the object's
        free pointer to NULL; free_debug_processing decides; then the object is freed."""
        valid = s.object_index_ok(sl, x)
        if valid:
            self.slab_free_freelist_hook(s, sl, x)
        elif not s.checks and sl.inuse > 0:
            self.k.printk.emit(4, f"kmsim: kmem_cache_free({x:#x}): not the start of an object of "
                                  f"'{s.name}'; ignored")
            return
        if not self.free_debug_processing(s, sl, x):
            self.slab_fix(s, f"Object at 0x{self.hp(x)} not freed")
            return
        fl = sl.freelist
        if x in fl:                              # only without consistency checks
            self._free_on_freelist(s, sl, x)
            return
        self.set_freepointer(s, x, fl[-1] if fl else 0)
        fl.append(x)
        self._after_free(s, sl, len(fl))

    def slab_free_freelist_hook(self, s: KmemCache, sl: Slab, x: int) -> None:
        """set_freepointer(s, object, NULL) before the free: an object that is already free
        becomes the tail of the chain, and the free objects after it are lost."""
        self.set_freepointer(s, x, 0)
        self._cut_chain(sl, x)

    def _cut_chain(self, sl: Slab, x: int) -> None:
        """x's free pointer is NULL now: the chain ends at x."""
        fl = sl.freelist
        if x in fl:
            i = fl.index(x)
            sl.lost += i
            del fl[:i]

    def free_debug_processing(self, s: KmemCache, sl: Slab, x: int) -> bool:
        """free_debug_processing (6.1, one object): the inuse count, free_consistency_checks
        (F), the free track, init_object(SLUB_RED_INACTIVE).  False: not freed."""
        if sl.inuse < 1:
            self.slab_err(s, sl, f"Slab has {sl.inuse} allocated objects but 1 are to be freed\n",
                          ["slab_err+0xae/0xe7", "free_to_partial_list.cold+0x101/0x106"])
            return False
        if s.checks and not self.free_consistency_checks(s, sl, x):
            return False
        if s.store_user:
            self.set_track(s, x, 1)
        self.init_object(s, x, SLUB_RED_INACTIVE)
        return True

    def free_consistency_checks(self, s: KmemCache, sl: Slab, x: int) -> bool:
        """free_consistency_checks: a valid pointer, not on the freelist, intact object."""
        if not s.object_index_ok(sl, x):
            self.slab_err(s, sl, f"Invalid object pointer 0x{self.hp(x)}",
                          ["slab_err+0xae/0xe7", "free_to_partial_list.cold+0x101/0x106"])
            return False
        if self.on_freelist(s, sl, x, ["free_to_partial_list+0x180/0x4f0"]):
            self.object_err(s, sl, x, "Object already free", ["free_to_partial_list.cold+0x82/0x106"])
            return False
        return self.check_object(s, sl, x, SLUB_RED_ACTIVE, ["free_to_partial_list+0x19b/0x4f0"])

    def _free_on_freelist(self, s: KmemCache, sl: Slab, x: int) -> None:
        """A double free without consistency checks: the hook made x the tail of the chain.
        At the head, set_freepointer's BUG_ON(object == fp) fires after slab->inuse--, with
        n->list_lock held (irqs off, preempt_count 1).  Deeper, the kernel would turn the
        freelist into a cycle, which kmsim does not model: it leaves x where it is."""
        if sl.freelist[-1] == x:
            sl.lost += 1                         # slab->inuse -= cnt came first
            e = KernelBUG("mm/slub.c:419", rip="free_to_partial_list+0x42d/0x4f0",   # the debug slow path
                          hint=f"double free of {x:#x} in '{s.name}' (without consistency "
                               f"checks SLUB only has the hardened freelist's BUG_ON)")
            e.irqs_disabled, e.preempt_count = True, 1   # make_task_dead's "note:" lines
            raise e
        self.k.printk.emit(4, f"kmsim: kmem_cache_free({x:#x}): double free of an object deep in "
                              f"the freelist of '{s.name}': SLUB would make the freelist a cycle; "
                              f"ignored")

    def _free_not_slab(self, s: KmemCache | None, x: int, caller: str) -> None:
        k = self.k
        if not k.vm.is_direct(x):
            bogus = k.page_struct_addr(((x - k.machine.page_offset) & k.machine.addr_mask) >> PAGE_SHIFT)
            raise PageFault(bogus & k.machine.addr_mask, False,
                            hint=f"{caller}() was given {x:#x}, which is not an address from the "
                                 f"slab allocator (not in the direct map)")
        k.reporter.warn("mm/slab.h:627", "kmem_cache_free+0x2c5/0x310",
                        message="virt_to_cache: Object is not a Slab page!",
                        once_key="virt_to_cache_not_slab")
        k.printk.emit(4, f"kmsim: {caller}({x:#x}): that address is not in a slab page; "
                         f"nothing was freed")

    def wrong_cache(self, s: KmemCache, real: KmemCache, x: int) -> None:
        """cache_from_obj: WARN 'Wrong slab cache'; the object is freed to its real cache."""
        self.k.reporter.warn("mm/slab.h:643", "kmem_cache_free+0x2a9/0x310",
                             message=f"cache_from_obj: Wrong slab cache. {s.name} but object is "
                                     f"from {real.name}")
        for line in self.tracking_lines(real, x):
            self.k.printk.emit(3, line)

    # -- debug memory ----------------------------------------------------------------------
    def init_object(self, s: KmemCache, x: int, val: int) -> None:
        """init_object: red zones to val, poison 6b..a5 (debug caches only)."""
        b = self.k.phys.bytes
        o = x - s.po
        if s.redzone:
            b[o - s.red_left_pad:o] = val
        if s.poison:
            b[o:o + s.object_size - 1] = POISON_FREE
            b[o + s.object_size - 1] = POISON_END
        if s.redzone:
            b[o + s.object_size:o + s.inuse] = val

    def set_track(self, s: KmemCache, x: int, which: int) -> None:
        """set_track: remember the caller (module function) of the alloc (0) or free (1)."""
        k = self.k
        frames = _caller_frames(k)
        where = format_frame(*_frame_args(frames[0])).strip() if frames else "0x0"
        stack = [format_frame(*_frame_args(f)).strip() for f in frames]
        t = s.tracks.setdefault(x, [None, None])
        t[which] = (where, k.current.pid, k.clock_ns(), stack)
        o = x - s.po + (s.offset + s.ptr if s.offset >= s.inuse else s.inuse) + which * TRACK_SIZE
        if o + 8 <= x - s.po + s.size:
            s.mm[o:o + 8] = (0xffffffffc0000000 + (hash(where) & 0xfffff)).to_bytes(8, "little")

    def tracking_lines(self, s: KmemCache, x: int) -> list[str]:
        """print_tracking: 'Allocated in f+0x../0x.. [mod] age=N cpu=0 pid=P' and the stack."""
        if not s.store_user:
            return []
        t = s.tracks.get(x)
        if not t:
            return []
        now = self.k.clock_ns()
        out = []
        for label, tr, fn in (("Allocated", t[0], "kmem_cache_alloc+0x2b8/0x300"),
                              ("Freed", t[1], "kmem_cache_free+0x15/0x310")):
            if tr is None:
                continue
            where, pid, when, stack = tr
            age = max(0, (now - when) // 4_000_000)
            out.append(f"{label} in {where} age={age} cpu=0 pid={pid}")
            out += [f" {fn}"] + [f" {f}" for f in stack]
        return out

    def hp(self, addr: int) -> str:
        """%p of an address."""
        return self.k.printk_ctx.hash_pointer(addr)

    def check_bytes_and_report(self, s, sl, obj, what, start, value, n, frames) -> bool:
        """check_bytes_and_report: a BUG report and the bytes restored on mismatch."""
        if n <= 0:
            return True
        o = start - s.po
        data = bytes(s.mm[o:o + n])
        bad = [i for i, c in enumerate(data) if c != value]
        if not bad:
            return True
        first, last = bad[0], bad[-1]
        fault, end = start + first, start + last
        self.slab_bug(s, f"{what} overwritten")
        self.k.printk.emit(3, f"0x{self.hp(fault)}-0x{self.hp(end)} @offset={fault - sl.base}. "
                              f"First byte {data[first]:#x} instead of {value:#x}")
        self.print_trailer(s, sl, obj, ["check_bytes_and_report.cold+0x6d/0x97"] + frames)
        self.taint()
        self.slab_fix(s, f"Restoring {what} 0x{self.hp(fault)}-0x{self.hp(end)}={value:#x}")
        self.k.phys.bytes[fault - s.po:end - s.po + 1] = value
        return False

    def check_object(self, s, sl, x, val, frames) -> bool:
        """check_object (6.1): red zones, poison and padding (check_pad_bytes), then the free
        pointer (not for an allocated object whose free pointer lies inside it).
        frames: the callers' stack below check_object."""
        end = x + s.object_size

        def cb(what, start, value, n):
            return self.check_bytes_and_report(s, sl, x, what, start, value, n,
                                               _check_object_frame(what) + frames)
        if s.redzone:
            if not cb("Left Redzone", x - s.red_left_pad, val, s.red_left_pad):
                return False
            if not cb("Right Redzone", end, val, s.inuse - s.object_size):
                return False
        elif s.flags & SLAB_POISON and s.object_size < s.inuse:
            cb("Alignment padding", end, POISON_INUSE, s.inuse - s.object_size)
        if s.flags & SLAB_POISON:
            if val != SLUB_RED_ACTIVE and s.poison and (
                    not cb("Poison", x, POISON_FREE, s.object_size - 1)
                    or not cb("End Poison", end - 1, POISON_END, 1)):
                return False
            self.check_pad_bytes(s, sl, x, frames)      # cleans up on its own
        if s.offset < s.inuse and val == SLUB_RED_ACTIVE:
            return True          # object and free pointer overlap: not checkable while in use
        return self._check_freepointer(s, sl, x, frames)

    def check_pad_bytes(self, s, sl, x, frames) -> bool:
        """check_pad_bytes: POISON_INUSE from the end of the metadata (free pointer outside
        the object, tracks, kmalloc's orig_size) to the end of the slot."""
        off = self.pad_start(s)
        size_from_object = s.size - s.red_left_pad
        if off == size_from_object:
            return True
        return self.check_bytes_and_report(s, sl, x, "Object padding", x + off, POISON_INUSE,
                                           size_from_object - off,
                                           _check_object_frame("Object padding") + frames)

    def get_info_end(self, s: KmemCache) -> int:
        """get_info_end: where the object's metadata (the free pointer) ends."""
        return s.inuse + s.ptr if s.offset >= s.inuse else s.inuse

    def pad_start(self, s: KmemCache) -> int:
        """Offset of the padding from the object: after the free pointer, the two tracks
        (SLAB_STORE_USER) and a kmalloc cache's orig_size, as check_pad_bytes and
        print_trailer count them."""
        off = self.get_info_end(s)
        if s.store_user:
            off += 2 * (TRACK_SIZE if s.ptr == 8 else 24) + (4 if s.kmalloc else 0)
        return off

    def _check_freepointer(self, s, sl, x, frames) -> bool:
        """check_object's last step: a free pointer that is no object of the slab is
        "Freepointer corrupt", and is zapped to NULL (the rest of the chain is lost)."""
        fp = self.get_freepointer(s, x) & self.k.machine.addr_mask
        if self.check_valid_pointer(s, sl, fp):
            return True
        self.object_err(s, sl, x, "Freepointer corrupt", _check_object_frame("Freepointer corrupt")
                        + frames)
        self.set_freepointer(s, x, 0)
        self._cut_chain(sl, x)
        return False

    def check_valid_pointer(self, s: KmemCache, sl: Slab, p: int) -> bool:
        """check_valid_pointer: NULL, or the start of one of the slab's objects."""
        return p == 0 or s.object_index_ok(sl, p)

    def on_freelist(self, s, sl, search, frames) -> bool:
        """on_freelist (6.1): walk the chain from slab->freelist.  True if search is on it.
        A free pointer that is no object is "Freechain corrupt" (the chain is cut there);
        when search is not found, slab->inuse is checked against the objects counted."""
        chain = sl.freelist[::-1]
        bad = self._first_bad_fp(s, sl, chain)
        nr = len(chain) if bad is None else bad + 1
        if search is not None and search in chain[:nr]:
            return True
        if bad is not None:
            obj = chain[bad]
            self.object_err(s, sl, obj, "Freechain corrupt", ["on_freelist.cold+0x2d/0x111"] + frames)
            self.set_freepointer(s, obj, 0)
            self._cut_chain(sl, obj)
        if sl.inuse != sl.objects - nr:
            self.slab_err(s, sl, f"Wrong object count. Counter is {sl.inuse} but counted were "
                                 f"{sl.objects - nr}",
                          ["slab_err+0xae/0xe7", "on_freelist.cold+0x95/0x111"] + frames)
            sl.lost = 0                          # slab->inuse = slab->objects - nr
            self.slab_fix(s, "Object count adjusted")
        return search is None

    def _first_bad_fp(self, s: KmemCache, sl: Slab, chain: list[int]) -> int | None:
        """Index in chain of the first free object whose stored free pointer is no valid
        object (a module wrote over it), or None; numpy reads them all at once."""
        if not chain:
            return None
        dt = np.uint64 if s.ptr == 8 else np.uint32
        objs = np.array(chain, dtype=dt)
        first = sl.base + s.red_left_pad
        idx = (objs - dt(first)) // dt(s.size)
        words = np.frombuffer(self.k.phys.mm, dtype=dt)
        raw = words[((objs - dt(s.fpbase)) >> dt(s.wshift)).astype(np.int64)]
        fp = raw ^ np.frombuffer(sl.keys, dtype=dt)[idx.astype(np.int64)]
        off = fp - dt(first)                     # wraps around below the slab: invalid
        ok = (fp == 0) | ((off % dt(s.size) == 0) & (off < dt(sl.objects * s.size)))
        bad = np.flatnonzero(~ok)
        return int(bad[0]) if len(bad) else None

    # -- report pieces -------------------------------------------------------------------
    def taint(self) -> None:
        """add_taint(TAINT_BAD_PAGE, LOCKDEP_NOW_UNRELIABLE)."""
        self.k.add_taint(TAINT_BAD_PAGE)
        self.k.modules.lockdep_off()

    def slab_bug(self, s: KmemCache, msg: str) -> None:
        """slab_bug: the ===== banner."""
        from ..report import print_tainted
        # one record per pr_err; a message's second newline is a blank line of its record
        bug = f"BUG {s.name} ({print_tainted(self.k.taint)}): {msg}".rstrip("\n")
        lines = [_BANNER, bug + ("\n\n" if msg.endswith("\n") else ""), _DASHES + "\n\n"]
        self.k.reporter.emit(lines, level=3)

    def slab_fix(self, s: KmemCache, msg: str) -> None:
        """slab_fix: 'FIX cache: msg'."""
        self.k.printk.emit(3, f"FIX {s.name}: {msg}")

    def slab_info_line(self, sl: Slab) -> str:
        """print_slab_info."""
        k = self.k
        head = sl.freelist[-1] if sl.freelist else 0
        if sl.bad_head is not None:
            head = sl.bad_head
        zone = k.buddy.zone_of(sl.pfn)
        zi = zone.idx if zone is not None else 0
        return (f"Slab 0x{self.hp(k.page_struct_addr(sl.pfn))} objects={sl.objects} used={sl.inuse} "
                f"fp=0x{self.hp(head) if head else '0' * (2 * self.ptr)} flags=0xfffffc0000200"
                f"(slab|node=0|zone={zi}|lastcpupid=0x1fffff)")

    def print_section(self, label: str, addr: int, n: int) -> list[str]:
        """print_hex_dump(DUMP_PREFIX_ADDRESS, 16, 1, ascii) of simulated memory."""
        data = self.k.vm.peek(addr, n) or bytes(n)
        out = []
        for i in range(0, n, 16):
            row = data[i:i + 16]
            hx = " ".join(f"{c:02x}" for c in row)
            asc = "".join(chr(c) if 32 <= c < 127 else "." for c in row)
            out.append(f"{label}{self.hp(addr + i)}: {hx:<47}  {asc}")
        return out

    def print_trailer(self, s: KmemCache, sl: Slab, x: int, frames: list[str]) -> None:
        """print_trailer: tracking, Slab, Object lines, the hex dumps, the stack."""
        k = self.k
        fp = self.get_freepointer(s, x) & k.machine.addr_mask
        fps = self.hp(fp) if fp else "0" * (2 * self.ptr)
        lines = self.tracking_lines(s, x)
        lines += [self.slab_info_line(sl), f"Object 0x{self.hp(x)} @offset={x - sl.base} fp=0x{fps}\n\n"]
        if s.redzone:
            lines += self.print_section("Redzone  ", x - s.red_left_pad, s.red_left_pad)
        elif x > sl.base + 16:
            lines += self.print_section("Bytes b4 ", x - 16, 16)
        lines += self.print_section("Object   ", x, min(s.object_size, PAGE_SIZE))
        if s.redzone:
            lines += self.print_section("Redzone  ", x + s.object_size, s.inuse - s.object_size)
        off = self.pad_start(s)
        size_from_object = s.size - s.red_left_pad
        if off != size_from_object:
            lines += self.print_section("Padding  ", x + off, size_from_object - off)
        k.reporter.emit(lines, level=3)
        k.reporter.dump_stack(frames, level=4)

    def object_err(self, s, sl, x, reason, frames) -> None:
        """object_err: banner and trailer."""
        self.slab_bug(s, reason)
        self.print_trailer(s, sl, x, ["object_err+0x8a/0xb6"] + frames)
        self.taint()

    def slab_err(self, s, sl, msg, frames) -> None:
        """slab_err: banner, the Slab line, the stack."""
        self.slab_bug(s, msg)
        self.k.reporter.emit([self.slab_info_line(sl)], level=3)
        self.k.reporter.dump_stack(frames, level=4)
        self.taint()

    # -- destroy -------------------------------------------------------------------------
    def destroy(self, s: KmemCache, caller: str | None = None) -> bool:
        """kmem_cache_destroy: False (after the kernel's reports) if objects remain."""
        if s is None or not s.alive:
            return True
        s.refcount -= 1
        if s.refcount > 0:
            if s.aliases:
                s.aliases.pop()
            return True
        if self.kmem_cache_shutdown(s):
            s.refcount = 1
            s.destroy_failed = True          # kmemleak then says so instead of "not destroyed"
            frames = _caller_frames(self.k)
            who = caller or (format_frame(*_frame_args(frames[0])).strip() if frames else "0x0")
            self.k.reporter.warn("mm/slab_common.c:493", "kmem_cache_destroy+0x141/0x150",
                                 message=f"kmem_cache_destroy {s.name}: Slab cache still has "
                                         f"objects when called from {who}")
            return False
        s.alive = False
        s.fast = False
        if s in self.caches:
            self.caches.remove(s)
        return True

    def kmem_cache_shutdown(self, s: KmemCache) -> bool:
        """__kmem_cache_shutdown (6.1): flush the cpu slab, then free_partial: empty partial
        slabs go, the others are listed.  True (busy) if any slab is left."""
        self._deactivate(s)
        for sl in list(s.partial):
            if sl.inuse == 0:
                del s.partial[sl]
                self.discard_slab(s, sl)
            else:
                self.list_slab_objects(s, sl, f"Objects remaining in {s.name} on "
                                              f"__kmem_cache_shutdown()")
        return bool(s.partial or s.full)

    def list_slab_objects(self, s: KmemCache, sl: Slab, text: str) -> None:
        """list_slab_objects: slab_err, then 'Object 0x%p @offset=%tu' (and the tracks) of
        every object not on the slab's freelist."""
        self.slab_err(s, sl, text, ["slab_err+0xae/0xe7", "__kmem_cache_shutdown.cold+0x34/0xe9",
                                    "kmem_cache_destroy+0x51/0x150"])
        free = set(sl.freelist)
        for i in range(sl.objects):
            x = sl.base + s.red_left_pad + i * s.size
            if x not in free:
                self.k.printk.emit(3, f"Object 0x{self.hp(x)} @offset={x - sl.base}")
                for line in self.tracking_lines(s, x):
                    self.k.printk.emit(3, line)

    # -- queries -------------------------------------------------------------------------
    def find_slab(self, addr: int) -> Slab | None:
        """The slab whose pages hold addr."""
        k = self.k
        if not k.vm.is_direct(addr):
            return None
        return self.slab_of.get((addr - k.machine.page_offset) >> PAGE_SHIFT)

    def find_object(self, addr: int):
        """(cache, object start, object_size) of the object slot containing addr, or None."""
        sl = self.find_slab(addr)
        if sl is None:
            return None
        s = sl.cache
        off = addr - sl.base
        i = off // s.size
        if i >= sl.objects:
            return None
        start = sl.base + i * s.size + s.red_left_pad
        return s, start, s.object_size

    def is_free(self, s: KmemCache, x: int) -> bool:
        """True if object x is on a freelist."""
        sl = self.find_slab(x)
        return sl is not None and x in sl.freelist

    def stats(self, s: KmemCache) -> dict:
        """Numbers for slabinfo and sysfs: active/num objects, slabs, partial counts."""
        slabs = s.slabs()
        num_slabs = len(slabs)
        num_objs = sum(sl.objects for sl in slabs)
        free_partial = sum(sl.objects - sl.inuse for sl in s.partial)   # count_free
        active = num_objs - free_partial
        inuse = sum(sl.inuse for sl in slabs)
        return {"active_objs": active, "num_objs": num_objs, "num_slabs": num_slabs,
                "active_slabs": num_slabs, "objects": inuse, "partial": len(s.partial),
                "objects_partial": sum(sl.inuse for sl in s.partial),
                "cpu_slabs": 1 if s.cpu_slab is not None else 0,
                "pages": num_slabs << s.order}

    def total_pages(self) -> int:
        """Pages held by every cache plus kmalloc_large blocks (meminfo's Slab)."""
        return len(self.slab_of) + sum(1 << o for o in self.large.values())

    def debug_check(self) -> list[str]:
        """Invariant violations: counters, page flags and owners, double-listed free objects."""
        bad = []
        ph = self.k.phys
        for s in self.caches:
            for sl in s.slabs():
                if sl.cache is not s:
                    bad.append(f"slab {sl.pfn:#x} on {s.name}'s lists belongs to {sl.cache.name}")
                fl = sl.freelist
                if len(set(fl)) != len(fl):
                    bad.append(f"{s.name}: slab {sl.pfn:#x} has a free object listed twice")
                if len(fl) + sl.lost > sl.objects or sl.lost < 0:
                    bad.append(f"{s.name}: slab {sl.pfn:#x} has {len(fl)} free and {sl.lost} lost "
                               f"of {sl.objects}")
                if sl.lost and not s.debug:
                    bad.append(f"{s.name}: slab {sl.pfn:#x} of a cache without debugging lost "
                               f"{sl.lost} objects")
                for x in fl:
                    if not s.object_index_ok(sl, x):
                        bad.append(f"{s.name}: free object {x:#x} not in slab {sl.pfn:#x}")
                        break
                for p in range(sl.pfn, sl.pfn + (1 << sl.order)):
                    if not int(ph.flags[p]) & PG_slab:
                        bad.append(f"{s.name}: page {p:#x} of a slab is not PG_slab")
                    if int(ph.owner[p]) != s.owner:
                        bad.append(f"{s.name}: page {p:#x} of a slab is owned by {int(ph.owner[p])}")
                    if self.slab_of.get(p) is not sl:
                        bad.append(f"{s.name}: page {p:#x} does not map to its slab")
                exp = {"cpu": "cpu", "partial": "partial", "full": "full"}
                if sl.where not in exp:
                    bad.append(f"{s.name}: slab {sl.pfn:#x} in state {sl.where!r}")
                if sl.where == "full" and sl.freelist and not s.debug:
                    bad.append(f"{s.name}: full slab {sl.pfn:#x} has free objects")
            if s.cpu_slab is not None and s.cpu_freelist is not s.cpu_slab.freelist:
                bad.append(f"{s.name}: cpu freelist is not the cpu slab's")
        listed = sum(1 << sl.order for s in self.caches for sl in s.slabs())
        if listed != len(self.slab_of):
            bad.append(f"slab pages: {len(self.slab_of)} mapped, {listed} on cache lists")
        return bad

    def shrink(self, s: KmemCache) -> None:
        """__kmem_cache_do_shrink: flush the cpu slab, then give every empty slab of the
        partial list back to the page allocator (min_partial does not apply)."""
        self._deactivate(s)
        for sl in [sl for sl in s.partial if len(sl.freelist) == sl.objects]:
            del s.partial[sl]
            self.discard_slab(s, sl)

    def validate(self, s: KmemCache) -> None:
        """validate_slab_cache: validate_slab on each partial slab, and on each full one when
        SLAB_STORE_USER keeps a full list (a cache with consistency checks only)."""
        if not s.checks:
            return
        for sl in list(s.partial) + (list(s.full) if s.store_user else []):
            self.validate_slab(s, sl)

    def validate_slab(self, s: KmemCache, sl: Slab) -> None:
        """validate_slab: on_freelist(NULL) (the chain and the count), then check_object of
        every object against its state, stopping at the first that fails."""
        frames = ["validate_slab+0x9a/0x120", "validate_slab_cache+0x101/0x160"]
        if not self.on_freelist(s, sl, None, frames):
            return
        free = set(sl.freelist)
        for i in range(sl.objects):
            x = sl.base + s.red_left_pad + i * s.size
            val = SLUB_RED_INACTIVE if x in free else SLUB_RED_ACTIVE
            if not self.check_object(s, sl, x, val, frames):
                break


def _check_object_frame(what: str) -> list[str]:
    """check_object's own frame for the check that failed."""
    return [f"check_object+{_CHECK_OBJECT_RET[what]:#x}/0x280"]


def _caller_frames(k) -> list:
    """The module's own frames on the live stack, innermost first."""
    return [f for f in module_frames(k.modules.module_files()) if f[2] is not None]


def _frame_args(f):
    fn, ln, mod, code = f
    return fn, ln, code, mod


def _int_param(val, default: int) -> int:
    try:
        return int(val) if isinstance(val, str) else default
    except ValueError:
        return default


# -- the fast paths (called straight from kmsim.linux.slab) ---------------------------------
def kmem_cache_alloc(s, gfpflags):
    """void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags): an address, or 0."""
    try:
        if s.fast:
            x = s.cpu_freelist.pop()
            if s.init or gfpflags & s.zgfp:         # slab_want_init_on_alloc
                o = x - s.po
                s.mm[o:o + s.object_size] = s.zeros
            return x
    except (AttributeError, IndexError):
        pass
    if not isinstance(s, KmemCache) or not s.alive:
        return _bad_cache(s, "kmem_cache_alloc")
    if isinstance(gfpflags, bool) or not isinstance(gfpflags, int):
        raise TypeError(f"kmem_cache_alloc() flags must be GFP_* (int), not {type(gfpflags).__name__}")
    return s.slub.slab_alloc(s, gfpflags)


def kmem_cache_free(s, x):
    """void kmem_cache_free(struct kmem_cache *s, void *x)."""
    try:
        sl = s.cpu_slab
        d = x - sl.base
        if 0 <= d < sl.span and s.fast:
            i = d // s.size
            fl = sl.freelist
            head = fl[-1] if fl else 0
            if d == i * s.size and head != x:
                s.mvw[(x - s.fpbase) >> s.wshift] = head ^ sl.keys[i]
                fl.append(x)
                return
    except (AttributeError, TypeError):
        pass
    if not isinstance(s, KmemCache) or not s.alive:
        _bad_cache(s, "kmem_cache_free")
        return
    x = _to_addr(x, "kmem_cache_free() object")
    if x == 0:
        raise PageFault(s.slub.k.page_struct_addr((-s.po & s.slub.k.machine.addr_mask) >> PAGE_SHIFT)
                        & s.slub.k.machine.addr_mask, False,
                        hint="kmem_cache_free() was given NULL: unlike kfree(), it does not "
                             "accept NULL")
    s.slub.slab_free(s, x)


def _to_addr(x, what: str) -> int:
    if x.__class__ is int:
        return x
    if isinstance(x, bool):
        raise TypeError(f"{what} must be an address (int), not bool")
    from .typed import to_addr
    return to_addr(x, what)


def _bad_cache(s, fn: str):
    if s is None or s == 0:
        raise PageFault(0x0, False, hint=f"{fn}() was given a NULL cache pointer")
    if isinstance(s, KmemCache):
        raise PageFault(0x6b6b6b6b6b6b6b6b & s.slub.k.machine.addr_mask, False,
                        hint=f"{fn}() on '{s.name}' after kmem_cache_destroy() freed it "
                             f"(use after free of the struct kmem_cache)")
    raise TypeError(f"{fn}() takes a struct kmem_cache * (from kmem_cache_create), "
                    f"not {type(s).__name__}")


def kmem_cache_init(k) -> None:
    """Boot: the SLUB allocator, kmalloc caches and the kernel's own caches with their usage."""
    slub = Slub(k)
    k.subsystems["slab"] = slub
    k.context_hooks.append(slub.update_fast)
    from . import kmalloc
    kmalloc.create_boot_caches(k, slub)
    k.printk.emit(6, f"SLUB: HWalign={k.machine.cache_line}, Order=0-{slub.max_order}, "
                     f"MinObjects={slub.min_objects}, CPUs=1, Nodes=1")


# -- module API bodies ----------------------------------------------------------------------
def kmem_cache_create(k, name, size, align, flags, ctor):
    """kmem_cache_create: checks as mm/slab_common.c does, then Slub.create (None on failure)."""
    slub = k.subsystems["slab"]
    for arg, what in ((size, "size"), (align, "align"), (flags, "flags")):
        if isinstance(arg, bool) or not isinstance(arg, int):
            raise TypeError(f"kmem_cache_create() {what} must be an int, not {type(arg).__name__}")
    if ctor is not None and not callable(ctor):
        raise TypeError("kmem_cache_create() ctor must be a function or None")
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    err = 0
    if not isinstance(name, str) or not name or size < 1 or size > (1 << (MAX_ORDER + PAGE_SHIFT - 1)):
        err = -22
        k.printk.emit(4, f"kmem_cache_create({name}) integrity check failed")
    elif flags & ~SLAB_FLAGS_PERMITTED:
        err = -22                               # "Refuse requests with allocator specific flags"
    elif any(s.name == name for s in slub.caches) and _sysfs_name_taken(slub, name, size, align, flags, ctor):
        err = -17
    s = None
    if not err:
        s = slub.create(name, size, align, flags & ~_OBJECT_POISON, ctor)
        if s is None:
            err = -7
    if err:
        if flags & SLAB_PANIC:
            raise KernelBUG("mm/slab_common.c:335", hint=f"kmem_cache_create({name}) failed with "
                                                         f"SLAB_PANIC: the kernel would panic here")
        k.printk.emit(4, f"kmem_cache_create_usercopy({name}) failed with error {err}")
        k.reporter.dump_stack(["kmem_cache_create_usercopy.cold+0x5e/0x80",
                               "kmem_cache_create+0x16/0x20"])
        if err == -22 and flags & ~SLAB_FLAGS_PERMITTED:
            k.printk.emit(4, f"kmsim: kmem_cache_create('{name}') flags {flags:#x} include "
                             f"{flags & ~SLAB_FLAGS_PERMITTED:#x}, which is no SLAB_* flag a cache "
                             f"may be created with (GFP_* flags belong to kmem_cache_alloc)")
        return None
    if s.name == name:
        slub.creation_hint(s)
    return s


def _sysfs_name_taken(slub, name, size, align, flags, ctor) -> bool:
    """A second cache of the same name: sysfs refuses the duplicate directory (-EEXIST)."""
    if not slub.nomerge and ctor is None and slub.find_mergeable(size, align, flags) is not None:
        return False
    k = slub.k
    k.printk.emit(3, f"sysfs: cannot create duplicate filename '/kernel/slab/{name}'")
    k.reporter.dump_stack(["sysfs_warn_dup.cold+0x17/0x24", "sysfs_create_dir_ns+0xcc/0xe0",
                           "kobject_add_internal+0xbc/0x2b0", "kobject_init_and_add+0x6f/0xa0",
                           "sysfs_slab_add+0x105/0x260", "__kmem_cache_create+0x390/0x580",
                           "kmem_cache_create_usercopy+0x133/0x2b0", "kmem_cache_create+0x16/0x20"])
    k.printk.emit(3, f"kobject_add_internal failed for {name} with -EEXIST, don't try to register "
                     f"things with the same name in the same directory.")
    k.printk.emit(4, f"kmsim: a cache named '{name}' already exists (another module still has it): "
                     f"SLUB's sysfs needs unique names")
    return True


def KMEM_CACHE(k, struct, flags):
    """KMEM_CACHE(struct, flags): kmem_cache_create(#struct, sizeof, __alignof__, flags, NULL)."""
    from ..linux import types as T
    return kmem_cache_create(k, struct.__name__, T.sizeof(struct), T.alignof(struct), flags, None)


def kmem_cache_destroy(k, s) -> None:
    """kmem_cache_destroy: NULL is a no-op; objects left give the kernel's reports."""
    if s is None or s == 0:
        return
    if not isinstance(s, KmemCache):
        _bad_cache(s, "kmem_cache_destroy")
    if not s.alive:
        k.printk.emit(4, f"kmsim: kmem_cache_destroy('{s.name}') called again on a destroyed "
                         f"cache (a use after free in a real kernel); ignored")
        return
    k.subsystems["slab"].destroy(s)


def kmem_cache_shrink(k, s) -> int:
    """kmem_cache_shrink: release the cache's empty slabs; 0."""
    if not isinstance(s, KmemCache) or not s.alive:
        _bad_cache(s, "kmem_cache_shrink")
    k.subsystems["slab"].shrink(s)
    return 0


def kmem_cache_size(s) -> int:
    """kmem_cache_size: the object size the cache was created with."""
    if not isinstance(s, KmemCache):
        _bad_cache(s, "kmem_cache_size")
    return s.object_size
