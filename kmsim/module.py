"""The module loader: insmod, rmmod, parameters, metadata, taint, symbols, faults.

A module is a Python file run in a fresh namespace (its globals are its static
variables).  ``call`` runs any module function the way the kernel runs module
code: a fault, a BUG, an exception or the OOM killer stops the function with the
kernel's report, and the machine goes on.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .cc import compile_c
from .errors import KernelBUG, KernelEvent, ModuleError, PageFault, SoftLockup
from .hostpath import virtual_path
from .kernel import SYSCALL_FRAMES, Task, install_loader
from .lib.params import ModParam, parse_param_value
from .loader_hints import fell_off_hint, null_hint
from .machine import PAGE_SIZE
from .mm.pagetable import dump_pagetable
from .modcopy import free_copy, kernel_read_file
from .modsource import MAX_MODULE_SIZE, MODULE_SUFFIXES, read_module_source
from .modthread import adopt_threads, prune_threads, threads_now
from .report import (
    API_CODES,
    CUT_HERE,
    ENTRY_CODES,
    TAINT_FORCED_RMMOD,
    TAINT_OOT_MODULE,
    TAINT_PROPRIETARY_MODULE,
    TAINT_UNSIGNED_MODULE,
    is_api_module,
    module_frames,
    taint_letters,
)

__all__ = ["Module", "ModuleLoader", "ModParam", "GPL_COMPATIBLE", "mod_strerror", "CallResult",
           "MAX_MODULE_SIZE"]

GPL_COMPATIBLE = {"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL",
                  "Dual MIT/GPL", "Dual MPL/GPL"}
KASAN_SHADOW_OFFSET = 0xdffffc0000000000     # x86_64, generic KASAN
BASE_CORE_SIZE = 16384       # text, headers and one page of .data/.bss: lsmod's 16384



def mod_strerror(errno: int) -> str:
    """kmod's mod_strerror: the reason insmod prints for an errno."""
    special = {8: "Invalid module format", 2: "Unknown symbol in module",
               3: "Module has wrong symbol version", 22: "Invalid parameters"}
    return special.get(errno) or os.strerror(errno)


@dataclass
class CallResult:
    """What happened when module code ran: its value, or the event that stopped it."""
    value: object = None
    event: str | None = None        # None, "oops", "killed", "lockup", "interrupt"
    status: int = 0                 # the shell status insmod/rmmod gets (139, 137)
    message: str = ""               # "Segmentation fault", "Killed"


@dataclass(eq=False)
class Module:
    """struct module: one loaded module."""
    name: str
    path: str
    owner: int
    namespace: dict = field(default_factory=dict)
    init_fn: object = None
    exit_fn: object = None
    license: str | None = None
    author: list = field(default_factory=list)
    description: str | None = None
    version: str | None = None
    params: dict = field(default_factory=dict)
    param_args: dict = field(default_factory=dict)
    param_errors: list = field(default_factory=list)
    refcnt: int = 0
    state: str = "Loading"
    taint: int = 0
    base: int = 0
    core_size: int = 0
    chunks: list = field(default_factory=list)      # (addr, size) of module memory
    data_ptr: int = 0
    data_end: int = 0
    holders: set = field(default_factory=set)
    uses: set = field(default_factory=set)
    exports: dict = field(default_factory=dict)
    init_done: bool = False
    stuck: bool = False
    init_returned_none: bool = False    # init fell off its end (a finding of kmsim check)

    @property
    def size(self) -> int:
        """Bytes of module memory, as lsmod shows them: a page each for text, rodata and data
        (.gnu.linkonce.this_module), one more for a module with an exit function (the
        reference's 16384; 12288 for err_kfree_bad, which has none), a page for each 4K of
        code past the first (about two bytes of x86 a byte of bytecode; one for a C module,
        whose translation spends more bytecode on each statement: the reference's C modules
        are 16384 and 12288 so), and the pages of statics past the first data page."""
        if not self.chunks:
            return 0
        statics = sum(s for _a, s in self.chunks[1:])
        code = _code_bytes(self.namespace, self.path) * (1 if self.path.endswith(".c") else 2)
        pages = 3 + (self.exit_fn is not None) + code // PAGE_SIZE
        return pages * PAGE_SIZE + statics


