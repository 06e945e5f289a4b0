"""Live views that refresh in place until q or Ctrl-C: ``slabtop`` and ``dmesg -w``.

slabtop's numbers come from /proc/slabinfo (whatever the slab subsystem
prints), summed and sorted as procps slabtop does.
"""
from __future__ import annotations

import sys

from .. import fs
from ..printk import format_dmesg_line

__all__ = ["slab_rows", "slabtop_text", "run_slabtop", "follow_dmesg", "colour_log_lines", "SORT_KEYS"]

# procps slabtop sort keys: the field each sorts by (descending, name ascending).
SORT_KEYS = {"a": "active", "b": "per", "c": "cache", "l": "slabs", "v": "aslabs",
             "n": "name", "o": "objs", "p": "pages", "s": "size", "u": "use"}


def slab_rows(kernel) -> list[dict]:
    """The caches of /proc/slabinfo as dicts (empty when there is no slab allocator)."""
    try:
        raw = fs.read_file(kernel, "/proc/slabinfo")
    except Exception:
        return []
    rows = []
    for line in raw.splitlines():
        if line.startswith(("slabinfo", "#")) or ": slabdata" not in line:
            continue
        w = line.split()
        try:
            tail = line.split(": slabdata", 1)[1].split()
            active, objs, size, per, pages = (int(x) for x in w[1:6])
            aslabs, slabs = int(tail[0]), int(tail[1])
        except (ValueError, IndexError):
            continue
        rows.append({"name": w[0], "active": active, "objs": objs, "size": size, "per": per,
                     "pages": pages, "aslabs": aslabs, "slabs": slabs,
                     "cache": slabs * pages * 4, "use": 100.0 * active / objs if objs else 0.0})
    return rows


def _sorted(rows: list[dict], key: str) -> list[dict]:
    field = SORT_KEYS.get(key, "cache")
    if field == "name":
        return sorted(rows, key=lambda r: r["name"])
    return sorted(rows, key=lambda r: (-r[field], r["name"]))


def slabtop_text(kernel, sort: str = "c", limit: int | None = None) -> str:
    """slabtop -o: the summary, then one line a cache, as procps prints them."""
    rows = slab_rows(kernel)
    if not rows:
        return "slabtop: no slab caches (/proc/slabinfo is empty)\n"
    act = sum(r["active"] for r in rows)
    tot = sum(r["objs"] for r in rows)
    aslabs = sum(r["aslabs"] for r in rows)
    slabs = sum(r["slabs"] for r in rows)
    acaches = sum(1 for r in rows if r["active"])
    asize = sum(r["active"] * r["size"] for r in rows) / 1024
    tsize = sum(r["objs"] * r["size"] for r in rows) / 1024
    sizes = [r["size"] / 1024 for r in rows if r["objs"]] or [0]

    def pct(a, b):
        return 100.0 * a / b if b else 0.0
    out = [f" Active / Total Objects (% used)    : {act} / {tot} ({pct(act, tot):.1f}%)",
           f" Active / Total Slabs (% used)      : {aslabs} / {slabs} ({pct(aslabs, slabs):.1f}%)",
           f" Active / Total Caches (% used)     : {acaches} / {len(rows)} "
           f"({pct(acaches, len(rows)):.1f}%)",
           f" Active / Total Size (% used)       : {asize:.2f}K / {tsize:.2f}K "
           f"({pct(asize, tsize):.1f}%)",
           f" Minimum / Average / Maximum Object : {min(sizes):.2f}K / "
           f"{sum(sizes) / len(sizes):.2f}K / {max(sizes):.2f}K", "",
           "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME                   "]
    for r in _sorted(rows, sort)[:limit]:
        out.append(f"{r['objs']:6d} {r['active']:6d} {r['use']:3.0f}% {r['size'] / 1024:7.2f}K "
                   f"{r['slabs']:6d} {r['per']:8d} {r['cache']:9d}K {r['name']:<23}")
    return "\n".join(out) + "\n"


def _screen_text(kernel, sort: str) -> str:
    """slabtop's screen: the slab commands' text when they exist, else ours."""
    try:
        from .cmd_slab import slabtop_text as theirs
    except ImportError:
        return slabtop_text(kernel, sort)
    return theirs(kernel, sort)


def run_slabtop(ctx, sort: str = "o") -> int:
    """slabtop on a terminal: redraw every second; sort keys as procps; q or Ctrl-C quits."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from .keys import KeyReader
    from .render import table_slabtop
    console = Console(file=sys.stdout, force_terminal=True)

    def frame():
        height = max(console.size.height - 12, 5)
        raw = _screen_text(ctx.kernel, sort)
        head, _sep, rest = raw.partition("  OBJS")
        raw = head + _sep + "\n".join(rest.split("\n")[:height + 1]) + "\n"
        body = table_slabtop(raw) or Text(raw)
        from rich.console import Group
        return Group(body, Text(f"sort: {SORT_KEYS.get(sort, 'cache')}   keys: "
                                f"{' '.join(SORT_KEYS)} sort, q quit", style="dim"))
    try:
        with KeyReader() as keys, Live(frame(), console=console, auto_refresh=False,
                                       screen=True) as live:
            while True:
                k = keys.key(1.0)
                if k in ("q", "Q", "\x03", "\x1b"):
                    break
                if k in SORT_KEYS:
                    sort = k
                live.update(frame(), refresh=True)
    except KeyboardInterrupt:
        pass
    return 0


def follow_dmesg(ctx, levels) -> None:
    """dmesg -w on a terminal: what dmesg printed, then new records until q or Ctrl-C."""
    from .keys import KeyReader
    from .render import colour_dmesg_line
    k = ctx.kernel
    pending = ctx.text()
    ctx._out.clear()
    sys.stdout.write(colour_log_lines(k, pending))
    sys.stdout.write("\x1b[2m(following the kernel log: q or Ctrl-C to stop)\x1b[0m\n")
    sys.stdout.flush()
    seq = k.printk.next_seq
    try:
        with KeyReader() as keys:
            while keys.key(0.25) not in ("q", "Q", "\x03"):
                for rec in k.printk.since(seq):
                    if levels is None or rec.level in levels:
                        sys.stdout.write(colour_dmesg_line(format_dmesg_line(rec), rec.level) + "\n")
                seq = k.printk.next_seq
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    k.printk.read_seq = k.printk.next_seq


def colour_log_lines(kernel, text: str) -> str:
    """Colour the lines of text that are records of the kernel log, by their level."""
    from .render import colour_dmesg_line
    levels = {format_dmesg_line(r): r.level for r in kernel.printk.visible()}
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        lvl = levels.get(body)
        out.append(line if lvl is None else colour_dmesg_line(body, lvl) + line[len(body):])
    return "".join(out)
