"""The module loader against hostile modules: what any exception, a long name, a coding
declaration, a NUL byte, a huge file or a module's print() does (issue 15)."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import make_shell, run_kmsim

from kmsim.check import check_module

HEAD = "from kmsim.linux.module import *\nfrom kmsim.linux.printk import *\n"


def write(tmp_path, name, body, encoding="utf-8"):
    p = tmp_path / f"{name}.py"
    p.write_text(HEAD + textwrap.dedent(body), encoding=encoding)
    return str(p)


RAISERS = {
    "init": """
        @module_init
        def m_init():
            raise {exc}("x")
        @module_exit
        def m_exit():
            pass
        MODULE_LICENSE("GPL")
        """,
    "exit": """
        @module_init
        def m_init():
            return 0
        @module_exit
        def m_exit():
            raise {exc}("x")
        MODULE_LICENSE("GPL")
        """,
    "top": """
        MODULE_LICENSE("GPL")
        raise {exc}("x")
        """,
}


@pytest.mark.parametrize("exc", ["BaseException", "GeneratorExit", "BaseExceptionGroup"])
@pytest.mark.parametrize("where", ["init", "exit", "top"])
def test_any_exception_is_the_report_an_exception_gets(tmp_path, where, exc):
    body = RAISERS[where].replace('{exc}("x")', f'{exc}("x", [GeneratorExit()])'
                                  if exc == "BaseExceptionGroup" else f'{exc}("x")')
    path = write(tmp_path, "raiser", body)
    ref = write(tmp_path, "reference", RAISERS[where].format(exc="ValueError"))
    sh, ref_sh = make_shell(), make_shell()
    cmd = f"insmod {{}}; rmmod {'-f ' if where == 'init' else ''}{{}}"
    r = sh.execute(cmd.format(path, "raiser"))
    r_ref = ref_sh.execute(cmd.format(ref, "reference"))
    assert r.status == r_ref.status and (r.status != 0 or where == "exit")
    assert r.err.replace("raiser", "reference") == r_ref.err
    d = sh.execute("dmesg").out
    assert f"{exc}: x" in d and "Traceback" not in d
    if where == "top":
        assert f"raiser: invalid module format: {exc}: x" in d and "(raiser.py, line 5)" in d
    else:
        assert "kernel BUG at raiser.py:" in d and f"kmsim: the module raised {exc}: x" in d
    if where == "exit":         # issue 14: an Oops in exit leaves the module Unloading
        assert sh.execute("rmmod -f raiser").status == 0
    assert sh.execute("lsmod").out.splitlines() == ["Module                  Size  Used by"]


def test_py_raise_base_exception_is_an_error_line(shell):
    r = shell.execute('py raise BaseException("x"); echo after')
    assert r.err == "py: BaseException: x (line 1)\n"
    assert r.out == "after\n" and r.status == 1
    r = shell.execute('py raise GeneratorExit')
    assert r.err == "py: GeneratorExit:  (line 1)\n"


def test_base_exception_at_the_interactive_prompt(shell, tmp_path):
    import io

    from kmsim.shell.repl import Repl
    out, err = io.StringIO(), io.StringIO()
    repl = Repl(shell, out, err)
    path = write(tmp_path, "raiser", RAISERS["init"].format(exc="GeneratorExit"))
    result = repl.run_line(f"insmod {path}")
    assert result.status == 139 and "Segmentation fault" in err.getvalue()
    import re
    assert "kmsim: the module raised GeneratorExit: x" in re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert repl.run_line('py raise BaseException("y")').status == 1
    assert "py: BaseException: y (line 1)" in err.getvalue()


@pytest.mark.e2e
def test_base_exception_in_batch_and_check(tmp_path):
    path = write(tmp_path, "raiser", RAISERS["init"].format(exc="BaseException"))
    p = run_kmsim("-c", f"insmod {path}; echo status $?; lsmod")
    assert "Traceback" not in p.stderr + p.stdout
    assert "Segmentation fault" in p.stderr and "raiser" in p.stdout
    p = run_kmsim("check", "--json", path)
    assert "Traceback" not in p.stderr and p.returncode == 1
    runs = json.loads(p.stdout)
    assert runs


def test_base_exception_under_check(tmp_path):
    path = write(tmp_path, "raiser", RAISERS["exit"].format(exc="GeneratorExit"))
    runs = check_module(path)
    assert runs and any(f["kind"] == "oops" for r in runs for f in r["findings"])


@pytest.mark.parametrize("line", ["modprobe {}", "modprobe -r {}", "modinfo {}", "insmod {}.py",
                                  "rmmod {}"])
def test_name_longer_than_255_bytes(shell, line):
    name = "a" * 300
    r = shell.execute(line.format(name))
    assert "internal error" not in r.err and "Errno" not in r.err and r.status == 1
    expected = {
        "modprobe": f"modprobe: FATAL: Module {name} not found in directory ./modules\n",
        "modprobe -r": f"modprobe: FATAL: Module {name} not found.\n",
        "modinfo": f"modinfo: ERROR: Module {name} not found.\n",
        "insmod": f"insmod: ERROR: could not load module {name}.py: File name too long\n",
        "rmmod": f"rmmod: ERROR: Module {name} is not currently loaded\n",
    }[line.rsplit(" ", 1)[0]]
    assert r.err == expected


def test_latin1_coding_declaration_is_honoured(shell, tmp_path):
    p = tmp_path / "latin.py"
    p.write_bytes(b"# -*- coding: latin-1 -*-\n" + HEAD.encode() +
                  b"@module_init\ndef i():\n    pr_info('caf\xe9\\n')\n    return 0\n"
                  b"@module_exit\ndef e():\n    pass\nMODULE_LICENSE('GPL')\n")
    r = shell.execute(f"insmod {p}")
    assert r.status == 0, r.err
    assert shell.execute("dmesg | tail -n 1").out.endswith("caf\u00e9\n")


def test_undeclared_latin1_names_its_line(shell, tmp_path):
    p = tmp_path / "latin.py"
    p.write_bytes(HEAD.encode() + b"x = 1\ns = 'caf\xe9'\n")
    r = shell.execute(f"insmod {p}")
    assert r.err == f"insmod: ERROR: could not load module {p}: Invalid module format\n"
    d = shell.execute("dmesg").out
    assert "latin: invalid module format: byte 0xe9 is not utf-8 (latin.py, line 4)" in d
    assert "kmsim: save the module as UTF-8, or declare its encoding" in d


def test_nul_byte_names_its_line(shell, tmp_path):
    p = tmp_path / "nul.py"
    p.write_bytes(HEAD.encode() + b"x = 1\ny = '\x00'\n")
    r = shell.execute(f"insmod {p}")
    assert r.status == 1
    d = shell.execute("dmesg").out
    assert "line None" not in d
    assert "nul: invalid module format: SyntaxError: source code cannot contain null bytes " \
           "(nul.py, line 4)" in d


def test_module_file_above_the_size_limit_is_refused(shell, tmp_path):
    from kmsim.module import MAX_MODULE_SIZE
    p = tmp_path / "huge.py"
    with open(p, "w") as f:
        f.write("x = 1\n" + "#" * MAX_MODULE_SIZE + "\n")
    r = shell.execute(f"insmod {p}")
    assert r.err == f"insmod: ERROR: could not insert module {p}: File too large\n"
    assert r.status == 1
    assert (f"kmsim: huge: {MAX_MODULE_SIZE + 7} bytes: a module file is at most "
            f"{MAX_MODULE_SIZE >> 20} MiB" in shell.execute("dmesg").out)


PRINTER = """
    @module_init
    def m_init():
        for i in range(10):
            print("line", i)
        return 0
    @module_exit
    def m_exit():
        print("bye")
    MODULE_LICENSE("GPL")
    """


def test_module_print_goes_through_pipes_and_redirection(shell, tmp_path):
    path = write(tmp_path, "printer", PRINTER)
    r = shell.execute(f"insmod {path} | head -n 3")
    assert r.out == "line 0\nline 1\nline 2\n"
    out = tmp_path / "out.txt"
    r = shell.execute(f"rmmod printer > {out}")
    assert r.out == "" and out.read_text() == "bye\n"
    r = shell.execute(f"insmod {path} | wc -l")
    assert r.out == "10\n"


@pytest.mark.e2e
def test_module_print_through_head_in_batch(tmp_path):
    path = write(tmp_path, "printer", PRINTER)
    p = run_kmsim("-c", f"insmod {path} | head -n 3; rmmod printer > {tmp_path}/out.txt")
    assert p.stdout == "line 0\nline 1\nline 2\n" and p.returncode == 0
    assert (tmp_path / "out.txt").read_text() == "bye\n"


@pytest.mark.e2e
def test_module_print_stays_out_of_check_json(tmp_path):
    path = write(tmp_path, "printer", PRINTER)
    p = run_kmsim("check", "--json", path)
    assert json.loads(p.stdout) and "line 0" not in p.stdout


SPAWNER = """
import builtins
import threading

