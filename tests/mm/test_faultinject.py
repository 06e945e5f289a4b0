"""Fault injection: failslab and fail_page_alloc (lib/fault-inject.c semantics)."""
import random

import pytest
from conftest import make_shell, run_kmsim

from kmsim.kernel import Kernel
from kmsim.mm.faultinject import FaultAttr, setup_fault_attr

GFP_KERNEL = 0xcc0


def attr(**kw):
    a = FaultAttr("failslab", random.Random(1))
    for key, val in kw.items():
        setattr(a, key, val)
    return a


def test_probability_zero_never_fails():
    a = attr(probability=0, times=-1)
    assert not any(a.should_fail(64) for _ in range(100))


def test_times_limits_failures():
    a = attr(probability=100, times=2)
    fails = [a.should_fail(64) for _ in range(5)]
    assert fails == [True, True, False, False, False]


def test_interval_fails_every_nth():
    a = attr(probability=100, times=-1, interval=3)
    assert [a.should_fail(8) for _ in range(6)] == [False, False, True, False, False, True]


def test_space_is_a_byte_budget():
    a = attr(probability=100, times=-1, space=100)
    assert [a.should_fail(40) for _ in range(4)] == [False, False, True, True]
    assert a.space == 20


def test_setup_fault_attr_parses_the_boot_option():
    a = attr()
    assert setup_fault_attr(a, "2,50,4096,-1")
    assert (a.interval, a.probability, a.space, a.times) == (2, 50, 4096, -1)
    assert not setup_fault_attr(a, "bogus")


def test_command_line_and_debugfs():
    sh = make_shell(append="failslab=1,100,0,3")
    r = sh.execute("cat /sys/kernel/debug/failslab/times; cat /sys/kernel/debug/failslab/probability;"
                   " cat /sys/kernel/debug/failslab/ignore-gfp-wait;"
                   " cat /sys/kernel/debug/fail_page_alloc/min-order")
    assert r.out.split() == ["3", "100", "Y", "1"]
    r = sh.execute("echo 7 > /sys/kernel/debug/fail_page_alloc/interval; "
                   "cat /sys/kernel/debug/fail_page_alloc/interval")
    assert r.out == "7\n"
    r = sh.execute("echo maybe > /sys/kernel/debug/failslab/task-filter")
    assert r.status != 0


def test_hooks_are_off_until_enabled():
    k = Kernel("x86_64", "1G", "", seed=1)
    assert k.buddy.fail_hook is None
    fi = k.faultinject
    fi.fail_page_alloc.probability = 100
    fi.update_hooks()
    assert k.buddy.fail_hook is not None


def test_verbose_failslab_logs_like_the_kernel():
    sh = make_shell(append="failslab=1,100,0,-1")
    r = sh.execute("echo N > /sys/kernel/debug/failslab/ignore-gfp-wait; "
                   "insmod tests/check_modules/clean_pages.py")
    assert r.status == 1
    assert "Cannot allocate memory" in r.err
    log = sh.execute("dmesg").out
    lines = [line.split("] ", 1)[1] for line in log.splitlines() if "] " in line]
    i = lines.index("FAULT_INJECTION: forcing a failure.")
    assert lines[i + 1] == "name failslab, interval 1, probability 100, space 0, times -1"
    assert lines[i + 2].startswith("CPU: 0 PID: ")
    r = sh.execute("echo 0 > /sys/kernel/debug/failslab/probability; insmod modules/hello.py; rmmod hello")
    assert r.status == 0


