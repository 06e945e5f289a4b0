"""/sys/kernel/debug: kmemleak, failslab/ and fail_page_alloc/ (debugfs files of lib/fault-inject.c)."""
from __future__ import annotations

from . import FsError, proc_file, proc_write

__all__ = ["FAULT_FILES"]

# debugfs file -> (FaultAttr attribute, kind): "ul" and "atomic" print as numbers, "bool" as Y/N
FAULT_FILES = {"probability": ("probability", "ul"), "interval": ("interval", "ul"),
               "times": ("times", "atomic"), "space": ("space", "atomic"),
               "verbose": ("verbose", "ul"), "task-filter": ("task_filter", "bool"),
               "ignore-gfp-wait": ("ignore_gfp_wait", "bool")}
EXTRA_FILES = {"fail_page_alloc": {"ignore-gfp-highmem": ("ignore_gfp_highmem", "bool"),
                                   "min-order": ("min_order", "ul")},
               "failslab": {}}


def _attr(k, dirname: str):
    fi = k.subsystems.get("faultinject")
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
            if t[:1] in ("Y", "y", "1"):
                setattr(a, field, True)
                return
            elif t[:1] in ("N", "n", "0"):
                setattr(a, field, False)
            else:
                raise FsError("Invalid argument", 22)
            return
        try:
            val = int(t, 0)
        except ValueError:
            raise FsError("Invalid argument", 22)
        if kind == "ul" and val < 0:
            raise FsError("Invalid argument", 22)
        if field == "interval" and val == 0:
            val = 1
        setattr(a, field, val)
        k.subsystems["faultinject"].update_hooks()
    return write


for _dir, _extra in EXTRA_FILES.items():
    for _name, (_field, _kind) in {**FAULT_FILES, **_extra}.items():
        _path = f"/sys/kernel/debug/{_dir}/{_name}"
        proc_file(_path)(_reader(_dir, _field, _kind))
        proc_write(_path)(_writer(_dir, _field, _kind))


@proc_file("/sys/kernel/debug/kmemleak")
def kmemleak_read(k) -> str:
    """The suspected leaks, as kmemleak_seq_show prints them."""
    kl = k.subsystems.get("kmemleak")
    if kl is None:
        raise FsError("No such file or directory", 2)
    lines = kl.report_lines()
    return "".join(line + "\n" for line in lines)


@proc_write("/sys/kernel/debug/kmemleak")
def kmemleak_write(k, text: str) -> None:
    """kmemleak_write(): scan, clear, scan=SECS, scan=on|off, stack=on|off, off."""
    kl = k.subsystems.get("kmemleak")
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
    else:
        raise FsError("Invalid argument", 22)


def _is_scan_secs(cmd: str) -> bool:
    return cmd.startswith("scan=") and cmd[5:].isdigit()
