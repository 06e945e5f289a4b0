"""Taint letters: /proc/sys/kernel/tainted, the Tainted: field, set by each report."""
from conftest import make_shell

from kmsim.report import print_tainted, taint_letters


def _tainted(sh):
    return int(sh.execute("cat /proc/sys/kernel/tainted").out)


def test_print_tainted_positions():
    assert print_tainted(0) == "Not tainted"
    assert print_tainted((1 << 12) | (1 << 13) | (1 << 5)) == "Tainted: G    B      OE     "
    assert taint_letters((1 << 0) | (1 << 7) | (1 << 14)) == "PDL"


def test_oops_sets_d_and_forced_rmmod_sets_r():
    sh = make_shell(append="failslab=1,100,0,1")
    sh.execute("echo N > /sys/kernel/debug/failslab/ignore-gfp-wait")
    assert sh.execute("insmod tests/check_modules/is_err_only.py").status == 137   # a NULL page fault
    assert _tainted(sh) & (1 << 7)
    sh.execute("insmod tests/check_modules/recurse.py")
    assert "Comm: insmod Tainted: G      D    OE      6.1.0" in sh.execute("dmesg").out
    assert sh.execute("rmmod -f is_err_only").status == 0
    assert _tainted(sh) & (1 << 3)
    r = sh.execute("insmod modules/hello.py; rmmod hello")
    assert r.status == 0


def test_kasan_sets_b_and_next_report_shows_it():
    sh = make_shell(append="kasan kasan_multi_shot")
    sh.execute("insmod tests/check_modules/kasan_oob.py")
    assert _tainted(sh) == (1 << 5) | (1 << 12) | (1 << 13)
    sh.execute("insmod tests/check_modules/kasan_uaf.py")
    assert "Tainted: G    B      OE      " in sh.execute("dmesg").out


def test_proprietary_license_sets_p(tmp_path):
    mod = tmp_path / "prop.py"
    mod.write_text("from kmsim.linux.module import *\nMODULE_LICENSE('Proprietary')\n")
    sh = make_shell()
    assert sh.execute(f"insmod {mod}").status == 0
    assert _tainted(sh) & 1
    assert "prop: module license 'Proprietary' taints kernel." in sh.execute("dmesg").out


def test_rmmod_f_taints_r_only_when_it_forces(tmp_path):
    """try_force_unload taints R only when the unload is really forced (refcount, no exit)."""
    sh = make_shell()
    sh.execute("insmod modules/hello.py; rmmod -f hello")
    assert _tainted(sh) == (1 << 12) | (1 << 13)
    mod = tmp_path / "noexit.py"
    mod.write_text("from kmsim.linux.module import *\nmodule_init(lambda: 0)\nMODULE_LICENSE('GPL')\n")
    assert sh.execute(f"insmod {mod}; rmmod -f noexit").status == 0
    assert _tainted(sh) == (1 << 3) | (1 << 12) | (1 << 13)


def test_licence_taint_comes_before_the_signature_notice():
    """check_modinfo (out-of-tree, licence) runs before the module-verification notice."""
    sh = make_shell()
    sh.execute("insmod tests/bad_modules/proprietary.py")
    msgs = [line.split("] ", 1)[1] for line in sh.execute("dmesg").out.splitlines() if "] " in line]
    i = next(n for n, m in enumerate(msgs) if "loading out-of-tree module taints kernel" in m)
    assert "module license 'Proprietary' taints kernel." in msgs[i + 1]
    assert msgs[i + 2] == "Disabling lock debugging due to kernel taint"
    assert "module verification failed" in msgs[i + 3]
