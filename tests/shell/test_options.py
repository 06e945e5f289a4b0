"""The shell's GNU option parser (kmsim/shell/options.py) and the commands that use it."""
from __future__ import annotations

import getopt
import itertools

import pytest

from kmsim.shell.options import OptionError, Options, gnu_getopt
from tests.conftest import make_shell

SPEC = Options("kl:n:L", {"kernel": "k", "level=": "l", "console-level=": "n", "console-off": None,
                          "color": "L", "clear": None}, optional=("L",))


def _error(args: list[str]) -> OptionError:
    with pytest.raises(OptionError) as e:
        SPEC.parse(args)
    return e.value


def test_clusters_values_and_permuted_operands_as_getopt_long_reads_them():
    assert SPEC.parse(["x", "-kl", "err", "--level=warn", "y", "--", "-k"]) == (
        [("k", None), ("l", "err"), ("l", "warn")], ["x", "y", "-k"])
    assert SPEC.parse(["-lerr,warn", "-"]) == ([("l", "err,warn")], ["-"])


def test_a_unique_abbreviation_stands_for_its_option_and_long_only_names_are_keys():
    assert SPEC.parse(["--kern", "--console-of", "--cle"]) == (
        [("k", None), ("console-off", None), ("clear", None)], [])


def test_optional_values_stay_with_their_option():
    assert SPEC.parse(["--color=always", "x", "-Lnever", "-kL", "--col"]) == (
        [("L", "always"), ("L", "never"), ("k", None), ("L", None), ("L", None)], ["x"])
    assert SPEC.parse(["-l", "-Lx"]) == ([("l", "-Lx")], [])      # the value of -l, not an option


@pytest.mark.parametrize("args, message", [
    (["-q"], "invalid option -- 'q'"),
    (["-kq"], "invalid option -- 'q'"),
    (["-l"], "option requires an argument -- 'l'"),
    (["--frob=1"], "unrecognized option '--frob=1'"),
    (["--level"], "option '--level' requires an argument"),
    (["--kernel=1"], "option '--kernel' doesn't allow an argument"),
    (["--co"], "option '--co' is ambiguous; possibilities: '--console-level' '--console-off' '--color'"),
    (["-n", "--frob", "--frob=2"], "unrecognized option '--frob=2'"),    # the first --frob is -n's value
])
def test_rejections_carry_glibcs_words(args, message):
    assert str(_error(args)) == message


def test_a_rejection_keeps_the_options_before_it():
    assert _error(["-k", "--level=err", "-kq"]).before == [("k", None), ("l", "err"), ("k", None)]
    assert _error(["-q", "-k"]).before == []


def test_names_are_what_completion_offers():
    assert Options("fs:", {"force": "f", "sort=": "s"}).names() == ["-f", "-s", "--force", "--sort"]


@pytest.mark.parametrize("line, status, err", [
    ("rmmod -x hello", 1, "rmmod: invalid option -- 'x'\n"),
    ("rmmod --frob", 1, "rmmod: unrecognized option '--frob'\n"),
    ("modprobe -x", 1, "modprobe: invalid option -- 'x'\n"),
    ("modinfo --field", 1, "modinfo: option '--field' requires an argument\n"),
    ("free -z", 2, "free: invalid option -- 'z'\nUsage: free [-h] [-k] [-m]\n"),
    ("free x", 2, "free: extra operand 'x'\nUsage: free [-h] [-k] [-m]\n"),
    ("uname --frob", 2, "uname: unrecognized option '--frob'\nUsage: uname [-a|-r|-m]\n"),
    ("slabtop --sort", 2, "slabtop: option '--sort' requires an argument\nUsage: slabtop [-o] [-s KEY]\n"),
    ("memmap -x", 2, "memmap: invalid option -- 'x'\nUsage: memmap [ZONE] [--svg FILE]\n"),
    ("dmesg -h -q", 0, ""),                              # util-linux prints the help first
    ("dmesg -T -r -q", 1, "dmesg: mutually exclusive arguments: --ctime --raw\n"),
    ("echo x | sort -k1", 2, "sort: option '-k' is not supported by kmsim's sort\n"),
    ("echo x | wc --lines=2", 1, "wc: option '--lines' doesn't allow an argument\n"
                                 "Try 'wc --help' for more information.\n"),
])
def test_commands_report_bad_options_as_their_tools_do(line, status, err):
    r = make_shell().execute(line)
    assert (r.status, r.err) == (status, err)


def test_commands_accept_clusters_and_abbreviations():
    sh = make_shell()
    assert sh.execute("free -hm").out == sh.execute("free --hu").out
    assert sh.execute("uname --kernel-r").out == sh.execute("uname -r").out == f"{sh.kernel.release}\n"
    assert sh.execute("slabtop --on --so=n").out == sh.execute("slabtop -o -s n").out
    assert sh.execute("modinfo --fi=license modules/hello.py").out == "GPL\n"
    assert sh.execute("dmesg | grep --ign -c LINUX").out == sh.execute("dmesg | grep -ic linux").out != "0\n"
    assert sh.execute("dmesg | head --li=2").out == sh.execute("dmesg | head -2").out
    text = sh.execute("dmesg").out.splitlines(keepends=True)
    assert sh.execute("dmesg | grep -2 -m1 Memory").out.count("\n") <= 5
    assert sh.execute("dmesg | sort --rev").out == "".join(sorted(text, reverse=True))


_GETOPT_WORDS = ["-f", "-s", "-fs", "-sx", "-q", "--force", "--fo", "--sort", "--sort=x", "--force=1",
                 "--frob", "--s", "--", "-", "x", "y"]


def test_the_linear_gnu_getopt_reads_what_getopts_reads():
    """Same options, operands and errors as getopt.gnu_getopt (which slices its list after
    each argument: quadratic on a long line), for every line of up to 3 of these words."""
    def run(fn, args):
        try:
            return fn(args, "fs:", ["force", "sort=", "size="])
        except getopt.GetoptError as e:
            return e.msg, e.opt
    for n in range(4):
        for args in itertools.product(_GETOPT_WORDS, repeat=n):
            assert run(gnu_getopt, list(args)) == run(getopt.gnu_getopt, list(args)), args
