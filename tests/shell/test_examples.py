"""The lab modules that ship with kmsim: modprobe's search path, completion, --examples."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODULES, ROOT, make_shell

from kmsim.shell.completion import candidates
from kmsim.shell.examples import copy_examples, examples_dir, module_dirs

LAB = sorted(p.name for p in MODULES.iterdir() if p.suffix in (".py", ".c"))


def test_a_checkout_uses_its_own_modules_folder():
    assert examples_dir() == MODULES
    assert module_dirs() == ["modules", str(MODULES)]


def test_modprobe_and_completion_find_the_lab_modules_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sh = make_shell()
    assert candidates(sh, "modprobe exercise3") == ["exercise3_dlist"]
    r = sh.execute("modprobe exercise3_dlist; lsmod")
    assert r.status == 0
    assert "exercise3_dlist" in r.out


def test_a_module_in_dot_modules_comes_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "hello.py").write_text(
        "from kmsim.linux import *\n\n@module_init\ndef mine():\n    pr_info('mine\\n')\n"
        "    return 0\n\n@module_exit\ndef bye():\n    pass\n\nMODULE_LICENSE('GPL')\n")
    sh = make_shell()
    assert sh.execute("modprobe hello").status == 0
    assert sh.execute("dmesg | tail -n 1").out.endswith("mine\n")


def test_copy_examples_copies_every_lab_module_and_keeps_edits(tmp_path):
    dest = tmp_path / "lab" / "modules"
    copied, kept = copy_examples(str(dest))
    assert sorted(Path(p).name for p in copied) == LAB and kept == []
    assert (dest / "exercise1.py").read_bytes() == (MODULES / "exercise1.py").read_bytes()
    (dest / "exercise1.py").write_text("# my work\n")
    copied, kept = copy_examples(str(dest))
    assert copied == [] and len(kept) == len(LAB)
    assert (dest / "exercise1.py").read_text() == "# my work\n"


@pytest.mark.e2e
def test_examples_option_then_insmod_from_the_copy(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "kmsim", "--examples", "modules"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, f"copied {len(LAB)} lab modules to modules/\n", "")
    run = subprocess.run([sys.executable, "-m", "kmsim", "--examples", "modules"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0
    assert run.stderr.startswith(f"kmsim: {len(LAB)} files already in modules/ were kept, not overwritten")
    (tmp_path / "afile").write_text("")
    run = subprocess.run([sys.executable, "-m", "kmsim", "--examples", "afile"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=60)
    assert (run.returncode, run.stderr) == (1, "kmsim: --examples afile: File exists\n")


@pytest.mark.e2e
def test_an_installed_layout_finds_kmsim_examples(tmp_path):
    """As a wheel installs it: the package with the lab modules in kmsim/examples, and
    no checkout beside it (setup.py maps modules/ to kmsim.examples)."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "kmsim", site / "kmsim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(MODULES, site / "kmsim" / "examples")
    work = tmp_path / "empty"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))
    run = subprocess.run([sys.executable, "-m", "kmsim", "--seed", "1", "-c",
                          "modprobe zone_allocator; lsmod; modinfo -F filename zone_allocator"],
                         cwd=work, capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ("Module                  Size  Used by\nzone_allocator         16384  0\n"
                          f"{site / 'kmsim' / 'examples' / 'zone_allocator.py'}\n")


def test_setup_maps_the_modules_folder_into_the_package():
    import tomllib
    text = (ROOT / "setup.py").read_text()
    assert '"kmsim.examples": "modules"' in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "*.c" in project["tool"]["setuptools"]["package-data"]["kmsim.examples"]
    assert "graft modules" in (ROOT / "MANIFEST.in").read_text()
