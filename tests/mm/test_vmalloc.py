"""vmalloc: areas, guard pages, translation by the page tables, module memory, kvmalloc."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inline_modules import FOOTER, HEADER, load, log_text, source_file, texts

from kmsim.errors import PageFault
from kmsim.kernel import Kernel
from kmsim.machine import PAGE_SHIFT, PAGE_SIZE
from kmsim.mm import gfp as G
from kmsim.mm.physmem import PG_vmalloc
from tests.conftest import MODULES, make_shell, run_kmsim


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


GUARD_MODULE = '''
from kmsim.linux.module import *
from kmsim.linux.vmalloc import *
from kmsim.linux.types import *
from kmsim.linux.printk import *

buf = 0


def vguard_init():
    global buf
    buf = vmalloc(4096)
    pr_info("buf at %px\\n", buf)
    int_.array_at(buf, 2048)[1024] = 1
    return 0


def vguard_exit():
    vfree(buf)


module_init(vguard_init)
module_exit(vguard_exit)
MODULE_LICENSE("GPL")
'''


def _dmesg_texts(out: str) -> list[str]:
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in out.splitlines() if ln.startswith("[")]


@pytest.mark.e2e
def test_listing3_mempool():
    r = run_kmsim("--seed", "1", "-c",
                  "insmod modules/mempool.py; lsmod; cat /proc/slabinfo | grep example; dmesg -C; "
                  "rmmod mempool; dmesg; cat /proc/slabinfo | grep -c example")
    assert r.returncode == 1, r.stderr          # the last grep finds nothing
    assert "mempool                16384  0" in r.stdout
    # the 10 reserved objects + the one mempool_alloc got from the slab
    assert re.search(r"^example cache +11 +64 +64 +64 +1 ", r.stdout, re.M)
    texts = _dmesg_texts(r.stdout)
    assert texts[:2] == ["Example struct id: 10", "Example string field content: Test"]
    assert r.stdout.count("example cache") == 1       # destroyed at rmmod
    assert r.stdout.splitlines()[-1] == "0"


def test_exercise4_ids_start_at_10():
    sh = make_shell()
    assert sh.execute(f"insmod {MODULES / 'exercise4.py'}").status == 0
    out = sh.execute("dmesg").out
    ids = [int(m) for m in re.findall(r"Object #\d allocated, id (\d+)", out)]
    assert ids == [10, 11, 12, 13, 14]
    sh.execute("dmesg -C")
    assert sh.execute("rmmod exercise4").status == 0
    out = sh.execute("dmesg").out
    assert re.findall(r"Example struct id: (\d+)", out) == ["10", "11", "12", "13", "14"]


@pytest.mark.e2e
def test_listing4_kmalloc_vmalloc_and_vmallocinfo():
    r = run_kmsim("--seed", "1", "-c",
                  "insmod modules/kmalloc_vmalloc.py; dmesg | tail -2; cat /proc/vmallocinfo; "
                  "lsmod; rmmod kmalloc_vmalloc; dmesg | tail -45")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    first = re.search(r"The address in first_array: ([0-9a-f]{16})", out).group(1)
    assert re.search(r"The address in second_array: [0-9a-f]{16}", out)
    # the vmalloc(80) area: hashed like %p, 1 page + guard, raw caller (init text is freed)
    line = re.search(rf"^0x{first}-0x[0-9a-f]{{16}} +8192 0xffffffffc[0-9a-f]+ pages=1 vmalloc N0=1$",
                     out, re.M)
    assert line, out
    assert re.search(r"^0x[0-9a-f]{16}-0x[0-9a-f]{16}   20480 load_module\+0xbb7/0x21a0 pages=4 "
                     r"vmalloc N0=4$", out, re.M)
    assert re.search(r"^0x[0-9a-f]{16}-0x[0-9a-f]{16}    8192 acpi_os_map_iomem\+0x1b6/0x1d0 "
                     r"phys=0x000000001ffe1000 ioremap$", out, re.M)
    assert "kmalloc_vmalloc        16384  0" in out
    texts = _dmesg_texts(out)
    i = texts.index("second_array content:")
    assert texts[i + 1:i + 21] == ["0 "] * 20 and texts[i + 21] == ""
    j = texts.index("first_array content:")
    assert texts[j + 1:j + 21] == ["0 "] * 20


def test_vmallocinfo_caller_of_a_live_function_and_no_hash():
    sh = make_shell(append="no_hash_pointers")
    k = sh.kernel
    sh.execute(f"insmod {MODULES / 'kmalloc_vmalloc.py'}")
    k.modules.modules["kmalloc_vmalloc"].init_done = False     # as if init were still running
    out = sh.execute("vmallocinfo").out
    assert re.search(r"^0xffffc900[0-9a-f]{8}-0xffffc900[0-9a-f]{8}    8192 "
                     r"mallocmod_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[kmalloc_vmalloc\] pages=1 vmalloc N0=1$",
                     out, re.M), out
    assert re.search(r"^0xffffffffc0000000-0xffffffffc0005000   20480 load_module", out, re.M)


def test_pagewalk_vmalloc_direct_and_unmapped():
    sh = make_shell()
    k = sh.kernel
    v = k.vmalloc
    addr = v.vmalloc(8192)
    pfn = v.find_area(addr).pages[1]
    res = sh.execute(f"pagewalk {addr + 4096 + 0x10:#x}")
    assert res.status == 0
    lines = res.out.splitlines()
    assert lines[0].startswith(f"{addr + 4096 + 0x10:016x}: vmalloc area {addr:#x}-{addr + 12288:#x}")
    assert re.match(r"  PGD  index  402 \(0x192\)  entry [0-9a-f]{13}067  P RW US A D", lines[2])
    assert lines[3] == "  P4D  folded into the PGD (same entry)"
    assert re.match(rf"  PTE  index +\d+ \(0x[0-9a-f]+\)  entry "
                    rf"{(1 << 63) | (pfn << 12) | 0x163:016x}  P RW A D G NX +"
                    rf"-> frame pfn {pfn:#x}", lines[6])
    assert lines[7].startswith(f"  frame pfn {pfn:#x} ({pfn}) in zone ")
    assert f"physical address {(pfn << 12) + 0x10:#x}" in lines[7]
    res = sh.execute(f"pagewalk {addr + 8192:x}")
    assert res.status == 1 and "guard page of vmalloc area" in res.out
    assert "not mapped: an access Oopses with 'PGD " in res.out
    res = sh.execute("pagewalk 0xffff888000123456")
    assert "direct (linear) map" in res.out and "pfn 0x123 (291), offset 0x456" in res.out
    res = sh.execute("pagewalk nonsense")
    assert res.status == 2 and "invalid address 'nonsense'" in res.err


@pytest.mark.e2e
def test_guard_page_oops(tmp_path):
    mod = tmp_path / "vguard.py"
    mod.write_text(GUARD_MODULE)
    r = run_kmsim("--seed", "1", "-c", f"insmod {mod}; dmesg; lsmod")
    assert r.returncode == 137 and "Killed" in r.stderr         # a page fault: SIGKILL
    out = r.stdout
    buf = int(re.search(r"buf at ([0-9a-f]{16})", out).group(1), 16)
    assert f"BUG: unable to handle page fault for address: {buf + 4096:016x}" in out
    assert "#PF: supervisor write access in kernel mode" in out
    assert "#PF: error_code(0x0002) - not-present page" in out
    assert re.search(r"PGD [0-9a-f]+067 P4D [0-9a-f]+067 PUD [0-9a-f]+067 PMD [0-9a-f]+067 PTE 0", out)
    assert "RIP: 0010:vguard_init+0x" in out
    assert f"is in the guard page after the vmalloc area at {buf:#x} (4096 bytes): offset 4096" in out


@pytest.mark.e2e
def test_highmem_module_on_i386():
    r = run_kmsim("--machine", "i386", "--seed", "1", "-c",
                  "insmod modules/highmem.py; dmesg | tail -5; lsmod; rmmod highmem")
    assert r.returncode == 0, r.stderr
    texts = _dmesg_texts(r.stdout)
    assert re.match(r"pfn \d+, zone HighMem, PageHighMem=1", texts[0])
    assert texts[1] == "page_address before kmap: 00000000"
    m = re.match(r"kmap returned (ff8[0-9a-f]{5}), page_address is now (ff8[0-9a-f]{5})", texts[2])
    assert m and m.group(1) == m.group(2)
    assert texts[3] == "the page holds: written through the pkmap"
    assert texts[4] == "page_address after kunmap: ff801000"   # kept until the slots are flushed
    assert "highmem                16384  0" in r.stdout


def test_meminfo_vmalloc_lines():
    sh = make_shell()
    before = sh.execute("cat /proc/meminfo").out
    sh.execute(f"insmod {MODULES / 'kmalloc_vmalloc.py'}")
    after = sh.execute("cat /proc/meminfo").out
    assert _vmalloc_used(after) - _vmalloc_used(before) == 4 + 16     # vmalloc(80) and the module's 16 KiB
    assert re.search(r"^PageTables: +\d+ kB$", after, re.M)
    assert "VmallocTotal:   34359738367 kB" in after


VFREE_MIDDLE = """
def t_init():
    d = vmalloc(3 * 4096)
    vfree(d + 4096)
    pr_info("mapped %d\\n", vmalloc_to_page(d) is not None)
    e = vmalloc(4096)
    vfree(e + 4096)             # its guard page: still inside the area
    f = vmalloc(4096)
    vfree(f + 16)
    vfree(f)
    return 0
