"""The soft-lockup watchdog, stack overflow and host out-of-memory: the shell survives."""
import re
import time

import pytest
from conftest import make_shell, run_kmsim


def _messages(sh):
    return [line.split("] ", 1)[1] for line in sh.execute("dmesg").out.splitlines() if "] " in line]


def test_soft_lockup_report_and_recovery():
    sh = make_shell(append="watchdog_thresh=1")
    r = sh.execute("insmod tests/check_modules/spin.py")      # stopped: no timed assertion
    assert r.status == 137
    msgs = _messages(sh)
    i = next(n for n, m in enumerate(msgs) if m.startswith("watchdog: BUG: soft lockup"))
    assert re.fullmatch(r"watchdog: BUG: soft lockup - CPU#0 stuck for 4s! \[insmod:\d+\]", msgs[i])
    assert msgs[i + 1] == "Modules linked in: spin(OE+)"
    assert msgs[i + 2].startswith("CPU: 0 PID: ")
    assert re.fullmatch(r"RIP: 0010:spin_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[spin\]", msgs[i + 4])
    # show_regs: Code: (a jump to itself), RSP/EFLAGS (IF set), RAX..R15, FS/GS, CS/CR0, CR2..CR4
    assert msgs[i + 5].startswith("Code: ") and " <eb> fe " in msgs[i + 5]
    assert re.fullmatch(r"RSP: 0018:[0-9a-f]{16} EFLAGS: 00000246", msgs[i + 6])
    assert msgs[i + 12].startswith("FS: ") and msgs[i + 14].startswith("CR2: ")
    assert msgs[i + 15:i + 18] == ["Call Trace:", " <TASK>", " do_one_initcall+0x59/0x220"]
    assert int(sh.execute("cat /proc/sys/kernel/tainted").out) & (1 << 14)
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


def test_watchdog_does_not_fire_for_normal_code():
    sh = make_shell(append="watchdog_thresh=1")
    for _ in range(3):
        assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0
    time.sleep(0.5)
    assert sh.kernel.watchdog.depth == 0
    assert "soft lockup" not in sh.execute("dmesg").out


def test_default_threshold_reports_22s():
    wd = make_shell().kernel.watchdog
    assert wd.thresh == 10 and wd.timeout_seconds() == 22


def test_stack_overflow_report_is_short():
    sh = make_shell()
    r = sh.execute("insmod tests/check_modules/recurse.py")
    assert r.status == 139
    msgs = _messages(sh)
    assert any(m.startswith("BUG: TASK stack guard page was hit at ") for m in msgs)
    assert sum(1 for m in msgs if m.strip().startswith("walk+")) <= 16
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


def test_host_out_of_memory():
    sh = make_shell()
    r = sh.execute("insmod tests/check_modules/hog.py")
    assert r.status == 139
    assert "kmsim: host out of memory while running hog: the module function was stopped" in _messages(sh)
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


@pytest.mark.e2e
def test_lockup_end_to_end():
    p = run_kmsim("--seed", "1", "--append", "watchdog_thresh=1", "-c",
                  "insmod tests/check_modules/spin.py; insmod modules/hello.py; rmmod hello; "
                  "cat /proc/sys/kernel/tainted")
    assert "watchdog: BUG: soft lockup - CPU#0 stuck for 4s! [insmod:" in p.stdout + p.stderr
    assert p.stdout.strip().splitlines()[-1] == str((1 << 12) | (1 << 13) | (1 << 14))


def test_soft_lockup_on_arm_is_its_show_regs():
    """watchdog_timer_fn calls show_regs: on ARM __show_regs (PC is at, LR is at, pc : ...)
    then the backtrace from the stuck function; no Stack: dump, which only __die prints."""
    sh = make_shell(machine="rpi2", append="watchdog_thresh=1")
    assert sh.execute("insmod tests/check_modules/spin.py").status == 137
    msgs = _messages(sh)
    i = next(n for n, m in enumerate(msgs) if m.startswith("watchdog: BUG: soft lockup"))
    assert msgs[i + 1:i + 2] == ["Modules linked in: spin(OE+)"]
    assert re.fullmatch(r"PC is at spin_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[spin\]", msgs[i + 4])
    assert msgs[i + 5] == "LR is at do_one_initcall+0x59/0x220"
    assert re.fullmatch(r"pc : \[<7f[0-9a-f]{6}>\]    lr : \[<8[0-9a-f]{7}>\]    psr: 60000013", msgs[i + 6])
    j = msgs.index("Backtrace: ", i)
    assert msgs[j + 1] == " spin_init [spin] from do_one_initcall+0x59/0x220"
    assert not any(m.startswith(("Stack: ", "Call Trace:", "RIP:")) for m in msgs[i:])


def _watchdog_threads():
    import threading
    return [t for t in threading.enumerate() if t.name == "kmsim-watchdog"]


def test_one_watchdog_thread_watches_every_call_and_a_forked_child_gets_its_own():
    """The calls into module code share one parked thread (none started per call); it ends
    before a fork (no multi-threaded fork for Python 3.12+ to warn about), and the forked
    child starts its own and still sees a lockup."""
    import os
    import warnings
    sh = make_shell(append="watchdog_thresh=1")
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0
    threads = _watchdog_threads()
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0
    assert _watchdog_threads() == threads and len(threads) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pid = os.fork()
    if pid == 0:
        status = 1
        try:
            ok = sh.execute("insmod tests/check_modules/spin.py").status == 137
            status = 0 if ok and len(_watchdog_threads()) == 1 else 2
        finally:
            os._exit(status)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert not threads[0].is_alive() and not [w for w in caught if "multi-threaded" in str(w.message)]
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0
