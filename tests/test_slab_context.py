"""kmemleak records only while module code runs, from SLUB's fast path (issue 12: the fast path
stays the fast path in module code); the kernel's own allocations are not recorded."""
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


def test_fast_path_records_in_module_code_and_not_outside(tmp_path):
    sh = make_shell()
    k = sh.kernel
    slub = k.slab
    cache = next(s for s in slub.caches if s.name == "kmalloc-64")
    assert cache.fast and cache.leak is None          # kernel context: kmemleak does not record
    f = tmp_path / "ctx.py"
    f.write_text(MOD.replace("current_fast()", "[(c.fast, c.leak is not None) for c in "
                             "__import__('kmsim.kernel').kernel.current_kernel().slab.caches"
                             " if c.name == 'kmalloc-64'][0]"))
    assert sh.execute(f"insmod {f}").status == 0
    ns = k.modules.modules["ctx"].namespace
    assert ns["seen"] == [(True, True)]               # module context: fast, and kmemleak records
    assert cache.fast and cache.leak is None          # kernel context again
    kl = k.kmemleak
    assert ns["ptr"] in kl.objects


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
