"""The filters' FILE operands (grep PATTERN FILE..., head -2 FILE, wc -l FILE ...): what GNU
grep 3.8 and coreutils 9.1 print for the same files (each expected value below was taken
from them, LC_ALL=C), over host files and the machine's /proc and /sys, at the start of a
line and after a pipe; and the reference's own steps replayed literally."""
from __future__ import annotations

import pytest
from conftest import make_shell, run_kmsim

from kmsim.shell.completion import candidates
from tests.reference import REF_MODULES, kmsim_command, normal, transcript_steps

F1 = "a1\nb\na2\nc\nd\ne\na3\n"


@pytest.fixture(scope="module")
def sh():
    return make_shell(mem="64M")


@pytest.fixture
def files(tmp_path, monkeypatch):
    """f1 (7 lines), f2 (2), f3 (no newline at its end), the directory dd; the cwd."""
    (tmp_path / "f1").write_text(F1)
    (tmp_path / "f2").write_text("x\na9\n")
    (tmp_path / "f3").write_text("noeol")
    (tmp_path / "a b").write_text("x\n")
    (tmp_path / "dd").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(sh, line: str) -> tuple[str, str, int]:
    r = sh.execute(line)
    return r.out, r.err, r.status


# -- grep -------------------------------------------------------------------------

@pytest.mark.parametrize("line, out, err, status", [
    ("grep a f1", "a1\na2\na3\n", "", 0),
    ("grep -n a f1 f2", "f1:1:a1\nf1:3:a2\nf1:7:a3\nf2:2:a9\n", "", 0),
    ("grep -c a f1 f2 nosuch", "f1:3\nf2:1\n", "grep: nosuch: No such file or directory\n", 2),
    ("grep -c a f1 dd", "f1:3\ndd:0\n", "grep: dd: Is a directory\n", 2),
    ("grep -s a nosuch f1", "f1:a1\nf1:a2\nf1:a3\n", "", 2),
    ("grep -q a f1 nosuch", "", "", 0),
    ("grep -q a nosuch f1", "", "grep: nosuch: No such file or directory\n", 0),
    ("grep -l a f1 f2 f3", "f1\nf2\n", "", 0),
    ("grep -L a f1 f2 f3", "f3\n", "", 0),
    ("grep -L zz f1", "f1\n", "", 1),
    ("grep -h a f1 f2", "a1\na2\na3\na9\n", "", 0),
    ("grep -H a f2", "f2:a9\n", "", 0),
    ("grep -A1 a f2 f1", "f2:a9\n--\nf1:a1\nf1-b\nf1:a2\nf1-c\n--\nf1:a3\n", "", 0),
    ("grep -nA1 a2 f1 f2", "f1:3:a2\nf1-4-c\n", "", 0),
    ("grep -A0 a f1", "a1\n--\na2\n--\na3\n", "", 0),
    ("grep -on 'a[0-9]' f1 f2", "f1:1:a1\nf1:3:a2\nf1:7:a3\nf2:2:a9\n", "", 0),
    ("grep o f3", "noeol\n", "", 0),
    ("grep a 'a b'", "", "", 1),
    ("grep -m1 a f1 f2", "f1:a1\nf2:a9\n", "", 0),
    ("grep x ''", "", "grep: : No such file or directory\n", 2),
])
def test_grep_reads_its_files_as_gnu_grep(sh, files, line, out, err, status):
    assert run(sh, line) == (out, err, status)


def test_grep_dash_is_the_pipe_and_label_names_it(sh, files):
    assert run(sh, "cat f2 | grep a - f1") == ("(standard input):a9\nf1:a1\nf1:a2\nf1:a3\n", "", 0)
    assert run(sh, "cat f2 | grep -n --label=LBL -H a -") == ("LBL:2:a9\n", "", 0)
    assert run(sh, "cat f2 | grep -c a - -") == ("(standard input):1\n(standard input):0\n", "", 0)


