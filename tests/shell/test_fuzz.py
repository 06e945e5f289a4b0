"""Fuzzing the shell: the parser, every registered command, py and echo > FILE.

Whatever a user types, the shell answers with a message or runs it: never a Python
traceback, never an "internal error", and the status is one a shell gives.  The
machine's invariants hold afterwards.

Inputs tried per run (the figure in the README): len(NASTY_LINES) hand-picked lines,
plus the hypothesis examples below (max_examples each), plus one line per command and
argument pattern in test_every_command_with_nasty_words.
"""
from __future__ import annotations

import pytest
from conftest import make_shell
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmsim.mm.debug_vm import check_kernel
from kmsim.shell.core import COMMANDS  # importing kmsim.shell registers every command

OK_STATUS = {0, 1, 2, 127, 130, 137, 139}
FORBIDDEN = ("Traceback", "internal error")

NASTY_LINES = [
    "", " ", ";", ";;", "; ;", "|", "| |", "||", "ls |", "| grep x", "lsmod | | wc -l",
    "'", '"', "'abc", 'echo "abc', "echo 'a\"b", 'echo "a\\"', "echo \\", "echo a\\",
    ">", "echo >", "echo > ", "echo >>", "echo > \\", "echo >> ''", "echo > '", "> x",
    "cat >", "lsmod > /proc/", "echo 1 > /proc/sys/kernel/printk", "echo 99 > /proc/sys/kernel/printk",
    "echo abc > /proc/sys/kernel/printk", "echo > /proc/nope", ("echo x > "
                                                                "/sys/kernel/debug/failslab/probability"),
    "echo -5 > /sys/kernel/debug/fail_page_alloc/probability",
    "echo 100000000000000000000 > /sys/kernel/debug/failslab/times",
    "\x00", "ls\x00", "cat /proc/\x00", "insmod \x00", "\x01\x02\x03", "\x1b[31m", "\udcff",
    "insmod", "insmod ''", "insmod /", "insmod /dev/null", "insmod /proc/meminfo", "insmod " + "a" * 5000,
    "rmmod", "rmmod ''", "rmmod -f", "rmmod -x y", "rmmod " + "../" * 50,
    "modprobe", "modprobe -r", "modprobe -r nothere", "modprobe ../../etc/passwd",
    "modinfo", "modinfo ''", "modinfo /", "modinfo /etc/passwd",
    "dmesg -l", "dmesg -l nope", "dmesg -n", "dmesg -n 99", "dmesg -n -1", "dmesg -Z", "dmesg --level=",
    "dmesg -w", "dmesg | head -n", "dmesg | head -n abc", "dmesg | head -99999999999999999999",
    "dmesg | tail -n -5", "lsmod | grep", "lsmod | grep '['", "lsmod | grep -q x", "lsmod | wc -c",
    "lsmod | sort -k", "lsmod | frobnicate",
    "cat", "cat /proc", "cat /proc/", "cat /sys/", "cat /proc/../../etc/passwd", "cat /proc/slabinfo/x",
    "cat /sys/module//parameters/", "cat /sys/kernel/slab/nope/order", "ls /nope", "ls /proc/" + "x" * 300,
    "x", "x 0", "x -1", "x 0xffff888000000000 -5", "x 0xffff888000000000 0", "x zzz",
    "x 0xffff888000000000 99999999999999", "x 99999999999999999999999999999999999",
    "x 0xffffffffffffffff 64", "x 0xffffc90000000000 16",
    "pagewalk", "pagewalk 0", "pagewalk -1", "pagewalk 0xffffffffffffffffff", "pagewalk garbage",
    "memmap nope", "memmap --svg", "memmap DMA32 extra args", "slabinfo '['", "slabtop -s", "slabtop -s nope",
    "slabtop -o -s nope", "free -z", "buddyinfo extra", "kmemleak nope", "kmemleak scan extra",
    "help nope", "help ''", "set -o", "set follow", "set nonsense", "exit abc", "exit 99999999999999999999",
    "uname -z", "py", "py 1/0", "py (", "py ]", "py k.buddy.free(-1, 0)", "py kfree(12345)",
    "py __import__('sys').exit(1)", "py raise SystemExit", "py raise KeyboardInterrupt",
    "py while False: pass", "py print(1" + ")" * 3, "py 'a' * 10", "py None", ("py k.printk.emit(4, "
                                                                               "'x' * 5000)"),
    "py printk('%*d\\n', 1 << 40, 5)", "py pr_info('%s %p %px %pS\\n', object(), [], {}, 1.5)",
    "py pr_info('%.*s|\\n', -5, 'abc')", "py pr_cont('x' * 3000)", "py vfree(1)", ("py kmalloc(-1, "
                                                                                   "GFP_KERNEL)"),
    "py alloc_pages(GFP_KERNEL, -1)", "py alloc_pages(GFP_KERNEL, 11)", "py __free_pages(None, 0)",
    "py free_pages(0xffff888000000000, 0)",
    "#", "# comment", "ls # comment", "echo '#' x", "echo a;;;;;b", "echo $HOME", "echo `ls`",
    "echo $(reboot)", "echo *", "a" * 10000, "echo " + "x " * 5000, ";" * 1000, "|" * 1000, "'" * 1001,
    "9" * 400, "-1", "--help", "-c", "insmod -e", "reboot extra", "true; false; true",
]


