"""kmsim check: the error-path explorer over buggy, clean and lab modules."""
import json
import re

import pytest
from conftest import ROOT, run_kmsim

from kmsim.check import check_module, choose_calls, format_runs, is_err_hint

LAB_MODULES = sorted(p.name for p in (ROOT / "modules").glob("*.py"))
# Lab listings whose error paths really are wrong (reported to the lead):
XFAIL = {     # the lab's listings keep the guide's IS_ERR tests: check must say so
    "zone_allocator.py": "the lab's listing 1 tests alloc_pages() with IS_ERR (NULL is not an "
                         "error pointer) and never frees earlier pages when a later allocation fails",
    "mempool.py": "the lab's listing tests mempool_create() with IS_ERR only: a failed "
                  "mempool_create() is then used as a pool",
    "slab_cache.py": "the lab's listing 2 tests kmem_cache_alloc() with IS_ERR only: init "
                     "succeeds without its object",
    "kmalloc_vmalloc.py": "the lab's listing 4 tests vmalloc() and kmalloc() with IS_ERR only: "
                          "init succeeds without its arrays",
}


def test_forget_free_is_flagged():
    runs = check_module(str(ROOT / "tests/check_modules/forget_free.py"))
    assert [r["k"] for r in runs] == [0, 1, 2]
    assert runs[0]["verdict"] == "clean" and runs[0]["calls"] == 2
    assert runs[1]["verdict"] == "clean" and runs[1]["init"] == -12
    bad = runs[2]
    assert bad["verdict"] == "findings" and bad["init"] == -12
    assert bad["call_site"]["line"] == 15
    assert bad["call_site"]["source"] == "second = __get_free_pages(GFP_KERNEL, 1)"
    leak = bad["findings"][0]
    assert leak["kind"] == "leak" and leak["message"] == "left 1 object (4096 bytes) allocated"
    assert leak["objects"][0]["site"]["line"] == 12
    text = "\n".join(format_runs("forget_free.py", runs))
    assert "run 2: failing call 2 at " in text and "1 of 3 runs with findings" in text


@pytest.mark.e2e
def test_clean_module_exit_status_zero_and_json():
    p = run_kmsim("check", "--json", "tests/check_modules/clean_pages.py")
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["clean"] is True and doc["schema_version"] == 1
    data = doc["submissions"][0]        # one entry per submission (issue 17)
    assert data["verdict"] == "clean" and data["calls"] == 2
    assert [r["verdict"] for r in data["runs"]] == ["clean"] * 3
    assert data["runs"][2]["call_site"]["source"] == "obj = kmalloc(100, GFP_KERNEL)"


@pytest.mark.e2e
def test_buggy_module_exit_status_one():
    p = run_kmsim("check", "tests/check_modules/forget_free.py")
    assert p.returncode == 1
    assert "leak: left 1 object (4096 bytes) allocated" in p.stdout
    assert "tests/check_modules/forget_free.py:12: first = __get_free_page(GFP_KERNEL)" in p.stdout


def test_is_err_only_gives_oops_and_hint():
    runs = check_module(str(ROOT / "tests/check_modules/is_err_only.py"))
    f = runs[1]["findings"]
    assert f[0]["kind"] == "oops"
    # check runs with KASAN, so the NULL dereference is the shadow check's #GP, decoded
    assert f[0]["message"] == "KASAN: null-ptr-deref in range [0x0000000000000000-0x0000000000000007]"
    assert any("tests buf with IS_ERR only" in h for h in f[0]["hints"])


def test_kasan_finding_in_normal_run():
    runs = check_module(str(ROOT / "tests/check_modules/kasan_oob.py"))
    assert runs[0]["findings"][0]["kind"] == "kasan"
    assert runs[0]["findings"][0]["message"].startswith("BUG: KASAN: slab-out-of-bounds in oob_init+")


@pytest.mark.e2e
def test_missing_file():
    p = run_kmsim("check", "nope.py")
    assert p.returncode == 2 and "No such file or directory" in p.stderr


def test_is_err_hint_precision():
    src = "def f():\n    p = kmalloc(8, 0)\n    if IS_ERR(p):\n        return 1\n    use(p)\n"
    assert "line 3 tests p with IS_ERR only" in is_err_hint(src, 1, 5)
    fixed = src.replace("if IS_ERR(p):", "if not p or IS_ERR(p):")
    assert is_err_hint(fixed, 1, 5) is None
    assert is_err_hint(src.replace("use(p)", "use(q)"), 1, 5) is None