from kmsim.linux.slab import *
from kmsim.linux.gfp import *

ev = builtins._kmsim_thread_test
held = []

def worker():
    ev["go"].wait(30)
    for _ in range(3):
        held.append(kmalloc(128, GFP_KERNEL))
    ev["done"].set()

@module_init
def spawner_init():
    threading.Thread(target=worker, daemon=True).start()
    return 0

@module_exit
def spawner_exit():
    pass
MODULE_LICENSE("GPL")
"""

INNOCENT = """
import builtins

@module_init
def innocent_init():
    ev = builtins._kmsim_thread_test
    ev["go"].set()                 # the spawner's thread allocates while this init runs
    ev["done"].wait(30)
    return 0

@module_exit
def innocent_exit():
    pass
MODULE_LICENSE("GPL")
"""


def test_a_module_threads_allocations_are_charged_to_it(shell, tmp_path, monkeypatch):
    import builtins
    import threading
    monkeypatch.setattr(builtins, "_kmsim_thread_test",
                        {"go": threading.Event(), "done": threading.Event()}, raising=False)
    spawner, innocent = write(tmp_path, "spawner", SPAWNER), write(tmp_path, "innocent", INNOCENT)
    assert shell.execute(f"insmod {spawner}; insmod {innocent}").status == 0
    assert builtins._kmsim_thread_test["done"].is_set()
    r = shell.execute("rmmod innocent")
    assert r.status == 0 and r.err == ""
    r = shell.execute("rmmod spawner")
    assert r.err == "rmmod: spawner left 3 objects (384 bytes) allocated\n"


def write_mod(tmp_path, name, body):
    p = tmp_path / f"{name}.py"
    p.write_text(textwrap.dedent(body))
    return str(p)


HEAD_LOADER = """
from kmsim.linux.module import *
from kmsim.linux.printk import *
from kmsim.linux.gfp import *
from kmsim.linux.errno import *
"""


def dmesg(sh):
    return sh.execute("dmesg").out


def test_listing1_loads_lists_and_unloads(shell):
    r = shell.execute("insmod modules/zone_allocator.py")
    assert r.status == 0 and r.err == ""
    r = shell.execute("lsmod")
    assert r.out.splitlines()[0] == "Module                  Size  Used by"
    assert r.out.splitlines()[1].split() == ["zone_allocator", r.out.split()[5], "0"]
    assert shell.execute("rmmod zone_allocator").status == 0
    d = dmesg(shell)
    assert "zone_allocator: loading out-of-tree module taints kernel." in d
    assert ("zone_allocator: module verification failed: signature and/or required key missing - "
            "tainting kernel") in d
    assert d.count("Pages address: ") == 3 and d.count("Page address: ") == 2
    assert shell.execute("cat /proc/sys/kernel/tainted").out == "12288\n"


def test_taint_lines_only_for_first_module_of_boot(shell):
    shell.execute("insmod modules/hello.py; rmmod hello; insmod modules/zone_allocator.py")
    assert dmesg(shell).count("loading out-of-tree module taints kernel.") == 1


def test_insmod_twice_is_file_exists(shell):
    shell.execute("insmod modules/hello.py")
    r = shell.execute("insmod modules/hello.py")
    assert r.err == "insmod: ERROR: could not insert module modules/hello.py: File exists\n"
    assert r.status == 1


def test_rmmod_not_loaded(shell):
    r = shell.execute("rmmod hello")
    assert r.err == "rmmod: ERROR: Module hello is not currently loaded\n" and r.status == 1
    assert shell.execute("rmmod hello.py").err == "rmmod: ERROR: Module hello is not currently loaded\n"


def test_missing_file(shell):
    r = shell.execute("insmod nothere.py")
    assert r.err == "insmod: ERROR: could not load module nothere.py: No such file or directory\n"


def test_init_returning_enomem(shell, tmp_path):
    f = write_mod(tmp_path, "err_enomem", HEAD_LOADER + """