def test_grep_says_a_file_with_a_nul_byte_matches(sh, files):
    (files / "bin").write_bytes(b"a\0b\n")
    assert run(sh, "grep a bin") == ("", "grep: bin: binary file matches\n", 0)
    assert run(sh, "grep -c a bin") == ("1\n", "", 0)


def test_grep_on_the_machines_files(sh):
    piped = sh.execute("cat /proc/slabinfo | grep -c kmalloc").out
    assert run(sh, "grep -c kmalloc /proc/slabinfo") == (piped, "", 0) and int(piped) > 10
    assert run(sh, "grep -c example /proc/slabinfo") == ("0\n", "", 1)
    assert run(sh, "grep MemTotal /proc/nosuch /proc/meminfo")[1:] == (
        "grep: /proc/nosuch: No such file or directory\n", 2)
    assert run(sh, "grep x /proc/sys") == ("", "grep: /proc/sys: Is a directory\n", 2)
    out, _err, _st = run(sh, "grep -H 1 /sys/kernel/slab/kmalloc-64/order /proc/sys/kernel/printk")
    assert out.startswith("/proc/sys/kernel/printk:")


def test_grep_takes_patterns_from_a_file(sh, files):
    (files / "pats").write_text("a1\nc\n")
    (files / "empty").write_text("")
    assert run(sh, "grep -f pats f1") == ("a1\nc\n", "", 0)
    assert run(sh, "grep -c -f pats -e e f1") == ("3\n", "", 0)
    assert run(sh, "grep -f empty f1") == ("", "", 1)            # no pattern: no line
    assert run(sh, "grep -f nosuch f1") == ("", "grep: nosuch: No such file or directory\n", 2)
    assert run(sh, "cat f2 | grep -f - f1") == ("", "", 1)


# -- head, tail --------------------------------------------------------------------

@pytest.mark.parametrize("line, out, err, status", [
    ("head -2 f1", "a1\nb\n", "", 0),
    ("head -n 2 f1 f2", "==> f1 <==\na1\nb\n\n==> f2 <==\nx\na9\n", "", 0),
    ("head -q -n1 f1 f2", "a1\nx\n", "", 0),
    ("head -v -n1 f1", "==> f1 <==\na1\n", "", 0),
    ("head -n +2 f1", "a1\nb\n", "", 0),
    ("head -n -5 f1", "a1\nb\n", "", 0),
    ("head -c 3 f1 f2", "==> f1 <==\na1\n\n==> f2 <==\nx\na", "", 0),
    ("head -2c f1", "a1", "", 0),
    ("head -n1 f1 dd nosuch f2", "==> f1 <==\na1\n\n==> dd <==\n\n==> f2 <==\nx\n",
     "head: error reading 'dd': Is a directory\n"
     "head: cannot open 'nosuch' for reading: No such file or directory\n", 1),
    ("head -n1 -2 f1", "", "head: invalid trailing option -- 2\n"
     "Try 'head --help' for more information.\n", 1),
    ("head -2 -n1 f1", "a1\n", "", 0),
    ("head -n 1k f1", F1, "", 0),
    ("head -n x f1", "", "head: invalid number of lines: 'x'\n", 1),
    ("head -n 99999999999999999999 f1", "",
     "head: invalid number of lines: '99999999999999999999': Value too large for defined data type\n", 1),
    ("head 'a b' nosuch", "==> a b <==\nx\n",
     "head: cannot open 'nosuch' for reading: No such file or directory\n", 1),
    ("head -n1 f3 f1", "==> f3 <==\nnoeol\n==> f1 <==\na1\n", "", 0),
    ("tail -3 f1", "d\ne\na3\n", "", 0),
    ("tail -3 f1 f2", "", "tail: option used in invalid context -- 3\n", 1),
    ("tail +6 f1", "e\na3\n", "", 0),
    ("tail -n +6 f1 f2", "==> f1 <==\ne\na3\n\n==> f2 <==\n", "", 0),
    ("tail -c 3 f1", "a3\n", "", 0),
    ("tail -n1 f1 nosuch f2", "==> f1 <==\na3\n\n==> f2 <==\na9\n",
     "tail: cannot open 'nosuch' for reading: No such file or directory\n", 1),
    ("tail -n +2 f3 dd", "==> f3 <==\n\n==> dd <==\n", "tail: error reading 'dd': Is a directory\n", 1),
    ("tail -n -x f1", "", "tail: invalid number of lines: 'x'\n", 1),
    ("tail -n +x f1", "", "tail: invalid number of lines: '+x'\n", 1),
])
def test_head_and_tail_read_their_files_as_coreutils(sh, files, line, out, err, status):
    assert run(sh, line) == (out, err, status)


