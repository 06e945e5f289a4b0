"""Hints about a module's own source that the loader adds to a report (and kmsim check uses).

``is_err_hint`` finds the IS_ERR mistake behind a NULL dereference: an allocation tested
only with IS_ERR, which is false for the NULL the kernel's allocators return.
"""
from __future__ import annotations

import re

__all__ = ["is_err_hint"]

_ALLOCATORS = ("alloc_pages", "alloc_page", "__get_free_pages", "__get_free_page",
               "get_zeroed_page", "kmalloc", "kzalloc", "kcalloc", "kmalloc_array", "krealloc",
               "kmem_cache_alloc", "kmem_cache_zalloc", "kmem_cache_create", "KMEM_CACHE",
               "kstrdup", "kmemdup", "vmalloc", "vzalloc", "kvmalloc", "kvzalloc",
               "mempool_create", "mempool_create_slab_pool", "mempool_create_kmalloc_pool",
               "mempool_create_page_pool", "mempool_alloc", "kmap", "page_address")


def is_err_hint(source: str, first_line: int, lineno: int) -> str | None:
    """The IS_ERR mistake behind a NULL dereference at `lineno`, if the function made it.

    Looks in the function's lines before the fault for ``NAME = allocator(...)``
    tested only with ``IS_ERR(NAME)`` (never with ``not NAME``, ``NAME is None``,
    ``IS_ERR_OR_NULL``), where NAME is used on the faulting line.
    """
    lines = source.splitlines()
    if not 0 < lineno <= len(lines):
        return None
    used = set(re.findall(r"[A-Za-z_]\w*", lines[lineno - 1]))
    assigned: dict[str, tuple[int, str]] = {}
    tested: dict[str, int] = {}
    for i in range(max(1, first_line), lineno):
        text = lines[i - 1].split("#", 1)[0]
        m = re.match(r"\s*([A-Za-z_]\w*)\s*=\s*([A-Za-z_]\w*)\s*\(", text)
        if m and m.group(2) in _ALLOCATORS:
            assigned[m.group(1)] = (i, m.group(2))
            tested.pop(m.group(1), None)
        for name in re.findall(r"\bIS_ERR\(\s*([A-Za-z_]\w*)\s*\)", text):
            tested.setdefault(name, i)
        for name in list(tested):
            if re.search(rf"\bnot\s+{name}\b|\b{name}\s+is\s+None|\b{name}\s*==\s*(0|None|NULL)"
                         rf"|IS_ERR_OR_NULL\(\s*{name}\s*\)", text):
                tested[name] = -1
    for name, (aline, alloc) in assigned.items():
        tline = tested.get(name, -1)
        if name in used and tline > 0:
            return (f"line {tline} tests {name} with IS_ERR only, but {alloc}() returns NULL on "
                    f"failure, not an error pointer: IS_ERR(NULL) is false, so line {lineno} used "
                    f"the NULL from line {aline}; test it with 'if not {name}:'")
    return None
