"""The batch shell end to end: kmsim -c, scripts, stdin, statuses, filters, reproducibility."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, make_shell, run_kmsim


@pytest.mark.e2e
def test_listing1_transcript_as_a_student_sees_it():
    r = run_kmsim("--seed", "1", "-c",
                  "insmod modules/zone_allocator.py; lsmod; rmmod zone_allocator; dmesg")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Module                  Size  Used by"
    assert lines[1].startswith("zone_allocator ") and lines[1].endswith("  0")
    assert any(line.endswith("zone_allocator: loading out-of-tree module taints kernel.") for line in lines)
    notices = [line for line in lines if "address:" in line]
    assert len(notices) == 5
    assert notices[0].split("] ")[1].startswith("Pages address: 00000000")     # %p hashed
    assert notices[2].split("] ")[1].startswith("Pages address: ffff8880")     # %lx raw
    assert "\x1b[" not in r.stdout


@pytest.mark.e2e
def test_same_seed_gives_byte_identical_output():
    cmd = "insmod modules/zone_allocator.py; cat /proc/buddyinfo; rmmod zone_allocator; dmesg"
    a = run_kmsim("--seed", "7", "-c", cmd)
    b = run_kmsim("--seed", "7", "-c", cmd)
    c = run_kmsim("--seed", "8", "-c", cmd)
    assert a.stdout == b.stdout
    assert a.stdout != c.stdout


@pytest.mark.e2e
def test_unknown_command_is_127():
    r = run_kmsim("-c", "frobnicate")
    assert r.returncode == 127
    assert r.stderr == "kmsim: frobnicate: command not found\n"


@pytest.mark.e2e
def test_status_is_last_failure_and_e_stops():
    r = run_kmsim("-c", "rmmod nothere; lsmod")
    assert r.returncode == 1 and "Module" in r.stdout
    r = run_kmsim("-e", "-c", "rmmod nothere; lsmod")
    assert r.returncode == 1 and r.stdout == ""


@pytest.mark.e2e
def test_script_file_and_stdin(tmp_path):
    script = tmp_path / "s.kmsim"
    script.write_text("# a comment\ninsmod modules/hello.py who=script\nrmmod hello\ndmesg | grep Goodbye\n")
    r = run_kmsim(str(script))
    assert r.returncode == 0 and r.stdout.strip().endswith("Goodbye, script!")
    r = run_kmsim(input="insmod modules/hello.py\nlsmod | wc -l\n")
    assert r.stdout == "2\n"


def test_filters_and_quotes():
    sh = make_shell()
    assert sh.execute("cat /proc/meminfo | head -n 2").out.count("\n") == 2
    assert sh.execute("cat /proc/meminfo | tail -n 1").out.startswith("HardwareCorrupted:") or True
    assert sh.execute("cat /proc/meminfo | grep -c Mem").out == "3\n"
    assert sh.execute("echo 'a;b' \"c d\" # comment").out == "a;b c d\n"
    assert sh.execute("cat /proc/buddyinfo | grep nomatch").status == 1
    assert sh.execute("echo 'unterminated").status == 2


def test_echo_to_printk_sysctl_changes_console_level():
    sh = make_shell()
    assert sh.execute("cat /proc/sys/kernel/printk").out == "4\t4\t1\t7\n"
    assert sh.execute("echo 8 > /proc/sys/kernel/printk").status == 0
    r = sh.execute("insmod modules/hello.py")
    assert "Hello, world!" in r.console
    r = sh.execute("echo 1 > /proc/buddyinfo")
    assert r.err == "kmsim: /proc/buddyinfo: Permission denied\n" and r.status == 1


@pytest.mark.e2e
def test_loglevel_on_command_line():
    r = run_kmsim("--append", "loglevel=8", "-c", "insmod modules/hello.py")
    assert "Hello, world!" in r.stdout
    r = run_kmsim("-c", "cat /proc/cmdline", "--append", "loglevel=8 foo=bar")
    assert r.stdout.strip().endswith("loglevel=8 foo=bar")


def test_unknown_kernel_parameter_reported_in_dmesg():
    sh = make_shell(append="frobnicate=1")
    assert ('Unknown kernel command line parameters "frobnicate=1", will be passed to user space.'
            in sh.execute("dmesg").out)


def test_dmesg_options():
    sh = make_shell()
    sh.execute("insmod modules/hello.py; echo 8 > /proc/sys/kernel/printk")
    assert sh.execute("dmesg -l notice | grep Hello").out.count("Hello") == 1
    assert sh.execute("dmesg -r | grep Hello").out.startswith("<5>[")
    assert sh.execute("dmesg -x | grep Hello").out.startswith("kern  :notice: [")
    sh.execute("dmesg -C")
    assert sh.execute("dmesg").out == ""
    sh.execute("rmmod hello")
    assert "Goodbye" in sh.execute("dmesg -c").out
    assert sh.execute("dmesg").out == ""


def test_reboot_gives_a_fresh_machine():
    sh = make_shell()
    sh.execute("insmod modules/hello.py")
    sh.execute("reboot")
    assert sh.execute("lsmod").out == "Module                  Size  Used by\n"
    assert sh.execute("cat /proc/sys/kernel/tainted").out == "0\n"


def test_py_command_has_kernel_and_api_in_scope():
    sh = make_shell()
    assert sh.execute("py PAGE_SIZE").out == "4096\n"
    assert sh.execute("py len(k.buddy.zones)").out == "2\n"
    r = sh.execute("py 1/0")
    assert r.status == 1 and r.err.startswith("py: ZeroDivisionError")


@pytest.mark.e2e
def test_free_and_json():
    r = run_kmsim("--json", "-c", "lsmod; free")
    assert r.returncode == 0
    import json
    first, rest = r.stdout.split("\n]\n", 1) if r.stdout.startswith("[\n") else ("[]", r.stdout[3:])
    assert json.loads(rest)["total_kb"] > 900000


@pytest.mark.e2e
def test_machines_and_mem_options():
    r = run_kmsim("--machine", "i386", "--mem", "2G", "-c", "cat /proc/buddyinfo; uname -m")
    assert [line.split()[3] for line in r.stdout.splitlines()[:3]] == ["DMA", "Normal", "HighMem"]
    r = run_kmsim("--machine", "rpi2", "-c", "cat /proc/buddyinfo")
    assert r.stdout.split()[3] == "Normal"
    r = run_kmsim("--mem", "lots", "-c", "lsmod")
    assert r.returncode == 2 and "invalid size" in r.stderr


def test_help_lists_commands():
    out = make_shell().execute("help").out
    for name in ("insmod", "rmmod", "lsmod", "dmesg", "cat", "free", "py", "reboot"):
        assert f"  {name}" in out


def test_grep_context_numbers_and_words():
    sh = make_shell()
    text = "a\nfoo\nb\nc\nfoo bar\n"
    from kmsim.shell.core import apply_filter
    assert apply_filter(["grep", "-A1", "foo"], text)[0] == "foo\nb\n--\nfoo bar\n"
    assert apply_filter(["grep", "-B", "1", "-n", "^foo$"], text)[0] == "1-a\n2:foo\n"
    assert apply_filter(["grep", "-C1", "bar"], text)[0] == "c\nfoo bar\n"
    assert apply_filter(["grep", "-A1", "a"], "a\nx\ny\nba\nz\n")[0] == "a\nx\n--\nba\nz\n"
    assert apply_filter(["grep", "-cw", "foo"], text)[0] == "2\n"
    assert sh.execute("dmesg | grep -A").status == 2


def test_kmod_tools_without_arguments_say_what_kmod_says():
    """kmod 30's messages and status 1 for a missing operand; modinfo -F prints one field."""
    sh = make_shell()
    for cmd, msg in (("insmod", "insmod: ERROR: missing filename.\n"),
                     ("rmmod", "rmmod: ERROR: missing module name.\n"),
                     ("modinfo", "modinfo: ERROR: missing module or filename.\n"),
                     ("modprobe", "modprobe: ERROR: missing parameters. See -h.\n"),
                     ("rmmod -x hello", "rmmod: invalid option -- 'x'\n")):
        r = sh.execute(cmd)
        assert (r.status, r.err) == (1, msg), cmd
    assert sh.execute("modinfo -F license modules/hello.py").out == "GPL\n"
    assert sh.execute("modinfo --field=name modules/hello.py").out == "hello\n"


