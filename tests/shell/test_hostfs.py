"""The host boundary (shell/hostfs.py): host files outside the virtual trees, never the
host's /proc or /sys, module files by extension only, no host text in dmesg (issue 15)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


def test_redirection_and_cat_work_on_host_files(shell, tmp_path):
    f = tmp_path / "f.txt"
    assert shell.execute(f"echo one > {f}").status == 0
    assert shell.execute(f"echo two >> {f}").status == 0
    assert f.read_text() == "one\ntwo\n"
    assert shell.execute(f"cat {f}").out == "one\ntwo\n"
    r = shell.execute(f"cat {tmp_path}/nothere")
    assert r.err == f"cat: {tmp_path}/nothere: No such file or directory\n" and r.status == 1


@pytest.mark.parametrize("spelling", ["//proc/version", "/proc/./version", "REL", "LINK"])
def test_every_spelling_of_a_virtual_path_is_the_machines(shell, tmp_path, monkeypatch, spelling):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link").symlink_to("/proc/version")
    path = {"REL": "../" * len(tmp_path.parts) + "proc/version", "LINK": "link"}.get(spelling, spelling)
    expected = shell.execute("cat /proc/version").out
    assert expected.startswith("Linux version 6.1.0-kmsim")
    assert shell.execute(f"cat {path}").out == expected
    r = shell.execute(f"echo x > {path}")
    assert r.err == f"kmsim: {path}: Permission denied\n"
    r = shell.execute(f"memmap --svg {path}")
    assert r.err == f"memmap: {path}: Permission denied\n" and r.status == 1


@pytest.mark.parametrize("cmd", ["memmap --svg {}", "echo x > {}", "echo x >> {}", "cat {}"])
def test_virtual_trees_never_reach_the_host(shell, cmd):
    for path in ("/proc/version", "/proc/self/status", "/sys/kernel/debug/nothere", "/sys/power/state"):
        r = shell.execute(cmd.format(path))
        host = Path("/proc/version").read_text() if path == "/proc/version" else "\0"
        assert host not in r.out
        assert "Input/output error" not in r.err and "internal error" not in r.err


def test_ls_lists_only_the_virtual_trees(shell):
    assert "meminfo" in shell.execute("ls /proc").out.split()
    assert "self" not in shell.execute("ls /proc").out.split()
    assert shell.execute("ls /etc").status == 2


@pytest.mark.parametrize("name", ["bad\ud800.svg", "nul\x00.svg", "x" * 300 + ".svg"])
def test_memmap_svg_with_a_name_the_host_refuses(shell, tmp_path, name):
    r = shell.execute(f"memmap --svg '{tmp_path}/{name}'")
    reason = {"b": "Invalid or incomplete multibyte or wide character", "n": "Invalid argument",
              "x": "File name too long"}[name[0]]
    assert r.err == f"memmap: {tmp_path}/{name}: {reason}\n" and r.status == 1
    assert shell.execute(f"memmap --svg {tmp_path}/ok.svg").out == f"memmap: saved {tmp_path}/ok.svg\n"
    assert (tmp_path / "ok.svg").read_text().startswith("<svg")


@pytest.mark.parametrize("name", ["bad\ud800.txt", "nul\x00"])
def test_redirection_to_a_name_the_host_refuses(shell, tmp_path, name):
    r = shell.execute(f"echo x > '{tmp_path}/{name}'")
    assert r.status == 1 and r.err.startswith(f"kmsim: {tmp_path}/") and "internal error" not in r.err


@pytest.mark.parametrize("cmd", ["insmod", "modprobe"])
def test_only_module_files_are_executed(shell, tmp_path, monkeypatch, cmd):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "modules").mkdir()
    secret = "root:SECRET-HASH:19000:0:99999:7:::"
    body = f"raise ValueError('{secret}')\nopen('ran', 'w')\n"
    for name in ("mod.txt", "mod", "mod.sh"):
        p = tmp_path / "modules" / name
        p.write_text(body)
        r = shell.execute(f"insmod {p}")
        assert r.err == f"insmod: ERROR: could not insert module {p}: Invalid module format\n"
    assert shell.execute("modprobe mod.txt").status == 1
    assert not (tmp_path / "ran").exists()
    d = shell.execute("dmesg").out
    assert "SECRET" not in d
    assert "kmsim: mod: 'mod.txt' is not a module file: insmod loads .py (and .c) files" in d


def test_a_c_file_is_not_refused_for_its_extension(shell, tmp_path):
    p = tmp_path / "hello.c"
    p.write_text("int init_module(void) { return 0; }\n")
    shell.execute(f"insmod {p}")
    assert "is not a module file" not in shell.execute("dmesg").out


def test_error_messages_never_quote_a_host_file(shell, tmp_path):
    p = tmp_path / "secret.py"
    p.write_bytes(b"x = 1\nroot:SECRET-HASH:19000 \xff\n")
    shell.execute(f"insmod {p}; modinfo {p}")
    assert "SECRET" not in shell.execute("dmesg").out


def test_help_states_the_boundary(shell):
    text = shell.execute("help").out
    assert "host" in text and "/proc" in text and "trusted" in text
    assert "host file" in shell.execute("help cat").out


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_host_permissions_are_the_users(shell):
    r = shell.execute("cat /etc/shadow")
    assert r.err == "cat: /etc/shadow: Permission denied\n"


@pytest.mark.parametrize("cmd", ["insmod {}", "modinfo {}"])
def test_module_commands_never_read_the_hosts_virtual_trees(shell, tmp_path, monkeypatch, cmd):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text("raise ValueError('RAN-MARKER')\n")
    (tmp_path / "link.py").symlink_to("/proc/self/cwd/m.py")     # the host's /proc
    r = shell.execute(cmd.format("link.py"))
    assert r.status == 1 and "RAN-MARKER" not in shell.execute("dmesg").out
    assert "No such file or directory" in r.err or "not found" in r.err
    r = shell.execute(cmd.format("/proc/meminfo"))
    assert r.status == 1 and "MemTotal" not in r.err + shell.execute("dmesg").out
