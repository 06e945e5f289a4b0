"""kmemleak's slab hooks run only while module code runs; the kernel keeps SLUB's fast path."""
from __future__ import annotations

import textwrap

from conftest import make_shell

MOD = textwrap.dedent("""
    from kmsim.linux import *
    seen = []
    ptr = 0
    @module_init
    def ctx_init():
        global ptr
        seen.append(current_fast())
        ptr = kmalloc(64, GFP_KERNEL)
        return 0
    module_exit(lambda: None)
    MODULE_LICENSE("GPL")
""")


def test_fast_path_off_in_module_code_and_on_outside(tmp_path):
    sh = make_shell()
    k = sh.kernel
    slub = k.slab
    cache = next(s for s in slub.caches if s.name == "kmalloc-64")
    assert cache.fast                                 # kernel context: kmemleak does not need it
    f = tmp_path / "ctx.py"
    f.write_text(MOD.replace("current_fast()", "__import__('kmsim.kernel').kernel.current_kernel()"
                             ".slab.caches[0].fast or any(c.fast for c in "
                             "__import__('kmsim.kernel').kernel.current_kernel().slab.caches)"))
    assert sh.execute(f"insmod {f}").status == 0
    ns = k.modules.modules["ctx"].namespace
    assert ns["seen"] == [False]                      # module context: every cache hooked
    assert cache.fast                                 # back to the fast path afterwards


def test_object_freed_by_kernel_code_is_not_a_leak(tmp_path):
    sh = make_shell()
    f = tmp_path / "ctx.py"
    f.write_text(MOD.replace("current_fast()", "0"))
    sh.execute(f"insmod {f}")
    ptr = sh.kernel.modules.modules["ctx"].namespace["ptr"]
    assert sh.execute(f"py kfree({ptr})").status == 0     # the shell's own (kernel) context
    r = sh.execute("rmmod ctx")
    assert "left" not in r.err


def test_leak_still_reported_when_module_keeps_it(tmp_path):
    sh = make_shell()
    f = tmp_path / "ctx.py"
    f.write_text(MOD.replace("current_fast()", "0"))
    sh.execute(f"insmod {f}")
    r = sh.execute("rmmod ctx")
    assert r.err == "rmmod: ctx left 1 object (64 bytes) allocated\n"
