"""Fault injection: failslab and fail_page_alloc (lib/fault-inject.c, mm/failslab.c,
mm/fail_page_alloc.c).

Each ``FaultAttr`` holds the debugfs knobs of one mechanism (probability,
interval, times, space, verbose, ignore-gfp-wait ...) and decides with
``should_fail(size)`` exactly as the kernel's ``should_fail()`` does.  The
decisions are hooked into the slab allocator (``slab.fail_hook``) and the page
allocator (``buddy.fail_hook``).  ``FaultInject.extra`` holds predicates of
other tools (``kmsim check``) consulted before the attributes:
``fn(kind, gfp, size) -> bool`` where kind is "slab" or "page".
"""
from __future__ import annotations

from .gfp import __GFP_DIRECT_RECLAIM as _GFP_DIRECT_RECLAIM
from .gfp import __GFP_HIGHMEM as _GFP_HIGHMEM
from .gfp import __GFP_NOFAIL as _GFP_NOFAIL

__all__ = ["FaultAttr", "FaultInject", "fault_inject_init", "setup_fault_attr"]

_SLAB_FAILSLAB = 0x2000000          # include/linux/slab.h (SLUB is booted after this module)


class FaultAttr:
    """struct fault_attr: the knobs and counters of one fault-injection point."""

    def __init__(self, name: str, rng):
        self.name = name
        self.rng = rng
        self.probability = 0
        self.interval = 1
        self.times = 1
        self.space = 0
        self.verbose = 2
        self.task_filter = False
        self.ignore_gfp_wait = True
        self.ignore_gfp_highmem = True      # fail_page_alloc only
        self.min_order = 1                  # fail_page_alloc only
        self.cache_filter = False           # failslab only: caches with SLAB_FAILSLAB
        self.count = 0                      # calls that reached the interval test
        self.injected = 0

    def should_fail(self, size: int, fail_dump=None) -> bool:
        """lib/fault-inject.c should_fail(): True when this call must fail.

        :param fail_dump: called before `times` is decremented (the message shows it)
        """
        if self.probability == 0:
            return False
        if self.task_filter:        # no task has /proc/PID/make-it-fail set
            return False
        if self.times == 0:
            return False
        if self.space > size:
            self.space -= size
            return False
        self.count += 1
        if self.interval > 1 and self.count % self.interval:
            return False
        if self.probability <= self.rng.randrange(100):
            return False
        self.injected += 1
        if fail_dump is not None:
            fail_dump(self)
        if self.times != -1:
            self.times -= 1
        return True

    def message(self) -> str:
        """fail_dump's two lines."""
        return (f"FAULT_INJECTION: forcing a failure.\nname {self.name}, interval {self.interval}, "
                f"probability {self.probability}, space {self.space}, times {self.times}")


def setup_fault_attr(attr: FaultAttr, text: str) -> bool:
    """setup_fault_attr(): '<interval>,<probability>,<space>,<times>' from the command line."""
    try:
        interval, prob, space, times = (int(x, 0) for x in text.split(","))
    except ValueError:
        return False
    attr.interval, attr.probability, attr.space, attr.times = max(1, interval), prob, space, times
    return True


class FaultInject:
    """The kernel's two fault-injection points and the hooks that consult them."""

    def __init__(self, kernel):
        self.k = kernel
        self.failslab = FaultAttr("failslab", kernel.rng)
        self.fail_page_alloc = FaultAttr("fail_page_alloc", kernel.rng)
        self.extra: list = []

    def attrs(self) -> dict[str, FaultAttr]:
        """{debugfs directory name: attribute}."""
        return {"failslab": self.failslab, "fail_page_alloc": self.fail_page_alloc}

    def should_failslab(self, cache, gfp: int) -> bool:
        """mm/failslab.c __should_failslab."""
        size = int(getattr(cache, "object_size", getattr(cache, "size", 0)) or 0)
        for fn in self.extra:
            if fn("slab", gfp, size):
                return True
        a = self.failslab
        if a.probability == 0 or gfp & _GFP_NOFAIL:
            return False
        if a.ignore_gfp_wait and gfp & _GFP_DIRECT_RECLAIM:
            return False
        if a.cache_filter and not getattr(cache, "flags", 0) & _SLAB_FAILSLAB:
            return False
        return self._fail(a, size)

    def should_fail_alloc_page(self, gfp: int, order: int) -> bool:
        """mm/fail_page_alloc.c should_fail_alloc_page."""
        for fn in self.extra:
            if fn("page", gfp, 4096 << order):
                return True
        a = self.fail_page_alloc
        if a.probability == 0 or gfp & _GFP_NOFAIL or order < a.min_order:
            return False
        if a.ignore_gfp_highmem and gfp & _GFP_HIGHMEM:
            return False
        if a.ignore_gfp_wait and gfp & _GFP_DIRECT_RECLAIM:
            return False
        return self._fail(a, 4096 << order)

    def _fail(self, a: FaultAttr, size: int) -> bool:
        return a.should_fail(size, self.fail_dump)

    def fail_dump(self, a: FaultAttr) -> None:
        """lib/fault-inject.c fail_dump: the notice, and the stack when verbose > 1."""
        if a.verbose:
            for line in a.message().split("\n"):
                self.k.printk.emit(5, line)
            if a.verbose > 1:
                frames = ["should_fail_ex+0x1c6/0x200", "should_failslab+0x9/0x20"
                          if a is self.failslab else "should_fail_alloc_page+0x1c/0x30"]
                self.k.reporter.dump_stack(frames, level=5)

    def update_hooks(self) -> None:
        """Hook the points into SLUB and the page allocator only while they can fire
        (an unset hook keeps the allocators' fast paths)."""
        on = bool(self.extra) or self.failslab.probability > 0
        self.k.slab.fail_hook = self.should_failslab if on else None
        on = bool(self.extra) or self.fail_page_alloc.probability > 0
        self.k.buddy.fail_hook = self.should_fail_alloc_page if on else None


def fault_inject_init(kernel) -> FaultInject:
    """Boot step: create both points, read failslab= and fail_page_alloc=, hook them in."""
    fi = FaultInject(kernel)
    for name, attr in fi.attrs().items():
        val = kernel.params.get(name)
        if isinstance(val, str) and not setup_fault_attr(attr, val):
            kernel.printk.emit(4, f"FAULT_INJECTION: failed to parse arguments: {val}")
    fi.update_hooks()
    return fi
