"""Terminal rendering: rich tables for the /proc files, dmesg colours, xxd patterns.

Used only when standard output is a terminal (``Shell.renderer`` is
``render_table``); pipes, ``cat /proc/...`` and scripts get the kernel's raw
text.  rich and pygments are imported on first use, so startup stays fast.
Each table draws the rows a view's function in kmsim.fs returns (the rows the
kernel's text and the --json document are printed from); none reads that text.
"""
from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable

from ..fs import FREE_HEADER, NO_KB
from ..fs.slab import SLABTOP_HEADER, slabtop_cells, slabtop_summary
from ..fs.vmalloc import area_fields

__all__ = ["render_table", "render_to_text", "table_for", "colour_dmesg_line", "DMESG_STYLES",
           "colour_xxd", "highlight_python", "term_width", "TABLES"]

# util-linux dmesg colours on a terminal, by level (emerg .. debug).
DMESG_STYLES = ["bold reverse red", "reverse red", "bold red", "red", "bold yellow", "bold",
                "", "dim"]


def term_width() -> int:
    """Columns of the terminal (80 when unknown)."""
    return shutil.get_terminal_size((80, 24)).columns


def _console(width: int | None = None, record: bool = False):
    from rich.console import Console
    return Console(file=io.StringIO(), width=width or term_width(), force_terminal=True,
                   color_system="256", record=record, highlight=False, soft_wrap=False)


def render_to_text(renderable, width: int | None = None) -> str:
    """Print a rich renderable into terminal text (with escape codes)."""
    con = _console(width)
    con.print(renderable)
    lines = con.file.getvalue().split("\n")
    while lines and not _ANSI.sub("", lines[-1]).strip():
        lines.pop()
    return "\n".join(lines) + "\n"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _table(title: str | None = None, **kw):
    from rich import box
    from rich.table import Table
    t = Table(title=title, box=box.SIMPLE_HEAD, header_style="bold cyan", pad_edge=False,
              show_edge=False, title_style="bold", title_justify="left", collapse_padding=True,
              padding=(0, 1), **kw)
    if title:
        t.min_width = len(title)
    return t


# ----------------------------------------------------------------------------------------
# the tables: each draws the rows of a view (kmsim.fs), never its text

def table_buddyinfo(rows: list[dict], kernel=None):
    """/proc/buddyinfo: zones by free blocks per order, with the free total."""
    if not rows:
        return None
    orders = max(len(r["free_blocks"]) for r in rows)
    t = _table("Free blocks per order (/proc/buddyinfo)")
    t.add_column("zone", style="bold")
    for o in range(orders):
        t.add_column(str(o), justify="right")
    t.add_column("free", justify="right", style="green")
    for r in rows:
        counts = r["free_blocks"]
        pages = sum(n << o for o, n in enumerate(counts))
        t.add_row(r["zone"], *[_dim0(n) for n in counts], _kb(pages * 4))
    return t


def _dim0(n: int) -> str:
    return "[dim]0[/dim]" if n == 0 else str(n)


def _kb(kb: int) -> str:
    if kb >= 10 << 20:
        return f"{kb / (1 << 20):.1f}G"
    if kb >= 10 << 10:
        return f"{kb / 1024:.1f}M"
    return f"{kb}K"


def table_zoneinfo(rows: list[dict], kernel=None):
    """/proc/zoneinfo: one column per populated zone, a row per counter."""
    zones = [r for r in rows if r["populated"]]
    if not zones:
        return None
    t = _table("Zones (/proc/zoneinfo, pages)")
    t.add_column("", style="bold")
    for z in zones:
        t.add_column(z["zone"], justify="right")
    for key in ("free", "min", "low", "high", "spanned", "present", "managed", "start_pfn"):
        t.add_row(key, *[str(z[key]) for z in zones])
    for key in ("count", "high", "batch"):
        t.add_row(f"pcp {key}", *[str(z["pcp"][key]) for z in zones])
    return t


def table_meminfo(vals: dict[str, int], kernel=None):
    """/proc/meminfo in two column pairs, values in kB and a readable size."""
    items = list(vals.items())
    if not items:
        return None
    t = _table("Memory (/proc/meminfo)")
    for _ in range(2):
        t.add_column("field", style="bold")
        t.add_column("kB", justify="right")
        t.add_column("", justify="right", style="dim")
    half = (len(items) + 1) // 2
    for i in range(half):
        cells = []
        for name, val in items[i::half]:
            cells += [name, str(val), _kb(val) if name not in NO_KB and val >= 1024 else ""]
        t.add_row(*cells)
    return t