@pytest.mark.e2e
def test_fail_page_alloc_end_to_end():
    p = run_kmsim("--seed", "1", "-c",
                  "echo 100 > /sys/kernel/debug/fail_page_alloc/probability; "
                  "echo 0 > /sys/kernel/debug/fail_page_alloc/min-order; "
                  "echo N > /sys/kernel/debug/fail_page_alloc/ignore-gfp-wait; "
                  "echo -1 > /sys/kernel/debug/fail_page_alloc/times; "
                  "echo 0 > /sys/kernel/debug/fail_page_alloc/verbose; "
                  "insmod tests/check_modules/forget_free.py; "
                  "echo 0 > /sys/kernel/debug/fail_page_alloc/probability; "
                  "insmod modules/hello.py; rmmod hello")
    assert "Traceback" not in p.stderr
    assert "could not insert module tests/check_modules/forget_free.py: Cannot allocate memory" in p.stderr


def test_cache_filter_fails_only_caches_marked_failslab():
    """failslab/cache-filter Y: __should_failslab skips caches without SLAB_FAILSLAB; the
    per-cache sysfs file sets it, and a merged cache refuses the write (-EINVAL)."""
    from conftest import make_shell
    sh = make_shell(append="slab_nomerge")
    k = sh.kernel
    from kmsim.kernel import set_current_kernel
    from kmsim.linux.slab import GFP_ATOMIC, kmem_cache_alloc, kmem_cache_create
    set_current_kernel(k)
    mine = kmem_cache_create("mine", 48, 0, 0, None)
    other = kmem_cache_create("other", 48, 0, 0, None)
    for f, v in (("probability", "100"), ("times", "-1"), ("cache-filter", "Y")):
        assert sh.execute(f"echo {v} > /sys/kernel/debug/failslab/{f}").status == 0
    assert sh.execute("cat /sys/kernel/slab/mine/failslab").out == "0\n"
    assert kmem_cache_alloc(mine, GFP_ATOMIC) != 0          # not marked: not failed
    assert sh.execute("echo 1 > /sys/kernel/slab/mine/failslab").status == 0
    assert sh.execute("cat /sys/kernel/slab/mine/failslab").out == "1\n"
    assert kmem_cache_alloc(mine, GFP_ATOMIC) == 0
    assert kmem_cache_alloc(other, GFP_ATOMIC) != 0
    sh2 = make_shell()
    set_current_kernel(sh2.kernel)
    kmem_cache_create("merged_one", 48, 0, 0, None)         # aliases kmalloc-64 or another
    r = sh2.execute("echo 1 > /sys/kernel/slab/merged_one/failslab")
    assert r.status == 1 and "Invalid argument" in r.err


def _write(sh, path, value):
    return sh.execute(f"echo '{value}' > /sys/kernel/debug/{path}")


def test_fault_attr_files_parse_as_kstrto():
    sh = make_shell()
    # kstrtoull base 0: octal and hex, '+' allowed; nothing Python-only
    for text, want in (("010", "8"), ("0x10", "16"), ("+5", "5"), ("0", "0")):
        assert _write(sh, "failslab/interval", text).status == 0
        assert sh.execute("cat /sys/kernel/debug/failslab/interval").out == want + "\n"
    for bad in ("1_0", "0b1", "abc", "", "-1", " 08"):
        r = _write(sh, "failslab/probability", bad)
        assert r.status == 1 and "Invalid argument" in r.err, bad
    r = _write(sh, "failslab/probability", "99999999999999999999999")
    assert r.status == 1 and "Numerical result out of range" in r.err
    # atomic_t files are signed and truncated to int
    assert _write(sh, "fail_page_alloc/times", "-1").status == 0
    assert _write(sh, "fail_page_alloc/space", "4294967295").status == 0
    assert sh.execute("cat /sys/kernel/debug/fail_page_alloc/space").out == "-1\n"
    # kstrtobool: on/off too
    assert _write(sh, "failslab/task-filter", "on").status == 0
    assert sh.execute("cat /sys/kernel/debug/failslab/task-filter").out == "Y\n"
    assert _write(sh, "failslab/task-filter", "off").status == 0
    assert sh.execute("cat /sys/kernel/debug/failslab/task-filter").out == "N\n"
    assert _write(sh, "failslab/task-filter", "maybe").status == 1
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0
