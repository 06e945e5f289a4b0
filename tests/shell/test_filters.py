"""The batch shell's filters, dmesg's options, line continuations and redirections,
checked against what GNU grep 3.8, coreutils 9.1, util-linux 2.38 dmesg and bash print."""
from __future__ import annotations

import re

import pytest
from conftest import make_shell, run_kmsim

from kmsim.shell.filters import FilterError, apply_filter

TEXT = "kmalloc(32)\na+b\nab\naab\na|b\n{1}\nfoo bar\n"
GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."


def grep(*args: str, text: str = TEXT) -> tuple[str, int]:
    """grep ARGS over text: (output, status)."""
    return apply_filter(["grep", *args], text)


def grep_error(*args: str) -> str:
    """The message of a grep that refuses to run (status 2)."""
    with pytest.raises(FilterError) as e:
        grep(*args)
    assert e.value.status == 2
    return str(e.value)


@pytest.fixture
def lines_file(tmp_path):
    """A host file of five lines, for 'cat FILE | filter'."""
    f = tmp_path / "five.txt"
    f.write_text("one\ntwo words\nthree\nfour\nfive and more\n")
    return f


# -- grep: basic regular expressions by default ----------------------------------

@pytest.mark.parametrize("pattern, out", [
    ("kmalloc(", "kmalloc(32)\n"), ("a+b", "a+b\n"), ("a|b", "a|b\n"), ("{1}", "{1}\n"),
    ("(32)", "kmalloc(32)\n"), ("a?", ""),
])
def test_bre_operators_unescaped_are_literal(pattern, out):
    assert grep(pattern) == (out, 0 if out else 1)


@pytest.mark.parametrize("pattern, out", [
    ("a\\+b", "ab\naab\n"), ("^a\\?b", "ab\n"), ("ab\\|b\\{1\\}a", "ab\naab\nfoo bar\n"),
    ("\\(a\\)\\1", "aab\n"), ("a\\{2\\}", "aab\n"), ("^\\*", ""), ("o*", TEXT),
])
def test_bre_escaped_operators_are_special(pattern, out):
    assert grep(pattern)[0] == out


@pytest.mark.e2e
def test_kmalloc_paren_end_to_end():
    r = run_kmsim("--seed", "1", "-c", "echo 'p = kmalloc(64, GFP_KERNEL)' | grep 'kmalloc('")
    assert (r.stdout, r.stderr, r.returncode) == ("p = kmalloc(64, GFP_KERNEL)\n", "", 0)


@pytest.mark.e2e
def test_parenthesised_dmesg_text_end_to_end():
    r = run_kmsim("--seed", "1", "-c", "dmesg | grep -c '(kmsim@kmsim)'; dmesg | grep -c 'allocators)'")
    assert (r.stdout, r.returncode) == ("1\n1\n", 0)


# -- grep -E, -F, -e ---------------------------------------------------------------

@pytest.mark.parametrize("args, out", [
    (("-E", "a+b"), "ab\naab\n"), (("-E", "^(ab|foo)"), "ab\nfoo bar\n"),
    (("-E", "a{2}"), "aab\n"), (("-E", "\\{1"), "{1}\n"), (("-E", "{1"), "{1}\n"),
    (("-E", "32)"), "kmalloc(32)\n"), (("-F", "a|b"), "a|b\n"), (("-F", "."), ""),
    (("-e", "foo", "-e", "{"), "{1}\nfoo bar\n"), (("-e", "foo\n{"), "{1}\nfoo bar\n"),
    (("--regexp=a|", "-c"), "1\n"), (("--extended-regexp", "b$"), "a+b\nab\naab\na|b\n"),
])
def test_extended_fixed_and_several_patterns(args, out):
    assert grep(*args)[0] == out


# -- grep's other options -----------------------------------------------------------

@pytest.mark.parametrize("args, out", [
    (("-w", "a"), "a+b\na|b\n"), (("-w", "bar"), "foo bar\n"), (("-x", "ab"), "ab\n"),
    (("-o", "a\\+"), "a\na\na\naa\na\na\n"), (("-on", "o\\+"), "1:o\n7:oo\n"), (("-ic", "FOO"), "1\n"),
    (("-v", "a"), "{1}\n"), (("-m1", "-n", "b"), "2:a+b\n"), (("-q", "b"), ""),
    (("-n", "-A1", "{"), "6:{1}\n7-foo bar\n"), (("-B1", "foo"), "{1}\nfoo bar\n"),
    (("foo", "-n"), "7:foo bar\n"), (("-2", "{"), "aab\na|b\n{1}\nfoo bar\n"),
])
def test_grep_options(args, out):
    assert grep(*args)[0] == out


