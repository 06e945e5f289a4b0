"""The README's promises: its example module loads, its transcript is what kmsim prints,
and .ci/run runs exactly its test command."""
from __future__ import annotations

import re
import subprocess

import pytest
from conftest import ROOT, make_shell, run_kmsim

README = (ROOT / "README.md").read_text()


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README, re.S)


def test_example_module_loads_and_unloads(tmp_path):
    src = python_blocks()[0]
    assert "module_init" in src
    f = tmp_path / "demo.py"
    f.write_text(src)
    sh = make_shell()
    assert sh.execute(f"insmod {f} count=9").status == 0
    assert sh.execute("rmmod demo").status == 0
    d = sh.execute("dmesg").out
    assert re.search(r"got ffff888[0-9a-f]{9}, count=9", d)
    assert "bye" in d


def test_typed_memory_snippet_runs(tmp_path):
    snippet = python_blocks()[1]
    body = "\n".join("    " + line for line in snippet.splitlines())
    f = tmp_path / "typed.py"
    f.write_text("from kmsim.linux import *\n\n@module_init\ndef t_init():\n" + body
                 + "\n    pr_notice('%u %s\\n', ex.id, ex.example_string)\n    kfree(p)\n    return 0\n"
                   "MODULE_LICENSE('GPL')\n")
    sh = make_shell()
    assert sh.execute(f"insmod {f}").status == 0, sh.execute("dmesg").out
    assert "7 Test" in sh.execute("dmesg").out


@pytest.mark.e2e
def test_first_session_transcript_is_what_kmsim_prints():
    block = re.search(r"```text\n(.*?)```", README, re.S).group(1)
    sessions = re.split(r"^\$ ", block, flags=re.M)[1:]
    assert sessions
    for sess in sessions:
        cmdline, _, expected = sess.partition("\n")
        m = re.match(r'kmsim --seed 1 -c "(.*)"$', cmdline)
        assert m, cmdline
        r = run_kmsim("--seed", "1", "-c", m.group(1))
        assert r.stdout == expected


@pytest.mark.e2e
def test_ci_runs_the_readme_test_command():
    cmd = re.search(r"<!-- test command -->\n```sh\n(.*?)\n```", README, re.S).group(1)
    out = subprocess.run(["sed", "-n", "/<!-- test command -->/,/^```$/p", str(ROOT / "README.md")],
                         capture_output=True, text=True).stdout
    lines = [ln for ln in out.splitlines() if not ln.startswith(("<!--", "```"))]
    assert lines == [cmd]
    assert "pytest" in cmd and "pip install -e '.[test]'" in cmd


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_point_to_files_of_the_repository():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for doc in docs:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _sep, anchor = target.partition("#")
            file = (doc.parent / path).resolve() if path else doc
            assert file.is_relative_to(ROOT) and file.exists(), f"{doc.name}: {target} is not in the repo"
            if anchor and file.suffix == ".md":
                slugs = {_slug(h) for h in re.findall(r"^#+ (.+)$", file.read_text(), re.M)}
                assert anchor in slugs, f"{doc.name}: {target}: no such heading"


def test_readme_lists_the_c_type_names():
    from kmsim.linux import types
    scalars = [n for n in types.__all__ if isinstance(getattr(types, n), type(types.u8))]
    text = README[README.index("## Writing a module"):]
    for name in scalars:
        assert f"`{name}`" in text, name


@pytest.mark.e2e
def test_first_session_works_from_an_empty_folder(tmp_path):
    import os
    import sys
    block = re.search(r"```text\n(.*?)```", README, re.S).group(1)
    cmdline, _, expected = re.split(r"^\$ ", block, flags=re.M)[1].partition("\n")
    commands = re.match(r'kmsim --seed 1 -c "(.*)"$', cmdline).group(1)
    assert commands.startswith("modprobe ")
    r = subprocess.run([sys.executable, "-m", "kmsim", "--seed", "1", "-c", commands], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.stdout == expected
