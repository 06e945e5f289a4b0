"""/proc/vmallocinfo (mm/vmalloc.c s_show)."""
from __future__ import annotations

from . import proc_file

__all__ = ["vmallocinfo", "vmallocinfo_rows"]


def _ptr(k, addr: int) -> str:
    """%pK: hashed unless no_hash_pointers."""
    ctx = k.printk_ctx
    if ctx.no_hash_pointers:
        return f"{addr:0{k.machine.ptr_size * 2}x}"
    return ctx.hash_pointer(addr)


def vmallocinfo_rows(k) -> list[dict]:
    """One dict per busy area, in address order (also the --json form)."""
    v = k.vmalloc
    if v is None:
        return []
    rows = []
    for a in v.all_areas():
        rows.append({"start": a.start, "end": a.end, "size": a.size, "caller": v.caller_text(a.caller),
                     "pages": len(a.pages), "phys": a.phys, "types": list(a.types),
                     "module": a.module.name if a.module is not None else None})
    return rows


@proc_file("/proc/vmallocinfo")
def vmallocinfo(k) -> str:
    """'0x<start>-0x<end> <size> <caller> pages=N [phys=..] vmalloc N0=N' per area."""
    out = []
    for r in vmallocinfo_rows(k):
        line = f"0x{_ptr(k, r['start'])}-0x{_ptr(k, r['end'])} {r['size']:7d} {r['caller']}"
        if r["pages"]:
            line += f" pages={r['pages']}"
        if r["phys"] is not None:
            line += f" phys=0x{r['phys']:0{k.machine.ptr_size * 2}x}"
        line += "".join(f" {t}" for t in r["types"])
        if r["pages"]:
            line += f" N0={r['pages']}"
        out.append(line + "\n")
    return "".join(out)


