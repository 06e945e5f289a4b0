"""modinfo: a module's fields, read from the loaded module or by loading the file's metadata."""
from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

from ..cc import file_metadata as c_metadata

__all__ = ["modinfo_fields", "modinfo_json", "file_metadata"]

_META = {"MODULE_LICENSE": "license", "MODULE_AUTHOR": "author",
         "MODULE_DESCRIPTION": "description", "MODULE_VERSION": "version"}


def file_metadata(path: str) -> dict:
    """MODULE_* strings and module_param declarations of a module file, without running it."""
    if path.endswith(".c"):           # a C module: its MODULE_* records, from kmsim/cc
        return c_metadata(path)
    meta: dict = {"license": None, "author": [], "description": None, "version": None,
                  "params": {}, "parm_desc": {}, "entries": []}
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return meta
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        vals = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        name = node.func.id
        if name in _META and vals and isinstance(vals[0], str):
            key = _META[name]
            meta["entries"].append((node.lineno, node.col_offset, key, vals[0]))
            if key == "author":
                meta["author"].append(vals[0])
            else:
                meta[key] = vals[0]
        elif name == "module_param" and len(vals) >= 2 and isinstance(vals[0], str):
            meta["params"][vals[0]] = vals[1]
        elif name == "MODULE_PARM_DESC" and len(vals) >= 2 and isinstance(vals[0], str):
            meta["parm_desc"][vals[0]] = vals[1]
    meta["entries"].sort()
    return meta


def _is_module_source(path: str) -> bool:
    """A file modinfo can read: Python source that parses (the ELF check of kmod)."""
    if path.endswith(".c"):
        return bool(file_metadata(path)["entries"] or file_metadata(path)["params"])
    if not path.endswith(".py"):
        return False
    try:
        ast.parse(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return False
    return True


def _srcversion(path: str) -> str:
    """24 hex digits summing the module's source, as modpost's srcversion does."""
    import hashlib
    try:
        data = Path(path).read_bytes()
    except OSError:
        data = b""
    return hashlib.md5(data).hexdigest()[:24].upper()


def modinfo_fields(kernel, name_or_file: str, find_module_file: Callable[[str], str | None],
                   is_file: Callable[[Path], bool]) -> list[tuple[str, str]] | None:
    """kmod's modinfo fields in order, or None if the module is not found (ValueError with
    kmod's message for a file that is not a module).  find_module_file and is_file are
    modprobe's search and the host boundary's file test (shell/commands.py)."""
    p = Path(name_or_file)
    path = str(p) if is_file(p) else None
    mod = kernel.modules.modules.get(p.stem if path else name_or_file)
    if path is None:
        path = mod.path if mod is not None else find_module_file(name_or_file)
    if path is None:
        return None
    if mod is None and not _is_module_source(path):
        # kmod: kmod_module_get_info fails on a file that is not a module (not ELF)
        raise ValueError(f"could not get modinfo from '{Path(path).stem}': Exec format error")
    meta = file_metadata(path)
    name = Path(path).stem.replace("-", "_")
    fields = [("filename", str(Path(path).resolve()))]
    # kmod lists a module's own .modinfo entries last declared first (the reference:
    # LICENSE, AUTHOR, DESCRIPTION declared -> description, author, license printed)
    fields += [(key, val) for _ln, _col, key, val in reversed(meta["entries"])]
    if meta["version"] is not None:     # modpost adds srcversion to a versioned module
        fields.append(("srcversion", _srcversion(path)))
    fields += [("depends", ""), ("retpoline", "Y"), ("name", name),
               ("vermagic", f"{kernel.release} SMP preempt mod_unload modversions ")]  # ends in a space
    for pname, ptype in meta["params"].items():
        desc = meta["parm_desc"].get(pname, "")
        fields.append(("parm", f"{pname}:{desc} ({ptype})" if desc else f"{pname}:{ptype}"))
    return fields


def modinfo_json(fields: list[tuple[str, str]]) -> dict:
    """modinfo's --json object of a module's fields: author and parm (which repeat) are lists."""
    obj: dict = {}
    for key, val in fields:
        if key in ("author", "parm"):
            obj.setdefault(key, []).append(val)
        else:
            obj[key] = val
    obj.setdefault("author", [])
    obj.setdefault("parm", [])
    return obj