def test_head_and_tail_of_the_machines_files(sh):
    assert run(sh, "head -2 /proc/slabinfo")[0] == "".join(
        sh.execute("cat /proc/slabinfo").out.splitlines(True)[:2])
    meminfo = sh.execute("cat /proc/meminfo").out.splitlines(True)
    assert run(sh, "tail -n 3 /proc/meminfo") == ("".join(meminfo[-3:]), "", 0)
    assert run(sh, "head -n 5 /proc/meminfo /proc/cmdline")[0] == (
        "==> /proc/meminfo <==\n" + "".join(meminfo[:5]) + "\n==> /proc/cmdline <==\n"
        + sh.execute("cat /proc/cmdline").out)
    assert run(sh, "head /proc/nosuch") == (
        "", "head: cannot open '/proc/nosuch' for reading: No such file or directory\n", 1)
    assert run(sh, "tail /proc/sys") == ("", "tail: error reading '/proc/sys': Is a directory\n", 1)


# -- wc, sort, cat ------------------------------------------------------------------

@pytest.mark.parametrize("line, out, err, status", [
    ("wc f1", " 7  7 17 f1\n", "", 0),
    ("wc -l f1", "7 f1\n", "", 0),
    ("wc f1 f2", " 7  7 17 f1\n 2  2  5 f2\n 9  9 22 total\n", "", 0),
    ("wc -l dd f1", "      0 dd\n      7 f1\n      7 total\n", "wc: dd: Is a directory\n", 1),
    ("wc nosuch f1 f3", " 7  7 17 f1\n 0  1  5 f3\n 7  8 22 total\n",
     "wc: nosuch: No such file or directory\n", 1),
    ("wc -L f1 f2", " 2 f1\n 2 f2\n 2 total\n", "", 0),
    ("wc 'a b' ''", "1 1 2 a b\n1 1 2 total\n", "wc: invalid zero-length file name\n", 1),
    ("wc 'c d'", "", "wc: 'c d': No such file or directory\n", 1),
    ("sort f1 f2 f3", "a1\na2\na3\na9\nb\nc\nd\ne\nnoeol\nx\n", "", 0),
    ("sort -r f3 f2", "x\nnoeol\na9\n", "", 0),
    ("sort f1 nosuch", "", "sort: cannot read: nosuch: No such file or directory\n", 2),
    ("sort f1 dd", "", "sort: read failed: dd: Is a directory\n", 2),
    ("cat f3 f1 | cat -n - f3", "     1\tnoeola1\n     2\tb\n     3\ta2\n     4\tc\n     5\td\n     6\te\n"
     "     7\ta3\n     8\tnoeol", "", 0),
    ("lsmod | cat f3 nosuch -", "noeolModule                  Size  Used by\n",
     "cat: nosuch: No such file or directory\n", 1),
])
def test_wc_sort_and_cat_read_their_files_as_coreutils(sh, files, line, out, err, status):
    assert run(sh, line) == (out, err, status)


def test_wc_max_line_length_is_the_display_width(sh, files):
    """coreutils wc -L (in a UTF-8 locale, as kmsim's wc counts): tabs to the next stop of
    8, a carriage return back to the start, 2 columns a wide character, 0 a control one."""
    (files / "w").write_text("a\rbcd\tx\n\u4e2d\u6587\na\x00b\n")
    assert run(sh, "wc -L w") == ("9 w\n", "", 0)
    (files / "w").write_text("\u4e2d\u6587\na\x00b\n")
    assert run(sh, "wc -L w") == ("4 w\n", "", 0)