def t_exit():
    pass
"""


SIZES = """
def t_init():
    pr_info("zero %d\\n", vmalloc(0))
    pr_info("zero again %d\\n", vmalloc(0))
    pr_info("huge %d\\n", vmalloc(1 << 40))
    pr_info("minus %d\\n", vzalloc(-1))
    small = kvmalloc(100, GFP_KERNEL)
    large = kvmalloc(4 << 20, GFP_KERNEL)
    nowait = kvmalloc(64 << 20, GFP_NOWAIT)
    pr_info("small %d large %d\\n", is_vmalloc_addr(small), is_vmalloc_addr(large))
    kvfree(small)
    kvfree(large)
    kvfree(nowait)
    kvfree(0)
    return 0
def t_exit():
    pass
"""


def test_vfree_inside_an_area_frees_it_all_as_6_1_does(tmp_path):
    sh, st = load(tmp_path, VFREE_MIDDLE)
    lines = texts(sh)
    assert st == 0
    assert sum("is inside the vmalloc area" in ln for ln in lines) == 2
    assert "mapped 0" in lines
    assert sum(ln.startswith("Trying to vfree() bad address (") for ln in lines) == 1
    assert not any("nonexistent vm area" in ln for ln in lines)
    assert "t_init" not in sh.execute("cat /proc/vmallocinfo").out
    assert sh.kernel.vmalloc.debug_check() == []


def test_vmalloc_sizes_and_kvmalloc(tmp_path):
    sh, st = load(tmp_path, SIZES)
    assert st == 0
    lines = texts(sh)
    assert "zero 0" in lines and "zero again 0" in lines and "huge 0" in lines
    assert sum(ln.startswith("WARNING: CPU: 0 PID:") and "__vmalloc_node_range" in ln
               for ln in lines) == 1                  # WARN_ON_ONCE(!size)
    assert any(ln.startswith("insmod: vmalloc error: size 1099511627776, exceeds total pages, "
                             "mode:0xcc0(GFP_KERNEL), nodemask=(null)") for ln in lines)
    assert any("vmalloc error: size 18446744073709551615, exceeds total pages" in ln
               for ln in lines)
    assert "small 0 large 0" in lines or "small 0 large 1" in lines
    assert sh.execute("rmmod t").status == 0
    assert sh.kernel.vmalloc.debug_check() == []


def test_kvmalloc_falls_back_to_vmalloc_when_kmalloc_fails(tmp_path):
    body = """
