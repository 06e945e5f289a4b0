"""KASAN: shadow memory, the report's format, quarantine, and the machine afterwards."""
import re

import pytest
from conftest import make_shell, run_kmsim
from hypothesis import given, settings
from inline_modules import INIT_MODULE, messages, module_file

from kmsim.kernel import Kernel

RULER = "=" * 66


def _report(sh, cmd):
    sh.execute("dmesg -C")
    r = sh.execute(cmd)
    msgs = [line.split("] ", 1)[1] if "] " in line else "" for line in sh.execute("dmesg").out.splitlines()]
    start = msgs.index(RULER)
    return r, msgs[start:]


def _after(sh):
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0
    slab = sh.kernel.slab
    if slab is not None:
        assert slab.debug_check() == []


def test_off_costs_nothing():
    k = Kernel("x86_64", "1G", "", seed=1)
    assert k.vm.kasan is None and k.kasan is None


def test_slab_out_of_bounds_report():
    sh = make_shell(append="kasan")
    r, rep = _report(sh, "insmod tests/check_modules/kasan_oob.py")
    assert r.status == 0                        # kasan.fault=report: the module carried on
    assert sh.execute("lsmod | grep kasan_oob").status == 0
    assert re.fullmatch(r"BUG: KASAN: slab-out-of-bounds in oob_init\+0x[0-9a-f]+/0x[0-9a-f]+"
                        r" \[kasan_oob\]", rep[1])
    assert re.fullmatch(r"Write of size 1 at addr ffff8880[0-9a-f]{8} by task insmod/\d+", rep[2])
    assert rep[3] == "" and rep[4].startswith("CPU: 0 PID: ")
    assert "Allocated by task" in " ".join(rep)
    i = next(n for n, line in enumerate(rep) if line.startswith("The buggy address belongs to the object"))
    assert rep[i + 1] == " which belongs to the cache kmalloc-128 of size 128"
    assert rep[i + 2] == "The buggy address is located 100 bytes inside of"
    j = rep.index("Memory state around the buggy address:")
    row = rep[j + 3]
    assert row.startswith(">") and " 04 fc" in row
    caret = rep[j + 4]
    assert caret.strip() == "^" and row[caret.index("^"):caret.index("^") + 2] == "04"
    assert rep[j + 7] == RULER
    assert sh.execute("cat /proc/sys/kernel/tainted").out == f"{(1 << 5) | (1 << 12) | (1 << 13)}\n"
    assert "Disabling lock debugging due to kernel taint" in sh.execute("dmesg").out
    assert "kmsim: KASAN: slab-out-of-bounds at 0x" in sh.execute("dmesg").out
    _after(sh)


def test_only_the_first_report_of_a_boot_is_printed_unless_multi_shot():
    """report_enabled: KASAN_BIT_REPORTED silences later reports; kasan_multi_shot does not."""
    for append, expected in (("kasan", 1), ("kasan kasan_multi_shot", 2)):
        sh = make_shell(append=append)
        sh.execute("insmod tests/check_modules/kasan_oob.py; rmmod kasan_oob")
        sh.execute("insmod tests/check_modules/kasan_uaf.py")
        dmesg = sh.execute("dmesg").out
        assert dmesg.count("BUG: KASAN:") == expected, append
        assert ("kmsim: KASAN:" in dmesg) == (expected == 1)


def test_the_access_happens_after_the_report(tmp_path):
    """The write past the object lands in its slot's red zone and reads back, as on the
    real kernel; the read is not reported again (one report per boot)."""
    mod = tmp_path / "after.py"
    mod.write_text("""
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.printk import *
from kmsim.linux.types import *
def after_init():
    p = kmalloc(100, GFP_KERNEL)
    u8.array_at(p, 128)[120] = 0x2a
    pr_info("after: %x\\n", u8.array_at(p, 128)[120])
    kfree(p)
    return 0
module_init(after_init)
MODULE_LICENSE("GPL")
""")
    sh = make_shell(append="kasan")
    assert sh.execute(f"insmod {mod}").status == 0
    dmesg = sh.execute("dmesg").out
    assert dmesg.count("BUG: KASAN: slab-out-of-bounds in after_init+") == 1
    assert "after: 2a" in dmesg
    _after(sh)


