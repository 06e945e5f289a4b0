"""The foundation's shell commands: modules, dmesg, files, memory, py, reboot, help."""
from __future__ import annotations

import json
import os
from pathlib import Path

from .. import fs
from ..errors import ModuleError
from ..hostpath import virtual_path
from ..machine import PAGE_SHIFT
from .cmd_filters import run_first
from .core import COMMANDS, UsageError, command, read_options
from .dmesg import DmesgError, boot_epoch, format_record, parse_dmesg_args, parse_levels
from .examples import module_dirs
from .hostfs import HostError, read_host
from .modinfo import modinfo_fields, modinfo_json
from .options import OptionError, Options
from .pyexec import run_py

# ./modules, then the lab's modules installed with kmsim (or those of the checkout it runs from)
MODULE_DIRS = module_dirs()


def _module_result(ctx, fn, *args) -> int:
    try:
        lines = fn(*args)
    except ModuleError as e:
        ctx.err(e.message)
        return e.status
    for line in lines or []:
        ctx.err(line)
    return 0


@command("insmod", help="load a module from a Python file", usage="insmod FILE [param=value ...]",
         complete="module_files")
def cmd_insmod(ctx, args):
    if not args:
        ctx.err("insmod: ERROR: missing filename.")        # kmod 30
        return 1
    return _module_result(ctx, ctx.kernel.modules.insmod, args[0], args[1:])


def _kmod_options(ctx, tool: str, spec: Options, args: list[str]):
    """kmod's tools on a rejected option: glibc's message and status 1 (None here)."""
    try:
        return spec.parse(args)
    except OptionError as e:
        ctx.err(f"{tool}: {e}")
        return None


def find_module_file(name: str) -> str | None:
    """modprobe's search: ./modules/NAME.py, then the installed examples."""
    stem = name[:-3] if name.endswith(".py") else name
    stem, exts = (stem[:-2], (".c",)) if stem.endswith(".c") else (stem, (".py", ".c"))
    for d in MODULE_DIRS:
        for cand in (stem, stem.replace("-", "_")):
            for ext in exts:          # NAME.py, else NAME.c (a C module)
                p = Path(d) / f"{cand}{ext}"
                if is_file(p):
                    return str(p)
    return None


def is_file(p: Path) -> bool:
    """Path.is_file(), False for a name the host refuses (longer than 255 bytes, a NUL)
    and in the virtual trees (never the host's /proc or /sys)."""
    try:
        return virtual_path(str(p)) is None and p.is_file()
    except (OSError, ValueError):
        return False


MODPROBE_OPTIONS = Options("r", {"remove": "r"})


@command("modprobe", help="load a module by name from ./modules, then the installed lab modules (-r removes)",
         usage="modprobe [-r] NAME [param=value ...]", options=("-r",), complete="module_names",
         opts=MODPROBE_OPTIONS)
def cmd_modprobe(ctx, args):
    if not args:
        ctx.err("modprobe: ERROR: missing parameters. See -h.")
        return 1
    parsed = _kmod_options(ctx, "modprobe", MODPROBE_OPTIONS, args)
    if parsed is None:
        return 1
    found, args = parsed
    if found:
        if not args:
            raise UsageError("missing module name")
        k = ctx.kernel
        if args[0] not in k.modules.modules:
            known = find_module_file(args[0]) is not None      # kmod: in modules.dep or not
            ctx.err(f"modprobe: FATAL: Module {args[0]} "
                    + ("is not in kernel." if known else "not found."))
            return 1
        return _module_result(ctx, k.modules.rmmod, args[0])
    if not args:
        ctx.err("modprobe: ERROR: missing parameters. See -h.")
        return 1
    path = find_module_file(args[0])
    if path is None:
        ctx.err(f"modprobe: FATAL: Module {args[0]} not found in directory ./modules")
        return 1
    if Path(path).stem in ctx.kernel.modules.modules:
        return 0        # modprobe of a loaded module succeeds quietly
    return _module_result(ctx, ctx.kernel.modules.insmod, path, args[1:])


RMMOD_OPTIONS = Options("f", {"force": "f"})


