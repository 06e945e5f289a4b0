"""Tab completion that knows the machine.

Command names; the options of each command (``Command.options``); and the
arguments a command names with ``complete=``: module files (host paths and
./modules/*.py), loaded modules, module names (modprobe), virtual paths, zones,
slab caches and command names.  After ``insmod FILE`` the module's parameters
(``name=``) are offered.  Every candidate is computed from the live kernel.
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path

from prompt_toolkit.completion import Completer, Completion

from .core import COMMANDS
from .lexer import FILTERS

__all__ = ["KmsimCompleter", "candidates", "current_words"]


def current_words(text: str) -> list[str]:
    """The words of the last command of a line up to the cursor ('' if a new word starts)."""
    for sep in (";", "|"):
        text = text.rsplit(sep, 1)[-1]
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if not text or text[-1].isspace():
        words.append("")
    return words or [""]


def _in_filter(text: str) -> bool:
    return "|" in text and ";" not in text.rsplit("|", 1)[-1]


def candidates(shell, text: str) -> list[str]:
    """Completions of the word under the cursor, for the line text before it."""
    words = current_words(text)
    word = words[-1]
    if len(words) == 1:
        names = FILTERS if _in_filter(text) else COMMANDS
        return sorted(n for n in names if n.startswith(word))
    cmd = COMMANDS.get(words[0])
    if cmd is None:
        return []
    if word.startswith("-"):
        return [o for o in cmd.options if o.startswith(word)]
    kind = cmd.complete
    if cmd.name == "modinfo" or (cmd.name == "modprobe" and "-r" in words[1:-1]):
        extra = list(shell.kernel.modules.modules)
        return sorted(c for c in set(extra) | set(_kind_candidates(shell, kind, word))
                      if c.startswith(word))
    if kind == "module_files" and len(words) > 2:
        return _module_params(words[1], word)
    return sorted(c for c in _kind_candidates(shell, kind, word) if c.startswith(word))


def _kind_candidates(shell, kind: str | None, word: str) -> list[str]:
    k = shell.kernel
    if kind == "module_files":
        return _module_files(word)
    if kind == "loaded_modules":
        return list(k.modules.modules)
    if kind == "module_names":
        return sorted(set(_module_names()) | set(k.modules.modules))
    if kind == "paths":
        return _virtual_paths(k, word) if word.startswith("/") or not word else _host_paths(word)
    if kind == "commands":
        return list(COMMANDS)
    if kind == "zones":
        return [z.name for z in k.buddy.zones]
    if kind == "caches":
        return cache_names(k)
    return []


def cache_names(kernel) -> list[str]:
    """Names of the slab caches (empty before SLUB boots)."""
    slab = kernel.subsystems.get("slab")
    if slab is None:
        return []
    caches = getattr(slab, "caches", None) or getattr(slab, "slab_caches", None) or []
    if isinstance(caches, dict):
        return list(caches)
    return [getattr(c, "name", str(c)) for c in caches]


def _module_files(word: str) -> list[str]:
    out = [p for p in _host_paths(word) if p.endswith((".py", "/"))]
    if "/" not in word:
        out += [f"modules/{p.name}" for p in sorted(Path("modules").glob("*.py"))]
        out += [f"./modules/{p.name}" for p in sorted(Path("modules").glob("*.py"))
                if word.startswith("./")]
    return sorted(set(out))


def _module_names() -> list[str]:
    from .commands import MODULE_DIRS
    names = []
    for d in MODULE_DIRS:
        names += [p.stem for p in Path(d).glob("*.py") if not p.name.startswith("_")]
    return names


def _host_paths(word: str) -> list[str]:
    head, _sep, _tail = word.rpartition("/")
    base = head + "/" if _sep else ""
    d = os.path.expanduser(head) if _sep else "."
    if _sep and not head:
        d = "/"
    try:
        entries = sorted(os.scandir(d), key=lambda e: e.name)
    except OSError:
        return []
    return [base + e.name + ("/" if e.is_dir() else "") for e in entries
            if not e.name.startswith(".") or _tail.startswith(".")]


def _virtual_paths(kernel, word: str) -> list[str]:
    from .. import fs
    head = word.rsplit("/", 1)[0] if "/" in word else ""
    out = []
    for n in fs.list_dir(kernel, head or "/", quiet=True) or []:
        path = f"{head}/{n}"
        is_dir = fs.list_dir(kernel, path, quiet=True) is not None
        out.append(path + ("/" if is_dir else ""))
    return out


def _module_params(path: str, word: str) -> list[str]:
    from .modinfo import file_metadata
    from .commands import find_module_file
    real = path if Path(path).is_file() else find_module_file(path)
    if real is None:
        return []
    params = file_metadata(real)["params"]
    return [f"{p}=" for p in params if f"{p}=".startswith(word)]


class KmsimCompleter(Completer):
    """prompt_toolkit completer over ``candidates``."""

    def __init__(self, shell):
        self.shell = shell

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        word = current_words(text)[-1]
        try:
            cands = candidates(self.shell, text)
        except Exception:       # completion must never break the prompt
            return
        for c in cands:
            display = c.rstrip("/").rsplit("/", 1)[-1] + ("/" if c.endswith("/") else "")
            # a finished word gets its space, as bash adds one; directories and 'name=' do not
            text = c if c.endswith(("/", "=")) else c + " "
            yield Completion(text, start_position=-len(word), display=display)
