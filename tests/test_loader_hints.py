"""The loader's hints for a beginner's mistakes (kmsim/loader_hints.py, kmsim/module.py):
each is one `kmsim:` line with the module's file and line."""
from __future__ import annotations

import re

import pytest
from conftest import make_shell

from kmsim.check import check_module
from kmsim.loader_hints import is_err_hint

HEAD = "from kmsim.linux import *\n\n"
TAIL = "\n@module_exit\ndef t_exit():\n    pass\n\nMODULE_LICENSE('GPL')\n"


def load(tmp_path, body: str, append: str = ""):
    path = tmp_path / "t.py"
    path.write_text(HEAD + body + TAIL)
    sh = make_shell(append=append)
    r = sh.execute(f"insmod {path}")
    return sh, r


def hints(sh) -> list[str]:
    out = sh.execute("dmesg").out.splitlines()
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in out if "] kmsim: " in ln]


def line_of(body: str, text: str) -> int:
    """The line of the module file (HEAD + body) that holds text."""
    return (HEAD + body).splitlines().index(text) + 1


# an Oops in init: 'Segmentation fault' (139), or 'Killed' (137) where a page fault kills insmod
OOPS = (137, 139)
FELL_OFF = "@module_init\ndef t_init():\n    pr_info('hello\\n')\n"


def test_init_falling_off_its_end_is_a_warning_at_insmod(tmp_path):
    sh, r = load(tmp_path, FELL_OFF)
    assert (r.status, r.err) == (0, "")
    where = line_of(FELL_OFF, "    pr_info('hello\\n')")
    assert hints(sh) == [f"kmsim: t.py:{where}: "
                         "t_init() returned None: an init returns 0 or a negative errno; this one "
                         "fell off its end (add 'return 0'); t is loaded as if it returned 0"]
    assert sh.kernel.modules.modules["t"].init_returned_none
    assert sh.execute("lsmod").out.splitlines()[1].split() == ["t", "16384", "0"]


def test_init_returning_0_gets_no_warning(tmp_path):
    sh, r = load(tmp_path, FELL_OFF + "    return 0\n")
    assert r.status == 0 and hints(sh) == []
    assert not sh.kernel.modules.modules["t"].init_returned_none


def test_kmsim_check_finds_an_init_that_falls_off_its_end(tmp_path):
    path = tmp_path / "fell.py"
    path.write_text(HEAD + FELL_OFF + TAIL)
    runs = check_module(str(path))
    assert [f["kind"] for f in runs[0]["findings"]] == ["init-returned-none"]
    assert "t_init() returned None" in str(runs[0]["findings"][0])
    path.write_text(HEAD + FELL_OFF + "    return 0\n" + TAIL)
    assert check_module(str(path))[0]["verdict"] == "clean"


IS_ERR_VIA_VIEW = """class big(Struct):
    _fields_ = [("a", int_), ("b", char * 8)]

@module_init
def t_init():
    buf = kmalloc(1 << 30, GFP_KERNEL | __GFP_NOWARN)
    if IS_ERR(buf):
        return PTR_ERR(buf)
    b = big.at(buf)
    b.a = 1
    return 0
"""

IS_ERR_VIA_CALL = """def fill(p):
    arr = int_.array_at(p, 4)
    arr[0] = 1

@module_init
def t_init():
    buf = vmalloc(1 << 40)
    if IS_ERR(buf):
        return PTR_ERR(buf)
    fill(buf)
    return 0
"""

IS_ERR_VIA_API = """@module_init
def t_init():
    buf = kmalloc(1 << 30, GFP_KERNEL | __GFP_NOWARN)
    if IS_ERR(buf):
        return PTR_ERR(buf)
    memset(buf, 0, 16)
    return 0
"""


