"""The lab's modules that ship with kmsim: where modprobe finds them, and --examples.

The top-level ``modules/`` folder of the repository is installed as the package data
``kmsim/examples/`` (see setup.py).  A checkout run in place (an editable install) has
no ``kmsim/examples/``: there the folder beside the package is used.
"""
from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["examples_dir", "module_dirs", "module_sources", "copy_examples"]

_PKG = Path(__file__).resolve().parent.parent
SUFFIXES = (".py", ".c")


def examples_dir() -> Path | None:
    """The installed examples (kmsim/examples), else the checkout's modules/ folder."""
    for d in (_PKG / "examples", _PKG.parent / "modules"):
        if d.is_dir() and any(d.glob("*.py")):
            return d
    return None


def module_dirs() -> list[str]:
    """modprobe's search path: ./modules first, then the installed examples."""
    dirs = ["modules"]
    ex = examples_dir()
    if ex is not None:
        dirs.append(str(ex))
    return dirs


def module_sources(d: Path) -> list[Path]:
    """The module files of a folder, by name (no __init__.py, no hidden files)."""
    return sorted(p for p in d.iterdir()
                  if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith(("_", ".")))


def copy_examples(dest: str) -> tuple[list[str], list[str]]:
    """Copy the lab's modules into dest (created if need be) for a student to edit.
    Files already there are kept, never overwritten.  Returns (copied, kept) paths;
    raises OSError when dest cannot be made or written, LookupError without examples."""
    src = examples_dir()
    if src is None:
        raise LookupError("no lab modules are installed with this kmsim")
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for f in module_sources(src):
        target = out / f.name
        if target.exists():
            kept.append(str(target))
            continue
        shutil.copyfile(f, target)
        copied.append(str(target))
    return copied, kept
