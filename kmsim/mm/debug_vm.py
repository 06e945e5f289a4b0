"""debug_vm: the whole machine's allocator invariants, checked in one pass.

As CONFIG_DEBUG_VM's checks (VM_BUG_ON_PAGE, check_new_page, the buddy
consistency of __free_one_page) but over every frame at once: each frame is in
exactly one state (free in one buddy list, free on one pcp list, owned, or
reserved/hole), the free counters equal the lists, and each later subsystem
checks itself through ``debug_check() -> list[str]``.  The printk ring buffer
is checked too.  Vectorised with numpy: a 1 GiB machine takes a few ms.

``--append debug_vm`` runs ``debug_vm_after_command`` after every shell command:
the first violation is printed as ``BUG: debug_vm: ...`` and taints the kernel (B).
"""
from __future__ import annotations

import numpy as np

from ..machine import MAX_ORDER
from ..report import TAINT_BAD_PAGE
from .physmem import PG_buddy, PG_hole, PG_pcp, PG_reserved

__all__ = ["check_kernel", "check_buddy", "check_clean_frames", "check_printk", "check_subsystems",
           "debug_vm_after_command", "report_violation"]

MAX_REPORTED = 20        # violations listed per check (the first one is what matters)


def _owner_name(k, owner: int) -> str:
    if 0 <= owner < len(k.owners):
        o = k.owners[owner]
        return f"{o.kind} {o.name}" if o.kind != o.name else o.kind
    return f"an unknown owner #{owner}"


def _free_blocks(k):
    """(pfn, order, kind, zone) arrays of every free block: kind 0 buddy list, 1 pcp list."""
    pfns, orders, kinds, zones = [], [], [], []
    for zi, z in enumerate(k.buddy.zones):
        pcp_by_order: list[list[int]] = [[] for _ in z.free_area]
        for pfn, order in z.pcp_blocks():
            pcp_by_order[order].append(pfn)
        for kind, lists in ((0, z.free_area), (1, pcp_by_order)):
            for order, heads in enumerate(lists):
                if heads:
                    a = np.fromiter(heads, dtype=np.int64, count=len(heads))
                    pfns.append(a)
                    orders.append(np.full(len(a), order, np.int64))
                    kinds.append(np.full(len(a), kind, np.int8))
                    zones.append(np.full(len(a), zi, np.int64))
    if not pfns:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0, np.int8), e
    return (np.concatenate(pfns), np.concatenate(orders), np.concatenate(kinds),
            np.concatenate(zones))


def _where(k, pfn: int, order: int, kind: int, zi: int) -> str:
    z = k.buddy.zones[zi]
    return (f"the order-{order} free list of {z.name}" if kind == 0
            else f"the order-{order} pcp list of {z.name}")


def _counters(k) -> list[str]:
    """zone.nr_free and zone.pcp_count against the lists; no duplicates within a pcp list."""
    out = []
    for z in k.buddy.zones:
        nr = sum(len(a) << o for o, a in enumerate(z.free_area))
        if nr != z.nr_free:
            out.append(f"zone {z.name}: nr_free is {z.nr_free} but its free lists hold {nr} pages")
        for o, area in enumerate(z.free_area):
            typed = {pfn: mt for mt, lst in enumerate(z.free_list[o]) for pfn in lst}
            if typed != area:
                bad = next(p for p in set(typed) | set(area)
                           if p not in typed or p not in area or typed[p] != area[p])
                out.append(f"zone {z.name}: order-{o} block {bad:#x} is on the free list of "
                           f"migrate type {typed.get(bad, 'none')}, its free area says "
                           f"{area.get(bad, 'none')}")
        pc = sum(1 << o for _pfn, o in z.pcp_blocks())
        if pc != z.pcp_count:
            out.append(f"zone {z.name}: pcp_count is {z.pcp_count} but its pcp lists hold {pc} pages")
        if z.nr_free < 0 or z.pcp_count < 0:
            out.append(f"zone {z.name}: negative free count (nr_free {z.nr_free}, pcp {z.pcp_count})")
    return out


