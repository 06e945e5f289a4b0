"""GNU-style options for the shell's commands: ``getopt.gnu_getopt`` with glibc's messages.

A command declares its options once, as ``Options(short, long)`` in getopt's own
spelling (``"fs:"``: -f a flag, -s takes a value; ``{"force": "f", "sort=": "s"}``: the
long names, ``=`` when they take a value, each mapped to its short letter or None), and
gets them back as ``(key, value)`` pairs, key being the short letter or the long name.
Options may follow the operands and be abbreviated, ``--`` ends them, as getopt_long
reads them.  A command line getopt_long rejects raises ``OptionError`` whose message is
what glibc prints after ``PROG: `` (``invalid option -- 'q'``, ``unrecognized option
'--frob'``, ``option '--co' is ambiguous; possibilities: ...``); each command adds its
own tail (util-linux's "Try 'dmesg --help'", grep's usage) and exit status.
"""
from __future__ import annotations

import getopt
import os
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Options", "OptionError"]


class OptionError(Exception):
    """An option getopt_long rejects.  The message is glibc's (without the program name);
    ``before`` holds the options given before the bad one, which a tool such as dmesg has
    already acted on when getopt_long reaches it (``dmesg -h -q`` prints the help)."""

    def __init__(self, message: str, before: list[tuple[str, str | None]] | None = None):
        super().__init__(message)
        self.before = before or []