def _assert_clean(result) -> None:
    text = result.out + result.err + result.console
    for bad in FORBIDDEN:
        assert bad not in text, f"{bad!r} in output:\n{text[-600:]}"
    assert result.status in OK_STATUS or 0 <= result.status <= 255


@pytest.fixture(scope="module")
def fuzz_shell(tmp_path_factory):
    """One shell for the fuzzers (rebooted by them when needed), in a scratch directory."""
    return make_shell(mem="256M")


@pytest.fixture(autouse=True)
def _scratch_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)      # 'echo > FILE' and 'memmap --svg FILE' write here


@pytest.mark.parametrize("line", NASTY_LINES, ids=[f"{i}:{s[:20]!r}" for i, s in enumerate(NASTY_LINES)])
def test_nasty_line(fuzz_shell, line):
    """Each hand-picked nasty line gets a message or runs."""
    r = fuzz_shell.execute(line)
    _assert_clean(r)
    assert check_kernel(fuzz_shell.kernel) == []


SHELL_ALPHABET = st.sampled_from(list("ab01 -_/.;|>'\"\\#*$`\t\n%") + ["\x00", "é", "\u2028"])
WORDS = st.sampled_from(sorted(set(COMMANDS)) + ["grep", "head", "tail", "wc", "-l", "-n", "/proc",
                                                   "/proc/meminfo", "0x10", "-1", "'", '"', ">", "|", ";"])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=SHELL_ALPHABET, max_size=60))
def test_parser_random_text(fuzz_shell, line):
    """Random text made of the shell's special characters."""
    _assert_clean(fuzz_shell.execute(line))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(WORDS, min_size=1, max_size=8).map(" ".join))
def test_random_word_lines(fuzz_shell, line):
    """Random lines made of command names, filters and operators."""
    if line.split()[0] in ("reboot",):
        line = "true"
    _assert_clean(fuzz_shell.execute(line))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=40))
def test_py_random_text(fuzz_shell, src):
    """py with arbitrary text: a Python error message, never a traceback."""
    if "exit" in src or "import" in src:
        return
    _assert_clean(fuzz_shell.execute("py " + src))


NASTY_WORDS = ["", "-", "--", "-1", "0", "0x", "0xffffffffffffffff", "99999999999999999999", "nan",
               "/", "/proc", "/proc/meminfo", "/sys/kernel/slab", "DMA", "Normal", "HighMem", "-o",
               "-s", "-n", "-h", "--svg", "scan", "clear", "\x00", "é", "'", "a=b", "=", "x" * 200]


def _command_names() -> list[str]:
    return sorted(n for n in COMMANDS if n not in ("exit", "quit", "reboot"))


@pytest.mark.parametrize("name", _command_names())
def test_every_command_with_nasty_words(fuzz_shell, name):
    """Every registered command with each nasty word, and with pairs of them."""
    sh = fuzz_shell
    for i, w in enumerate(NASTY_WORDS):
        other = NASTY_WORDS[(i * 7 + 3) % len(NASTY_WORDS)]
        for args in ([w], [w, other]):
            if name == "x" and any(a.startswith("9999") for a in args):
                args = args[:1]
            from kmsim.shell.core import Context, Result
            res = Result()
            ctx = Context(sh, res)
            status = sh.dispatch(ctx, [name, *args])
            res.out = ctx.text()
            res.status = status
            _assert_clean(res)
    assert check_kernel(sh.kernel) == []


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(_command_names()), st.lists(st.text(max_size=12), max_size=3))
def test_commands_random_words(fuzz_shell, name, args):
    """Every command with random argument words (through dispatch, no parsing)."""
    from kmsim.shell.core import Context, Result
    res = Result()
    ctx = Context(fuzz_shell, res)
    res.status = fuzz_shell.dispatch(ctx, [name, *args])
    res.out = ctx.text()
    _assert_clean(res)


def bad_inputs_per_run() -> int:
    """How many bad inputs one run of this file tries (for the README)."""
    per_command = len(NASTY_WORDS) * 2
    return len(NASTY_LINES) + 300 + 300 + 150 + 300 + per_command * len(_command_names())


def test_reboot_and_exit_are_clean():
    """reboot and exit with odd arguments (left out of the loops: they end or reset the session)."""
    sh = make_shell(mem="64M")
    for line in ("reboot", "reboot x", "exit abc", "exit 3", "quit"):
        _assert_clean(sh.execute(line))
    assert sh.execute("exit 3").status == 3
