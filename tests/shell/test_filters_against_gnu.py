"""The filters beside the real tools: random command lines of grep, head, tail, wc, sort and
cat over the same files (host files, a directory, a missing one, standard input) run by
kmsim's filters and by GNU grep 3.8 / coreutils 9.1, when those are the host's versions
(else skipped): output, messages and status must be the same.  grep and wc run in
C.UTF-8 (kmsim's grep matches, and its wc counts, as in a UTF-8 locale), head, tail, sort
and cat in the C locale (their messages' quotes are the C locale's).  Then random basic
regular expressions, as GNU grep reads them and as kmsim translates them."""
from __future__ import annotations

import os
import random
import shlex
import shutil
import subprocess

import pytest

from kmsim.shell.filters import FilterError, Inputs, run_filter
from kmsim.shell.inputs import open_operand


def _version(tool: str) -> str:
    if shutil.which(tool) is None:
        return ""
    r = subprocess.run([tool, "--version"], capture_output=True, text=True, env={"LC_ALL": "C"})
    return r.stdout.splitlines()[0] if r.returncode == 0 and r.stdout else ""


GNU = _version("grep") == "grep (GNU grep) 3.8" and _version("head") == "head (GNU coreutils) 9.1"
pytestmark = pytest.mark.skipif(not GNU, reason="needs GNU grep 3.8 and coreutils 9.1 on PATH")

STDIN = "s1\na1\n\nstdin a\n\n\nb2"
FILES = ["f1", "f2", "f3", "f12", "dd", "nosuch", "-", "empty", "a b", "pats", "bin", "utf", "it's", ""]
POOL = {
    "grep": ["-c", "-n", "-v", "-i", "-h", "-H", "-l", "-L", "-s", "-q", "-o", "-w", "-x", "-m1", "-m", "2",
             "-A1", "-B1", "-C1", "-2", "-E", "-F", "-e", "a", "-f", "pats", "--label=L", "--", "-y", "-A0",
             "-B2", "-C0", "-1", "-ov", "-nH", "-cv", "-lv", "-iw", "-e", "", "-e", "b", "-vq", "-hn"],
    "head": ["-n", "2", "-n", "-2", "-c", "3", "-c", "-3", "-q", "-v", "-5", "-1", "--lines=1", "-n+2", "--",
             "-n", "0", "-c", "0", "-n", "1k", "-3q", "-2v", "-c", "-0", "--bytes=2", "-n", "x"],
    "tail": ["-n", "2", "-n", "+2", "-c", "3", "-c", "+3", "-q", "-v", "-5", "+2", "-1", "--lines=1", "--",
             "-l", "-3c", "-0", "+0", "-n", "+0", "-c", "1k", "-b", "-3b", "-q", "--bytes=+2", "-n", "-x"],
    "wc": ["-l", "-w", "-c", "-m", "-L", "--", "--lines"],
    "sort": ["-r", "--"],
    "cat": ["-n", "-b", "-s", "-E", "-T", "-A", "-v", "-e", "-t", "--"],
}
PATTERNS = ["a", "a[0-9]", "^l1", "x$", ".", "", "e\\|x"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("gnu")
    for name, data in {"f1": b"a1\nb\na2\nc\nd\ne\na3\n", "f2": b"x\na9\n", "f3": b"noeol", "empty": b"",
                       "f12": "".join(f"l{i}\n" for i in range(1, 13)).encode(), "a b": b"x\na9\n",
                       "it's": b"x\na9\n", "pats": b"a1\nc\n", "bin": b"a\0b\n",
                       "utf": "caf\u00e9\t\x01\n".encode()}.items():
        (d / name).write_bytes(data)
    (d / "dd").mkdir()
    return d


def kmsim_run(words: list[str]) -> tuple[str, str, int]:
    out: list[str] = []
    err: list[str] = []
    inputs = Inputs(STDIN, lambda path: open_operand(None, path))
    try:
        status = run_filter(words, inputs, out.append, lambda line: err.append(line + "\n"))
    except FilterError as e:
        return "".join(out), "".join(err) + f"{e}\n", e.status
    return "".join(out), "".join(err), status


def gnu_run(words: list[str]) -> tuple[str, str, int]:
    env = {"LC_ALL": "C.UTF-8" if words[0] in ("wc", "grep") else "C", "PATH": os.environ.get("PATH", "")}
    r = subprocess.run(words, input=STDIN, capture_output=True, text=True, env=env, errors="replace",
                       timeout=10)
    return r.stdout, r.stderr, r.returncode


def command_lines(seed: int, n: int) -> list[list[str]]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        tool = rng.choice(list(POOL))
        words = [tool] + rng.sample(POOL[tool], k=min(len(POOL[tool]), rng.randint(0, 5)))
        if tool == "grep" and rng.random() < 0.8:
            words.append(rng.choice(PATTERNS))
        lines.append(words + rng.sample(FILES, k=rng.randint(0, 3)))
    return lines


@pytest.mark.parametrize("seed", [1, 2])
def test_the_filters_print_what_gnus_tools_print(folder, monkeypatch, seed):
    monkeypatch.chdir(folder)
    differ = [shlex.join(w) for w in command_lines(seed, 300) if kmsim_run(w) != gnu_run(w)]
    assert not differ, f"{len(differ)} lines differ from GNU's, the first: {differ[:5]}"


RX_ATOMS = ["a", "b", "c", ".", "*", "+", "?", "|", "(", ")", "\\(", "\\)", "\\|", "\\+", "\\?", "{", "}",
            "\\{", "\\}", "1", "2", ",", "[", "]", "^", "$", "\\", "[ab]", "[^a]", "[[:alpha:]]", "\\w",
            "\\b", "\\<", "\\>", "\\1", "x", " ", "-", "\\.", "[]a]", "[a-c]"]
RX_TEXT = ("abc\naab\na+b\na|b\n(ab)\n{1}\nab{2}\nx*y\n.^$\na\\b\n[ab]\nkmalloc(32)\n\nAbC aBc\n"
           "foo_bar baz\n123 456\n")


def test_random_regular_expressions_match_as_gnu_greps(folder, monkeypatch):
    monkeypatch.chdir(folder)
    (folder / "rx.txt").write_text(RX_TEXT)
    rng = random.Random(1)
    differ = []
    for _ in range(400):
        pattern = "".join(rng.choice(RX_ATOMS) for _ in range(rng.randint(1, 6)))
        opts = rng.sample(["-E", "-o", "-w", "-x", "-i", "-c", "-n"], k=rng.randint(0, 2))
        words = ["grep", *opts, "-e", pattern, "rx.txt"]
        if kmsim_run(words) != gnu_run(words):
            differ.append(shlex.join(words))
    assert not differ, f"{len(differ)} patterns differ from GNU grep's, the first: {differ[:5]}"
