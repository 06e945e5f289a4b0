"""mempool: the reserve, the allocator first, refill on free, resize, destroy, hung task."""
from __future__ import annotations

import re

import pytest
from inline_modules import load, log_text, source_file, texts

from kmsim.errors import KernelBUG
from kmsim.mm import gfp as G
from kmsim.mm import mempool as M
from tests.conftest import make_shell


def test_page_pool_guarantee_under_failing_allocator(kernel):
    from kmsim.linux.mempool import mempool_create_page_pool
    pool = mempool_create_page_pool(4, 0)
    assert pool.min_nr == 4 and pool.curr_nr == 4
    reserve = list(pool.elements)
    kernel.buddy.fail_hook = lambda gfp, order: True
    got = [M.mempool_alloc(kernel, pool, G.GFP_ATOMIC) for _ in range(4)]
    assert [p.pfn for p in got] == [p.pfn for p in reversed(reserve)]     # LIFO
    assert pool.curr_nr == 0
    assert M.mempool_alloc(kernel, pool, G.GFP_ATOMIC) == 0               # cannot sleep: NULL
    for p in got:
        M.mempool_free(kernel, p, pool)
    assert pool.curr_nr == 4
    kernel.buddy.fail_hook = None
    M.mempool_destroy(kernel, pool)
    assert all(kernel.phys.refcount[p.pfn] == 0 for p in got)


def test_allocator_first_then_reserve(kernel):
    calls = []

    def alloc_fn(gfp, data):
        calls.append(gfp)
        return kernel.pfn_to_virt(kernel.buddy.alloc(gfp, 0))

    def free_fn(elem, data):
        kernel.buddy.free(kernel.virt_to_pfn(elem), 0)

    pool = M.mempool_create(kernel, 3, alloc_fn, free_fn, None)
    assert calls == [G.GFP_KERNEL] * 3
    calls.clear()
    e = M.mempool_alloc(kernel, pool, G.GFP_KERNEL)
    assert pool.curr_nr == 3 and e not in pool.elements
    want = (G.GFP_KERNEL | G.__GFP_NOMEMALLOC | G.__GFP_NORETRY | G.__GFP_NOWARN) & ~(
        G.__GFP_DIRECT_RECLAIM | G.__GFP_IO)
    assert calls == [want]
    M.mempool_free(kernel, e, pool)          # pool full: back to the allocator
    assert pool.curr_nr == 3 and e not in pool.elements
    M.mempool_destroy(kernel, pool)


def test_slab_pool_guarantee_with_failslab(kernel):
    from kmsim.linux.mempool import mempool_create_slab_pool
    from kmsim.linux.slab import kmem_cache_create, kmem_cache_destroy
    ctor_calls = []
    cache = kmem_cache_create("pool cache", 16, 0, 0, lambda obj: ctor_calls.append(obj))
    pool = mempool_create_slab_pool(10, cache)
    assert pool.curr_nr == 10
    slab = kernel.slab
    slab.fail_hook = lambda c, gfp: True
    got = [M.mempool_alloc(kernel, pool, G.GFP_KERNEL) for _ in range(10)]
    assert len(set(got)) == 10 and all(got) and pool.curr_nr == 0
    slab.fail_hook = None
    for e in got:
        M.mempool_free(kernel, e, pool)
    M.mempool_destroy(kernel, pool)
    kmem_cache_destroy(cache)


def test_sleeping_mask_with_empty_reserve_waits_silently_then_hints(kernel):
    """mempool_alloc retries every 5 s forever; the hung-task detector stays quiet (the
    task wakes up); kmsim gives up after 120 simulated seconds with a kmsim: hint."""
    from kmsim.linux.mempool import mempool_create_page_pool
    pool = mempool_create_page_pool(1, 0)
    kernel.buddy.fail_hook = lambda gfp, order: True
    first = M.mempool_alloc(kernel, pool, G.GFP_KERNEL)
    assert first is not None and first != 0
    kernel.printk.clear()
    assert M.mempool_alloc(kernel, pool, G.GFP_KERNEL) == 0
    kernel.buddy.fail_hook = None
    text = log_text(kernel)
    assert "blocked for more than" not in text
    assert "kmsim: mempool_alloc() with a mask that may sleep never returns NULL" in text
    M.mempool_free(kernel, first, pool)
    M.mempool_destroy(kernel, pool)


