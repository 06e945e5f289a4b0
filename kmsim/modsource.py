"""A module file's text, read the way finit_module reads a .ko: bounded, checked, never run.

kmsim loads `.py` module files (and `.c` ones, through the C loader).  What the host
boundary promises (README, "Files and the host"): a file with another extension is
refused with kmod's `Invalid module format` before a byte of it is read, a file above
MAX_MODULE_SIZE with `File too large`, and no error message ever quotes the file's
contents.  Python's rules for the text itself are kept: a byte-order mark or a
`# -*- coding: NAME -*-` line on line 1 or 2 chooses the encoding (PEP 263).
"""
from __future__ import annotations

import io
import os
import tokenize
from pathlib import Path

from .errors import ModuleError

__all__ = ["MAX_MODULE_SIZE", "MODULE_SUFFIXES", "read_module_source"]

MAX_MODULE_SIZE = 1 << 20       # 1 MiB: a lab module is a few kB; 44 MB took 14 s and 4.5 GB
MODULE_SUFFIXES = (".py", ".c")
EFBIG, ENOEXEC = 27, 8


def read_module_source(path: str, name: str, emit) -> str:
    """The text of module file `path` (module `name`), or ModuleError with insmod's message;
    `emit(level, text)` logs the reason (printk), never with the file's contents."""
    p = Path(path)
    if p.suffix not in MODULE_SUFFIXES:
        emit(3, f"kmsim: {name}: '{p.name}' is not a module file: insmod loads .py (and .c) files")
        raise _insert_error(path, "Invalid module format", ENOEXEC)
    try:
        size = p.stat().st_size
        if size > MAX_MODULE_SIZE:
            emit(3, f"kmsim: {name}: {size} bytes: a module file is at most "
                    f"{MAX_MODULE_SIZE >> 20} MiB")
            raise _insert_error(path, "File too large", EFBIG)
        data = p.read_bytes()
    except OSError as e:
        raise ModuleError(f"insmod: ERROR: could not load module {path}: "
                          f"{e.strerror or os.strerror(e.errno or 5)}") from None
    return decode_module_source(data, path, name, emit)


def decode_module_source(data: bytes, path: str, name: str, emit) -> str:
    """Bytes to text as Python would (BOM, coding line), or ModuleError naming the line."""
    base = os.path.basename(path)
    try:
        encoding, _lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:                    # an unknown or contradictory coding line
        emit(3, f"{name}: invalid module format: SyntaxError: {e.msg} ({base}, line "
                f"{max(1, e.lineno or 1)})")
        raise _load_error(path) from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        start = getattr(e, "start", 0)
        line = data[:start].count(b"\n") + 1
        emit(3, f"{name}: invalid module format: byte {data[start]:#04x} is not {encoding} "
                f"({base}, line {line})")
        emit(4, "kmsim: save the module as UTF-8, or declare its encoding on its first line "
                "(# -*- coding: latin-1 -*-)")
        raise _load_error(path) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        emit(3, f"{name}: invalid module format: SyntaxError: source code cannot contain null "
                f"bytes ({base}, line {line})")
        raise _insert_error(path, "Invalid module format", ENOEXEC)
    return text


def _insert_error(path: str, reason: str, errno: int) -> ModuleError:
    return ModuleError(f"insmod: ERROR: could not insert module {path}: {reason}", errno=errno)


def _load_error(path: str) -> ModuleError:
    return ModuleError(f"insmod: ERROR: could not load module {path}: Invalid module format")
