"""Oops, BUG and WARN reports, taint, and call traces made of module frames.

As kernel/panic.c and arch/x86/kernel/dumpstack.c print them.  A module's
Python frames stand for its functions in the call trace
(``mallocmod_init+0x1c/0x90 [zone_allocator]``), the offset growing with the
line number, so a student can find the line that failed.
"""
from __future__ import annotations

import sys
from types import CodeType, FrameType, TracebackType

from .regs import (
    ARM_THREAD_SIZE,
    arm_backtrace_stm,
    arm_code_line,
    arm_exception_stack,
    arm_regs_alloc_free,
    arm_stack,
    arm_text_addr,
    arm_uregs,
    dump_mem,
    kernel_regs,
    show_regs,
    show_user_regs,
)

# kernel/panic.c taint_flags, 6.1: (true char, false char) per bit
TAINT_FLAGS = [("P", "G"), ("F", " "), ("S", " "), ("R", " "), ("M", " "), ("B", " "),
               ("U", " "), ("D", " "), ("A", " "), ("W", " "), ("C", " "), ("I", " "),
               ("O", " "), ("E", " "), ("L", " "), ("K", " "), ("X", " "), ("T", " "),
               ("N", " ")]
TAINT_PROPRIETARY_MODULE = 0
TAINT_FORCED_RMMOD = 3
TAINT_BAD_PAGE = 5
TAINT_DIE = 7
TAINT_WARN = 9
TAINT_OOT_MODULE = 12
TAINT_UNSIGNED_MODULE = 13
TAINT_SOFTLOCKUP = 14

CUT_HERE = "------------[ cut here ]------------"

# dump_stack's own frames on ARM, down to the function that called WARN (arch/arm's
# unwinder starts in dump_backtrace); the offsets are plausible, not a real build's.
ARM_WARN_FRAMES = ["dump_backtrace", "show_stack+0x20/0x24", "dump_stack_lvl+0x48/0x54", "__warn+0xfc/0x114",
                   "warn_slowpath_fmt+0x74/0xd0"]

# Where the reference kernel faulted inside an API function given a bad pointer.
API_FAULT_RIP = {"kfree": "kfree+0x4b/0x110"}

__all__ = ["API_CODES", "ENTRY_CODES", "is_api_module", "TAINT_FLAGS", "print_tainted", "taint_letters",
           "module_frames", "format_frame",
           "Reporter", "CUT_HERE"]


def print_tainted(mask: int) -> str:
    """'Tainted: G           OE     ' or 'Not tainted', as print_tainted() returns."""
    if not mask:
        return "Not tainted"
    return "Tainted: " + "".join(t if mask >> i & 1 else f for i, (t, f) in enumerate(TAINT_FLAGS))


def taint_letters(mask: int) -> str:
    """The set letters only ('POE'), as /proc/modules and the prompt show them."""
    return "".join(t for i, (t, _f) in enumerate(TAINT_FLAGS) if mask >> i & 1)


def _code_size(code) -> int:
    lines = [ln for _s, _e, ln in code.co_lines() if ln is not None]
    span = (max(lines) - code.co_firstlineno + 1) if lines else 1
    return span * 0x10 + 0x7


def format_frame(func: str, lineno: int, code, modname: str | None) -> str:
    """' func+0xOFF/0xSIZE [mod]': the offset grows by 0x10 a source line."""
    off = (lineno - code.co_firstlineno) * 0x10 + 0x4 if lineno else 0
    if func == "<module>":
        func = "__static_init"
    tail = f" [{modname}]" if modname else ""
    return f" {func}+{off:#x}/{_code_size(code):#x}{tail}"


# Code of the module API's functions defined outside kmsim.linux (the fast paths in mm/ and
# kmsim.linux.slab's re-exports register theirs), so that reports and hints name them as API.
API_CODES: set[CodeType] = set()
# Code where the kernel's side of a stack starts (the loader's call into module code).
ENTRY_CODES: set[CodeType] = set()


def is_api_module(name: str) -> bool:
    """A module of kmsim's module API: a header (kmsim.linux) or the lib/ code behind one."""
    return name.startswith(("kmsim.linux.", "kmsim.lib."))


