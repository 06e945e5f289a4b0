"""memmap: a picture of physical memory, one cell per run of frames.

Each zone is drawn as rows of 64 cells; a cell covers a power-of-two run of
frames (aligned, so a buddy block of that size or more fills whole cells).  A
cell shows who owns its frames: a free cell shows the largest buddy order
among its free frames (``0``-``9``, ``A`` for order 10), so splitting a block
turns one ``A`` run into ``9 8 7 ...`` and freeing it merges them back.  A cell
holding any allocated frame shows the most common owner among them.  Under the
picture: the legend and, per zone, the free blocks per order and the unusable
free space index (as /sys/kernel/debug/extfrag/unusable_index prints it).

Plain characters when not on a terminal; rich colours (and SVG) otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..machine import MAX_ORDER, PAGE_SHIFT
from ..mm.physmem import PG_hole, PG_pcp

__all__ = ["ZoneMap", "build_zone_map", "build_maps", "zone_map_json", "plain_picture", "rich_picture",
           "unusable_free_index", "save_svg", "svg_text", "COLUMNS", "ORDER_CHARS"]

COLUMNS = 64
MAX_ROWS = 32
LEGEND_CACHES = 8          # boot slab caches named in the legend (the biggest)
ORDER_CHARS = "0123456789ABCDEF"

# Cell kinds (the owner kinds of kmsim.kernel.Owner plus free and hole).
KIND_CHARS = {"hole": " ", "pcp": "p", "kernel": "k", "reserved": "#", "memmap": "=",
              "module": "m", "slab": "s", "vmalloc": "v", "pgtable": "t"}
KIND_STYLES = {"hole": "", "pcp": "black on bright_green", "kernel": "black on white",
               "reserved": "white on grey30", "memmap": "white on grey19",
               "module": "black on bright_yellow", "slab": "black on bright_magenta",
               "vmalloc": "white on blue", "pgtable": "black on bright_cyan"}
KIND_LABELS = {"hole": "hole (no memory)", "pcp": "free, on a per-cpu list",
               "kernel": "kernel (alloc_pages by the kernel or py)", "reserved": "reserved at boot",
               "memmap": "mem_map (struct page array)", "module": "module (alloc_pages in a module)",
               "slab": "slab", "vmalloc": "vmalloc", "pgtable": "page tables"}
# Free cells: green, darker for small orders.
ORDER_STYLES = ["black on #1f5f1f", "black on #247024", "black on #2a802a", "black on #308f30",
                "black on #36a036", "black on #3caf3c", "black on #46bf46", "black on #55cc55",
                "black on #66d866", "black on #7de47d", "black on #99f099", "black on #b0ffb0",
                "black on #c0ffc0", "black on #d0ffd0", "black on #e0ffe0", "black on #f0fff0"]
SLAB_STYLES = ["black on bright_magenta", "black on magenta", "white on dark_magenta",
               "black on plum2", "black on orchid", "white on purple", "black on violet",
               "black on hot_pink", "white on deep_pink4", "black on light_pink1"]


@dataclass
class Cell:
    """One cell: its character, style key (kind or owner) and label for the legend."""
    char: str
    kind: str
    owner: int = 0
    order: int = -1


@dataclass
class ZoneMap:
    """The picture of one zone: cells, geometry and fragmentation numbers."""
    name: str
    start_pfn: int
    end_pfn: int
    frames_per_cell: int
    cells: list[Cell]
    nr_free_blocks: list[int]
    unusable: list[float]
    free_pages: int
    owners_seen: dict[int, int] = field(default_factory=dict)   # owner id -> frames

    @property
    def rows(self) -> int:
        """Number of rows of COLUMNS cells."""
        return (len(self.cells) + COLUMNS - 1) // COLUMNS


def unusable_free_index(nr_free_blocks: list[int]) -> list[float]:
    """mm/vmstat.c unusable_free_index per order: the share of free memory unusable at it."""
    free_pages = sum(n << o for o, n in enumerate(nr_free_blocks))
    out = []
    for order in range(len(nr_free_blocks)):
        if free_pages == 0:
            out.append(1.0)
            continue
        suitable = sum(n << (o - order) for o, n in enumerate(nr_free_blocks) if o >= order)
        out.append(((free_pages - (suitable << order)) * 1000 // free_pages) / 1000)
    return out


def _frames_per_cell(span: int, max_rows: int) -> int:
    want = max(1, -(-span // (COLUMNS * max_rows)))
    return 1 << (want - 1).bit_length()


def _free_orders(zone, start: int, n: int) -> np.ndarray:
    """Per frame of the zone: the order of the buddy block it lies in, or -1."""
    orders = np.full(n, -1, np.int8)
    for head, order in zone.free_blocks():
        orders[head - start:head - start + (1 << order)] = order
    return orders


def build_zone_map(kernel, zone, max_rows: int = MAX_ROWS) -> ZoneMap:
    """Classify every frame of a zone and fold them into cells."""
    # from the zone's first max-order boundary, so cells line up with buddy blocks
    # (x86's DMA zone starts at pfn 1: pfn 0 is drawn as a hole)
    start, end = zone.zone_start_pfn & ~((1 << (MAX_ORDER - 1)) - 1), zone.end_pfn
    n = end - start
    fpc = _frames_per_cell(n, max_rows)
    phys = kernel.phys
    owner = phys.owner_ids(start, end)
    free_order = _free_orders(zone, start, n)
    pcp = phys.flagged(PG_pcp, start, end)
    for head, order in zone.pcp_blocks():
        pcp[head - start:head - start + (1 << order)] = True
    hole = phys.flagged(PG_hole, start, end)
    used = (owner != 0) & ~hole
    ncells = -(-n // fpc)
    pad = ncells * fpc - n

    def cells_of(a, fill):
        return np.concatenate([a, np.full(pad, fill, a.dtype)]).reshape(ncells, fpc)
    used_c = cells_of(used, False)
    hole_c = cells_of(hole, True)
    order_c = cells_of(free_order, -1).max(axis=1)
    pcp_c = cells_of(pcp, False).any(axis=1)
    owner_c = cells_of(owner, 0)
    kinds = [o.kind for o in kernel.owners]
    seen = {int(i): int(c) for i, c in zip(*np.unique(owner[used], return_counts=True), strict=False)}
    cells = []
    any_used = used_c.any(axis=1)
    all_hole = hole_c.all(axis=1)
    for i in range(ncells):
        if any_used[i]:
            ids = owner_c[i][used_c[i]]
            vals, counts = np.unique(ids, return_counts=True)
            oid = int(vals[counts.argmax()])
            kind = kinds[oid] if oid < len(kinds) else "kernel"
            kind = kind if kind in KIND_CHARS else "kernel"
            cells.append(Cell(KIND_CHARS[kind], kind, oid))
        elif order_c[i] >= 0:
            o = int(order_c[i])
            cells.append(Cell(ORDER_CHARS[o], "free", 0, o))
        elif pcp_c[i]:
            cells.append(Cell(KIND_CHARS["pcp"], "pcp"))
        elif all_hole[i]:
            cells.append(Cell(KIND_CHARS["hole"], "hole"))
        else:
            cells.append(Cell("?", "kernel"))
    blocks = zone.nr_free_blocks()
    return ZoneMap(zone.name, start, end, fpc, cells, blocks, unusable_free_index(blocks),
                   zone.nr_free, seen)


def zone_map_json(zm: ZoneMap) -> dict:
    """memmap's --json object of one zone: geometry, the cells' characters, fragmentation."""
    return {"zone": zm.name, "start_pfn": zm.start_pfn, "end_pfn": zm.end_pfn,
            "frames_per_cell": zm.frames_per_cell, "cells": "".join(c.char for c in zm.cells),
            "free_blocks": zm.nr_free_blocks, "unusable_index": zm.unusable}


def build_maps(kernel, zone_name: str | None = None) -> list[ZoneMap]:
    """Maps of one zone (by name, case-insensitive) or of every zone; ValueError if unknown."""
    zones = kernel.buddy.zones
    if zone_name is not None:
        zones = [z for z in zones if z.name.lower() == zone_name.lower()]
        if not zones:
            names = ", ".join(z.name for z in kernel.buddy.zones)
            raise ValueError(f"no zone '{zone_name}' (zones: {names})")
    rows = MAX_ROWS if len(zones) == 1 else MAX_ROWS // 2
    return [build_zone_map(kernel, z, rows) for z in zones]


# ----------------------------------------------------------------------------------------
# drawing: one list of (text, style) segments, printed plain or through rich

def _size(frames: int) -> str:
    """The exact size in the largest unit that divides it: 16M, 4080M, 49024K (never the
    rounded 3.98438G)."""
    kb = frames << (PAGE_SHIFT - 10)
    for unit, shift in (("G", 20), ("M", 10)):
        if kb >= 1 << shift and kb % (1 << shift) == 0:
            return f"{kb >> shift}{unit}"
    return f"{kb}K"


def _owner_name(kernel, oid: int) -> str:
    if 0 <= oid < len(kernel.owners):
        o = kernel.owners[oid]
        return o.name
    return f"owner {oid}"


def _cell_style(kernel, cell: Cell) -> str:
    if cell.kind == "free":
        return ORDER_STYLES[cell.order]
    if cell.kind == "slab":
        return SLAB_STYLES[cell.owner % len(SLAB_STYLES)]
    return KIND_STYLES.get(cell.kind, "")


def segments(kernel, maps: list[ZoneMap]) -> list[tuple[str, str]]:
    """The whole picture as (text, style) segments; style '' is plain."""
    seg: list[tuple[str, str]] = []
    for zm in maps:
        seg.append((f"Node 0, zone {zm.name:>8}: pfn {zm.start_pfn:#x}-{zm.end_pfn - 1:#x}, "
                    f"{_size(zm.end_pfn - zm.start_pfn)}, one cell = {zm.frames_per_cell} "
                    f"frame{'s' if zm.frames_per_cell > 1 else ''} ({_size(zm.frames_per_cell)})\n",
                    "bold"))
        for r in range(zm.rows):
            row = zm.cells[r * COLUMNS:(r + 1) * COLUMNS]
            pfn = zm.start_pfn + r * COLUMNS * zm.frames_per_cell
            seg.append((f"{pfn:#09x} ", "dim"))
            for c in row:
                seg.append((c.char, _cell_style(kernel, c)))
            seg.append(("\n", ""))
        seg += _frag_lines(zm)
    seg += _legend(kernel, maps)
    return seg


def _frag_lines(zm: ZoneMap) -> list[tuple[str, str]]:
    orders = range(len(zm.nr_free_blocks))
    head = f"{'order':>12}" + "".join(f"{o:>6}" for o in orders) + "\n"
    free = f"{'free blocks':>12}" + "".join(f"{n:>6}" for n in zm.nr_free_blocks) + "\n"
    unus = f"{'unusable':>12}" + "".join(f"{u:>6.3f}" for u in zm.unusable) + "\n"
    return [(head, "dim"), (free, ""), (unus, ""), ("\n", "")]


def _legend(kernel, maps: list[ZoneMap]) -> list[tuple[str, str]]:
    seg: list[tuple[str, str]] = [("Legend: ", "bold")]
    for o in range(MAX_ORDER):
        seg.append((ORDER_CHARS[o], ORDER_STYLES[o]))
    seg.append((f" free block of order 0..{MAX_ORDER - 1} (largest in the cell)\n", ""))
    kinds_seen = {c.kind for zm in maps for c in zm.cells} - {"free"}
    for kind in ("pcp", "reserved", "memmap", "kernel", "module", "vmalloc", "pgtable", "hole"):
        if kind in kinds_seen:
            seg += [("        ", ""), (KIND_CHARS[kind], KIND_STYLES[kind] or "reverse"),
                     (f" {KIND_LABELS[kind]}\n", "")]
    seg += _slab_legend(kernel, maps)
    seg.append(("A cell holding any allocated frame shows its most common owner.\n", "dim"))
    return seg


def _frames(n: int) -> str:
    return f"{n} frame{'s' if n != 1 else ''}"


def _slab_legend(kernel, maps: list[ZoneMap]) -> list[tuple[str, str]]:
    """One line per slab cache created after boot (a module's), then the biggest boot
    caches up to LEGEND_CACHES lines, then one line for the rest: a legend of sixty
    caches would push the picture off the screen."""
    owners: dict[int, int] = {}
    for zm in maps:
        for oid, n in zm.owners_seen.items():
            if 0 <= oid < len(kernel.owners) and kernel.owners[oid].kind == "slab":
                owners[oid] = owners.get(oid, 0) + n
    limit = _boot_owner_limit(kernel)
    ranked = sorted(owners.items(), key=lambda t: (t[0] <= limit, -t[1], t[0]))
    late = sum(1 for oid, _n in ranked if oid > limit)
    shown, rest = ranked[:max(LEGEND_CACHES, late)], ranked[max(LEGEND_CACHES, late):]
    seg: list[tuple[str, str]] = []
    for oid, n in shown:
        seg += [("        ", ""), ("s", SLAB_STYLES[oid % len(SLAB_STYLES)]),
                (f" slab: {_owner_name(kernel, oid)} ({_frames(n)})\n", "")]
    if rest:
        seg += [("        ", ""), ("s", SLAB_STYLES[0]),
                (f" slab: {len(rest)} other caches ({_frames(sum(n for _o, n in rest))}; "
                 "slabinfo lists them)\n", "")]
    return seg


def _boot_owner_limit(kernel) -> int:
    """The last owner id registered while booting (vmalloc's page tables come last);
    a slab owner above it is a cache created later, by a module or py."""
    ids = [o.id for o in kernel.owners if o.kind in ("vmalloc", "pgtable")]
    return max(ids) if ids else -1


def plain_picture(kernel, maps: list[ZoneMap]) -> str:
    """The picture as plain characters (batch mode, pipes)."""
    return "".join(text for text, _style in segments(kernel, maps))


def rich_picture(kernel, maps: list[ZoneMap]):
    """The picture as a rich Text (terminal and SVG)."""
    from rich.text import Text
    t = Text()
    run: list[str] = []
    run_style = None
    for text, style in segments(kernel, maps):
        if style != run_style and run:
            t.append("".join(run), style=run_style or None)
            run = []
        run.append(text)
        run_style = style
    if run:
        t.append("".join(run), style=run_style or None)
    return t


def render_ansi(kernel, maps: list[ZoneMap], width: int = 100) -> str:
    """The coloured picture as terminal text."""
    import io

    from rich.console import Console
    buf = io.StringIO()
    con = Console(file=buf, width=max(width, 84), force_terminal=True, color_system="truecolor",
                  soft_wrap=True)
    con.print(rich_picture(kernel, maps), end="")
    return buf.getvalue()


def save_svg(kernel, maps: list[ZoneMap], path: str, title: str = "kmsim memmap") -> None:
    """Save the coloured picture as an SVG file (rich's console export); OSError on failure."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg_text(kernel, maps, title))


def svg_text(kernel, maps: list[ZoneMap], title: str = "kmsim memmap") -> str:
    """The coloured picture as the text of an SVG file (rich's console export)."""
    import io

    from rich.console import Console
    con = Console(file=io.StringIO(), width=90, record=True, force_terminal=True,
                  color_system="truecolor")
    con.print(rich_picture(kernel, maps), end="")
    return con.export_svg(title=title)
