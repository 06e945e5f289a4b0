"""kmsim check PATH...: a class graded in parallel, each submission in its own bounded,
sandboxed process, and the --json report valid against docs/check-schema.json."""
from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import ROOT, run_kmsim

from kmsim.check import FINDING_KINDS, format_submission, format_summary
from kmsim.check_pool import Limits, discover, grade_all, grade_one

CLASS = ROOT / "tests" / "check_class"
# What each submission of the class must show (kinds of its findings, exactly).
EXPECTED = {
    "cache_create_unchecked": ["oops", "unchecked-null"],
    "clean": [],
    "crash": ["crash"],
    "exhaust_loop": [],
    "exit_leaves_cache": ["cache-leak"],
    "exits": ["oops", "refused"],
    "init_none": ["init-returned-none"],
    "leak_on_error": ["leak"],
    "memory_hog": ["memory-limit"],
    "no_license": ["no-license"],
    "reads_host": ["oops", "refused"],
    "sleeper": ["wall-limit"],
    "spawns": ["refused"],
    "unchecked": ["oops", "unchecked-null"],
}


@pytest.fixture(scope="module")
def class_report():
    """The class graded once, as a teacher would: one command, two jobs (a short run
    timeout keeps the sleeper's cost small; the other limits are the defaults)."""
    p = run_kmsim("check", "--json", "-j", "2", "--timeout", "6", "tests/check_class", timeout=300)
    return p


@pytest.mark.e2e
def test_class_graded_with_one_command(class_report):
    p = class_report
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    got = {s["name"]: s["kinds"] for s in doc["submissions"]}
    assert got == EXPECTED
    assert [s["path"] for s in doc["submissions"]] == sorted(
        f"tests/check_class/{n}.py" for n in EXPECTED)
    assert doc["summary"] == {"submissions": 14, "clean": 2, "with_findings": 12, "errors": 0,
                              "kinds": {"cache-leak": 1, "crash": 1, "init-returned-none": 1,
                                        "leak": 1, "memory-limit": 1, "no-license": 1,
                                        "oops": 4, "refused": 3, "unchecked-null": 2,
                                        "wall-limit": 1}}
    assert doc["limits"]["run_seconds"] == 6 and doc["jobs"] == 2


@pytest.mark.e2e
def test_class_findings_name_the_line(class_report):
    subs = {s["name"]: s for s in json.loads(class_report.stdout)["submissions"]}
    reads = subs["reads_host"]["runs"][0]["findings"][0]
    assert reads["kind"] == "refused"
    assert reads["message"] == ("refused open('/etc/hostname', 'r') (reading a host file outside "
                                "the submission's folder) at tests/check_class/reads_host.py:7")
    assert reads["site"]["source"] == 'with open("/etc/hostname") as f:'
    spawn = subs["spawns"]["runs"][0]
    assert spawn["init"] == 0 and spawn["findings"][0]["site"]["line"] == 10   # it caught the error
    exits = subs["exits"]["runs"][0]["findings"][0]
    assert exits["message"] == "refused os._exit(0) at tests/check_class/exits.py:9"
    # the call that spans two lines is quoted whole
    unchecked = subs["unchecked"]["runs"][1]
    assert unchecked["call_site"]["source"] == "buf = kmalloc(64, GFP_KERNEL)"
    assert unchecked["oops"] == "Segmentation fault" and unchecked["init"] is None
    sleeper = subs["sleeper"]
    assert sleeper["stopped"] is True and sleeper["runs"][0]["findings"][0]["message"] == (
        "the run took more than 6 s of wall time and was stopped (kmsim check --timeout)")
    crash = subs["crash"]["runs"][0]["findings"][0]
    assert crash["message"] == ("the grading process died of SIGSEGV at tests/check_class/crash.py:9: "
                                "faulthandler._sigsegv()")
    assert crash["site"]["function"] == "crash_init"
    hog = subs["memory_hog"]["runs"][0]["findings"][0]
    assert hog["message"] == ("the module's code ran out of the grading process's 4096 MiB of "
                              "memory (kmsim check --mem)")
    assert hog["hints"][0].startswith("kmsim: host out of memory while running memory_hog")
    # the others were graded as usual around them
    assert subs["leak_on_error"]["runs"][2]["findings"][0]["message"] == \
        "left 1 object (64 bytes) allocated"
    assert [r["k"] for r in subs["exhaust_loop"]["runs"]] == [0, 1, 2]   # a loop costs 2 runs


