"""The lab in C: each listing and exercise prints what its Python twin prints (addresses
included), and the reference's C modules print what the real Linux 6.1 printed
(addresses and times aside)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import MODULES, make_shell

REF_OUT = Path("/work/shared/reference/out/transcript-main.txt")
REF_MODULES = Path("/work/shared/reference/modules")
LAB = ["zone_allocator", "slab_cache", "mempool", "kmalloc_vmalloc", "exercise1",
       "exercise2_stack", "exercise3_dlist", "exercise4", "exercise5_fifo", "exercise6_cyclic"]


def normalise(line: str) -> str:
    """A message without its timestamp, addresses, hashed pointers, pfns and pids."""
    line = re.sub(r"^\[ *\d+\.\d+\] ", "", line)
    line = re.sub(r"\b(0x)?[0-9a-f]{8,16}\b", "ADDR", line)
    line = re.sub(r"\b(pfn|pid|PID:) \d+", r"\1 N", line)
    line = re.sub(r"\b\d+ \(0x[0-9a-f]+\)", "N (0xN)", line)
    line = re.sub(r"\(age \d+\.\d+s\)|jiffies \d+", "T", line)
    # how many order-10 blocks a 512M machine has free depends on the boot, not on the module
    line = re.sub(r"(got|freed) \d+ blocks", r"\1 N blocks", line)
    return line


def dmesg_of(name: str, ext: str, args: str = "", machine: str = "x86_64") -> list[str]:
    """The log of insmod, lsmod, rmmod of a lab module (without timestamps); the C stack is
    in the kernel image, so the C twin's allocations land where the Python module's do."""
    sh = make_shell(machine)
    r = sh.execute(f"insmod {MODULES / name}.{ext} {args}")
    assert r.status == 0, r.err
    sh.execute("lsmod")
    assert sh.execute(f"rmmod {name}").status == 0
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in sh.execute("dmesg").out.splitlines()
            if not re.match(r"^\[ *0\.0", ln)]


@pytest.mark.parametrize("name", LAB)
def test_c_twin_prints_what_the_python_module_prints(name):
    assert (MODULES / f"{name}.c").is_file()
    assert dmesg_of(name, "c") == dmesg_of(name, "py")


@pytest.mark.parametrize("name", ["exercise2_stack", "exercise3_dlist", "exercise5_fifo",
                                  "exercise6_cyclic"])
def test_c_exercise_parameters_are_module_params(name):
    assert dmesg_of(name, "c", "count=9") == dmesg_of(name, "py", "count=9")


@pytest.mark.parametrize("machine", ["i386", "rpi2"])
@pytest.mark.parametrize("name", ["slab_cache", "exercise3_dlist", "exercise5_fifo", "kmalloc_vmalloc"])
def test_c_twins_on_the_32_bit_machines(name, machine):
    assert dmesg_of(name, "c", machine=machine) == dmesg_of(name, "py", machine=machine)


def reference_steps() -> list[tuple[list[str], list[str]]]:
    """(commands, the modules' own dmesg lines) of the reference's kmod insmod/rmmod runs;
    commands with one dmesg block between them form one step."""
    steps: list[tuple[list[str], list[str]]] = []
    mods: set[str] = set()
    open_step = False
    for ln in REF_OUT.read_text(errors="replace").splitlines():
        ln = re.sub(r"^<\d>", "", ln)
        if ln.startswith("$ "):
            words = ln[2:].split()
            if not open_step:
                steps.append(([], []))
                mods = set()
                open_step = True
            if len(words) > 1 and words[0] in ("/sbin/insmod", "/sbin/rmmod"):
                mod = words[1].replace(".ko", "")
                if (REF_MODULES / f"{mod}.c").is_file():
                    mods.add(mod)
                    steps[-1][0].append(f"insmod {REF_MODULES / mod}.c {' '.join(words[2:])}"
                                        if words[0] == "/sbin/insmod" else f"rmmod {mod}")
        elif ln.startswith("--- dmesg"):
            open_step = False
        elif mods and re.match(r"^\[ *\d+\.\d+\] (\w+): ", ln) and \
                re.match(r"^\[ *\d+\.\d+\] (\w+): ", ln).group(1) in mods:
            steps[-1][1].append(normalise(ln))
    return [(cmds, lines) for cmds, lines in steps if cmds]


@pytest.mark.skipif(not REF_OUT.exists(), reason="no reference transcript")
def test_reference_c_modules_print_what_linux_printed():
    sh = make_shell(mem="512M")
    steps = reference_steps()
    assert len(steps) >= 20
    for cmds, want in steps:
        seen = sh.execute("dmesg").out.count("\n")
        mods = set()
        for cmd in cmds:
            sh.execute(cmd)
            mods.add(cmd.split()[1].split("/")[-1].replace(".c", ""))
        new = sh.execute("dmesg").out.splitlines()[seen:]
        got = [normalise(ln) for ln in new
               if re.match(r"^\[ *\d+\.\d+\] (\w+): ", ln) and
               re.match(r"^\[ *\d+\.\d+\] (\w+): ", ln).group(1) in mods]
        assert got == want, cmds
