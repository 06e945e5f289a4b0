"""Which paths are the simulated machine's: /proc and /sys (with /sys/kernel/debug),
however the path is spelt.  Every command asks here before it touches a host file
(the shell's cat, > and >>, memmap --svg; insmod, modprobe, modinfo): README,
"Files, modules and the host".
"""
from __future__ import annotations

import os

__all__ = ["VIRTUAL_TREES", "virtual_path"]

VIRTUAL_TREES = ("/proc", "/sys")


def _in_tree(path: str) -> bool:
    return any(path == t or path.startswith(t + "/") for t in VIRTUAL_TREES)


def virtual_path(path: str) -> str | None:
    """The path in the virtual trees that `path` names, or None for a host path."""
    if path.startswith(VIRTUAL_TREES):       # as typed (/procfoo too: never the host's)
        return path
    try:
        absolute = "/" + os.path.normpath(os.path.join(os.getcwd(), path)).lstrip("/")
        if _in_tree(absolute):
            return absolute
        return _through_links(absolute)          # a host symbolic link into /proc or /sys
    except (OSError, ValueError):
        return None


def _through_links(absolute: str) -> str | None:
    """Follow `absolute` one component at a time, as the kernel's path walk does: the
    virtual path where it first enters /proc or /sys (even on its way elsewhere, as
    /proc/self/cwd/... does), else None."""
    parts = absolute.split("/")
    parts.reverse()
    cur, hops = "/", 0
    while parts:
        name = parts.pop()
        if name in ("", "."):
            continue
        if name == "..":
            cur = os.path.dirname(cur)
            continue
        nxt = os.path.join(cur, name)
        if _in_tree(nxt):
            rest = [p for p in reversed(parts) if p]
            return "/".join([nxt, *rest])
        if os.path.islink(nxt):
            hops += 1
            if hops > 40:                        # ELOOP
                return None
            target = os.readlink(nxt)
            parts.extend(reversed(target.split("/")))
            if target.startswith("/"):
                cur = "/"
            continue
        cur = nxt
    return None
