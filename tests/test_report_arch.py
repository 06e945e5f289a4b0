"""Reports follow the machine: x86_64's RIP and SYSCALL_64 entry, i386's EIP and SYSENTER."""
from __future__ import annotations

import pytest
from conftest import make_shell

MOD = '''from kmsim.linux import *
@module_init
def m_init():
    return u32.array_at(0, 1)[0]
MODULE_LICENSE("GPL")
'''


@pytest.mark.parametrize("machine,ip,entry", [
    ("x86_64", "RIP: 0010:m_init+0x", "entry_SYSCALL_64_after_hwframe+0x6e/0xd8"),
    ("i386", "EIP: m_init+0x", "entry_SYSENTER_32+0x98/0xf1"),
])
def test_oops_names_the_machines_instruction_pointer_and_entry(tmp_path, machine, ip, entry):
    f = tmp_path / "npd.py"
    f.write_text(MOD)
    sh = make_shell(machine=machine)
    assert sh.execute(f"insmod {f}").status == 137       # page_fault_oops kills with SIGKILL
    d = sh.execute("dmesg").out
    assert ip in d and entry in d
    other = "entry_SYSENTER_32" if machine == "x86_64" else "entry_SYSCALL_64"
    assert other not in d


def test_rpi2_oops_is_arms(tmp_path):
    f = tmp_path / "npd.py"
    f.write_text(MOD)
    sh = make_shell(machine="rpi2")
    assert sh.execute(f"insmod {f}").status == 139
    lines = [ln.split("] ", 1)[1] for ln in sh.execute("dmesg").out.splitlines() if "] " in ln]
    i = lines.index("8<--- cut here ---")
    assert lines[i + 1] == ("Unable to handle kernel NULL pointer dereference at virtual address "
                            "00000000 when read")
    assert lines[i + 2].startswith("[00000000] *pgd=")
    assert lines[i + 3] == "Internal error: Oops: 5 [#1] SMP ARM"
    assert lines[i + 4] == "Modules linked in: npd(OE+)"
    assert any(ln.startswith("PC is at m_init+0x") for ln in lines)
    assert " m_init [npd] from do_one_initcall+0x59/0x220" in lines
    assert not any("RIP:" in ln or "#PF:" in ln for ln in lines)


def test_rpi2_bug_is_an_undefined_instruction_oops(tmp_path):
    f = tmp_path / "raiser.py"
    f.write_text("from kmsim.linux import *\nmodule_init(lambda: 1 // 0)\nMODULE_LICENSE('GPL')\n")
    sh = make_shell(machine="rpi2")
    sh.execute(f"insmod {f}")
    assert "Internal error: Oops - BUG: 0 [#1] SMP ARM" in sh.execute("dmesg").out
