"""Oops, BUG and WARNING reports against Linux 6.1 (../shared/reference/out/): how an Oops
ends insmod, the registers under every RIP line, the user-mode frame that ends a system
call's stack, the executive summary after the end marker, the page-table walk."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from inline_modules import load, texts

from tests.conftest import make_shell
from tests.reference import normal, ref_block, ref_output

SM = Path(__file__).parent / "slab_modules"


def messages(sh, cmd: str) -> tuple[list[str], object]:
    """The kernel's messages a command logged, and its result."""
    k = sh.kernel
    seq = k.printk.records[-1].seq + 1 if k.printk.records else 0
    r = sh.execute(cmd)
    return [rec.text for rec in k.printk.records if rec.seq >= seq], r


def test_page_fault_in_kfree_kills_insmod_as_kfree1_run2():
    sh = make_shell(mem="512M")
    got, r = messages(sh, f"insmod {SM}/err_kfree_bad.py mode=1")
    ref = ref_block("transcript-kfree1-run2.txt", "/sbin/insmod err_kfree_bad.ko mode=1")
    _out, status = ref_output("transcript-kfree1-run2.txt", "/sbin/insmod err_kfree_bad.ko mode=1")
    assert (r.status, r.err) == (status, "Killed\n") == (137, "Killed\n")
    assert normal(got) == normal(ref)
    assert "PGD 1fa08067 P4D 1fa08067 PUD 1fa07067 PMD 0 " in got     # the same walk, to the byte
    last = [ln for ln in got if not ln.startswith("kmsim: ")][-1]
    assert re.fullmatch(r"note: insmod\[\d+\] exited with irqs disabled", last)


def test_registers_come_from_the_simulated_state():
    sh = make_shell(mem="512M")
    got, _r = messages(sh, f"insmod {SM}/err_kfree_bad.py mode=1")
    addr = int(re.search(r"kfree\(([0-9a-f]+)\)", got[2]).group(1), 16)
    cr2 = int(got[3].rsplit(" ", 1)[1], 16)
    regs = next(ln for ln in got if ln.startswith("RDX: "))
    assert regs.endswith(f"RDI: {addr:016x}")                  # kfree's argument
    cr = next(ln for ln in got if ln.startswith("CR2: ") and "CR3" in ln)
    root = sh.kernel.vmalloc.pt.root << 12
    assert cr == f"CR2: {cr2:016x} CR3: {root:016x} CR4: 00000000000006f0"
    rsp = int(next(ln for ln in got if ln.startswith("RSP: 0018:")).split(":")[2].split()[0], 16)
    assert 0xffffc90000000000 <= rsp < 0xffffe90000000000 and rsp % 8 == 0   # a vmap'd task stack


def test_registers_are_seeded():
    a = [ln for ln in messages(make_shell(mem="512M", seed=3), f"insmod {SM}/err_kfree_bad.py mode=1")[0]]
    b = [ln for ln in messages(make_shell(mem="512M", seed=3), f"insmod {SM}/err_kfree_bad.py mode=1")[0]]
    c = [ln for ln in messages(make_shell(mem="512M", seed=4), f"insmod {SM}/err_kfree_bad.py mode=1")[0]]
    fs = [next(ln for ln in x if ln.startswith("FS: ")) for x in (a, b, c)]
    assert fs[0] == fs[1] != fs[2]


def test_warning_has_registers_and_the_user_frame_as_kfree0():
    sh = make_shell(mem="512M")
    got, r = messages(sh, f"insmod {SM}/err_kfree_bad.py mode=0")
    ref = ref_block("transcript-kfree0.txt", "/sbin/insmod err_kfree_bad.ko mode=0")
    assert r.status == 1
    assert normal(got) == normal(ref)
    i = got.index("RIP: 0010:free_large_kmalloc+0x3c/0x70")
    assert got[i + 1] == next(ln for ln in ref if ln.startswith("Code: ") and "<0f> 0b" in ln)


