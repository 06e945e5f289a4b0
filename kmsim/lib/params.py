"""Module parameters (kernel/params.c, lib/kstrtox.c): the types module_param takes,
parsing an insmod value or a sysfs write (param_set_*), and the sysfs text (param_get_*).

``module_param`` and ``MODULE_PARM_DESC`` (include/linux/moduleparam.h) record a module's
parameters while its top level runs; ``kmsim.linux.module`` exports them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ..current import current_kernel

__all__ = ["PARAM_TYPES", "ModParam", "parse_param_value", "kstrtox", "format_param_value",
           "module_param", "MODULE_PARM_DESC"]

PARAM_TYPES = {"int": (-(1 << 31), (1 << 31) - 1), "uint": (0, (1 << 32) - 1),
               "short": (-(1 << 15), (1 << 15) - 1), "ushort": (0, (1 << 16) - 1),
               "byte": (0, 255), "hexint": (0, (1 << 32) - 1),
               "long": None, "ulong": None, "ullong": (0, (1 << 64) - 1),
               "bool": None, "invbool": None, "charp": None}


@dataclass
class ModParam:
    """A module_param: type token, sysfs permissions, description."""
    name: str
    type: str
    perm: int
    desc: str = ""


def parse_param_value(ptype: str, text: str):
    """kernel/params.c param_set_*: parse a value or raise ValueError."""
    if text is None:        # a bare name: sets a bool, is invalid for the other types (parse_one)
        if ptype not in ("bool", "invbool"):
            raise ValueError("")
        text = "1"
    if ptype in ("bool", "invbool"):        # kstrtobool (6.1): the first letters decide
        t = text.strip().lower()
        if t[:1] in ("y", "t", "1") or t[:2] == "on":
            v = True
        elif t[:1] in ("n", "f", "0") or t[:2] == "of":
            v = False
        else:
            raise ValueError(text)
        return (not v) if ptype == "invbool" else v
    if ptype == "charp":
        return text
    rng = PARAM_TYPES.get(ptype)
    if ptype in ("long", "ulong"):
        bits = current_kernel().machine.ptr_size * 8
        rng = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if ptype == "long" else (0, (1 << bits) - 1)
    if rng is None:
        raise ValueError(text)
    return kstrtox(text, *rng)


def kstrtox(text: str, lo: int, hi: int) -> int:
    """lib/kstrtox.c with base 0, for a type holding [lo, hi]: "0x" hex, a leading 0 octal,
    else decimal; a sign where the type allows it; one trailing newline.  ValueError is
    -EINVAL, OverflowError -ERANGE."""
    t = text[:-1] if text.endswith("\n") else text
    neg = t.startswith("-") and lo < 0
    if neg or t.startswith("+"):
        t = t[1:]
    if t[:2].lower() == "0x" and t[2:3] and t[2] in "0123456789abcdefABCDEF":
        digits, base = t[2:], 16
    elif t.startswith("0"):
        digits, base = t, 8
    else:
        digits, base = t, 10
    if not digits or any(c not in "0123456789abcdef"[:base] for c in digits.lower()):
        raise ValueError(text)
    v = -int(digits, base) if neg else int(digits, base)
    if not lo <= v <= hi:
        raise OverflowError(text)
    return v


def format_param_value(ptype: str, value) -> str:
    """The text of /sys/module/NAME/parameters/P."""
    if ptype in ("bool", "invbool"):
        v = bool(value) if ptype == "bool" else not bool(value)
        return "Y" if v else "N"
    if ptype == "charp":
        return "(null)" if value is None else str(value)
    if ptype == "hexint":                   # STANDARD_PARAM_DEF(hexint, ..., "%#08x", ...)
        return f"{int(value):#08x}"
    return str(int(value)) if isinstance(value, int) else str(value)


def _loading():
    mod = current_kernel().modules.current_module()
    if mod is None:
        raise RuntimeError("module declarations belong at a module's top level")
    return mod


def module_param(name, type, perm):
    """module_param(name, type, perm): the module global `name` becomes settable at insmod."""
    mod = _loading()
    if not isinstance(name, str) or type not in PARAM_TYPES:
        raise ValueError(f"module_param({name!r}, {type!r}): the name is a string and the type "
                         f"one of {', '.join(PARAM_TYPES)}")
    old = mod.params.get(name)
    mod.params[name] = ModParam(name, type, int(perm), old.desc if old else "")
    mod.namespace.setdefault(name, None if type == "charp" else 0)
    if name in mod.param_args:
        with contextlib.suppress(ValueError, OverflowError):   # reported when the parameters are parsed
            mod.namespace[name] = parse_param_value(type, mod.param_args[name])


def MODULE_PARM_DESC(name, desc):
    """MODULE_PARM_DESC(name, "description")."""
    mod = _loading()
    prm = mod.params.get(name)
    if prm is None:
        mod.params[name] = prm = ModParam(name, "int", 0, str(desc))
        mod.params.pop(name)
        mod.namespace.setdefault("__parm_desc__", {})[name] = str(desc)
    else:
        prm.desc = str(desc)