@module_init
def i():
    pr_alert("err_enomem: init returns -ENOMEM\\n")
    return -ENOMEM
MODULE_LICENSE("GPL")
""")
    r = shell.execute(f"insmod {f}")
    assert r.err == f"insmod: ERROR: could not insert module {f}: Cannot allocate memory\n"
    assert r.status == 1
    assert "err_enomem" not in shell.execute("lsmod").out
    assert "err_enomem: init returns -ENOMEM" in r.console     # pr_alert reaches the console


def test_init_returning_einval_is_invalid_parameters(shell, tmp_path):
    f = write_mod(tmp_path, "einv", HEAD_LOADER + "module_init(lambda: -EINVAL)\nMODULE_LICENSE('GPL')\n")
    assert shell.execute(f"insmod {f}").err.endswith(": Invalid parameters\n")


def test_proprietary_license_taints_p(shell, tmp_path):
    f = write_mod(tmp_path, "err_proprietary", HEAD_LOADER + "MODULE_LICENSE('Proprietary')\n")
    assert shell.execute(f"insmod {f}").status == 0
    d = dmesg(shell)
    assert "err_proprietary: module license 'Proprietary' taints kernel." in d
    assert "Disabling lock debugging due to kernel taint" in d
    assert shell.execute("cat /proc/sys/kernel/tainted").out == "12289\n"
    assert shell.execute("cat /proc/modules").out.rstrip().endswith("(POE)")


def test_missing_license_is_unspecified(shell, tmp_path):
    f = write_mod(tmp_path, "nolic", HEAD_LOADER)
    shell.execute(f"insmod {f}")
    assert "nolic: module license 'unspecified' taints kernel." in dmesg(shell)


def test_syntax_error_is_invalid_module_format(shell, tmp_path):
    f = write_mod(tmp_path, "broken", "def f(:\n")
    r = shell.execute(f"insmod {f}")
    assert r.err.endswith("Invalid module format\n")
    assert "broken: invalid module format: SyntaxError" in dmesg(shell)
    assert "(broken.py, line 1)" in dmesg(shell)


def test_exception_in_init_is_an_oops_and_module_stays_used(shell, tmp_path):
    f = write_mod(tmp_path, "err_raise", HEAD_LOADER + """
