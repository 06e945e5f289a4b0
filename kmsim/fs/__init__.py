"""The virtual /proc, /sys and /sys/kernel/debug: one renderer per file.

Files are registered with ``@proc_file(path)`` (a read function kernel -> str)
and optionally ``@proc_write(path)`` (kernel, text -> None, raising
``FsError`` with the errno message).  Directories whose entries depend on the
machine (``/sys/module/NAME/...``, ``/sys/kernel/slab/CACHE/...``) register a
``@proc_dir(prefix)`` provider that lists and resolves its children.
Each subsystem's renderers live in a module of this package (``fs/slab.py``,
``fs/vmalloc.py`` ...), all imported by ``load_all()``; this module renders the
files of the foundation (buddy, printk, modules, taint).

Every view has one data path: ``X_rows(kernel)`` reads the subsystems' state into
rows (dicts), ``format_X(rows)`` prints the kernel's text of them (the /proc file,
or the tool's output for lsmod, free and slabtop), the rows are the ``--json``
document (``X_json(rows)`` where it keeps fewer keys), and shell/render.py draws
its rich table from the same rows.  Nothing parses the text back.
"""
from __future__ import annotations

from collections.abc import Callable

from ..lib.params import format_param_value, parse_param_value
from ..machine import MAX_ORDER, PAGE_SHIFT
from ..mm.buddy import MIGRATE_TYPES
from ..report import taint_letters

__all__ = ["FsError", "proc_file", "proc_write", "proc_dir", "read_file", "write_file",
           "list_dir", "all_paths", "exists",
           "buddyinfo_rows", "format_buddyinfo", "pagetypeinfo_rows", "format_pagetypeinfo",
           "zoneinfo_rows", "zoneinfo_json", "format_zoneinfo", "meminfo_values", "format_meminfo",
           "totalreserve_pages", "free_values", "free_json", "free_cells", "format_free",
           "module_rows", "format_proc_modules", "lsmod_json", "format_lsmod"]

_READERS: dict[str, Callable] = {}
_WRITERS: dict[str, Callable] = {}
_DIRS: dict[str, DirProvider] = {}


class FsError(Exception):
    """A failed file operation: message is strerror ('No such file or directory')."""

    def __init__(self, message: str, errno: int = 2):
        super().__init__(message)
        self.errno = errno


class DirProvider:
    """A dynamic directory: list(kernel, rel) -> names, read/write(kernel, rel[, text])."""

    def __init__(self, prefix: str, lister, reader, writer=None):
        self.prefix, self.lister, self.reader, self.writer = prefix, lister, reader, writer


def proc_file(path: str):
    """Register the renderer of a virtual file."""
    def deco(fn):
        _READERS[path] = fn
        return fn
    return deco


def proc_write(path: str):
    """Register the write handler of a virtual file (echo VALUE > PATH)."""
    def deco(fn):
        _WRITERS[path] = fn
        return fn
    return deco


def proc_dir(prefix: str, lister, reader, writer=None) -> None:
    """Register a dynamic directory under prefix (no trailing slash)."""
    _DIRS[prefix] = DirProvider(prefix, lister, reader, writer)


def _norm(path: str) -> str:
    parts = [p for p in path.split("/") if p and p != "."]
    out: list[str] = []
    for p in parts:
        if p == "..":
            if out:
                out.pop()
        else:
            out.append(p)
    return "/" + "/".join(out)


def _provider(path: str):
    best = None
    for prefix, prov in _DIRS.items():
        if (path == prefix or path.startswith(prefix + "/")) and (
                best is None or len(prefix) > len(best.prefix)):
            best = prov
    return best


def read_file(kernel, path: str) -> str:
    """The text of a virtual file, or FsError."""
    path = _norm(path)
    fn = _READERS.get(path)
    if fn is not None:
        return fn(kernel)
    prov = _provider(path)
    if prov is not None and path != prov.prefix:
        return prov.reader(kernel, path[len(prov.prefix) + 1:])
    if list_dir(kernel, path, quiet=True) is not None:
        raise FsError("Is a directory", 21)
    raise FsError("No such file or directory", 2)


