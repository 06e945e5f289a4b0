"""docs/api.md stays true: it names exactly what kmsim.linux exports, its examples run
clean, and its table of C type sizes is what kmsim computes on each machine."""
from __future__ import annotations

import importlib
import re

import pytest
from conftest import ROOT, make_shell

DOC = ROOT / "docs" / "api.md"
SECTION = re.compile(r"^## .*?`kmsim\.linux\.(\w+)`", re.M)
EXAMPLE = re.compile(r"<!-- example(?:: (\w+))? -->\n```python\n(.*?)```", re.S)
MACHINES = ("x86_64", "i386", "rpi2")


def sections() -> dict[str, str]:
    """{header module: the text of its section}."""
    text = DOC.read_text()
    marks = list(SECTION.finditer(text))
    out = {}
    for m, nxt in zip(marks, marks[1:] + [None], strict=True):
        out[m.group(1)] = text[m.start():nxt.start() if nxt else len(text)]
    return out


def documented(section: str) -> set[str]:
    """The names a section documents: every `span` in the first cell of its table rows."""
    names = set()
    if "<!-- sizes -->" in section:          # the size table names types of other headers
        head, _sep, rest = section.partition("<!-- sizes -->")
        section = head + rest.partition("\n\n")[2]
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first = line[1:].split(" | ", 1)[0]
        for span in re.findall(r"`([^`]+)`", first):
            m = re.match(r"@?([A-Za-z_]\w*)", span)
            if m:
                names.add(m.group(1))
    return names


def header(name: str):
    """The header module kmsim.linux.NAME."""
    return importlib.import_module(f"kmsim.linux.{name}")


def exported() -> set[str]:
    import kmsim.linux
    return set(kmsim.linux.__all__)


def test_every_export_is_documented_and_every_documented_name_exported():
    docs = sections()
    present = {h: documented(t) for h, t in docs.items()}
    named = set().union(*present.values())
    missing = sorted(exported() - named)
    assert not missing, f"docs/api.md does not document {missing}"
    extra = sorted(named - exported())
    assert not extra, f"docs/api.md documents {extra}, which kmsim.linux does not export"


@pytest.mark.parametrize("name", sorted(sections()))
def test_a_section_documents_only_what_its_header_exports(name):
    mod = header(name)
    names = documented(sections()[name])
    assert names, f"the section of kmsim.linux.{name} documents nothing"
    stray = sorted(names - set(mod.__all__))
    assert not stray, f"the section of kmsim.linux.{name} documents {stray}, which it does not export"


def test_every_header_has_a_section():
    import kmsim.linux
    for h in kmsim.linux._HEADERS:
        assert h in sections(), f"docs/api.md has no section for kmsim.linux.{h}"


def test_the_constants_tables_give_the_kernels_values():
    gfp, slab = header("gfp"), header("slab")
    for line in DOC.read_text().splitlines():
        m = re.match(r"\| `((?:__)?(?:GFP|SLAB)_\w+)` \| `(0x[0-9a-f]+)` \|", line)
        if m:
            assert getattr(gfp if "GFP" in m.group(1) else slab, m.group(1)) == int(m.group(2), 16), line
        m = re.match(r"\| `(E[A-Z0-9]+)`(?:, `(E[A-Z0-9]+)`)? \| (\d+) \|", line)
        if m:
            errno = header("errno")
            for n in filter(None, m.groups()[:2]):
                assert getattr(errno, n) == int(m.group(3)), line


def _examples() -> list[tuple[str, str]]:
    return [(machine or "x86_64", body) for machine, body in EXAMPLE.findall(DOC.read_text())]


@pytest.mark.parametrize("index", range(len(_examples())))
def test_example_runs_clean_and_leaves_nothing(tmp_path, index):
    machine, body = _examples()[index]
    mod = tmp_path / f"api_example{index}.py"
    tail = "" if "module_exit" in body else "\n@module_exit\ndef _exit():\n    pass\n"
    if "MODULE_LICENSE" not in body:
        tail += "\nMODULE_LICENSE('GPL')\n"
    mod.write_text("from kmsim.linux.module import *\n" + body + tail)
    shell = make_shell(machine)
    r = shell.execute(f"insmod {mod}")
    log = shell.execute(f"dmesg | grep -A 30 {mod.stem}").out     # from the module's first line
    assert r.status == 0, log
    for bad in ("BUG", "Oops", "WARNING", "KASAN", "kmsim:"):
        assert bad not in log, log
    r = shell.execute(f"rmmod {mod.stem}")
    assert (r.status, r.err) == (0, ""), r.err
    assert "unreferenced object" not in shell.execute("dmesg").out


def _size_rows() -> list[tuple[list[str], list[str]]]:
    text = DOC.read_text()
    table = text[text.index("<!-- sizes -->"):].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[3:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append((re.findall(r"`(\w+)`", cells[0]), cells[1:]))
    return rows


@pytest.mark.parametrize("machine", MACHINES)
def test_the_size_table_is_what_kmsim_computes(machine):
    from kmsim.kernel import Kernel
    Kernel(machine, "64M", "", seed=1)
    import kmsim.linux as L
    types = header("types")
    covered = set()
    for names, sizes in _size_rows():
        want = sizes[MACHINES.index(machine)]
        size = int(want.split()[0])
        align = int(re.search(r"aligned to (\d+)", want).group(1)) if "aligned" in want else size
        for n in names:
            t = getattr(L, n)
            covered.add(n)
            assert types.sizeof(t) == size, (n, machine)
            if n not in ("list_head", "kfifo"):
                assert types.alignof(t) == align, (n, machine)
    scalars = {n for n in types.__all__ if isinstance(getattr(types, n), type(types.u8))}
    assert scalars <= covered, f"the size table leaves out {sorted(scalars - covered)}"