@pytest.mark.parametrize("name", LAB_MODULES)
def test_lab_modules_are_clean(name):
    runs = check_module(str(ROOT / "modules" / name))
    bad = [(r["k"], r["findings"]) for r in runs if r["verdict"] != "clean"]
    if name not in XFAIL:
        assert not bad, bad
        return
    # The lab's own listings keep the guide's IS_ERR test: check must show the student why.
    found = [f for _k, fs in bad for f in fs if f["kind"] in ("oops", "success-despite-failure")]
    assert found, XFAIL[name]
    assert any("IS_ERR" in h for f in found for h in f.get("hints", [])), found


def test_lockup_and_load_failure_are_findings(tmp_path):
    runs = check_module(str(ROOT / "tests/check_modules/recurse.py"))
    assert runs[0]["findings"][0]["kind"] == "oops"
    assert runs[0]["findings"][0]["message"].startswith("BUG: TASK stack guard page was hit at ")
    bad = tmp_path / "broken.py"
    bad.write_text("def broken(:\n")
    runs = check_module(str(bad))
    assert runs[0]["findings"][0]["kind"] == "load-failed"
    assert "Invalid module format" in runs[0]["findings"][0]["message"]


def test_choose_sites_fails_each_site_twice():
    from kmsim.check import choose_sites
    sites = [{"file": "m.py", "line": 5}] * 100 + [{"file": "m.py", "line": 9}] * 3
    assert choose_sites(sites) == [1, 2, 101, 102]
    assert choose_sites(sites, 3) == [1, 2, 101]        # every site's first before any second
    assert choose_sites(sites[:1]) == [1]


def test_constructors_are_failed_and_quoted_whole():
    runs = check_module(str(ROOT / "modules/exercise4.py"))
    assert [r["k"] for r in runs] == [0, 1, 2, 3, 4]
    assert runs[1]["call_site"]["source"] == (
        'example_cachep = kmem_cache_create("example cache", sizeof(example_struct), 0, '
        'SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_RED_ZONE, example_constructor)')
    assert runs[2]["call_site"]["source"] == ("mempool_pointer = mempool_create(MINIMUM_MEMPOOL_OBJECTS, "
                                              "mempool_alloc_slab, mempool_free_slab, example_cachep)")
    assert [r["init"] for r in runs] == [0, -12, -12, 0, 0]
    assert all(r["verdict"] == "clean" for r in runs)


def test_unchecked_constructor_is_an_oops_and_unchecked_null():
    runs = check_module(str(ROOT / "tests/check_class/cache_create_unchecked.py"))
    kinds = [f["kind"] for f in runs[1]["findings"]]
    assert kinds == ["oops", "unchecked-null"]
    assert runs[1]["oops"] == "Segmentation fault" and runs[1]["init"] is None
    assert runs[1]["findings"][1]["message"] == (
        "kmem_cache_create() returned NULL at tests/check_class/cache_create_unchecked.py:11: "
        "cachep = kmem_cache_create(\"unchecked cache\", 64, 0, 0, None) and the module went on "
        "as if it had memory")


def test_licence_init_none_and_cache_left_behind():
    prop = check_module(str(ROOT / "tests/bad_modules/proprietary.py"))[0]["findings"]
    assert [f["kind"] for f in prop] == ["non-gpl-license"]
    assert prop[0]["message"].startswith('MODULE_LICENSE("Proprietary") is not GPL-compatible')
    nolic = check_module(str(ROOT / "tests/check_class/no_license.py"))[0]["findings"]
    assert [f["kind"] for f in nolic] == ["no-license"]
    none = check_module(str(ROOT / "tests/check_class/init_none.py"))
    f = none[0]["findings"][0]
    assert f["kind"] == "init-returned-none"
    assert (f["site"]["line"], f["site"]["source"]) == (13, 'pr_info("got a page\\n")')   # where it falls off
    assert none[1]["verdict"] == "clean"        # the error path returns -ENOMEM
    cache = check_module(str(ROOT / "tests/check_class/exit_leaves_cache.py"))
    assert cache[0]["findings"][0]["message"] == "cache class cache was not destroyed"
    assert cache[0]["findings"][0]["kind"] == "cache-leak"


