"""Helpers that compare kmsim's output with the Linux 6.1 reference transcripts
(../shared/reference/out/): a step's messages, and a normal form of lines that leaves
out what differs between any two boots (addresses, offsets, PIDs, the kernel's version)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REF = Path("/work/shared/reference/out")


def ref_text(name: str) -> str:
    """A reference file's text (the test is skipped where the reference is absent)."""
    path = REF / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return path.read_text()


def ref_block(name: str, cmd: str, step: str = "") -> list[str]:
    """The messages (dmesg -c) after `$ cmd` in a reference transcript, without timestamps."""
    lines = ref_text(name).splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("### step:") and step in ln) if step else 0
    j = lines.index(f"$ {cmd}", i)
    k = lines.index("--- dmesg -c:", j)
    end = lines.index("--- end dmesg", k)
    return [re.sub(r"^\[ *\d+\.\d+\] ?", "", ln) for ln in lines[k + 1:end]]


def ref_output(name: str, cmd: str) -> tuple[list[str], int]:
    """The output lines and exit status of `$ cmd` in a reference transcript."""
    lines = ref_text(name).splitlines()
    j = lines.index(f"$ {cmd}")
    out = []
    for ln in lines[j + 1:]:
        m = re.fullmatch(r"\[exit status: (\d+)\]", ln)
        if m:
            return out, int(m.group(1))
        out.append(ln)
    raise ValueError(cmd)


def normal(lines: list[str]) -> list[str]:
    """Lines with boot-specific values made equal; kmsim's hints and the unwinder's
    unreliable ('? ') frames left out."""
    out = []
    for ln in lines:
        ln = re.sub(r"^\[ *\d+\.\d+\] ?", "", ln)
        if ln.startswith(("kmsim: ", " ? ")):
            continue
        if ln.startswith("CPU: 0 PID: "):
            ln = "CPU: 0 PID: N Comm: " + ln.split("Comm: ")[1].split()[0]
        elif ln.startswith("Hardware name: "):
            ln = "Hardware name: H"
        ln = re.sub(r"\+0x[0-9a-f]+/0x[0-9a-f]+", "+O", ln)
        ln = re.sub(r"\b[0-9a-f]{7,16}\b", "H", ln)
        ln = re.sub(r"\b0x[0-9a-f]+\b", "0xH", ln)
        ln = re.sub(r"\[\d+\]", "[N]", ln)
        ln = re.sub(r"PID: \d+", "PID: N", ln)
        out.append(ln)
    return out


REF_MODULES = Path("/work/shared/reference/modules")


def transcript_steps(name: str) -> list[tuple[str, str, list[str], int | None]]:
    """A transcript's commands and kernel messages in order: ('cmd', command, output lines,
    exit status) and ('dmesg', the '--- dmesg' line, messages without timestamps, None)."""
    lines = ref_text(name).splitlines()
    items: list[tuple[str, str, list[str], int | None]] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("$ "):
            out: list[str] = []
            status = None
            i += 1
            while i < len(lines) and not lines[i].startswith(("$ ", "### ", "--- dmesg")):
                m = re.fullmatch(r"\[exit status: (\d+)\]", lines[i])
                i += 1
                if m:
                    status = int(m.group(1))
                    break
                out.append(lines[i - 1])
            items.append(("cmd", ln[2:], out, status))
        elif ln.startswith("--- dmesg"):
            j = lines.index("--- end dmesg", i)
            items.append(("dmesg", ln, [re.sub(r"^\[ *\d+\.\d+\] ?", "", x) for x in lines[i + 1:j]], None))
            i = j + 1
        else:
            i += 1
    return items


def kmsim_command(cmd: str) -> str | None:
    """The kmsim command for a transcript's: kmod's /sbin tools by their names, `x.ko` the
    reference's C module `x.c`; None for what kmsim has no counterpart of (uname, the
    guest's /proc/cmdline, busybox's applets)."""
    if cmd.startswith(("uname", "cat /proc/cmdline", "busybox ")) or "..." in cmd:
        return None
    c = cmd.replace("/sbin/", "")
    return re.sub(r"(\S+)\.ko\b", lambda m: f"{REF_MODULES}/{m.group(1)}.c", c)
