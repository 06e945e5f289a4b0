"""Commands that draw: ``memmap [ZONE] [--svg FILE]`` and the live ``slabtop``.

``slabtop -o`` (one shot) belongs to the slab commands (cmd_slab.py); on a
terminal ``slabtop`` without ``-o`` refreshes in place until q or Ctrl-C.
"""
from __future__ import annotations

import json

from .. import fs
from . import memmap as mm
from .core import UsageError, command, read_options
from .hostfs import HostError, virtual_path, write_host
from .options import Options

__all__ = ["cmd_memmap"]


MEMMAP_OPTIONS = Options("", {"svg=": None})


def _save_svg(ctx, path: str, text: str) -> int:
    """memmap --svg FILE: a host file, or the virtual file's own answer in /proc and /sys."""
    vpath = virtual_path(path)
    try:
        if vpath is not None:
            fs.write_file(ctx.kernel, vpath, text)
        else:
            write_host(path, text)
    except (HostError, fs.FsError) as e:
        ctx.err(f"memmap: {path}: {e}")
        return 1
    ctx.out(f"memmap: saved {path}")
    return 0


@command("memmap", help="a picture of physical memory: who owns each run of frames",
         usage="memmap [ZONE] [--svg FILE]", options=("--svg",), complete="zones", opts=MEMMAP_OPTIONS)
def cmd_memmap(ctx, args):
    """memmap [ZONE] [--svg FILE]: the picture (coloured on a terminal, plain otherwise)."""
    found, zones = read_options(MEMMAP_OPTIONS, args)
    if len(zones) > 1:
        raise UsageError("only one zone")
    zone = zones[0] if zones else None
    svg = found[-1][1] if found else None
    try:
        maps = mm.build_maps(ctx.kernel, zone)
    except ValueError as e:
        ctx.err(f"memmap: {e}")
        return 1
    if svg is not None:
        return _save_svg(ctx, svg, mm.svg_text(ctx.kernel, maps))
    if ctx.json:
        ctx.out(json.dumps([mm.zone_map_json(zm) for zm in maps], indent=2))
    elif ctx.tty and not ctx.shell.piping:
        ctx.out(mm.render_ansi(ctx.kernel, maps, _term_width()), end="")
    else:
        ctx.out(mm.plain_picture(ctx.kernel, maps), end="")
    return 0


def _term_width() -> int:
    import shutil
    return shutil.get_terminal_size((80, 24)).columns
