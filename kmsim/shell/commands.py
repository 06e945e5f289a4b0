"""The foundation's shell commands: modules, dmesg, files, memory, py, reboot, help."""
from __future__ import annotations

import os
from pathlib import Path

from .. import fs
from ..errors import ModuleError
from ..hostpath import virtual_path
from ..machine import PAGE_SHIFT
from .core import COMMANDS, UsageError, command
from .dmesg import DmesgError, boot_epoch, format_record, parse_dmesg_args, parse_levels
from .examples import module_dirs

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


@command("modprobe", help="load a module by name from ./modules, then the installed lab modules (-r removes)",
         usage="modprobe [-r] NAME [param=value ...]", options=("-r",), complete="module_names")
def cmd_modprobe(ctx, args):
    if not args:
        ctx.err("modprobe: ERROR: missing parameters. See -h.")
        return 1
    if args[0] == "-r":
        if len(args) < 2:
            raise UsageError("missing module name")
        k = ctx.kernel
        if args[1] not in k.modules.modules:
            known = find_module_file(args[1]) is not None      # kmod: in modules.dep or not
            ctx.err(f"modprobe: FATAL: Module {args[1]} "
                    + ("is not in kernel." if known else "not found."))
            return 1
        return _module_result(ctx, k.modules.rmmod, args[1])
    path = find_module_file(args[0])
    if path is None:
        ctx.err(f"modprobe: FATAL: Module {args[0]} not found in directory ./modules")
        return 1
    if Path(path).stem in ctx.kernel.modules.modules:
        return 0        # modprobe of a loaded module succeeds quietly
    return _module_result(ctx, ctx.kernel.modules.insmod, path, args[1:])


@command("rmmod", help="unload a module", usage="rmmod [-f] NAME", options=("-f",),
         complete="loaded_modules")
def cmd_rmmod(ctx, args):
    force = False
    names = []
    for a in args:
        if a in ("-f", "--force"):
            force = True
        elif a.startswith("-"):
            ctx.err(f"rmmod: unrecognized option '{a}'" if a.startswith("--")
                    else f"rmmod: invalid option -- '{a[1:2]}'")
            return 1
        else:
            names.append(a)
    if not names:
        ctx.err("rmmod: ERROR: missing module name.")
        return 1
    status = 0
    for n in names:
        status = _module_result(ctx, ctx.kernel.modules.rmmod, n, force) or status
    return status


@command("lsmod", help="list loaded modules")
def cmd_lsmod(ctx, args):
    if args:
        raise UsageError("takes no arguments")
    mods = list(reversed(list(ctx.kernel.modules.modules.values())))
    rows = ["Module                  Size  Used by"]
    data = []
    for m in mods:
        used = m.refcnt + len(m.holders)
        holders = " " + ",".join(sorted(m.holders)) if m.holders else ""
        rows.append(f"{m.name:<19} {m.size:8d}  {used}{holders}")
        data.append({"name": m.name, "size": m.size, "used_by": used,
                     "holders": sorted(m.holders), "state": m.state})
    ctx.table("lsmod", "\n".join(rows) + "\n", data)
    return 0


def _modinfo_args(ctx, args) -> tuple[str | None, list[str]] | None:
    """modinfo's -F FIELD (--field=FIELD, -FFIELD): the field and the modules; None after
    an error already printed."""
    field, names = None, []
    it = iter(args)
    for a in it:
        if a in ("-F", "--field"):
            field = next(it, None)
            if field is None:
                ctx.err("modinfo: option requires an argument -- 'F'")
                return None
        elif a.startswith("--field="):
            field = a[8:]
        elif a.startswith("-F"):
            field = a[2:]
        elif a.startswith("-") and a != "-":
            ctx.err(f"modinfo: invalid option -- '{a[1:2]}'" if not a.startswith("--")
                    else f"modinfo: unrecognized option '{a}'")
            return None
        else:
            names.append(a)
    return field, names


@command("modinfo", help="show a module's information", usage="modinfo [-F FIELD] NAME-or-FILE",
         options=("-F",), complete="module_files")
def cmd_modinfo(ctx, args):
    parsed = _modinfo_args(ctx, args)
    if parsed is None:
        return 1
    field, names = parsed
    if not names:
        ctx.err("modinfo: ERROR: missing module or filename.")
        return 1
    from .modinfo import modinfo_fields
    status = 0
    for a in names:
        try:
            fields = modinfo_fields(ctx.kernel, a)
        except ValueError as e:
            ctx.err(f"modinfo: ERROR: {e}")
            status = 1
            continue
        if fields is None:
            ctx.err(f"modinfo: ERROR: Module {a} not found.")
            status = 1
            continue
        if ctx.json:            # one object; author and parm (which repeat) are lists
            import json
            obj: dict = {}
            for key, val in fields:
                if key in ("author", "parm"):
                    obj.setdefault(key, []).append(val)
                else:
                    obj[key] = val
            obj.setdefault("author", [])
            obj.setdefault("parm", [])
            ctx.out(json.dumps(obj, indent=2))
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
    if "w" in opts.flags and ctx.shell.tty and getattr(ctx.shell, "follow_dmesg", None):
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
    from .hostfs import HostError, read_host, virtual_path
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
            hl = getattr(ctx.shell, "highlight_file", None)
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
            names = fs.list_dir(ctx.kernel, path)
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


