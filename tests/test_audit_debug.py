"""Audit of issue 7: report formats and debugfs parsing fixed against Linux 6.1."""
import re

from conftest import make_shell

RULER = "=" * 66

MOD = """from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.types import *


@module_init
def {name}_init():
{body}
    return 0


MODULE_LICENSE("GPL")
"""


def _module(tmp_path, name, body):
    p = tmp_path / f"{name}.py"
    p.write_text(MOD.format(name=name, body=body))
    return str(p)


def _msgs(sh):
    return [line.split("] ", 1)[1] if "] " in line else "" for line in sh.execute("dmesg").out.splitlines()]


def test_kasan_invalid_free_report(tmp_path):
    """kfree(p + 8) under KASAN: ____kasan_slab_free's 'invalid-free', not SLUB's silence."""
    sh = make_shell(append="kasan")
    r = sh.execute("insmod " + _module(tmp_path, "ifree", ("    p = kmalloc(64, GFP_KERNEL)\n    "
                                                           "kfree(p + 8)")))
    assert r.status == 0             # reported, not freed, and init went on
    msgs = _msgs(sh)
    rep = msgs[msgs.index(RULER):]
    assert re.fullmatch(r"BUG: KASAN: invalid-free in ifree_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[ifree\]", rep[1])
    assert re.fullmatch(r"Free of addr ffff8880[0-9a-f]{8} by task insmod/\d+", rep[2])
    i = rep.index("The buggy address is located 8 bytes inside of")
    assert rep[i + 1].startswith(" 64-byte region [")
    assert sh.execute("rmmod -f ifree; insmod modules/slab_cache.py; rmmod slab_cache").status == 0


def test_kasan_right_of_keeps_of(tmp_path):
    sh = make_shell(append="kasan")
    sh.execute("insmod " + _module(tmp_path, "roob", "    p = kmalloc(16, GFP_KERNEL)\n"
                                   "    u8.array_at(p, 40)[16] = 1"))
    msgs = _msgs(sh)
    assert any(re.fullmatch(r"The buggy address is located \d+ bytes (inside|to the right) of", m)
               for m in msgs)


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


def _write(sh, path, value):
    return sh.execute(f"echo '{value}' > /sys/kernel/debug/{path}")


def test_fault_attr_files_parse_as_kstrto():
    sh = make_shell()
    # kstrtoull base 0: octal and hex, '+' allowed; nothing Python-only
    for text, want in (("010", "8"), ("0x10", "16"), ("+5", "5"), ("0", "0")):
        assert _write(sh, "failslab/interval", text).status == 0
        assert sh.execute("cat /sys/kernel/debug/failslab/interval").out == want + "\n"
    for bad in ("1_0", "0b1", "abc", "", "-1", " 08"):
        r = _write(sh, "failslab/probability", bad)
        assert r.status == 1 and "Invalid argument" in r.err, bad
    r = _write(sh, "failslab/probability", "99999999999999999999999")
    assert r.status == 1 and "Numerical result out of range" in r.err
    # atomic_t files are signed and truncated to int
    assert _write(sh, "fail_page_alloc/times", "-1").status == 0
    assert _write(sh, "fail_page_alloc/space", "4294967295").status == 0
    assert sh.execute("cat /sys/kernel/debug/fail_page_alloc/space").out == "-1\n"
    # kstrtobool: on/off too
    assert _write(sh, "failslab/task-filter", "on").status == 0
    assert sh.execute("cat /sys/kernel/debug/failslab/task-filter").out == "Y\n"
    assert _write(sh, "failslab/task-filter", "off").status == 0
    assert sh.execute("cat /sys/kernel/debug/failslab/task-filter").out == "N\n"
    assert _write(sh, "failslab/task-filter", "maybe").status == 1
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


def test_kmemleak_usage_error_is_said_once():
    sh = make_shell()
    r = sh.execute("kmemleak foo")
    assert r.status == 2
    assert r.err.count("kmemleak [scan|clear]") == 1 and "unknown command 'foo'" in r.err