def write_file(kernel, path: str, text: str) -> None:
    """Write to a virtual file, or FsError (Permission denied for read-only files)."""
    path = _norm(path)
    fn = _WRITERS.get(path)
    if fn is not None:
        fn(kernel, text)
        return
    prov = _provider(path)
    if prov is not None and path != prov.prefix:
        if prov.lister(kernel, path[len(prov.prefix) + 1:]) is not None:
            raise FsError("Is a directory", 21)
        if prov.writer is None:
            raise FsError("Permission denied", 13)
        prov.writer(kernel, path[len(prov.prefix) + 1:], text)
        return
    if path in _READERS:
        raise FsError("Permission denied", 13)
    if list_dir(kernel, path, quiet=True) is not None:
        raise FsError("Is a directory", 21)
    raise FsError("No such file or directory", 2)


def list_dir(kernel, path: str, quiet: bool = False) -> list[str] | None:
    """Names in a virtual directory; None (quiet) or FsError if it is not one."""
    path = _norm(path)
    names: set[str] = set()
    is_dir = False                 # a provider's directory may be empty (/sys/module, no modules)
    pre = path.rstrip("/") + "/"
    for p in list(_READERS) + list(_WRITERS) + list(_DIRS):
        if p.startswith(pre):
            names.add(p[len(pre):].split("/")[0])
    prov = _provider(path)
    if prov is not None:
        rel = path[len(prov.prefix) + 1:] if path != prov.prefix else ""
        sub = prov.lister(kernel, rel)
        if sub is not None:
            names.update(sub)
            is_dir = True
        elif not names:
            try:                   # a file of the provider, or nothing at all?
                prov.reader(kernel, rel)
                err = FsError("Not a directory", 20)
            except FsError as e:
                err = FsError("Not a directory", 20) if e.errno == 21 else e
            if quiet:
                return None
            raise err
    if not names and not is_dir:
        if path in _READERS:
            if quiet:
                return None
            raise FsError("Not a directory", 20)
        if quiet:
            return None
        raise FsError("No such file or directory", 2)
    return sorted(names)


def exists(kernel, path: str) -> bool:
    """True if path is a virtual file or directory."""
    try:
        read_file(kernel, path)
        return True
    except FsError as e:
        return e.errno == 21
    except Exception:
        return False


def all_paths(kernel) -> list[str]:
    """Every static file path and the dynamic ones reachable one level down (completion)."""
    paths = set(_READERS) | set(_WRITERS)
    for prefix, prov in _DIRS.items():
        for name in prov.lister(kernel, "") or []:
            paths.add(f"{prefix}/{name}")
    return sorted(paths)


# ----------------------------------------------------------------------------------------
# The foundation's files.  Each view is a rows function (the subsystems' state as dicts,
# also the --json document) and a format function (the kernel's text of those rows); the
# shell's rich tables (shell/render.py) are the third rendering of the same rows.

def buddyinfo_rows(k) -> list[dict]:
    """One dict per zone: free blocks per order, free pages, pages on the per-cpu lists."""
    return [{"zone": z.name, "free_blocks": z.nr_free_blocks(), "free_pages": z.nr_free,
             "pcp_pages": z.pcp_count} for z in k.buddy.zones]


def format_buddyinfo(rows: list[dict]) -> str:
    """frag_show_print: 'Node 0, zone %8s ' then '%6lu ' per order."""
    lines = [f"Node 0, zone {r['zone']:>8} " + "".join(f"{n:6d} " for n in r["free_blocks"]) for r in rows]
    return "\n".join(lines) + "\n"


@proc_file("/proc/buddyinfo")
def buddyinfo(k) -> str:
    """/proc/buddyinfo."""
    return format_buddyinfo(buddyinfo_rows(k))