def test_wc_of_the_machines_files_is_the_widths_procfs_and_sysfs_give(sh):
    lines = sh.execute("cat /proc/vmallocinfo").out.count("\n")
    assert run(sh, "wc -l /proc/vmallocinfo") == (f"{lines} /proc/vmallocinfo\n", "", 0)
    # procfs says st_size 0, sysfs 4096: the widths are those of 4096
    out = run(sh, "wc -l /proc/vmallocinfo /sys/kernel/slab/kmalloc-64/order")[0]
    assert out == (f"{lines:4d} /proc/vmallocinfo\n   1 /sys/kernel/slab/kmalloc-64/order\n"
                   f"{lines + 1:4d} total\n")
    assert run(sh, "wc /proc/nosuch") == ("", "wc: /proc/nosuch: No such file or directory\n", 1)


def test_cat_v_shows_control_and_high_bytes_as_cat_does(sh, files):
    (files / "utf").write_bytes("caf\u00e9\t\x01\n".encode())
    assert run(sh, "cat -A utf") == ("cafM-CM-)^I^A$\n", "", 0)
    assert run(sh, "cat -v utf") == ("cafM-CM-)\t^A\n", "", 0)


def test_every_filter_has_gnus_help_with_the_options_it_has(sh):
    for name in ("grep", "head", "tail", "wc", "sort", "cat"):
        out, err, status = run(sh, f"{name} --help /proc/nosuch")
        usage = f"Usage: {name} [OPTION]... {'PATTERNS ' if name == 'grep' else ''}[FILE]..."
        assert (out.splitlines()[0], err, status) == (usage, "", 0)
        assert out.endswith(f"kmsim: the options above are those kmsim's {name} has; docs/shell.md, "
                            f"or `help {name}`.\n")
    assert "  -P, --perl-regexp" not in run(sh, "grep --help")[0]


def test_a_device_is_read_up_to_its_first_mib(sh):
    assert run(sh, "head -c 4 /dev/zero | wc -c") == ("4\n", "", 0)
    assert run(sh, "wc -l /dev/zero") == ("0 /dev/zero\n", "", 0)
    assert run(sh, "cat /dev/zero | wc -c") == ("1048576\n", "", 0)     # plain cat too (it hung)


@pytest.mark.parametrize("line, out, err, status", [
    # grep sees it cannot match, and reads nothing (no message for the missing FILE)
    ("grep -v '' f1 nosuch", "", "", 1),
    ("grep -m0 '[' nosuch", "", "", 1),
    ("grep -vx '' nosuch", "", "grep: nosuch: No such file or directory\n", 2),
    # -C and -NUM are the default of -A and -B, whatever their order
    ("grep -B1 -2 'e' f1", "d\ne\na3\n", "", 0),
    # -o prints the matches of every line output, context ones too
    ("grep -onv -A1 a f1", "3-a\n7-a\n", "", 0),
    # a NUL byte ends a line too in a binary file
    ("grep -c '' bin f1", "bin:2\nf1:7\n", "", 0),
    ("grep -m -1 -c a f1", "3\n", "", 0),
    ("grep -v -m -1 -c a f1", "0\n", "", 1),
    ("tail -n 0 f1 nosuch", "", "", 0),
    ("tail -c 2 f1 dd f2", "==> f1 <==\n3\n\n==> dd <==\n", "tail: error reading 'dd': Is a directory\n", 1),
    ("tail -n +0 -c 3b f1", "", "", 0),
    ("tail -2 -- f1", "e\na3\n", "", 0),
    ("tail -c -b f3", "noeol", "", 0),
    ("head -n 0 f1 dd", "==> f1 <==\n\n==> dd <==\n", "", 0),
    ("head -n \"it's\" f1", "", "head: invalid number of lines: 'it\\'s'\n", 1),
    ("sort dd nosuch f1", "", "sort: cannot read: nosuch: No such file or directory\n", 2),
])
def test_gnus_corners(sh, files, line, out, err, status):
    (files / "bin").write_bytes(b"a\0b\n")
    assert run(sh, line) == (out, err, status)