def test_grep_status_is_one_without_a_match_and_adds_a_final_newline():
    assert grep("zzz") == ("", 1)
    assert grep("b", text="ab") == ("ab\n", 0)


def test_empty_matches_count_for_w_only_where_nothing_longer_matches():
    assert grep("-w", "\\*\\+\\|", text="*a\n{1}\n") == ("{1}\n", 0)


@pytest.mark.parametrize("args, count", [
    # grep's dfa repeats an anchor like any item ('*' then matches empty); glibc's regex,
    # which a pattern with \\< \\> \\b ... goes to in a UTF-8 locale, takes a BRE's '*' after
    # one as itself and drops an ERE's
    (("-E", "a$*"), 6), (("-E", "a^*"), 6), (("a\\>*",), 0), (("a\\>\\?",), 0), (("x\\b\\+",), 0),
    (("\\>*",), 0), (("^\\>*",), 0), (("-E", "a\\>*"), 2),
])
def test_a_quantifier_after_an_anchor(args, count):
    assert grep("-c", *args)[0] == f"{count}\n"


def test_an_unfinished_interval_after_an_anchor_is_dfas_message():
    assert grep_error("b\\>\\{") == "grep: invalid content of \\{\\}"


# -- grep's messages ------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (("kmalloc\\(",), "grep: Unmatched ( or \\("), (("-E", "kmalloc("), "grep: Unmatched ( or \\("),
    (("a\\)",), "grep: Unmatched ) or \\)"), (("[a",), "grep: Unmatched [, [^, [:, [., or [="),
    (("a[",), "grep: Invalid regular expression"), (("a\\",), "grep: Trailing backslash"),
    (("\\(a\\)\\2",), "grep: Invalid back reference"), (("a\\{1",), "grep: Unmatched \\{"),
    (("-E", "a{2,1}"), "grep: Invalid content of \\{\\}"), (("[[:foo:]]",), ("grep: Invalid "
                                                                             "character class name")),
    (("[z-a]",), "grep: Invalid range end"), (("-E", "a{32768}"), "grep: Regular expression too big"),
    (("[:space:]",), "grep: character class syntax is [[:space:]], not [:space:]"),
    (("-E", "-F", "a"), "grep: conflicting matchers specified"),
    (("-A", "x", "a"), "grep: x: invalid context length argument"), (("-m", "x", "a"), ("grep: "
                                                                                        "invalid max count")),
    ((), GREP_USAGE), (("-Q", "a"), "grep: invalid option -- 'Q'\n" + GREP_USAGE),
    (("-A",), "grep: option requires an argument -- 'A'\n" + GREP_USAGE),
    (("--frob", "a"), "grep: unrecognized option '--frob'\n" + GREP_USAGE),
    # glibc's parse_dup_op: the end of the pattern inside \{ is "Unmatched", anything else "Invalid"
    (("a\\{x",), "grep: Unmatched \\{"), (("a\\{1,x",), "grep: Unmatched \\{"),
    (("[ab]\\{[^a], ",), "grep: Invalid content of \\{\\}"),
    (("a\\{1x\\}",), "grep: Invalid content of \\{\\}"),
])
def test_grep_messages(args, message):
    assert grep_error(*args) == message


def test_grep_warning_goes_to_stderr_and_grep_goes_on():
    warnings: list[str] = []
    assert apply_filter(["grep", "-E", "*b"], "ab\nc\n", warnings.append) == ("ab\n", 0)
    assert warnings == ["grep: warning: * at start of expression"]


@pytest.mark.e2e
def test_invalid_pattern_end_to_end_is_status_2_without_output():
    r = run_kmsim("--seed", "1", "-c", "dmesg | grep 'Linux\\('")
    assert (r.stdout, r.stderr, r.returncode) == ("", "grep: Unmatched ( or \\(\n", 2)


# -- head, tail, wc -------------------------------------------------------------------

