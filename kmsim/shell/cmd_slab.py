"""Shell commands of the slab allocator: slabinfo [PATTERN], slabtop -o [-s KEY]."""
from __future__ import annotations

import fnmatch

from ..fs.slab import format_slabinfo, format_slabtop, slabinfo_json, slabinfo_rows, slabtop_rows
from .core import UsageError, command, read_options
from .options import Options

__all__ = ["cmd_slabinfo", "cmd_slabtop"]

_KEYS = "abclvnopsu"


def _match(name: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


@command("slabinfo", help="/proc/slabinfo as a table (caches whose name contains PATTERN)",
         usage="slabinfo [PATTERN]", complete="caches")
def cmd_slabinfo(ctx, args):
    if len(args) > 1:
        raise UsageError("too many arguments")
    pat = args[0] if args else None
    rows = [r for r in slabinfo_rows(ctx.kernel) if _match(r["name"], pat)]
    ctx.table("slabinfo", format_slabinfo(rows), rows, slabinfo_json(rows))
    return 0


SLABTOP_OPTIONS = Options("os:", {"once": "o", "sort=": "s"})


@command("slabtop", help="the caches sorted by size, like procps slabtop (-o: once)",
         usage="slabtop [-o] [-s KEY]", options=("-o", "-s", "--once", "--sort"), opts=SLABTOP_OPTIONS)
def cmd_slabtop(ctx, args):
    found, operands = read_options(SLABTOP_OPTIONS, args)
    if operands:
        raise UsageError(f"extra operand '{operands[0]}'")
    once = any(key == "o" for key, _val in found)
    key = next((val for k, val in reversed(found) if k == "s"), None) or "o"
    if len(key) != 1 or key not in _KEYS:
        raise UsageError(f"invalid sort criteria -- '{key}'")
    live = ctx.shell.live_slabtop
    if not once and ctx.tty and not ctx.shell.piping and live is not None:
        return live(ctx, key)
    rows = slabtop_rows(ctx.kernel, key)
    ctx.table("slabtop", format_slabtop(rows), rows)
    return 0
