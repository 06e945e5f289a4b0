"""The module loader against hostile modules: what any exception, a long name, a coding
declaration, a NUL byte, a huge file or a module's print() does (issue 15)."""
from __future__ import annotations

import json
import textwrap

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
