"""/proc/slabinfo and /sys/kernel/slab/CACHE/* (mm/slab_common.c, mm/slub.c sysfs)."""
from __future__ import annotations

from ..mm import slub as S
from . import FsError, proc_dir, proc_file

__all__ = ["slabinfo", "slabinfo_rows", "slabinfo_json", "format_slabinfo", "format_slabinfo_row",
           "slabtop_rows", "slabtop_summary", "slabtop_cells", "format_slabtop", "cache_attrs",
           "SLABINFO_HEADER", "SLABINFO_JSON_KEYS", "SLABTOP_HEADER"]

SLABINFO_HEADER = ("slabinfo - version: 2.1\n"
                   "# name            <active_objs> <num_objs> <objsize> <objperslab> "
                   "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
                   "<active_slabs> <num_slabs> <sharedavail>\n")


def _slub(k):
    slub = k.slab
    if slub is None:
        raise FsError("No such file or directory")
    return slub


def slabinfo_rows(k) -> list[dict]:
    """One dict per cache, newest first, with the slabinfo columns."""
    slub = _slub(k)
    rows = []
    for s in slub.caches:
        st = slub.stats(s)
        rows.append({"name": s.name, "active_objs": st["active_objs"], "num_objs": st["num_objs"],
                     "objsize": s.size, "objperslab": s.objects, "pagesperslab": 1 << s.order,
                     "active_slabs": st["active_slabs"], "num_slabs": st["num_slabs"],
                     "object_size": s.object_size, "pages": st["pages"], "inuse": st["objects"]})
    return rows


def format_slabinfo_row(r: dict) -> str:
    """cache_show: '%-17s %6lu %6lu %6u %4u %4d : tunables ... : slabdata ...'."""
    return (f"{r['name']:<17} {r['active_objs']:6d} {r['num_objs']:6d} {r['objsize']:6d} "
            f"{r['objperslab']:4d} {r['pagesperslab']:4d} : tunables {0:4d} {0:4d} {0:4d} : "
            f"slabdata {r['active_slabs']:6d} {r['num_slabs']:6d} {0:6d}\n")


# the keys of slabinfo's --json objects (the rows carry more)
SLABINFO_JSON_KEYS = ("name", "active_objs", "num_objs", "objsize", "objperslab", "pagesperslab",
                      "active_slabs", "num_slabs")


def slabinfo_json(rows: list[dict]) -> list[dict]:
    """slabinfo's --json document: SLABINFO_JSON_KEYS of each row."""
    return [{key: r[key] for key in SLABINFO_JSON_KEYS} for r in rows]


def format_slabinfo(rows: list[dict]) -> str:
    """slab_show: the version 2.1 header, then a line per cache."""
    return SLABINFO_HEADER + "".join(format_slabinfo_row(r) for r in rows)


@proc_file("/proc/slabinfo")
def slabinfo(k) -> str:
    """/proc/slabinfo, version 2.1."""
    return format_slabinfo(slabinfo_rows(k))


_SORT = {"a": ("active_objs", True), "b": ("objperslab", True), "c": ("cache_size", True),
         "l": ("num_slabs", True), "v": ("active_slabs", True), "n": ("name", False),
         "o": ("num_objs", True), "p": ("pagesperslab", True), "s": ("objsize", True),
         "u": ("use", True)}


def slabtop_rows(k, sort_key: str = "o") -> list[dict]:
    """The caches as procps slabtop sorts them (keys a b c l v n o p s u; default o)."""
    rows = slabinfo_rows(k)
    for r in rows:
        r["cache_size"] = r["num_slabs"] * r["pagesperslab"] * 4096
        r["use"] = 100 * r["active_objs"] // r["num_objs"] if r["num_objs"] else 0
    field, rev = _SORT.get(sort_key, _SORT["o"])
    return sorted(rows, key=lambda r: r[field], reverse=rev)


def slabtop_summary(rows: list[dict]) -> list[str]:
    """The five summary lines at the top of slabtop's screen."""
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
    return [f" Active / Total Objects (% used)    : {active} / {objs} ({pct(active, objs):.1f}%)",
            f" Active / Total Slabs (% used)      : {aslabs} / {slabs} ({pct(aslabs, slabs):.1f}%)",
            f" Active / Total Caches (% used)     : {acaches} / {len(rows)} "
            f"({pct(acaches, len(rows)):.1f}%)",
            f" Active / Total Size (% used)       : {asize:.2f}K / {tsize:.2f}K "
            f"({pct(asize, tsize):.1f}%)",
            f" Minimum / Average / Maximum Object : {min(sizes):.2f}K / {avg:.2f}K / "
            f"{max(sizes):.2f}K"]


SLABTOP_HEADER = ("OBJS", "ACTIVE", "USE", "OBJ SIZE", "SLABS", "OBJ/SLAB", "CACHE SIZE", "NAME")


def slabtop_cells(r: dict) -> list[str]:
    """A cache's values as slabtop prints them, one per SLABTOP_HEADER column."""
    return [str(r["num_objs"]), str(r["active_objs"]), f"{r['use']}%", f"{r['objsize'] / 1024:.2f}K",
            str(r["num_slabs"]), str(r["objperslab"]), f"{r['cache_size'] // 1024}K", r["name"]]