@command("free", help="memory totals, as procps free", usage="free [-h] [-k] [-m]", options=("-h", "-k", "-m"))
def cmd_free(ctx, args):
    from ..fs import meminfo_values
    for a in args:
        if a not in ("-h", "-k", "-m", "--human", "--kibi", "--mebi"):
            raise UsageError(f"unrecognized option '{a}'" if a.startswith("--")
                             else f"invalid option -- '{a.lstrip('-')[:1]}'")
    args = ["-h" if a == "--human" else "-m" if a == "--mebi" else a for a in args]
    v = meminfo_values(ctx.kernel)
    total, free = v["MemTotal"], v["MemFree"]
    slab = v["Slab"]
    cache = v["Buffers"] + v["Cached"] + v["SReclaimable"]     # procps: buff/cache
    used = total - free - cache
    human = "-h" in args
    unit = 1024 if "-m" in args else 1

    def f(x):
        if human:               # procps: 0B, one decimal below 10, else whole units
            if x == 0:
                return "0B"
            for suf, div in (("Ki", 1), ("Mi", 1 << 10), ("Gi", 1 << 20), ("Ti", 1 << 30)):
                v = x / div
                if v < 9.95:
                    return f"{v:.1f}{suf}"
                if v < 1023.5 or suf == "Ti":
                    return f"{round(v)}{suf}"
        return str(x // unit)
    raw = (f"{'':8}{'total':>12}{'used':>12}{'free':>12}{'shared':>12}{'buff/cache':>12}{'available':>12}\n"
           f"{'Mem:':<8}{f(total):>12}{f(used):>12}{f(free):>12}{f(v['Shmem']):>12}{f(cache):>12}{f(v['MemAvailable']):>12}\n"
           f"{'Swap:':<8}{f(0):>12}{f(0):>12}{f(0):>12}\n")
    ctx.table("free", raw, {"total_kb": total, "used_kb": used, "free_kb": free,
                            "slab_kb": slab, "buff_cache_kb": cache,
                            "available_kb": v["MemAvailable"]})
    return 0


def _proc_table(kind: str, path: str, data_fn=None):
    def fn(ctx, args):
        if args:
            raise UsageError("takes no arguments")
        raw = fs.read_file(ctx.kernel, path)
        ctx.table(kind, raw, data_fn(ctx.kernel) if data_fn else {"text": raw})
        return 0
    return fn


def _buddy_data(k):
    return [{"zone": z.name, "free_blocks": z.nr_free_blocks(), "free_pages": z.nr_free,
             "pcp_pages": z.pcp_count} for z in k.buddy.zones]


def _zone_data(k):
    return [{"zone": z.name, "free": z.nr_free, "min": z.wmark_min, "low": z.wmark_low,
             "high": z.wmark_high, "spanned": z.spanned, "present": z.present,
             "managed": z.managed, "start_pfn": z.zone_start_pfn,
             "pcp": {"count": z.pcp_count, "high": z.pcp_high, "batch": z.pcp_batch}}
            for z in k.buddy.zones]


command("buddyinfo", help="free blocks per order and zone (/proc/buddyinfo)")(
    _proc_table("buddyinfo", "/proc/buddyinfo", _buddy_data))
command("zoneinfo", help="zones, watermarks and pagesets (/proc/zoneinfo)")(
    _proc_table("zoneinfo", "/proc/zoneinfo", _zone_data))
command("meminfo", help="memory counters (/proc/meminfo)")(
    _proc_table("meminfo", "/proc/meminfo", lambda k: fs.meminfo_values(k)))


@command("py", help="run Python with the kernel and every kmsim.linux name in scope",
         usage="py EXPR-or-STATEMENT")
def cmd_py(ctx, args):
    src = " ".join(args).strip()
    if not src:
        raise UsageError("missing expression")
    from .pyexec import run_py
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


@command("set", help="shell settings: set -o vi|emacs, set follow on|off, set -e", usage="set [-o vi|emacs] [-e|+e] [follow on|off]")
def cmd_set(ctx, args):
    s = ctx.shell.settings
    if not args:
        for k, v in sorted(s.items()):
            ctx.out(f"{k}={v}")
        return 0
    if args[0] == "-o" and len(args) == 2 and args[1] in ("vi", "emacs"):
        s["editing"] = args[1]
        cb = getattr(ctx.shell, "on_setting", None)
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


@command("uname", help="print system information", usage="uname [-a|-r|-m]", options=("-a", "-r", "-m"))
def cmd_uname(ctx, args):
    k = ctx.kernel
    for a in args:
        if a not in ("-a", "-r", "-m", "-s"):
            raise UsageError(f"invalid option -- '{a.lstrip('-')[:1]}'")
    if "-r" in args:
        ctx.out(k.release)
    elif "-m" in args:
        ctx.out(k.machine.utsname_machine)
    elif "-a" in args:
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
