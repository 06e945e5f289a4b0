"""SLUB's debugging: the checks slub_debug= turns on and the reports they print (mm/slub.c, 6.1).

A debug cache's objects carry red zones, poison and tracks in their real bytes;
``alloc_debug_processing``/``free_debug_processing`` run the checks on every allocation
and free, ``validate_slab_cache`` on demand; a failed check prints SLUB's report
(``slab_bug``'s banner, ``print_trailer``'s hex dumps, the stack) and ``slab_fix``
says what it repaired.  Each function takes the cache ``s`` as its C namesake does;
the kernel is ``s.slub.k``.
"""
from __future__ import annotations

import operator
from typing import TYPE_CHECKING

import numpy as np

from ..errors import KernelBUG
from ..machine import PAGE_SIZE
from ..report import TAINT_BAD_PAGE, format_frame, kernel_caller, module_frames, print_tainted
from .physmem import PG_slab
from .slab import (
    POISON_END,
    POISON_FREE,
    POISON_INUSE,
    SLAB_POISON,
    SLUB_RED_ACTIVE,
    SLUB_RED_INACTIVE,
    TRACK_SIZE,
    KmemCache,
    Slab,
    get_freepointer,
    set_freepointer,
)

if TYPE_CHECKING:                      # type-only: slub.py calls these checks
    from .slub import Slub

__all__ = ["alloc_debug_processing", "free_debug_processing", "check_object", "on_freelist",
           "init_object", "set_track", "tracking_lines", "slab_bug", "slab_fix", "slab_err",
           "object_err", "print_trailer", "list_slab_objects", "validate_slab_cache",
           "slub_invariants", "caller_frames", "frame_args"]

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



def _check_object_frame(what: str) -> list[str]:
    """check_object's own frame for the check that failed."""
    return [f"check_object+{_CHECK_OBJECT_RET[what]:#x}/0x280"]


def caller_frames(k) -> list:
    """The module's own frames on the live stack, innermost first."""
    return [f for f in module_frames(k.modules.module_files()) if f[2] is not None]


def frame_args(f):
    fn, ln, mod, code = f
    return fn, ln, code, mod



def alloc_checked(s: KmemCache, sl: Slab, x: int) -> bool:
    """alloc_single_from_partial has already set slab->freelist to x's stored free
    pointer: a corrupt one shows as the slab's fp in the reports of the checks."""
    k = s.slub.k
    if s.checks:
        nxt = get_freepointer(s, x) & k.machine.addr_mask
        if nxt != (sl.freelist[-1] if sl.freelist else 0):
            sl.bad_head = nxt
    try:
        return alloc_debug_processing(s, sl, x)
    finally:
        sl.bad_head = None


def alloc_debug_processing(s: KmemCache, sl: Slab, x: int) -> bool:
    """alloc_debug_processing: checks (F), then init_object(SLUB_RED_ACTIVE) and the alloc
    track.  A failed check marks every object of the slab used (freelist NULL)."""
    if s.checks and not check_object(s, sl, x, SLUB_RED_INACTIVE, _ALLOC_FRAMES):
        slab_fix(s, "Marking all objects used")
        sl.freelist.clear()
        sl.lost = 0                          # slab->inuse = slab->objects
        s.partial.pop(sl, None)
        sl.where = "full"
        s.full[sl] = None
        return False
    init_object(s, x, SLUB_RED_ACTIVE)
    if s.store_user:
        set_track(s, x, 0)
    return True

# -- freeing -------------------------------------------------------------------------


def free_debug_processing(s: KmemCache, sl: Slab, x: int) -> bool:
    """free_debug_processing (6.1, one object): the inuse count, free_consistency_checks
    (F), the free track, init_object(SLUB_RED_INACTIVE).  False: not freed."""
    if sl.inuse < 1:
        slab_err(s, sl, f"Slab has {sl.inuse} allocated objects but 1 are to be freed\n",
                      ["slab_err+0xae/0xe7", "free_to_partial_list.cold+0x101/0x106"])
        return False
    if s.checks and not free_consistency_checks(s, sl, x):
        return False
    if s.store_user:
        set_track(s, x, 1)
    init_object(s, x, SLUB_RED_INACTIVE)
    return True


