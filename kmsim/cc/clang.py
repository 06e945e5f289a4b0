"""libclang, as kbuild would run gcc on a module: flags, targets, diagnostics in gcc's form.

The `libclang` wheel ships the shared library; its Python bindings lack the operator
kinds and constant evaluation, which come from the same library through ctypes.
"""
from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

__all__ = ["INCLUDE_DIR", "TARGETS", "CompileError", "parse", "binop", "unop", "evaluate",
           "headers_available"]

INCLUDE_DIR = Path(__file__).resolve().parent.parent / "include"
TARGETS = {"x86_64": "x86_64-linux-gnu", "i386": "i386-linux-gnu", "rpi2": "armv7-linux-gnueabihf"}

BINOPS = {3: "*", 4: "/", 5: "%", 6: "+", 7: "-", 8: "<<", 9: ">>", 11: "<", 12: ">", 13: "<=",
          14: ">=", 15: "==", 16: "!=", 17: "&", 18: "^", 19: "|", 20: "&&", 21: "||", 22: "=",
          23: "*=", 24: "/=", 25: "%=", 26: "+=", 27: "-=", 28: "<<=", 29: ">>=", 30: "&=",
          31: "^=", 32: "|=", 33: ","}
UNOPS = {1: "post++", 2: "post--", 3: "++", 4: "--", 5: "&", 6: "*", 7: "+", 8: "-", 9: "~",
         10: "!", 13: "__extension__"}


class CompileError(Exception):
    """The build failed: the lines gcc would print (diagnostics, notes)."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


_ci: Any = None
_index: Any = None


def _cindex():
    global _ci, _index
    if _ci is None:
        try:
            import clang.cindex as ci
        except ImportError as e:      # pragma: no cover - libclang is a dependency
            raise CompileError([f"kmsim: C modules need libclang (pip install libclang): {e}"]) from e
        lib = ci.conf.lib
        for name, res in (("clang_getCursorBinaryOperatorKind", ctypes.c_int),
                          ("clang_getCursorUnaryOperatorKind", ctypes.c_int),
                          ("clang_Cursor_Evaluate", ctypes.c_void_p),
                          ("clang_EvalResult_getKind", ctypes.c_int),
                          ("clang_EvalResult_isUnsignedInt", ctypes.c_uint),
                          ("clang_EvalResult_getAsUnsigned", ctypes.c_ulonglong),
                          ("clang_EvalResult_getAsLongLong", ctypes.c_longlong),
                          ("clang_EvalResult_dispose", None)):
            fn = getattr(lib, name)
            fn.restype = res
        for name in ("clang_getCursorBinaryOperatorKind", "clang_getCursorUnaryOperatorKind",
                     "clang_Cursor_Evaluate"):
            getattr(lib, name).argtypes = [ci.Cursor]
        for name in ("clang_EvalResult_getKind", "clang_EvalResult_isUnsignedInt",
                     "clang_EvalResult_getAsUnsigned", "clang_EvalResult_getAsLongLong",
                     "clang_EvalResult_dispose"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        for cls in (ci.Index, ci.TranslationUnit):
            cls.__del__ = _quiet_del(cls.__del__)
        _ci = ci
        _index = ci.Index.create()
    return _ci


def _quiet_del(dispose):
    """The bindings' __del__, silent when the interpreter has already torn them down at exit."""
    def __del__(self):
        try:  # noqa: SIM105 - at exit the contextlib module may be gone already
            dispose(self)
        except (AttributeError, TypeError):
            pass
    return __del__


def binop(cursor) -> str:
    """The operator of a BinaryOperator or CompoundAssignOperator cursor ('+', '+=' ...)."""
    return BINOPS.get(_cindex().conf.lib.clang_getCursorBinaryOperatorKind(cursor), "?")


def unop(cursor) -> str:
    """The operator of a UnaryOperator cursor ('post++', '&', '!' ...)."""
    return UNOPS.get(_cindex().conf.lib.clang_getCursorUnaryOperatorKind(cursor), "?")