def test_a_loop_until_null_tests_its_result():
    runs = check_module(str(ROOT / "tests/check_class/exhaust_loop.py"))
    assert [r["verdict"] for r in runs] == ["clean"] * 3
    assert runs[0]["calls"] == 225


def test_statement_text_joins_lines_and_stops_at_headers(tmp_path):
    from kmsim.check import statement_text
    f = tmp_path / "m.py"
    f.write_text("x = f(\n    1,  # one\n    2)\nif not (p := g(\n        3)):\n    pass\n"
                 "objs.append(\n    h(4))\n")
    assert statement_text(str(f), 2) == "x = f(1, 2)"
    assert statement_text(str(f), 5) == "if not (p := g(3)):"
    assert statement_text(str(f), 8) == "objs.append(h(4))"


def test_statement_text_of_a_c_module_runs_to_its_semicolon(tmp_path):
    from kmsim.check import statement_text
    f = tmp_path / "m.c"
    f.write_text("static int __init m_init(void)\n{\n\tcachep = kmem_cache_create(\"c\",  // name\n"
                 "\t\t64, 0,\n\t\t0, NULL);\n\treturn 0;\n}\n")
    assert statement_text(str(f), 3) == 'cachep = kmem_cache_create("c", 64, 0, 0, NULL);'
    assert statement_text(str(f), 6) == "return 0;"


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


@pytest.mark.e2e
def test_check_json_for_a_missing_file_is_still_json():
    import json

    from conftest import run_kmsim
    p = run_kmsim("check", "--json", "/nonexistent/mod.py")
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    data = doc["submissions"][0]        # one entry per submission (issue 17)
    assert doc["clean"] is False and data["runs"] == [] and "No such file" in data["error"]
    assert "No such file or directory" in p.stderr


@pytest.mark.e2e
def test_check_directory_and_bad_max_runs(tmp_path):
    # A folder is graded module by module since issue 17; one without modules is a usage error.
    r = run_kmsim("check", str(tmp_path))
    assert (r.returncode, r.stderr) == (2, f"kmsim check: {tmp_path}: no module files (.py, .c) "
                                           f"in this folder\n")
    assert r.stdout == f"{tmp_path}: not graded: no module files (.py, .c) in this folder\n" \
        "kmsim check: 1 submission: 0 clean, 0 with findings, 1 not graded\n"
    r = run_kmsim("check", "--json", str(tmp_path))
    assert json.loads(r.stdout)["submissions"][0]["error"] == "no module files (.py, .c) in this folder"
    r = run_kmsim("check", "--max-runs", "-1", "modules/hello.py")
    assert r.returncode == 2
    assert r.stderr.splitlines()[-1] == "kmsim check: error: argument --max-runs: must be 0 or more: '-1'"


@pytest.mark.e2e
def test_check_load_failure_says_why():
    r = run_kmsim("check", "tests/bad_modules/syntax_error.py")
    assert r.returncode == 1
    assert r.stdout.splitlines()[2:5] == [
        "  FINDINGS (init returned -8 (Invalid module format)):",
        "    load-failed: insmod failed with no injected failure: insmod: ERROR: could not "
        "insert module tests/bad_modules/syntax_error.py: Invalid module format",
        "      hint: syntax_error: invalid module format: SyntaxError: '(' was never closed "
        "(syntax_error.py, line 9)"]
    r = run_kmsim("check", "tests/bad_modules/binary_garbage.py")
    assert r.stdout.splitlines()[2] == "  FINDINGS (insmod failed):"