def _is_api(fr: FrameType) -> bool:
    """A frame of a function of kmsim's module API (kmsim.linux and kmsim.lib, or a fast path
    in mm/)."""
    return is_api_module(fr.f_globals.get("__name__", "")) or fr.f_code in API_CODES


# (function, line, module name or None for the API function, code) of one frame
ModFrame = tuple[str, int, "str | None", CodeType]


def module_frames(module_files: dict[str, str], tb: TracebackType | None = None,
                  frame: FrameType | None = None, api: bool = True) -> list[ModFrame]:
    """The module frames of a traceback (or of the live stack), innermost first.

    :param module_files: maps a module's file path to its name
    :param api: also the API function the module called, innermost (module name None)
    :returns: (function, line, module name, code) tuples
    """
    out: list[ModFrame] = []
    if tb is not None:
        entries = []
        while tb is not None:
            entries.append((tb.tb_frame, tb.tb_lineno))
            tb = tb.tb_next
        entries.reverse()
    else:
        entries = []
        f: FrameType | None = frame or sys._getframe(1)
        while f is not None:
            entries.append((f, f.f_lineno))
            f = f.f_back
    for fr, lineno in entries:
        name = module_files.get(fr.f_code.co_filename)
        if name is not None:
            out.append((fr.f_code.co_name, lineno, name, fr.f_code))
        elif api and out == [] and _is_api(fr):
            # the API function the module called: the kernel function RIP points into
            out.append((fr.f_code.co_name, lineno, None, fr.f_code))
    if out and out[0][2] is None and len(out) == 1:
        return []
    return out


# the __name__ of the shell's py statements (shell/pyexec.py): kernel code in no module
PY_CODE = "__kmsim_py__"


def py_api_frame(frame: FrameType | None, outermost: bool = False) -> ModFrame | None:
    """For a py statement on the live stack (no module code): the API function running,
    innermost (the one module_frames puts first for a module), or the one py called
    (outermost); None when py is not on the stack or called none."""
    api = None
    f = frame
    while f is not None:
        if f.f_globals.get("__name__") == PY_CODE:
            return api
        if (api is None or outermost) and _is_api(f):
            api = (f.f_code.co_name, f.f_lineno, None, f.f_code)
        f = f.f_back
    return None


def kernel_caller(k) -> str:
    """%pS of a caller in no module (a py statement, the kernel's own call): the innermost
    frame of the current task's system call (py's: ksys_write+0x6f/0xf0), as a real kernel
    names the vmlinux function there, never 0x0; '0x0' only for a task without one."""
    entry = k.current.entry_frames
    return entry[0] if entry else "0x0"


def api_args(tb: TracebackType | None = None, frame: FrameType | None = None) -> tuple:
    """The arguments of the innermost API function on a traceback (or the live stack):
    what RDI, RSI ... held when the kernel function stopped."""
    frames = []
    if tb is not None:
        while tb is not None:
            frames.append(tb.tb_frame)
            tb = tb.tb_next
    else:
        f: FrameType | None = frame or sys._getframe(1)
        while f is not None:
            frames.insert(0, f)
            f = f.f_back
    for fr in reversed(frames):
        if _is_api(fr):
            code = fr.f_code
            return tuple(fr.f_locals.get(n) for n in code.co_varnames[:code.co_argcount])
    return ()


def c_source_hint(module_files: dict[str, str], tb) -> list[str]:
    """For a C module, where the fault is: 'FILE.c:LINE: the C statement' (kmsim/cc maps the
    translated code's lines to the C lines)."""
    frames = [f for f in module_frames(module_files, tb=tb) if f[2] is not None] if tb else []
    if not frames or not frames[0][3].co_filename.endswith(".c"):
        return []
    import linecache
    fn, line, _mod, code = frames[0]
    text = linecache.getline(code.co_filename, line).strip()
    return [f"in {fn}() at {code.co_filename.rsplit('/', 1)[-1]}:{line}: {text}"]


def _mod_tag(frame: str) -> str:
    """' [mod]' of a formatted frame, or ''."""
    return frame[frame.index(" ["):] if " [" in frame else ""