def helper(x):
    return x + "a"
@module_init
def raiser_init():
    return helper(1)
@module_exit
def e():
    pass
MODULE_LICENSE("GPL")
""")
    r = shell.execute(f"insmod {f}")
    assert r.err == "Segmentation fault\n" and r.status == 139
    d = dmesg(shell)
    assert "kernel BUG at err_raise.py:" in d
    assert "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI" in d
    assert "RIP: 0010:helper+0x" in d and " raiser_init+0x" in d and "[err_raise]" in d
    assert not any(line.split("] ", 1)[-1].startswith(" helper+0x") for line in d.splitlines())
    assert "kmsim: the module raised TypeError" in d
    assert shell.execute("lsmod").out.splitlines()[1].split()[2] == "1"
    assert shell.execute("rmmod err_raise").err == "rmmod: ERROR: Module err_raise is in use\n"
    assert shell.execute("rmmod -f err_raise").status == 0
    assert shell.execute("cat /proc/sys/kernel/tainted").out.strip() == str(12288 | 128 | 8)


def test_null_dereference_oops(shell, tmp_path):
    f = write_mod(tmp_path, "nullderef", HEAD_LOADER + """
from kmsim.linux.err import *
@module_init
def n_init():
    return __import__("kmsim").kernel.current_kernel().vm.read_int(0x10, 4)
