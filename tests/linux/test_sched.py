"""kmsim/sched.py and kmsim.linux.sched: scheduling points, sleeps and delays, and how the
soft-lockup watchdog sees them (PREEMPT_VOLUNTARY, as Debian's 6.1)."""
import re

import pytest
from conftest import make_shell


def _messages(sh):
    return [line.split("] ", 1)[1] for line in sh.execute("dmesg").out.splitlines() if "] " in line]


def _stamps(sh):
    return [(float(m.group(1)), m.group(2)) for line in sh.execute("dmesg").out.splitlines()
            if (m := re.match(r"\[\s*(\d+\.\d+)\] (.*)", line))]


def _module(tmp_path, name, body):
    f = tmp_path / f"{name}.py"
    tail = '\n    return 0\n\n\nmodule_init(m_init)\nmodule_exit(lambda: None)\nMODULE_LICENSE("GPL")\n'
    f.write_text("from kmsim.linux import *\n\n\ndef m_init():\n" + body + tail)
    return f


def test_the_header_is_exported_by_the_star_import():
    import kmsim.linux as L
    for name in ("cond_resched", "schedule", "msleep", "ssleep", "usleep_range", "udelay", "mdelay",
                 "jiffies", "HZ"):
        assert name in L.__all__, name
    assert L.HZ == 250


def test_a_loop_that_schedules_is_never_a_soft_lockup(tmp_path):
    sh = make_shell(append="watchdog_thresh=1")
    f = _module(tmp_path, "polite", "    for i in range(400_000):\n        cond_resched()")
    assert sh.execute(f"insmod {f}").status == 0
    assert not any("soft lockup" in m for m in _messages(sh))


def test_blocking_allocations_are_scheduling_points(tmp_path):
    sh = make_shell(append="watchdog_thresh=1")
    body = ("    for i in range(60_000):\n        kfree(kmalloc(64, GFP_KERNEL))\n"
            "        free_pages(__get_free_pages(GFP_KERNEL, 0), 0)")
    assert sh.execute(f"insmod {_module(tmp_path, 'blocking', body)}").status == 0
    assert not any("soft lockup" in m for m in _messages(sh))


def test_atomic_allocations_and_busy_waits_are_not(tmp_path):
    sh = make_shell(append="watchdog_thresh=1")
    body = "    while True:\n        kfree(kmalloc(64, GFP_ATOMIC))\n        udelay(1)"
    r = sh.execute(f"insmod {_module(tmp_path, 'atomic', body)}")
    assert r.status == 137
    assert any(re.fullmatch(r"watchdog: BUG: soft lockup - CPU#0 stuck for 4s! \[insmod:\d+\]", m)
               for m in _messages(sh))


def test_a_call_that_schedules_for_ever_is_stopped_at_kmsims_limit(tmp_path):
    sh = make_shell(append="watchdog_thresh=1 kmsim.call_limit=1")
    f = _module(tmp_path, "forever", "    while True:\n        kfree(kmalloc(64, GFP_KERNEL))")
    r = sh.execute(f"insmod {f}")
    assert r.status == 137
    msgs = _messages(sh)
    assert not any("BUG: soft lockup" in m for m in msgs)
    assert any(re.fullmatch(r"kmsim: insmod\[\d+\] ran module code for 1 s of CPU time without returning; "
                            r"it schedules, so it is no soft lockup, but kmsim stopped it "
                            r"\(kmsim.call_limit=1; 0 for no limit\)", m) for m in msgs)
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


@pytest.mark.parametrize("seed", [None, 4])
def test_the_lockup_report_comes_after_the_seconds_it_says(seed):
    sh = make_shell(append="watchdog_thresh=1", seed=seed)
    assert sh.execute("insmod tests/check_modules/spin.py").status == 137
    (stamp, line), = [(t, m) for t, m in _stamps(sh) if m.startswith("watchdog: BUG: soft lockup")]
    secs = int(re.search(r"stuck for (\d+)s", line).group(1))
    assert secs >= 4 and stamp >= secs


def test_sleeps_move_jiffies_on_in_whole_jiffies(tmp_path):
    body = ("    global a, b, c, d\n    a = int(jiffies)\n    msleep(10)\n    b = int(jiffies)\n"
            "    ssleep(2)\n    c = int(jiffies)\n    usleep_range(4000, 8000)\n    d = jiffies - c\n"
            "    pr_info('jiffies %lu\\n', jiffies)")
    sh = make_shell()
    assert sh.execute(f"insmod {_module(tmp_path, 'sleepy', body)}").status == 0
    ns = sh.kernel.modules.modules["sleepy"].namespace
    assert ns["b"] - ns["a"] == 4                 # msecs_to_jiffies(10) + 1, 4 ms each at HZ=250
    assert ns["c"] - ns["b"] == 501               # 2000 ms: 500 jiffies + 1
    assert ns["d"] == 1
    assert any(re.fullmatch(r"jiffies \d+", m) for m in _messages(sh))


def test_bad_arguments_are_a_clear_error(tmp_path):
    sh = make_shell()
    f = _module(tmp_path, "badsleep", '    msleep("10")')
    r = sh.execute(f"insmod {f}")
    assert r.status != 0
    assert any("msleep() takes a number of milliseconds (int), not str" in m for m in _messages(sh))