def test_in_bounds_access_is_silent():
    sh = make_shell(append="kasan")
    r = sh.execute("insmod tests/check_modules/kasan_oob.py where=99; rmmod kasan_oob")
    assert r.status == 0
    assert "KASAN" not in sh.execute("dmesg").out


def test_use_after_free_report():
    sh = make_shell(append="kasan")
    r, rep = _report(sh, "insmod tests/check_modules/kasan_uaf.py")
    assert rep[1].startswith("BUG: KASAN: use-after-free in uaf_init+")
    assert rep[2].startswith("Read of size 4 at addr ")
    text = "\n".join(rep)
    assert "Allocated by task" in text and "Freed by task" in text
    assert " fb fb " in text
    _after(sh)


def test_quarantine_catches_use_after_reuse():
    sh = make_shell(append="kasan")
    r, rep = _report(sh, "insmod tests/check_modules/kasan_reuse.py")
    assert rep[1].startswith("BUG: KASAN: use-after-free in reuse_init+")
    assert rep[2].startswith("Write of size 1 at addr ")
    _after(sh)


def test_double_free_report():
    sh = make_shell(append="kasan")
    r, rep = _report(sh, "insmod tests/check_modules/kasan_dfree.py")
    assert rep[1].startswith("BUG: KASAN: double-free in dfree_init+")
    assert re.fullmatch(r"Free of addr ffff8880[0-9a-f]{8} by task insmod/\d+", rep[2])
    assert r.status == 0                     # the second kfree was not done; init went on
    assert "kernel BUG" not in sh.execute("dmesg").out
    _after(sh)


def test_vmalloc_out_of_bounds(tmp_path):
    mod = tmp_path / "voob.py"
    mod.write_text("""
from kmsim.linux.module import *
from kmsim.linux.vmalloc import *
from kmsim.linux.types import *
def voob_init():
    p = vmalloc(100)
    u8.array_at(p, 200)[150] = 1
    return 0
module_init(voob_init)
MODULE_LICENSE("GPL")
""")
    sh = make_shell(append="kasan")
    r, rep = _report(sh, f"insmod {mod}")
    assert rep[1].startswith("BUG: KASAN: vmalloc-out-of-bounds in voob_init+")
    assert rep[2].startswith("Write of size 1 at addr ffffc900")
    _after(sh)


def test_global_out_of_bounds():
    sh = make_shell(append="kasan")
    r, rep = _report(sh, "insmod tests/check_modules/kasan_global.py")
    assert rep[1].startswith("BUG: KASAN: global-out-of-bounds in global_init+")
    assert rep[2].startswith("Write of size 4 at addr ")
    _after(sh)


def test_page_use_after_free(tmp_path):
    mod = tmp_path / "puaf.py"
    mod.write_text("""
from kmsim.linux.module import *
from kmsim.linux.gfp import *
from kmsim.linux.types import *
def puaf_init():
    p = __get_free_page(GFP_KERNEL)
    free_page(p)
    return u64.array_at(p, 1)[0]
module_init(puaf_init)
MODULE_LICENSE("GPL")
""")
    sh = make_shell(append="kasan")
    r, rep = _report(sh, f"insmod {mod}")
    assert rep[1].startswith("BUG: KASAN: use-after-free in puaf_init+")
    assert rep[2].startswith("Read of size 8 at addr ")
    _after(sh)


def test_every_lab_module_runs_clean_under_kasan():
    sh = make_shell(append="kasan")
    for name in ("exercise1", "exercise2_stack", "exercise3_dlist", "kmalloc_vmalloc", "slab_cache"):
        r = sh.execute(f"insmod modules/{name}.py; rmmod {name}")
        assert r.status == 0, (name, r.err)
    assert "KASAN" not in sh.execute("dmesg").out


@pytest.mark.e2e
def test_kasan_end_to_end():
    p = run_kmsim("--seed", "1", "--append", "kasan", "-c",
                  "insmod tests/check_modules/kasan_oob.py; insmod modules/hello.py; rmmod hello")
    assert "BUG: KASAN: slab-out-of-bounds in oob_init+" in p.stdout + p.stderr
    assert "Traceback" not in p.stderr