def gnu_getopt(args: list[str], shortopts: str,
               longopts: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """getopt.gnu_getopt, in linear time: its own loop over getopt's do_longs and
    do_shorts, walking the arguments by index where gnu_getopt slices the list after each
    one (quadratic: 'rmmod' with 40,000 names spent 3.6 s there)."""
    opts: list[tuple[str, str]] = []
    operands: list[str] = []
    options_first = shortopts.startswith("+") or bool(os.environ.get("POSIXLY_CORRECT"))
    shortopts = shortopts.removeprefix("+")
    i, n = 0, len(args)
    while i < n:
        a = args[i]
        if a == "--":
            operands += args[i + 1:]
            break
        if a.startswith("-") and a != "-":
            tail = args[i + 1:i + 2]           # an option takes at most the next argument
            # do_longs and do_shorts are gnu_getopt's own steps (in getopt since Python 2,
            # not in typeshed): hence the ignores
            if a.startswith("--"):
                opts, left = getopt.do_longs(opts, a[2:], longopts, tail)  # type: ignore[attr-defined]
            else:
                opts, left = getopt.do_shorts(opts, a[1:], shortopts, tail)  # type: ignore[attr-defined]
            i += 1 + len(tail) - len(left)
        elif options_first:
            operands += args[i:]
            break
        else:
            operands.append(a)
            i += 1
    return opts, operands


@dataclass(frozen=True)
class Options:
    """A command's options: getopt's short spec, the long names, and the options whose
    value is optional (``-L[WHEN]``, ``--color[=WHEN]``: a letter or a long name)."""
    short: str = ""
    long: dict[str, str | None] = field(default_factory=dict)
    optional: tuple[str, ...] = ()

    def names(self) -> list[str]:
        """Every spelling, for Tab completion: -f, --force ..."""
        return [f"-{c}" for c in self.short if c != ":"] + [f"--{n.rstrip('=')}" for n in self.long]

    def parse(self, args: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
        """(key, value) of each option in order, and the operands; OptionError if rejected.

        A flag's value is None; key is its short letter, or its long name if it has none."""
        try:
            return self._parse(args)
        except getopt.GetoptError as e:
            raise OptionError(self._message(e, args), self._before(e, args)) from None

    def takes_value(self, spelled: str) -> bool:
        """True if the long option an abbreviation stands for takes a value (--max-count)."""
        name = self._resolve(spelled)
        return name is not None and name + "=" in self.long

    def _parse(self, args: list[str]):
        args, values = self._optional_values(args)
        longs = [n for n in self.long]
        found, operands = gnu_getopt(args, self.short.replace("::", ""), longs)
        out: list[tuple[str, str | None]] = []
        for opt, val in found:
            key = self._key(opt)
            if key in self.optional:
                out.append((key, values[key].pop(0)))
            else:
                out.append((key, val if self._takes_value(opt) else None))
        return out, operands

    def _key(self, opt: str) -> str:
        if not opt.startswith("--"):
            return opt[1:]
        name = opt[2:]
        return self.long.get(name, self.long.get(name + "=")) or name

    def _takes_value(self, opt: str) -> bool:
        if opt.startswith("--"):
            return opt[2:] + "=" in self.long
        i = self.short.find(opt[1])
        return self.short[i + 1:i + 2] == ":"

    def _resolve(self, spelled: str) -> str | None:
        """The long name an abbreviation stands for (exact or unique), else None."""
        names = [n.rstrip("=") for n in self.long]
        if spelled in names:
            return spelled
        found = [n for n in names if n.startswith(spelled)]
        return found[0] if len(found) == 1 else None

    def rewrite(self, args: list[str], fn: Callable[[str], list[str]]) -> list[str]:
        """args with each option argument replaced by fn(argument), where it stands; the
        operands, the values given as the next argument and all after '--' are kept."""
        out: list[str] = []
        it = iter(args)
        for a in it:
            if a == "--":
                out += [a, *it]
                break
            if not a.startswith("-") or a == "-":
                out.append(a)
                continue
            out += fn(a)
            if self.needs_next(a):
                out += [v for v in (next(it, None),) if v is not None]      # its value, as it is
        return out

    def needs_next(self, a: str) -> bool:
        """True if option argument a leaves its option's value to the next argument."""
        if a.startswith("--"):
            spelled, eq, _val = a[2:].partition("=")
            name = self._resolve(spelled)
            return not eq and name is not None and name + "=" in self.long and name not in self.optional
        for i, c in enumerate(a[1:], 1):
            if c in self.optional:
                return False
            j = self.short.find(c)
            if j >= 0 and self.short[j + 1:j + 2] == ":":
                return i == len(a) - 1
        return False

    def _optional_values(self, args: list[str]) -> tuple[list[str], dict[str, list[str | None]]]:
        """getopt has no optional values: take them out of the arguments (--color=always,
        -Lalways) and hand them back in order, the option staying as a flag."""
        values: dict[str, list[str | None]] = {k: [] for k in self.optional}

        def cut(a: str) -> list[str]:
            if a.startswith("--"):
                spelled, eq, val = a[2:].partition("=")
                name = self._resolve(spelled)
                key = self._key("--" + name) if name else None
                if key in self.optional:
                    values[key].append(val if eq else None)
                    return ["--" + spelled]
                return [a]
            for i, c in enumerate(a[1:], 1):
                if c in self.optional:
                    values[c].append(a[i + 1:] or None)
                    return [a[:i + 1]]
                j = self.short.find(c)
                if j >= 0 and self.short[j + 1:j + 2] == ":":
                    break                         # the rest is that option's value
            return [a]
        return (self.rewrite(args, cut) if self.optional else args), values

    def _failing(self, e: getopt.GetoptError, args: list[str]) -> int:
        """The index of the argument getopt rejected: the first prefix of the arguments
        that fails the same way ends with it (a missing value is missing at the end)."""
        if e.msg.endswith("requires argument"):
            return len(args) - 1
        for n in range(1, len(args) + 1):
            try:
                self._parse(args[:n])
            except getopt.GetoptError as f:
                if f.msg == e.msg:
                    return n - 1
        return len(args) - 1

    def _message(self, e: getopt.GetoptError, args: list[str]) -> str:
        """glibc's words for what gnu_getopt rejected."""
        opt, msg = e.opt, e.msg
        if not msg.startswith("option --"):
            if msg.endswith("requires argument"):
                return f"option requires an argument -- '{opt}'"
            return f"invalid option -- '{opt}'"
        if msg.endswith("not a unique prefix"):
            names = " ".join(f"'--{n.rstrip('=')}'" for n in self.long if n.startswith(opt))
            return f"option '--{opt}' is ambiguous; possibilities: {names}"
        if msg.endswith("requires argument"):
            return f"option '--{opt}' requires an argument"
        if msg.endswith("must not have an argument"):
            return f"option '--{opt}' doesn't allow an argument"
        return f"unrecognized option '{args[self._failing(e, args)]}'"

    def _before(self, e: getopt.GetoptError, args: list[str]) -> list[tuple[str, str | None]]:
        """The options before the rejected one, and those of the rejected cluster's letters
        before the bad one (``-kq``: k)."""
        n = self._failing(e, args)
        head, bad = args[:n], args[n] if n < len(args) else ""
        try:
            if bad.startswith("-") and not bad.startswith("--") and e.opt in bad[1:]:
                cut = bad[:bad.index(e.opt, 1)]
                if len(cut) > 1:
                    return self._parse(head + [cut])[0]
            return self._parse(head)[0]
        except getopt.GetoptError:
            return []
