"""The x command: xxd-style dumps of simulated memory.

kmsim.shell.cmd_mem is imported inside the tests, after a Shell exists: importing a
command module first would leave the shell's command table holding only its commands.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_kmsim


def _page(shell):
    from kmsim.linux.gfp import GFP_KERNEL, __get_free_page
    p = __get_free_page(GFP_KERNEL)
    shell.kernel.vm.write(p, b"Hello, kmsim world! 0123456789")
    shell.kernel.vm.fill(p + 40, 20, 0x6b)
    return p


def test_x_prints_rows_as_xxd(shell):
    p = _page(shell)
    r = shell.execute(f"x {p:#x} 70")
    assert r.status == 0
    lines = r.out.splitlines()
    assert lines[0] == f"{p:x}: 4865 6c6c 6f2c 206b 6d73 696d 2077 6f72  Hello, kmsim wor"
    assert lines[2] == f"{p + 32:x}: 0000 0000 0000 0000 6b6b 6b6b 6b6b 6b6b  ........kkkkkkkk"
    assert lines[4] == f"{p + 64:x}: 0000 0000 0000" + " " * 27 + "......"
    assert len(lines) == 5


def test_x_accepts_plain_hex_and_defaults_to_64_bytes(shell):
    p = _page(shell)
    r = shell.execute(f"x {p:x}")
    assert len(r.out.splitlines()) == 4


def test_x_on_unmapped_memory_says_so(shell):
    r = shell.execute("x 0 16")
    assert r.status == 1 and r.out == ""
    assert r.err == "x: cannot access memory at address 0x0: not mapped\n"


def test_x_stops_at_the_first_unmapped_page(shell):
    k = shell.kernel
    end = k.vm.direct_end
    r = shell.execute(f"x {end - 16:#x} 64")
    assert r.status == 1
    assert len(r.out.splitlines()) == 1
    assert f"address {end:#x}" in r.err


def test_x_bad_arguments(shell):
    assert shell.execute("x").status == 2
    r = shell.execute("x zz")
    assert r.status == 2 and "invalid address 'zz'" in r.err
    assert shell.execute("x 0xffff888000000000 0").status == 2


def test_dump_rows_are_data(shell):
    from kmsim.shell.cmd_mem import dump_rows, format_row
    p = _page(shell)
    rows, fault = dump_rows(shell.kernel, p + 40, 20)
    assert fault is None
    assert rows == [(p + 40, b"k" * 16), (p + 56, b"k" * 4)]
    assert format_row(0, b"kk") == "00000000: 6b6b" + " " * 35 + "  kk"


@pytest.mark.e2e
def test_x_end_to_end_sees_poisoned_memory():
    script = "py p = get_zeroed_page(GFP_KERNEL)\npy memset(p + 4, 0x6b, 8)\npy print(hex(p))\n"
    r = run_kmsim("--seed", "1", input=script)
    addr = r.stdout.strip().splitlines()[-1]
    r = run_kmsim("--seed", "1", input=script + f"x {addr} 16\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == \
        f"{addr[2:]}: 0000 0000 6b6b 6b6b 6b6b 6b6b 0000 0000  ....kkkkkkkk...."


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("xxd") is None, reason="xxd not installed")
@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=1, max_size=70))
def test_rows_match_real_xxd(data):
    from kmsim.shell.cmd_mem import format_row
    want = subprocess.run(["xxd"], input=data, capture_output=True).stdout.decode()
    rows = [format_row(i, data[i:i + 16]) for i in range(0, len(data), 16)]
    assert "\n".join(rows) + "\n" == want
