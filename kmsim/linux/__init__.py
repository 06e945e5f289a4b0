"""The module-facing API: one Python module per kernel header.

``from kmsim.linux import *`` brings every header's names at once.  These files
hold no logic: each function forwards to the subsystem of the current kernel.
"""
import importlib as _importlib

_HEADERS = ["module", "printk", "gfp", "mm", "mmzone", "err", "errno", "types", "string", "slab",
            "mempool", "vmalloc", "list", "kfifo", "sched"]
__all__ = []
for _h in _HEADERS:
    _m = _importlib.import_module(f"{__name__}.{_h}")
    for _n in getattr(_m, "__all__", []):
        globals()[_n] = getattr(_m, _n)
        if _n not in __all__:
            __all__.append(_n)