@pytest.mark.parametrize("body,fault,alloc", [
    (IS_ERR_VIA_VIEW, "    b.a = 1", "kmalloc"),
    (IS_ERR_VIA_CALL, "    fill(buf)", "vmalloc"),
    (IS_ERR_VIA_API, "    memset(buf, 0, 16)", "kmalloc"),
], ids=["through-a-view", "through-a-call", "in-an-api-function"])
def test_is_err_hint_wherever_the_null_reached_the_fault(tmp_path, body, fault, alloc):
    sh, r = load(tmp_path, body)
    assert r.status == 137                  # a page fault: SIGKILL (issue 14)
    test_line = line_of(body, "    if IS_ERR(buf):")
    alloc_line = next(i for i, ln in enumerate((HEAD + body).splitlines(), 1) if f"= {alloc}(" in ln)
    assert (f"kmsim: t.py:{test_line} tests buf with IS_ERR only, but {alloc}() returns NULL on "
            f"failure, not an error pointer: IS_ERR(NULL) is false, so t.py:{line_of(body, fault)} "
            f"used the NULL from line {alloc_line}; test it with 'if not buf:'") in hints(sh)
    assert "'rmmod -f t' or 'reboot' clears it" in hints(sh)[-1]


def test_is_err_hint_on_every_machine_and_with_kasan(tmp_path):
    for machine, append in (("i386", ""), ("rpi2", ""), ("x86_64", "kasan")):
        (tmp_path / "t.py").write_text(HEAD + IS_ERR_VIA_VIEW + TAIL)
        sh = make_shell(machine, append=append)
        # a page fault kills insmod (137); ARM's die() and KASAN's #GP send SIGSEGV (139)
        assert sh.execute(f"insmod {tmp_path / 't.py'}").status == (137 if machine == "i386" else 139)
        assert any("tests buf with IS_ERR only" in h for h in hints(sh)), machine


def test_no_is_err_hint_when_the_null_was_tested():
    src = ("def f():\n    p = kmalloc(8, GFP_KERNEL)\n    if IS_ERR(p) or not p:\n        return 1\n"
           "    q = T.at(p)\n    q.a = 1\n")
    assert is_err_hint(src, 1, 6, "m.py", {"p": 0, "q": None}) is None
    src = src.replace(" or not p", "")
    assert is_err_hint(src, 1, 6, "m.py", {"p": 0}).startswith("m.py:3 tests p with IS_ERR only")
    assert is_err_hint(src, 1, 6, "m.py", {"p": 0x1000}) is None     # not the NULL that faulted


def test_ctrl_c_in_init_says_rmmod_f_clears_it(tmp_path):
    body = "@module_init\ndef t_init():\n    raise KeyboardInterrupt\n"
    sh, r = load(tmp_path, body)
    assert (r.status, r.err) == (130, "Interrupted\n")
    assert hints(sh)[-1] == ("kmsim: t stays loaded with 'Used by 1' as its init was interrupted; "
                             "'rmmod -f t' or 'reboot' clears it")
    assert sh.execute("rmmod -f t").status == 0


def test_a_type_error_names_the_module_line(tmp_path):
    body = ("class ex(Struct):\n    _fields_ = [(\"id\", unsigned_int)]\n\n@module_init\ndef t_init():\n"
            "    x = ex.at(kzalloc(sizeof(ex), GFP_KERNEL))\n    x.id = \"seven\"\n    return 0\n")
    sh, r = load(tmp_path, body)
    assert r.status in OOPS
    where = line_of(body, '    x.id = "seven"')
    assert (f"kmsim: the module raised TypeError: id is unsigned int: assign an int, not str 'seven' "
            f"(at t.py:{where})") in hints(sh)


def test_fields_are_checked_where_the_class_is_defined(tmp_path):
    body = ("class node(Struct):\n    _fields_ = [(\"value\", int), (\"next\", pointer)]\n\n"
            "@module_init\ndef t_init():\n    return 0\n")
    sh, r = load(tmp_path, body)
    assert r.status == 1
    assert ("t: invalid module format: TypeError: struct node: member 'value' has type Python's "
            "int, which is not a C type: use int_ (or unsigned_int, long, u32 ...) (t.py, line 3)"
            ) in sh.execute("dmesg").out
