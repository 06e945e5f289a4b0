"""Helpers for tests that write a small module file and load it: one place for each form.

- load(tmp_path, body): a module whose body defines t_init/t_exit, in a fresh shell.
- load_nodes(shell, tmp_path, name, body): an init body run over list.h nodes.
- module_file(tmp_path, name, body): a module whose init is body, written to a file.
- source_file(tmp_path, name, body): body as the whole module (with the licence), written to a file.
"""
from __future__ import annotations

import re

from conftest import make_shell

HEADER = "from kmsim.linux import *\n"
FOOTER = "\nmodule_init(t_init)\nmodule_exit(t_exit)\nMODULE_LICENSE('GPL')\n"


def load(tmp_path, body: str, machine="x86_64", append="", name="t"):
    """A shell with the module (body defines t_init/t_exit) loaded; returns (shell, status)."""
    src = HEADER + body + FOOTER
    (tmp_path / f"{name}.py").write_text(src)
    sh = make_shell(machine, append=append)
    r = sh.execute(f"insmod {tmp_path / name}.py")
    return sh, r.status


def texts(sh) -> list[str]:
    """dmesg's lines without their timestamps."""
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in sh.execute("dmesg").out.splitlines()]


LIST_MODULE = '''from kmsim.linux import *
class node(Struct):
    _fields_ = [("value", int_), ("list", list_head)]
numbers = LIST_HEAD()
def build(k):
    for v in range(k):
        n = node.at(kmalloc(sizeof(node), GFP_KERNEL))
        n.value = v
        list_add_tail(addressof(n, "list"), numbers)
def e():
    pass
module_init(i); module_exit(e); MODULE_LICENSE("GPL")
'''


def load_nodes(shell, tmp_path, name, body):
    """insmod a module whose init is body (with build(k) and numbers); its dmesg lines."""
    (tmp_path / f"{name}.py").write_text("def i():\n" + body + "\n" + LIST_MODULE)
    seq = shell.kernel.printk.next_seq
    shell.execute(f"insmod {tmp_path / name}.py")
    return [r.text for r in shell.kernel.printk.since(seq)]


INIT_MODULE = """from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.types import *


@module_init
def {name}_init():
{body}
    return 0


MODULE_LICENSE("GPL")
"""


def module_file(tmp_path, name, body):
    """The path of a module file named name whose init runs body and returns 0."""
    p = tmp_path / f"{name}.py"
    p.write_text(INIT_MODULE.format(name=name, body=body))
    return str(p)


def source_file(tmp_path, name, body):
    """The path of a module file named name: kmsim.linux's names, body, the GPL licence."""
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + body + "\nMODULE_LICENSE(\"GPL\")\n")
    return path


def log_text(k) -> str:
    """The visible log's texts, one line each, without timestamps."""
    return "\n".join(r.text for r in k.printk.visible())


def messages(sh):
    """dmesg's texts (the part after the timestamp)."""
    return [line.split("] ", 1)[1] if "] " in line else "" for line in sh.execute("dmesg").out.splitlines()]