def test_bug_is_a_segmentation_fault_with_both_notes_as_dfree_keep():
    sh = make_shell(mem="512M")
    got, r = messages(sh, f"insmod {SM}/err_doublefree.py checks=0 keep=1")
    ref = ref_block("transcript-dfree_keep.txt", "/sbin/insmod err_doublefree.ko checks=0 keep=1")
    assert (r.status, r.err) == (139, "Segmentation fault\n")
    assert normal(got) == normal(ref)
    assert "RIP: 0010:free_to_partial_list+0x42d/0x4f0" in got
    assert next(ln for ln in got if ln.startswith("RSP: 0018:")).endswith("EFLAGS: 00000046")


def test_plain_double_free_bug_as_dfree_plain():
    sh = make_shell(mem="512M")
    got, r = messages(sh, f"insmod {SM}/err_doublefree.py plain=1")
    ref = ref_block("transcript-dfree_plain.txt", "/sbin/insmod err_doublefree.ko plain=1")
    assert r.status == 139
    assert normal(got) == normal(ref)


def test_i386_layout():
    sh = make_shell(machine="i386")
    got, r = messages(sh, f"insmod {SM}/err_doublefree.py plain=1")
    i = got.index("EIP: kmem_cache_free+0x2f7/0x310")
    assert got[i + 1].startswith("Code: ")
    assert re.fullmatch(r"EAX: [0-9a-f]{8} EBX: [0-9a-f]{8} ECX: [0-9a-f]{8} EDX: [0-9a-f]{8}", got[i + 2])
    assert re.fullmatch(r"ESI: [0-9a-f]{8} EDI: [0-9a-f]{8} EBP: [0-9a-f]{8} ESP: [0-9a-f]{8}", got[i + 3])
    assert re.fullmatch(r"DS: 007b ES: 007b FS: 00d8 GS: 0000 SS: 0068 EFLAGS: 000102[0-9a-f]{2}", got[i + 4])
    assert re.fullmatch(r"CR0: 80050033 CR2: [0-9a-f]{8} CR3: [0-9a-f]{8} CR4: 00000690", got[i + 5])
    j = got.index(" entry_SYSENTER_32+0x98/0xf1")
    assert re.fullmatch(r"EIP: 0x[0-9a-f]+", got[j + 1])
    assert got[j + 5].startswith("DS: 007b ES: 007b FS: 0000")
    assert got.count("EIP: kmem_cache_free+0x2f7/0x310") == 2            # and the executive summary


def test_rpi2_layout(tmp_path):
    f = tmp_path / "npd.py"
    f.write_text("from kmsim.linux import *\nmodule_init(lambda: u32.array_at(0, 1)[0])\n"
                 "MODULE_LICENSE('GPL')\n")
    sh = make_shell(machine="rpi2")
    got, r = messages(sh, f"insmod {f}")
    assert r.status == 139                                  # ARM's die() sends SIGSEGV
    i = next(i for i, ln in enumerate(got) if ln.startswith("LR is at "))
    assert re.fullmatch(r"pc : \[<[0-9a-f]{8}>\]    lr : \[<[0-9a-f]{8}>\]    psr: [0-9a-f]{8}", got[i + 1])
    assert re.fullmatch(r"sp : [0-9a-f]{8}  ip : [0-9a-f]{8}  fp : [0-9a-f]{8}", got[i + 2])
    assert re.fullmatch(r"r10: [0-9a-f]{8}  r9 : [0-9a-f]{8}  r8 : [0-9a-f]{8}", got[i + 3])
    assert got[i + 5].startswith("r3 : ") and got[i + 5].endswith("r0 : 00000000")
    assert got[i + 6].startswith("Flags: ") and got[i + 7].startswith("Control: ")
    assert any(re.fullmatch(r"Code: ([0-9a-f]{8} ){4}\([0-9a-f]{8}\) ", ln) for ln in got)


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


def _msgs(sh):
    return [line.split("] ", 1)[1] if "] " in line else "" for line in sh.execute("dmesg").out.splitlines()]


