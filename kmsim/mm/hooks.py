"""The allocators' hook points: what a debugging tool (KASAN, kmemleak, fault injection,
``kmsim check``) may attach, and the lists that hold them.

Each allocator declares its hook points as typed attributes, and the tools attach to
them at boot; no tool replaces an allocator's methods.

| allocator | hook point | called |
|---|---|---|
| buddy (``PageAllocator``) | ``alloc_hooks: HookList[PageAllocHook]`` | after an allocation |
| | ``free_hooks: HookList[PageFreeHook]`` | before a free |
| | ``module_alloc_hooks`` / ``module_free_hooks`` | the same, for module code only |
| | ``fail_hook: PageFailHook`` | should_fail_alloc_page |
| SLUB (``Slub``) | ``alloc_hooks: HookList[SlabAllocHook]`` | after an allocation |
| | ``free_hooks: HookList[SlabFreeHook]`` | before a free |
| | ``free_intercept: SlabFreeIntercept`` | slab_free_hook: True keeps the object (KASAN's quarantine) |
| | ``destroy_hooks: list[CacheHook]`` | before kmem_cache_destroy (kasan_cache_shutdown) |
| | ``fail_hook: CacheFailHook`` | should_failslab |
| vmalloc (``Vmalloc``) | ``alloc_hooks`` / ``free_hooks: list[VmallocHook]`` | after vmalloc / before vfree |

A hook marked ``fn.module_only = True`` (kmemleak's) only matters while module code
runs: the fast paths stay on for the kernel's own allocations.  SLUB's ``tracker``
(kmemleak) is what its fast paths call while module code runs, so that they stay fast.

``RESCHED[0]`` counts the scheduling points passed (a blocking allocation, cond_resched,
msleep ...): the soft-lockup watchdog only fires while it stays the same.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex, TypeVar

RESCHED = [0]

__all__ = ["RESCHED", "HookList", "PageAllocHook", "PageFreeHook", "PageFailHook", "SlabAllocHook",
           "SlabFastHook", "SlabFreeHook", "SlabFreeIntercept", "CacheHook", "CacheFailHook", "VmallocHook"]

T = TypeVar("T")

# The cache argument is a KmemCache, or None for kmalloc_large's pages.
PageAllocHook = Callable[[int, int, int], object]          # (pfn, order, gfp)
PageFreeHook = Callable[[int, int], object]                # (pfn, order)
PageFailHook = Callable[[int, int], bool]                  # (gfp, order) -> fail it
SlabAllocHook = Callable[[Any, int, int], object]          # (cache, addr, size)
SlabFreeHook = Callable[[Any, int], object]                # (cache, addr)
SlabFastHook = Callable[[Any, int, int, int], int]         # (cache, addr, size, gfp) -> addr
SlabFreeIntercept = Callable[[Any, int, str], bool]        # (cache, addr, caller) -> handled
CacheHook = Callable[[Any], object]                        # (cache)
CacheFailHook = Callable[[Any, int], bool]                 # (cache, gfp) -> fail it
VmallocHook = Callable[[int, int], object]                 # (addr, size)


class HookList(list[T]):
    """A list that calls ``on_change()`` after every change to its items."""

    def __init__(self, on_change: Callable[[], None]):
        super().__init__()
        self.on_change = on_change

    def append(self, x: T) -> None:
        """list.append, then on_change()."""
        super().append(x)
        self.on_change()

    def extend(self, xs: Iterable[T]) -> None:
        """list.extend, then on_change()."""
        super().extend(xs)
        self.on_change()

    def insert(self, i: SupportsIndex, x: T) -> None:
        """list.insert, then on_change()."""
        super().insert(i, x)
        self.on_change()

    def remove(self, x: T) -> None:
        """list.remove, then on_change()."""
        super().remove(x)
        self.on_change()

    def pop(self, i: SupportsIndex = -1) -> T:
        """list.pop, then on_change()."""
        r = super().pop(i)
        self.on_change()
        return r

    def clear(self) -> None:
        """list.clear, then on_change()."""
        super().clear()
        self.on_change()

    def __setitem__(self, i: Any, x: Any) -> None:
        super().__setitem__(i, x)
        self.on_change()

    def __delitem__(self, i: Any) -> None:
        super().__delitem__(i)
        self.on_change()

    def __iadd__(self, xs: Iterable[T]) -> HookList[T]:  # type: ignore[override,misc]  # list's returns Self
        self.extend(xs)
        return self