def t_init():
    a = kvmalloc(1 << 20, GFP_KERNEL)
    pr_info("vmalloc %d\\n", is_vmalloc_addr(a))
    kvfree(a)
    return 0
def t_exit():
    pass
"""
    src = HEADER + body + FOOTER
    (tmp_path / "t.py").write_text(src)
    sh = make_shell()
    k = sh.kernel
    slab = k.slab
    old = slab.fail_hook
    slab.fail_hook = lambda *a, **kw: True
    buddy_old = k.buddy.fail_hook
    k.buddy.fail_hook = lambda gfp, order: order > 0
    try:
        assert sh.execute(f"insmod {tmp_path / 't.py'}").status == 0
    finally:
        slab.fail_hook, k.buddy.fail_hook = old, buddy_old
    assert "vmalloc 1" in texts(sh)
    assert k.vmalloc.debug_check() == []


def test_large_vmalloc_has_its_page_array_in_vmalloc_space(tmp_path):
    """More than 512 pages: area->pages is vmalloc()ed by the same caller ('vpages')."""
    path = source_file(tmp_path, "vbig", """
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
    before = _vmalloc_used(sh.execute("cat /proc/meminfo").out)
    assert sh.execute(f"insmod {path}").status == 0
    info = sh.execute("cat /proc/vmallocinfo").out.splitlines()
    big = [i for i, line in enumerate(info) if " 4198400 0x" in line]   # not the boot's percpu chunk
    assert len(big) == 1
    assert re.fullmatch(r"0x[0-9a-f]{16}-0x[0-9a-f]{16} 4198400 0x[0-9a-f]+ pages=1024 "
                        r"vmalloc vpages N0=1024", info[big[0]])
    assert re.fullmatch(r"0x[0-9a-f]{16}-0x[0-9a-f]{16}   12288 0x[0-9a-f]+ pages=2 vmalloc N0=2",
                        info[big[0] + 1])
    assert _vmalloc_used(sh.execute("cat /proc/meminfo").out) - before == 4096 + 8 + 16
    sh.execute("rmmod vbig")
    after = sh.execute("cat /proc/vmallocinfo").out
    assert " 4198400 0x" not in after
    assert "pages=2 vmalloc N0=2\n" not in after.split("bpf_prog_pack_alloc")[-1]
    assert _vmalloc_used(sh.execute("cat /proc/meminfo").out) == before
    assert sh.kernel.vmalloc.debug_check() == []


def test_vmap_failure_respects_nowarn():
    k = Kernel("i386", "1G", "", seed=1)
    v = k.vmalloc
    k.printk.clear()
    assert v.vmalloc(200 << 20, G.GFP_KERNEL | G.__GFP_NOWARN) == 0
    assert log_text(k) == ""
    assert v.vmalloc(200 << 20) == 0
    lines = log_text(k).splitlines()
    assert lines[0] == "vmap allocation for size 209719296 failed: use vmalloc=<size> to increase size"
    assert lines[1].endswith("vmalloc error: size 209715200, vm_struct allocation failed, "
                             "mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0")


def test_vmalloc_backs_off_silently_once_oom_killed(tmp_path):
    """vm_area_alloc_pages stops at fatal_signal_pending(); no warn_alloc follows."""
    path = source_file(tmp_path, "vhuge", """
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


def _vmalloc_used(meminfo: str) -> int:
    """VmallocUsed of a /proc/meminfo text, in kB."""
    return int(re.search(r"VmallocUsed: +(\d+) kB", meminfo).group(1))
