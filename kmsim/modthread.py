"""Threads a module starts (Python's threading, as a kthread_run stand-in): their
allocations are charged to the module that started them, not to whatever module
happens to be loading when they run.

The loader notes the threads alive before it runs module code and, when that code
returns, adopts the new ones: from then on ``kernel.current_owner`` read in such a
thread is its module's owner (a per-thread value), and SLUB leaves its fast paths so
that kmemleak sees what the thread allocates.  Until a module starts a thread the
kernel is untouched: ``current_owner`` stays a plain attribute (the hot paths read it).
"""
from __future__ import annotations

import threading

__all__ = ["thread_idents", "threads_now", "adopt_threads", "prune_threads"]

_THREADED: dict[type, type] = {}


class _ThreadOwner:
    """Kernel.current_owner once a module thread exists: the thread's own owner in an
    adopted thread, the shared attribute everywhere else."""

    def __get__(self, k, cls=None):
        if k is None:
            return self
        own = k.thread_owners.get(threading.get_ident())
        return own if own is not None else k.__dict__["current_owner"]

    def __set__(self, k, value: int) -> None:
        owners = k.thread_owners
        ident = threading.get_ident()
        if ident in owners:
            owners[ident] = value
        else:
            k.__dict__["current_owner"] = value


def thread_idents() -> set[int]:
    """The idents of the threads alive now."""
    return {t.ident for t in threading.enumerate() if t.ident is not None}


def threads_now() -> set[threading.Thread]:
    """The threads alive now (taken before module code runs).  The objects, not their
    idents: a thread that has just ended leaves its ident to the next one started."""
    return set(threading.enumerate())


def adopt_threads(kernel, owner: int, before: set[threading.Thread], files) -> None:
    """Charge the threads started since `before` that run module code (a function of
    one of `files`) to `owner`, the module that ran; kmsim's own (the watchdog's) stay."""
    new = {t.ident for t in threading.enumerate()
           if t.ident is not None and t not in before and _runs_module_code(t, files)}
    if not new:
        return
    cls = kernel.__class__
    if cls not in _THREADED.values():
        if cls not in _THREADED:
            _THREADED[cls] = type(cls.__name__, (cls,), {"current_owner": _ThreadOwner(),
                                                          "__doc__": cls.__doc__})
        kernel.__class__ = _THREADED[cls]
    for ident in new:
        kernel.thread_owners.setdefault(ident, owner)
    _update_slab(kernel)


def _runs_module_code(t: threading.Thread, files) -> bool:
    fn = getattr(t, "_target", None) or type(t).run
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_filename in files


def prune_threads(kernel) -> None:
    """Forget adopted threads that have ended (SLUB may take its fast paths again)."""
    owners = kernel.thread_owners
    if not owners:
        return
    alive = thread_idents()
    for ident in [i for i in owners if i not in alive]:
        del owners[ident]
    if not owners:
        _update_slab(kernel)


def _update_slab(kernel) -> None:
    kernel.slab.update_fast()                 # module code (so its threads) runs after boot