def test_kasan_page_use_after_free_is_not_described_as_a_neighbouring_slab_object(tmp_path):
    """A freed page's address minus 8 may lie in the slab page before it: the report must
    describe the page only (print_address_description: PageSlab of addr's own page)."""
    sh = make_shell(append="kasan kasan_multi_shot")
    body = ("    pg = alloc_pages(GFP_KERNEL, 1)\n    p = page_address(pg)\n"
            "    __free_pages(pg, 1)\n    u8.array_at(p, 10)[5] = 1")
    path = tmp_path / "pguaf.py"
    path.write_text("from kmsim.linux import *\n" + MOD.format(name="pguaf", body=body))
    for _ in range(3):          # whatever lies before the freed block
        sh.execute("dmesg -C")
        assert sh.execute(f"insmod {path}").status == 0
        msgs = _msgs(sh)
        assert any(m.startswith("BUG: KASAN: use-after-free in pguaf_init+") for m in msgs)
        assert not any(m.startswith("The buggy address belongs to the object at") for m in msgs)
        assert "The buggy address belongs to the physical page:" in msgs
        assert sh.execute("rmmod -f pguaf").status == 0
        sh.execute("py kmalloc(1000, GFP_KERNEL)")


def test_kmemleak_dump_writes_the_object_info(tmp_path):
    """echo dump=ADDR > /sys/kernel/debug/kmemleak (dump_str_object_info)."""
    sh = make_shell()
    assert sh.execute("insmod " + _module(tmp_path, "dleak", "    p = kmalloc(64, GFP_KERNEL)")).status == 0
    kl = sh.kernel.kmemleak
    addr = next(iter(kl.objects))
    r = sh.execute("echo dump=0x1 > /sys/kernel/debug/kmemleak")
    assert r.status == 1 and "Invalid argument" in r.err
    assert "kmemleak: Unknown object at 0x00000001" in _msgs(sh)
    assert sh.execute(f"echo dump={addr:#x} > /sys/kernel/debug/kmemleak").status == 0
    msgs = _msgs(sh)
    i = msgs.index(f"kmemleak: Object {addr:#x} (size 64):")
    assert msgs[i + 1].startswith('kmemleak:   comm "insmod", pid ')
    assert msgs[i + 6] == "kmemleak:   backtrace:"
    assert re.fullmatch(r"     dleak_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[dleak\]", msgs[i + 8])
    assert sh.execute("echo dump=zz > /sys/kernel/debug/kmemleak").status == 1


def test_check_json_for_a_missing_file_is_still_json():
    import json

    from conftest import run_kmsim
    p = run_kmsim("check", "--json", "/nonexistent/mod.py")
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    data = doc["submissions"][0]        # one entry per submission (issue 17)
    assert doc["clean"] is False and data["runs"] == [] and "No such file" in data["error"]
    assert "No such file or directory" in p.stderr


def _report_lines(sh):
    msgs = _msgs(sh)
    i = msgs.index(RULER)
    return msgs[i:msgs.index(RULER, i + 1) + 1]


def test_kasan_global_names_the_variable():
    """print_address_description for a module global: 'belongs to the variable:' and
    %pS of the address; no allocation stack, no vmalloc area, no page."""
    sh = make_shell(append="kasan")
    sh.execute("insmod tests/check_modules/kasan_global.py")
    rep = _report_lines(sh)
    i = rep.index("The buggy address belongs to the variable:")
    assert re.fullmatch(r" table\+0x28/0x60 \[kasan_global\]", rep[i + 1])
    assert not any(m.startswith(("Allocated by", "The buggy address belongs to the virtual",
                                 "The buggy address belongs to the physical")) for m in rep)


def test_kasan_vmalloc_names_the_caller_and_the_page(tmp_path):
    sh = make_shell(append="kasan")
    path = tmp_path / "voob.py"
    path.write_text("from kmsim.linux import *\n" + MOD.format(
        name="voob", body="    p = vmalloc(100)\n    u8.array_at(p, 200)[100] = 1"))
    sh.execute(f"insmod {path}")
    rep = _report_lines(sh)
    assert rep[1].startswith("BUG: KASAN: vmalloc-out-of-bounds in voob_init+")
    i = rep.index("The buggy address belongs to the virtual mapping at")
    assert re.fullmatch(r" \[ffffc9[0-9a-f]{10}, ffffc9[0-9a-f]{10}\) created by:", rep[i + 1])
    assert re.fullmatch(r" voob_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[voob\]", rep[i + 2])
    assert rep[i + 4] == "The buggy address belongs to the physical page:"
    assert not any(m.startswith("Allocated by") for m in rep)
    assert sh.execute("rmmod -f voob; insmod modules/kmalloc_vmalloc.py; rmmod kmalloc_vmalloc").status == 0
