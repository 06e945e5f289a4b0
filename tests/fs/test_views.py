"""Every view is one set of rows rendered three ways: the kernel's text, --json, the rich table.

For each view the numbers of the /proc (or tool's) text, of the JSON document and of the
terminal table are the same numbers, on a machine with modules, caches and vmalloc areas.
"""
from __future__ import annotations

import json
import re

import pytest

from kmsim import fs
from kmsim.fs import slab as fs_slab
from kmsim.fs import vmalloc as fs_vmalloc
from kmsim.shell import render
from tests.conftest import make_shell

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SETUP = ["insmod modules/hello.py", "insmod modules/slab_cache.py", "insmod modules/kmalloc_vmalloc.py",
         "py vmalloc(3 * 4096)"]


def _booted(machine: str, mem: str, append: str = ""):
    sh = make_shell(machine, mem, append)
    for line in SETUP:
        assert sh.execute(line).status == 0, line
    return sh


@pytest.fixture(scope="module", params=[("x86_64", "1G"), ("i386", "1G"), ("rpi2", "512M")],
                ids=lambda p: p[0])
def views(request):
    """Three renderings of each command: its plain text, its --json document, its table."""
    plain = _booted(*request.param)
    js = _booted(*request.param)
    js.json = True
    tty = _booted(*request.param)
    tty.tty = True
    tty.renderer = lambda kind, raw, data, ctx: render.render_table(kind, raw, data, ctx, width=200)

    return Views(plain, js, tty)


class Views:
    """views(line): a command's plain text, its --json document and its table (no colours)."""

    def __init__(self, plain, js, tty):
        self.shells = (plain, js, tty)
        self.kernel = plain.kernel

    def __call__(self, line: str):
        out = []
        for sh in self.shells:
            r = sh.execute(line)
            assert r.status == 0, (line, r.err)
            out.append(r.out)
        return out[0], json.loads(out[1]), ANSI.sub("", out[2])


def _table_rows(table: str) -> dict[str, list[str]]:
    """The table's lines by their first cell."""
    return {ln.split()[0]: ln.split()[1:] for ln in table.splitlines() if ln.split()}


def test_buddyinfo_text_json_and_table_agree(views):
    text, doc, table = views("buddyinfo")
    assert text == fs.read_file(views.kernel, "/proc/buddyinfo")
    rows = _table_rows(table)
    lines = text.splitlines()
    assert [z["zone"] for z in doc] == [ln.split()[3] for ln in lines]
    for z, line in zip(doc, lines, strict=True):
        counts = [int(n) for n in line.split()[4:]]
        assert counts == z["free_blocks"]
        assert sum(n << o for o, n in enumerate(counts)) == z["free_pages"]
        assert rows[z["zone"]][:len(counts)] == [str(n) for n in counts]
        assert rows[z["zone"]][-1] == render._kb(z["free_pages"] * 4)


def test_zoneinfo_text_json_and_table_agree(views):
    text, doc, table = views("zoneinfo")
    assert text == fs.read_file(views.kernel, "/proc/zoneinfo")
    zones = {}
    for block in re.split(r"^Node 0, zone\s+", text, flags=re.M)[1:]:
        name = block.split()[0]
        keys = "free|min|low|high|spanned|present|managed|count:|high:|batch:|start_pfn:"
        zones[name] = {m.group(1): int(m.group(2))
                       for m in re.finditer(rf"^\s+(?:pages )?({keys})\s+(\d+)$", block, flags=re.M)}
    assert [z["zone"] for z in doc] == [n for n, v in zones.items() if v["present"]]
    rows = _table_rows(table)
    for i, z in enumerate(doc):
        got = zones[z["zone"]]
        for key in ("free", "min", "low", "high", "spanned", "present", "managed"):
            assert got[key] == z[key], (z["zone"], key)
            assert rows[key][i] == str(z[key])
        assert got["start_pfn:"] == z["start_pfn"] and rows["start_pfn"][i] == str(z["start_pfn"])
        assert (got["count:"], got["high:"], got["batch:"]) == tuple(z["pcp"].values())
    pcp = {ln.split()[1]: ln.split()[2:] for ln in table.splitlines() if ln.startswith("pcp ")}
    assert pcp["batch"] == [str(z["pcp"]["batch"]) for z in doc]
    assert pcp["count"] == [str(z["pcp"]["count"]) for z in doc]


