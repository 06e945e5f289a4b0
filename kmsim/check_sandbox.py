"""The fence around one submission's grading process: resource limits and an audit hook.

`set_limits` caps the process (RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, no core files);
`Sandbox.install` adds an audit hook (PEP 578) that, while the submission's own code
is on the stack, refuses opening host files outside the submission's folder (reading
Python's and kmsim's own files stays allowed, so imports work), writing or changing
any host file, starting processes, sending signals, sockets, ctypes and native
extension modules from outside the Python installation, and changing the limits.  Each
refusal is recorded (the call and the module's file:line) and raised in the module
as PermissionError.

This stops mistakes and casual misuse, not a determined attacker: an audit hook
runs inside the process it guards (docs/grading.md says how to use a container).
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import resource
import sys
from types import FrameType

__all__ = ["Sandbox", "set_limits"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
            "os.symlink", "os.truncate", "os.utime", "os.chflags", "os.lchflags", "os.setxattr",
            "os.removexattr", "os.mkfifo", "os.mknod", "shutil.rmtree", "shutil.copyfile",
            "shutil.copymode", "shutil.copystat", "shutil.move", "shutil.chown"}
_PROCESSES = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
              "os.forkpty", "os.startfile", "pty.spawn", "os.kill", "os.killpg",
              "signal.pthread_kill", "webbrowser.open"}
_SOCKETS = {"socket.__new__", "socket.bind", "socket.connect", "socket.getaddrinfo",
            "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo", "socket.sendto",
            "socket.sendmsg", "socket.sethostname"}
_LIMITS = {"resource.setrlimit", "resource.prlimit"}
_LISTINGS = {"os.listdir", "os.scandir", "glob.glob", "os.chdir"}
_WATCHED = _CHANGES | _PROCESSES | _SOCKETS | _LIMITS | _LISTINGS | {"open", "mmap.__new__"}


def set_limits(cpu_seconds: int, memory_mib: int, output_mib: int = 64) -> None:
    """The process limits of a grading process (in the child, before any module runs).
    CPU: SIGXCPU at the soft limit, SIGKILL two seconds later; memory: the address space
    (a MemoryError in Python); output: the size of any file written (its stdout)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 2))
    if memory_mib > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mib << 20, memory_mib << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (output_mib << 20, output_mib << 20))


class Sandbox:
    """The audit hook of one grading process: `refused` lists what it refused."""

    def __init__(self, module_path: str):
        self.module = os.path.realpath(module_path)
        self.folder = os.path.dirname(self.module)
        kmsim_dir = self.kmsim_dir = os.path.dirname(os.path.realpath(__file__))
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        self.trusted = sorted({os.path.realpath(p) for p in prefixes} | {kmsim_dir})
        self.readable = self.trusted + [self.folder]
        self.refused: list[dict] = []
        self.enabled = True

    def install(self) -> None:
        """Add the audit hook and the native-code import guard (for the process's life)."""
        sys.addaudithook(self._hook)
        sys.meta_path.insert(0, _NativeImportGuard(self))
        real_exit, real_abort = os._exit, os.abort

        def _exit(status: int) -> None:
            self.check("os._exit", f"os._exit({status!r})")
            real_exit(status)

        def abort() -> None:
            self.check("os.abort", "os.abort()")
            real_abort()
        os._exit, os.abort = _exit, abort      # type: ignore[assignment]  # the sandbox's guards

    def take(self) -> list[dict]:
        """The refusals since the last call."""
        out, self.refused = self.refused, []
        return out

    def module_frame(self):
        """The innermost frame of the submission's code on this thread's stack, or None."""
        f: FrameType | None = sys._getframe(1)
        while f is not None:
            if f.f_code.co_filename == self.module:
                return f
            f = f.f_back
        return None

    def check(self, event: str, call: str, why: str = "") -> None:
        """Refuse `call` (raise PermissionError) when the submission's code is running."""
        frame = self.module_frame() if self.enabled else None
        if frame is None:
            return
        from .check import _site  # cycle: check -> check_pool -> check_sandbox
        self.refused.append({"event": event, "call": call, "why": why, "site": _site(frame)})
        raise PermissionError(f"kmsim check refused {call}{': ' + why if why else ''}")

    def _hook(self, event: str, args: tuple) -> None:
        if event not in _WATCHED and not event.startswith("ctypes."):
            return
        if not self.enabled:
            return
        why = self._judge(event, args)
        if why is not None:
            if event.startswith("ctypes.") and _caller_is_kmsim(self.kmsim_dir):
                return          # kmsim's own use (mincore of the simulated RAM)
            self.check(event, _call_text(event, args), why)

    def _judge(self, event: str, args: tuple) -> str | None:
        """Why the event is refused, or None when it is allowed."""
        if event == "open":
            return self._judge_open(*args[:3])
        if event in _LISTINGS:
            path = args[0] if args else "."
            return None if self._inside(path, self.readable) else "a folder outside the submission's"
        if event == "mmap.__new__":
            return None if args and args[0] == -1 else "mapping a host file"
        if event in _CHANGES:
            return "changing host files"
        if event in _PROCESSES:
            return "starting processes or sending signals"
        if event in _SOCKETS:
            return "sockets"
        if event in _LIMITS:
            return "changing the grader's limits"
        if event.startswith("ctypes."):
            return "native code (ctypes)"
        return None

    def _judge_open(self, path, mode=None, flags=0) -> str | None:
        if isinstance(path, int):
            return None if path in (0, 1, 2) else "a file descriptor the module did not open"
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
            (isinstance(flags, int) and flags & _WRITE_FLAGS)
        if writes:
            return "writing a host file"
        with contextlib.suppress(TypeError, ValueError, OSError):
            if not os.path.lexists(path):
                return None     # nothing to read (linecache trying '<unknown>'): open() fails itself
        if not self._inside(path, self.readable):
            return "reading a host file outside the submission's folder"
        return None

    @staticmethod
    def _inside(path, roots: list[str]) -> bool:
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


class _NativeImportGuard(importlib.abc.MetaPathFinder):
    """Refuses a native extension module from outside the Python installation (a .so next
    to the submission) while the submission's code runs."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def find_spec(self, name, path, target=None):
        """Look the module up as the path finder would; refuse it if it is foreign native code."""
        sb = self.sandbox
        if not sb.enabled or sb.module_frame() is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader) \
                and not Sandbox._inside(spec.origin or "", sb.trusted):
            sb.check("import", f"import {name} ({spec.origin})", "native code")
        return None


def _caller_is_kmsim(kmsim_dir: str) -> bool:
    """True when the Python code that used ctypes (the first frame outside the ctypes
    package, above the hook) is kmsim's."""
    import ctypes
    ctypes_dir = os.path.dirname(ctypes.__file__) + os.sep
    f: FrameType | None = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(ctypes_dir):
        f = f.f_back
    return f is not None and f.f_code.co_filename.startswith(kmsim_dir + os.sep)


def _call_text(event: str, args: tuple) -> str:
    """The refused call as the module wrote it, roughly: open('/etc/passwd', 'r')."""
    name = {"socket.__new__": "socket.socket"}.get(event, event)
    if event == "socket.__new__":        # (the socket object, family, type, proto)
        args = args[1:]
    shown = [repr(a) for a in args[:2] if a is not None]
    text = f"{name}({', '.join(shown)})"
    return text if len(text) <= 120 else text[:117] + "..."
