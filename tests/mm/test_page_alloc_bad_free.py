"""free_pages()/__free_pages() of a page another allocator owns (a slab's, a vmalloc
area's): Bad page state for the slab page as 6.1 prints it, one kmsim: line for the
vmalloc page (the kernel is silent there), and the owner keeps its page (issue 15)."""
from __future__ import annotations

import re

from conftest import make_shell

from kmsim.mm.debug_vm import check_kernel

HEAD = """
from kmsim.linux.module import *
from kmsim.linux.printk import *
from kmsim.linux.slab import *
from kmsim.linux.gfp import *
from kmsim.linux.mm import *
from kmsim.linux.vmalloc import *
from kmsim.linux.string import *
"""

SLAB = HEAD + """
@module_init
def m_init():
    global a
    a = kmalloc(64, GFP_KERNEL)
    pr_info("a=%px\\n", a)
    free_pages(a & ~0xfff, 0)
    strcpy(a, "survives")
    return 0

@module_exit
def m_exit():
    pr_info("a holds %s, %d bytes\\n", a, strlen(a))
    kfree(a)
MODULE_LICENSE("GPL")
"""

VMALLOC = HEAD + """
@module_init
def m_init():
    global v
    v = vmalloc(8192)
    free_pages(page_address(vmalloc_to_page(v)), 0)
    __free_pages(vmalloc_to_page(v + 4096), 0)
    return 0

@module_exit
def m_exit():
    vfree(v)
MODULE_LICENSE("GPL")
"""


def _load(tmp_path, name, body):
    p = tmp_path / f"{name}.py"
    p.write_text(body)
    sh = make_shell()
    sh.execute("buddyinfo")
    return sh, sh.execute(f"insmod {p}")


def test_free_pages_of_a_slab_page_is_bad_page_state(tmp_path):
    sh, r = _load(tmp_path, "slabfree", SLAB)
    assert r.status == 0 and r.err == ""
    d = sh.execute("dmesg").out
    a = int(re.search(r"a=([0-9a-f]+)", d).group(1), 16)
    pfn = (a - 0xffff888000000000) >> 12
    text = "\n".join(line[15:] for line in d.splitlines())
    m = re.search(rf"BUG: Bad page state in process insmod  pfn:{pfn:05x}\n"
                  rf"page:[0-9a-f]{{16}} refcount:0 mapcount:0 mapping:0000000000000000 "
                  rf"index:0x0 pfn:{pfn:#x}\n"
                  rf"flags: 0x[0-9a-f]+\(slab\|zone=1\)\n"
                  rf"page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag\(s\) set\n", text)
    assert m, text[-3000:]
    assert f"kmsim: pfn {pfn:#x} belongs to a slab of kmalloc-64: free it with kfree()" in d
    assert sh.execute("cat /proc/sys/kernel/tainted").out == str(12288 | 32) + "\n"
    assert check_kernel(sh.kernel) == []
    assert sh.execute("rmmod slabfree").status == 0
    assert "a holds survives, 8 bytes" in sh.execute("dmesg | tail -n 1").out
    assert check_kernel(sh.kernel) == []


def test_free_pages_of_a_vmalloc_page_is_refused(tmp_path):
    sh, r = _load(tmp_path, "vmfree", VMALLOC)
    assert r.status == 0 and r.err == ""
    d = sh.execute("dmesg").out
    assert d.count("backs a vmalloc area: the kernel would free it silently and vfree() would "
                   "free it again (a use-after-free); not freed, vfree() the area instead") == 2
    assert "Bad page state" not in d
    assert check_kernel(sh.kernel) == []
    free_before = sh.kernel.buddy.nr_free_pages()      # the pcp lists too (MemFree leaves them out)
    assert sh.execute("rmmod vmfree").status == 0
    assert check_kernel(sh.kernel) == []
    assert sh.kernel.buddy.nr_free_pages() > free_before