class Reporter:
    """Prints the kernel's reports for one Kernel through its printk."""

    def __init__(self, kernel):
        self.k = kernel
        self.oops_count = 0
        self.warned_once: set[str] = set()

    # -- common lines ------------------------------------------------------------
    def cpu_line(self) -> str:
        """'CPU: 0 PID: 241 Comm: insmod Tainted: G ... 6.1.0-kmsim #1 kmsim'."""
        k = self.k
        return (f"CPU: 0 PID: {k.current.pid} Comm: {k.current.comm} "
                f"{print_tainted(k.taint)} {k.release} {k.version}")

    def hardware_line(self) -> str:
        """'Hardware name: ...' of the machine."""
        return f"Hardware name: {self.k.machine.hardware}"

    def modules_linked_in(self) -> str:
        """'Modules linked in: a(OE) b(OE+) [last unloaded: c(OE)]'."""
        return "Modules linked in: " + self.k.modules.linked_in_text()

    def trace_lines(self, kernel_frames: list[str], tb: TracebackType | None = None,
                    tail: list[str] | None = None, skip_rip: bool = False) -> list[str]:
        """'Call Trace:' block: kmsim's own frames, the module's frames, then the syscall.
        The API function's own Python frame is left out (kernel_frames name the kernel's);
        with skip_rip, so is the module frame the RIP line already shows (the faulting
        function is not a return address on the stack)."""
        mods = module_frames(self.k.modules.module_files(), tb=tb, api=False)
        if skip_rip:
            mods = mods[1:]
        lines = ["Call Trace:", " <TASK>"]
        lines += [f" {f}" for f in kernel_frames]
        lines += [format_frame(fn, ln, code, mod) for fn, ln, mod, code in mods]
        entry = tail if tail is not None else self.k.current.entry_frames
        lines += [f" {f}" for f in entry]
        lines += self.user_frame(entry)
        lines.append(" </TASK>")
        return lines

    def user_frame(self, entry: list[str]) -> list[str]:
        """The user-mode registers that end a call trace entered by a system call."""
        if entry and entry[-1].startswith(("entry_SYSCALL_64", "entry_SYSENTER_32")):
            return show_user_regs(self.k)
        return []

    def regs_lines(self, rip: str, kind: str, tb=None, cr2: int | None = None,
                   irqs_off: bool = False, frame=None) -> list[str]:
        """The RIP line and the registers under it (show_regs), as this machine prints them."""
        if self.k.machine.name == "rpi2":
            return [rip]
        args = api_args(tb=tb, frame=frame or (sys._getframe(2) if tb is None else None))
        regs = kernel_regs(self.k, kind, args, cr2=cr2, irqs_off=irqs_off)
        return show_regs(self.k, rip, regs, kind)

    def _arm_die(self, title: list[str], oops_line: str, pc: str, tb,
                 kernel_frames: list[str]) -> list[str]:
        """arch/arm/kernel/traps.c:die(): 'Internal error: Oops: 805 [#1] SMP ARM', the
        modules, then __die's registers, stack and backtrace (arm_show_regs)."""
        if oops_line.startswith("invalid opcode"):
            what = "Oops - BUG: 0"              # BUG() is an undefined instruction on ARM
        elif oops_line.startswith("Oops: ") and int(oops_line.split()[1], 16) & 0x2:
            what = "Oops: 805"                  # FSR: write, translation fault
        else:
            what = "Oops: 5"                    # FSR: read, translation fault
        kind = "bug" if what.startswith("Oops - BUG") else "fault"
        head = [f"Internal error: {what} [#{self.oops_count}] SMP ARM", self.modules_linked_in()]
        return list(title) + head + self.arm_show_regs(pc, tb, kernel_frames, kind, die=True)

    def arm_show_regs(self, pc: str, tb, kernel_frames: list[str], kind: str, die: bool = False) -> list[str]:
        """ARM's show_regs (die=False: a soft lockup) or __die's middle: CPU and hardware lines,
        'PC is at'/'LR is at', the registers; for die the registers' objects, the Process line
        and the Stack: dump; then the backtrace (and for die the Code: line)."""
        calls = [f.strip() for f in kernel_frames]
        calls += [format_frame(fn, ln, code, mod).strip()
                  for fn, ln, mod, code in module_frames(self.k.modules.module_files(), tb=tb)]
        calls += list(self.k.current.entry_frames)
        lr = calls[1] if len(calls) > 1 else "0x0"
        regs = kernel_regs(self.k, kind, api_args(tb=tb) if tb is not None else ())
        sp, fp, stack, saved = arm_stack(self.k, regs, calls)
        top = sp + 4 * len(stack)
        regs.update(sp=sp, fp=fp, ip=sp + 0x10 if sp + 0x10 < top else sp, r9=(sp + top) // 2 & ~3,
                    r5=arm_text_addr(self.k, "__kmalloc") & ~0xff,
                    pc=arm_text_addr(self.k, calls[0]) if calls else 0,
                    lr=arm_text_addr(self.k, lr) if len(calls) > 1 else 0)
        lines = [self.cpu_line(), self.hardware_line(), pc, f"LR is at {lr}"]
        lines += show_regs(self.k, pc, regs, kind)
        if die:
            lines += arm_regs_alloc_free(self.k, arm_uregs(self.k, regs))
            lines += [f"Process {self.k.current.comm} (pid: {self.k.current.pid}, stack limit = "
                      f"0x{self.k.printk_ctx.hash_pointer(sp & ~(ARM_THREAD_SIZE - 1))})"]
            lines += dump_mem("Stack: ", sp, top, stack)
        lines += self._arm_backtrace(calls, saved, sp, stack)
        if die:
            lines.append(arm_code_line(kind))
        return lines

    def _arm_backtrace(self, calls: list[str], saved: dict[int, list[int]], sp: int,
                       stack: list[int]) -> list[str]:
        """dump_backtrace with the frame-pointer unwinder: 'Backtrace: ', then for each
        frame ' callee from caller+off/size' and the registers it saved (c_backtrace), and
        under the system call's entry its 'Exception stack'."""
        lines = ["Backtrace: "]
        for i, (callee, caller) in enumerate(zip(calls, calls[1:], strict=False)):
            lines.append(f" {callee.split('+')[0]}{_mod_tag(callee)} from {caller}")
            lines += arm_backtrace_stm(saved.get(i, []))
            if caller.startswith("ret_fast_syscall"):      # dump_backtrace_entry: from entry text
                lines += arm_exception_stack(sp, stack)
        return lines

    def _arm_warn_trace(self, func: str, kernel_frames: list[str]) -> list[str]:
        """What __warn prints on ARM, which has no trap frame for a WARN: dump_stack's
        backtrace, from dump_backtrace up through __warn to the function that warned."""
        return self._arm_trace(ARM_WARN_FRAMES + [func] + kernel_frames, "warn")

    def _arm_trace(self, kernel_calls: list[str], kind: str) -> list[str]:
        """dump_backtrace of the live stack on ARM: kernel_calls, then the module's frames
        and the system call's entry, each with the registers its frame saved."""
        calls = kernel_calls + [format_frame(fn, ln, code, mod).strip()
                                for fn, ln, mod, code in module_frames(self.k.modules.module_files(),
                                                                       frame=sys._getframe(2), api=False)]
        calls += list(self.k.current.entry_frames)
        regs = kernel_regs(self.k, kind, api_args(frame=sys._getframe(3)))
        sp, _fp, stack, saved = arm_stack(self.k, regs, calls)
        return self._arm_backtrace(calls, saved, sp, stack)

    def rip_of(self, tb: TracebackType | None = None, fallback: str = "") -> str:
        """'RIP: 0010:func+0x../0x.. [mod]' of the innermost module frame (or of the API
        function it called, where the reference kernel's offset is known)."""
        mods = module_frames(self.k.modules.module_files(), tb=tb)
        if mods:
            fn, ln, mod, code = mods[0]
            if mod is None and fn in API_FAULT_RIP:
                return self.ip_prefix() + API_FAULT_RIP[fn]
            return self.ip_prefix() + format_frame(fn, ln, code, mod).strip()
        return f"{self.ip_prefix()}{fallback}"

    def ip_prefix(self) -> str:
        """How the faulting instruction pointer is labelled: 'RIP: 0010:', 'EIP: ', 'PC is at '."""
        return {"i386": "EIP: ", "rpi2": "PC is at "}.get(self.k.machine.name, "RIP: 0010:")

    def emit(self, lines: list[str], level: int = 4) -> None:
        """Print report lines at a level (default KERN_WARNING)."""
        for line in lines:
            self.k.printk.emit(level, line)

    # -- reports -----------------------------------------------------------------
    def dump_stack(self, kernel_frames: list[str], level: int = 4) -> None:
        """dump_stack(): CPU line, hardware line, call trace (ARM: its backtrace, which
        starts in dump_backtrace)."""
        if self.k.machine.name == "rpi2":
            trace = self._arm_trace(ARM_WARN_FRAMES[:3] + kernel_frames, "warn")
        else:
            trace = self.trace_lines(["dump_stack_lvl+0x44/0x5c"] + kernel_frames)
        self.emit([self.cpu_line(), self.hardware_line()] + trace, level)

    def warn(self, where: str, func: str, kernel_frames: list[str] | None = None,
             once_key: str | None = None, message: str | None = None) -> bool:
        """A WARN()/WARN_ON_ONCE() splat; sets taint W.  Returns False if suppressed (once)."""
        if once_key is not None:
            if once_key in self.warned_once:
                return False
            self.warned_once.add(once_key)
        lines = [CUT_HERE]
        if message:
            lines.append(message)
        lines += [f"WARNING: CPU: 0 PID: {self.k.current.pid} at {where} {func}",
                  self.modules_linked_in()]
        lines += [self.cpu_line(), self.hardware_line()]
        if self.k.machine.name == "rpi2":        # ARM's WARN has no trap frame: dump_stack
            lines += self._arm_warn_trace(func, kernel_frames or [])
        else:
            lines += self.regs_lines(f"{self.ip_prefix()}{func}", "warn")
            lines += self.trace_lines(kernel_frames or [])
        lines.append("---[ end trace 0000000000000000 ]---")
        self.k.add_taint(TAINT_WARN)      # __warn taints after the report: the first shows no W
        self.emit(lines)
        return True

    def oops(self, title: list[str], oops_line: str, rip: str, tb=None,
             kernel_frames: list[str] | None = None, extra: list[str] | None = None,
             hints: list[str] | None = None, after: list[str] | None = None,
             cr2: int | None = None, irqs_off: bool = False, notes: list[str] | None = None) -> None:
        """An Oops: the title lines, 'Oops: ... [#N]' (then the after lines), CPU, RIP and
        the registers, trace, and on x86 the registers again after the end marker (the
        executive summary); then make_task_dead's notes; sets taint D."""
        self.oops_count += 1
        if self.k.machine.name == "rpi2":
            lines = self._arm_die(title, oops_line, rip, tb, kernel_frames or [])
            lines.append("---[ end trace 0000000000000000 ]---")
        else:
            lines = list(title)
            kasan = " KASAN" if self.k.kasan is not None else ""
            lines.append(f"{oops_line} [#{self.oops_count}] PREEMPT SMP{kasan} NOPTI")
            lines += after or []
            kind = "bug" if oops_line.startswith("invalid opcode") else "fault"
            regs = self.regs_lines(rip, kind, tb=tb, cr2=cr2, irqs_off=irqs_off,
                                   frame=sys._getframe(1) if tb is None else None)
            lines += [self.cpu_line(), self.hardware_line()] + regs
            inner = module_frames(self.k.modules.module_files(), tb=tb)
            lines += self.trace_lines(kernel_frames or [], tb=tb,
                                      skip_rip=bool(inner) and inner[0][2] is not None
                                      and rip == self.rip_of(tb))
            lines.append(self.modules_linked_in())
            lines += extra or []
            lines.append("---[ end trace 0000000000000000 ]---")
            lines += regs                     # oops_end: "executive summary"
        self.k.add_taint(TAINT_DIE)
        self.emit(lines, level=4)
        for note in notes or []:
            self.k.printk.emit(6, note)
        hints = list(hints or []) + c_source_hint(self.k.modules.module_files(), tb)
        for h in hints:
            self.k.printk.emit(4, f"kmsim: {h}")