def table_lsmod(rows: list[dict], kernel=None):
    """lsmod: module, size, users and holders, state."""
    t = _table(None)
    t.add_column("Module", style="bold")
    t.add_column("Size", justify="right")
    t.add_column("Used by", justify="right")
    t.add_column("Holders", style="dim")
    t.add_column("State")
    for m in rows:
        state = m["state"]
        t.add_row(m["name"], str(m["size"]), str(m["used_by"]), ",".join(m["holders"]),
                  state if state == "Live" else f"[yellow]{state}[/yellow]")
    if not rows:
        t.caption = "no modules loaded"
    return t


def table_free(cells: list[list[str]], kernel=None):
    """free: the Mem and Swap lines (fs.free_cells) as a table."""
    t = _table(None)
    t.add_column("", style="bold")
    for h in FREE_HEADER:
        t.add_column(h, justify="right")
    for row in cells:
        t.add_row(*row, *[""] * (len(FREE_HEADER) + 1 - len(row)))
    return t


def table_slabinfo(rows: list[dict], kernel=None):
    """/proc/slabinfo: one row a cache, with its memory in kB."""
    if not rows:
        return None
    t = _table("Slab caches (/proc/slabinfo)")
    for name, just in (("name", "left"), ("active", "right"), ("objs", "right"),
                       ("size", "right"), ("obj/slab", "right"), ("pg/slab", "right"),
                       ("slabs", "right"), ("memory", "right")):
        t.add_column(name, justify=just, style="bold" if name == "name" else None,
                     overflow="fold")
    for r in rows:
        t.add_row(r["name"], str(r["active_objs"]), str(r["num_objs"]), str(r["objsize"]),
                  str(r["objperslab"]), str(r["pagesperslab"]), str(r["num_slabs"]),
                  _kb(r["num_slabs"] * r["pagesperslab"] * 4))
    return t


def table_vmallocinfo(rows: list[dict], kernel):
    """/proc/vmallocinfo: start, size, caller and details of each area."""
    t = _table("vmalloc areas (/proc/vmallocinfo)")
    t.add_column("start", style="cyan", no_wrap=True)
    t.add_column("size", justify="right")
    t.add_column("caller", overflow="fold")
    t.add_column("details", overflow="fold")
    for r in rows:
        start, _end, caller, rest = area_fields(kernel, r)
        t.add_row(start, _kb(r["size"] >> 10), caller, rest)
    if not rows:
        t.caption = "no vmalloc areas"
    return t


def table_slabtop(rows: list[dict], kernel=None, limit: int | None = None):
    """slabtop -o: the summary lines, then the caches (the first limit of them) as a table."""
    from rich.console import Group
    from rich.text import Text

    t = _table(None)
    for n in SLABTOP_HEADER:
        t.add_column(n, justify="left" if n == "NAME" else "right",
                     style="bold" if n == "NAME" else None, overflow="fold")
    for r in rows[:limit]:
        t.add_row(*slabtop_cells(r))
    return Group(Text("\n".join(slabtop_summary(rows) + [""]), style="bold"), t)


TABLES: dict[str, Callable] = {
    "buddyinfo": table_buddyinfo, "zoneinfo": table_zoneinfo, "meminfo": table_meminfo,
    "lsmod": table_lsmod, "free": table_free, "slabinfo": table_slabinfo,
    "vmallocinfo": table_vmallocinfo, "slabtop": table_slabtop}


def table_for(kind: str, rows, kernel=None):
    """The rich renderable of a view's rows, or None to print the kernel's text."""
    fn = TABLES.get(kind)
    if fn is None or rows is None:
        return None
    return fn(rows, kernel)


def render_table(kind: str, raw: str, data, ctx, width: int | None = None) -> str | None:
    """Shell.renderer: terminal text for a view's rows (data), or None for the raw kernel text."""
    if kind == "xxd":
        return colour_xxd(raw)
    renderable = table_for(kind, data, ctx.kernel if ctx is not None else None)
    if renderable is None:
        return None
    return render_to_text(renderable, width)


