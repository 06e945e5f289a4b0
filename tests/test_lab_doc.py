"""docs/lab.md stays true: its listings are the modules, its fragments run, its outputs match."""
from __future__ import annotations

import re
import warnings

import pytest

from tests.conftest import ROOT, make_shell

DOC = ROOT / "docs" / "lab.md"
BLOCK = re.compile(r"<!-- (file|fragment|output|placeholder)(?:: (.*?))? -->\n```(\w*)\n(.*?)```",
                   re.S)


def blocks(kind: str) -> list[tuple[str, str]]:
    """(marker argument, block text) of every block of one kind, in document order."""
    return [(arg, body) for k, arg, _lang, body in BLOCK.findall(DOC.read_text()) if k == kind]


def messages(shell) -> list[str]:
    return [re.sub(r"^\[ *\d+\.\d+\] ", "", ln) for ln in shell.execute("dmesg").out.splitlines()]


def test_doc_has_the_four_listings_and_their_rules():
    text = DOC.read_text()
    for n in range(1, 5):
        assert f"## Listing {n}:" in text
    assert text.count("```c\n") == 4
    for rule in ("addressof", "if not p:", "IS_ERR", "Struct", "T.static()", "container_of"):
        assert rule in text


@pytest.mark.parametrize("path,body", blocks("file"), ids=[a for a, _ in blocks("file")])
def test_listing_in_doc_is_the_module_file(path, body):
    assert body == (ROOT / path).read_text(), f"docs/lab.md: the copy of {path} is out of date"


def test_placeholders_only_for_missing_modules():
    for path, _ in re.findall(r"<!-- placeholder: (.*?) -->()", DOC.read_text()):
        if (ROOT / path).exists():
            warnings.warn(f"docs/lab.md still has a placeholder for {path}, which now exists", stacklevel=2)


@pytest.mark.parametrize("index", range(len(blocks("fragment"))))
def test_fragment_runs_as_a_module(tmp_path, index):
    _arg, body = blocks("fragment")[index]
    mod = tmp_path / f"lab_fragment{index}.py"
    mod.write_text("from kmsim.linux.module import *\n" + body +
                   "\ndef _exit():\n    pass\n\nmodule_exit(_exit)\nMODULE_LICENSE('GPL')\n")
    shell = make_shell()
    r = shell.execute(f"insmod {mod}")
    log = "\n".join(messages(shell))
    assert r.status == 0, log
    assert "BUG" not in log and "Oops" not in log
    assert shell.execute(f"rmmod {mod.stem}").status == 0


def _matches(pattern: str, line: str) -> bool:
    return re.fullmatch(".*?".join(map(re.escape, pattern.split("..."))), line) is not None


@pytest.mark.parametrize("commands,expected", blocks("output"),
                         ids=[a for a, _ in blocks("output")])
def test_printed_output_matches_kmsim(commands, expected):
    shell = make_shell()
    for cmd in commands.split(" ; "):
        shell.execute(cmd)
    got = messages(shell)
    pos = 0
    for want in expected.splitlines():
        while pos < len(got) and not _matches(want, got[pos]):
            pos += 1
        assert pos < len(got), f"'{want}' not printed (in order) by {commands}"
        pos += 1