def evaluate(cursor) -> int | None:
    """The value of an integer constant expression, or None."""
    lib = _cindex().conf.lib
    res = lib.clang_Cursor_Evaluate(cursor)
    if not res:
        return None
    try:
        if lib.clang_EvalResult_getKind(res) != 1:
            return None
        if lib.clang_EvalResult_isUnsignedInt(res):
            return int(lib.clang_EvalResult_getAsUnsigned(res))
        return int(lib.clang_EvalResult_getAsLongLong(res))
    finally:
        lib.clang_EvalResult_dispose(res)


def headers_available() -> list[str]:
    """'linux/module.h', ... : the headers kmsim has."""
    return sorted(str(p.relative_to(INCLUDE_DIR)) for p in INCLUDE_DIR.glob("*/*.h"))


def flags(machine_name: str) -> list[str]:
    """kbuild's view of a module compile: GNU C11, freestanding, kmsim's headers only."""
    return ["-x", "c", "-std=gnu11", "-target", TARGETS.get(machine_name, TARGETS["x86_64"]),
            "-nostdinc", "-ffreestanding", "-fno-builtin", f"-I{INCLUDE_DIR}",
            "-D__KERNEL__", "-DMODULE", "-DKBUILD_MODNAME=\"kmsim\"",
            "-Werror=implicit-function-declaration", "-Werror=implicit-int",
            "-Werror=return-type", "-Wall", "-Wno-unused-function", "-Wno-unused-variable",
            "-Wno-unused-but-set-variable", "-Wno-pointer-sign", "-Wno-unknown-pragmas",
            "-Wno-unused-const-variable", "-fno-strict-aliasing", "-ferror-limit=20"]


def _source_line(path: str, source: str | None, line: int) -> str | None:
    if source is None:
        try:
            source = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    lines = source.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else None


def format_diagnostic(d, path: str, source: str, display: str) -> list[str]:
    """gcc's layout: 'FILE:LINE:COL: error: msg', the source line, the caret."""
    sev = {1: "note", 2: "warning", 3: "error", 4: "fatal error"}.get(d.severity, "error")
    loc = d.location
    fname = loc.file.name if loc.file else path
    shown = display if fname == path else fname
    msg = d.spelling
    option = d.option
    if option and option.startswith("-W") and not option.startswith("-Werror"):
        # a warning made an error by -Werror=...: gcc names the option so
        msg += f" [-Werror={option[2:]}]" if sev == "error" else f" [{option}]"
    elif option:
        msg += f" [{option}]"
    if not loc.file:
        return [f"{shown}: {sev}: {msg}"]
    out = [f"{shown}:{loc.line}:{loc.column}: {sev}: {msg}"]
    text = _source_line(fname, source if fname == path else None, loc.line)
    if text is not None:
        out.append(f" {loc.line:4d} | {text}")
        caret = "".join(c if c == "\t" else " " for c in text[:max(0, loc.column - 1)])
        out.append(f"      | {caret}^")
    return out


def parse(path: str, source: str, machine_name: str, display: str | None = None):
    """(translation unit, warning lines); raises CompileError with gcc's lines on an error."""
    ci = _cindex()
    display = display or path
    try:
        tu = _index.parse(path, args=flags(machine_name), unsaved_files=[(path, source)])
    except ci.TranslationUnitLoadError as e:
        raise CompileError([f"{display}: fatal error: cannot parse: {e}"]) from e
    errors, warnings = [], []
    missing = False
    for d in tu.diagnostics:
        if d.severity < 2:
            continue
        text = format_diagnostic(d, path, source, display)
        if d.severity >= 3:
            if "file not found" in d.spelling:
                name = d.spelling.split("'")[1] if "'" in d.spelling else d.spelling
                where = text[0].split(": fatal error:")[0]
                text = [f"{where}: fatal error: {name}: No such file or directory"] + text[1:]
                missing = True
            errors += text
        else:
            warnings += text
    if errors:
        if missing:
            errors.append("compilation terminated.")
            errors.append("kmsim: the headers kmsim has are " + ", ".join(headers_available()))
        raise CompileError(errors)
    return tu, warnings
