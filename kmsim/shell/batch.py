"""The batch shell: -c, SCRIPT, piped standard input.  Plain text, exit statuses."""
from __future__ import annotations

import sys

from .core import Shell
from .parser import ParseError, split_commands

__all__ = ["run_batch"]


def _emit(result, out=None, err=None) -> None:
    out = out or sys.stdout
    err = err or sys.stderr
    for stream, text in result.chunks:
        if stream == "err":
            out.flush()
            err.write(text)
            err.flush()
        else:
            out.write(text)
    out.flush()


def run_batch(shell: Shell, text: str, errexit: bool = False) -> int:
    """Run commands one by one; returns the status of the last failure (or the first with -e)."""
    status = 0
    try:
        commands = split_commands(text)
    except ParseError as e:
        sys.stderr.write(f"kmsim: {e}\n")
        return 2
    for cmd in commands:
        result = shell.execute(cmd)
        _emit(result)
        if result.exit:
            return result.status
        if result.status:
            status = result.status
            if errexit:
                return status
    return status
