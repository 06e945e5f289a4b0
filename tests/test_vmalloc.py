"""vmalloc: areas, guard pages, translation by the page tables, module memory, kvmalloc."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsim.errors import PageFault
from kmsim.kernel import Kernel
from kmsim.machine import PAGE_SHIFT, PAGE_SIZE
from kmsim.mm import gfp as G
from kmsim.mm.physmem import PG_vmalloc


def _vm(k):
    return k.vmalloc


def test_every_page_translates_to_its_frame(kernel):
    v = _vm(kernel)
    addr = v.vmalloc(10 * PAGE_SIZE + 1)
    area = v.find_area(addr)
    assert len(area.pages) == 11 and area.size == 12 * PAGE_SIZE
    assert len(set(area.pages)) == 11
    for i, pfn in enumerate(area.pages):
        va = addr + (i << PAGE_SHIFT)
        assert v.pt.lookup(va) == pfn
        assert kernel.vm.translate(va + 123) == (pfn << PAGE_SHIFT) + 123
        assert kernel.phys.flags[pfn] & PG_vmalloc
        assert kernel.owners[int(kernel.phys.owner[pfn])].kind == "vmalloc"
        kernel.vm.write_int(va + 8, 8, 0x1122334455667788 + i)
        assert kernel.phys.mm[(pfn << PAGE_SHIFT) + 8] == 0x88 + i
    # a write across a page boundary lands in two frames
    kernel.vm.write(addr + PAGE_SIZE - 2, b"abcd")
    p0, p1 = area.pages[0], area.pages[1]
    assert kernel.phys.mm[(p0 << PAGE_SHIFT) + PAGE_SIZE - 2:(p0 + 1) << PAGE_SHIFT] == b"ab"
    assert kernel.phys.mm[p1 << PAGE_SHIFT:(p1 << PAGE_SHIFT) + 2] == b"cd"
    assert v.debug_check() == []


def test_consecutive_areas_first_fit_with_guard(kernel):
    v = _vm(kernel)
    a = v.vmalloc(80)
    b = v.vmalloc(2 * PAGE_SIZE)
    assert a % PAGE_SIZE == 0 and b == a + 2 * PAGE_SIZE
    v.vfree(a)
    c = v.vmalloc(PAGE_SIZE)
    assert c == a                       # first fit reuses the hole
    v.vfree(b)
    v.vfree(c)


def test_guard_page_and_freed_area_fault(kernel):
    v = _vm(kernel)
    a = v.vmalloc(PAGE_SIZE)
    with pytest.raises(PageFault) as e:
        kernel.vm.read(a + PAGE_SIZE, 1)
    assert e.value.addr == a + PAGE_SIZE
    assert e.value.pgd_line.startswith("PGD ") and e.value.pgd_line.endswith("PTE 0 ")
    assert "guard page" in e.value.hint
    kernel.vm.write_int(a, 4, 7)
    v.vfree(a)
    with pytest.raises(PageFault) as e:
        kernel.vm.write_int(a, 4, 7)
    assert e.value.write and "vfree()d" in e.value.hint
    assert (a >> PAGE_SHIFT) not in kernel.vm.tlb


def test_vfree_null_and_bad_addresses(kernel):
    v = _vm(kernel)
    assert v.vfree(0) is True
    kernel.printk.clear()
    addr = kernel.pfn_to_virt(kernel.buddy.alloc(G.GFP_KERNEL, 0))
    assert v.vfree(addr) is False
    text = "\n".join(r.text for r in kernel.printk.visible())
    assert "Trying to vfree() nonexistent vm area (" in text
    assert "WARNING: CPU: 0 PID: 1 at mm/vmalloc.c:2665 __vunmap+0x2a8/0x2c0" in text
    assert "kfree()/free_pages()" in text
    a = v.vmalloc(PAGE_SIZE)
    assert v.vfree(a + 16) is False
    assert "Trying to vfree() bad address" in "\n".join(r.text for r in kernel.printk.visible())
    v.vfree(a)


def test_vmalloc_errors(kernel):
    v = _vm(kernel)
    kernel.printk.clear()
    assert v.vmalloc(0) == 0
    assert v.vmalloc(4 << 30) == 0
    text = "\n".join(r.text for r in kernel.printk.visible())
    assert "vmalloc error: size 4294967296, exceeds total pages, mode:0xcc0(GFP_KERNEL)" in text
    assert "warn_alloc+0x151/0x170" in text and "Mem-Info:" in text
    kernel.buddy.fail_hook = lambda gfp, order: True
    assert v.vmalloc(3 * PAGE_SIZE) == 0
    kernel.buddy.fail_hook = None
    assert "vmalloc error: size 0, failed to allocate pages" in "\n".join(     # the pages it got
        r.text for r in kernel.printk.visible())
    assert v.debug_check() == []


def test_stats_and_meminfo(kernel):
    from kmsim import fs
    v = _vm(kernel)
    used0, pt0 = kernel.vmalloc_stats()
    a = v.vmalloc(1 << 20)
    used1, pt1 = kernel.vmalloc_stats()
    assert used1 - used0 == 1024
    mi = fs.meminfo_values(kernel)
    assert mi["VmallocUsed"] == used1 and mi["PageTables"] == pt1 * 4
    assert mi["VmallocTotal"] == 34359738367
    v.vfree(a)
    assert kernel.vmalloc_stats() == (used0, pt0)


def test_lookups(kernel):
    from kmsim.linux.vmalloc import is_vmalloc_addr, vfree, vmalloc, vmalloc_to_page, vmalloc_to_pfn, vzalloc
    a = vzalloc(3 * PAGE_SIZE)
    assert is_vmalloc_addr(a) and not is_vmalloc_addr(kernel.machine.page_offset)
    assert kernel.vm.read(a, 3 * PAGE_SIZE) == bytes(3 * PAGE_SIZE)
    pfn = vmalloc_to_pfn(a + PAGE_SIZE + 5)
    assert pfn == _vm(kernel).find_area(a).pages[1]
    assert vmalloc_to_page(a).pfn == _vm(kernel).find_area(a).pages[0]
    assert vmalloc_to_page(a + 3 * PAGE_SIZE) is None
    vfree(a)
    assert vmalloc(-1) == 0


def test_kvmalloc_prefers_kmalloc(kernel):
    v = _vm(kernel)
    small = v.kvmalloc(100, G.GFP_KERNEL)
    assert kernel.vm.is_direct(small)
    big = v.kvmalloc(64 << 10, G.GFP_KERNEL)
    assert kernel.vm.is_direct(big)
    kernel.buddy.fail_hook = lambda gfp, order: order > 0
    slab = kernel.slab
    if slab is not None:
        slab.fail_hook = lambda cache, gfp: True
    kernel.printk.clear()
    fallback = v.kvmalloc(64 << 10, G.GFP_KERNEL)
    kernel.buddy.fail_hook = None
    if slab is not None:
        slab.fail_hook = None
    assert v.is_vmalloc_addr(fallback)
    assert "page allocation failure" not in "\n".join(r.text for r in kernel.printk.visible())
    for a in (small, big, fallback):
        v.kvfree(a)
    assert v.find_area(fallback) is None


def test_module_memory_in_module_area(shell):
    from tests.conftest import MODULES
    res = shell.execute(f"insmod {MODULES / 'hello.py'}")
    assert res.status == 0
    k = shell.kernel
    mod = k.modules.modules["hello"]
    v = _vm(k)
    (addr, size), = mod.chunks
    assert size == 16384 and addr >= k.machine.modules_vaddr
    area = v.modules_space.areas[addr]
    assert len(area.pages) == 4 and area.size == 20480
    assert all(k.owners[int(k.phys.owner[p])].kind == "module" for p in area.pages)
    assert "hello                  16384  0" in shell.execute("lsmod").out
    shell.execute("rmmod hello")
    assert addr not in v.modules_space.areas
    assert v.debug_check() == []


def test_i386_modules_live_in_vmalloc_space():
    from tests.conftest import MODULES, make_shell
    sh = make_shell(machine="i386")
    assert sh.execute(f"insmod {MODULES / 'hello.py'}").status == 0
    k = sh.kernel
    addr = k.modules.modules["hello"].chunks[0][0]
    assert k.vmalloc_start <= addr < k.vmalloc_end


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 5 * PAGE_SIZE), st.integers(0, 50)),
                min_size=1, max_size=30))
def test_random_vmalloc_vfree_invariants(ops):
    k = _kernel()
    v = _vm(k)
    tables0 = set(v.pt.used)
    live = []
    for is_alloc, size, pick in ops:
        if is_alloc or not live:
            want = _first_fit(v.vmalloc_space, ((size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) + PAGE_SIZE)
            a = v.vmalloc(size)
            assert a == want
            live.append(a)
        else:
            v.vfree(live.pop(pick % len(live)))
        mapped = [pfn for _va, pfn in v.pt.leaves()]
        assert len(mapped) == len(set(mapped))
    assert v.debug_check() == []
    for a in live:
        v.vfree(a)
    assert set(v.pt.used) == tables0
    assert v.debug_check() == []


def _first_fit(space, total):
    """The lowest page-aligned gap of total bytes, by brute force (the oracle)."""
    addr = space.start
    for st_ in sorted(space.areas):
        if addr + total <= st_:
            return addr
        addr = max(addr, space.areas[st_].end)
    return addr


_CACHE: list = []


def _kernel():
    """One machine for every hypothesis example (booting is the slow part)."""
    if not _CACHE:
        _CACHE.append(Kernel("x86_64", "128M", "", seed=5))
    return _CACHE[0]


def test_vfree_refuses_module_memory_and_ioremap(shell):
    from tests.conftest import MODULES
    shell.execute(f"insmod {MODULES / 'hello.py'}")
    k = shell.kernel
    v = _vm(k)
    mod_addr = k.modules.modules["hello"].chunks[0][0]
    io = next(a for a in v.all_areas() if a.types == ("ioremap",))
    k.printk.clear()
    assert v.vfree(mod_addr) is False and v.vfree(io.start) is False
    text = "\n".join(r.text for r in k.printk.visible())
    assert text.count("Trying to vfree() nonexistent vm area") == 2    # WARN(1, ...): every time
    assert "is the module's own memory (module_alloc)" in text
    assert mod_addr in v.modules_space.areas
    assert shell.execute("rmmod hello").status == 0


def test_module_statics_live_in_the_module_area(shell, tmp_path):
    src = tmp_path / "statics.py"
    src.write_text(
        "from kmsim.linux.module import *\nfrom kmsim.linux.types import *\n"
        "from kmsim.linux.list import *\n"
        "class pair(Struct):\n    _fields_ = [('a', long), ('b', long)]\n"
        "head = LIST_HEAD()\nbig = (char * 6000).static()\np = pair.static()\n"
        "def init():\n    p.a = 5\n    return 0\n"
        "def fini():\n    pass\nmodule_init(init)\nmodule_exit(fini)\nMODULE_LICENSE('GPL')\n")
    assert shell.execute(f"insmod {src}").status == 0
    k = shell.kernel
    mod = k.modules.modules["statics"]
    v = _vm(k)
    ns = mod.namespace
    for addr in (ns["head"].addr, ns["big"].addr, ns["p"].addr):
        assert v.modules_space.area_of(addr).module is mod
    assert k.vm.read_int(ns["p"].addr, 8) == 5
    assert [s for _a, s in mod.chunks] == [16384, 8192]
    assert "statics                24576  0" in shell.execute("lsmod").out
    shell.execute("rmmod statics")
    assert not any(a.module is mod for a in v.all_areas())
