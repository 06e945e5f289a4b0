"""The batch shell: -c, SCRIPT, piped standard input.  Plain text, exit statuses."""
from __future__ import annotations

import sys

from .core import Shell
from .parser import ParseError, parse, split_commands

__all__ = ["run_batch", "error_line"]


def _emit(result, out=None, err=None, json: bool = False) -> None:
    """Write what a command printed, in order; with --json the kernel's console lines go
    to standard error, so that standard output holds only the commands' output."""
    out = out or sys.stdout
    err = err or sys.stderr
    for stream, text in result.chunks:
        if stream == "err" or (json and stream == "console"):
            out.flush()
            err.write(text)
            err.flush()
        else:
            out.write(text)
    out.flush()


def error_line(text: str) -> int:
    """The line of `text` where the quote that is never closed opens (1-based).

    The last prefix of whole lines that splits cleanly ends just before it."""
    lines = text.split("\n")
    good = 0
    for n in range(1, len(lines) + 1):
        try:
            split_commands("\n".join(lines[:n]))
        except ParseError:
            continue
        good = n
    return min(good + 1, len(lines))


def _bare_exit(cmd: str) -> bool:
    """`exit` (or `quit`) with no status: the run ends with the status it would have had
    at the end of the commands (that of the last failure)."""
    try:
        pipelines = parse(cmd)
    except ParseError:
        return False
    return len(pipelines) == 1 and pipelines[0].stages[0].words in (["exit"], ["quit"])


def run_batch(shell: Shell, text: str, errexit: bool = False, source: str | None = None) -> int:
    """Run commands one by one; returns the status of the last failure (or the first with -e).

    `set -e` and `set +e` in the commands turn errexit on and off, as in sh; a text
    that cannot be split (a quote never closed) runs nothing and names its line."""
    try:
        commands = split_commands(text)
    except ParseError as e:
        where = f"{source}: " if source else ""
        sys.stderr.write(f"kmsim: {where}line {error_line(text)}: {e}\n")
        return 2
    if errexit:
        shell.settings["errexit"] = True
    status = 0
    for cmd in commands:
        result = shell.execute(cmd)
        _emit(result, json=shell.json)
        if result.exit:
            return status if result.status == 0 and _bare_exit(cmd) else result.status
        if result.status:
            status = result.status
            if shell.settings.get("errexit"):
                return status
    return status
