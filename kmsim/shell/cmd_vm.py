"""Shell commands of the vmalloc area: vmallocinfo, pagewalk."""
from __future__ import annotations

from ..fs.vmalloc import format_vmallocinfo, vmallocinfo_json, vmallocinfo_rows
from ..machine import PAGE_SHIFT, PAGE_SIZE
from ..mm.pagetable import decode_flags
from .core import UsageError, command

__all__ = ["cmd_vmallocinfo", "cmd_pagewalk", "parse_addr"]


@command("vmallocinfo", help="vmalloc, vmap and ioremap areas (/proc/vmallocinfo)")
def cmd_vmallocinfo(ctx, args):
    """/proc/vmallocinfo, as a table on a terminal."""
    if args:
        raise UsageError("takes no arguments")
    rows = vmallocinfo_rows(ctx.kernel)
    ctx.table("vmallocinfo", format_vmallocinfo(ctx.kernel, rows), rows, vmallocinfo_json(rows))
    return 0


def parse_addr(text: str, mask: int) -> int:
    """An address as the user types it: 0xffffc900..., ffffc900..., or decimal."""
    t = text.strip().lower().replace("_", "")
    try:
        val = int(t, 16) if t.startswith("0x") or any(c in "abcdef" for c in t) else int(t, 0)
    except ValueError:
        raise UsageError(f"invalid address '{text}'") from None
    if val < 0 or val > mask:
        raise UsageError(f"address '{text}' does not fit in {mask.bit_length()} bits")
    return val


def _region(k, v, addr: int) -> str:
    """Which part of the address space addr is in, and the area holding it."""
    sp = v.space_of(addr)
    if sp is not None:
        a = sp.area_of(addr)
        if a is None:
            return f"{sp.name} range, no area"
        what = "guard page of " if a.guard and addr >= a.start + a.usable else ""
        kind = "" if "vmalloc" in a.types else (
            f"; a boot-time {a.types[0]} area: kmsim maps no frames behind it")
        return (f"{what}{sp.name} area {a.start:#x}-{a.end:#x} ({a.size} bytes, "
                f"{v.caller_text(a.caller)}){kind}")
    if v.pkmap is not None and v.pkmap.contains(addr):
        return "pkmap window (kmap)"
    return "no mapped range (not the direct map, vmalloc, modules or pkmap)"


@command("pagewalk", help="walk the page tables for a virtual address", usage="pagewalk ADDR")
def cmd_pagewalk(ctx, args):
    """Each level's index, entry and flags, then the frame and physical address."""
    if len(args) != 1:
        raise UsageError("usage: pagewalk ADDR")
    k = ctx.kernel
    m = k.machine
    addr = parse_addr(args[0], m.addr_mask)
    w = m.ptr_size * 2
    if k.vm.is_direct(addr):
        phys = addr - m.page_offset
        ctx.out(f"{addr:0{w}x}: direct (linear) map, PAGE_OFFSET {m.page_offset:#x}")
        ctx.out(f"  phys = addr - PAGE_OFFSET = {phys:#x}, pfn {phys >> PAGE_SHIFT:#x} "
                f"({phys >> PAGE_SHIFT}), offset {phys & (PAGE_SIZE - 1):#05x}")
        ctx.out("  (the kernel maps the linear map with huge pages; no per-page walk is needed)")
        return 0
    v = k.vmalloc
    if v is None:
        ctx.err("pagewalk: the kernel has no page tables for this range (vmalloc not booted)")
        return 1
    ctx.out(f"{addr:0{w}x}: {_region(k, v, addr)}")
    ctx.out(f"  root table (init_mm.pgd) at pfn {v.pt.root:#x}")
    steps = v.pt.walk(addr)
    ew = m.pte_size * 2
    last = v.pt.levels[-1].name
    for s in steps:
        if s.folded:
            ctx.out(f"  {s.level:<4} folded into the {v.pt.levels[0].name} (same entry)")
            continue
        leaf = s.level == last
        line = (f"  {s.level:<4} index {s.index:4d} ({s.index:#05x})  entry {s.entry:0{ew}x}  "
                f"{decode_flags(m.name, s.entry, leaf) if s.entry else 'none':<16}")
        if not s.present:
            ctx.out(line + " not present")
        elif leaf:
            ctx.out(line + f" -> frame pfn {(s.entry & v.pt.addr_mask) >> PAGE_SHIFT:#x}")
        else:
            ctx.out(line + f" -> table at pfn {v.pt.next_table(s.entry) >> PAGE_SHIFT:#x}")
    pfn = v.pt.lookup(addr)
    if pfn < 0:
        ctx.out(f"  not mapped: an access Oopses with '{v.pt.pgd_line(addr).strip()}'")
        return 1
    off = addr & (PAGE_SIZE - 1)
    zone = k.buddy.zone_of(pfn)
    ctx.out(f"  frame pfn {pfn:#x} ({pfn}) in zone {zone.name if zone else '?'}, "
            f"physical address {(pfn << PAGE_SHIFT) + off:#x} "
            f"(page {pfn << PAGE_SHIFT:#x} + offset {off:#05x})")
    return 0
