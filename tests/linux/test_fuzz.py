"""Every module-facing function (kmsim.linux) called from module code with garbage arguments.

Wrong API arguments get the kernel's behaviour where it has one (NULL is a no-op for
kfree, vfree ...), and otherwise a BUG-style report whose kmsim: hint names the API
function; never a traceback.  Functions that write raw memory (string.h, list.h) may
corrupt the machine as they would in C; the allocator functions must not.
"""
from __future__ import annotations

import inspect

import pytest
from test_kernel import boot_with_dummy_module

import kmsim.linux as L
from kmsim.mm.debug_vm import check_kernel

GARBAGE = [None, "x", 1.5, -1, 1 << 70, object(), 0, 0xffff888000001000]
# Raw memory writers: garbage addresses corrupt memory, as in C; only "no traceback" holds.
RAW_MEMORY = {"kmsim.lib.string", "kmsim.lib.list", "kmsim.linux.types", "kmsim.lib.kfifo",
              "kmsim.mm.typed"}
WRAPPER = "def call_api(fn, args):\n    return fn(*args)\n"


def _functions():
    out = []
    for name in L.__all__:
        fn = getattr(L, name)
        if callable(fn) and not isinstance(fn, type) and name not in ("module_init", "module_exit"):
            out.append(name)
    return out


def _arity(fn) -> int:
    try:
        ps = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    return len([p for p in ps if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])


def bad_inputs_per_run() -> int:
    """Calls made per run (for the README)."""
    return len(_functions()) * len(GARBAGE)


@pytest.mark.parametrize("name", _functions())
def test_api_function_with_garbage(name):
    """Each garbage argument: a return value or a report naming the function, no traceback."""
    # watchdog_thresh=1: a garbage delay (udelay(1 << 70)) is a soft lockup after 0.4 s of
    # host CPU instead of 2.2 s; the report is the same but for the seconds it says
    k, mod = boot_with_dummy_module("64M", "watchdog_thresh=1")
    path = mod.path
    k.modules._files[path] = mod.name
    ns = {"__name__": mod.name}
    exec(compile(WRAPPER, path, "exec"), ns)
    fn = getattr(L, name)
    n = _arity(fn)
    for g in GARBAGE:
        seq = k.printk.next_seq
        k.modules.call(mod, ns["call_api"], (fn, (g,) * n), comm="insmod")
        texts = [r.text for r in k.printk.since(seq)]
        assert not any("Traceback" in t for t in texts), texts
        raised = [t for t in texts if t.startswith("kmsim: the module raised")]
        assert not raised, f"{name}{(g,) * n!r}: the report does not name the API: {raised}"
    if getattr(fn, "__module__", "") not in RAW_MEMORY:
        assert check_kernel(k) == []
