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


def _py_report(append: str, *lines: str) -> list[str]:
    sh = make_shell(append=append)
    for line in lines:
        sh.execute(line)
    return [r.text for r in sh.kernel.printk.records]


def test_a_double_free_from_py_is_in_the_kernel_function_py_runs_under_not_0x0():
    """py's statements are kernel code in no module, run by the shell's write(2): the report
    names the innermost kernel frame of that stack (%pS of a vmlinux caller), the trace and
    the tracks go through the API function py called, as a module's do."""
    lines = _py_report("kasan", 'py "p = kmalloc(60, GFP_KERNEL); kfree(p); kfree(p)"')
    assert "BUG: KASAN: double-free in ksys_write+0x6f/0xf0" in lines
    assert not any(" 0x0" in ln and "KASAN" in ln for ln in lines)
    i = lines.index(" kasan_report_invalid_free+0x98/0xc0")
    assert lines[i + 1].startswith(" kmem_cache_free+0x") and lines[i + 2] == " ksys_write+0x6f/0xf0"
    a = lines.index("Allocated by task 1:")
    assert lines[a + 4:a + 6] == [" kmalloc_trace+0x26/0x90", " ksys_write+0x6f/0xf0"]
    f = lines.index("Freed by task 1:")
    assert lines[f + 4:f + 6] == [" kfree+0x7c/0x120", " ksys_write+0x6f/0xf0"]


def test_a_memset_past_an_object_from_py_is_reported_in_its_caller():
    lines = _py_report("kasan", 'py "p = kmalloc(60, GFP_KERNEL); memset(p, 0, 70)"')
    assert "BUG: KASAN: slab-out-of-bounds in ksys_write+0x6f/0xf0" in lines
    i = lines.index(" kasan_report+0xc2/0x100")
    assert lines[i + 1] == " kasan_check_range+0x13d/0x1a0" and lines[i + 2].startswith(" memset+0x")
    assert lines[i + 3] == " ksys_write+0x6f/0xf0"


def test_slubs_tracks_of_py_name_the_kernel_function_not_0x0():
    lines = _py_report("slub_debug=FZPU", "py p = kmalloc(60, GFP_KERNEL)", "py kfree(p)", "py kfree(p)")
    assert "Allocated in ksys_write+0x6f/0xf0 age=0 cpu=0 pid=1" in lines
    assert "Freed in ksys_write+0x6f/0xf0 age=0 cpu=0 pid=1" in lines
    assert not any(ln.startswith(("Allocated in 0x0", "Freed in 0x0")) for ln in lines)
