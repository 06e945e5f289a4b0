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
    assert sh.execute("insmod tests/check_modules/is_err_only.py").status == 139
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