MODULE_LICENSE("GPL")
""")
    r = shell.execute(f"insmod {f}")
    assert (r.status, r.err) == (137, "Killed\n")       # page_fault_oops: SIGKILL (kfree1-run2)
    d = dmesg(shell)
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000010" in d
    assert "#PF: supervisor read access in kernel mode" in d
    assert "#PF: error_code(0x0000) - not-present page" in d


def test_exception_in_exit_leaves_the_module_unloading(shell, tmp_path):
    f = write_mod(tmp_path, "badexit", HEAD_LOADER + """
module_init(lambda: 0)
def ex():
    raise ValueError("boom")
module_exit(ex)
MODULE_LICENSE("GPL")
""")
    shell.execute(f"insmod {f}")
    r = shell.execute("rmmod badexit")
    # issue 14: free_module never runs after an Oops in exit: the module stays, Unloading
    assert "badexit" in shell.execute("lsmod").out
    assert " Unloading " in shell.execute("cat /proc/modules").out
    assert "kernel BUG at badexit.py:" in dmesg(shell)
    assert (r.err, r.status) == ("Segmentation fault\n", 139)
    r = shell.execute("rmmod badexit")
    assert r.status == 1         # delete_module: "already dying"
    assert r.err == "rmmod: ERROR: could not remove module badexit: Device or resource busy\n"
    assert shell.execute("rmmod -f badexit").status == 0
    assert "badexit" not in shell.execute("lsmod").out


def test_page_fault_in_exit_kills_rmmod_and_reboot_clears_the_module(shell, tmp_path):
    """An Oops of the page-fault kind in exit: rmmod is Killed (137, as kfree1-run2's insmod),
    the module stays Unloading, and reboot clears it as after an Oops in init."""
    f = write_mod(tmp_path, "npdexit", HEAD_LOADER + """
from kmsim.linux import u32
module_init(lambda: 0)
def npd_exit():
    u32.array_at(0, 1)[0]
module_exit(npd_exit)
MODULE_LICENSE("GPL")
""")
    shell.execute(f"insmod {f}")
    r = shell.execute("rmmod npdexit")
    assert (r.err, r.status) == ("Killed\n", 137)
    assert shell.execute("cat /proc/modules").out.startswith("npdexit 16384 0 - Unloading 0x")
    assert "Modules linked in: npdexit(OE-)" in dmesg(shell)
    assert shell.execute("rmmod npdexit").status == 1
    shell.execute("reboot")
    assert shell.execute("lsmod").out == "Module                  Size  Used by\n"
    assert shell.execute(f"insmod {f}").status == 0


def test_params_set_and_shown_in_sysfs(shell):
    assert shell.execute("insmod modules/hello.py who=class").status == 0
    assert shell.execute("cat /sys/module/hello/parameters/who").out == "class\n"
    shell.execute("rmmod hello")
    assert "Goodbye, class!" in dmesg(shell)


def test_unknown_and_invalid_parameters(shell, tmp_path):
    f = write_mod(tmp_path, "prm", HEAD_LOADER + ("count = 5\nmodule_param('count', 'int', "
                                       "0o644)\nMODULE_LICENSE('GPL')\n"))
    r = shell.execute(f"insmod {f} bogus=1")
    assert r.status == 0 and "prm: unknown parameter 'bogus' ignored" in dmesg(shell)
    shell.execute("rmmod prm")
    r = shell.execute(f"insmod {f} count=abc")
    assert r.err.endswith("Invalid parameters\n")
    assert "prm: `abc' invalid for parameter `count'" in dmesg(shell)
    assert shell.execute(f"insmod {f} count=7; cat /sys/module/prm/parameters/count").out == "7\n"


def test_init_returning_positive_warns_and_loads(shell, tmp_path):
    f = write_mod(tmp_path, "pos", HEAD_LOADER + "module_init(lambda: 3)\nMODULE_LICENSE('GPL')\n")
    assert shell.execute(f"insmod {f}").status == 0
    assert ("do_init_module: 'pos'->init suspiciously returned 3, it should follow 0/-E convention"
            in dmesg(shell))


def test_modinfo_fields(shell):
    out = shell.execute("modinfo modules/zone_allocator.py").out.splitlines()
    keys = [line.split(":", 1)[0] for line in out]
    # kmod prints the module's own entries last declared first, then srcversion (versioned)
    assert keys[:6] == ["filename", "version", "description", "author", "license", "srcversion"]
    assert "license:        GPL" in out
    assert any(line.startswith("vermagic:       6.1.0-kmsim") for line in out)


def test_module_without_exit_cannot_be_removed(shell, tmp_path):
    f = write_mod(tmp_path, "noexit", HEAD_LOADER + "module_init(lambda: 0)\nMODULE_LICENSE('GPL')\n")
    shell.execute(f"insmod {f}")
    assert shell.execute("rmmod noexit").err == ("rmmod: ERROR: could not remove 'noexit': Device "
                                                 "or resource busy\n"
                                                 "rmmod: ERROR: could not remove module noexit: "
                                                 "Device or resource busy\n")


def test_symbol_get_makes_module_in_use(shell, tmp_path):
    a = write_mod(tmp_path, "provider", HEAD_LOADER + ("def f():\n    return 1\nEXPORT_SYMBOL(f)\n"
                                            "module_exit(lambda: None)\nMODULE_LICENSE('GPL')\n"))
    b = write_mod(tmp_path, "user", HEAD_LOADER + ("g = symbol_get('f')\nmodule_exit(lambda: "
                                        "None)\nMODULE_LICENSE('GPL')\n"))
    shell.execute(f"insmod {a}; insmod {b}")
    assert shell.execute("rmmod provider").err == "rmmod: ERROR: Module provider is in use by: user\n"
    assert "provider" in shell.execute("lsmod").out.split("\n")[2] or "user" in shell.execute("lsmod").out
    assert shell.execute("rmmod user; rmmod provider").status == 0


def test_pages_freed_at_rmmod_return_to_boot_state(shell):
    k = shell.kernel
    k.buddy.drain_all_pages()
    before = [z.nr_free for z in k.buddy.zones]
    shell.execute("insmod modules/zone_allocator.py; rmmod zone_allocator")
    k.buddy.drain_all_pages()
    assert [z.nr_free for z in k.buddy.zones] == before


def test_integer_parameters_parse_as_kstrtox_base_0():
    """010 is octal, 0x hex, a sign where the type has one; out of range is -ERANGE."""
    sh = make_shell()
    mod = "tests/check_modules/params_kstrtox.py"
    r = sh.execute(f"insmod {mod} u=010 i=-0x10 sh=+7 h=255")
    assert r.status == 0
    assert "p: u=8 i=-16 sh=7 h=0xff" in sh.execute("dmesg").out
    assert sh.execute("cat /sys/module/params_kstrtox/parameters/h").out == "0x0000ff\n"
    sh.execute("rmmod params_kstrtox")
    r = sh.execute(f"insmod {mod} sh=40000")
    assert r.err == f"insmod: ERROR: could not insert module {mod}: Numerical result out of range\n"
    for bad in ("u=-1", "u=08", "i=0x", "i=1e3"):
        r = sh.execute(f"insmod {mod} {bad}")
        assert r.err == f"insmod: ERROR: could not insert module {mod}: Invalid parameters\n", bad


def test_lsmod_size_follows_the_module(tmp_path):
    # the reference: 16384 for modules with an exit function, 12288 for err_kfree_bad (none)
    sh = make_shell(mem="512M")
    sh.execute("insmod tests/slab_modules/err_kfree_bad.py mode=1")
    assert "err_kfree_bad          12288  1" in sh.execute("lsmod").out.splitlines()
    assert sh.execute("insmod modules/hello.py; lsmod").out.splitlines()[1].split()[1] == "16384"
    big = tmp_path / "big.py"
    big.write_text("from kmsim.linux import *\n" + "".join(
        f"def f{i}(a, b):\n    return a * {i} + b - {i} if a > b else b * {i} - a\n" for i in range(400))
        + "module_init(lambda: 0)\nmodule_exit(lambda: None)\nbuf = (u8 * 20000).static()\n"
          "MODULE_LICENSE('GPL')\n")
    sh.execute(f"insmod {big}")
    size = int(next(ln for ln in sh.execute("lsmod").out.splitlines() if ln.startswith("big ")).split()[1])
    assert size > 16384 + 20000 and size % 4096 == 0


@pytest.mark.skipif(not Path("/work/shared/reference/modules").is_dir(), reason="no reference modules")
def test_lsmod_size_of_the_reference_c_modules_is_the_references():
    """transcript-main, -kfree1-run2, -dfree*: zone, slab, vk, err_proprietary and
    err_doublefree 16384, err_kfree_bad (no exit function) 12288."""
    ref = Path("/work/shared/reference/modules")
    sh = make_shell(mem="512M")
    for name, args in [("zone", ""), ("slab", ""), ("vk", ""), ("err_proprietary", ""),
                       ("err_doublefree", "plain=1"), ("err_kfree_bad", "mode=1")]:
        sh.execute(f"insmod {ref}/{name}.c {args}")
    sizes = {ln.split()[0]: int(ln.split()[1]) for ln in sh.execute("lsmod").out.splitlines()[1:]}
    assert sizes == {"zone": 16384, "slab": 16384, "vk": 16384, "err_proprietary": 16384,
                     "err_doublefree": 16384, "err_kfree_bad": 12288}


def _run(sh, line):
    return sh.execute(line)


def test_bare_parameter_name_is_invalid_for_charp():
    sh = make_shell()
    r = _run(sh, "insmod modules/hello.py who")
    assert r.status == 1
    assert "could not insert module modules/hello.py: Invalid parameters" in r.err
    assert "hello: `' invalid for parameter `who'" in _run(sh, "dmesg").out
    assert _run(sh, "lsmod").out == "Module                  Size  Used by\n"


@pytest.mark.e2e
def test_modinfo_json_is_one_object():
    r = run_kmsim("--json", "-c", "modinfo hello")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["name"] == "hello" and d["parm"] == ["who:whom to greet (charp)"]
    assert d["author"] == ["kmsim"] and list(d)[0] == "filename"


def test_modinfo_of_a_file_that_is_not_a_module_and_vermagic():
    sh = make_shell()
    r = _run(sh, "modinfo tests/bad_modules/syntax_error.py")
    assert r.status == 1
    assert r.err == "modinfo: ERROR: could not get modinfo from 'syntax_error': Exec format error\n"
    out = _run(sh, "modinfo hello").out
    assert "vermagic:       6.1.0-kmsim SMP preempt mod_unload modversions \n" in out
    _run(sh, "insmod modules/hello.py")
    assert _run(sh, "modinfo hello").out == out          # a loaded module, by name


def test_lsmod_takes_no_arguments():
    r = make_shell().execute("lsmod x")
    assert r.status == 2 and r.err.startswith("lsmod: ")


def test_pS_names_a_module_function(tmp_path):
    mod = tmp_path / "sym.py"
    mod.write_text("from kmsim.linux import *\n"
                   "@module_init\n"
                   "def sym_init():\n"
                   "    pr_info('at %pS and %pS\\n', sym_init, 0x1234)\n"
                   "    return 0\n"
                   "MODULE_LICENSE('GPL')\n")
    sh = make_shell()
    assert sh.execute(f"insmod {mod}").status == 0
    assert "at sym_init+0x0/0x47 [sym] and 0x1234" in sh.execute("dmesg").out


def test_modprobe_r_of_a_known_module_that_is_not_loaded():
    sh = make_shell()
    r = _run(sh, "modprobe -r hello")
    assert r.status == 1 and r.err == "modprobe: FATAL: Module hello is not in kernel.\n"
    r = _run(sh, "modprobe -r nosuch")
    assert r.status == 1 and r.err == "modprobe: FATAL: Module nosuch not found.\n"


def test_first_warning_of_a_boot_is_not_yet_tainted_W():
    sh = make_shell()
    _run(sh, "insmod tests/bad_modules/huge_order.py")
    out = _run(sh, "dmesg").out
    assert "Comm: insmod Tainted: G           OE      6.1.0-kmsim" in out     # as the reference
    assert int(_run(sh, "cat /proc/sys/kernel/tainted").out) & 512          # W afterwards


def test_suspicious_init_return_dumps_insmods_stack():
    sh = make_shell()
    assert _run(sh, "insmod tests/bad_modules/init_returns_positive.py").status == 0
    out = _run(sh, "dmesg").out
    assert "suspiciously returned 5, it should follow 0/-E convention" in out
    assert "Comm: insmod Tainted" in out and "Comm: kmsim" not in out
    assert " do_init_module+0x1b6/0x1f0\n" in out and "__do_sys_finit_module" in out


def test_module_file_with_a_bom_loads(tmp_path):
    mod = tmp_path / "bommod.py"
    mod.write_bytes(b"\xef\xbb\xbf" + (Path(__file__).parent.parent / "modules/hello.py").read_bytes())
    sh = make_shell()
    assert _run(sh, f"insmod {mod}").status == 0
    assert "description:    Hello world" in _run(sh, f"modinfo {mod}").out.splitlines()


def test_bool_parameters_parse_as_kstrtobool(tmp_path):
    mod = tmp_path / "prm.py"
    mod.write_text("from kmsim.linux import *\nb = False\nmodule_param('b', 'bool', 0o644)\n"
                   "@module_init\ndef init():\n    pr_info('b=%d\\n', b)\n    return 0\n"
                   "@module_exit\ndef ex():\n    pass\nMODULE_LICENSE('GPL')\n")
    for arg, want in (("b=yes", 1), ("b=TRUE", 1), ("b=off", 0), ("b", 1), ("b=f", 0)):
        sh = make_shell()
        assert _run(sh, f"insmod {mod} {arg}").status == 0, arg
        assert _run(sh, "dmesg | tail -n 1").out.endswith(f"b={want}\n"), arg
    for arg in ("b=", "b=o", "b=x"):
        assert make_shell().execute(f"insmod {mod} {arg}").status == 1, arg


def test_modinfo_parm_without_description_is_name_colon_type(tmp_path):
    mod = tmp_path / "nodesc.py"
    mod.write_text("from kmsim.linux import *\nn = 0\nmodule_param('n', 'int', 0o444)\n"
                   "MODULE_LICENSE('GPL')\n")
    assert "parm:           n:int\n" in make_shell().execute(f"modinfo {mod}").out
