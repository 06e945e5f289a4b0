"""The filters as commands: ``grep -c example /proc/slabinfo``, ``head -2 /proc/slabinfo``,
``wc -l /proc/vmallocinfo`` read their FILE operands as GNU grep and coreutils do.

The same code runs them after a ``|`` (shell/filters.py, shell/coreutils.py); at the start
of a line there is no standard input to read (the shell's input is its commands), so
one without a FILE (or given ``-``) reads nothing, and a ``kmsim:`` line says how to
give it something.
"""
from __future__ import annotations

from .core import command
from .filters import FilterError, Inputs, run_filter
from .inputs import open_operand

EXAMPLES = {"grep": "grep PATTERN /proc/slabinfo", "head": "head -n 5 /proc/meminfo",
            "tail": "tail -n 3 /proc/meminfo", "wc": "wc -l /proc/vmallocinfo", "sort": "sort /proc/modules",
            "cat": "cat /proc/meminfo"}


def run_first(ctx, name: str, args: list[str]) -> int:
    """Run filter `name` as a command: its FILEs read, its output and messages in the order
    the tool prints them."""
    inputs = Inputs(None, lambda path: open_operand(ctx.kernel, path))
    # nothing after it in the pipeline: its output goes out as it comes, between its messages
    if ctx.shell.piping:
        def out(text: str) -> None:
            ctx.out(text, end="")
    else:
        def out(text: str) -> None:
            ctx.result.write("out", text)
    try:
        status = run_filter([name, *args], inputs, out, ctx.err)
    except FilterError as e:
        ctx.err(str(e))
        return e.status
    if inputs.stdin_missing and ctx.kernel.printk.hints:
        ctx.err(f"kmsim: {name} had no input to read: name a FILE ({EXAMPLES[name]}) "
                f"or pipe a command into it (dmesg | {name} ...)")
    return status


@command("grep", help="print the lines that match a pattern, as GNU grep",
         usage="grep [OPTION]... PATTERN [FILE]...", complete="paths",
         options=("-E", "-F", "-G", "-i", "-v", "-c", "-n", "-w", "-x", "-o", "-q", "-s", "-H", "-h", "-l",
                  "-L", "-e", "-A", "-B", "-C", "-m", "--label="))
def cmd_grep(ctx, args):
    return run_first(ctx, "grep", args)


@command("head", help="print the first lines of files", usage="head [-n [-]N] [-c [-]N] [-q|-v] [FILE]...",
         complete="paths", options=("-n", "-c", "-q", "-v", "--lines=", "--bytes=", "--quiet", "--verbose"))
def cmd_head(ctx, args):
    return run_first(ctx, "head", args)


@command("tail", help="print the last lines of files", usage="tail [-n [+]N] [-c [+]N] [-q|-v] [FILE]...",
         complete="paths", options=("-n", "-c", "-q", "-v", "--lines=", "--bytes=", "--quiet", "--verbose"))
def cmd_tail(ctx, args):
    return run_first(ctx, "tail", args)


@command("wc", help="count lines, words and bytes", usage="wc [-l] [-w] [-m] [-c] [-L] [FILE]...",
         complete="paths", options=("-l", "-w", "-m", "-c", "-L"))
def cmd_wc(ctx, args):
    return run_first(ctx, "wc", args)


@command("sort", help="sort lines of files", usage="sort [-r] [FILE]...", complete="paths",
         options=("-r", "--reverse"))
def cmd_sort(ctx, args):
    return run_first(ctx, "sort", args)
