"""/proc/vmallocinfo (mm/vmalloc.c s_show)."""
from __future__ import annotations

from . import proc_file

__all__ = ["vmallocinfo", "vmallocinfo_rows", "vmallocinfo_json", "format_vmallocinfo",
           "area_fields", "pointer_text"]


def pointer_text(k, addr: int) -> str:
    """%pK: hashed unless no_hash_pointers."""
    ctx = k.printk_ctx
    if ctx.no_hash_pointers:
        return f"{addr:0{k.machine.ptr_size * 2}x}"
    return ctx.hash_pointer(addr)


def vmallocinfo_rows(k) -> list[dict]:
    """One dict per busy area, in address order."""
    v = k.vmalloc
    if v is None:
        return []
    rows = []
    for a in v.all_areas():
        rows.append({"start": a.start, "end": a.end, "size": a.size, "caller": v.caller_text(a.caller),
                     "pages": len(a.pages), "phys": a.phys, "types": list(a.types),
                     "module": a.module.name if a.module is not None else None})
    return rows


def vmallocinfo_json(rows: list[dict]) -> list[dict]:
    """The --json document: the rows with addresses as "0x..." strings (above 2^53 a JSON
    number loses its low bits in jq and JavaScript; kmemleak's JSON does the same)."""
    return [{key: f"{v:#x}" if key in ("start", "end", "phys") and isinstance(v, int) else v
             for key, v in r.items()} for r in rows]


def area_fields(k, r: dict) -> tuple[str, str, str, str]:
    """An area's '0x<start>' and '0x<end>' (%pK), its caller, and the rest of its line
    ('pages=N phys=.. vmalloc N0=N'), as s_show prints them."""
    rest = []
    if r["pages"]:
        rest.append(f"pages={r['pages']}")
    if r["phys"] is not None:
        rest.append(f"phys=0x{r['phys']:0{k.machine.ptr_size * 2}x}")
    rest += r["types"]
    if r["pages"]:
        rest.append(f"N0={r['pages']}")
    return (f"0x{pointer_text(k, r['start'])}", f"0x{pointer_text(k, r['end'])}", r["caller"],
            " ".join(rest))


def format_vmallocinfo(k, rows: list[dict]) -> str:
    """'0x<start>-0x<end> <size> <caller> pages=N [phys=..] vmalloc N0=N' per area."""
    out = []
    for r in rows:
        start, end, caller, rest = area_fields(k, r)
        out.append(f"{start}-{end} {r['size']:7d} {caller}" + (f" {rest}" if rest else "") + "\n")
    return "".join(out)


@proc_file("/proc/vmallocinfo")
def vmallocinfo(k) -> str:
    """/proc/vmallocinfo."""
    return format_vmallocinfo(k, vmallocinfo_rows(k))