@command("rmmod", help="unload a module", usage="rmmod [-f] NAME", options=("-f",),
         complete="loaded_modules", opts=RMMOD_OPTIONS)
def cmd_rmmod(ctx, args):
    parsed = _kmod_options(ctx, "rmmod", RMMOD_OPTIONS, args)
    if parsed is None:
        return 1
    found, names = parsed
    if not names:
        ctx.err("rmmod: ERROR: missing module name.")
        return 1
    status = 0
    for n in names:
        status = _module_result(ctx, ctx.kernel.modules.rmmod, n, bool(found)) or status
    return status


@command("lsmod", help="list loaded modules")
def cmd_lsmod(ctx, args):
    if args:
        raise UsageError("takes no arguments")
    rows = fs.module_rows(ctx.kernel)
    ctx.table("lsmod", fs.format_lsmod(rows), rows, fs.lsmod_json(rows))
    return 0


MODINFO_OPTIONS = Options("F:", {"field=": "F"})


@command("modinfo", help="show a module's information", usage="modinfo [-F FIELD] NAME-or-FILE",
         options=("-F",), complete="module_files", opts=MODINFO_OPTIONS)
def cmd_modinfo(ctx, args):
    parsed = _kmod_options(ctx, "modinfo", MODINFO_OPTIONS, args)
    if parsed is None:
        return 1
    found, names = parsed
    field = found[-1][1] if found else None
    if not names:
        ctx.err("modinfo: ERROR: missing module or filename.")
        return 1
    status = 0
    for a in names:
        try:
            fields = modinfo_fields(ctx.kernel, a, find_module_file, is_file)
        except ValueError as e:
            ctx.err(f"modinfo: ERROR: {e}")
            status = 1
            continue
        if fields is None:
            ctx.err(f"modinfo: ERROR: Module {a} not found.")
            status = 1
            continue
        if ctx.json:
            ctx.out(json.dumps(modinfo_json(fields), indent=2))
            continue
        for key, val in fields:
            if field is None:
                ctx.out(f"{key + ':':<16}{val}")
            elif key == field:
                ctx.out(val)
    return status


@command("dmesg", help="print the kernel log",
         usage="dmesg [-c] [-C] [-k] [-l LEVELS] [-n LEVEL] [-r] [-t] [-T] [-x] [-w]",
         options=("-c", "-C", "-k", "-l", "-x", "-r", "-w", "-n", "-t", "-T", "-H", "-u"))
def cmd_dmesg(ctx, args):
    try:
        opts = parse_dmesg_args(args)
    except DmesgError as e:
        (ctx.out if e.status == 0 else ctx.err)(str(e))
        return e.status
    k = ctx.kernel
    if opts.console_level is not None:
        return _dmesg_console_level(ctx, opts.console_level)
    if "C" in opts.flags:
        k.printk.clear()
        return 0
    boot = boot_epoch(k) if opts.time_format == "ctime" else None
    for r in filter(_dmesg_filter(opts), k.printk.visible()):
        ctx.out(format_record(r, opts, boot))
    k.printk.read_seq = k.printk.next_seq
    if "c" in opts.flags:
        k.printk.clear()
    if "w" in opts.flags and ctx.shell.tty and ctx.shell.follow_dmesg:
        ctx.shell.follow_dmesg(ctx, opts.levels, fmt=lambda r: format_record(r, opts, boot),
                               keep=_dmesg_filter(opts))
    return 0


def _dmesg_filter(opts):
    """The records -l and -k/-u let through."""
    def keep(rec) -> bool:
        return (opts.levels is None or rec.level in opts.levels) and \
            (opts.facilities is None or rec.facility in opts.facilities)
    return keep


def _dmesg_console_level(ctx, lvl: str) -> int:
    try:
        want = parse_levels(lvl)
    except DmesgError as e:
        ctx.err(str(e))
        return e.status
    ctx.kernel.printk.console_loglevel = max(want) + 1 if not lvl.isdigit() else int(lvl)
    return 0