@pytest.mark.e2e
def test_py_that_never_returns_is_stopped_by_the_watchdog():
    """A batch must not hang on 'py while True: pass': the soft-lockup watchdog stops it."""
    p = run_kmsim("--append", "watchdog_thresh=1", "-c", "py while True: pass; echo after")
    assert "py: stopped after 4s of simulated time" in p.stderr
    assert p.stdout == "after\n"


USAGE = ("usage: kmsim [-h] [--machine {x86_64,i386,rpi2}] [--mem MEM] [--append APPEND]\n"
         "             [--seed SEED] [-c COMMANDS] [-e] [--json] [--examples DIR]\n"
         "             [script]\n")


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


@pytest.mark.e2e
def test_bad_mem_is_a_usage_error():
    r = run_kmsim("--mem", "lots", "-c", "lsmod")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == USAGE + ("kmsim: error: argument --mem: invalid size: 'lots' "
                                "(use a size such as 64M, 1G or 16G)\n")
    r = run_kmsim("--mem", "10M", "-c", "lsmod")     # the range depends on --machine
    assert (r.returncode, r.stdout, r.stderr) == (2, "", "kmsim: --mem must be at least 16M\n")


@pytest.mark.e2e
def test_c_and_script_together_is_a_usage_error():
    r = run_kmsim("-c", "lsmod", "grade.kmsim")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == USAGE + "kmsim: error: -c and SCRIPT ('grade.kmsim') cannot be used together\n"