@pytest.mark.parametrize("filt, out", [
    ("tail -n +3", "three\nfour\nfive and more\n"), ("tail -n +0", None), ("tail +4", ("four\nfive "
                                                                                       "and more\n")),
    ("tail -n 2", "four\nfive and more\n"), ("tail -1", "five and more\n"), ("tail -n 0", ""),
    ("head -n -2", "one\ntwo words\nthree\n"), ("head -n -9", ""), ("head -2", "one\ntwo words\n"),
    ("head --lines=+1", "one\n"), ("tail --lines=+5", "five and more\n"),
])
def test_head_and_tail_counts(lines_file, filt, out):
    text = lines_file.read_text()
    r = make_shell().execute(f"cat {lines_file} | {filt}")
    assert (r.out, r.status) == (text if out is None else out, 0)


@pytest.mark.parametrize("filt, out", [
    ("wc", "      5       8      39\n"), ("wc -l", "5\n"), ("wc -w", "8\n"), ("wc -c", "39\n"),
    ("wc -lw", "      5       8\n"), ("wc --bytes --lines", "      5      39\n"), ("wc -L", "13\n"),
])
def test_wc_counts_as_coreutils_prints_them_for_stdin(lines_file, filt, out):
    assert make_shell().execute(f"cat {lines_file} | {filt}").out == out


@pytest.mark.e2e
def test_wc_end_to_end():
    r = run_kmsim("-c", "echo a kmalloc bb | wc; echo héllo | wc -c")
    assert (r.stdout, r.returncode) == ("      1       3      13\n7\n", 0)


@pytest.mark.parametrize("filt, message", [
    ("tail -n x", "tail: invalid number of lines: 'x'"), ("tail -n +x", ("tail: invalid number of "
                                                                         "lines: '+x'")),
    ("head -n -x", "head: invalid number of lines: 'x'"),
    ("head -n", "head: option requires an argument -- 'n'\nTry 'head --help' for more information."),
    ("tail -x", "tail: invalid option -- 'x'\nTry 'tail --help' for more information."),
    ("wc -x", "wc: invalid option -- 'x'\nTry 'wc --help' for more information."),
    ("wc --frob", "wc: unrecognized option '--frob'\nTry 'wc --help' for more information."),
])
def test_coreutils_usage_errors_are_status_1(filt, message):
    r = make_shell().execute(f"echo x | {filt}")
    assert (r.out, r.err, r.status) == ("", message + "\n", 1)


# -- dmesg ------------------------------------------------------------------------------

def test_dmesg_kernel_and_human_print_the_log_unchanged():
    sh = make_shell()
    plain = sh.execute("dmesg").out
    assert plain and sh.execute("dmesg -k").out == plain
    assert sh.execute("dmesg --kernel -H").out == plain
    assert sh.execute("dmesg -u").out == ""


def test_dmesg_ctime_under_seed_is_a_fixed_boot_plus_the_stamp():
    sh = make_shell()
    plain = sh.execute("dmesg").out.splitlines()
    ctime = sh.execute("dmesg -T").out.splitlines()
    assert len(plain) == len(ctime)
    for p, c in zip(plain, ctime, strict=False):
        assert c == "[Sun Dec 11 12:00:00 2022] " + p.split("] ", 1)[1]


@pytest.mark.e2e
def test_dmesg_ctime_end_to_end_with_decode_and_notime():
    r = run_kmsim("--seed", "1", "-c", "dmesg -xT | head -n 1; dmesg --ctime -t -x | head -n 1")
    assert r.stdout == ("kern  :notice: [Sun Dec 11 12:00:00 2022] Linux version 6.1.0-kmsim (kmsim@kmsim) "
                        "(Python simulation of the Linux 6.1 memory allocators) #1 kmsim 6.1.0\n"
                        "kern  :notice: Linux version 6.1.0-kmsim (kmsim@kmsim) "
                        "(Python simulation of the Linux 6.1 memory allocators) #1 kmsim 6.1.0\n")


@pytest.mark.e2e
def test_dmesg_ctime_without_seed_is_now_minus_uptime():
    r = run_kmsim("-c", "dmesg -T | tail -n 1")
    assert re.fullmatch(r"\[(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d \d{4}\] .+\n",
                        r.stdout)


