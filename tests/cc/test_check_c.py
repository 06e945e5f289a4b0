"""kmsim check on a C module: the same runs, the C call it failed, the C lines of a leak."""
from __future__ import annotations

from pathlib import Path

import pytest

from kmsim.check import check_module, format_runs
from tests.conftest import MODULES

HERE = Path(__file__).parent


def test_check_quotes_the_c_call_it_failed_and_the_leak():
    runs = check_module(str(HERE / "modules/forget_free.c"))
    assert [r["k"] for r in runs] == [0, 1, 2]
    assert runs[0]["verdict"] == "clean" and runs[1]["verdict"] == "clean"
    bad = runs[2]
    assert bad["verdict"] == "findings" and bad["init"] == -12
    assert bad["call_site"]["line"] == 15
    assert bad["call_site"]["source"] == "second = __get_free_pages(GFP_KERNEL, 1);"
    leak = bad["findings"][0]
    assert leak["kind"] == "leak" and leak["message"] == "left 1 object (4096 bytes) allocated"
    assert leak["objects"][0]["site"]["line"] == 12


def test_check_of_a_lab_listing_in_c_finds_the_is_err_mistake():
    runs = check_module(str(MODULES / "zone_allocator.c"))
    text = "\n".join(format_runs("zone_allocator.c", runs))
    assert "failing call 1 at " in text
    assert "zone_allocator.c:15: pages_pointer = alloc_pages(GFP_KERNEL, ORDER);" in text
    assert "test it with 'if (!pages_pointer)'" in text


@pytest.mark.parametrize("name", ["zone_allocator", "slab_cache", "mempool", "exercise1"])
def test_a_c_twin_gets_the_python_modules_verdicts(name):
    c, py = (check_module(str(MODULES / f"{name}.{ext}")) for ext in ("c", "py"))
    assert [(r["k"], r["verdict"], r["init"]) for r in c] == [(r["k"], r["verdict"], r["init"]) for r in py]
    assert [[f["kind"] for f in r["findings"]] for r in c] == [[f["kind"] for f in r["findings"]] for r in py]