# -- at the start of a line, and after a pipe --------------------------------------

def test_a_filter_without_input_at_the_start_of_a_line_says_how_to_give_it_one(sh):
    out, err, status = run(sh, "grep x")
    assert (out, status) == ("", 1)
    assert err == ("kmsim: grep had no input to read: name a FILE (grep PATTERN /proc/slabinfo) or pipe "
                   "a command into it (dmesg | grep ...)\n")
    assert run(sh, "wc -l -")[0] == "0 -\n"
    assert run(make_shell(mem="64M", append="kmsim.hints=0"), "grep x") == ("", "", 1)


def test_a_filter_in_a_pipeline_reads_its_files_instead_of_the_pipe(sh):
    assert run(sh, "lsmod | head -n 1 /proc/cmdline") == (sh.execute("cat /proc/cmdline").out, "", 0)
    assert run(sh, "grep -c Mem /proc/meminfo | wc -l") == ("1\n", "", 0)
    assert run(sh, "head -2 /proc/slabinfo | tail -1 | grep -c name") == ("1\n", "", 0)


def test_a_filters_output_and_messages_come_in_the_order_it_prints_them(sh):
    r = sh.execute("head -n 1 /proc/cmdline /proc/nosuch /proc/cmdline")
    streams = [stream for stream, _text in r.chunks]
    runs = [st for i, st in enumerate(streams) if i == 0 or streams[i - 1] != st]
    assert runs == ["out", "err", "out"]


def test_the_filters_file_operands_complete_as_cats(sh):
    assert candidates(sh, "grep Mem /proc/mem") == ["/proc/meminfo"]
    assert candidates(sh, "lsmod | head -n 2 /proc/slab") == ["/proc/slabinfo"]
    assert candidates(sh, "wc -l /proc/vm") == candidates(sh, "cat /proc/vm")


# -- the reference's own steps, run literally ---------------------------------------

# what depends on the boot's history (zoneinfo's counters, the kmalloc caches' counts) is
# compared by the memory tests; every other step that runs a filter on a file is here
HISTORY = ("head -60 /proc/zoneinfo", "grep -E 'example|^kmalloc")


@pytest.mark.skipif(not REF_MODULES.is_dir(), reason="no reference modules")
@pytest.mark.parametrize("name, mem, steps", [("transcript-main.txt", "512M", 6),
                                              ("transcript-zone4g.txt", "4G", 1)])
def test_the_references_grep_and_head_steps_replay_literally(name, mem, steps):
    shell = make_shell(mem=mem, append="kmsim.hints=0")
    checked = []
    for kind, text, lines, status in transcript_steps(name):
        cmd = kmsim_command(text) if kind == "cmd" else None
        if cmd is None:
            continue
        r = shell.execute(cmd)
        if not any(w in text.split() for w in ("grep", "head")) or any(h in text for h in HISTORY):
            continue
        assert cmd == text                  # as the reference typed it, not rewritten into a pipeline
        want = list(lines)
        while want and not want[-1]:
            want.pop()
        got = (r.out + r.err).splitlines()
        assert normal(got) == normal(want), text
        assert status in (None, r.status), text
        checked.append(text)
    assert len(checked) == steps


@pytest.mark.e2e
def test_filters_on_files_end_to_end():
    r = run_kmsim("--seed", "1", "-c", "grep -c example /proc/slabinfo; head -2 /proc/slabinfo; "
                                       "wc -l /proc/nosuch; tail -n 1 /proc/buddyinfo")
    head = "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> <objsize>"
    assert r.stdout.startswith("0\n" + head)
    assert r.stdout.splitlines()[-1].startswith("Node 0, zone    DMA32")
    assert r.stderr == "wc: /proc/nosuch: No such file or directory\n"
    assert r.returncode == 1
    r = run_kmsim("--seed", "1", "-c", "grep MemTotal /proc/meminfo /proc/nosuch")
    assert (r.stdout.startswith("/proc/meminfo:MemTotal:"), r.stderr, r.returncode) == (
        True, "grep: /proc/nosuch: No such file or directory\n", 2)