def test_meminfo_text_json_and_table_agree(views):
    text, doc, table = views("meminfo")
    assert text == fs.read_file(views.kernel, "/proc/meminfo")
    fields = {ln.split(":")[0]: int(ln.split()[1]) for ln in text.splitlines()}
    assert fields == doc
    for name, val in doc.items():
        assert re.search(rf"(^|\s){re.escape(name)}\s+{val}(\s|$)", table, re.M), name


@pytest.mark.parametrize("opt, unit", [("", 1), ("-m", 1024)])
def test_free_text_json_and_table_agree(views, opt, unit):
    text, doc, table = views(f"free {opt}")
    mem = [int(n) for n in text.splitlines()[1].split()[1:]]
    assert mem[:3] == [doc["total_kb"] // unit, doc["used_kb"] // unit, doc["free_kb"] // unit]
    assert mem[4:] == [doc["buff_cache_kb"] // unit, doc["available_kb"] // unit]
    assert _table_rows(table)["Mem:"] == [str(n) for n in mem]
    meminfo = fs.meminfo_values(views.kernel)
    assert doc["total_kb"] == meminfo["MemTotal"] and doc["slab_kb"] == meminfo["Slab"]


def test_lsmod_proc_modules_sys_module_and_table_agree(views):
    text, doc, table = views("lsmod")
    proc = fs.read_file(views.kernel, "/proc/modules").splitlines()
    assert [m["name"] for m in doc] == [ln.split()[0] for ln in text.splitlines()[1:]] \
        == [ln.split()[0] for ln in proc] == ["kmalloc_vmalloc", "slab_cache", "hello"]
    rows = _table_rows(table)
    for m, line, pline in zip(doc, text.splitlines()[1:], proc, strict=True):
        assert [int(w) for w in line.split()[1:3]] == [m["size"], m["used_by"]]
        assert [int(w) for w in pline.split()[1:3]] == [m["size"], m["used_by"]]
        assert rows[m["name"]][:2] == [str(m["size"]), str(m["used_by"])]
        k = views.kernel
        assert fs.read_file(k, f"/sys/module/{m['name']}/refcnt") == f"{m['used_by']}\n"
        assert fs.read_file(k, f"/sys/module/{m['name']}/coresize") == f"{m['size']}\n"
        assert fs.read_file(k, f"/sys/module/{m['name']}/initstate") == "live\n"


def test_slabinfo_text_json_table_and_sysfs_agree(views):
    text, doc, table = views("slabinfo")
    assert text == fs.read_file(views.kernel, "/proc/slabinfo")
    lines = text.splitlines()[2:]
    assert len(doc) == len(lines) > 10
    rows = {ln.split()[0]: ln.split()[1:] for ln in table.splitlines()[3:] if ln.split()}
    for c, line in zip(doc, lines, strict=True):
        head, _sep, tail = line.partition(" : tunables")
        nums = [int(w) for w in head.split()[-5:]]
        assert " ".join(head.split()[:-5]) == c["name"]
        assert nums == [c["active_objs"], c["num_objs"], c["objsize"], c["objperslab"], c["pagesperslab"]]
        slabs = [int(w) for w in tail.split(": slabdata")[1].split()[:2]]
        assert slabs == [c["active_slabs"], c["num_slabs"]]
        if " " not in c["name"]:
            assert rows[c["name"]][:6] == [str(c[k]) for k in ("active_objs", "num_objs", "objsize",
                                                                 "objperslab", "pagesperslab", "num_slabs")]
        sysfs = f"/sys/kernel/slab/{c['name']}"
        assert fs.read_file(views.kernel, f"{sysfs}/slab_size") == f"{c['objsize']}\n"
        assert fs.read_file(views.kernel, f"{sysfs}/objs_per_slab") == f"{c['objperslab']}\n"
        assert fs.read_file(views.kernel, f"{sysfs}/order") == f"{c['pagesperslab'].bit_length() - 1}\n"


def test_slabinfo_pattern_filters_all_three_renderings(views):
    text, doc, table = views("slabinfo kmalloc-1")
    names = [c["name"] for c in doc]
    assert names and all("kmalloc-1" in n for n in names)
    assert [ln.split()[0] for ln in text.splitlines()[2:]] == names
    assert all(n in table for n in names)


def test_slabtop_text_json_and_table_agree(views):
    text, doc, table = views("slabtop -o -s c")
    lines = text.splitlines()
    caches = lines[lines.index(next(ln for ln in lines if ln.strip().startswith("OBJS"))) + 1:]
    assert [c["cache_size"] for c in doc] == sorted((c["cache_size"] for c in doc), reverse=True)
    active, objs = sum(c["active_objs"] for c in doc), sum(c["num_objs"] for c in doc)
    assert lines[0] == f" Active / Total Objects (% used)    : {active} / {objs} ({100 * active / objs:.1f}%)"
    assert ANSI.sub("", table).splitlines()[0] == lines[0]
    for c, line in zip(doc, caches, strict=True):
        w = line.split()
        assert [int(w[0]), int(w[1]), int(w[4]), int(w[5])] == [c["num_objs"], c["active_objs"],
                                                                c["num_slabs"], c["objperslab"]]
        assert w[6] == f"{c['cache_size'] // 1024}K" and " ".join(w[7:]) == c["name"]
        assert fs_slab.slabtop_cells(c) == w[:7] + [" ".join(w[7:])]
    assert all(fs_slab.slabtop_cells(c)[6] in table for c in doc)


def test_vmallocinfo_text_json_and_table_agree(views):
    text, doc, table = views("vmallocinfo")
    lines = text.splitlines()
    assert len(doc) == len(lines) > 3
    for a, row, line in zip(doc, fs_vmalloc.vmallocinfo_rows(views.kernel), lines, strict=True):
        start, end, _caller, rest = fs_vmalloc.area_fields(views.kernel, row)
        assert line.startswith(f"{start}-{end} {a['size']:7d} {a['caller']}")
        assert int(a["end"], 16) - int(a["start"], 16) == a["size"]
        assert (f"pages={a['pages']}" in line) == bool(a["pages"])
        assert all(t in line.split() for t in a["types"])
        assert start in table and (not rest or rest.split()[0] in table)


def test_vmallocinfo_addresses_are_the_real_ones_with_no_hash_pointers():
    sh = _booted("x86_64", "1G", "no_hash_pointers")
    text = sh.execute("vmallocinfo").out
    sh.json = True
    doc = json.loads(sh.execute("vmallocinfo").out)
    for a, line in zip(doc, text.splitlines(), strict=True):
        assert line.split()[0] == f"0x{int(a['start'], 16):016x}-0x{int(a['end'], 16):016x}"


def test_pagetypeinfo_counts_are_buddyinfo_counts(views):
    text = fs.read_file(views.kernel, "/proc/pagetypeinfo")
    buddy = fs.buddyinfo_rows(views.kernel)
    typed = [ln for ln in text.splitlines() if ", type " in ln]       # one row a migrate type
    per_zone = [[[int(n) for n in ln.split()[6:]] for ln in typed if f"zone {z['zone']:>8}," in ln]
                for z in buddy]
    assert [[sum(col) for col in zip(*rows, strict=True)] for rows in per_zone] == \
        [z["free_blocks"] for z in buddy]
    view = fs.pagetypeinfo_rows(views.kernel)
    assert text == fs.format_pagetypeinfo(view)
    assert text.startswith(f"Page block order: {view['pageblock_order']}\n")


def test_kmemleak_text_and_json_name_the_same_objects():
    sh = make_shell(append="kmemleak=on")
    assert sh.execute("insmod tests/bad_modules/leak_kmalloc.py").status == 0
    assert sh.execute("rmmod leak_kmalloc").status == 0
    text = sh.execute("kmemleak scan").out
    sh.json = True
    doc = json.loads(sh.execute("kmemleak").out)
    assert doc, text
    addrs = re.findall(r"^unreferenced object 0x([0-9a-f]+) \(size (\d+)\):", text, re.M)
    assert [(int(a, 16), int(n)) for a, n in addrs] == [(int(o["addr"], 16), o["size"]) for o in doc]