def free_consistency_checks(s: KmemCache, sl: Slab, x: int) -> bool:
    """free_consistency_checks: a valid pointer, not on the freelist, intact object."""
    k = s.slub.k
    if not s.object_index_ok(sl, x):
        slab_err(s, sl, f"Invalid object pointer 0x{hp(k, x)}",
                      ["slab_err+0xae/0xe7", "free_to_partial_list.cold+0x101/0x106"])
        return False
    if on_freelist(s, sl, x, ["free_to_partial_list+0x180/0x4f0"]):
        object_err(s, sl, x, "Object already free", ["free_to_partial_list.cold+0x82/0x106"])
        return False
    return check_object(s, sl, x, SLUB_RED_ACTIVE, ["free_to_partial_list+0x19b/0x4f0"])


def free_on_freelist(s: KmemCache, sl: Slab, x: int) -> None:
    """A double free without consistency checks: the hook made x the tail of the chain.
    At the head, set_freepointer's BUG_ON(object == fp) fires after slab->inuse--, with
    n->list_lock held (irqs off, preempt_count 1).  Deeper, the kernel would turn the
    freelist into a cycle, which kmsim does not model: it leaves x where it is."""
    k = s.slub.k
    if sl.freelist[-1] == x:
        sl.lost += 1                         # slab->inuse -= cnt came first
        e = KernelBUG("mm/slub.c:419", rip="free_to_partial_list+0x42d/0x4f0",   # the debug slow path
                      hint=f"double free of {x:#x} in '{s.name}' (without consistency "
                           f"checks SLUB only has the hardened freelist's BUG_ON)")
        e.irqs_disabled, e.preempt_count = True, 1   # make_task_dead's "note:" lines
        raise e
    k.printk.emit(4, f"kmsim: kmem_cache_free({x:#x}): double free of an object deep in "
                          f"the freelist of '{s.name}': SLUB would make the freelist a cycle; "
                          f"ignored")


def wrong_cache(s: KmemCache, real: KmemCache, x: int) -> None:
    """cache_from_obj: WARN 'Wrong slab cache'; the object is freed to its real cache."""
    k = s.slub.k
    k.reporter.warn("mm/slab.h:643", "kmem_cache_free+0x2a9/0x310",
                         message=f"cache_from_obj: Wrong slab cache. {s.name} but object is "
                                 f"from {real.name}")
    for line in tracking_lines(real, x):
        k.printk.emit(3, line)

# -- debug memory ----------------------------------------------------------------------


def init_object(s: KmemCache, x: int, val: int) -> None:
    """init_object: red zones to val, poison 6b..a5 (debug caches only)."""
    k = s.slub.k
    b = k.phys.bytes
    o = x - s.po
    if s.redzone:
        b[o - s.red_left_pad:o] = val
    if s.poison:
        b[o:o + s.object_size - 1] = POISON_FREE
        b[o + s.object_size - 1] = POISON_END
    if s.redzone:
        b[o + s.object_size:o + s.inuse] = val


def set_track(s: KmemCache, x: int, which: int) -> None:
    """set_track: remember the caller (module function) of the alloc (0) or free (1)."""
    k = s.slub.k
    frames = caller_frames(k)
    where = format_frame(*frame_args(frames[0])).strip() if frames else kernel_caller(k)
    stack = [format_frame(*frame_args(f)).strip() for f in frames] or [where] * (where != "0x0")
    t = s.tracks.setdefault(x, [None, None])
    t[which] = (where, k.current.pid, k.clock_ns(), stack)
    o = x - s.po + (s.offset + s.ptr if s.offset >= s.inuse else s.inuse) + which * TRACK_SIZE
    if o + 8 <= x - s.po + s.size:
        s.mm[o:o + 8] = (0xffffffffc0000000 + (hash(where) & 0xfffff)).to_bytes(8, "little")


def tracking_lines(s: KmemCache, x: int) -> list[str]:
    """print_tracking: 'Allocated in f+0x../0x.. [mod] age=N cpu=0 pid=P' and the stack."""
    k = s.slub.k
    if not s.store_user:
        return []
    t = s.tracks.get(x)
    if not t:
        return []
    now = k.clock_ns()
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


