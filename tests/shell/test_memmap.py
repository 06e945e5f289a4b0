"""memmap: the picture follows the buddy allocator (split, merge), the legend, the SVG."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from kmsim.mm.gfp import GFP_KERNEL
from kmsim.shell import memmap as mm


def _dma32(kernel):
    return mm.build_maps(kernel, "DMA32")[0]


def test_unusable_free_index_as_vmstat_computes_it():
    # 4 free pages at order 0 and one order-2 block: 8 free pages
    idx = mm.unusable_free_index([4, 0, 1])
    assert idx == [0.0, 0.5, 0.5]
    assert mm.unusable_free_index([0, 0, 0]) == [1.0, 1.0, 1.0]


def test_cells_cover_the_zone_and_free_cells_show_orders(kernel):
    zm = _dma32(kernel)
    z = kernel.buddy.zone_by_name["DMA32"]
    assert zm.frames_per_cell * len(zm.cells) >= z.spanned > zm.frames_per_cell * (len(zm.cells) - 1)
    assert zm.nr_free_blocks == z.nr_free_blocks()
    top = max(o for o, n in enumerate(z.nr_free_blocks()) if n)
    assert mm.ORDER_CHARS[top] in "".join(c.char for c in zm.cells)


def test_split_and_merge_are_visible(kernel):
    before = "".join(c.char for c in _dma32(kernel).cells)
    pfn = kernel.buddy.alloc(GFP_KERNEL, 10)         # a whole order-10 block: 8 cells change
    assert pfn >= 0
    after = "".join(c.char for c in _dma32(kernel).cells)
    assert after != before
    zm = _dma32(kernel)
    i = (pfn - zm.start_pfn) // zm.frames_per_cell
    assert zm.cells[i].kind == "kernel" and zm.cells[i].char == "k"
    kernel.buddy.free(pfn, 10)
    assert "".join(c.char for c in _dma32(kernel).cells) == before


def test_memmap_command_plain_in_batch(shell):
    r = shell.execute("memmap DMA")
    assert r.status == 0
    lines = r.out.splitlines()
    assert lines[0].startswith("Node 0, zone      DMA: pfn 0x0-0xfff, 16M")
    assert "\x1b[" not in r.out
    rows = [ln for ln in lines if ln.startswith("0x")]
    assert all(len(ln) == 10 + mm.COLUMNS for ln in rows)
    assert any(ln.strip().startswith("unusable") for ln in lines)
    assert "# reserved at boot" in r.out
    r = shell.execute("memmap Movable")
    assert r.status == 1 and "no zone 'Movable' (zones: DMA, DMA32)" in r.err


def test_memmap_svg_parses_and_changes_after_an_allocation(shell, tmp_path):
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    assert shell.execute(f"memmap DMA32 --svg {a}").status == 0
    ET.parse(a)
    k = shell.kernel
    pfn = k.buddy.alloc(GFP_KERNEL, 9)
    assert pfn >= 0
    assert shell.execute(f"memmap DMA32 --svg {b}").status == 0
    root = ET.parse(b).getroot()
    assert root.tag.endswith("svg")
    assert a.read_text() != b.read_text()
    r = shell.execute(f"memmap --svg {tmp_path}/no/such/dir.svg")
    assert r.status == 1 and "No such file or directory" in r.err


def test_memmap_legend_names_a_module_cache_and_stays_short():
    from conftest import make_shell
    sh = make_shell(mem="64M")
    sh.execute("insmod modules/slab_cache.py")
    out = sh.execute("memmap").out
    legend = [ln.strip() for ln in out[out.index("Legend:"):].splitlines()]
    slabs = [ln for ln in legend if ln.startswith("s slab:")]
    assert slabs[0] == "s slab: example cache (1 frame)"       # the module's cache first
    assert len(legend) < 20
    assert re.search(r"s slab: \d+ other caches \(\d+ frames; slabinfo lists them\)", out)
    assert "DMA32: pfn 0x1000-0x3fdf, 49024K," in out


def test_memmap_sizes_are_exact_on_16g():
    from conftest import make_shell
    out = make_shell(mem="16G").execute("memmap").out
    assert "DMA32: pfn 0x1000-0xfffff, 4080M, one cell = 1024 frames (4M)" in out
    assert "Normal: pfn 0x100000-0x43ffff, 13G," in out
