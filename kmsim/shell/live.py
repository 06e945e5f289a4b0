"""Live views that refresh in place until q or Ctrl-C: ``slabtop`` and ``dmesg -w``.

slabtop's screen is the table ``slabtop -o`` draws on a terminal (the rows of
kmsim.fs.slab.slabtop_rows), redrawn after each key.
"""
from __future__ import annotations

import os
import sys

from ..fs.slab import slabtop_rows
from ..printk import format_dmesg_line
from .keys import KeyReader
from .render import colour_dmesg_line, table_slabtop

__all__ = ["run_slabtop", "follow_dmesg", "colour_log_lines", "SORT_KEYS"]

# procps slabtop sort keys: the field each sorts by (descending, name ascending).
SORT_KEYS = {"a": "active", "b": "per", "c": "cache", "l": "slabs", "v": "aslabs",
             "n": "name", "o": "objs", "p": "pages", "s": "size", "u": "use"}


def run_slabtop(ctx, sort: str = "o") -> int:
    """slabtop on a terminal: redraw every second; sort keys as procps; q or Ctrl-C quits."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = Console(file=sys.stdout, force_terminal=True)

    def frame():
        height = max(console.size.height - 12, 5)
        body = table_slabtop(slabtop_rows(ctx.kernel, sort), limit=height)
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


def follow_dmesg(ctx, levels, fmt=None, keep=None) -> None:
    """dmesg -w on a terminal: what dmesg printed, then new records until q or Ctrl-C.

    fmt formats a record (dmesg -T, -x ...), keep chooses the records (-k, -u).
    """
    fmt = fmt or format_dmesg_line
    k = ctx.kernel
    pending = ctx.text()
    ctx._out.clear()
    colour = not os.environ.get("NO_COLOR")
    sys.stdout.write(colour_log_lines(k, pending) if colour else pending)
    sys.stdout.write("\x1b[2m(following the kernel log: q or Ctrl-C to stop)\x1b[0m\n")
    sys.stdout.flush()
    seq = k.printk.next_seq
    try:
        with KeyReader() as keys:
            while keys.key(0.25) not in ("q", "Q", "\x03"):
                for rec in k.printk.since(seq):
                    if (levels is None or rec.level in levels) and (keep is None or keep(rec)):
                        line = fmt(rec)
                        sys.stdout.write((colour_dmesg_line(line, rec.level) if colour
                                          else line) + "\n")
                seq = k.printk.next_seq
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    k.printk.read_seq = k.printk.next_seq


def colour_log_lines(kernel, text: str) -> str:
    """Colour the lines of text that are records of the kernel log, by their level."""
    levels = {format_dmesg_line(r): r.level for r in kernel.printk.visible()}
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        lvl = levels.get(body)
        out.append(line if lvl is None else colour_dmesg_line(body, lvl) + line[len(body):])
    return "".join(out)
