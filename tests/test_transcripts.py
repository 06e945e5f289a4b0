"""The reference's boots replayed: each transcript's commands run in kmsim with the
reference's own C modules (../shared/reference/modules/), and every command's output and
exit status and every block of kernel messages compared after normalising (reference.py).
The memory figures (buddyinfo) and the guest's quiet/verbose console are left to their
own tests (docs/fidelity.md)."""
from __future__ import annotations

import pytest

from tests.conftest import make_shell
from tests.reference import REF_MODULES, kmsim_command, normal, transcript_steps

SKIP = ("cat /proc/buddyinfo", "cat /proc/sys/kernel/printk")


@pytest.mark.skipif(not REF_MODULES.is_dir(), reason="no reference modules")
@pytest.mark.parametrize("name", ["dfree", "dfree_keep", "dfree_plain", "dfree_plain_keep", "kfree0",
                                  "kfree1-run2"])
def test_a_reference_boot_replays_line_for_line(name):
    sh = make_shell(mem="512M", append="kmsim.hints=0")
    k = sh.kernel
    seq = k.printk.next_seq
    for kind, text, lines, status in transcript_steps(f"transcript-{name}.txt"):
        if kind == "dmesg":
            got = [rec.text for rec in k.printk.records if rec.seq >= seq]
            seq = k.printk.next_seq
            assert normal(got) == normal(lines), text
            continue
        cmd = kmsim_command(text)
        if cmd is None or text in SKIP:
            continue
        r = sh.execute(cmd)
        out = (r.out + r.err).replace(f"{REF_MODULES}/", "").replace(".c:", ".ko:").splitlines()
        assert (normal(out), r.status) == (normal(lines), status), text
