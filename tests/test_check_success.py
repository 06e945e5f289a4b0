"""kmsim check: init returning 0 after an allocator gave the module NULL is a finding."""
from __future__ import annotations

from conftest import ROOT

from kmsim.check import check_module

IGNORES_NULL = '''from kmsim.linux import *
buf = 0
@module_init
def i_init():
    global buf
    buf = kmalloc(64, GFP_KERNEL)
    if IS_ERR(buf):
        return -ENOMEM
    return 0
@module_exit
def i_exit():
    if buf:
        kfree(buf)
MODULE_LICENSE("GPL")
'''


def test_null_noticed_by_nobody_is_success_despite_failure(tmp_path):
    f = tmp_path / "ignores.py"
    f.write_text(IGNORES_NULL)
    runs = check_module(str(f))
    assert runs[0]["verdict"] == "clean"
    first = runs[1]["findings"][0]
    assert first["kind"] == "success-despite-failure"
    assert "kmalloc() returned NULL" in first["hints"][0]


def test_mempool_reserve_is_not_a_failure():
    runs = check_module(str(ROOT / "modules" / "exercise4.py"))
    assert all(r["verdict"] == "clean" for r in runs)
    assert len(runs) > 2          # the failed allocations below mempool_alloc were tried