def pagetypeinfo_rows(k) -> dict:
    """The pageblock order, and per zone its free blocks per migrate type and order (the
    buddy lists, not the pcp lists) and its pageblocks per migrate type."""
    zones = k.buddy.zones
    pb_order = zones[0].pageblock_order if zones else MAX_ORDER - 1
    rows = []
    for z in zones:
        free = z.nr_free_blocks_by_type()
        blocks = z.pageblock_counts()
        rows.append({"zone": z.name, "free": dict(zip(MIGRATE_TYPES, free, strict=True)),
                     "blocks": dict(zip(MIGRATE_TYPES, blocks, strict=True))})
    return {"pageblock_order": pb_order, "zones": rows}


def format_pagetypeinfo(view: dict) -> str:
    """pagetypeinfo_show: the free counts per migrate type and order, then the blocks."""
    pb_order = view["pageblock_order"]
    out = [f"Page block order: {pb_order}", f"Pages per block:  {1 << pb_order}", ""]
    out.append(f"{'Free pages count per migrate type at order':<43} "
               + "".join(f"{o:6d} " for o in range(MAX_ORDER)))
    for z in view["zones"]:
        for t, row in z["free"].items():
            out.append(f"Node {0:4d}, zone {z['zone']:>8}, type {t:>12} "
                       + "".join(f"{n:6d} " for n in row))
    out.append("")
    out.append(f"{'Number of blocks type ':<23}" + "".join(f"{t:>12} " for t in MIGRATE_TYPES))
    for z in view["zones"]:
        out.append(f"Node 0, zone {z['zone']:>8} " + "".join(f"{n:12d} " for n in z["blocks"].values()))
    return "\n".join(out) + "\n"


@proc_file("/proc/pagetypeinfo")
def pagetypeinfo(k) -> str:
    """/proc/pagetypeinfo: free blocks per order and migrate type, pageblocks per type."""
    return format_pagetypeinfo(pagetypeinfo_rows(k))


# Linux 6.1's vmstat_text, as Debian's kernel prints them in /proc/zoneinfo
_NODE_STATS = ["nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
               "nr_unevictable", "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_isolated_anon",
               "nr_isolated_file", "workingset_nodes", "workingset_refault_anon",
               "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file",
               "workingset_restore_anon", "workingset_restore_file", "workingset_nodereclaim",
               "nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback",
               "nr_writeback_temp", "nr_shmem", "nr_shmem_hugepages", "nr_shmem_pmdmapped",
               "nr_file_hugepages", "nr_file_pmdmapped", "nr_anon_transparent_hugepages",
               "nr_vmscan_write", "nr_vmscan_immediate_reclaim", "nr_dirtied", "nr_written",
               "nr_throttled_written", "nr_kernel_misc_reclaimable", "nr_foll_pin_acquired",
               "nr_foll_pin_released", "nr_kernel_stack", "nr_page_table_pages",
               "nr_sec_page_table_pages", "nr_swapcached", "pgpromote_success", "pgpromote_candidate"]
_ZONE_STATS = ["nr_zone_inactive_anon", "nr_zone_active_anon", "nr_zone_inactive_file",
               "nr_zone_active_file", "nr_zone_unevictable", "nr_zone_write_pending", "nr_mlock",
               "nr_bounce", "nr_zspages", "nr_free_cma", "numa_hit", "numa_miss", "numa_foreign",
               "numa_interleave", "numa_local", "numa_other"]

# the keys of a zone's --json object (the zoneinfo rows carry more)
ZONE_JSON_KEYS = ("zone", "free", "min", "low", "high", "spanned", "present", "managed", "start_pfn", "pcp")


def zoneinfo_rows(k) -> list[dict]:
    """One dict per zone type of the machine, populated or not (``populated``); the first
    populated zone carries the node's counters (``node_stats``), as zoneinfo prints them."""
    rows = []
    first = True
    nzones = len(k.machine.zone_names_all)
    for name in k.machine.zone_names_all:
        z = k.buddy.zone_by_name.get(name)
        if z is None:
            rows.append({"zone": name, "populated": False, "free": 0, "min": 0, "low": 0, "high": 0,
                         "spanned": 0, "present": 0, "managed": 0, "protection": [0] * nzones})
            continue
        row = {"zone": z.name, "free": z.nr_free, "min": z.wmark_min, "low": z.wmark_low,
               "high": z.wmark_high, "spanned": z.spanned, "present": z.present,
               "managed": z.managed, "start_pfn": z.zone_start_pfn,
               "pcp": {"count": z.pcp_count, "high": z.pcp_high, "batch": z.pcp_batch},
               "populated": True, "protection": list(z.lowmem_reserve)}
        if first:                   # is_zone_first_populated
            row["node_stats"] = _node_stats(k)
            first = False
        rows.append(row)
    return rows