def format_slabtop(rows: list[dict]) -> str:
    """procps slabtop's screen, printed once (-o): the summary, a blank line, the caches."""
    out = slabtop_summary(rows) + ["", "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE "
                                       + f"{'NAME':<23}"]
    for r in rows:
        out.append(f"{r['num_objs']:6d} {r['active_objs']:6d} {r['use']:3d}% "
                   f"{r['objsize'] / 1024:7.2f}K {r['num_slabs']:6d} {r['objperslab']:8d} "
                   f"{r['cache_size'] // 1024:9d}K {r['name']:<23}")
    return "\n".join(out) + "\n"


# -- /sys/kernel/slab ----------------------------------------------------------------------
ATTRS = ["aliases", "align", "cache_dma", "cpu_partial", "cpu_slabs", "ctor", "destroy_by_rcu",
         "failslab", "hwcache_align", "min_partial", "object_size", "objects", "objects_partial",
         "objs_per_slab", "order", "partial", "poison", "reclaim_account", "red_zone",
         "remote_node_defrag_ratio", "sanity_checks", "shrink", "slab_size", "slabs",
         "slabs_cpu_partial", "store_user",
         "total_objects", "trace", "usersize", "validate"]


def _node(n: int) -> str:
    return f"{n} N0={n}" if n else "0"


def _cache_of(k, name: str):
    s = _slub(k).find(name)
    if s is None:
        raise FsError("No such file or directory")
    return s


def _lister(k, rel: str):
    slub = _slub(k)
    parts = [p for p in rel.split("/") if p]
    if not parts:
        names = []
        for s in slub.caches:
            names.append(s.name)
            names += s.aliases
        return names
    if len(parts) == 1 and slub.find(parts[0]) is not None:
        return list(ATTRS)
    return None


def _flag(s, bit) -> str:
    return "1" if s.flags & bit else "0"


def cache_attrs(k, s) -> dict:
    """The values of /sys/kernel/slab/CACHE/* (but ctor, validate and shrink) for cache s."""
    st = _slub(k).stats(s)
    return {
        "object_size": s.object_size, "slab_size": s.size, "objs_per_slab": s.objects,
        "order": s.order, "align": s.align, "aliases": len(s.aliases),
        "objects": _node(st["active_objs"]), "objects_partial": _node(st["objects_partial"]),
        "total_objects": _node(st["num_objs"]), "slabs": _node(st["num_slabs"]),
        "partial": _node(st["partial"]), "cpu_slabs": _node(st["cpu_slabs"]),
        "red_zone": _flag(s, S.SLAB_RED_ZONE), "poison": _flag(s, S.SLAB_POISON),
        "sanity_checks": _flag(s, S.SLAB_CONSISTENCY_CHECKS),
        "store_user": _flag(s, S.SLAB_STORE_USER), "trace": _flag(s, S.SLAB_TRACE),
        "destroy_by_rcu": _flag(s, S.SLAB_TYPESAFE_BY_RCU),
        "hwcache_align": _flag(s, S.SLAB_HWCACHE_ALIGN),
        "reclaim_account": _flag(s, S.SLAB_RECLAIM_ACCOUNT),
        "cache_dma": _flag(s, S.SLAB_CACHE_DMA), "min_partial": s.min_partial,
        "cpu_partial": s.cpu_partial, "failslab": _flag(s, S.SLAB_FAILSLAB),
        "slabs_cpu_partial": "0(0)",           # kmsim keeps no per-cpu partial slabs
        "usersize": s.object_size if s.kmalloc else 0,   # kmalloc caches whitelist the object
        "remote_node_defrag_ratio": 100,      # CONFIG_NUMA: s->remote_node_defrag_ratio 1000, shown / 10
    }


def _reader(k, rel: str) -> str:
    parts = [p for p in rel.split("/") if p]
    if len(parts) == 1:
        _cache_of(k, parts[0])
        raise FsError("Is a directory", 21)
    if len(parts) != 2 or parts[1] not in ATTRS:
        raise FsError("No such file or directory")
    s = _cache_of(k, parts[0])
    a = parts[1]
    if a == "ctor":
        return f"{s.ctor_name}\n" if s.ctor_name else ""
    if a in ("validate", "shrink"):
        return ""
    return f"{cache_attrs(k, s)[a]}\n"


def _writer(k, rel: str, text: str) -> None:
    parts = [p for p in rel.split("/") if p]
    if len(parts) != 2:
        raise FsError("Permission denied", 13)
    s = _cache_of(k, parts[0])
    attr, on = parts[1], text.strip()[:1] == "1"
    if attr in ("min_partial", "cpu_partial"):
        _store_partial(s, attr, text)
    elif attr == "failslab":                      # failslab_store: not on a merged cache
        if s.refcount > 1:
            raise FsError("Invalid argument", 22)
        s.flags = s.flags | S.SLAB_FAILSLAB if on else s.flags & ~S.SLAB_FAILSLAB
    elif attr not in ("validate", "shrink"):
        raise FsError("Permission denied", 13)
    elif not on:
        raise FsError("Invalid argument", 22)
    elif attr == "validate":
        _slub(k).validate(s)
    else:
        _slub(k).shrink(s)


def _store_partial(s, attr: str, text: str) -> None:
    """min_partial_store / cpu_partial_store: kstrtoul(buf, 10); a debug cache keeps no
    per-cpu partial slabs, so it refuses a nonzero cpu_partial."""
    t = text.strip()
    if not t.isdigit():
        raise FsError("Invalid argument", 22)
    val = int(t)
    if val >> 64 or (attr == "cpu_partial" and val >> 32):
        raise FsError("Numerical result out of range", 34)
    if attr == "cpu_partial" and val and s.debug:
        raise FsError("Invalid argument", 22)
    setattr(s, attr, val)


proc_dir("/sys/kernel/slab", _lister, _reader, _writer)
