"""End to end: Listings 3 and 4, Exercise 4, vmallocinfo, pagewalk, a guard-page Oops, HighMem."""
from __future__ import annotations

import re

from tests.conftest import MODULES, make_shell, run_kmsim

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
    used = lambda t: int(re.search(r"VmallocUsed: +(\d+) kB", t).group(1))  # noqa: E731
    assert used(after) - used(before) == 4 + 16     # vmalloc(80) and the module's 16 KiB
    assert re.search(r"^PageTables: +\d+ kB$", after, re.M)
    assert "VmallocTotal:   34359738367 kB" in after