def zoneinfo_json(rows: list[dict]) -> list[dict]:
    """The --json document of zoneinfo: the populated zones, ZONE_JSON_KEYS of each."""
    return [{key: r[key] for key in ZONE_JSON_KEYS} for r in rows if r["populated"]]


def _node_stats(k) -> dict[str, int]:
    node = dict.fromkeys(_NODE_STATS, 0)
    rec = k.slab_reclaimable_pages()
    node.update(nr_slab_reclaimable=rec, nr_slab_unreclaimable=k.slab_pages() - rec,
                nr_inactive_anon=k.shmem_pages, nr_file_pages=k.shmem_pages, nr_shmem=k.shmem_pages,
                nr_kernel_stack=16 * 4,
                nr_page_table_pages=k.vmalloc_stats()[1])
    return node


def format_zoneinfo(rows: list[dict]) -> str:
    """zoneinfo_show_print: every zone type, populated or not."""
    out = []
    for r in rows:
        out.append(f"Node 0, zone {r['zone']:>8}")
        if "node_stats" in r:
            out.append("  per-node stats")
            out += [f"      {key:<12} {val}" for key, val in r["node_stats"].items()]
        out += [f"  pages free     {r['free']}", "        boost    0",
                f"        min      {r['min']}", f"        low      {r['low']}",
                f"        high     {r['high']}", f"        spanned  {r['spanned']}",
                f"        present  {r['present']}", f"        managed  {r['managed']}",
                "        cma      0",
                "        protection: (" + ", ".join(str(v) for v in r["protection"]) + ")"]
        if not r["populated"]:
            continue
        out.append(f"      {'nr_free_pages':<12} {r['free']}")
        out += [f"      {key:<12} 0" for key in _ZONE_STATS]
        out += ["  pagesets", "    cpu: 0", f"              count: {r['pcp']['count']}",
                f"              high:  {r['pcp']['high']}", f"              batch: {r['pcp']['batch']}",
                "  vm stats threshold: 2", "  node_unreclaimable:  0",
                f"  start_pfn:           {r['start_pfn']}"]
    return "\n".join(out) + "\n"


@proc_file("/proc/zoneinfo")
def zoneinfo(k) -> str:
    """/proc/zoneinfo."""
    return format_zoneinfo(zoneinfo_rows(k))


def totalreserve_pages(k) -> int:
    """calculate_totalreserve_pages: per zone, its largest lowmem_reserve plus its high
    watermark (at most its managed pages).  si_mem_available subtracts it from the free
    pages and adds back the part of the reclaimable slab above the low watermarks."""
    return sum(min(max(z.lowmem_reserve, default=0) + z.wmark_high, z.managed) for z in k.buddy.zones)


