"""KASAN's report as 6.1 prints it: the page's flags as SLUB prints a slab page's (the
reference's 'flags=0xfffffc0000200(slab|node=0|zone=1|lastcpupid=0x1fffff)'), the
allocation stack through kmalloc_trace (kmalloc is inline), the free stack through
kfree, the user-mode frame at the end of the call trace."""
from __future__ import annotations

import re

from tests.conftest import make_shell
from tests.reference import ref_text


def kasan_report(module: str) -> list[str]:
    sh = make_shell(append="kasan")
    sh.execute(f"insmod tests/check_modules/{module}.py")
    return [r.text for r in sh.kernel.printk.records]


def test_page_flags_as_slubs_and_tracks_name_the_api():
    lines = kasan_report("kasan_uaf")
    ref = re.search(r"flags=(0x[0-9a-f]+\(slab\|node=0\|zone=1\|lastcpupid=0x1fffff\))",
                    ref_text("transcript-main.txt")).group(1)
    assert f"flags: {ref}" in lines
    a = lines.index(next(ln for ln in lines if ln.startswith("Allocated by task ")))
    assert lines[a + 4] == " kmalloc_trace+0x26/0x90" and lines[a + 5].startswith(" uaf_init+0x")
    f = lines.index(next(ln for ln in lines if ln.startswith("Freed by task ")))
    assert lines[f + 4] == " kfree+0x7c/0x120" and lines[f + 5].startswith(" uaf_init+0x")
    assert not any("kmem_cache_free" in ln for ln in lines)


def test_kasan_call_trace_ends_with_the_user_frame():
    lines = kasan_report("kasan_uaf")
    i = lines.index(" entry_SYSCALL_64_after_hwframe+0x6e/0xd8")
    assert lines[i + 1].startswith("RIP: 0033:0x7f") and lines[i + 9] == " </TASK>"


def test_a_bad_memset_is_reported_in_its_caller():
    """mm/kasan/shadow.c: memset checks its range with kasan_check_range(..., _RET_IP_), so
    the report is 'in' the module function that called it, and the trace goes through
    kasan_check_range and memset (strlen, instrumented itself, stays 'in strlen')."""
    sh = make_shell(append="kasan")
    sh.execute("insmod tests/bad_modules/use_after_free_kmalloc.py")
    msgs = [r.text for r in sh.kernel.printk.records]
    i = next(n for n, m in enumerate(msgs) if m.startswith("BUG: KASAN: "))
    assert re.fullmatch(r"BUG: KASAN: use-after-free in uaf_init\+0x[0-9a-f]+/0x[0-9a-f]+ "
                        r"\[use_after_free_kmalloc\]", msgs[i])
    j = msgs.index(" kasan_report+0xc2/0x100", i)
    assert msgs[j + 1] == " kasan_check_range+0x13d/0x1a0"
    assert msgs[j + 2].startswith(" memset+0x") and msgs[j + 3].startswith(" uaf_init+0x")
