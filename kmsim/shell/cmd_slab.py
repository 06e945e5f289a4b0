"""Shell commands of the slab allocator: slabinfo [PATTERN], slabtop -o [-s KEY]."""
from __future__ import annotations

import fnmatch

from ..fs.slab import SLABINFO_HEADER, format_slabinfo_row, slabinfo_rows, slabtop_rows
from .core import UsageError, command

__all__ = ["cmd_slabinfo", "cmd_slabtop", "slabtop_rows", "slabtop_text"]

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
    raw = SLABINFO_HEADER + "".join(format_slabinfo_row(r) for r in rows)
    data = [{k: r[k] for k in ("name", "active_objs", "num_objs", "objsize", "objperslab",
                               "pagesperslab", "active_slabs", "num_slabs")} for r in rows]
    ctx.table("slabinfo", raw, data)
    return 0


def slabtop_text(k, sort_key: str = "o") -> str:
    """procps slabtop's screen, printed once (-o)."""
    rows = slabtop_rows(k, sort_key)
    objs = sum(r["num_objs"] for r in rows)
    active = sum(r["active_objs"] for r in rows)
    slabs = sum(r["num_slabs"] for r in rows)
    aslabs = sum(r["active_slabs"] for r in rows)
    acaches = sum(1 for r in rows if r["active_objs"])
    tsize = sum(r["num_objs"] * r["objsize"] for r in rows) / 1024
    asize = sum(r["active_objs"] * r["objsize"] for r in rows) / 1024
    sizes = [r["objsize"] / 1024 for r in rows] or [0]
    avg = tsize / objs if objs else 0

    def pct(a, b):
        return 100.0 * a / b if b else 0.0
    out = [f" Active / Total Objects (% used)    : {active} / {objs} ({pct(active, objs):.1f}%)",
           f" Active / Total Slabs (% used)      : {aslabs} / {slabs} ({pct(aslabs, slabs):.1f}%)",
           f" Active / Total Caches (% used)     : {acaches} / {len(rows)} "
           f"({pct(acaches, len(rows)):.1f}%)",
           f" Active / Total Size (% used)       : {asize:.2f}K / {tsize:.2f}K "
           f"({pct(asize, tsize):.1f}%)",
           f" Minimum / Average / Maximum Object : {min(sizes):.2f}K / {avg:.2f}K / "
           f"{max(sizes):.2f}K", "",
           "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME                   "]
    for r in rows:
        out.append(f"{r['num_objs']:6d} {r['active_objs']:6d} {r['use']:3d}% "
                   f"{r['objsize'] / 1024:7.2f}K {r['num_slabs']:6d} {r['objperslab']:8d} "
                   f"{r['cache_size'] // 1024:9d}K {r['name']:<23}")
    return "\n".join(out) + "\n"


@command("slabtop", help="the caches sorted by size, like procps slabtop (-o: once)",
         usage="slabtop [-o] [-s KEY]", options=("-o", "-s", "--once", "--sort"))
def cmd_slabtop(ctx, args):
    once, key = False, "o"
    it = iter(args)
    for a in it:
        if a in ("-o", "--once"):
            once = True
        elif a in ("-s", "--sort"):
            arg = next(it, None)
            if arg is None:
                raise UsageError("option requires an argument -- 's'")
            key = arg
        elif a.startswith("-s") and len(a) > 2:
            key = a[2:]
        elif a.startswith("--sort="):
            key = a[7:]
        else:
            raise UsageError(f"invalid option -- '{a.lstrip('-')}'")
    if len(key) != 1 or key not in _KEYS:
        raise UsageError(f"invalid sort criteria -- '{key}'")
    live = getattr(ctx.shell, "live_slabtop", None)
    if not once and ctx.tty and not ctx.shell.piping and live is not None:
        return live(ctx, key)
    rows = slabtop_rows(ctx.kernel, key)
    ctx.table("slabtop", slabtop_text(ctx.kernel, key), rows)
    return 0
