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
