"""With KASAN on x86_64, a NULL dereference is the #GP of the shadow check, as in 6.1."""
from __future__ import annotations

from conftest import make_shell

MOD = '''from kmsim.linux import *
@module_init
def n_init():
    p = kmalloc(1 << 40, GFP_KERNEL | __GFP_NOWARN)
    if IS_ERR(p):
        return -ENOMEM
    u32.array_at(p + 16, 1)[0] = 5
    return 0
MODULE_LICENSE("GPL")
'''


def test_null_deref_under_kasan_is_a_general_protection_fault(tmp_path):
    f = tmp_path / "kn.py"
    f.write_text(MOD)
    sh = make_shell(append="kasan")
    r = sh.execute(f"insmod {f}")
    assert r.status == 139
    lines = [ln.split("] ", 1)[1] for ln in sh.execute("dmesg").out.splitlines() if "] " in ln]
    i = next(i for i, ln in enumerate(lines) if ln.startswith("general protection fault"))
    assert lines[i] == ("general protection fault, probably for non-canonical address "
                        "0xdffffc0000000002: 0000 [#1] PREEMPT SMP KASAN NOPTI")
    assert lines[i + 1] == "KASAN: null-ptr-deref in range [0x0000000000000010-0x0000000000000017]"
    assert any("tests p with IS_ERR only" in ln for ln in lines)
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


def test_null_deref_without_kasan_is_the_page_fault_oops(tmp_path):
    f = tmp_path / "kn.py"
    f.write_text(MOD)
    sh = make_shell()
    sh.execute(f"insmod {f}")
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000010" in sh.execute("dmesg").out
