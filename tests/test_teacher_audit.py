"""A teacher grading modules with scripted batches: the command line, statuses, JSON, check."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, run_kmsim

from kmsim.check import choose_calls

USAGE = ("usage: kmsim [-h] [--machine {x86_64,i386,rpi2}] [--mem MEM] [--append APPEND]\n"
         "             [--seed SEED] [-c COMMANDS] [-e] [--json] [--examples DIR]\n"
         "             [script]\n")


def test_bad_mem_is_a_usage_error():
    r = run_kmsim("--mem", "lots", "-c", "lsmod")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == USAGE + ("kmsim: error: argument --mem: invalid size: 'lots' "
                                "(use a size such as 64M, 1G or 16G)\n")
    r = run_kmsim("--mem", "10M", "-c", "lsmod")     # the range depends on --machine
    assert (r.returncode, r.stdout, r.stderr) == (2, "", "kmsim: --mem must be at least 16M\n")


def test_c_and_script_together_is_a_usage_error():
    r = run_kmsim("-c", "lsmod", "grade.kmsim")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == USAGE + "kmsim: error: -c and SCRIPT ('grade.kmsim') cannot be used together\n"


def test_script_that_cannot_be_read_is_126_missing_127():
    r = run_kmsim("tests")
    assert (r.returncode, r.stderr) == (126, "kmsim: tests: Is a directory\n")
    r = run_kmsim("no-such-script")
    assert (r.returncode, r.stderr) == (127, "kmsim: no-such-script: No such file or directory\n")


def test_unterminated_quote_names_its_line_and_runs_nothing(tmp_path):
    script = tmp_path / "grade.kmsim"
    script.write_text('insmod modules/hello.py\nlsmod\necho "oops\nrmmod hello\n')
    r = run_kmsim(str(script))
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"kmsim: {script}: line 3: unterminated quoted string\n"
    r = run_kmsim("-c", "lsmod; echo 'a")
    assert r.stderr == "kmsim: -c: line 1: unterminated quoted string\n"
    r = run_kmsim(input="lsmod\necho 'a\n'b\necho 'c\n")
    assert (r.returncode, r.stderr) == (2, "kmsim: line 4: unterminated quoted string\n")


def test_bad_bytes_and_narrow_encodings_give_no_traceback():
    r = subprocess.run([sys.executable, "-m", "kmsim"], cwd=ROOT, input=b"lsmod\n\xff\xfe\n",
                       capture_output=True, env=_env(PYTHONIOENCODING="utf-8"))
    assert r.returncode == 127
    assert r.stdout == b"Module                  Size  Used by\n"
    assert r.stderr == "kmsim: \ufffd\ufffd: command not found\n".encode()
    r = run_kmsim("-c", "echo caf\u00e9", env={"PYTHONIOENCODING": "ascii"})
    assert (r.returncode, r.stdout, r.stderr) == (0, "caf\\xe9\n", "")


def test_set_e_and_set_plus_e_in_a_batch():
    r = run_kmsim("-c", "set -e; rmmod x; echo after")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "rmmod: ERROR: Module x is not currently loaded\n"
    r = run_kmsim("-e", "-c", "set +e; rmmod x; echo after")
    assert (r.returncode, r.stdout) == (1, "after\n")


def test_bare_exit_keeps_the_status_of_the_last_failure():
    r = run_kmsim("-c", "rmmod x; lsmod; exit; echo never")
    assert (r.returncode, r.stdout) == (1, "Module                  Size  Used by\n")
    assert run_kmsim("-c", "rmmod x; exit 0").returncode == 0
    assert run_kmsim("-c", "rmmod x; exit 3").returncode == 3


def test_json_stdout_stays_json_when_the_console_prints():
    r = run_kmsim("--seed", "1", "--json", "-c",
                  "insmod tests/bad_modules/infinite_loop.py; lsmod")
    assert r.returncode == 137
    assert json.loads(r.stdout) == [{"name": "infinite_loop", "size": 12288, "used_by": 1,
                                     "holders": [], "state": "Loading"}]
    assert r.stderr == ("[   23.481675] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! "
                        "[insmod:206]\nKilled\n")


def test_json_batch_is_byte_identical_under_a_seed():
    cmd = ("insmod modules/exercise1.py; insmod tests/bad_modules/init_exception.py; lsmod; "
           "slabinfo example; memmap DMA; rmmod exercise1; reboot; insmod modules/hello.py; lsmod")
    a = run_kmsim("--seed", "3", "--json", "-c", cmd, env={"PYTHONHASHSEED": "1"})
    b = run_kmsim("--seed", "3", "--json", "-c", cmd, env={"PYTHONHASHSEED": "2"})
    assert a.returncode == b.returncode == 139
    assert (a.stdout, a.stderr) == (b.stdout, b.stderr)
    docs = _json_stream(a.stdout)
    assert len(docs) == 4 and docs[-1][0]["name"] == "hello"


def test_reader_leaving_the_pipe_is_no_traceback():
    for args in ("check --json modules/zone_allocator.py", "--help",
                 "-c 'dmesg; dmesg; dmesg; dmesg; cat /proc/zoneinfo; cat /proc/slabinfo'"):
        r = subprocess.run(f"{sys.executable} -m kmsim {args} | head -c 1", shell=True, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        assert r.stderr == "" and len(r.stdout) == 1, (args, r.stderr)


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


def _env(**kw) -> dict:
    import os
    e = dict(os.environ)
    e.pop("COLUMNS", None)
    e.update(kw)
    return e


def _json_stream(text: str) -> list:
    """The JSON documents printed one after the other (as jq reads them)."""
    dec, docs, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)
    return docs


def test_vmallocinfo_json_gives_addresses_as_hex_strings_and_exit_foo_is_bash():
    """JSON numbers above 2^53 lose bits in jq: addresses are strings; 'exit foo' as bash."""
    import json
    p = run_kmsim("--json", "-c", "vmallocinfo")
    rows = json.loads(p.stdout)
    assert rows[0]["start"].startswith("0xffffc9") and isinstance(rows[0]["size"], int)
    p = run_kmsim("-c", "exit foo")
    assert (p.returncode, p.stderr) == (2, "kmsim: exit: foo: numeric argument required\n")