# ----------------------------------------------------------------------------------------
# dmesg, xxd, Python source

_SGR = {"red": "31", "yellow": "33", "green": "32", "bold": "1", "dim": "2", "reverse": "7",
        "brown": "33", "cyan": "36", "magenta": "35"}


def _sgr(style: str) -> str:
    codes = [_SGR[w] for w in style.split() if w in _SGR]
    return f"\x1b[{';'.join(codes)}m" if codes else ""


_STAMP_RE = re.compile(r"^(\[\s*\d+\.\d+\] )(.*)$")
_SUBSYS_RE = re.compile(r"^([A-Za-z0-9_.-]+(?: [A-Za-z0-9_.-]+)?: )(.*)$")


def colour_dmesg_line(line: str, level: int, dim: bool = False) -> str:
    """One dmesg line coloured as util-linux does: time green, 'subsys:' brown, level colour."""
    m = _STAMP_RE.match(line)
    stamp, text = (m.group(1), m.group(2)) if m else ("", line)
    out = ""
    if stamp:
        out += _sgr("green") + stamp + "\x1b[0m"
    if text.startswith("kmsim: "):      # kmsim's hint, not the kernel's: reversed tag, cyan text
        out += _sgr("reverse cyan") + "kmsim:" + "\x1b[0m " + _sgr("cyan") + text[7:] + "\x1b[0m"
        return "\x1b[2m" + out.replace("\x1b[0m", "\x1b[0;2m") + "\x1b[0m" if dim else out
    s = _SUBSYS_RE.match(text)
    if s and len(s.group(1)) < 32:
        out += _sgr("brown") + s.group(1) + "\x1b[0m"
        text = s.group(2)
    style = DMESG_STYLES[level] if 0 <= level < len(DMESG_STYLES) else ""
    out += (_sgr(style) + text + "\x1b[0m") if _sgr(style) else text
    if dim:
        out = "\x1b[2m" + out.replace("\x1b[0m", "\x1b[0;2m") + "\x1b[0m"
    return out


# Debugging patterns (include/linux/poison.h): the byte, the colour, what it means.
XXD_PATTERNS = {
    0x6b: ("red", "POISON_FREE: use after free"),
    0xa5: ("magenta", "POISON_END: last byte of a poisoned object"),
    0x5a: ("yellow", "POISON_INUSE: uninitialised"),
    0xbb: ("cyan", "SLUB_RED_INACTIVE: red zone of a free object"),
    0xcc: ("bold red", "SLUB_RED_ACTIVE: red zone of an allocated object"),
}
_XXD_LINE = re.compile(r"^([0-9a-f]+: )((?:[0-9a-f]{2,4} ?)+)(\s+)(.*)$")
_LIST_POISON = re.compile(r"(dead ?0000 ?0000 ?0(?:100|122)|0001 ?0000 ?0000 ?adde|"
                          r"2201 ?0000 ?0000 ?adde)")


def colour_xxd(raw: str) -> str:
    """Colour the poison and red-zone bytes of an xxd dump (list poison 0xdead... too)."""
    out = []
    for line in raw.splitlines(keepends=True):
        m = _XXD_LINE.match(line.rstrip("\n"))
        if not m:
            out.append(line)
            continue
        addr, hexpart, gap, text = m.groups()
        hexpart = re.sub(r"[0-9a-f]{2}", _colour_byte, hexpart)
        hexpart = _LIST_POISON.sub(lambda mm: "\x1b[1;35m" + mm.group(0) + "\x1b[0m", hexpart)
        out.append(_sgr("dim") + addr + "\x1b[0m" + hexpart + gap + text
                   + ("\n" if line.endswith("\n") else ""))
    return "".join(out)


def _colour_byte(m) -> str:
    b = int(m.group(0), 16)
    pat = XXD_PATTERNS.get(b)
    if pat is None:
        return m.group(0) if b else _sgr("dim") + m.group(0) + "\x1b[0m"
    return _sgr(pat[0]) + m.group(0) + "\x1b[0m"


def highlight_python(path: str, text: str) -> str:
    """Shell.highlight_file: a .py file highlighted for the terminal (others unchanged)."""
    if not path.endswith(".py"):
        return text
    from pygments import highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers import PythonLexer
    return highlight(text, PythonLexer(), TerminalFormatter())
