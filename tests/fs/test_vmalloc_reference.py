"""/proc/vmallocinfo against transcript-main's (`vk: full /proc/vmallocinfo`): the boot's
own areas are ones a real 6.1 boot has."""
from __future__ import annotations

import re

from tests.conftest import make_shell
from tests.reference import ref_text


def _callers(text: str) -> list[str]:
    return [re.sub(r"\+0x.*", "", ln.split()[2]) for ln in text.splitlines() if ln.startswith("0x")]


def test_the_boots_areas_are_the_references():
    lines = ref_text("transcript-main.txt").splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("### step: vk: full /proc/vmallocinfo"))
    j = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("### step:"))
    ref = set(_callers("\n".join(lines[i:j])))
    got = _callers(make_shell(mem="512M").execute("cat /proc/vmallocinfo").out)
    assert got and set(got) <= ref                   # every boot area has a caller the reference has
    assert {"pcpu_create_chunk", "kernel_clone", "irq_init_percpu_irqstack", "acpi_os_map_iomem"} <= set(got)


def test_vmalloc_used_after_boot_is_the_references():
    """meminfo's VmallocUsed at 512M: the reference's page-backed boot areas (7352 kB)."""
    ref = ref_text("transcript-main.txt")
    assert "VmallocUsed:        7352 kB" in ref
    assert "VmallocUsed:        7352 kB" in make_shell(mem="512M").execute("cat /proc/meminfo").out