def _block_checks(k, pfns, orders, kinds, zis) -> list[str]:
    """Each free block: inside its zone, aligned, order valid, its head's struct page right."""
    out = []
    mem = k.phys
    n = mem.nr_pages
    starts = np.array([z.zone_start_pfn for z in k.buddy.zones], np.int64)
    ends = np.array([z.end_pfn for z in k.buddy.zones], np.int64)
    bad = (orders < 0) | (orders >= MAX_ORDER)
    size = np.left_shift(1, np.clip(orders, 0, MAX_ORDER - 1))
    bad_zone = (pfns < starts[zis]) | (pfns + size > ends[zis]) | (pfns < 0) | (pfns + size > n)
    bad_align = (pfns & (size - 1)) != 0
    for i in np.flatnonzero(bad | bad_zone | bad_align)[:MAX_REPORTED]:
        p, o, kd, zi = int(pfns[i]), int(orders[i]), int(kinds[i]), int(zis[i])
        z = k.buddy.zones[zi]
        if bad[i]:
            why = "has an invalid order"
        elif bad_zone[i]:
            why = f"lies outside its zone [{z.zone_start_pfn:#x}, {z.end_pfn:#x})"
        else:
            why = f"is not aligned to {1 << o} pages"
        out.append(f"pfn {p:#x} on {_where(k, p, o, kd, zi)} {why}")
    if out:
        return out          # the struct page checks below would index out of range
    flags = mem.flags[pfns]
    want = np.where(kinds == 0, PG_buddy, PG_pcp).astype(np.uint32)
    bad_flags = flags != want
    bad_order = mem.order[pfns].astype(np.int64) != orders
    for i in np.flatnonzero(bad_flags | bad_order)[:MAX_REPORTED]:
        p, o, kd, zi = int(pfns[i]), int(orders[i]), int(kinds[i]), int(zis[i])
        if bad_flags[i]:
            name = "PG_buddy" if kd == 0 else "PG_pcp"
            why = f"has page flags {int(flags[i]):#x} ({k.page_flag_names(p)}), not {name} alone"
        else:
            why = f"has page order {int(mem.order[p])}"
        out.append(f"pfn {p:#x} is on {_where(k, p, o, kd, zi)} but {why}")
    return out


def _coverage(nr_pages: int, pfns, orders) -> np.ndarray:
    """How many free blocks cover each frame (a difference array, then a cumulative sum)."""
    diff = np.zeros(nr_pages + 1, np.int32)
    np.add.at(diff, pfns, 1)
    np.add.at(diff, pfns + np.left_shift(1, orders), -1)
    return np.cumsum(diff[:-1], dtype=np.int32)


def _frame_checks(k, pfns, orders, kinds, zis) -> list[str]:
    """Every frame in exactly one state: free (once), owned, or reserved/hole."""
    out = []
    mem = k.phys
    cov = _coverage(mem.nr_pages, pfns, orders)
    flags, owner, ref = mem.flags, mem.owner, mem.refcount
    # Which block covers a frame: the last block head at or below it (sorted by pfn).
    order_idx = np.argsort(pfns, kind="stable")
    sorted_pfns = pfns[order_idx]

    def block_of(p: int) -> str:
        j = int(np.searchsorted(sorted_pfns, p, side="right")) - 1
        if j < 0:
            return "a free list"
        i = order_idx[j]
        return _where(k, int(pfns[i]), int(orders[i]), int(kinds[i]), int(zis[i]))

    overlap = np.flatnonzero(cov > 1)
    if overlap.size:
        p = int(overlap[0])
        out.append(f"pfn {p:#x} is in {int(cov[p])} free blocks at once (free blocks overlap; "
                   f"one of them is on {block_of(p)})")
    free = cov > 0
    n_owned_free = free & (owner != 0)
    for p in np.flatnonzero(n_owned_free)[:MAX_REPORTED]:
        p = int(p)
        out.append(f"pfn {p:#x} is on {block_of(p)} but is owned by {_owner_name(k, int(owner[p]))}")
    bad_state = free & ((flags & (PG_reserved | PG_hole)) != 0)
    for p in np.flatnonzero(bad_state)[:MAX_REPORTED]:
        p = int(p)
        out.append(f"pfn {p:#x} is on {block_of(p)} but is marked "
                   f"{'hole' if flags[p] & PG_hole else 'reserved'}")
    bad_ref = free & (ref != 0)
    for p in np.flatnonzero(bad_ref)[:MAX_REPORTED]:
        p = int(p)
        out.append(f"pfn {p:#x} is on {block_of(p)} but has refcount {int(ref[p])}")
    # Tails of free blocks carry no flags (free_tail_pages_check).
    heads = np.zeros(mem.nr_pages, bool)
    heads[pfns] = True
    stale = free & ~heads & (flags != 0)
    for p in np.flatnonzero(stale)[:MAX_REPORTED]:
        p = int(p)
        out.append(f"pfn {p:#x} is free (inside a block on {block_of(p)}) but keeps page flags "
                   f"{int(flags[p]):#x} ({k.page_flag_names(p)})")
    # PG_buddy / PG_pcp only on the heads of listed blocks.
    for bit, name, kind in ((PG_buddy, "PG_buddy", 0), (PG_pcp, "PG_pcp", 1)):
        marked = (flags & bit) != 0
        listed = np.zeros(mem.nr_pages, bool)
        listed[pfns[kinds == kind]] = True
        for p in np.flatnonzero(marked & ~listed)[:MAX_REPORTED]:
            p = int(p)
            where = "free list" if kind == 0 else "pcp list"
            out.append(f"pfn {p:#x} has {name} but is on no {where}"
                       + (f" (it is owned by {_owner_name(k, int(owner[p]))})" if owner[p] else ""))
    # A frame not free is owned, reserved or a hole.
    lost = ~free & (owner == 0) & ((flags & PG_hole) == 0)
    lost_idx = np.flatnonzero(lost)
    if lost_idx.size:
        p = int(lost_idx[0])
        out.append(f"pfn {p:#x} is neither free nor owned ({lost_idx.size} such frames: "
                   f"pages lost to the allocator, a free that did not reach the free lists)")
    bad_owner = (owner < 0) | (owner >= len(k.owners))
    for p in np.flatnonzero(bad_owner)[:MAX_REPORTED]:
        p = int(p)
        out.append(f"pfn {p:#x} has an invalid owner id {int(owner[p])}")
    neg = np.flatnonzero(ref < 0)
    for p in neg[:MAX_REPORTED]:
        out.append(f"pfn {int(p):#x} has a negative refcount {int(ref[p])}")
    return out