def hp(k, addr: int) -> str:
    """%p of an address."""
    return k.printk_ctx.hash_pointer(addr)


def check_bytes_and_report(s, sl, obj, what, start, value, n, frames) -> bool:
    """check_bytes_and_report: a BUG report and the bytes restored on mismatch."""
    k = s.slub.k
    if n <= 0:
        return True
    o = start - s.po
    data = bytes(s.mm[o:o + n])
    bad = [i for i, c in enumerate(data) if c != value]
    if not bad:
        return True
    first, last = bad[0], bad[-1]
    fault, end = start + first, start + last
    slab_bug(s, f"{what} overwritten")
    k.printk.emit(3, f"0x{hp(k, fault)}-0x{hp(k, end)} @offset={fault - sl.base}. "
                          f"First byte {data[first]:#x} instead of {value:#x}")
    print_trailer(s, sl, obj, ["check_bytes_and_report.cold+0x6d/0x97"] + frames)
    taint(k)
    slab_fix(s, f"Restoring {what} 0x{hp(k, fault)}-0x{hp(k, end)}={value:#x}")
    k.phys.bytes[fault - s.po:end - s.po + 1] = value
    return False


def check_object(s, sl, x, val, frames) -> bool:
    """check_object (6.1): red zones, poison and padding (check_pad_bytes), then the free
    pointer (not for an allocated object whose free pointer lies inside it).
    frames: the callers' stack below check_object."""
    end = x + s.object_size

    def cb(what, start, value, n):
        return check_bytes_and_report(s, sl, x, what, start, value, n,
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
        check_pad_bytes(s, sl, x, frames)      # cleans up on its own
    if s.offset < s.inuse and val == SLUB_RED_ACTIVE:
        return True          # object and free pointer overlap: not checkable while in use
    return check_freepointer(s, sl, x, frames)


def check_pad_bytes(s, sl, x, frames) -> bool:
    """check_pad_bytes: POISON_INUSE from the end of the metadata (free pointer outside
    the object, tracks, kmalloc's orig_size) to the end of the slot."""
    off = pad_start(s)
    size_from_object = s.size - s.red_left_pad
    if off == size_from_object:
        return True
    return check_bytes_and_report(s, sl, x, "Object padding", x + off, POISON_INUSE,
                                       size_from_object - off,
                                       _check_object_frame("Object padding") + frames)


def get_info_end(s: KmemCache) -> int:
    """get_info_end: where the object's metadata (the free pointer) ends."""
    return s.inuse + s.ptr if s.offset >= s.inuse else s.inuse


def pad_start(s: KmemCache) -> int:
    """Offset of the padding from the object: after the free pointer, the two tracks
    (SLAB_STORE_USER) and a kmalloc cache's orig_size, as check_pad_bytes and
    print_trailer count them."""
    off = get_info_end(s)
    if s.store_user:
        off += 2 * (TRACK_SIZE if s.ptr == 8 else 24) + (4 if s.kmalloc else 0)
    return off


def check_freepointer(s, sl, x, frames) -> bool:
    """check_object's last step: a free pointer that is no object of the slab is
    "Freepointer corrupt", and is zapped to NULL (the rest of the chain is lost)."""
    k = s.slub.k
    fp = get_freepointer(s, x) & k.machine.addr_mask
    if check_valid_pointer(s, sl, fp):
        return True
    object_err(s, sl, x, "Freepointer corrupt", _check_object_frame("Freepointer corrupt")
                    + frames)
    set_freepointer(s, x, 0)
    sl.cut_chain(x)
    return False


def check_valid_pointer(s: KmemCache, sl: Slab, p: int) -> bool:
    """check_valid_pointer: NULL, or the start of one of the slab's objects."""
    return p == 0 or s.object_index_ok(sl, p)


def on_freelist(s, sl, search, frames) -> bool:
    """on_freelist (6.1): walk the chain from slab->freelist.  True if search is on it.
    A free pointer that is no object is "Freechain corrupt" (the chain is cut there);
    when search is not found, slab->inuse is checked against the objects counted."""
    chain = sl.freelist[::-1]
    bad = first_bad_fp(s, sl, chain)
    nr = len(chain) if bad is None else bad + 1
    if search is not None and search in chain[:nr]:
        return True
    if bad is not None:
        obj = chain[bad]
        object_err(s, sl, obj, "Freechain corrupt", ["on_freelist.cold+0x2d/0x111"] + frames)
        set_freepointer(s, obj, 0)
        sl.cut_chain(obj)
    if sl.inuse != sl.objects - nr:
        slab_err(s, sl, f"Wrong object count. Counter is {sl.inuse} but counted were "
                             f"{sl.objects - nr}",
                      ["slab_err+0xae/0xe7", "on_freelist.cold+0x95/0x111"] + frames)
        sl.lost = 0                          # slab->inuse = slab->objects - nr
        slab_fix(s, "Object count adjusted")
    return search is None


def first_bad_fp(s: KmemCache, sl: Slab, chain: list[int]) -> int | None:
    """Index in chain of the first free object whose stored free pointer is no valid
    object (a module wrote over it), or None; numpy reads them all at once."""
    k = s.slub.k
    if not chain:
        return None
    dt = np.uint64 if s.ptr == 8 else np.uint32
    objs = np.array(chain, dtype=dt)
    first = sl.base + s.red_left_pad
    idx = (objs - dt(first)) // dt(s.size)  # type: ignore[operator]  # numpy's stubs cannot type uint32-or-uint64 array arithmetic
    words = np.frombuffer(k.phys.mm, dtype=dt)
    raw = words[((objs - dt(s.fpbase)) >> dt(s.wshift)).astype(np.int64)]  # type: ignore[operator]  # numpy's stubs cannot type uint32-or-uint64 array arithmetic
    fp = raw ^ np.frombuffer(sl.keys, dtype=dt)[idx.astype(np.int64)]
    off = fp - dt(first)                     # wraps around below the slab: invalid
    ok = (fp == 0) | ((off % dt(s.size) == 0) & (off < dt(sl.objects * s.size)))
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if len(bad) else None

# -- report pieces -------------------------------------------------------------------


def taint(k) -> None:
    """add_taint(TAINT_BAD_PAGE, LOCKDEP_NOW_UNRELIABLE)."""
    k.add_taint(TAINT_BAD_PAGE)
    k.modules.lockdep_off()


def slab_bug(s: KmemCache, msg: str) -> None:
    """slab_bug: the ===== banner."""
    k = s.slub.k
    # one record per pr_err; a message's second newline is a blank line of its record
    bug = f"BUG {s.name} ({print_tainted(k.taint)}): {msg}".rstrip("\n")
    lines = [_BANNER, bug + ("\n\n" if msg.endswith("\n") else ""), _DASHES + "\n\n"]
    k.reporter.emit(lines, level=3)


def slab_fix(s: KmemCache, msg: str) -> None:
    """slab_fix: 'FIX cache: msg'."""
    k = s.slub.k
    k.printk.emit(3, f"FIX {s.name}: {msg}")


def slab_info_line(sl: Slab) -> str:
    """print_slab_info."""
    k = sl.cache.slub.k
    head = sl.freelist[-1] if sl.freelist else 0
    if sl.bad_head is not None:
        head = sl.bad_head
    zone = k.buddy.zone_of(sl.pfn)
    zi = zone.idx if zone is not None else 0
    return (f"Slab 0x{hp(k, k.page_struct_addr(sl.pfn))} objects={sl.objects} used={sl.inuse} "
            f"fp=0x{hp(k, head) if head else '0' * (2 * k.machine.ptr_size)} flags=0xfffffc0000200"
            f"(slab|node=0|zone={zi}|lastcpupid=0x1fffff)")


def print_section(k, label: str, addr: int, n: int) -> list[str]:
    """print_hex_dump(DUMP_PREFIX_ADDRESS, 16, 1, ascii) of simulated memory."""
    data = k.vm.peek(addr, n) or bytes(n)
    out = []
    for i in range(0, n, 16):
        row = data[i:i + 16]
        hx = " ".join(f"{c:02x}" for c in row)
        asc = "".join(chr(c) if 32 <= c < 127 else "." for c in row)
        out.append(f"{label}{hp(k, addr + i)}: {hx:<47}  {asc}")
    return out


def print_trailer(s: KmemCache, sl: Slab, x: int, frames: list[str]) -> None:
    """print_trailer: tracking, Slab, Object lines, the hex dumps, the stack."""
    k = s.slub.k
    fp = get_freepointer(s, x) & k.machine.addr_mask
    fps = hp(k, fp) if fp else "0" * (2 * s.ptr)
    lines = tracking_lines(s, x)
    lines += [slab_info_line(sl), f"Object 0x{hp(k, x)} @offset={x - sl.base} fp=0x{fps}\n\n"]
    if s.redzone:
        lines += print_section(k, "Redzone  ", x - s.red_left_pad, s.red_left_pad)
    elif x > sl.base + 16:
        lines += print_section(k, "Bytes b4 ", x - 16, 16)
    lines += print_section(k, "Object   ", x, min(s.object_size, PAGE_SIZE))
    if s.redzone:
        lines += print_section(k, "Redzone  ", x + s.object_size, s.inuse - s.object_size)
    off = pad_start(s)
    size_from_object = s.size - s.red_left_pad
    if off != size_from_object:
        lines += print_section(k, "Padding  ", x + off, size_from_object - off)
    k.reporter.emit(lines, level=3)
    k.reporter.dump_stack(frames, level=4)


def object_err(s, sl, x, reason, frames) -> None:
    """object_err: banner and trailer."""
    k = s.slub.k
    slab_bug(s, reason)
    print_trailer(s, sl, x, ["object_err+0x8a/0xb6"] + frames)
    taint(k)


def slab_err(s, sl, msg, frames) -> None:
    """slab_err: banner, the Slab line, the stack."""
    k = s.slub.k
    slab_bug(s, msg)
    k.reporter.emit([slab_info_line(sl)], level=3)
    k.reporter.dump_stack(frames, level=4)
    taint(k)

# -- destroy -------------------------------------------------------------------------


def list_slab_objects(s: KmemCache, sl: Slab, text: str) -> None:
    """list_slab_objects: slab_err, then 'Object 0x%p @offset=%tu' (and the tracks) of
    every object not on the slab's freelist."""
    k = s.slub.k
    slab_err(s, sl, text, ["slab_err+0xae/0xe7", "__kmem_cache_shutdown.cold+0x34/0xe9",
                                "kmem_cache_destroy+0x51/0x150"])
    free = set(sl.freelist)
    for i in range(sl.objects):
        x = sl.base + s.red_left_pad + i * s.size
        if x not in free:
            k.printk.emit(3, f"Object 0x{hp(k, x)} @offset={x - sl.base}")
            for line in tracking_lines(s, x):
                k.printk.emit(3, line)

# -- queries -------------------------------------------------------------------------


def validate_slab_cache(s: KmemCache) -> None:
    """validate_slab_cache: validate_slab on each partial slab, and on each full one when
    SLAB_STORE_USER keeps a full list (a cache with consistency checks only)."""
    if not s.checks:
        return
    for sl in list(s.partial) + (list(s.full) if s.store_user else []):
        validate_slab(s, sl)


def validate_slab(s: KmemCache, sl: Slab) -> None:
    """validate_slab: on_freelist(NULL) (the chain and the count), then check_object of
    every object against its state, stopping at the first that fails."""
    frames = ["validate_slab+0x9a/0x120", "validate_slab_cache+0x101/0x160"]
    if not on_freelist(s, sl, None, frames):
        return
    free = set(sl.freelist)
    for i in range(sl.objects):
        x = sl.base + s.red_left_pad + i * s.size
        val = SLUB_RED_INACTIVE if x in free else SLUB_RED_ACTIVE
        if not check_object(s, sl, x, val, frames):
            break


def slub_invariants(slub: Slub) -> list[str]:
    """Invariant violations: counters, page flags and owners, double-listed free objects.
    debug_vm runs this after every command: a whole-machine test first (numpy over the slab
    pages), and only when it fails the check that names each violation."""
    if _slub_sound(slub):
        return []
    return _slub_violations(slub)


def _slub_sound(slub: Slub) -> bool:
    """True only when _slub_violations would find nothing (its conditions, in bulk; stricter
    in one: a free object listed twice across slabs, not only within one)."""
    starts, counts, owners, listed = [], [], [], []
    free: list[int] = []
    lens, firsts, spans, sizes = [], [], [], []
    for s in slub.caches:
        if s.cpu_slab is not None and s.cpu_freelist is not s.cpu_slab.freelist:
            return False
        dbg = s.debug
        for sl in s.slabs():
            fl, lost = sl.freelist, sl.lost
            if (sl.cache is not s or len(fl) + lost > sl.objects or lost < 0 or (lost and not dbg)
                    or sl.where not in _SLAB_STATES or (sl.where == "full" and fl and not dbg)):
                return False
            if fl:
                free += fl
                lens.append(len(fl))
                firsts.append(sl.base + s.red_left_pad)
                spans.append(sl.objects * s.size)
                sizes.append(s.size)
            n = 1 << sl.order
            starts.append(sl.pfn)
            counts.append(n)
            owners.append(s.owner)
            listed += [sl] * n
    if len(listed) != len(slub.slab_of):
        return False
    if free:
        x = np.array(free, dtype=np.uint64)
        off = x - np.repeat(np.array(firsts, dtype=np.uint64), lens)    # below the slab: wraps, too big
        size = np.repeat(np.array(sizes, dtype=np.uint64), lens)
        if ((off >= np.repeat(np.array(spans, dtype=np.uint64), lens)).any() or (off % size).any()
                or len(set(free)) != len(free)):
            return False
    if not listed:
        return True
    cnt = np.asarray(counts)
    pages = np.repeat(np.asarray(starts) - np.cumsum(cnt) + cnt, cnt) + np.arange(len(listed))
    ph = slub.k.phys
    if not (ph.flags[pages] & PG_slab).all() or (ph.owner[pages] != np.repeat(owners, cnt)).any():
        return False
    return all(map(operator.is_, map(slub.slab_of.get, pages.tolist()), listed))


_SLAB_STATES = ("cpu", "partial", "full")


def _slub_violations(slub: Slub) -> list[str]:  # noqa: C901 -- a flat list of invariants, one check each
    """slub_invariants' messages, one per violation found."""
    bad = []
    ph = slub.k.phys
    flags, owner = ph.c_flags, ph.c_owner            # ctypes views: a third of a numpy read's cost
    for s in slub.caches:
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
            first, size = sl.base + s.red_left_pad, s.size      # check_valid_pointer, inlined
            end = first + sl.objects * size
            for x in fl:
                if not (first <= x < end and (x - first) % size == 0):
                    bad.append(f"{s.name}: free object {x:#x} not in slab {sl.pfn:#x}")
                    break
            for p in range(sl.pfn, sl.pfn + (1 << sl.order)):
                if not flags[p] & PG_slab:
                    bad.append(f"{s.name}: page {p:#x} of a slab is not PG_slab")
                if owner[p] != s.owner:
                    bad.append(f"{s.name}: page {p:#x} of a slab is owned by {owner[p]}")
                if slub.slab_of.get(p) is not sl:
                    bad.append(f"{s.name}: page {p:#x} does not map to its slab")
            exp = {"cpu": "cpu", "partial": "partial", "full": "full"}
            if sl.where not in exp:
                bad.append(f"{s.name}: slab {sl.pfn:#x} in state {sl.where!r}")
            if sl.where == "full" and sl.freelist and not s.debug:
                bad.append(f"{s.name}: full slab {sl.pfn:#x} has free objects")
        if s.cpu_slab is not None and s.cpu_freelist is not s.cpu_slab.freelist:
            bad.append(f"{s.name}: cpu freelist is not the cpu slab's")
    listed = sum(1 << sl.order for s in slub.caches for sl in s.slabs())
    if listed != len(slub.slab_of):
        bad.append(f"slab pages: {len(slub.slab_of)} mapped, {listed} on cache lists")
    return bad
