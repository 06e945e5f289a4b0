"""kmsim's own 'kmsim: ' lines: one prefix, a colour of their own, and one switch
(--append kmsim.hints=0) that leaves a log to compare byte for byte with Linux 6.1's."""
from __future__ import annotations

from pathlib import Path

from kmsim.shell.render import colour_dmesg_line
from tests.conftest import make_shell
from tests.reference import normal, ref_block

SM = Path(__file__).parent / "slab_modules"


def log(sh) -> list[str]:
    return [r.text for r in sh.kernel.printk.records]


def test_hints_are_on_by_default_and_off_with_kmsim_hints_0():
    on = make_shell(mem="512M")
    on.execute(f"insmod {SM}/err_doublefree.py plain=1")
    assert any(t.startswith("kmsim: ") for t in log(on))
    off = make_shell(mem="512M", append="kmsim.hints=0")
    off.execute(f"insmod {SM}/err_doublefree.py plain=1")
    assert not any(t.startswith("kmsim: ") for t in log(off))
    assert "Unknown kernel command line" not in "\n".join(log(off))


def test_without_hints_the_oops_is_the_reference_line_for_line():
    sh = make_shell(mem="512M", append="kmsim.hints=0")
    seq = sh.kernel.printk.next_seq
    sh.execute(f"insmod {SM}/err_doublefree.py plain=1")
    got = [r.text for r in sh.kernel.printk.records if r.seq >= seq]
    ref = ref_block("transcript-dfree_plain.txt", "/sbin/insmod err_doublefree.ko plain=1")
    ref = [ln for ln in ref if not ln.startswith(" ? ")]
    assert len(got) == len(ref)
    assert normal(got) == normal(ref)


def test_second_insmod_of_a_stuck_module_says_a_kernel_would_hang():
    sh = make_shell()
    sh.execute(f"insmod {SM}/err_doublefree.py plain=1")
    r = sh.execute(f"insmod {SM}/err_doublefree.py plain=1")
    lines = r.err.splitlines()
    assert lines[0].endswith(": File exists") and r.status == 1
    assert lines[1] == ("kmsim: a real kernel would hang here: err_doublefree is still loading since "
                        "its Oops; 'rmmod -f err_doublefree' or 'reboot' clears it")
    off = make_shell(append="kmsim.hints=0")
    off.execute(f"insmod {SM}/err_doublefree.py plain=1")
    assert len(off.execute(f"insmod {SM}/err_doublefree.py plain=1").err.splitlines()) == 1


def test_hint_lines_have_a_colour_of_their_own():
    line = "[    1.000000] kmsim: the module raised TypeError"
    out = colour_dmesg_line(line, 4)
    assert "\x1b[7;36mkmsim:\x1b[0m" in out
    assert colour_dmesg_line("[    1.000000] slab: cache created", 4).count("\x1b[7;36m") == 0


def test_console_loglevel_stays_quiet_unless_asked():
    assert make_shell().execute("cat /proc/sys/kernel/printk").out == "4\t4\t1\t7\n"
    assert make_shell(append="loglevel=7").execute("cat /proc/sys/kernel/printk").out == "7\t4\t1\t7\n"


# one broken module for each part of kmsim that adds hints: the loader and its Oops reports,
# SLUB, kmalloc, the page allocator, mempool, vmalloc
HINTING = ["deep_recursion", "double_cache_free", "float_order", "mempool_misuse", "null_after_is_err",
           "symbol_missing", "sys_exit", "kfree_garbage", "vfree_garbage", "wrong_cache_free",
           "init_returns_string", "overflow_direct_map", "free_page_struct_garbage"]


def test_kmsim_hints_0_drops_every_hint_of_every_part():
    bad = Path(__file__).parent / "bad_modules"
    on, off = make_shell(), make_shell(append="kmsim.hints=0")
    for name in HINTING:
        seq = on.kernel.printk.next_seq
        r = [sh.execute(f"insmod {bad}/{name}.py; rmmod -f {name}") for sh in (on, off)]
        assert any(rec.text.startswith("kmsim: ") for rec in on.kernel.printk.records if rec.seq >= seq), name
        assert "kmsim: " not in r[1].err, name
    assert [t for t in log(off) if t.startswith("kmsim")] == []
