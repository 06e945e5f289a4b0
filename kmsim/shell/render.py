"""Terminal rendering: rich tables for the /proc files, dmesg colours, xxd patterns.

Used only when standard output is a terminal (``Shell.renderer`` is
``render_table``); pipes, ``cat /proc/...`` and scripts get the kernel's raw
text.  rich and pygments are imported on first use, so startup stays fast.
Every renderer parses the raw kernel text when ``data`` lacks what it needs,
and returns None (raw fallback) when the text is not what it expects.
"""
from __future__ import annotations

import io
import re
import shutil

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
# the tables

_BUDDY_RE = re.compile(r"^Node\s+(\d+),\s+zone\s+(\S+)\s+((?:\d+\s*)+)$")


def table_buddyinfo(raw: str, data=None):
    """/proc/buddyinfo: zones by free blocks per order, with the free total."""
    rows = []
    for line in raw.splitlines():
        m = _BUDDY_RE.match(line.strip())
        if not m:
            return None
        rows.append((m.group(2), [int(x) for x in m.group(3).split()]))
    if not rows:
        return None
    orders = max(len(c) for _z, c in rows)
    t = _table("Free blocks per order (/proc/buddyinfo)")
    t.add_column("zone", style="bold")
    for o in range(orders):
        t.add_column(str(o), justify="right")
    t.add_column("free", justify="right", style="green")
    for zone, counts in rows:
        pages = sum(n << o for o, n in enumerate(counts))
        t.add_row(zone, *[_dim0(n) for n in counts], _kb(pages * 4))
    return t


def _dim0(n: int) -> str:
    return "[dim]0[/dim]" if n == 0 else str(n)


def _kb(kb: int) -> str:
    if kb >= 10 << 20:
        return f"{kb / (1 << 20):.1f}G"
    if kb >= 10 << 10:
        return f"{kb / 1024:.1f}M"
    return f"{kb}K"


def table_zoneinfo(raw: str, data=None):
    """/proc/zoneinfo: one column per populated zone, a row per counter."""
    zones = data if isinstance(data, list) and data and "zone" in data[0] else _parse_zoneinfo(raw)
    if not zones:
        return None
    t = _table("Zones (/proc/zoneinfo, pages)")
    t.add_column("", style="bold")
    for z in zones:
        t.add_column(z["zone"], justify="right")
    fields = [("free", "free"), ("min", "min"), ("low", "low"), ("high", "high"),
              ("spanned", "spanned"), ("present", "present"), ("managed", "managed"),
              ("start_pfn", "start_pfn")]
    for key, label in fields:
        t.add_row(label, *[str(z.get(key, "")) for z in zones])
    if all(isinstance(z.get("pcp"), dict) for z in zones):
        for key in ("count", "high", "batch"):
            t.add_row(f"pcp {key}", *[str(z["pcp"][key]) for z in zones])
    return t


def _parse_zoneinfo(raw: str) -> list[dict]:
    zones: list[dict] = []
    cur: dict | None = None
    for line in raw.splitlines():
        m = re.match(r"^Node\s+\d+,\s+zone\s+(\S+)", line)
        if m:
            cur = {"zone": m.group(1)}
            zones.append(cur)
            continue
        if cur is None:
            continue
        words = line.split()
        if len(words) >= 3 and words[0] == "pages" and words[1] == "free":
            cur["free"] = int(words[2])
        elif len(words) == 2 and words[1].isdigit() and words[0].rstrip(":") in (
                "min", "low", "high", "spanned", "present", "managed", "start_pfn"):
            cur.setdefault(words[0].rstrip(":"), int(words[1]))
    return [z for z in zones if z.get("present", 0)]


def table_meminfo(raw: str, data=None):
    """/proc/meminfo in two column pairs, values in kB and a readable size."""
    items = []
    for line in raw.splitlines():
        m = re.match(r"^(\S+):\s+(\d+)(?:\s+kB)?$", line)
        if not m:
            return None
        items.append((m.group(1), int(m.group(2)), line.endswith("kB")))
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
        for name, val, is_kb in items[i::half]:
            cells += [name, str(val), _kb(val) if is_kb and val >= 1024 else ""]
        t.add_row(*cells)
    return t


def table_lsmod(raw: str, data=None):
    """lsmod: module, size, users and holders, state."""
    rows = data if isinstance(data, list) else None
    if rows is None:
        return None
    t = _table(None)
    t.add_column("Module", style="bold")
    t.add_column("Size", justify="right")
    t.add_column("Used by", justify="right")
    t.add_column("Holders", style="dim")
    t.add_column("State")
    for m in rows:
        state = m.get("state", "Live")
        t.add_row(m["name"], str(m["size"]), str(m["used_by"]), ",".join(m.get("holders", [])),
                  state if state == "Live" else f"[yellow]{state}[/yellow]")
    if not rows:
        t.caption = "no modules loaded"
    return t


def table_free(raw: str, data=None):
    """free: the Mem and Swap lines as a table."""
    lines = [ln for ln in raw.splitlines() if ln.strip()]
    if len(lines) < 2:
        return None
    head = lines[0].split()
    t = _table(None)
    t.add_column("", style="bold")
    for h in head:
        t.add_column(h, justify="right")
    for ln in lines[1:]:
        words = ln.split()
        t.add_row(words[0], *words[1:], *[""] * (len(head) - len(words) + 1))
    return t