from hypothesis import strategies as st  # noqa: E402 -- as the line above: the property tests' own imports

_KASAN_KERNEL = []


def _kasan_kernel():
    if not _KASAN_KERNEL:
        _KASAN_KERNEL.append(Kernel("x86_64", "1G", "kasan", seed=1))
    return _KASAN_KERNEL[0]


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=6))
def test_shadow_matches_requested_sizes(sizes):
    from kmsim.kernel import set_current_kernel
    from kmsim.linux.slab import GFP_KERNEL, kfree, kmalloc, ksize
    k = _kasan_kernel()
    set_current_kernel(k)
    ks = k.kasan
    ptrs = [(kmalloc(n, GFP_KERNEL), n) for n in sizes]
    for p, n in ptrs:
        assert ks._first_bad(p, n) is None                  # every requested byte is valid
        if ksize(p) > n:
            assert ks._first_bad(p, n + 1) == p + n          # the next one is a red zone
    for p, _n in ptrs:
        kfree(p)
        assert ks._first_bad(p, 1) == p                      # freed: poisoned
    assert k.slab.debug_check() == []


def test_printk_percent_s_reads_only_the_string_and_its_nul():
    """%s reads up to the NUL: a 5-byte object holding 'abcd' is not out of bounds."""
    sh = make_shell(append="kasan")
    assert sh.execute("insmod tests/check_modules/kasan_cstring.py").status == 0
    d = sh.execute("dmesg").out
    assert "kstr: abcd" in d and "KASAN" not in d


def test_an_access_inside_an_api_function_is_named_after_it():
    """KASAN's title names the function that made the access (strlen), the module's
    function follows in the call trace."""
    sh = make_shell(append="kasan")
    r, rep = _report(sh, "insmod tests/check_modules/kasan_strlen.py")
    assert rep[1].startswith("BUG: KASAN: use-after-free in strlen+0x")
    trace = rep[rep.index("Call Trace:"):]
    assert any(line.startswith(" sl_init+0x") for line in trace)


MOD = '''from kmsim.linux import *
@module_init
def n_init():
    p = kmalloc(1 << 40, GFP_KERNEL | __GFP_NOWARN)
    if IS_ERR(p):
        return -ENOMEM
    u32.array_at(p + 16, 1)[0] = 5
    return 0
MODULE_LICENSE("GPL")
'''


def test_null_deref_under_kasan_is_a_general_protection_fault(tmp_path):
    f = tmp_path / "kn.py"
    f.write_text(MOD)
    sh = make_shell(append="kasan")
    r = sh.execute(f"insmod {f}")
    assert r.status == 139
    lines = [ln.split("] ", 1)[1] for ln in sh.execute("dmesg").out.splitlines() if "] " in ln]
    i = next(i for i, ln in enumerate(lines) if ln.startswith("general protection fault"))
    assert lines[i] == ("general protection fault, probably for non-canonical address "
                        "0xdffffc0000000002: 0000 [#1] PREEMPT SMP KASAN NOPTI")
    assert lines[i + 1] == "KASAN: null-ptr-deref in range [0x0000000000000010-0x0000000000000017]"
    assert any("tests p with IS_ERR only" in ln for ln in lines)
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


def test_null_deref_without_kasan_is_the_page_fault_oops(tmp_path):
    f = tmp_path / "kn.py"
    f.write_text(MOD)
    sh = make_shell()
    sh.execute(f"insmod {f}")
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000010" in sh.execute("dmesg").out


def _report_lines(sh):
    msgs = messages(sh)
    i = msgs.index(RULER)
    return msgs[i:msgs.index(RULER, i + 1) + 1]