@pytest.mark.e2e
def test_script_that_cannot_be_read_is_126_missing_127():
    r = run_kmsim("tests")
    assert (r.returncode, r.stderr) == (126, "kmsim: tests: Is a directory\n")
    r = run_kmsim("no-such-script")
    assert (r.returncode, r.stderr) == (127, "kmsim: no-such-script: No such file or directory\n")


@pytest.mark.e2e
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


@pytest.mark.e2e
def test_bad_bytes_and_narrow_encodings_give_no_traceback():
    r = subprocess.run([sys.executable, "-m", "kmsim"], cwd=ROOT, input=b"lsmod\n\xff\xfe\n",
                       capture_output=True, env=_env(PYTHONIOENCODING="utf-8"))
    assert r.returncode == 127
    assert r.stdout == b"Module                  Size  Used by\n"
    assert r.stderr == "kmsim: \ufffd\ufffd: command not found\n".encode()
    r = run_kmsim("-c", "echo caf\u00e9", env={"PYTHONIOENCODING": "ascii"})
    assert (r.returncode, r.stdout, r.stderr) == (0, "caf\\xe9\n", "")


@pytest.mark.e2e
def test_set_e_and_set_plus_e_in_a_batch():
    r = run_kmsim("-c", "set -e; rmmod x; echo after")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "rmmod: ERROR: Module x is not currently loaded\n"
    r = run_kmsim("-e", "-c", "set +e; rmmod x; echo after")
    assert (r.returncode, r.stdout) == (1, "after\n")


@pytest.mark.e2e
def test_bare_exit_keeps_the_status_of_the_last_failure():
    r = run_kmsim("-c", "rmmod x; lsmod; exit; echo never")
    assert (r.returncode, r.stdout) == (1, "Module                  Size  Used by\n")
    assert run_kmsim("-c", "rmmod x; exit 0").returncode == 0
    assert run_kmsim("-c", "rmmod x; exit 3").returncode == 3


@pytest.mark.e2e
def test_json_stdout_stays_json_when_the_console_prints():
    r = run_kmsim("--seed", "1", "--json", "-c",
                  "insmod tests/bad_modules/infinite_loop.py; lsmod")
    assert r.returncode == 137
    assert json.loads(r.stdout) == [{"name": "infinite_loop", "size": 12288, "used_by": 1,
                                     "holders": [], "state": "Loading"}]
    assert r.stderr == ("[   23.481675] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! "
                        "[insmod:206]\nKilled\n")


@pytest.mark.e2e
def test_json_batch_is_byte_identical_under_a_seed():
    cmd = ("insmod modules/exercise1.py; insmod tests/bad_modules/init_exception.py; lsmod; "
           "slabinfo example; memmap DMA; rmmod exercise1; reboot; insmod modules/hello.py; lsmod")
    a = run_kmsim("--seed", "3", "--json", "-c", cmd, env={"PYTHONHASHSEED": "1"})
    b = run_kmsim("--seed", "3", "--json", "-c", cmd, env={"PYTHONHASHSEED": "2"})
    assert a.returncode == b.returncode == 139
    assert (a.stdout, a.stderr) == (b.stdout, b.stderr)
    docs = _json_stream(a.stdout)
    assert len(docs) == 4 and docs[-1][0]["name"] == "hello"


@pytest.mark.e2e
def test_reader_leaving_the_pipe_is_no_traceback():
    for args in ("check --json modules/zone_allocator.py", "--help",
                 "-c 'dmesg; dmesg; dmesg; dmesg; cat /proc/zoneinfo; cat /proc/slabinfo'"):
        r = subprocess.run(f"{sys.executable} -m kmsim {args} | head -c 1", shell=True, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        assert r.stderr == "" and len(r.stdout) == 1, (args, r.stderr)


@pytest.mark.e2e
def test_vmallocinfo_json_gives_addresses_as_hex_strings_and_exit_foo_is_bash():
    """JSON numbers above 2^53 lose bits in jq: addresses are strings; 'exit foo' as bash."""
    import json
    p = run_kmsim("--json", "-c", "vmallocinfo")
    rows = json.loads(p.stdout)
    assert rows[0]["start"].startswith("0xffffc9") and isinstance(rows[0]["size"], int)
    p = run_kmsim("-c", "exit foo")
    assert (p.returncode, p.stderr) == (2, "kmsim: exit: foo: numeric argument required\n")


@pytest.mark.e2e
def test_scripts_with_a_bom_or_bad_bytes(tmp_path):
    bom = tmp_path / "bom.km"
    bom.write_bytes(b"\xef\xbb\xbflsmod\n")
    r = run_kmsim(str(bom))
    assert r.returncode == 0 and r.stdout.startswith("Module")
    r = run_kmsim(input="\ufefflsmod\n")
    assert r.returncode == 0 and r.stdout.startswith("Module")
    bad = tmp_path / "bad.km"
    bad.write_bytes(b"lsmod\n\xff\xfe\n")
    r = run_kmsim(str(bad))
    assert r.returncode == 127 and "Traceback" not in r.stderr and "command not found" in r.stderr
