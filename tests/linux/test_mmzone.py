"""linux/mmzone.h and asm/page.h for modules: MAX_ORDER is 6.1's 11 (exclusive), as the
reference's zone.c printed 'PAGE_SIZE=4096 MAX_ORDER=11' (transcript-zone4g.txt)."""
from __future__ import annotations

import re

from tests.conftest import make_shell
from tests.reference import ref_text


def test_max_order_page_size_and_shift_everywhere_the_headers_have_them():
    import kmsim.linux as L
    from kmsim.linux import gfp, mm, mmzone
    for mod in (mmzone, mm, gfp, L):
        assert (mod.MAX_ORDER, mod.PAGE_SIZE, mod.PAGE_SHIFT) == (11, 4096, 12)


def test_a_module_prints_what_the_reference_printed(tmp_path):
    f = tmp_path / "sizes.py"
    f.write_text("from kmsim.linux.module import *\nfrom kmsim.linux.printk import *\n"
                 "from kmsim.linux.mmzone import *\n"
                 "module_init(lambda: pr_info('zone: PAGE_SIZE=%lu MAX_ORDER=%d sizeof(struct page)=%zu\\n',"
                 " PAGE_SIZE, MAX_ORDER, 64) and 0)\nMODULE_LICENSE('GPL')\n")
    sh = make_shell()
    sh.execute(f"insmod {f}")
    ref = re.search(r"zone: PAGE_SIZE=\d+ MAX_ORDER=\d+ sizeof\(struct page\)=\d+",
                    ref_text("transcript-zone4g.txt")).group(0)
    assert ref in sh.execute("dmesg").out