@command("cat", help="print a virtual file (or a host file)", usage="cat PATH...", complete="paths")
def cmd_cat(ctx, args):
    if not args:
        raise UsageError("missing file operand")
    if any(a.startswith("-") for a in args):        # options (-n ...) or '-': coreutils cat's filter
        return run_first(ctx, "cat", args)
    status = 0
    for path in args:
        vpath = virtual_path(path)
        if vpath is None:       # a host file, read as the user running kmsim (README: the host)
            try:
                text = read_host(path)
            except HostError as e:
                ctx.err(f"cat: {path}: {e}")
                status = 1
                continue
            hl = ctx.shell.highlight_file
            ctx.out(hl(path, text) if (hl and ctx.tty and not ctx.shell.piping) else text, end="")
            continue
        try:
            ctx.out(fs.read_file(ctx.kernel, vpath), end="")
        except fs.FsError as e:
            ctx.err(f"cat: {path}: {e}")
            status = 1
    return status


@command("ls", help="list a virtual directory", usage="ls [PATH]", complete="paths")
def cmd_ls(ctx, args):
    paths = args or ["/"]
    status = 0
    for path in paths:
        try:
            names = fs.list_dir(ctx.kernel, path) or []      # not quiet: FsError, never None
        except fs.FsError as e:
            if e.errno == 20:
                ctx.out(path)
                continue
            ctx.err(f"ls: cannot access '{path}': {e}")
            status = 2
            continue
        if len(paths) > 1:
            ctx.out(f"{path}:")
        for n in names:
            ctx.out(n)
    return status


@command("echo", help="print words (echo VALUE > PATH writes a virtual file)", usage="echo [WORD ...]",
         complete="paths")
def cmd_echo(ctx, args):
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    ctx.out(" ".join(args), end="\n" if newline else "")
    return 0


FREE_OPTIONS = Options("hkm", {"human": "h", "kibi": "k", "mebi": "m"})


@command("free", help="memory totals, as procps free", usage="free [-h] [-k] [-m]",
         options=("-h", "-k", "-m"), opts=FREE_OPTIONS)
def cmd_free(ctx, args):
    found, operands = read_options(FREE_OPTIONS, args)
    if operands:
        raise UsageError(f"extra operand '{operands[0]}'")
    keys = {key for key, _val in found}
    human, unit = "h" in keys, 1024 if "m" in keys else 1
    vals = fs.free_values(ctx.kernel)
    ctx.table("free", fs.format_free(vals, human, unit), fs.free_cells(vals, human, unit),
              fs.free_json(vals))
    return 0


def _proc_table(kind: str, rows_fn, text_fn, json_fn=None):
    def fn(ctx, args):
        if args:
            raise UsageError("takes no arguments")
        rows = rows_fn(ctx.kernel)
        ctx.table(kind, text_fn(rows), rows, json_fn(rows) if json_fn else None)
        return 0
    return fn


command("buddyinfo", help="free blocks per order and zone (/proc/buddyinfo)")(
    _proc_table("buddyinfo", fs.buddyinfo_rows, fs.format_buddyinfo))
command("zoneinfo", help="zones, watermarks and pagesets (/proc/zoneinfo)")(
    _proc_table("zoneinfo", fs.zoneinfo_rows, fs.format_zoneinfo, fs.zoneinfo_json))
command("meminfo", help="memory counters (/proc/meminfo)")(
    _proc_table("meminfo", fs.meminfo_values, fs.format_meminfo))


@command("py", help="run Python with the kernel and every kmsim.linux name in scope",
         usage="py EXPR-or-STATEMENT")
def cmd_py(ctx, args):
    src = " ".join(args).strip()
    if not src:
        raise UsageError("missing expression")
    try:
        return run_py(ctx, src)
    except SystemExit as e:          # py sys.exit(): does not leave kmsim
        ctx.err(f"py: SystemExit: {e} (use 'exit' to leave kmsim)")
        return 1


@command("reboot", help="boot a fresh machine with the same options")
def cmd_reboot(ctx, args):
    ctx.shell.boot()
    ctx.kernel = ctx.shell.kernel
    return 0