@pytest.mark.e2e
def test_class_report_validates_against_the_schema(class_report):
    schema = json.loads((ROOT / "docs" / "check-schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads(class_report.stdout)
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["schema_version"] == 1
    kinds = schema["$defs"]["finding"]["properties"]["kind"]["enum"]
    assert kinds == list(FINDING_KINDS)
    missing = run_kmsim("check", "--json", "nope.py", "tests/check_class/clean.py")
    doc = json.loads(missing.stdout)          # a path not graded is an entry too
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert missing.returncode == 2 and [s["verdict"] for s in doc["submissions"]] == ["error", "clean"]


@pytest.mark.e2e
def test_class_text_lines(class_report):
    doc = json.loads(class_report.stdout)
    lines = [format_submission(s) for s in doc["submissions"]]
    assert lines[1] == "tests/check_class/clean.py: clean (3 runs)"
    assert lines[7] == ("tests/check_class/leak_on_error.py: FINDINGS in 1 of 3 runs: leak; run 2 "
                        "(failing tests/check_class/leak_on_error.py:14: b = kmalloc(256, "
                        "GFP_KERNEL)): leak: left 1 object (64 bytes) allocated")
    assert format_summary(doc["submissions"]) == "kmsim check: 14 submissions: 2 clean, 12 with findings"


def test_discover_walks_folders_in_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.py").write_text("")
    (tmp_path / "b" / "m.c").write_text("")
    (tmp_path / "a.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.py").write_text("")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "y.py").write_text("")
    (tmp_path / "empty").mkdir()
    got = discover([str(tmp_path), str(tmp_path / "empty"), str(tmp_path / "nope.py")])
    assert got == [(str(tmp_path / "a.py"), None), (str(tmp_path / "b" / "m.c"), None),
                   (str(tmp_path / "b" / "z.py"), None),
                   (str(tmp_path / "empty"), "no module files (.py, .c) in this folder"),
                   (str(tmp_path / "nope.py"), "No such file or directory")]


SANDBOXED = {
    "reads_own_folder": ('data = open(__file__.rsplit("/", 1)[0] + "/data.txt").read()\n', None),
    "imports_stdlib": ('import math, random, struct, json, decimal\n', None),
    "writes_own_folder": ('open(__file__ + ".out", "w").write("x")\n',
                          "refused open('{dir}/writes_own_folder.py.out', 'w') (writing a host file)"),
    "lists_home": ('import os\nos.listdir("/")\n',
                   "refused os.listdir('/') (a folder outside the submission's)"),
    "opens_socket": ('import socket\nsocket.socket()\n', "refused socket.socket(2, 1) (sockets)"),
    "loads_libc": ('import ctypes\nctypes.CDLL("libc.so.6")\n',
                   "refused ctypes.dlopen('libc.so.6') (native code (ctypes))"),
    "raises_limit": ('import resource\nresource.setrlimit(resource.RLIMIT_CPU, (1000, 1000))\n',
                     "refused resource.setrlimit(0, (1000, 1000)) (changing the grader's limits)"),
}


def _module(body: str) -> str:
    lines = "".join(f"    {ln}\n" for ln in body.splitlines())
    return ("from kmsim.linux import *\n@module_init\ndef m_init():\n" + lines +
            "    return 0\n@module_exit\ndef m_exit():\n    pass\nMODULE_LICENSE(\"GPL\")\n")


@pytest.mark.e2e
def test_sandbox_refuses_host_actions_and_allows_the_folder(tmp_path):
    (tmp_path / "data.txt").write_text("the submission's own data\n")
    paths = []
    for name, (body, _msg) in SANDBOXED.items():
        (tmp_path / f"{name}.py").write_text(_module(body))
        paths.append(str(tmp_path / f"{name}.py"))
    entries = grade_all(paths, Limits(max_runs=1), 2)
    by_name = {e["name"]: e for e in entries}
    assert by_name["reads_own_folder"]["verdict"] == "clean"
    assert by_name["imports_stdlib"]["verdict"] == "clean", by_name["imports_stdlib"]
    assert not (tmp_path / "writes_own_folder.py.out").exists()
    for name, (body, msg) in SANDBOXED.items():
        if msg is None:
            continue
        first = by_name[name]["runs"][0]["findings"][0]
        assert first["kind"] == "refused", (name, first)
        assert first["site"]["line"] == 3 + len(body.splitlines())      # the call's line
        assert first["message"].startswith(msg.format(dir=tmp_path)), first["message"]


@pytest.mark.e2e
def test_cpu_wall_and_output_limits_and_an_exit(tmp_path):
    spin = tmp_path / "spin.py"
    spin.write_text(_module("n = 0\nwhile True:\n    n += 1\n"))
    nap = tmp_path / "nap.py"
    nap.write_text("import time\n" + _module("time.sleep(3600)\n"))
    # 1 s of CPU comes before the watchdog's 2.2 s in one call, whatever the machine's load
    spin_f = grade_one(str(spin), Limits(cpu=1, timeout=120))["runs"][-1]["findings"][-1]
    nap_f = grade_one(str(nap), Limits(wall=2, timeout=60))["runs"][-1]["findings"][-1]
    assert spin_f["kind"] == "cpu-limit", spin_f
    assert spin_f["message"] == ("the grading process used its 1 s of CPU time and was stopped "
                                 "(kmsim check --cpu)")
    bye = tmp_path / "bye.py"
    bye.write_text("import posix\n" + _module("posix._exit(3)\n"))     # past the os._exit guard
    bye_f = grade_one(str(bye), Limits())["runs"][-1]["findings"][-1]
    assert bye_f["kind"] == "exit" and bye_f["message"].startswith(
        "the grading process exited with status 3 before the end")
    chatty = tmp_path / "chatty.py"
    chatty.write_text("import sys\n" + _module('s = "x" * (1 << 20)\nwhile True:\n    sys.stdout.write(s)\n'))
    chatty_f = grade_one(str(chatty), Limits())["runs"][-1]["findings"][-1]
    assert (chatty_f["kind"], chatty_f["message"]) == ("output-limit", "the submission wrote more "
                                                       "than 64 MiB of output")
    assert nap_f["kind"] == "wall-limit"
    assert nap_f["message"] == "grading took more than 2 s of wall time and was stopped (kmsim check --wall)"


@pytest.mark.e2e
def test_usage_errors_and_mixed_paths(tmp_path):
    r = run_kmsim("check")
    assert r.returncode == 2 and "the following arguments are required: PATH" in r.stderr
    r = run_kmsim("check", "-j", "0", "modules/hello.py")
    assert r.returncode == 2 and "argument -j/--jobs: must be 1 or more: '0'" in r.stderr
    r = run_kmsim("check", "modules/hello.py", "nope.py")
    assert r.returncode == 2
    assert r.stdout.splitlines() == ["modules/hello.py: clean (1 run)",
                                     "nope.py: not graded: No such file or directory",
                                     "kmsim check: 2 submissions: 1 clean, 0 with findings, 1 not graded"]
    assert r.stderr == "kmsim check: nope.py: No such file or directory\n"


@pytest.mark.e2e
def test_grading_doc_shows_what_check_prints(class_report):
    import re
    doc = (ROOT / "docs" / "grading.md").read_text()
    block = re.search(r"```text\n\$ kmsim check tests/check_class\n(.*?)```", doc, re.S).group(1)
    subs = json.loads(class_report.stdout)["submissions"]
    printed = "\n".join([format_submission(s) for s in subs] + [format_summary(subs)]) + "\n"
    # the fixture runs with --timeout 6; the document shows the default, 10 s
    assert block == printed.replace("more than 6 s of wall time", "more than 10 s of wall time")


@pytest.mark.e2e
def test_a_c_module_goes_through_the_loader(tmp_path):
    src = tmp_path / "hello_c.c"
    src.write_text('#include <linux/module.h>\nstatic int __init h_init(void) { return 0; }\n'
                   'static void __exit h_exit(void) { }\nmodule_init(h_init);\nmodule_exit(h_exit);\n'
                   'MODULE_LICENSE("GPL");\n')
    [(path, error)] = discover([str(tmp_path)])
    assert (path, error) == (str(src), None)
    [entry] = grade_all([path], Limits(), 1)
    assert entry["name"] == "hello_c" and entry["runs"][0]["k"] == 0
    assert entry["verdict"] == "clean", entry


@pytest.mark.e2e
def test_a_submission_named_like_the_stdlib_is_not_imported_by_the_worker(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "json.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)
    entry = grade_one(str(CLASS / "clean.py"), Limits())
    assert entry["verdict"] == "clean" and not marker.exists()


@pytest.mark.e2e
def test_a_worker_that_closes_its_pipe_is_still_bounded(tmp_path):
    closer = tmp_path / "closer.py"
    closer.write_text("import os, time\n" + _module(
        "for fd in range(3, 64):\n    try:\n        os.close(fd)\n    except OSError:\n        pass\n"
        "time.sleep(3600)\n"))
    entry = grade_one(str(closer), Limits(timeout=2))
    assert entry["kinds"] == ["wall-limit"] and entry["stopped"] is True


def test_an_exception_from_kmsim_is_not_blamed_on_the_submission():
    from kmsim.check_worker import _escaped
    try:
        Limits.as_json(None)        # type: ignore[arg-type]  # the wrong type is the test
    except AttributeError as e:
        f = _escaped(e, "sub.py")
    assert f["kind"] == "kmsim-error"
    assert f["message"].startswith("kmsim itself failed: AttributeError: 'NoneType' object has no "
                                   "attribute 'cpu' (kmsim/check_pool.py:")
    try:
        raise KeyboardInterrupt("from the module")
    except KeyboardInterrupt as e:
        assert _escaped(e, __file__)["kind"] == "crash"