def _code_bytes(namespace: dict, path: str) -> int:
    """Bytes of bytecode of the module file's functions (and the functions inside them)."""
    seen, todo, total = set(), [], 0
    for v in list(namespace.values()):
        code = getattr(v, "__code__", None)
        if code is not None and code.co_filename == path:
            todo.append(code)
    while todo:
        code = todo.pop()
        if id(code) in seen:
            continue
        seen.add(id(code))
        total += len(code.co_code)
        todo += [c for c in code.co_consts if hasattr(c, "co_code")]
    return total


class ModuleLoader:
    """The loaded modules of one kernel and the code that loads and unloads them."""

    def __init__(self, kernel):
        self.k = kernel
        self.modules: dict[str, Module] = {}
        self.loading: Module | None = None
        self.running: Module | None = None
        self.last_unloaded: Module | None = None
        self.oot_tainted = False
        self.sig_tainted = False
        self.unload_hooks: list = []     # fn(module) -> list of shell lines (kmemleak)
        self.load_hooks: list = []       # fn(module)
        self.symbols: dict[str, tuple[object, Module]] = {}
        self._files: dict[str, str] = {}
        self.output = None      # fn(stream, text): where a module's print() goes (the shell's command)

    # -- queries ---------------------------------------------------------------------
    def module_files(self) -> dict[str, str]:
        """{source path: module name} of loaded and loading modules (for call traces)."""
        return self._files

    def linked_in_text(self) -> str:
        """'a(OE) b(OE+) [last unloaded: c(OE)]' for Modules linked in:."""
        parts = []
        for m in reversed(list(self.modules.values())):
            flags = taint_letters(m.taint)
            if m.state == "Loading":
                flags += "+"
            elif m.state == "Unloading":
                flags += "-"
            parts.append(f"{m.name}({flags})" if flags else m.name)
        text = " ".join(parts)
        if self.last_unloaded is not None:
            lu = self.last_unloaded
            fl = taint_letters(lu.taint)
            text += f" [last unloaded: {lu.name}({fl})]" if fl else f" [last unloaded: {lu.name}]"
        return text

    def current_module(self) -> Module | None:
        """The module whose code is running or being loaded."""
        return self.running or self.loading

    def module_print(self, *args, sep: str | None = " ", end: str | None = "\n", file=None,
                     flush: bool = False) -> None:
        """A module's print(): into the running command's output (pipes, > FILE), as a
        user program's stdout, instead of the terminal behind the shell's back."""
        stream = "err" if file is sys.stderr else "out"
        if self.output is None or (file is not None and stream == "out" and file is not sys.stdout):
            print(*args, sep=sep, end=end, file=file, flush=flush)
            return
        text = (" " if sep is None else sep).join(map(str, args)) + ("\n" if end is None else end)
        self.output(stream, text)

    # -- module memory -----------------------------------------------------------------
    def _alloc_core(self, mod: Module, size: int) -> int:
        addr = self.k.module_alloc(size)
        if not addr:
            addr = self._alloc_core_pages(size)
        if addr:
            mod.chunks.append((addr, size))
        return addr

    def _alloc_core_pages(self, size: int) -> int:
        order = max(0, (size - 1).bit_length() - 12)
        pfn = self.k.buddy.alloc(0xcc0 | 0x2000, order)
        return self.k.pfn_to_virt(pfn) if pfn >= 0 else 0

    def _free_core(self, mod: Module) -> None:
        for addr, size in mod.chunks:
            if self.k.module_memfree(addr):
                continue
            order = max(0, (size - 1).bit_length() - 12)
            self.k.buddy.free(self.k.virt_to_pfn(addr), order)
        mod.chunks.clear()

    def alloc_static(self, size: int, align: int = 8) -> int:
        """Carve a static object out of the loading module's data (its .data/.bss)."""
        mod = self.current_module()
        if mod is None:
            raise RuntimeError("static objects can only be created by a module's top level")
        align = max(1, align)
        kasan = self.k.kasan
        rz = kasan.global_redzone(size) if kasan is not None else 0    # KASAN's global red zone
        pad = rz + (((size + 7) & ~7) - size if rz else 0)   # it starts at the size rounded to 8
        size += pad
        ptr = (mod.data_ptr + align - 1) & ~(align - 1)
        if not mod.data_ptr or ptr + size > mod.data_end:
            chunk = max(PAGE_SIZE, (size + align + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
            base = self._alloc_core(mod, chunk)
            if not base:
                raise MemoryError("module memory")
            ptr = (base + align - 1) & ~(align - 1)
            mod.data_end = base + chunk
        mod.data_ptr = ptr + size
        self.k.vm.fill(ptr, size, 0)
        if kasan is not None:
            kasan.global_alloc(ptr, size - pad, rz)
        return ptr

    # -- running module code ------------------------------------------------------------
    def call(self, mod: Module, fn, args=(), comm: str | None = None,  # noqa: C901 -- one except per event
             toplevel: bool = False) -> CallResult:
        """Run module code as the kernel would, turning every fault into its report.

        With toplevel (the module file's own statements at insmod), a Python
        exception is a broken module, not an Oops: one error line names it.
        """
        k = self.k
        prev = (k.current, k.current_owner, self.running)
        threads = threads_now()
        if comm is not None:
            k.current = k.new_task(comm)
        k.current_owner = mod.owner
        self.running = mod
        k.module_depth += 1
        if k.module_depth == 1:
            prune_threads(k)
            for hook in k.context_hooks:
                hook()
        wd = k.watchdog
        if wd is not None:
            wd.arm()
        try:
            value = fn(*args)
            if wd is not None:
                wd.disarm()
                wd = None
            if k.module_depth == 1 and k.current.oom_victim:   # SIGKILL, now that it returns
                k.current.oom_victim = False
                return CallResult(value=value, event="killed", status=137, message="Killed")
            return CallResult(value=value)
        except PageFault as e:
            if self.report_page_fault(e, sys.exc_info()[2]):     # page_fault_oops: SIGKILL
                return CallResult(event="oops", status=137, message="Killed")
            return CallResult(event="oops", status=139, message="Segmentation fault")
        except KernelBUG as e:
            self.report_bug(e, sys.exc_info()[2])
            return CallResult(event="oops", status=139, message="Segmentation fault")
        except SoftLockup:
            return CallResult(event="lockup", status=137, message="Killed")
        except KernelEvent:
            return CallResult(event="oops", status=139, message="Segmentation fault")
        except KeyboardInterrupt:
            if k.watchdog is not None and k.watchdog.fired:
                k.watchdog.report(sys.exc_info()[2])
                return CallResult(event="lockup", status=137, message="Killed")
            k.printk.emit(4, f"kmsim: {k.current.comm}[{k.current.pid}] interrupted (Ctrl-C) in "
                             f"{getattr(fn, '__name__', 'module code')} [{mod.name}]")
            return CallResult(event="interrupt", status=130, message="Interrupted")
        except RecursionError:
            self.report_stack_overflow(sys.exc_info()[2])
            return CallResult(event="oops", status=139, message="Segmentation fault")
        except MemoryError:
            k.printk.emit(3, f"kmsim: host out of memory while running {mod.name}: "
                             f"the module function was stopped")
            return CallResult(event="oops", status=139, message="Segmentation fault")
        except BaseException as e:  # the module raised (sys.exit, GeneratorExit too): a BUG in module code
            if toplevel:
                self.report_toplevel(mod, e, sys.exc_info()[2])
                return CallResult(event="format", status=1, message="Invalid module format")
            self.report_exception(e, sys.exc_info()[2])
            return CallResult(event="oops", status=139, message="Segmentation fault")
        finally:
            if wd is not None:
                wd.disarm()
            k.printk.flush_cont()
            adopt_threads(k, mod.owner, threads, self._files)     # a thread it started is charged to it
            k.current, k.current_owner, self.running = prev
            k.module_depth -= 1
            if k.module_depth == 0:
                for hook in k.context_hooks:
                    hook()

    def report_page_fault(self, e: PageFault, tb) -> bool:
        """arch/x86/mm/fault.c: NULL dereference or unable to handle page fault.  True when
        it was a page fault (the task is killed with SIGKILL), False for a #GP (SIGSEGV)."""
        k = self.k
        w = k.machine.ptr_size * 2
        if k.machine.name == "x86_64" and (e.addr >> 47) not in (0, 0x1ffff):
            # a non-canonical address (LIST_POISON1 ...) is a #GP, not a page fault
            k.reporter.oops([], "general protection fault, probably for non-canonical "
                            f"address {e.addr:#x}: 0000", k.reporter.rip_of(tb), tb=tb,
                            hints=[e.hint] if e.hint else None)
            return False
        if k.machine.name == "rpi2":
            self.report_arm_fault(e, tb)
            return False
        if k.kasan is not None and k.machine.name == "x86_64" and e.addr < 1 << 47:
            self.report_kasan_gp(e, tb)
            return False
        if e.addr < PAGE_SIZE:
            title = [f"BUG: kernel NULL pointer dereference, address: {e.addr:0{w}x}"]
        else:
            title = [f"BUG: unable to handle page fault for address: {e.addr:0{w}x}"]
        code = 0x2 if e.write else 0x0
        if e.reason != "not-present page":
            code |= 0x1
        title += [f"#PF: supervisor {'write' if e.write else 'read'} access in kernel mode",
                  f"#PF: error_code({code:#06x}) - {e.reason}",
                  e.pgd_line or dump_pagetable(k, e.addr)]
        hints = []
        if e.hint:
            hints.append(e.hint)
        if e.addr < PAGE_SIZE:
            hints += self._null_hint(tb)
        k.reporter.oops(title, f"Oops: {code:04x}", k.reporter.rip_of(tb), tb=tb,
                        extra=[f"CR2: {e.addr:0{w}x}"], hints=hints, cr2=e.addr,
                        notes=[f"note: {k.current.comm}[{k.current.pid}] exited with irqs disabled"])
        return True

    def report_arm_fault(self, e: PageFault, tb) -> None:
        """arch/arm/mm/fault.c:__do_kernel_fault: '8<--- cut here ---', 'Unable to handle
        kernel ... at virtual address ... when read', the page-table line, then die()."""
        k = self.k
        what = "NULL pointer dereference" if e.addr < PAGE_SIZE else "paging request"
        title = ["8<--- cut here ---",
                 f"Unable to handle kernel {what} at virtual address {e.addr:08x} when "
                 f"{'write' if e.write else 'read'}",
                 e.pgd_line if e.pgd_line and e.pgd_line.startswith("[") else
                 f"[{e.addr:08x}] *pgd=00000000"]
        hints = ([e.hint] if e.hint else []) + (self._null_hint(tb) if e.addr < PAGE_SIZE else [])
        k.reporter.oops(title, f"Oops: {0x2 if e.write else 0:04x}", k.reporter.rip_of(tb),
                        tb=tb, hints=hints)

    def report_kasan_gp(self, e: PageFault, tb) -> None:
        """With KASAN, the check of a low address reads non-canonical shadow memory: a #GP,
        decoded by kasan_non_canonical_hook into 'KASAN: null-ptr-deref in range [...]'."""
        k = self.k
        shadow = KASAN_SHADOW_OFFSET + (e.addr >> 3)
        orig = e.addr & ~7
        kind = "null-ptr-deref" if orig < PAGE_SIZE else "probably user-memory-access"
        hints = ([e.hint] if e.hint else []) + (self._null_hint(tb) if e.addr < PAGE_SIZE else [])
        k.reporter.oops([], f"general protection fault, probably for non-canonical address "
                            f"{shadow:#x}: 0000", k.reporter.rip_of(tb), tb=tb,
                        after=[f"KASAN: {kind} in range [0x{orig:016x}-0x{orig + 7:016x}]"],
                        hints=hints)

    def _null_hint(self, tb) -> list[str]:
        sources = {m.name: m.namespace.get("__kmsim_source__", "") for m in self.modules.values()}
        hint = null_hint(tb, self.module_files(), sources)
        return [hint] if hint else []

    def report_bug(self, e: KernelBUG, tb) -> None:
        """BUG(): 'kernel BUG at FILE:LINE!' then the Oops."""
        k = self.k
        k.reporter.emit([CUT_HERE, f"kernel BUG at {e.where}!"])
        comm, pid = k.current.comm, k.current.pid        # make_task_dead's notes
        irqs_off = e.irqs_disabled
        notes = [f"note: {comm}[{pid}] exited with irqs disabled"] if irqs_off else []
        if e.preempt_count:
            notes.append(f"note: {comm}[{pid}] exited with preempt_count {e.preempt_count}")
        k.reporter.oops([], "invalid opcode: 0000", f"{k.reporter.ip_prefix()}{e.rip}" if e.rip
                        else k.reporter.rip_of(tb), tb=tb, hints=[e.hint] if e.hint else None,
                        irqs_off=irqs_off, notes=notes)

    def report_stack_overflow(self, tb) -> None:
        """A RecursionError: the kernel stack's guard page was hit."""
        k = self.k
        base = 0xffffc90000000000 if k.machine.ptr_size == 8 else 0xf8000000
        w = k.machine.ptr_size * 2
        ctx = k.printk_ctx       # handle_stack_overflow: %p, then die("stack guard page")
        p = (lambda a: f"{a:0{w}x}") if ctx.no_hash_pointers else ctx.hash_pointer
        k.reporter.oops([f"BUG: TASK stack guard page was hit at {p(base + 0x3ff8)} "
                         f"(stack is {p(base + 0x4000)}..{p(base + 0x7fff)})"],
                        "stack guard page: 0000", k.reporter.rip_of(tb), tb=_last_tb(tb, 8),
                        hints=["the module recursed too deeply: the kernel stack is only "
                               "16 KiB (THREAD_SIZE); use a loop"])

    def report_toplevel(self, mod: Module, e: BaseException, tb) -> None:
        """An exception in a module file's top level: the module cannot be loaded."""
        frames = [f for f in module_frames(self.module_files(), tb=tb) if f[2] is not None]
        where = f" ({os.path.basename(frames[0][3].co_filename)}, line {frames[0][1]})" if frames else ""
        self.k.printk.emit(3, f"{mod.name}: invalid module format: {type(e).__name__}: {e}{where}")

    def report_exception(self, e: BaseException, tb) -> None:
        """A Python exception in module code, reported as a BUG at the module's line."""
        k = self.k
        frames = [f for f in module_frames(self.module_files(), tb=tb) if f[2] is not None]
        where = "module code"        # the module's own line, not the API function's
        if frames:
            fn, ln, modname, code = frames[0]
            where = f"{os.path.basename(code.co_filename)}:{ln}"
        api = _api_function(tb)
        msg = f"{type(e).__name__}: {e}"
        hint = f"{api}(): {msg}" if api else f"the module raised {msg}"
        if frames and not api:       # an API function's own message names its caller already
            hint += f" (at {where})"
        k.reporter.emit([CUT_HERE, f"kernel BUG at {where}!"])
        k.reporter.oops([], "invalid opcode: 0000", k.reporter.rip_of(tb), tb=tb, hints=[hint])

    # -- insmod ---------------------------------------------------------------------
    def insmod(self, path: str, args: list[str] | None = None) -> list[str]:
        """Load a module file.  Returns extra lines for the shell; raises ModuleError."""
        before = set(self.modules)
        self.build_warnings: list[str] = []     # a C module's compiler warnings (kmsim/cc)
        try:
            return self.build_warnings + self._insmod(path, args)
        except ModuleError as e:
            if self.build_warnings:
                e.message = "\n".join(self.build_warnings + [e.message])
            raise
        except BaseException:
            for name in set(self.modules) - before:
                mod = self.modules[name]
                if not mod.init_done and not mod.stuck:
                    self._discard(mod, path, None)
            raise

    def _insmod(self, path: str, args: list[str] | None) -> list[str]:
        p = Path(path)
        try:      # /proc and /sys hold no module files (their files are refused unread)
            is_file = (p.suffix not in MODULE_SUFFIXES) if virtual_path(path) is not None else p.is_file()
        except (OSError, ValueError) as e:      # a name too long, a NUL byte
            raise ModuleError(f"insmod: ERROR: could not load module {path}: "
                              f"{getattr(e, 'strerror', None) or 'Invalid argument'}") from None
        if not is_file:
            raise ModuleError(f"insmod: ERROR: could not load module {path}: No such file or directory")
        copy = kernel_read_file(self.k, p)     # finit_module: the file into a vmalloc'd buffer
        if copy == 0:
            raise ModuleError(f"insmod: ERROR: could not insert module {path}: Cannot allocate memory",
                              errno=12)
        try:
            mod = self._load_module(path, p, args)
        finally:
            free_copy(self.k, copy)            # load_module frees it just before do_init_module
        return self._do_init(mod, path)

    def _load_module(self, path: str, p: Path, args: list[str] | None) -> Module:
        """load_module up to free_copy: the module laid out, its top level run, its
        parameters parsed; raises ModuleError."""
        name = p.stem.replace("-", "_")
        if name in self.modules:
            msg = f"insmod: ERROR: could not insert module {path}: File exists"
            if self.modules[name].stuck and self.k.printk.hints:     # finit_module waits for it forever
                state = self.modules[name].state.lower()
                msg += (f"\nkmsim: a real kernel would hang here: {name} is still {state} since its "
                        f"Oops; 'rmmod -f {name}' or 'reboot' clears it")
            raise ModuleError(msg, errno=17)
        source = read_module_source(path, name, self.k.printk.emit)
        filename = str(p.resolve())
        c_ns = None
        try:
            if p.suffix == ".c":      # a C module: kmsim/cc builds it; a build error raises ModuleError
                code, c_ns, self.build_warnings[:] = compile_c(self.k, path, filename, source)
            else:
                code = compile(source, filename, "exec")
        except (SyntaxError, ValueError) as e:
            line = getattr(e, "lineno", None)
            self.k.printk.emit(3, f"{name}: invalid module format: {type(e).__name__}: "
                                  f"{getattr(e, 'msg', e)} ({p.name}, line {line})")
            raise ModuleError(f"insmod: ERROR: could not insert module {path}: Invalid module format",
                              errno=8) from None
        mod = Module(name=name, path=filename, owner=self.k.register_owner("module", name))
        self.k.owners[mod.owner].module = mod
        mod.param_args = dict(_split_param(a) for a in (args or []))
        mod.namespace = {"__name__": name, "__file__": filename, "__builtins__": __builtins__,
                         "__kmsim_source__": source, "print": self.module_print}
        if c_ns is not None:          # the translated C runs without Python's builtins
            c_ns.update(mod.namespace, __builtins__={})
            mod.namespace = c_ns
        self._files[filename] = name
        self.modules[name] = mod
        self.loading = mod
        try:
            base = self._alloc_core(mod, BASE_CORE_SIZE)
            if base:    # statics go to the core image's last page first (.data/.bss)
                mod.data_ptr, mod.data_end = base + BASE_CORE_SIZE - PAGE_SIZE, base + BASE_CORE_SIZE
            res = self.call(mod, lambda: exec(code, mod.namespace), comm="insmod", toplevel=True)
        finally:
            self.loading = None
        if res.event is not None or mod.param_errors:
            self._fail_load(mod, path, res)       # raises
        self._taint_on_load(mod)
        err = self._parse_params(mod)
        if err:
            self._discard(mod, path, err)         # raises
        for hook in self.load_hooks:
            hook(mod)
        return mod

    def _fail_load(self, mod, path, res) -> list[str]:
        if res.event in ("killed", "interrupt", "lockup"):
            self._discard(mod, path, None)
            raise ModuleError(res.message, status=res.status)
        self._discard(mod, path, None)
        raise ModuleError(f"insmod: ERROR: could not insert module {path}: Invalid module format", errno=8)

    def _discard(self, mod: Module, path: str, errno: int | None) -> list[str]:
        self._free_core(mod)
        self.modules.pop(mod.name, None)
        self._files.pop(mod.path, None)
        for used in mod.uses:
            used.holders.discard(mod.name)
        if errno:
            raise ModuleError(f"insmod: ERROR: could not insert module {path}: {mod_strerror(errno)}",
                              errno=errno)
        return []

    def _taint_on_load(self, mod: Module) -> None:
        """load_module's taints in its order: check_modinfo (out-of-tree, then the
        licence), then the signature notice once the module is in the list."""
        k = self.k
        lic = mod.license if mod.license is not None else "unspecified"
        mod.taint |= 1 << TAINT_OOT_MODULE | 1 << TAINT_UNSIGNED_MODULE
        if not self.oot_tainted:
            self.oot_tainted = True
            k.printk.emit(4, f"{mod.name}: loading out-of-tree module taints kernel.")
        k.add_taint(TAINT_OOT_MODULE)
        if lic not in GPL_COMPATIBLE:
            mod.taint |= 1 << TAINT_PROPRIETARY_MODULE
            if not k.taint & (1 << TAINT_PROPRIETARY_MODULE):
                k.printk.emit(4, f"{mod.name}: module license '{lic}' taints kernel.")
                self.lockdep_off()
            k.add_taint(TAINT_PROPRIETARY_MODULE)
        if not self.sig_tainted:
            self.sig_tainted = True
            k.printk.emit(5, f"{mod.name}: module verification failed: signature and/or "
                             f"required key missing - tainting kernel")
        k.add_taint(TAINT_UNSIGNED_MODULE)

    def lockdep_off(self) -> None:
        """'Disabling lock debugging due to kernel taint', once per boot."""
        if not self.k.lockdep_off_printed:
            self.k.lockdep_off_printed = True
            self.k.printk.emit(4, "Disabling lock debugging due to kernel taint")

    def _parse_params(self, mod: Module) -> int:
        """parse_args: 0, or the errno of the last value refused (EINVAL, ERANGE)."""
        err = 0
        for key, val in mod.param_args.items():
            prm = mod.params.get(key)
            if prm is None:
                self.k.printk.emit(4, f"{mod.name}: unknown parameter '{key}' ignored")
                continue
            try:
                mod.namespace[key] = parse_param_value(prm.type, val)
            except (ValueError, OverflowError) as e:
                self.k.printk.emit(3, f"{mod.name}: `{val or ''}' invalid for parameter `{key}'")
                err = 34 if isinstance(e, OverflowError) else 22
        return err

    def _do_init(self, mod: Module, path: str) -> list[str]:
        k = self.k
        if mod.init_fn is None:
            mod.state, mod.init_done = "Live", True
            return []
        res = self.call(mod, mod.init_fn, comm="insmod")
        if res.event == "killed":
            # The OOM killer chose insmod: init ran to its end, the module is loaded or not
            # as init says, then insmod dies before it can print anything.
            with contextlib.suppress(ModuleError):
                self._init_returned(mod, path, res.value)
            raise ModuleError(res.message, status=res.status)
        if res.event is not None:
            mod.stuck = True
            mod.refcnt = 1
            if res.event == "oops":
                k.printk.emit(4, f"kmsim: {mod.name} stays loaded with 'Used by 1' as after a real "
                                 f"Oops in init; 'rmmod -f {mod.name}' or 'reboot' clears it")
            elif res.event == "interrupt":
                k.printk.emit(4, f"kmsim: {mod.name} stays loaded with 'Used by 1' as its init was "
                                 f"interrupted; 'rmmod -f {mod.name}' or 'reboot' clears it")
            raise ModuleError(res.message, status=res.status)
        return self._init_returned(mod, path, res.value)

    def _init_returned(self, mod: Module, path: str, ret) -> list[str]:
        """do_init_module after init returned ret: live, or discarded with its errno."""
        k = self.k
        if ret is None:
            mod.init_returned_none = True
            k.printk.emit(4, fell_off_hint(mod.name, mod.init_fn))
            ret = 0
        if isinstance(ret, bool) or not isinstance(ret, int):
            k.printk.emit(3, f"kmsim: {mod.name}: init returned {type(ret).__name__} "
                             f"{ret!r}: an init function returns 0 or a negative errno")
            return self._discard(mod, path, 22)
        if ret < 0:
            errno = -ret
            self._discard(mod, path, None)
            raise ModuleError(f"insmod: ERROR: could not insert module {path}: "
                              f"{mod_strerror(errno) if errno < 4096 else 'Unknown error ' + str(ret)}",
                              errno=errno)
        if ret > 0:
            k.printk.emit(4, f"do_init_module: '{mod.name}'->init suspiciously returned {ret}, "
                             f"it should follow 0/-E convention")
            k.printk.emit(4, "do_init_module: loading module anyway...")
            prev, k.current = k.current, Task(k.next_pid, "insmod", SYSCALL_FRAMES["insmod"][2:])
            try:                 # still insmod's task (the pid of the init call), in do_init_module
                k.reporter.dump_stack(["do_init_module+0x1b6/0x1f0"])
            finally:
                k.current = prev
        mod.state, mod.init_done = "Live", True
        return []

    # -- rmmod --------------------------------------------------------------------------
    def rmmod(self, name: str, force: bool = False) -> list[str]:
        """Unload a module.  Returns extra shell lines (leak summary); raises ModuleError."""
        name = Path(name).name
        for suffix in (".py", ".ko", ".c"):
            if name.endswith(suffix):
                name = name[:-len(suffix)]
        name = name.replace("-", "_")
        mod = self.modules.get(name)
        if mod is None:
            raise ModuleError(f"rmmod: ERROR: Module {name} is not currently loaded")
        if mod.holders and not force:
            raise ModuleError(f"rmmod: ERROR: Module {name} is in use by: {' '.join(sorted(mod.holders))}")
        if mod.refcnt > 0 and not force:
            raise ModuleError(f"rmmod: ERROR: Module {name} is in use")
        no_exit = mod.init_fn is not None and mod.exit_fn is None
        if no_exit and not force:          # delete_module's -EBUSY, logged by libkmod, then rmmod
            raise ModuleError(f"rmmod: ERROR: could not remove '{name}': Device or resource busy\n"
                              f"rmmod: ERROR: could not remove module {name}: Device or resource busy")
        if force and (no_exit or mod.refcnt > 0 or mod.holders):
            self.k.add_taint(TAINT_FORCED_RMMOD)       # try_force_unload: only when it forces
        lines: list[str] = []
        if mod.state == "Unloading" and not force:     # delete_module: "already dying"
            raise ModuleError(f"rmmod: ERROR: could not remove module {name}: Device or resource busy")
        going = mod.state == "Unloading"
        mod.state = "Unloading"
        if mod.exit_fn is not None and mod.init_done and not going:
            res = self.call(mod, mod.exit_fn, comm="rmmod")
            if res.event in ("oops", "killed", "lockup"):
                return self._exit_died(mod, res)
            if res.event is not None:
                lines.append(res.message)
        self.remove(mod)
        for hook in self.unload_hooks:
            lines += hook(mod) or []
        return lines

    def _exit_died(self, mod: Module, res: CallResult) -> list[str]:
        """An Oops in the exit function kills rmmod inside delete_module: free_module never
        runs, so the module stays listed as Unloading (until 'rmmod -f' or a reboot)."""
        mod.stuck = True
        self.k.printk.emit(4, f"kmsim: {mod.name} stays listed as Unloading: its exit function "
                              f"died, so free_module never ran; 'rmmod -f {mod.name}' or 'reboot' "
                              f"clears it")
        raise ModuleError(res.message, status=res.status)

    def remove(self, mod: Module) -> None:
        """free_module: drop the module, its symbols and its memory."""
        self._free_core(mod)
        for used in mod.uses:
            used.holders.discard(mod.name)
            used.refcnt = max(0, used.refcnt - 1)
        for sym in list(mod.exports):
            self.symbols.pop(sym, None)
        self.modules.pop(mod.name, None)
        self._files.pop(mod.path, None)
        self.last_unloaded = mod

    # -- symbols ----------------------------------------------------------------------
    def export(self, name: str, obj) -> None:
        """EXPORT_SYMBOL from the loading module."""
        mod = self.current_module()
        if mod is None:
            raise RuntimeError("EXPORT_SYMBOL outside a module")
        self.symbols[name] = (obj, mod)
        mod.exports[name] = obj

    def symbol_get(self, name: str):
        """symbol_get: the symbol, taking a reference on its module (None if absent)."""
        ent = self.symbols.get(name)
        if ent is None:
            return None
        obj, owner = ent
        user = self.current_module()
        if user is not None and user is not owner and owner.name not in {u.name for u in user.uses}:
            user.uses.add(owner)
            owner.holders.add(user.name)
        return obj

    def symbol_put(self, name: str) -> None:
        """symbol_put: the running module releases the reference symbol_get took."""
        ent = self.symbols.get(name)
        user = self.current_module()
        if ent and user is not None and ent[1] in user.uses:
            user.uses.discard(ent[1])
            ent[1].holders.discard(user.name)

    def module_get(self) -> bool:
        """try_module_get(THIS_MODULE): a reference on the running module; True."""
        m = self.current_module()
        if m is not None:
            m.refcnt += 1
        return True

    def module_put(self) -> None:
        """module_put(THIS_MODULE): drop a reference taken with try_module_get."""
        m = self.current_module()
        if m is not None and m.refcnt > 0:
            m.refcnt -= 1


def _split_param(arg: str) -> tuple[str, str | None]:
    key, eq, val = arg.partition("=")
    return key.replace("-", "_"), (val if eq else None)     # None: a bare name ('flag')


def _api_function(tb) -> str | None:
    """The outermost kmsim.linux function in a traceback (the API the module misused)."""
    name = None
    fallback, in_module = None, False
    while tb is not None:
        mod = tb.tb_frame.f_globals.get("__name__", "")
        # kmsim.linux_inline.* (list.h's and string.h's inline helpers) count here too
        if mod.startswith("kmsim.linux") or is_api_module(mod) or tb.tb_frame.f_code in API_CODES:
            name = tb.tb_frame.f_code.co_name
            break
        if not mod.startswith("kmsim"):
            in_module = True             # module code: the next kmsim frame is what it called
        elif in_module and fallback is None and mod != "kmsim.module":
            fallback = tb.tb_frame.f_code.co_name    # e.g. sizeof, re-exported from kmsim.mm
            if fallback.endswith("__") or fallback in ("fget", "fset"):
                fallback = ""        # a view's item or field access: no API function to name
        tb = tb.tb_next
    return name or fallback


def _last_tb(tb, keep: int):
    """The traceback with only its `keep` outermost and `keep` innermost entries
    (a recursion's trace is thousands of frames long)."""
    from types import TracebackType
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    if len(entries) <= 2 * keep:
        return entries[0] if entries else None
    chain = None
    for e in reversed(entries[:keep] + entries[-keep:]):
        chain = TracebackType(chain, e.tb_frame, e.tb_lasti, e.tb_lineno)
    return chain


ENTRY_CODES.add(ModuleLoader.call.__code__)     # kmemleak's stack walk stops at the loader
install_loader(ModuleLoader)