def _slabinfo_line(line: str):
    """(name, active, num, size, per slab, pages, active slabs, slabs) of a slabinfo line;
    the name may contain spaces ('example cache'), the numbers follow it."""
    head, _sep, tail = line.partition(" : tunables")
    words = head.split()
    if len(words) < 6 or not all(w.isdigit() for w in words[-5:]):
        return None
    slabs = tail.split(": slabdata", 1)[1].split()[:2] if ": slabdata" in tail else ["0", "0"]
    return (" ".join(words[:-5]), *(int(w) for w in words[-5:]), *(int(w) for w in slabs))


def table_slabinfo(raw: str, data=None):
    """/proc/slabinfo: one row a cache, with its memory in kB."""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        keys = ("name", "active_objs", "num_objs", "objsize", "objperslab", "pagesperslab",
                "active_slabs", "num_slabs")
        rows = [tuple(r[k] for k in keys) for r in data]
    else:
        rows = [_slabinfo_line(line) for line in raw.splitlines()
                if line.strip() and not line.startswith(("slabinfo -", "#"))]
        if None in rows:
            return None
    if not rows:
        return None
    t = _table("Slab caches (/proc/slabinfo)")
    for name, just in (("name", "left"), ("active", "right"), ("objs", "right"),
                       ("size", "right"), ("obj/slab", "right"), ("pg/slab", "right"),
                       ("slabs", "right"), ("memory", "right")):
        t.add_column(name, justify=just, style="bold" if name == "name" else None,
                     overflow="fold")
    for name, active, num, size, per, pages, _aslabs, nslabs in rows:
        t.add_row(name, str(active), str(num), str(size), str(per), str(pages), str(nslabs),
                  _kb(nslabs * pages * 4))
    return t


def table_vmallocinfo(raw: str, data=None):
    """/proc/vmallocinfo: start, size, caller and details of each area."""
    rows = []
    for line in raw.splitlines():
        m = re.match(r"^(0x[0-9a-f]+)-(0x[0-9a-f]+)\s+(\d+)\s*(\S*)\s*(.*)$", line)
        if not m:
            return None
        rows.append(m.groups())
    t = _table("vmalloc areas (/proc/vmallocinfo)")
    t.add_column("start", style="cyan", no_wrap=True)
    t.add_column("size", justify="right")
    t.add_column("caller", overflow="fold")
    t.add_column("details", overflow="fold")
    for start, _end, size, caller, rest in rows:
        t.add_row(start, _kb(int(size) >> 10), caller, rest)
    if not rows:
        t.caption = "no vmalloc areas"
    return t


def table_slabtop(raw: str, data=None):
    """slabtop -o: the header lines, then the caches as a table."""
    lines = raw.splitlines()
    idx = next((i for i, ln in enumerate(lines) if ln.strip().startswith("OBJS")), None)
    if idx is None:
        return None
    from rich.console import Group
    from rich.text import Text
    names = ["OBJS", "ACTIVE", "USE", "OBJ SIZE", "SLABS", "OBJ/SLAB", "CACHE SIZE", "NAME"]
    t = _table(None)
    for n in names:
        t.add_column(n, justify="left" if n == "NAME" else "right",
                     style="bold" if n == "NAME" else None, overflow="fold")
    for ln in lines[idx + 1:]:
        w = ln.split()
        if len(w) < 8:
            continue
        t.add_row(*_slabtop_cells(w))
    return Group(Text("\n".join(lines[:idx]), style="bold"), t)


def _slabtop_cells(w: list[str]) -> list[str]:
    """Cells of a slabtop -o line: OBJS ACTIVE USE 'OBJ SIZE' SLABS OBJ/SLAB 'CACHE SIZE' NAME."""
    objs, active, use, size = w[0], w[1], w[2], w[3]
    rest = w[4:]
    if rest and rest[0] == "K":
        size += "K"
        rest = rest[1:]
    slabs, per, cache = rest[0], rest[1], rest[2]
    rest = rest[3:]
    if rest and rest[0] == "K":
        cache += "K"
        rest = rest[1:]
    return [objs, active, use, size, slabs, per, cache, " ".join(rest)]


TABLES = {"buddyinfo": table_buddyinfo, "zoneinfo": table_zoneinfo, "meminfo": table_meminfo,
          "lsmod": table_lsmod, "free": table_free, "slabinfo": table_slabinfo,
          "vmallocinfo": table_vmallocinfo, "slabtop": table_slabtop}


def table_for(kind: str, raw: str, data=None):
    """The rich renderable for a kind, or None to print the raw text."""
    fn = TABLES.get(kind)
    if fn is None:
        return None
    try:
        return fn(raw, data)
    except (ValueError, IndexError, KeyError, TypeError):
        return None


def render_table(kind: str, raw: str, data, ctx, width: int | None = None) -> str | None:
    """Shell.renderer: terminal text for a table kind, or None for the raw kernel text."""
    if kind == "xxd":
        return colour_xxd(raw)
    renderable = table_for(kind, raw, data)
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
