"""Tab completion that knows the machine.

The words are those the shell will run: the line is read by the parser's tokenizer
(kmsim.shell.parser.tokenize), an unfinished quote included.
Command names; the options of each command (``Command.options``); and the
arguments a command names with ``complete=``: module files (host paths and
./modules/*.py), loaded modules, module names (modprobe), virtual paths, zones,
slab caches and command names.  After ``insmod FILE`` the module's parameters
(``name=``) are offered.  Every candidate is computed from the live kernel.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from prompt_toolkit.completion import Completer, Completion

from .. import fs
from .commands import MODULE_DIRS, find_module_file
from .core import COMMANDS
from .lexer import FILTERS
from .modinfo import file_metadata
from .parser import Token, tokenize

__all__ = ["KmsimCompleter", "candidates", "current_words", "word_start", "quote_completion"]


def _cursor(text: str) -> tuple[list[Token], Token | None]:
    """The tokens of the command the cursor is in (after the last ';' or '|'), and the
    word under the cursor (None when a new word starts there)."""
    tokens = tokenize(text)
    cut = max((i + 1 for i, t in enumerate(tokens) if t.kind in ("sep", "pipe")), default=0)
    last = tokens[cut:]
    word = last[-1] if last and last[-1].kind == "word" and last[-1].end == len(text) else None
    return last, word


def current_words(text: str) -> list[str]:
    """The words of the last command of a line up to the cursor ('' if a new word starts);
    quotes are removed, an unclosed one included (``cat '/proc/bu``)."""
    last, word = _cursor(text)
    words = [t.value if t.kind == "word" else t.raw for t in last
             if t.kind in ("word", "redirect") and t is not word]
    return words + [word.value if word is not None else ""]


def word_start(text: str) -> int:
    """Index in text where the word under the cursor begins (len(text) after a space)."""
    _last, word = _cursor(text)
    return word.start if word is not None else len(text)


def _open_quote(raw: str) -> str | None:
    """The quote character left open in a raw word, or None."""
    tokens = tokenize(raw, comments=False)
    return tokens[-1].quote if tokens and tokens[-1].kind == "word" else None


def quote_completion(raw: str, cand: str) -> str:
    """The text that replaces the raw word: the candidate, quoted when the word was opened
    with a quote or the candidate needs one, and a space after a finished word (as bash)."""
    finished = not cand.endswith(("/", "="))
    q = _open_quote(raw) or ("'" if raw.startswith("'") else None)
    if q is None and cand and not _SAFE.fullmatch(cand):
        q = "'"
    if q is None:
        return cand + (" " if finished else "")
    body = cand.replace(q, f"{q}\\{q}{q}") if q == "'" else cand.replace('"', '\\"')
    return q + body + (q + " " if finished else "")


_SAFE = re.compile(r"[\w@%+=:,./~-]+")


def _in_filter(text: str) -> bool:
    """True if the cursor is in a filter: the last ';' or '|' before it is a '|'."""
    seps = [t.kind for t in tokenize(text) if t.kind in ("sep", "pipe")]
    return bool(seps) and seps[-1] == "pipe"


def _in_comment(text: str) -> bool:
    tokens = tokenize(text)
    return bool(tokens) and tokens[-1].kind == "comment"


def candidates(shell, text: str) -> list[str]:
    """Completions of the word under the cursor, for the line text before it."""
    if _in_comment(text):
        return []
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
    special = _module_args(shell, cmd, words[1:-1], word)
    if special is not None:
        return special
    return sorted(c for c in _kind_candidates(shell, cmd.complete, word) if c.startswith(word))


def _module_args(shell, cmd, before: list[str], word: str) -> list[str] | None:
    """modprobe -r: loaded modules; modinfo: every module name (as modinfo finds them in
    modules.dep); after the module of
    insmod or modprobe: its parameters.  None for every other command."""
    loaded = list(shell.kernel.modules.modules)
    args = [w for w in before if not w.startswith("-")]
    if cmd.name == "modprobe" and "-r" in before:        # only a loaded module comes out
        return sorted(m for m in loaded if m.startswith(word))
    if cmd.name == "modinfo":
        known = _kind_candidates(shell, cmd.complete, word) + _module_names()
        return sorted(c for c in set(loaded) | set(known) if c.startswith(word))
    if args and (cmd.complete == "module_files" or cmd.name == "modprobe"):
        return _module_params(args[0], word, args[1:])
    return None


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
    """Names of the slab caches."""
    return [c.name for c in kernel.slab.caches]


def _module_files(word: str) -> list[str]:
    """Python files and directories under word; without a '/', ./modules/*.py too (then
    the 'modules/' directory itself is left out: its files are listed)."""
    out = [p for p in _host_paths(word) if p.endswith((".py", ".c", "/"))]     # C modules too
    if "/" not in word:
        files = [f"modules/{p.name}" for p in sorted(Path("modules").glob("*.py"))
                 + sorted(Path("modules").glob("*.c"))]
        if any(f.startswith(word) for f in files):
            out = [p for p in out if p != "modules/"] + files
    return sorted(set(out))


def _module_names() -> list[str]:
    names = []
    for d in MODULE_DIRS:
        names += [p.stem for p in [*Path(d).glob("*.py"), *Path(d).glob("*.c")]
                  if not p.name.startswith("_")]
    return sorted(set(names), key=names.index)


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
    head = word.rsplit("/", 1)[0] if "/" in word else ""
    out = []
    for n in fs.list_dir(kernel, head or "/", quiet=True) or []:
        path = f"{head}/{n}"
        is_dir = fs.list_dir(kernel, path, quiet=True) is not None
        out.append(path + ("/" if is_dir else ""))
    return out


def _module_params(path: str, word: str, given=()) -> list[str]:
    """'name=' for each parameter of the module at path (or by name) not given yet."""
    real = path if Path(path).is_file() else find_module_file(path)
    if real is None:
        return []
    params = file_metadata(real)["params"]
    done = {g.split("=", 1)[0] for g in given if "=" in g}
    return [f"{p}=" for p in params if f"{p}=".startswith(word) and p not in done]


class KmsimCompleter(Completer):
    """prompt_toolkit completer over ``candidates``."""

    def __init__(self, shell):
        self.shell = shell

    def get_completions(self, document, complete_event):
        """Completions of the word under the cursor (the whole word, quotes included)."""
        text = document.text_before_cursor
        try:
            raw = text[word_start(text):]
            cands = candidates(self.shell, text)
        except Exception:       # completion must never break the prompt
            return
        for c in cands:
            display = c.rstrip("/").rsplit("/", 1)[-1] + ("/" if c.endswith("/") else "")
            yield Completion(quote_completion(raw, c), start_position=-len(raw), display=display)