def si_mem_available(k) -> int:
    """si_mem_available, in pages: NR_FREE_PAGES less the reserve, plus the reclaimable
    slab less half of it (at most the low watermarks); kmsim has no file LRU pages."""
    wmark_low = sum(z.wmark_low for z in k.buddy.zones)
    free = sum(z.nr_free for z in k.buddy.zones)
    rec = k.slab_reclaimable_pages()
    return max(free - totalreserve_pages(k) + rec - min(rec // 2, wmark_low), 0)


def meminfo_values(k) -> dict[str, int]:
    """The /proc/meminfo fields in the kernel's order, in kB (shared with free and the toolbar).

    The HugePages_* counts (NO_KB) are pages, not kB: they print without the unit."""
    kb = 1 << (PAGE_SHIFT - 10)
    total = sum(z.managed for z in k.buddy.zones) * kb
    free = sum(z.nr_free for z in k.buddy.zones) * kb      # NR_FREE_PAGES: not the pcp lists
    slab = k.slab_pages() * kb
    rec = k.slab_reclaimable_pages() * kb
    shmem = k.shmem_pages * kb
    vused, ptables = k.vmalloc_stats()
    x86 = k.machine.name in ("x86_64", "i386")
    vals = {"MemTotal": total, "MemFree": free, "MemAvailable": si_mem_available(k) * kb,
            "Buffers": 0, "Cached": shmem,
            "SwapCached": 0, "Active": 0, "Inactive": shmem, "Active(anon)": 0, "Inactive(anon)": shmem,
            "Active(file)": 0, "Inactive(file)": 0, "Unevictable": 0, "Mlocked": 0}
    if any(z.is_highmem for z in k.buddy.zones):
        hz = [z for z in k.buddy.zones if z.is_highmem]
        vals["HighTotal"] = sum(z.managed for z in hz) * kb
        vals["HighFree"] = sum(z.nr_free for z in hz) * kb
        vals["LowTotal"] = total - vals["HighTotal"]
        vals["LowFree"] = free - vals["HighFree"]
    vals.update({"SwapTotal": 0, "SwapFree": 0, "Zswap": 0, "Zswapped": 0, "Dirty": 0,
                 "Writeback": 0, "AnonPages": 0, "Mapped": 0, "Shmem": shmem, "KReclaimable": rec,
                 "Slab": slab, "SReclaimable": rec, "SUnreclaim": slab - rec, "KernelStack": 64,
                 "PageTables": ptables * kb, "SecPageTables": 0, "NFS_Unstable": 0, "Bounce": 0,
                 "WritebackTmp": 0, "CommitLimit": total // 2, "Committed_AS": 0})
    vm_total = (k.vmalloc_end - k.vmalloc_start) >> 10
    vals.update({"VmallocTotal": vm_total, "VmallocUsed": vused, "VmallocChunk": 0,
                 "Percpu": 64})
    if x86:
        vals.update({"HardwareCorrupted": 0, "AnonHugePages": 0, "ShmemHugePages": 0,
                     "ShmemPmdMapped": 0, "FileHugePages": 0, "FilePmdMapped": 0,
                     "HugePages_Total": 0, "HugePages_Free": 0, "HugePages_Rsvd": 0,
                     "HugePages_Surp": 0,
                     "Hugepagesize": 2048 if k.machine.ptr_size == 8 else 4096, "Hugetlb": 0})
        # the direct map: 4k pages for the first 2 MiB (4 MiB on i386), large pages above
        big = 2048 if k.machine.ptr_size == 8 else 4096
        lowmem_kb = (k.lowmem_bytes - sum(e - s for s, e in k.phys_holes) * 4096) >> 10
        vals["DirectMap4k"] = min(lowmem_kb, big)
        vals[f"DirectMap{big // 1024}M"] = lowmem_kb - vals["DirectMap4k"]
    return vals


NO_KB = ("HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp")


def format_meminfo(vals: dict[str, int]) -> str:
    """meminfo_proc_show: 'Name:' padded to 16 columns, then '%8lu kB' (the value field ends
    in column 24, as seq_put_decimal_ull_width and 'HardwareCorrupted: %5lu kB' put it)."""
    out = []
    for name, val in vals.items():
        head = f"{name + ':':<16}" if len(name) < 15 else name + ": "
        out.append(f"{head}{val:{max(24 - len(head), 1)}d}" + ("\n" if name in NO_KB else " kB\n"))
    return "".join(out)


@proc_file("/proc/meminfo")
def meminfo(k) -> str:
    """/proc/meminfo."""
    return format_meminfo(meminfo_values(k))


# the keys of free's --json object (free_values carries more)
FREE_JSON_KEYS = ("total_kb", "used_kb", "free_kb", "slab_kb", "buff_cache_kb", "available_kb")


def free_values(k) -> dict[str, int]:
    """What procps free computes from /proc/meminfo, in kB (buff/cache is Buffers, Cached
    and SReclaimable; used is what is neither free nor cache)."""
    v = meminfo_values(k)
    cache = v["Buffers"] + v["Cached"] + v["SReclaimable"]
    return {"total_kb": v["MemTotal"], "used_kb": v["MemTotal"] - v["MemFree"] - cache,
            "free_kb": v["MemFree"], "slab_kb": v["Slab"], "buff_cache_kb": cache,
            "available_kb": v["MemAvailable"], "shared_kb": v["Shmem"],
            "swap_total_kb": v["SwapTotal"], "swap_used_kb": v["SwapTotal"] - v["SwapFree"],
            "swap_free_kb": v["SwapFree"]}


def free_json(vals: dict[str, int]) -> dict[str, int]:
    """free's --json document: FREE_JSON_KEYS of free_values."""
    return {key: vals[key] for key in FREE_JSON_KEYS}


FREE_HEADER = ("total", "used", "free", "shared", "buff/cache", "available")


def free_cells(vals: dict[str, int], human: bool = False, unit: int = 1) -> list[list[str]]:
    """free's 'Mem:' and 'Swap:' lines as cells, each value as procps prints it (-h: 0B,
    one decimal below 10, else whole units; otherwise kB divided by unit)."""
    def f(x: int) -> str:
        return _human(x) if human else str(x // unit)
    return [["Mem:"] + [f(vals[key]) for key in ("total_kb", "used_kb", "free_kb", "shared_kb",
                                                 "buff_cache_kb", "available_kb")],
            ["Swap:"] + [f(vals[key]) for key in ("swap_total_kb", "swap_used_kb", "swap_free_kb")]]


def _human(kb: int) -> str:
    if kb == 0:
        return "0B"
    for suf, div in (("Ki", 1), ("Mi", 1 << 10), ("Gi", 1 << 20), ("Ti", 1 << 30)):
        v = kb / div
        if v < 9.95:
            return f"{v:.1f}{suf}"
        if v < 1023.5 or suf == "Ti":
            return f"{round(v)}{suf}"
    return f"{kb}Ki"        # not reached: the Ti row always answers


def format_free(vals: dict[str, int], human: bool = False, unit: int = 1) -> str:
    """procps free's text: a header of 12-column fields, then Mem: and Swap:."""
    out = "".ljust(8) + "".join(f"{h:>12}" for h in FREE_HEADER) + "\n"
    for cells in free_cells(vals, human, unit):
        out += f"{cells[0]:<8}" + "".join(f"{c:>12}" for c in cells[1:]) + "\n"
    return out


@proc_file("/proc/cmdline")
def cmdline(k) -> str:
    """/proc/cmdline."""
    return k.kernel_cmdline + "\n"


@proc_file("/proc/version")
def version(k) -> str:
    """/proc/version."""
    return f"Linux version {k.release} (kmsim@kmsim) {k.version}\n"


@proc_file("/proc/sys/kernel/printk")
def printk_sysctl(k) -> str:
    """/proc/sys/kernel/printk: the four console levels."""
    return k.printk.sysctl_text()


@proc_write("/proc/sys/kernel/printk")
def printk_sysctl_write(k, text: str) -> None:
    """echo '7 4 1 7' > /proc/sys/kernel/printk."""
    try:
        k.printk.sysctl_write(text)
    except ValueError:
        raise FsError("Invalid argument", 22) from None


@proc_file("/proc/sys/kernel/tainted")
def tainted(k) -> str:
    """/proc/sys/kernel/tainted: the decimal taint mask."""
    return f"{k.taint}\n"


@proc_file("/proc/sys/kernel/kptr_restrict")
def kptr_restrict(k) -> str:
    """/proc/sys/kernel/kptr_restrict."""
    return "0\n"


@proc_file("/proc/uptime")
def uptime(k) -> str:
    """/proc/uptime."""
    s = k.uptime_ns() / 1e9
    return f"{s:.2f} {s:.2f}\n"


# the keys of lsmod's --json objects (module_rows carries more)
LSMOD_JSON_KEYS = ("name", "size", "used_by", "holders", "state")


def module_rows(k) -> list[dict]:
    """One dict per module, newest first: what /proc/modules, lsmod and /sys/module show."""
    rows = []
    for m in reversed(list(k.modules.modules.values())):
        rows.append({"name": m.name, "size": m.size, "used_by": m.refcnt + len(m.holders),
                     "holders": sorted(m.holders), "state": m.state,
                     "address": m.chunks[0][0] if m.chunks else 0, "taint": taint_letters(m.taint)})
    return rows


def format_proc_modules(rows: list[dict], ptr_size: int) -> str:
    """m_show: 'name size refcnt deps, state 0xaddr (taints)'."""
    out = []
    for r in rows:
        deps = ",".join(r["holders"]) + "," if r["holders"] else "-"
        out.append(f"{r['name']} {r['size']} {r['used_by']} {deps} {r['state']} "
                   f"0x{r['address']:0{ptr_size * 2}x}" + (f" ({r['taint']})" if r["taint"] else ""))
    return "".join(line + "\n" for line in out)


@proc_file("/proc/modules")
def proc_modules(k) -> str:
    """/proc/modules."""
    return format_proc_modules(module_rows(k), k.machine.ptr_size)


def lsmod_json(rows: list[dict]) -> list[dict]:
    """lsmod's --json document: LSMOD_JSON_KEYS of each module row."""
    return [{key: r[key] for key in LSMOD_JSON_KEYS} for r in rows]


def format_lsmod(rows: list[dict]) -> str:
    """kmod's lsmod: 'Module                  Size  Used by', then '%-19s %8lu  %d holders'."""
    out = ["Module                  Size  Used by"]
    for r in rows:
        holders = " " + ",".join(r["holders"]) if r["holders"] else ""
        out.append(f"{r['name']:<19} {r['size']:8d}  {r['used_by']}{holders}")
    return "\n".join(out) + "\n"


def _module_lister(k, rel: str):
    parts = [p for p in rel.split("/") if p]
    mods = k.modules.modules
    if not parts:
        return list(mods)
    m = mods.get(parts[0])
    if m is None:
        return None
    if len(parts) == 1:
        return ["parameters", "refcnt", "initstate", "coresize", "taint", "holders"]
    if parts[1] == "parameters" and len(parts) == 2:
        return [p for p, prm in m.params.items() if prm.perm]
    if parts[1] == "holders" and len(parts) == 2:
        return sorted(m.holders)
    return None


def _module_reader(k, rel: str) -> str:
    parts = [p for p in rel.split("/") if p]
    m = k.modules.modules.get(parts[0]) if parts else None
    if m is None:
        raise FsError("No such file or directory")
    if len(parts) == 2:
        row = next(r for r in module_rows(k) if r["name"] == m.name)
        attrs = {"refcnt": row["used_by"], "coresize": row["size"], "taint": row["taint"],
                 "initstate": {"Live": "live", "Loading": "coming", "Unloading": "going"}[row["state"]]}
        if parts[1] in attrs:
            return f"{attrs[parts[1]]}\n"
        if parts[1] in ("parameters", "holders"):
            raise FsError("Is a directory", 21)
    if len(parts) == 3 and parts[1] == "parameters":
        prm = m.params.get(parts[2])
        if prm is None or not prm.perm:
            raise FsError("No such file or directory")
        return format_param_value(prm.type, m.namespace.get(prm.name)) + "\n"
    raise FsError("No such file or directory")


def _module_writer(k, rel: str, text: str) -> None:
    parts = [p for p in rel.split("/") if p]
    m = k.modules.modules.get(parts[0]) if parts else None
    if m is None or len(parts) != 3 or parts[1] != "parameters":
        raise FsError("Permission denied", 13)
    prm = m.params.get(parts[2])
    if prm is None or not prm.perm & 0o222:
        raise FsError("Permission denied", 13)
    try:
        m.namespace[prm.name] = parse_param_value(prm.type, text.strip())
    except OverflowError:
        raise FsError("Numerical result out of range", 34) from None
    except ValueError:
        raise FsError("Invalid argument", 22) from None


proc_dir("/sys/module", _module_lister, _module_reader, _module_writer)


def load_all() -> None:
    """Import every renderer module of this package (each registers its files)."""
    import importlib
    import pkgutil
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


load_all()
