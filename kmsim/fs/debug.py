"""/sys/kernel/debug: kmemleak, failslab/ and fail_page_alloc/ (debugfs files of lib/fault-inject.c)."""
from __future__ import annotations

from . import FsError, proc_file, proc_write

__all__ = ["FAULT_FILES", "kmemleak_rows", "kmemleak_json"]

# debugfs file -> (FaultAttr attribute, kind): "ul" and "atomic" print as numbers, "bool" as Y/N
FAULT_FILES = {"probability": ("probability", "ul"), "interval": ("interval", "ul"),
               "times": ("times", "atomic"), "space": ("space", "atomic"),
               "verbose": ("verbose", "ul"), "task-filter": ("task_filter", "bool"),
               "ignore-gfp-wait": ("ignore_gfp_wait", "bool")}
EXTRA_FILES = {"fail_page_alloc": {"ignore-gfp-highmem": ("ignore_gfp_highmem", "bool"),
                                   "min-order": ("min_order", "ul")},
               "failslab": {"cache-filter": ("cache_filter", "bool")}}


def _attr(k, dirname: str):
    fi = k.faultinject
    if fi is None:
        raise FsError("No such file or directory", 2)
    return fi.attrs()[dirname]


def _reader(dirname: str, field: str, kind: str):
    def read(k) -> str:
        val = getattr(_attr(k, dirname), field)
        if kind == "bool":
            return "Y\n" if val else "N\n"
        return f"{int(val)}\n"
    return read


def _writer(dirname: str, field: str, kind: str):
    def write(k, text: str) -> None:
        a = _attr(k, dirname)
        t = text.strip()
        if kind == "bool":
            val = _kstrtobool(t)
            if val is None:
                raise FsError("Invalid argument", 22)
            setattr(a, field, val)
            return
        val = _kstrtoint(t, signed=kind != "ul")
        if kind == "atomic":          # atomic_set((int)val)
            val = (val + (1 << 31)) % (1 << 32) - (1 << 31)
        setattr(a, field, val)
        k.faultinject.update_hooks()
    return write


def _kstrtobool(t: str):
    """lib/kstrtox.c kstrtobool: y/Y/1/on is true, n/N/0/off false, else None."""
    if t[:1] in ("Y", "y", "1") or t[:2].lower() == "on":
        return True
    if t[:1] in ("N", "n", "0") or t[:2].lower() == "of":
        return False
    return None


def _kstrtoint(t: str, signed: bool) -> int:
    """kstrtoull / kstrtoll with base 0 (simple_attr_write): 0x hex, 0 octal, else
    decimal; EINVAL for anything else, ERANGE past 64 bits."""
    neg = signed and t.startswith("-")
    body = t[1:] if neg or t.startswith("+") else t
    if body[:2].lower() == "0x" and len(body) > 2:
        digits, base = body[2:], 16
    elif body.startswith("0") and len(body) > 1:
        digits, base = body[1:], 8
    else:
        digits, base = body, 10
    ok = "0123456789abcdef"[:base]
    if not digits or any(c not in ok for c in digits.lower()):
        raise FsError("Invalid argument", 22)
    val = int(digits, base)
    if val >> 64 or (signed and (val > (1 << 63) if neg else val >> 63)):
        raise FsError("Numerical result out of range", 34)
    return -val if neg else val


for _dir, _extra in EXTRA_FILES.items():
    for _name, (_field, _kind) in {**FAULT_FILES, **_extra}.items():
        _path = f"/sys/kernel/debug/{_dir}/{_name}"
        proc_file(_path)(_reader(_dir, _field, _kind))
        proc_write(_path)(_writer(_dir, _field, _kind))


@proc_file("/sys/kernel/debug/kmemleak")
def kmemleak_read(k) -> str:
    """The suspected leaks, as kmemleak_seq_show prints them."""
    kl = k.kmemleak
    if kl is None:
        raise FsError("No such file or directory", 2)
    lines = kl.report_lines()
    return "".join(line + "\n" for line in lines)


def kmemleak_rows(k) -> list[dict]:
    """One dict per suspected leak, oldest first (the objects the kmemleak file reports)."""
    kl = k.kmemleak
    if kl is None:
        raise FsError("No such file or directory", 2)
    return [{"addr": o.addr, "size": o.size, "kind": o.kind, "module": o.modname, "comm": o.comm,
             "pid": o.pid, "backtrace": o.trace} for o in kl.suspects()]


def kmemleak_json(rows: list[dict]) -> list[dict]:
    """The --json document: the rows with the address as a "0x..." string."""
    return [{**r, "addr": f"{r['addr']:#x}"} for r in rows]


@proc_write("/sys/kernel/debug/kmemleak")
def kmemleak_write(k, text: str) -> None:
    """kmemleak_write(): scan, clear, scan=SECS, scan=on|off, stack=on|off, off."""
    kl = k.kmemleak
    if kl is None:
        raise FsError("No such file or directory", 2)
    cmd = text.strip()
    if cmd == "scan":
        kl.scan()
    elif cmd == "clear":
        kl.clear()
    elif cmd == "off":
        kl.enabled = False
    elif cmd in ("scan=on", "scan=off", "stack=on", "stack=off") or _is_scan_secs(cmd):
        pass
    elif cmd.startswith("dump="):
        try:
            addr = _kstrtoint(cmd[5:], signed=False)
        except FsError:
            raise FsError("Invalid argument", 22) from None
        if not kl.dump_object_info(addr):
            raise FsError("Invalid argument", 22)
    else:
        raise FsError("Invalid argument", 22)


def _is_scan_secs(cmd: str) -> bool:
    return cmd.startswith("scan=") and cmd[5:].isdigit()