def test_stack_overflow_report_is_the_vmap_stack_one(tmp_path):
    """handle_stack_overflow: 'BUG: TASK stack guard page was hit at %p (stack is %p..%p)',
    then die("stack guard page"): one '[#1]' line, not two."""
    sh = make_shell()
    src = tmp_path / "deep.py"
    src.write_text("from kmsim.linux.module import *\n\ndef f(n):\n    return f(n + 1)\n\n"
                   "@module_init\ndef deep_init():\n    return f(0)\n\nMODULE_LICENSE('GPL')\n")
    assert sh.execute(f"insmod {src}").status == 139
    msgs = _msgs(sh)
    i = next(n for n, m in enumerate(msgs) if m.startswith("BUG: TASK stack guard page"))
    assert re.fullmatch(r"BUG: TASK stack guard page was hit at [0-9a-f]{16} "
                        r"\(stack is [0-9a-f]{16}\.\.[0-9a-f]{16}\)", msgs[i])
    assert msgs[i + 1] == "stack guard page: 0000 [#1] PREEMPT SMP NOPTI"
    assert sum("[#1]" in m for m in msgs) == 1
    assert sh.execute("rmmod -f deep; insmod modules/hello.py; rmmod hello").status == 0


NULL_I386 = """
def t_init():
    return int_.at(0x104).value
def t_exit():
    pass
"""


def test_i386_null_dereference_report(tmp_path):
    sh, st = load(tmp_path, NULL_I386, "i386")
    assert st != 0
    lines = texts(sh)
    i = lines.index("BUG: kernel NULL pointer dereference, address: 00000104")
    assert lines[i + 3] == "*pde = 00000000 "


def test_arm_dump_mem_layout_is_traps_c():
    """dump_mem: rows of eight words from bottom rounded down to 32 bytes, each 'llll:', the
    slots below bottom blank (nine spaces each), the last row cut at top."""
    from kmsim.regs import dump_mem
    lines = dump_mem("Stack: ", 0xc037dcfc, 0xc037e000, list(range(0xc1, 0xc1 + 193)))
    assert lines[0] == "Stack: (0xc037dcfc to 0xc037e000)"
    assert lines[1] == "dce0:" + " " * 63 + " 000000c1"
    assert lines[2] == "dd00: " + " ".join(f"{v:08x}" for v in range(0xc2, 0xca))
    assert lines[-1].startswith("dfe0: ") and len(lines) == 1 + (0xe000 - 0xdce0) // 32
    assert dump_mem("Exception stack", 0xdb0d3fa8, 0xdb0d3ff0, [7] * 18)[1:] == [
        "3fa0:" + " " * 18 + " 00000007" * 6, "3fc0:" + " 00000007" * 8, "3fe0:" + " 00000007" * 4]


