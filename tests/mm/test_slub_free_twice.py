"""kfree() of a free object that is not the freelist's head (an address next to a live
object, which the module never got): silent as in a kernel without slub_debug, but one
kmsim: line, and kmsim's freelist stays sound (issue 15)."""
from __future__ import annotations

import re

import pytest
from conftest import make_shell

from kmsim.mm.debug_vm import check_kernel

MODULE = """
from kmsim.linux.module import *
from kmsim.linux.printk import *
from kmsim.linux.slab import *
from kmsim.linux.gfp import *

@module_init
def m_init():
    a = kmalloc(64, GFP_KERNEL)
    b = kmalloc(64, GFP_KERNEL)
    pr_info("a=%px b=%px\\n", a, b)
    {free}(b + 64)                 # the free object next to b: never given to the module
    got = [kmalloc(64, GFP_KERNEL) for _ in range(80)]
    pr_info("got %d distinct of %d\\n", len(set(got)), len(got))
    for p in [a, b] + got:
        kfree(p)
    return 0

@module_exit
def m_exit():
    pass
MODULE_LICENSE("GPL")
"""


def test_kfree_of_a_free_neighbour_is_one_kmsim_line(tmp_path):
    p = tmp_path / "neighbour.py"
    p.write_text(MODULE.format(free="kfree"))
    sh = make_shell()
    r = sh.execute(f"insmod {p}")
    assert r.status == 0 and r.err == ""
    d = sh.execute("dmesg").out
    b = int(re.search(r"b=([0-9a-f]+)", d).group(1), 16)
    line = (f"kmsim: kfree({b + 64:#x}): object {b + 64:#x} of 'kmalloc-64' is already free; the "
            f"kernel frees it again without a word, and its freelist becomes a cycle (one address "
            f"handed out twice); kmsim ignores this free. Boot with --append slub_debug=F, or "
            f"kasan, for the kernel's report")
    assert line in d and d.count("kmsim: ") == 1
    assert "got 80 distinct of 80" in d
    assert check_kernel(sh.kernel) == []


def test_cache_free_of_a_free_neighbour(tmp_path):
    p = tmp_path / "cachefree.py"
    p.write_text(MODULE.replace("kmalloc(64, GFP_KERNEL)", "kmem_cache_alloc(cache, GFP_KERNEL)")
                 .replace("kfree(p)", "kmem_cache_free(cache, p)")
                 .replace("{free}(b + 64)", "kmem_cache_free(cache, b + 64)")
                 .replace("def m_init():", "def m_init():\n    global cache\n"
                          "    cache = kmem_cache_create('nb', 64, 0, 0, None)")
                 .replace("def m_exit():\n    pass", "def m_exit():\n    kmem_cache_destroy(cache)"))
    sh = make_shell()
    r = sh.execute(f"insmod {p}; rmmod cachefree")
    assert r.status == 0 and r.err == "", r.err
    d = sh.execute("dmesg").out
    assert d.count("kmsim: kmem_cache_free(") == 1 and "' is already free; " in d   # nb merges
    assert "got 80 distinct of 80" in d
    assert check_kernel(sh.kernel) == []


@pytest.mark.parametrize("append,report", [("slub_debug=F", "Object already free"),
                                           ("kasan", "BUG: KASAN: double-free")])
def test_the_kernels_report_with_debugging_on(tmp_path, append, report):
    p = tmp_path / "neighbour.py"
    p.write_text(MODULE.format(free="kfree"))
    sh = make_shell(append=append)
    sh.execute(f"insmod {p}")
    d = sh.execute("dmesg").out
    assert report in d and "is already free; the kernel frees it again" not in d
    assert check_kernel(sh.kernel) == []