def test_kasan_invalid_free_report(tmp_path):
    """kfree(p + 8) under KASAN: ____kasan_slab_free's 'invalid-free', not SLUB's silence."""
    sh = make_shell(append="kasan")
    r = sh.execute("insmod " + module_file(tmp_path, "ifree", ("    p = kmalloc(64, GFP_KERNEL)\n    "
                                                           "kfree(p + 8)")))
    assert r.status == 0             # reported, not freed, and init went on
    msgs = messages(sh)
    rep = msgs[msgs.index(RULER):]
    assert re.fullmatch(r"BUG: KASAN: invalid-free in ifree_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[ifree\]", rep[1])
    assert re.fullmatch(r"Free of addr ffff8880[0-9a-f]{8} by task insmod/\d+", rep[2])
    i = rep.index("The buggy address is located 8 bytes inside of")
    assert rep[i + 1].startswith(" 64-byte region [")
    assert sh.execute("rmmod -f ifree; insmod modules/slab_cache.py; rmmod slab_cache").status == 0


def test_kasan_right_of_keeps_of(tmp_path):
    sh = make_shell(append="kasan")
    sh.execute("insmod " + module_file(tmp_path, "roob", "    p = kmalloc(16, GFP_KERNEL)\n"
                                   "    u8.array_at(p, 40)[16] = 1"))
    msgs = messages(sh)
    assert any(re.fullmatch(r"The buggy address is located \d+ bytes (inside|to the right) of", m)
               for m in msgs)


def test_kasan_page_use_after_free_is_not_described_as_a_neighbouring_slab_object(tmp_path):
    """A freed page's address minus 8 may lie in the slab page before it: the report must
    describe the page only (print_address_description: PageSlab of addr's own page)."""
    sh = make_shell(append="kasan kasan_multi_shot")
    body = ("    pg = alloc_pages(GFP_KERNEL, 1)\n    p = page_address(pg)\n"
            "    __free_pages(pg, 1)\n    u8.array_at(p, 10)[5] = 1")
    path = tmp_path / "pguaf.py"
    path.write_text("from kmsim.linux import *\n" + INIT_MODULE.format(name="pguaf", body=body))
    for _ in range(3):          # whatever lies before the freed block
        sh.execute("dmesg -C")
        assert sh.execute(f"insmod {path}").status == 0
        msgs = messages(sh)
        assert any(m.startswith("BUG: KASAN: use-after-free in pguaf_init+") for m in msgs)
        assert not any(m.startswith("The buggy address belongs to the object at") for m in msgs)
        assert "The buggy address belongs to the physical page:" in msgs
        assert sh.execute("rmmod -f pguaf").status == 0
        sh.execute("py kmalloc(1000, GFP_KERNEL)")


def test_kasan_global_names_the_variable():
    """print_address_description for a module global: 'belongs to the variable:' and
    %pS of the address; no allocation stack, no vmalloc area, no page."""
    sh = make_shell(append="kasan")
    sh.execute("insmod tests/check_modules/kasan_global.py")
    rep = _report_lines(sh)
    i = rep.index("The buggy address belongs to the variable:")
    assert re.fullmatch(r" table\+0x28/0x60 \[kasan_global\]", rep[i + 1])
    assert not any(m.startswith(("Allocated by", "The buggy address belongs to the virtual",
                                 "The buggy address belongs to the physical")) for m in rep)


def test_kasan_vmalloc_names_the_caller_and_the_page(tmp_path):
    sh = make_shell(append="kasan")
    path = tmp_path / "voob.py"
    path.write_text("from kmsim.linux import *\n" + INIT_MODULE.format(
        name="voob", body="    p = vmalloc(100)\n    u8.array_at(p, 200)[100] = 1"))
    sh.execute(f"insmod {path}")
    rep = _report_lines(sh)
    assert rep[1].startswith("BUG: KASAN: vmalloc-out-of-bounds in voob_init+")
    i = rep.index("The buggy address belongs to the virtual mapping at")
    assert re.fullmatch(r" \[ffffc9[0-9a-f]{10}, ffffc9[0-9a-f]{10}\) created by:", rep[i + 1])
    assert re.fullmatch(r" voob_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[voob\]", rep[i + 2])
    assert rep[i + 4] == "The buggy address belongs to the physical page:"
    assert not any(m.startswith("Allocated by") for m in rep)
    assert sh.execute("rmmod -f voob; insmod modules/kmalloc_vmalloc.py; rmmod kmalloc_vmalloc").status == 0