@command("exit", help="leave the shell", usage="exit [STATUS]", aliases=("quit",))
def cmd_exit(ctx, args):
    ctx.result.exit = True
    try:
        return int(args[0]) & 0xff if args else ctx.result.status     # exit 256 is 0, as in sh
    except ValueError:
        ctx.err(f"kmsim: exit: {args[0]}: numeric argument required")     # bash's words, status 2
        return 2


@command("set", help="shell settings: set -o vi|emacs, set follow on|off, set -e",
         usage="set [-o vi|emacs] [-e|+e] [follow on|off]")
def cmd_set(ctx, args):
    s = ctx.shell.settings
    if not args:
        for k, v in sorted(s.items()):
            ctx.out(f"{k}={v}")
        return 0
    if args[0] == "-o" and len(args) == 2 and args[1] in ("vi", "emacs"):
        s["editing"] = args[1]
        cb = ctx.shell.on_setting
        if cb:
            cb("editing", args[1])
        return 0
    if args[0] in ("-e", "+e") and len(args) == 1:
        s["errexit"] = args[0] == "-e"
        return 0
    if args[0] == "follow" and len(args) == 2 and args[1] in ("on", "off"):
        s["follow"] = args[1] == "on"
        return 0
    raise UsageError(f"unknown setting: {' '.join(args)}")


@command("help", help="list commands, or describe one", usage="help [CMD]", complete="commands")
def cmd_help(ctx, args):
    if args:
        cmd = COMMANDS.get(args[0])
        if cmd is None:
            ctx.err(f"help: no help topics match '{args[0]}'")
            return 1
        ctx.out(f"{cmd.usage}\n    {cmd.help}")
        return 0
    seen = set()
    ctx.out("kmsim commands (help CMD for one; kmsim check MODULE.py tests a module's error paths):")
    for name in sorted(COMMANDS):
        cmd = COMMANDS[name]
        if cmd.name in seen:
            continue
        seen.add(cmd.name)
        ctx.out(f"  {cmd.usage:<36} {cmd.help}")
    ctx.out("Filters: CMD | grep [-E|-F] PATTERN | head [-n N] | tail [-n N|+N] | wc [-l|-w|-c] | sort")
    ctx.out(HOST_BOUNDARY)
    return 0


HOST_BOUNDARY = """\
Files: /proc and /sys (with /sys/kernel/debug) are the simulated machine's, however the path
  is spelt; any other path is a host file: cat, CMD > FILE, CMD >> FILE and memmap --svg FILE
  read and write it with your rights, as a shell does.
Modules: insmod and modprobe load .py (and .c) files only, and run them as trusted code with
  your rights, as a kernel runs its modules; to grade modules you do not trust, use
  kmsim check (isolated runs, docs/grading.md)."""


UNAME_OPTIONS = Options("amrs", {"all": "a", "machine": "m", "kernel-release": "r", "kernel-name": "s"})


@command("uname", help="print system information", usage="uname [-a|-r|-m]", options=("-a", "-r", "-m"),
         opts=UNAME_OPTIONS)
def cmd_uname(ctx, args):
    k = ctx.kernel
    found, operands = read_options(UNAME_OPTIONS, args)
    if operands:
        raise UsageError(f"extra operand '{operands[0]}'")
    keys = {key for key, _val in found}
    if "r" in keys:
        ctx.out(k.release)
    elif "m" in keys:
        ctx.out(k.machine.utsname_machine)
    elif "a" in keys:
        ctx.out(f"Linux kmsim {k.release} {k.version} {k.machine.utsname_machine} GNU/Linux")
    else:
        ctx.out("Linux")
    return 0


@command("clear", help="clear the terminal screen")
def cmd_clear(ctx, args):
    if ctx.tty:
        ctx.out("\x1b[H\x1b[2J", end="")
    return 0


@command("true", help="do nothing, successfully")
def cmd_true(ctx, args):
    return 0


@command("false", help="do nothing, unsuccessfully")
def cmd_false(ctx, args):
    return 1


def pages_kb(pages: int) -> int:
    """Pages to kB."""
    return pages << (PAGE_SHIFT - 10)


del os
