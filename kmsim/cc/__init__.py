"""C modules: libclang parses FILE.c as kbuild would, the translator makes Python of it.

``compile_c(kernel, path, filename, source)`` gives the code object to run as the
module's top level, the namespace to run it in, and the warnings to show; a build
error raises ModuleError with gcc's lines and insmod's message.  Translations are
cached by the hash of the source, the target and kmsim's translator.
"""
from __future__ import annotations

import ast
import hashlib
import marshal
import os
from pathlib import Path
from typing import Any

import kmsim.linux as L

from ..errors import ModuleError
from .clang import CompileError, parse
from .ctypes_ import Unsupported, reset_cache
from .runtime import CNamespace, runtime_names
from .translate import Translator

__all__ = ["compile_c", "translate_source", "file_metadata", "CompileError"]

_MEMO: dict[str, tuple] = {}
_VERSION = "cc-1"


def _api_names() -> set[str]:
    return set(L.__all__)


def _cache_dir() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    d = Path(base) / "kmsim" / "cc"
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return d


def _key(source: str, filename: str, machine: str) -> str:
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for p in sorted(here.glob("*.py")) + sorted((here.parent / "include").glob("*/*.h")):
        h.update(p.read_bytes())
    h.update(f"{_VERSION}\0{machine}\0{filename}\0".encode())
    h.update(source.encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def translate_source(filename: str, source: str, machine: str, display: str | None = None,
                     ptr_size: int = 8) -> tuple[str, list[int], list[str], dict]:
    """(Python source, its C line per line, warnings, info) of a C module."""
    display = display or filename
    tu, warnings = parse(filename, source, machine, display)
    reset_cache()
    tr = Translator(tu, filename, display, _api_names(), ptr_size)
    try:
        tr.run()
    except Unsupported as e:
        loc = e.cursor.location if e.cursor is not None else None
        where = f"{display}:{loc.line}:{loc.column}" if loc is not None and loc.file else display
        lines = [f"{where}: error: {e.message}"]
        if loc is not None and loc.file:
            src = source.splitlines()
            if 0 < loc.line <= len(src):
                text = src[loc.line - 1]
                lines.append(f" {loc.line:4d} | {text}")
                caret = "".join(ch if ch == "\t" else " " for ch in text[:max(0, loc.column - 1)])
                lines.append(f"      | {caret}^")
        raise CompileError(warnings + lines) from None
    py: list[str] = []
    cmap: list[int] = []
    for _i, text, line in tr.top_alloc:
        py.append(text)
        cmap.append(line)
    for ind, text, line in tr.out:
        py.append("    " * ind + text)
        cmap.append(line)
    for _i, text, line in tr.top:
        py.append(text)
        cmap.append(line)
    for _kind, text, line in tr.meta:
        py.append(text)
        cmap.append(line)
    return "\n".join(py) + "\n", cmap, warnings, {"functions": tr.fn_lines}


def _compile(pysrc: str, cmap: list[int], filename: str):
    tree = ast.parse(pysrc, filename)
    node: Any
    for node in ast.walk(tree):
        if hasattr(node, "lineno") and getattr(node, "lineno", None):
            ln = cmap[node.lineno - 1] if node.lineno - 1 < len(cmap) else cmap[-1]
            end = getattr(node, "end_lineno", None)
            eln = cmap[end - 1] if end and end - 1 < len(cmap) else ln
            node.lineno = ln
            node.end_lineno = max(ln, eln)
            if node.end_lineno == ln:
                node.col_offset = 0
                node.end_col_offset = 1
    return compile(tree, filename, "exec")


def compile_c(kernel, path: str, filename: str, source: str):
    """(code, namespace, warning lines) for insmod of a C file; ModuleError on a bad build."""
    machine = kernel.machine.name
    key = _key(source, filename, machine)
    got = _MEMO.get(key)
    if got is None:
        d = _cache_dir()
        f = d / f"{key}.bin" if d is not None else None
        if f is not None and f.is_file():
            try:
                got = marshal.loads(f.read_bytes())
            except (OSError, ValueError, EOFError, TypeError):
                got = None
        if got is None:
            try:
                pysrc, cmap, warnings, _info = translate_source(filename, source, machine, path,
                                                                kernel.machine.ptr_size)
            except CompileError as e:
                raise ModuleError("\n".join(e.lines + [
                    f"insmod: ERROR: could not insert module {path}: Invalid module format"]),
                    errno=8) from None
            code = _compile(pysrc, cmap, filename)
            got = (code, warnings)
            if f is not None:
                try:
                    tmp = f.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_bytes(marshal.dumps(got))
                    tmp.replace(f)
                except (OSError, ValueError):
                    pass
        _MEMO[key] = got
    code, warnings = got
    ns = CNamespace()
    ns.update(_api_namespace())
    ns.update(runtime_names(kernel, ns, path))
    ns["__builtins__"] = {}
    return code, ns, list(warnings)


_API_NS: dict | None = None


def _api_namespace() -> dict:
    global _API_NS
    if _API_NS is None:
        _API_NS = {n: getattr(L, n) for n in L.__all__}
    return _API_NS


def file_metadata(path: str) -> dict:
    """modinfo's fields of a C file (MODULE_*, module_param), from its translation."""
    meta: dict = {"license": None, "author": [], "description": None, "version": None,
                  "params": {}, "parm_desc": {}, "entries": []}
    try:
        source = Path(path).read_text(encoding="utf-8-sig")
        tu, _w = parse(str(Path(path).resolve()), source, "x86_64", path)
        tr = Translator(tu, path, path, _api_names(), 8)
        tr.run()
    except Exception:          # not a module modinfo can read
        return meta
    for _kind, text, line in tr.meta:
        try:
            call = ast.parse(text).body[0].value
            name = call.func.id
            vals = [a.value if isinstance(a, ast.Constant) else None for a in call.args]
        except (SyntaxError, AttributeError, IndexError):
            continue
        keys = {"MODULE_LICENSE": "license", "MODULE_AUTHOR": "author",
                "MODULE_DESCRIPTION": "description", "MODULE_VERSION": "version"}
        if name in keys:
            key = keys[name]
            meta["entries"].append((line, 0, key, vals[0]))
            if key == "author":
                meta["author"].append(vals[0])
            else:
                meta[key] = vals[0]
        elif name == "_kc_param":
            meta["params"][vals[0]] = vals[1]
        elif name == "MODULE_PARM_DESC":
            meta["parm_desc"][vals[0]] = vals[1]
    meta["entries"].sort()
    return meta