def test_rpi2_oops_dumps_the_stack_and_the_registers_objects():
    """__die on ARM: __show_regs, 'Register rN information:' (mem_dump_obj) for r0..r12, the
    Process line, 'Stack: (sp to top)', the backtrace with the system call's 'Exception
    stack', Code:."""
    sh = make_shell(machine="rpi2", mem="512M", seed=5)
    got, r = messages(sh, f"insmod {SM}/err_kfree_bad.py mode=1")
    assert r.status == 139
    i = got.index("Control: 10c5387d  Table: " + next(ln for ln in got if ln.startswith("Control:"))[26:])
    regs = [re.fullmatch(r"Register r(\d+) information: (.*)", ln) for ln in got[i + 1:i + 14]]
    assert [int(m.group(1)) for m in regs] == list(range(13))
    r0 = int(next(ln for ln in got if ln.startswith("r3 : ")).rsplit(" ", 1)[1], 16)
    base = sh.kernel.modules.modules["err_kfree_bad"].chunks[0][0]
    assert 0 <= r0 - base < 0x8000                      # kfree's argument: a module global
    assert re.fullmatch(rf"\d+-page vmalloc region starting at {base:#x} allocated at load_module\+0x.*",
                        regs[0].group(2))
    assert regs[1].group(2) == "NULL pointer"
    assert re.fullmatch(r"Process insmod \(pid: \d+, stack limit = 0x[0-9a-f]{8}\)", got[i + 14])
    sp = int(re.search(r"^sp : ([0-9a-f]{8})", next(ln for ln in got if ln.startswith("sp : "))).group(1), 16)
    top = (sp | 0x1fff) + 1
    assert got[i + 15] == f"Stack: (0x{sp:08x} to 0x{top:08x})"
    rows = got[i + 16:got.index("Backtrace: ")]
    assert len(rows) == (top - (sp & ~31)) // 32
    assert all(re.fullmatch(r"[0-9a-f]{4}:( [0-9a-f]{8}| {9})*", ln) for ln in rows)
    assert rows[0].startswith(f"{sp & ~31 & 0xffff:04x}:" + " " * 9 * ((sp & 31) // 4) + " ")
    words = " ".join(rows).split()
    lr = next(ln for ln in got if ln.startswith("pc : ")).split("lr : [<")[1][:8]
    assert lr in words                                  # the return address into the module is on it
    j = got.index(" __do_sys_finit_module from ret_fast_syscall+0x0/0x54")
    j += 1 if got[j + 1].startswith(" r") else 0
    assert got[j + 1] == f"Exception stack(0x{top - 0x58:08x} to 0x{top - 0x10:08x})"
    assert got[j + 3].split()[4] == "0000017b"         # r7: the system call, finit_module
    assert got[j + 3] == rows[-2] and rows[-1].startswith(got[j + 4])   # the same memory, twice
    assert re.fullmatch(r"Code: ([0-9a-f]{8} ){4}\([0-9a-f]{8}\) ", got[j + 5])
    k = next(n for n, ln in enumerate(got) if ln.startswith(" kfree from kfree_bad_init+"))
    assert re.fullmatch(r"( r\d+:[0-9a-f]{8}){1,6}", got[k + 1])       # the registers kfree saved
    keep = got[got.index(" kfree_bad_init [err_kfree_bad] from do_one_initcall+0x59/0x220") + 1]
    assert f":{r0:08x}" in keep                   # the module function keeps kfree's argument


def test_rpi2_warning_is_dump_stacks_backtrace():
    """ARM's WARN has no trap frame: __warn calls dump_stack, whose backtrace starts in
    dump_backtrace and climbs through __warn to the function that warned; no registers."""
    sh = make_shell(machine="rpi2", mem="512M")
    got, r = messages(sh, f"insmod {SM}/err_kfree_bad.py mode=0")
    i = got.index("Hardware name: BCM2835 (Raspberry Pi 2 Model B, simulated)")
    assert got[i + 1:i + 3] == ["Backtrace: ", " dump_backtrace from show_stack+0x20/0x24"]
    entries = [ln for ln in got[i:] if ln.startswith(" ") and " from " in ln]
    assert " warn_slowpath_fmt from free_large_kmalloc+0x3c/0x70" in entries
    assert entries[-1] == " __do_sys_finit_module from ret_fast_syscall+0x0/0x54"
    assert not any(ln.startswith(("PC is at", "pc : ", "Call Trace:", "Stack: ")) for ln in got)
    assert got.index("---[ end trace 0000000000000000 ]---") > got.index(entries[-1])


def test_rpi2_stack_dump_is_seeded():
    def stack(seed):
        got, _r = messages(make_shell(machine="rpi2", seed=seed), f"insmod {SM}/err_kfree_bad.py mode=1")
        i = next(i for i, ln in enumerate(got) if ln.startswith("Stack: "))
        return got[i:got.index("Backtrace: ")]
    assert stack(2) == stack(2) != stack(3)


def test_rpi2_dump_stack_is_arms_backtrace():
    """A SLUB report's dump_stack on ARM: 'Backtrace: ' from dump_backtrace, no x86 Call Trace."""
    sh = make_shell(machine="rpi2", mem="512M")
    got, _r = messages(sh, f"insmod {SM}/err_doublefree.py checks=1")
    i = got.index("Hardware name: BCM2835 (Raspberry Pi 2 Model B, simulated)")
    assert got[i + 1:i + 3] == ["Backtrace: ", " dump_backtrace from show_stack+0x20/0x24"]
    assert " dump_stack_lvl from slab_err+0xae/0xe7" in got
    assert "Call Trace:" not in got and " <TASK>" not in got
