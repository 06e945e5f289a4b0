"""The host boundary of the shell: which paths are the machine's, which are the host's.

The virtual trees, /proc and /sys (with /sys/kernel/debug), are always the simulated
machine's, however a path reaches them (`/proc/x`, `//proc/x`, `tmp/../../proc/x`, a
host symbolic link into /proc): no command ever opens the host's /proc or /sys.  Any
other path is a host file, as in a shell: `cat FILE` reads it, `CMD > FILE` and
`CMD >> FILE` write it, `memmap --svg FILE` saves the picture there, with the rights
of the user who runs kmsim.  Every host error is one `strerror` message (a name too
long, a NUL byte, a name the file system cannot encode), never a traceback.
"""
from __future__ import annotations

import os
import stat

from ..hostpath import VIRTUAL_TREES, virtual_path

__all__ = ["VIRTUAL_TREES", "virtual_path", "HostError", "read_host", "write_host", "host_call",
           "DEVICE_LIMIT"]


class HostError(Exception):
    """A host file operation failed: the message is strerror ('Permission denied')."""


def host_call(fn, *args):
    """fn(*args) on a host file; every failure becomes HostError(strerror)."""
    try:
        return fn(*args)
    except OSError as e:
        raise HostError(e.strerror or os.strerror(e.errno or 5)) from None
    except UnicodeEncodeError:           # a name the file system's encoding cannot carry
        raise HostError("Invalid or incomplete multibyte or wide character") from None
    except ValueError:                   # a NUL byte in the name
        raise HostError("Invalid argument") from None


# what is read of a host file that is not a regular one (a device: /dev/zero never ends)
DEVICE_LIMIT = 1 << 20


def read_host(path: str) -> str:
    """The text of a host file (bad bytes replaced), or HostError; of a file that is not a
    regular one (a character device, a FIFO), its first DEVICE_LIMIT characters."""
    def read(p: str) -> str:
        with open(p, encoding="utf-8", errors="replace") as f:
            if stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return f.read()
            return f.read(DEVICE_LIMIT)
    return host_call(read, path)


def write_host(path: str, text: str, append: bool = False) -> None:
    """Write (or append) text to a host file, or HostError."""
    def write(p: str) -> None:
        with open(p, "a" if append else "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
    host_call(write, path)

