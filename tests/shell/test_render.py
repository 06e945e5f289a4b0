"""Terminal tables at 80 columns: aligned, every value present, nothing wider than 80."""
from __future__ import annotations

import re

from kmsim.shell import render

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _tty_shell(shell):
    shell.tty = True
    shell.renderer = lambda kind, raw, data, ctx: render.render_table(kind, raw, data, ctx, width=80)
    return shell


def _screen(shell, line: str) -> list[str]:
    r = shell.execute(line)
    assert r.status == 0, r.err
    lines = ANSI.sub("", r.out).splitlines()
    assert all(len(ln) <= 80 for ln in lines), max(lines, key=len)
    return lines


def test_buddyinfo_table_matches_the_kernel_counts(shell):
    raw = shell.execute("cat /proc/buddyinfo").out.splitlines()
    lines = _screen(_tty_shell(shell), "buddyinfo")
    assert lines[0].startswith("Free blocks per order")
    assert lines[1].split()[:13] == ["zone"] + [str(o) for o in range(11)] + ["free"]
    for rawline in raw:
        zone, counts = rawline.split()[3], rawline.split()[4:]
        row = next(ln for ln in lines if ln.split() and ln.split()[0] == zone)
        assert row.split()[1:12] == counts
        pages = sum(int(n) << o for o, n in enumerate(counts))
        assert row.split()[12] == render._kb(pages * 4)


def test_zoneinfo_table_has_a_column_per_zone(shell):
    lines = _screen(_tty_shell(shell), "zoneinfo")
    z = shell.kernel.buddy.zone_by_name["DMA32"]
    header = next(ln for ln in lines if "DMA32" in ln)
    assert header.split() == ["DMA", "DMA32"]
    managed = next(ln for ln in lines if ln.split()[:1] == ["managed"])
    assert managed.split()[2] == str(z.managed)
    pcp = next(ln for ln in lines if ln.startswith("pcp batch"))
    assert pcp.split()[-1] == str(z.pcp_batch)


def test_meminfo_table_keeps_every_field(shell):
    raw = shell.execute("cat /proc/meminfo").out
    fields = dict((ln.split(":")[0], ln.split()[1]) for ln in raw.splitlines())
    lines = _screen(_tty_shell(shell), "meminfo")
    text = "\n".join(lines)
    for name, val in fields.items():
        assert re.search(rf"\b{re.escape(name)}\s+{val}\b", text), name
    memfree = int(fields["MemFree"])
    assert f"{memfree / 1024:.1f}M" in text


def test_lsmod_and_free_tables(shell, tmp_path):
    _tty_shell(shell)
    assert shell.execute("insmod modules/hello.py").status == 0
    lines = _screen(shell, "lsmod")
    assert lines[0].split() == ["Module", "Size", "Used", "by", "Holders", "State"]
    row = next(ln for ln in lines if ln.startswith("hello"))
    size = shell.kernel.modules.modules["hello"].size
    assert row.split() == ["hello", str(size), "0", "Live"]
    lines = _screen(shell, "free")
    assert lines[0].split() == ["total", "used", "free", "shared", "buff/cache", "available"]
    mem = next(ln for ln in lines if ln.startswith("Mem:"))
    from kmsim.fs import meminfo_values
    assert mem.split()[1] == str(meminfo_values(shell.kernel)["MemTotal"])


def test_slabinfo_and_vmallocinfo_tables(shell):
    _tty_shell(shell)
    lines = _screen(shell, "slabinfo kmalloc-64")
    row = next(ln for ln in lines if ln.startswith("kmalloc-64 "))
    raw = next(ln for ln in shell.execute("cat /proc/slabinfo").out.splitlines()
               if ln.startswith("kmalloc-64 "))
    assert row.split()[1:6] == raw.split()[1:6]
    r = shell.execute("cat /proc/vmallocinfo")
    if r.status == 0 and r.out.strip():
        lines = _screen(shell, "vmallocinfo")
        assert lines[0].startswith("vmalloc areas")
        first = r.out.splitlines()[0]
        assert first.split("-")[0] in "\n".join(lines)


def test_raw_text_when_piped_or_not_a_terminal(shell):
    raw = shell.execute("buddyinfo").out
    assert raw.startswith("Node 0, zone      DMA ")
    _tty_shell(shell)
    assert shell.execute("buddyinfo | cat").out == raw
    assert shell.execute("cat /proc/buddyinfo").out == raw


def test_dmesg_colours_follow_util_linux():
    line = "[    1.000000] zone_allocator: out of memory"
    out = render.colour_dmesg_line(line, 3)
    assert out.startswith("\x1b[32m[    1.000000] \x1b[0m")          # time green
    assert "\x1b[33mzone_allocator: \x1b[0m" in out                   # subsystem brown
    assert "\x1b[31mout of memory\x1b[0m" in out                      # err red
    assert "\x1b[1;33m" in render.colour_dmesg_line(line, 4)           # warn bold yellow
    assert ANSI.sub("", render.colour_dmesg_line(line, 6, dim=True)) == line


def test_xxd_poison_bytes_are_coloured():
    text = "ffff888004a1c000: 6b6b 6b6b 6b6b 6ba5 bbbb bbbb 0000 1234  kkkkkkk.........\n"
    out = render.colour_xxd(text)
    assert ANSI.sub("", out) == text
    assert "\x1b[31m6b\x1b[0m" in out and "\x1b[35ma5\x1b[0m" in out and "\x1b[36mbb\x1b[0m" in out
    assert "\x1b[31m12\x1b[0m" not in out


def test_python_source_is_highlighted():
    src = "def f():\n    return 1\n"
    out = render.highlight_python("m.py", src)
    assert "\x1b[" in out and ANSI.sub("", out) == src
    assert render.highlight_python("notes.txt", src) == src


def test_slabinfo_table_keeps_cache_names_with_spaces():
    from kmsim.shell.render import render_to_text, table_slabinfo
    rows = [{"name": "example cache", "active_objs": 5, "num_objs": 64, "objsize": 64, "objperslab": 64,
             "pagesperslab": 1, "active_slabs": 1, "num_slabs": 1}]
    text = ANSI.sub("", render_to_text(table_slabinfo(rows), 80))
    row = next(line for line in text.splitlines() if "example cache" in line)
    assert "example cache" in row and row.split()[2:8] == ["5", "64", "64", "64", "1", "1"]
