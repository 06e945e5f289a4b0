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
    assert sh.execute(f"insmod {f}").status == 139
    d = sh.execute("dmesg").out
    assert ip in d and entry in d
    other = "entry_SYSENTER_32" if machine == "x86_64" else "entry_SYSCALL_64"
    assert other not in d
