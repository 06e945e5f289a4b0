"""Audit of mempool, vmalloc and kmap against Linux 6.1 (mm/mempool.c, mm/vmalloc.c,
mm/highmem.c): the text a user sees."""
from __future__ import annotations

import re

from kmsim.kernel import Kernel
from kmsim.machine import PAGE_SIZE
from kmsim.mm import gfp as G
from kmsim.mm import mempool as M
from kmsim.mm.page import Page, page_address
from tests.conftest import make_shell


def _log(k):
    return "\n".join(r.text for r in k.printk.visible())


def _module(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text("from kmsim.linux import *\n" + body + "\nMODULE_LICENSE(\"GPL\")\n")
    return path


# -- mempool -----------------------------------------------------------------------

def test_mempool_free_with_null_pool_faults_at_curr_nr(tmp_path):
    """mempool_free() reads pool->curr_nr (offset 8) first, not pool_data."""
    path = _module(tmp_path, "mpnull", """
@module_init
def mpnull_init():
    p = kmalloc(8, GFP_KERNEL)
    mempool_free(p, None)
    return 0
""")
    sh = make_shell()
    out = sh.execute(f"insmod {path}; dmesg").out
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000008" in out


def test_mempool_alloc_with_null_pool_faults_at_pool_data(tmp_path):
    path = _module(tmp_path, "mpnull2", """
@module_init
def mpnull2_init():
    mempool_alloc(None, GFP_KERNEL)
    return 0
""")
    out = make_shell().execute(f"insmod {path}; dmesg").out
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000018" in out


def test_mempool_alloc_sleeps_and_retries_without_hung_task_report(kernel):
    """6.1 waits io_schedule_timeout(5*HZ) and retries: the task wakes every 5 s, so
    khungtaskd never reports it; an allocator that recovers ends the wait."""
    from kmsim.linux.mempool import mempool_create_page_pool
    pool = mempool_create_page_pool(1, 0)
    kernel.buddy.fail_hook = lambda gfp, order: True
    first = M.mempool_alloc(kernel, pool, G.GFP_KERNEL)      # empties the reserve
    failures = []

    def fail_four(gfp, order):
        failures.append(gfp)
        return len(failures) <= 4     # first try, full mask, then two 5 s waits fail
    kernel.buddy.fail_hook = fail_four
    kernel.printk.clear()
    t0 = kernel.uptime_ns()
    got = M.mempool_alloc(kernel, pool, G.GFP_KERNEL)
    kernel.buddy.fail_hook = None
    assert got and got != first and len(failures) == 5
    assert kernel.uptime_ns() - t0 >= 3 * 5_000_000_000
    assert _log(kernel) == ""                                # no report at all
    for e in (first, got):
        M.mempool_free(kernel, e, pool)
    M.mempool_destroy(kernel, pool)


def test_mempool_alloc_endless_wait_gives_a_hint_not_a_hung_task(kernel):
    from kmsim.linux.mempool import mempool_create_page_pool
    pool = mempool_create_page_pool(1, 0)
    kernel.buddy.fail_hook = lambda gfp, order: True
    first = M.mempool_alloc(kernel, pool, G.GFP_KERNEL)      # the reserve's element
    kernel.printk.clear()
    assert M.mempool_alloc(kernel, pool, G.GFP_KERNEL) == 0
    kernel.buddy.fail_hook = None
    text = _log(kernel)
    assert "INFO: task" not in text and "hung_task_timeout_secs" not in text
    assert text.startswith("kmsim: mempool_alloc() with a mask that may sleep never returns NULL")
    assert "after 120 simulated seconds" in text
    assert M.mempool_alloc(kernel, pool, G.GFP_ATOMIC)     # the allocator works again
    M.mempool_free(kernel, first, pool)
    M.mempool_destroy(kernel, pool)


# -- vmalloc -----------------------------------------------------------------------

def test_large_vmalloc_has_its_page_array_in_vmalloc_space(tmp_path):
    """More than 512 pages: area->pages is vmalloc()ed by the same caller ('vpages')."""
    path = _module(tmp_path, "vbig", """
big = 0
@module_init
def vbig_init():
    global big
    big = vmalloc(4 << 20)
    return 0 if big else -ENOMEM
@module_exit
def vbig_exit():
    vfree(big)
""")
    sh = make_shell()
    used = lambda t: int(re.search(r"VmallocUsed: +(\d+) kB", t).group(1))  # noqa: E731
    before = used(sh.execute("cat /proc/meminfo").out)
    assert sh.execute(f"insmod {path}").status == 0
    info = sh.execute("cat /proc/vmallocinfo").out.splitlines()
    big = [i for i, line in enumerate(info) if " 4198400 " in line]
    assert len(big) == 1
    assert re.fullmatch(r"0x[0-9a-f]{16}-0x[0-9a-f]{16} 4198400 0x[0-9a-f]+ pages=1024 "
                        r"vmalloc vpages N0=1024", info[big[0]])
    assert re.fullmatch(r"0x[0-9a-f]{16}-0x[0-9a-f]{16}   12288 0x[0-9a-f]+ pages=2 vmalloc N0=2",
                        info[big[0] + 1])
    assert used(sh.execute("cat /proc/meminfo").out) - before == 4096 + 8 + 16
    sh.execute("rmmod vbig")
    after = sh.execute("cat /proc/vmallocinfo").out
    assert " 4198400 " not in after and "pages=2 vmalloc N0=2\n" not in after.split("n_tty_open")[-1]
    assert used(sh.execute("cat /proc/meminfo").out) == before
    assert sh.kernel.vmalloc.debug_check() == []


def test_vmalloc_page_failure_reports_pages_obtained_and_highmem_mask(kernel):
    """warn_alloc(gfp_mask | __GFP_HIGHMEM, 'size %lu', area->nr_pages * PAGE_SIZE)."""
    v = kernel.vmalloc
    calls = []

    def fail_after_two(gfp, order):
        calls.append(gfp)
        return len(calls) > 2
    kernel.buddy.fail_hook = fail_after_two
    kernel.printk.clear()
    assert v.vmalloc(5 * PAGE_SIZE) == 0
    kernel.buddy.fail_hook = None
    text = _log(kernel)
    assert ("kmsim: vmalloc error: size 8192, failed to allocate pages, "
            "mode:0xcc2(GFP_KERNEL|__GFP_HIGHMEM), nodemask=(null),cpuset=/,mems_allowed=0") in text
    assert "page allocation failure" not in text            # the pages are asked with __GFP_NOWARN
    assert all(g & G.__GFP_NOWARN and g & G.__GFP_HIGHMEM for g in calls)
    assert v.debug_check() == []


def test_vmap_failure_respects_nowarn():
    k = Kernel("i386", "1G", "", seed=1)
    v = k.vmalloc
    k.printk.clear()
    assert v.vmalloc(200 << 20, G.GFP_KERNEL | G.__GFP_NOWARN) == 0
    assert _log(k) == ""
    assert v.vmalloc(200 << 20) == 0
    lines = _log(k).splitlines()
    assert lines[0] == "vmap allocation for size 209719296 failed: use vmalloc=<size> to increase size"
    assert lines[1].endswith("vmalloc error: size 209715200, vm_struct allocation failed, "
                             "mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0")


# -- HighMem: kmap / kunmap ---------------------------------------------------------------

def _highmem_page(k):
    pfn = k.buddy.alloc(G.GFP_HIGHUSER, 0)
    assert k.buddy.zone_of(pfn).name == "HighMem"
    return Page(k, pfn)


def test_kunmap_leaves_the_page_mapped_until_the_flush():
    """kunmap_high only drops pkmap_count to 1: page_address() keeps the address."""
    k = Kernel("i386", "1G", "", seed=1)
    page = _highmem_page(k)
    addr = k.kmap(page)
    assert addr == 0xff801000                      # last_pkmap_nr starts at 0: slot 1
    k.kunmap(page)
    assert page_address(k, page) == addr
    assert k.kmap(page) == addr                     # the same slot again
    k.kunmap(page)
    k.vm.write(addr, b"still")                      # mapped: no fault
    assert k.vmalloc.debug_check() == []


def test_pkmap_flush_on_wrap_frees_unused_slots():
    k = Kernel("i386", "1G", "", seed=1)
    pk = k.vmalloc.pkmap
    page = _highmem_page(k)
    addr = k.kmap(page)
    k.kunmap(page)
    pk.last_nr = pk.n - 1                           # the next search wraps to slot 0
    other = _highmem_page(k)
    assert k.kmap(other) == 0xff800000              # wrapped to slot 0, after the flush
    assert page_address(k, page) == 0               # its unused slot 1 was flushed
    assert k.vmalloc.pt.lookup(addr) < 0


def test_kunmap_once_too_often_is_a_bug(tmp_path):
    path = _module(tmp_path, "kdouble", """
@module_init
def kdouble_init():
    page = alloc_pages(GFP_HIGHUSER, 0)
    kmap(page)
    kunmap(page)
    kunmap(page)
    return 0
""")
    out = make_shell(machine="i386").execute(f"insmod {path}; dmesg").out
    assert "kernel BUG at mm/highmem.c:355!" in out
    assert "Traceback" not in out


def test_highmem_module_page_address_after_kunmap():
    sh = make_shell(machine="i386")
    from tests.conftest import MODULES
    sh.execute(f"insmod {MODULES / 'highmem.py'}")
    out = sh.execute("dmesg").out
    m = re.search(r"kmap returned (ff8[0-9a-f]{5}), page_address is now \1", out)
    assert m and f"page_address after kunmap: {m.group(1)}" in out


def test_vmalloc_backs_off_silently_once_oom_killed(tmp_path):
    """vm_area_alloc_pages stops at fatal_signal_pending(); no warn_alloc follows."""
    path = _module(tmp_path, "vhuge", """
@module_init
def vhuge_init():
    p = vmalloc(94 << 20)
    pr_info("vmalloc returned %px\\n", p)
    return 0
""")
    sh = make_shell(mem="128M")
    out = sh.execute(f"insmod {path}; dmesg").out
    assert ("insmod invoked oom-killer: gfp_mask=0x2cc2(GFP_KERNEL|__GFP_HIGHMEM|__GFP_NOWARN), "
            "order=0, oom_score_adj=0") in out
    assert "vmalloc returned 0000000000000000" in out
    assert "vmalloc error" not in out and "page allocation failure" not in out
    assert sh.kernel.vmalloc.debug_check() == []
