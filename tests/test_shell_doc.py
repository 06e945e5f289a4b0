"""docs/shell.md keeps step with the shell: every command `help` lists has a section,
every section is a command, and every option a usage line shows is documented there
(read from `help` itself, so a new command or option fails here until it is documented)."""
from __future__ import annotations

import functools
import re
import subprocess
import sys

import pytest
from conftest import ROOT, make_shell

DOC = ROOT / "docs" / "shell.md"
HEADING = re.compile(r"^#### (.+)$", re.M)


def doc_sections() -> dict[str, str]:
    """{command: the text of its section} from the '#### `cmd`' headings."""
    text = DOC.read_text()
    marks = list(HEADING.finditer(text))
    out = {}
    for m, nxt in zip(marks, marks[1:] + [None], strict=True):
        end = nxt.start() if nxt else text.index("\n## ", m.end())
        for name in re.findall(r"`([\w-]+)`", m.group(1)):
            out[name] = text[m.start():end]
    return out


def part(title: str) -> str:
    """The text of a '## ' part of the page."""
    text = DOC.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else len(text)]


@functools.cache
def help_text(cmd: str = "") -> str:
    """What `help` (or `help CMD`) prints, from one shell."""
    return _shell().execute(f"help {cmd}".strip()).out


@functools.cache
def _shell():
    return make_shell(mem="64M")


def help_commands() -> list[str]:
    """The command names of help's list: the indented lines before its 'Filters:' line."""
    names = []
    for line in help_text().splitlines()[1:]:
        if not line.startswith("  "):
            break
        names.append(line.split()[0])
    return names


def usage_of(cmd: str) -> str:
    return help_text(cmd).splitlines()[0]


def words(usage: str) -> tuple[list[str], list[str]]:
    """(options, literal words) of a usage line, its command name left out."""
    tokens = [t for t in re.split(r"[\s\[\]|]+", usage)[1:] if t and t != "..."]
    options = [t for t in tokens if re.match(r"[-+]{1,2}[A-Za-z]", t)]
    literals = [t for t in tokens if re.fullmatch(r"[a-z]+", t)]
    return options, literals


def mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def test_every_command_in_help_has_a_section_and_every_section_is_a_command():
    listed, documented = set(help_commands()), set(doc_sections())
    assert listed, "help lists no command"
    assert not sorted(listed - documented), f"docs/shell.md does not document {sorted(listed - documented)}"
    assert not sorted(documented - listed), f"docs/shell.md documents {sorted(documented - listed)}, " \
                                            f"which help does not list"


@pytest.mark.parametrize("cmd", help_commands())
def test_every_option_of_a_command_is_documented(cmd):
    usage = usage_of(cmd)
    section = doc_sections()[cmd]
    options, literals = words(usage)
    for w in options + literals:
        assert mentions(section, w), f"docs/shell.md: the section of {cmd} does not mention {w} ({usage})"


def test_the_filters_and_their_options_are_documented():
    line = next(ln for ln in help_text().splitlines() if ln.startswith("Filters:"))
    text = part("The command line of the shell")
    for stage in line.split(":", 1)[1].split(" | ")[1:]:
        name = stage.split()[0]
        assert f"`{name}" in text, f"docs/shell.md does not document the filter {name}"
        for opt in words(stage)[0]:
            assert mentions(text, opt), f"docs/shell.md does not document {name} {opt}"


def _option_strings(help_text: str) -> set[str]:
    opts = set()
    for line in help_text.splitlines():
        if line.lstrip().startswith("-"):
            opts |= set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", line.split("  ", 2)[1]
                                   if line.startswith("  ") else line))
    return opts


def test_the_command_line_options_are_documented():
    from kmsim.cli import build_parser
    text = part("Starting kmsim")
    for opt in _option_strings(build_parser().format_help()):
        assert mentions(text, opt), f"docs/shell.md does not document kmsim {opt}"


@pytest.mark.e2e
def test_the_options_of_kmsim_check_are_documented():
    r = subprocess.run([sys.executable, "-m", "kmsim", "check", "--help"], capture_output=True,
                       text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0
    text = part("`kmsim check`")
    for opt in _option_strings(r.stdout):
        assert mentions(text, opt), f"docs/shell.md does not document kmsim check {opt}"
