"""The loader's hints for a beginner's mistakes, each one ``kmsim:`` line naming the
module's file and line.

- The IS_ERR mistake: a NULL from an allocator, tested only with ``IS_ERR``, reached a
  fault -- directly (``p[0]``), through a view (``b = T.at(p); b.a = 1``), or through
  a call (``fill(p)`` faulting inside ``fill``).  Every module frame of the fault is
  searched, innermost first; a variable counts when it is named on the faulting line
  or when it still holds the NULL.
- An init that falls off its end: Python returns None where C would return garbage.
"""
from __future__ import annotations

import os
import re
from types import FrameType, TracebackType

__all__ = ["ALLOCATORS", "is_err_hint", "null_hint", "fell_off_hint", "last_line"]

ALLOCATORS = frozenset((
    "alloc_pages", "alloc_page", "__get_free_pages", "__get_free_page", "get_zeroed_page",
    "kmalloc", "kzalloc", "kcalloc", "kmalloc_array", "krealloc", "kmem_cache_alloc",
    "kmem_cache_zalloc", "kmem_cache_create", "KMEM_CACHE", "kstrdup", "kmemdup", "vmalloc",
    "vzalloc", "vmalloc_32", "vmalloc_user", "kvmalloc", "kvzalloc", "kvcalloc", "kvmalloc_array",
    "mempool_create", "mempool_create_node", "mempool_create_slab_pool",
    "mempool_create_kmalloc_pool", "mempool_create_page_pool", "mempool_alloc", "kmap",
    "kmap_local_page", "page_address"))

_ASSIGN = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*([A-Za-z_]\w*)\s*\(")
_IS_ERR = re.compile(r"\bIS_ERR\(\s*([A-Za-z_]\w*)\s*\)")


def _null_tests(name: str) -> re.Pattern:
    return re.compile(rf"\bnot\s+{name}\b|!\s*{name}\b|\b{name}\s+is\s+None|\b{name}\s*==\s*(0|None|NULL)"
                      rf"|IS_ERR_OR_NULL\(\s*{name}\s*\)|\bif\s+{name}\s*:")


def _is_err_only(lines: list[str], first: int, lineno: int) -> dict[str, tuple[int, str, int]]:
    """{name: (line assigned, allocator, line of the IS_ERR test)} for the names of the
    lines first..lineno-1 assigned from an allocator and tested only with IS_ERR."""
    assigned: dict[str, tuple[int, str]] = {}
    tested: dict[str, int] = {}
    for i in range(max(1, first), lineno):
        text = lines[i - 1].split("#", 1)[0]
        m = _ASSIGN.match(text)
        if m and m.group(2) in ALLOCATORS:
            assigned[m.group(1)] = (i, m.group(2))
            tested.pop(m.group(1), None)
        for name in _IS_ERR.findall(text):
            tested.setdefault(name, i)
        for name in list(tested):
            if _null_tests(name).search(text):
                tested[name] = -1
    return {n: (a, alloc, tested[n]) for n, (a, alloc) in assigned.items() if tested.get(n, -1) > 0}


def _is_null(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value == 0)


def is_err_hint(source: str, first_line: int, lineno: int, filename: str = "",
                values: dict | None = None) -> str | None:
    """The IS_ERR mistake behind a NULL dereference at `lineno` of a function that starts
    at `first_line`, or None.  `values` maps the function's names to their values at the
    fault (a name still NULL counts even when the faulting line does not name it)."""
    lines = source.splitlines()
    if not 0 < lineno <= len(lines):
        return None
    suspects = _is_err_only(lines, first_line, lineno)
    used = set(re.findall(r"[A-Za-z_]\w*", lines[lineno - 1].split("#", 1)[0]))
    order = [n for n in suspects if n in used]
    order += [n for n in suspects if n not in used and values is not None and n in values
              and _is_null(values[n])]
    if not order:
        return None
    name = order[0]
    aline, alloc, tline = suspects[name]
    where = f"{filename}:" if filename else "line "
    return (f"{where}{tline} tests {name} with IS_ERR only, but {alloc}() returns NULL on "
            f"failure, not an error pointer: IS_ERR(NULL) is false, so {where}{lineno} used the "
            f"NULL from line {aline}; test it with "
            + (f"'if (!{name})'" if "#include" in source else f"'if not {name}:'"))


def _module_entries(tb: TracebackType | None, files: dict[str, str]) -> list[tuple[FrameType, int]]:
    """The module frames of a traceback with their lines, innermost first."""
    out = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in files:
            out.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return out[::-1]


def null_hint(tb: TracebackType | None, files: dict[str, str], sources: dict[str, str]) -> str | None:
    """The IS_ERR hint for a NULL dereference, searched in every module frame of tb.

    :param files: maps a module's file path to its name
    :param sources: maps a module's name to its source text
    """
    for frame, lineno in _module_entries(tb, files):
        code = frame.f_code
        source = sources.get(files[code.co_filename], "")
        values = dict(frame.f_globals)
        values.update(frame.f_locals)
        first = 1 if code.co_name == "<module>" else code.co_firstlineno
        hint = is_err_hint(source, first, lineno, os.path.basename(code.co_filename), values)
        if hint:
            return hint
    return None


def last_line(fn) -> int:
    """The last source line of a function (where it falls off its end)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return 0
    lines = [ln for _s, _e, ln in code.co_lines() if ln is not None]
    return max(lines, default=code.co_firstlineno)


def fell_off_hint(mod_name: str, fn) -> str:
    """insmod's warning for an init that returned None."""
    code = getattr(fn, "__code__", None)
    where = f"{os.path.basename(code.co_filename)}:{last_line(fn)}: " if code is not None else ""
    name = getattr(fn, "__name__", "init")
    return (f"kmsim: {where}{name}() returned None: an init returns 0 or a negative errno; "
            f"this one fell off its end (add 'return 0'); {mod_name} is loaded as if it returned 0")