def check_buddy(k) -> list[str]:
    """The page allocator's invariants over every frame of the machine."""
    out = _counters(k)
    pfns, orders, kinds, zis = _free_blocks(k)
    blk = _block_checks(k, pfns, orders, kinds, zis)
    if blk and any("outside" in v or "invalid order" in v or "aligned" in v for v in blk):
        return out + blk
    return out + blk + _frame_checks(k, pfns, orders, kinds, zis)


def check_printk(k) -> list[str]:
    """The log buffer: sequence numbers increasing and contiguous, bytes accounted, in capacity."""
    lb = k.printk
    out: list[str] = []
    recs = lb.records
    if not recs:
        return out
    seqs = np.fromiter((r.seq for r in recs), dtype=np.int64, count=len(recs))
    if seqs.size > 1:
        gaps = np.flatnonzero(np.diff(seqs) != 1)
        if gaps.size:
            i = int(gaps[0])
            out.append(f"printk: record seq {int(seqs[i + 1])} follows seq {int(seqs[i])} "
                       f"(sequence numbers must be contiguous)")
    if int(seqs[-1]) != lb.next_seq - 1:
        out.append(f"printk: last record has seq {int(seqs[-1])} but next_seq is {lb.next_seq}")
    used = sum(map(lb._cost, [r.text for r in recs]))
    if used != lb.used:
        out.append(f"printk: buffer says {lb.used} bytes used, its records cost {used}")
    if lb.used > lb.capacity and len(recs) > 1:
        out.append(f"printk: {lb.used} bytes used in a {lb.capacity}-byte buffer")
    if len(recs) > max(lb.max_records, 1):
        out.append(f"printk: {len(recs)} records, more than the {lb.max_records} the buffer holds")
    bad = [r for r in recs if not isinstance(r.text, str) or not 0 <= r.level <= 7]
    if bad:
        out.append(f"printk: record seq {bad[0].seq} is malformed (level {bad[0].level!r})")
    return out


def check_subsystems(k) -> list[str]:
    """Each subsystem's own debug_check() (slab, vmalloc, mempool ...), prefixed by its name."""
    out = []
    for name, fn in k.debug_checkers():
        try:
            res = fn() or []
        except Exception as e:      # a broken checker is itself a violation
            res = [f"debug_check() raised {type(e).__name__}: {e}"]
        out += [f"{name}: {v}" for v in res]
    return out


def check_clean_frames(k) -> list[str]:
    """Every frame the allocator counts as clean (PhysMem.dirty 0, so it will not be cleared
    before its next use) holds only zeros."""
    bad = k.phys.unmarked_writes()
    return [f"pfn {pfn:#x} is marked clean but holds data (a write that did not mark it)"
            for pfn in bad[:MAX_REPORTED].tolist()]


def check_kernel(k) -> list[str]:
    """All invariants of the machine; an empty list when everything holds."""
    return check_buddy(k) + check_clean_frames(k) + check_subsystems(k) + check_printk(k)


def report_violation(k, violations: list[str]) -> None:
    """Print the first violation in the kernel's BUG style and taint B."""
    if not violations:
        return
    k.printk.emit(1, f"BUG: debug_vm: {violations[0]}")
    if len(violations) > 1:
        k.printk.emit(1, f"debug_vm: {len(violations) - 1} more violation(s) follow from it")
    k.reporter.dump_stack(["debug_vm_check+0x3c/0x90"], level=4)
    k.add_taint(TAINT_BAD_PAGE)


def debug_vm_after_command(k) -> None:
    """Run the checker if the kernel booted with debug_vm; report a new first violation once."""
    if "debug_vm" not in k.params:
        return
    violations = check_kernel(k)
    first = violations[0] if violations else None
    if first is not None and first != k.debug_vm_last:
        report_violation(k, violations)
    k.debug_vm_last = first