@pytest.mark.parametrize("cmd, message", [
    ("dmesg -q", "dmesg: invalid option -- 'q'\nTry 'dmesg --help' for more information."),
    ("dmesg -kq", "dmesg: invalid option -- 'q'\nTry 'dmesg --help' for more information."),
    ("dmesg --frob", "dmesg: unrecognized option '--frob'\nTry 'dmesg --help' for more information."),
    ("dmesg -l", "dmesg: option requires an argument -- 'l'\nTry 'dmesg --help' for more information."),
    ("dmesg extra", "dmesg: bad usage\nTry 'dmesg --help' for more information."),
    ("dmesg -l loud", "dmesg: unknown level 'loud'"),
    ("dmesg -T -r", "dmesg: mutually exclusive arguments: --ctime --raw"),
    ("dmesg -r -x", "dmesg: mutually exclusive arguments: --raw --decode"),
    ("dmesg --time-format=never", "dmesg: unknown time format: never"),
    ("dmesg --co", "dmesg: option '--co' is ambiguous; possibilities: '--color' '--console-level' "
                   "'--console-off' '--console-on'\nTry 'dmesg --help' for more information."),
])
def test_dmesg_usage_errors_as_util_linux_prints_them(cmd, message):
    r = make_shell().execute(cmd)
    assert (r.out, r.err, r.status) == ("", message + "\n", 1)


@pytest.mark.e2e
def test_dmesg_invalid_option_end_to_end():
    r = run_kmsim("-c", "dmesg -q")
    assert (r.stdout, r.stderr, r.returncode) == (
        "", "dmesg: invalid option -- 'q'\nTry 'dmesg --help' for more information.\n", 1)


def test_dmesg_version_and_abbreviated_long_options():
    sh = make_shell()
    assert sh.execute("dmesg -V").out == "dmesg from util-linux 2.38.1\n"
    assert sh.execute("dmesg --dec").out == sh.execute("dmesg --decode").out != ""


# -- line continuations and redirections ----------------------------------------------

@pytest.mark.e2e
def test_backslash_newline_continues_piped_stdin():
    r = run_kmsim(input="echo a \\\nb\n")
    assert (r.stdout, r.returncode) == ("a b\n", 0)


@pytest.mark.e2e
def test_backslash_newline_in_a_script_quotes_and_comments(tmp_path):
    script = tmp_path / "s.kmsim"
    script.write_text("echo \"x\\\ny\" 'p\\\nq'\necho one | \\\n  wc -l\n# note \\\necho after\n")
    r = run_kmsim(str(script))
    assert (r.stdout, r.returncode) == ("xy p\\\nq\n1\nafter\n", 0)


@pytest.mark.e2e
def test_redirect_into_a_missing_directory_is_no_such_file(tmp_path):
    target = tmp_path / "missing" / "x"
    r = run_kmsim("-c", f"echo hello > {target}")
    assert (r.stderr, r.returncode) == (f"kmsim: {target}: No such file or directory\n", 1)


def test_redirect_keeps_bash_messages_for_directories_and_virtual_files(tmp_path):
    sh = make_shell()
    cases = {f"echo hello > {tmp_path}": f"kmsim: {tmp_path}: Is a directory\n",
             "echo hello > /proc": "kmsim: /proc: Is a directory\n",
             "echo hello > /proc/nothere": "kmsim: /proc/nothere: No such file or directory\n"}
    for cmd, err in cases.items():
        r = sh.execute(cmd)
        assert (r.err, r.status) == (err, 1)
    assert sh.execute("echo 7 > /proc/sys/kernel/printk").status == 0


def _run(sh, line):
    return sh.execute(line)


def test_dmesg_long_options_and_level_ranges():
    sh = make_shell()
    _run(sh, "insmod modules/hello.py")
    warn_up = _run(sh, "dmesg -l warn+").out.splitlines()
    assert len(warn_up) == 1 and warn_up[0].endswith("loading out-of-tree module taints kernel.")
    assert _run(sh, "dmesg --raw | tail -n 1").out.startswith("<5>[")
    assert _run(sh, "dmesg --decode | tail -n 1").out.startswith("kern  :notice: [")
    assert _run(sh, "dmesg -lwarn").out == _run(sh, "dmesg --level=warn").out
    assert _run(sh, "dmesg -l 4").out == _run(sh, "dmesg -l warn").out
    r = _run(sh, "dmesg --clear")
    assert r.status == 0 and _run(sh, "dmesg").out == ""
    r = _run(sh, "dmesg -l 9")
    assert r.status == 1 and "unknown level '9'" in r.err
