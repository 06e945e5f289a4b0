"""The shell's small commands (uname, ls, echo > FILE) and their messages as the real tools print them."""
from __future__ import annotations

from conftest import make_shell


def _run(sh, line):
    return sh.execute(line)


def test_uname_rejects_unknown_options():
    r = make_shell().execute("uname -z")
    assert r.status == 2


def test_ls_of_an_empty_and_a_missing_directory():
    sh = make_shell()
    r = _run(sh, "ls /sys/module")
    assert r.status == 0 and r.out == "" and r.err == ""
    r = _run(sh, "ls /sys/module/nosuch")
    assert r.status == 2 and "No such file or directory" in r.err
    r = _run(sh, "ls /sys/kernel/slab/kmalloc-64/nosuch")
    assert r.status == 2 and "No such file or directory" in r.err


def test_echo_errors_read_like_bash():
    sh = make_shell()
    r = _run(sh, "echo foo > /proc/sys/kernel/printk")
    assert r.status == 1 and r.err == "kmsim: echo: write error: Invalid argument\n"
    r = _run(sh, "echo 1 > /proc/meminfo")
    assert r.status == 1 and r.err == "kmsim: /proc/meminfo: Permission denied\n"
    r = _run(sh, "echo 1 > /proc")
    assert r.status == 1 and r.err == "kmsim: /proc: Is a directory\n"
    r = _run(sh, "echo 7 > /proc/sys/kernel/printk; cat /proc/sys/kernel/printk")
    assert r.status == 0 and r.out == "7\t4\t1\t7\n"


def test_writing_a_provider_directory_and_an_empty_level_list():
    sh = make_shell()
    r = _run(sh, "echo 1 > /sys/kernel/slab/kmalloc-64")
    assert r.status == 1 and r.err == "kmsim: /sys/kernel/slab/kmalloc-64: Is a directory\n"
    r = _run(sh, "dmesg --level=")          # util-linux: no level selected, nothing printed
    assert r.status == 0 and r.out == "" and r.err == ""
