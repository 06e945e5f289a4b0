"""kmemleak's stack depot: each leaked object's backtrace names the lines that allocated it,
however often a line allocates, through helpers, generators and recursion."""
from conftest import make_shell

SRC = '''from kmsim.linux import *


def helper(size):
    return kmalloc(size, GFP_KERNEL)


def gen(n):
    for _ in range(n):
        yield kmalloc(16, GFP_KERNEL)


def deep(d):
    if d == 0:
        return alloc_pages(GFP_KERNEL, 1)
    return deep(d - 1)


def depot_init():
    for i in range(3):
        helper(40 + i)
    helper(200)
    list(gen(2))
    deep(2)
    for _ in range(2):
        __get_free_page(GFP_KERNEL)
    return 0


def depot_exit():
    pass


module_init(depot_init)
module_exit(depot_exit)
MODULE_LICENSE("GPL")
'''


def _frame(src: str, fn: str, needle: str) -> str:
    """The backtrace line kmemleak prints for the call in fn on the line holding needle."""
    lines = src.splitlines()
    first = next(i for i, t in enumerate(lines, 1) if t.startswith(f"def {fn}("))
    line = next(i for i, t in enumerate(lines, 1) if i > first and needle in t)
    return f"{fn}+{(line - first) * 0x10 + 4:#x}/"


def test_every_leaked_object_names_its_own_allocation_lines(tmp_path):
    path = tmp_path / "depot.py"
    path.write_text(SRC)
    sh = make_shell()
    assert sh.execute(f"insmod {path}").status == 0
    r = sh.execute("rmmod depot")
    assert r.err.strip() == "rmmod: depot left 9 objects (16739 bytes) allocated"
    kl = sh.kernel.kmemleak
    traces = [(o.kind, o.size, [t for t in o.trace if "[depot]" in t]) for o in kl.suspects()]
    init = "depot_init"
    h, g, d = (_frame(SRC, "helper", "kmalloc"), _frame(SRC, "gen", "kmalloc"),
               _frame(SRC, "deep", "alloc_pages"))
    want = [("kmalloc", 40 + i, [h, _frame(SRC, init, "helper(40 + i)")]) for i in range(3)]
    want += [("kmalloc", 200, [h, _frame(SRC, init, "helper(200)")])]
    want += [("kmalloc", 16, [g, _frame(SRC, init, "list(gen(2))")])] * 2
    dd = _frame(SRC, "deep", "return deep(d - 1)")
    want += [("page", 8192, [d, dd, dd, _frame(SRC, init, "deep(2)")])]
    want += [("page", 4096, [_frame(SRC, init, "__get_free_page")])] * 2
    got = [(kind, size, [t.split("+")[0] + "+" + t.split("+")[1].split("/")[0] + "/" for t in tr])
           for kind, size, tr in traces]
    assert sorted(map(str, got)) == sorted(map(str, want))