def test_resize_and_destroy_with_elements_out(kernel):
    from kmsim.linux.mempool import mempool_create_page_pool
    pool = mempool_create_page_pool(4, 0)
    assert M.mempool_resize(kernel, pool, 2) == 0
    assert pool.min_nr == 2 and pool.curr_nr == 2
    assert M.mempool_resize(kernel, pool, 6) == 0
    assert pool.min_nr == 6 and pool.curr_nr == 6
    kernel.buddy.fail_hook = lambda gfp, order: True
    assert M.mempool_resize(kernel, pool, 8) == 0           # filling may fail: not an error
    assert pool.min_nr == 8 and pool.curr_nr == 6
    kernel.buddy.fail_hook = None
    with pytest.raises(KernelBUG):
        M.mempool_resize(kernel, pool, 0)
    out = M.mempool_alloc(kernel, pool, G.GFP_KERNEL)
    M.mempool_free(kernel, out, pool)                       # below min_nr: kept in the reserve
    assert pool.curr_nr == 7
    kept = M.mempool_alloc(kernel, pool, G.GFP_KERNEL)
    kernel.printk.clear()
    M.mempool_destroy(kernel, pool)
    assert "kmsim: mempool_destroy(): 1 element taken with mempool_alloc() was never given back" \
        in log_text(kernel)
    assert kernel.phys.refcount[kept.pfn] == 1              # leaked, as in the kernel
    M.mempool_destroy(kernel, None)


def test_create_fails_cleanly(kernel):
    given, freed = [], []

    def alloc_fn(gfp, data):
        if len(given) == 2:
            return 0
        given.append(kernel.pfn_to_virt(kernel.buddy.alloc(gfp, 0)))
        return given[-1]

    def free_fn(elem, data):
        freed.append(elem)
        kernel.buddy.free(kernel.virt_to_pfn(elem), 0)

    assert M.mempool_create(kernel, 5, alloc_fn, free_fn, None) is None
    assert sorted(freed) == sorted(given) and len(given) == 2
    assert all(kernel.phys.refcount[kernel.virt_to_pfn(a)] == 0 for a in given)


RESIZE = """
cache = pool = None
def t_init():
    global cache, pool
    cache = kmem_cache_create("t_cache", 40, 0, 0, None)
    pool = mempool_create(4, mempool_alloc_slab, mempool_free_slab, cache)
    pr_info("created %d %d\\n", pool.min_nr, pool.curr_nr)
    pr_info("up %d %d %d\\n", mempool_resize(pool, 9), pool.min_nr, pool.curr_nr)
    pr_info("down %d %d %d\\n", mempool_resize(pool, 2), pool.min_nr, pool.curr_nr)
    a = mempool_alloc(pool, GFP_KERNEL)
    b = mempool_alloc(pool, GFP_KERNEL)
    mempool_free(a, pool)
    mempool_destroy(pool)
    kmem_cache_free(cache, b)
    kmem_cache_destroy(cache)
    return 0
def t_exit():
    pass
"""


def test_mempool_resize_up_and_down_and_destroy_with_an_element_out(tmp_path):
    sh, st = load(tmp_path, RESIZE, append="slab_nomerge")
    lines = texts(sh)
    assert st == 0
    assert "created 4 4" in lines and "up 0 9 9" in lines and "down 0 2 2" in lines
    assert any("mempool_destroy(): 1 element taken with mempool_alloc() was never given back"
               in ln for ln in lines)
    assert not re.search(r"^t_cache ", sh.execute("cat /proc/slabinfo").out, re.M)


def test_mempool_free_with_null_pool_faults_at_curr_nr(tmp_path):
    """mempool_free() reads pool->curr_nr (offset 8) first, not pool_data."""
    path = source_file(tmp_path, "mpnull", """
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
    path = source_file(tmp_path, "mpnull2", """
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
    assert log_text(kernel) == ""                                # no report at all
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
    text = log_text(kernel)
    assert "INFO: task" not in text and "hung_task_timeout_secs" not in text
    assert text.startswith("kmsim: mempool_alloc() with a mask that may sleep never returns NULL")
    assert "after 120 simulated seconds" in text
    assert M.mempool_alloc(kernel, pool, G.GFP_ATOMIC)     # the allocator works again
    M.mempool_free(kernel, first, pool)
    M.mempool_destroy(kernel, pool)
