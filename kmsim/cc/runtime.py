"""The small runtime a translated C module calls besides kmsim's API.

Every name it adds to a module's namespace starts with ``_kc_``.  Memory goes through
the kernel's checked access (``k.vm``): Oops on a bad address, KASAN, poison.
"""
from __future__ import annotations

import weakref
from typing import Any

from ..errors import KernelBUG
from ..linux import sched as _sched
from ..linux.module import module_param
from ..machine import PAGE_SIZE
from ..mm import page as _page
from ..printk import vsprintf
from ..report import module_frames

__all__ = ["CNamespace", "runtime_names", "Stack"]

HANDLE_BASE = {8: 0xffffff7f00000000, 4: 0xffc00000}     # tokens of kernel objects in memory
FUNC_BASE = {8: 0xffffffffc0f00000, 4: 0xbff00000}       # tokens of functions in memory


class Stack:
    """The simulated kernel stack C modules' locals use (THREAD_SIZE, grows down)."""

    def __init__(self, low: int, size: int):
        self.low, self.high = low, low + size
        self.sp = self.high


class CNamespace(dict):
    """A C module's globals: module parameters read and write the C variable in memory."""

    params: dict
    vm: Any

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.params = {}
        self.vm = None

    def _param_get(self, name: str):
        addr, size, signed, ptype, _buf = self.params[name]
        if ptype == "charp":
            p = self.vm.read_int(addr, size, False)
            return None if not p else self.vm.read_cstring(p).decode("latin-1")
        v = self.vm.read_int(addr, size, bool(signed))
        return bool(v) if ptype in ("bool", "invbool") else v

    def __getitem__(self, name):
        if name in self.params:
            return self._param_get(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        """dict.get, through the C variable for a parameter."""
        if name in self.params:
            return self._param_get(name)
        return super().get(name, default)

    def __setitem__(self, name, value):
        if name in self.params:
            addr, size, _signed, ptype, buf = self.params[name]
            if ptype == "charp":
                data = ("" if value is None else str(value)).encode("latin-1", "replace")[:1023] + b"\0"
                self.vm.write(buf, data)
                self.vm.write_int(addr, size, buf)
            else:
                self.vm.write_int(addr, size, int(value))
            return
        super().__setitem__(name, value)


_STACKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()     # kernel -> its C stack


def _get_stack(k) -> Stack:
    """The kernel stack C module code runs on: THREAD_SIZE bytes at the end of the kernel
    image, as init_task's stack is part of the image (memblock-reserved, not the buddy's:
    loading a C module moves no allocation)."""
    st = _STACKS.get(k)
    if st is None:
        m = k.machine
        thread = 16384 if m.ptr_size == 8 else 8192
        end = (m.kernel_phys + min(m.kernel_image_size, k.mem_bytes // 4)) & ~(PAGE_SIZE - 1)
        st = Stack(k.pfn_to_virt((end - thread) // PAGE_SIZE), thread)
        _STACKS[k] = st
    return st


def runtime_names(k, ns: CNamespace, display: str) -> dict:  # noqa: C901 - one closure a helper
    """The _kc_ names of one loaded C module, bound to a kernel."""
    vm = k.vm
    ps = k.machine.ptr_size
    mask = (1 << (8 * ps)) - 1
    stack = _get_stack(k)
    vmemmap = k.machine.vmemmap_base
    handles: dict[int, object] = {}
    tokens: dict[int, int] = {}
    ns.vm = vm

    def h2i(v) -> int:
        if v is None:
            return 0
        if isinstance(v, int):
            return v & mask
        pfn = getattr(v, "pfn", None)
        if isinstance(pfn, int) and not callable(v):
            return vmemmap + pfn * 64
        t = tokens.get(id(v))
        if t is None:
            t = (FUNC_BASE if callable(v) else HANDLE_BASE)[ps] + 64 * len(handles)
            tokens[id(v)] = t
            handles[t] = v
        return t

    def i2h(v):
        if not isinstance(v, int):
            return v
        if v == 0:
            return None
        got = handles.get(v)
        if got is not None:
            return got
        if vmemmap <= v < vmemmap + k.nr_pages * 64 and not (v - vmemmap) % 64:
            return _page.pfn_to_page(k, (v - vmemmap) // 64)
        return v

    def WP(addr, v):
        vm.write_int(addr, ps, h2i(v))

    def CP(dst, src, n):
        vm.write(dst, vm.read(src, n))
        return dst

    def fill(addr, byte, n):
        vm.fill(addr, n, byte)

    def enter(frame):
        fp = stack.sp - frame
        if fp < stack.low:
            raise RecursionError("kernel stack overflow")
        stack.sp = fp
        return fp

    def static(size, align, name, section):
        addr = k.modules.alloc_static(size, align)
        super(CNamespace, ns).__setitem__(name, _Symbol(addr, size, section))
        return addr

    def rodata(data):
        addr = k.modules.alloc_static(len(data), 1)
        vm.write(addr, data)
        return addr

    def param(name, ptype, perm, addr, size, signed):
        # a charp's text goes to a buffer of the module's .data, its address to the variable
        buf = k.modules.alloc_static(1024, 8) if ptype == "charp" else 0
        ns.params[name] = (addr, size, signed, ptype, buf)
        module_param(name, ptype, perm)

    def cstr(v):
        if isinstance(v, str) or v is None:
            return v
        return vm.read_cstring(v).decode("latin-1")

    def bug(file, line):
        raise KernelBUG(f"{file}:{line}")

    def warn(file, line, cond):
        if cond:
            frames = [f for f in module_frames(k.modules.module_files()) if f[2] is not None]
            func = frames[0][0] if frames else "?"
            modname = frames[0][2] if frames else ""
            k.reporter.warn(f"{file}:{line}", f"{func}+0x0/0x0 [{modname}]")
        return cond

    def vformat(fmt, args):
        return vsprintf(cstr(fmt), tuple(args), k.printk_ctx)

    def snprintf(buf, size, fmt, *args):
        text = vformat(fmt, args).encode("latin-1", "replace")
        if size > 0:
            vm.write(buf, text[:size - 1] + b"\0")
        return len(text)

    def scnprintf(buf, size, fmt, *args):
        n = snprintf(buf, size, fmt, *args)
        return min(n, size - 1) if size > 0 else 0

    def sprintf(buf, fmt, *args):
        text = vformat(fmt, args).encode("latin-1", "replace")
        vm.write(buf, text + b"\0")
        return len(text)

    def dump_stack():
        k.reporter.dump_stack([])

    jiffies = _sched.jiffies

    def DIV(a, b):
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q

    def MOD(a, b):
        return a - b * DIV(a, b)

    return {"_kc_RI": vm.read_int, "_kc_WI": vm.write_int, "_kc_W": vm.write, "_kc_WP": WP,
            "_kc_CP": CP, "_kc_fill": fill, "_kc_h2i": h2i, "_kc_i2h": i2h, "_kc_i2f": i2h,
            "_kc_enter": enter, "_kc_S": stack, "_kc_static": static, "_kc_rodata": rodata,
            "_kc_param": param, "_kc_cstr": cstr, "_kc_bug": bug, "_kc_warn": warn,
            "_kc_snprintf": snprintf, "_kc_scnprintf": scnprintf, "_kc_sprintf": sprintf,
            "_kc_dump_stack": dump_stack, "_kc_page_offset": lambda: k.machine.page_offset,
            "_kc_vmalloc_start": lambda: k.vmalloc_start, "_kc_vmalloc_end": lambda: k.vmalloc_end,
            "_kc_DIV": DIV, "_kc_MOD": MOD, "_kc_jiffies": jiffies.__index__}


class _Symbol:
    """A C global in module memory, by name (for KASAN's and kmemleak's reports)."""
    __slots__ = ("addr", "size", "section")

    def __init__(self, addr: int, size: int, section: str):
        self.addr, self.size, self.section = addr, size, section

    def __repr__(self):
        return f"<{self.section} {self.addr:#x}+{self.size}>"
