"""What a filter reads: its standard input, and the files its FILE operands name.

A FILE operand is read as open(2) and read(2) read it: from the machine's virtual trees
(/proc, /sys, however the path is spelt) or, anywhere else, from the host, as ``cat``
reads it (shell/hostfs.py).  A failure is a ``FileError`` with strerror and errno; 21
(EISDIR) means the file opened and its read failed, which the tools word differently
(``head: error reading 'DIR'`` against ``head: cannot open 'X' for reading``).  What
fstat says of the file (regular or not, its size) is kept for wc's column widths:
procfs and debugfs files are regular and empty, sysfs attributes 4096 bytes, standard
input is a pipe.  A host file that is not a regular one (a device: /dev/zero never
ends) is read up to its first MiB, as everything reads host files (shell/hostfs.py).
"""
from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from .. import fs
from .hostfs import HostError, read_host, virtual_path

__all__ = ["Source", "FileError", "Inputs", "open_operand", "STDIN"]

STDIN = "-"
EISDIR = 21


@dataclass(frozen=True)
class Source:
    """One input's text, and what fstat says of it (S_ISREG, st_size)."""
    text: str
    regular: bool = False
    size: int = 0


class FileError(Exception):
    """A FILE operand that cannot be read: str() is strerror; ``stat`` is (regular, size)
    when stat(2) succeeded (a directory, a file without read permission), else None."""

    def __init__(self, message: str, errno: int, stat: tuple[bool, int] | None = None):
        super().__init__(message)
        self.errno = errno
        self.stat = stat

    @property
    def is_dir(self) -> bool:
        """The operand opened (a directory) and reading it failed."""
        return self.errno == EISDIR


class Inputs:
    """A filter's inputs: standard input (None when the filter starts the pipeline, where
    the shell has none to give) and an opener for its FILE operands."""

    def __init__(self, stdin: str | None, opener: Callable[[str], Source] | None = None):
        self.stdin = stdin
        self.opener = opener
        self.stdin_missing = False          # a '-' (or no operand) read the absent input

    def read(self, name: str) -> Source:
        """The operand's Source ('-': standard input, read once: a second '-' finds its
        end), or FileError."""
        if name == STDIN:
            if self.stdin is None:
                self.stdin_missing = True
            text, self.stdin = self.stdin or "", ""
            return Source(text)
        if self.opener is None:
            raise FileError("No such file or directory", 2)
        return self.opener(name)


def _virtual_size(vpath: str) -> int:
    """st_size of a virtual file: sysfs attributes say a page, procfs and debugfs 0."""
    return 4096 if vpath.startswith("/sys/") and not vpath.startswith("/sys/kernel/debug/") else 0


def open_operand(kernel, path: str) -> Source:
    """The text of the file a FILE operand names (virtual or host), or FileError."""
    vpath = virtual_path(path)
    if vpath is not None:
        try:
            return Source(fs.read_file(kernel, vpath), True, _virtual_size(vpath))
        except fs.FsError as e:
            shown = (False, 0) if e.errno == EISDIR else (True, 0) if e.errno == 13 else None
            raise FileError(str(e), e.errno, shown) from None
    try:
        st = os.stat(path)
    except OSError as e:
        raise FileError(e.strerror or os.strerror(e.errno or 5), e.errno or 5) from None
    except (ValueError, UnicodeEncodeError):       # a NUL byte, a name the file system cannot carry
        raise FileError("No such file or directory", 2) from None
    shape = (stat.S_ISREG(st.st_mode), st.st_size if stat.S_ISREG(st.st_mode) else 0)
    if stat.S_ISDIR(st.st_mode):
        raise FileError("Is a directory", EISDIR, shape)
    try:
        return Source(read_host(path), *shape)      # a device: its first MiB (read_host)
    except HostError as e:
        raise FileError(str(e), 0, shape) from None