@pytest.mark.e2e
def test_check_caps_runs_and_flags_a_module_without_exit():
    # Issue 17: by default each call site is failed at its first and second call only.
    r = run_kmsim("check", "tests/bad_modules/alloc_until_failure.py")
    assert r.stdout.splitlines()[0] == (
        "kmsim check: tests/bad_modules/alloc_until_failure.py: 225 allocation calls, 3 runs "
        "(failing 2 of the 225 calls: the first and second at its 1 call site; --all-calls "
        "fails every one)")
    assert [ln.split(":")[0] for ln in r.stdout.splitlines() if ln.startswith("run ")] == \
        ["run 0", "run 1", "run 2"]
    r = run_kmsim("check", "--all-calls", "--max-runs", "2", "tests/bad_modules/alloc_until_failure.py")
    lines = r.stdout.splitlines()
    assert r.returncode == 1
    assert lines[0] == ("kmsim check: tests/bad_modules/alloc_until_failure.py: 225 allocation "
                        "calls, 3 runs (failing 2 of the 225 calls: the first, second and last "
                        "of each line, then the earliest; --max-runs 0 fails every one)")
    assert [ln.split(":")[0] for ln in lines if ln.startswith("run ")] == ["run 0", "run 1", "run 225"]
    assert lines[2:5] == [
        "  FINDINGS (init returned 0):",
        "    rmmod-failed: rmmod: ERROR: could not remove module alloc_until_failure: Device "
        "or resource busy",
        "      hint: the module has an init but no module_exit function: the kernel refuses "
        "to unload it until the next reboot"]
    data = json.loads(run_kmsim("check", "--json", "--all-calls", "--max-runs", "2",
                                "tests/bad_modules/alloc_until_failure.py").stdout)["submissions"][0]
    assert (data["calls"], data["untested_calls"], [x["k"] for x in data["runs"]]) == (225, 223, [0, 1, 225])


@pytest.mark.e2e
def test_check_groups_leaked_objects_by_site():
    r = run_kmsim("check", "tests/check_modules/leak_kmalloc.py")
    assert r.stdout.splitlines()[2:5] == [
        "  FINDINGS (init returned 0):",
        "    leak: left 3 objects (240 bytes) allocated",
        "      3 objects of 80 bytes (kmalloc) allocated at "
        "tests/check_modules/leak_kmalloc.py:10: ptrs.append(kmalloc(80, GFP_KERNEL))"]


def test_choose_calls_keeps_every_line_first_and_last():
    sites = [{"file": "m.py", "line": 5}] * 100 + [{"file": "m.py", "line": 9}]
    assert choose_calls(sites, 0) == list(range(1, 102))
    assert choose_calls(sites[:3], 5) == [1, 2, 3]
    assert choose_calls(sites, 3) == [1, 100, 101]
    assert choose_calls(sites, 6) == [1, 2, 3, 4, 100, 101]


def test_bad_page_state_is_a_bad_page_finding():
    """free_pages() of a slab page: the page allocator's own report, a bad-page finding."""
    runs = check_module(str(ROOT / "tests/check_modules/bad_page_free.py"))
    kinds = [(f["kind"], f["message"]) for f in runs[0]["findings"]]
    assert kinds[0][0] == "bad-page"
    assert kinds[0][1].startswith("BUG: Bad page state in process insmod  pfn:")


def test_a_warning_is_a_warning_finding():
    """An order-11 request: the page allocator's WARN_ON_ONCE, a warning finding."""
    runs = check_module(str(ROOT / "tests/check_modules/order11_warn.py"))
    f = runs[0]["findings"]
    assert [x["kind"] for x in f] == ["warning"]
    assert re.match(r"WARNING: CPU: 0 PID: \d+ at mm/page_alloc\.c:\d+ __alloc_pages\+0x", f[0]["message"])


def test_forked_runs_are_the_runs_of_their_own_boots():
    """A run forked from one boot (check.Forker) is the run a boot of its own makes."""
    from kmsim.check import Forker, boot_kernel, run_once
    path = str(ROOT / "tests/check_class/leak_on_error.py")
    forker = Forker(boot_kernel)
    runs = [forker.call(lambda k, t=t: run_once(path, t, (), k)) for t in (0, 2)]
    assert runs == [run_once(path, 0), run_once(path, 2)]
    assert runs[1]["verdict"] == "findings" and runs[1]["findings"][0]["kind"] == "leak"


def test_a_forked_run_hands_back_its_result_or_nothing():
    """The child's result comes back pickled; a child that raises or dies hands back None
    (the caller then makes that run itself) and on_death sees how it ended."""
    import os

    from kmsim.check import Forker, boot_kernel
    deaths = []
    forker = Forker(boot_kernel, collect=lambda: ["refused"], on_death=deaths.append)
    assert forker.call(lambda k: (k.mem_bytes, len(k.modules.modules))) == (1 << 30, 0)
    assert forker.collected == ["refused"]
    assert forker.call(lambda k: 1 // 0) is None and forker.collected == []
    assert forker.call(lambda k: os._exit(7)) is None
    assert [os.waitstatus_to_exitcode(s) for s in deaths] == [1, 7]
