"""kmemleak: objects left at rmmod, the scanner, /sys/kernel/debug/kmemleak."""
import re

import pytest
from conftest import make_shell, run_kmsim
from inline_modules import messages, module_file

LEAKY = """
from kmsim.linux.module import *
from kmsim.linux.gfp import *
p = 0
q = 0
def leaky_init():
    global p, q
    p = __get_free_page(GFP_KERNEL)
    q = __get_free_pages(GFP_KERNEL, 1)
    return 0
def leaky_exit():
    pass
module_init(leaky_init)
module_exit(leaky_exit)
MODULE_LICENSE("GPL")
"""


def _messages(sh):
    return [line.split("] ", 1)[1] for line in sh.execute("dmesg").out.splitlines() if "] " in line]


def test_rmmod_reports_leaked_kmalloc_objects():
    sh = make_shell()
    free_before = sh.kernel.buddy.nr_free_pages()
    r = sh.execute("insmod tests/check_modules/leak_kmalloc.py; rmmod leak_kmalloc")
    assert "rmmod: leak_kmalloc left 3 objects (240 bytes) allocated" in r.err
    msgs = _messages(sh)
    heads = [m for m in msgs if m.startswith("kmemleak: unreferenced object")]
    assert len(heads) == 3
    assert re.fullmatch(r"kmemleak: unreferenced object 0xffff8880[0-9a-f]{8} \(size 80\):", heads[0])
    i = msgs.index(heads[0])
    assert re.fullmatch(r'kmemleak:   comm "insmod", pid \d+, jiffies \d+ \(age \d+\.\d{3}s\)', msgs[i + 1])
    assert msgs[i + 2] == "kmemleak:   hex dump (first 32 bytes):"
    assert msgs[i + 5] == "kmemleak:   backtrace:"
    assert re.search(r"\[<[0-9a-f]{16}>\] leak_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[leak_kmalloc\]", msgs[i + 7])
    assert "kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)" in msgs
    # the memory stays allocated, as in the kernel
    kl = sh.kernel.kmemleak
    assert len(kl.suspects()) == 3
    assert sh.kernel.buddy.nr_free_pages() <= free_before
    cat = sh.execute("cat /sys/kernel/debug/kmemleak").out
    assert cat.count("unreferenced object") == 3
    assert sh.execute("insmod modules/hello.py; rmmod hello").status == 0


def test_clean_module_leaves_nothing():
    sh = make_shell()
    r = sh.execute("insmod tests/check_modules/clean_pages.py; rmmod clean_pages")
    assert r.status == 0 and "left" not in r.err
    assert sh.execute("kmemleak scan").out == ""


def test_scan_finds_unreferenced_objects(tmp_path):
    mod = tmp_path / "leaky.py"
    mod.write_text(LEAKY)
    sh = make_shell()
    assert sh.execute(f"insmod {mod}").status == 0
    assert sh.execute("kmemleak scan").out == ""          # both held by statics
    sh.kernel.modules.modules["leaky"].namespace["p"] = 0  # p = NULL: the page is lost
    out = sh.execute("kmemleak scan").out
    assert out.count("unreferenced object") == 1
    assert "(size 4096):" in out
    assert "kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)" in _messages(sh)
    sh.execute("kmemleak clear")
    assert sh.execute("cat /sys/kernel/debug/kmemleak").out == ""
    r = sh.execute("rmmod leaky")
    assert "rmmod: leaky left 2 objects (12288 bytes) allocated" in r.err


def test_pointer_inside_object_keeps_it_referenced(tmp_path):
    mod = tmp_path / "chain.py"
    mod.write_text("""
from kmsim.linux.module import *
from kmsim.linux.slab import *
from kmsim.linux.types import *
head = 0
def chain_init():
    global head
    head = kmalloc(16, GFP_KERNEL)
    pointer.array_at(head, 1)[0] = kmalloc(32, GFP_KERNEL)
    return 0
module_init(chain_init)
MODULE_LICENSE("GPL")
""")
    sh = make_shell()
    assert sh.execute(f"insmod {mod}").status == 0
    assert sh.execute("kmemleak scan").out == ""
    sh.execute("py kernel.vm.write_int(kernel.modules.modules['chain'].namespace['head'], 8, 0)")
    out = sh.execute("kmemleak scan").out
    assert out.count("unreferenced object") == 1 and "(size 32):" in out


def test_kmemleak_write_rejects_garbage():
    sh = make_shell()
    assert sh.execute("echo scan > /sys/kernel/debug/kmemleak").status == 0
    assert sh.execute("echo nonsense > /sys/kernel/debug/kmemleak").status != 0
    assert sh.execute("kmemleak bogus").status == 2


@pytest.mark.e2e
def test_rmmod_summary_end_to_end():
    p = run_kmsim("--seed", "1", "-c", "insmod tests/check_modules/leak_kmalloc.py; "
                  "rmmod leak_kmalloc; kmemleak | head -n 1; insmod modules/hello.py; rmmod hello")
    assert "rmmod: leak_kmalloc left 3 objects (240 bytes) allocated" in p.stderr
    assert p.stdout.startswith("unreferenced object 0x")
    assert "Traceback" not in p.stderr


CACHE_LEAK = """
from kmsim.linux.module import *
from kmsim.linux.slab import *
cache = None
def cl_init():
    global cache
    cache = kmem_cache_create("mycache", 48, 0, 0, None)
    return 0 if cache else -12
def cl_exit():
    pass
module_init(cl_init)
module_exit(cl_exit)
MODULE_LICENSE("GPL")
"""


def test_cache_not_destroyed_is_reported(tmp_path):
    mod = tmp_path / "cl.py"
    mod.write_text(CACHE_LEAK)
    for append in ("", "slab_nomerge"):
        sh = make_shell(append=append)
        r = sh.execute(f"insmod {mod}; rmmod cl")
        assert "rmmod: cl left cache mycache (not destroyed)" in r.err
        assert "kmsim: cl did not destroy its cache 'mycache'" in sh.execute("dmesg").out
    sh = make_shell()
    assert "left" not in sh.execute("insmod modules/slab_cache.py; rmmod slab_cache").err


def test_kmemleak_off_on_the_command_line():
    sh = make_shell(append="kmemleak=off")
    assert sh.kernel.kmemleak is None
    r = sh.execute("insmod tests/check_modules/leak_kmalloc.py; rmmod leak_kmalloc")
    assert r.status == 0 and "left" not in r.err
    assert sh.execute("kmemleak").status == 1


def test_kmemleak_usage_error_is_said_once():
    sh = make_shell()
    r = sh.execute("kmemleak foo")
    assert r.status == 2
    assert r.err.count("kmemleak [scan|clear]") == 1 and "unknown command 'foo'" in r.err


def test_kmemleak_dump_writes_the_object_info(tmp_path):
    """echo dump=ADDR > /sys/kernel/debug/kmemleak (dump_str_object_info)."""
    sh = make_shell()
    path = module_file(tmp_path, "dleak", "    p = kmalloc(64, GFP_KERNEL)")
    assert sh.execute("insmod " + path).status == 0
    kl = sh.kernel.kmemleak
    addr = next(iter(kl.objects))
    r = sh.execute("echo dump=0x1 > /sys/kernel/debug/kmemleak")
    assert r.status == 1 and "Invalid argument" in r.err
    assert "kmemleak: Unknown object at 0x00000001" in messages(sh)
    assert sh.execute(f"echo dump={addr:#x} > /sys/kernel/debug/kmemleak").status == 0
    msgs = messages(sh)
    i = msgs.index(f"kmemleak: Object {addr:#x} (size 64):")
    assert msgs[i + 1].startswith('kmemleak:   comm "insmod", pid ')
    assert msgs[i + 6] == "kmemleak:   backtrace:"
    assert re.fullmatch(r"     dleak_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[dleak\]", msgs[i + 8])
    assert sh.execute("echo dump=zz > /sys/kernel/debug/kmemleak").status == 1


def test_pages_from_one_line_have_the_stack_of_the_first_without_a_walk(tmp_path):
    # The page hook takes the depot's cached stack when alloc_pages' caller is the frame it
    # saw last at the same instruction; kmalloc's large path (pages on the module's
    # behalf) from that same instruction is not a page of the module.
    (tmp_path / "lk.py").write_text('''from kmsim.linux import *
kept = []
def grab(fn, a, b):
    return fn(a, b)
def lk_init():
    for i in range(6):
        kept.append(alloc_pages(GFP_KERNEL, i % 2))
    for fn, a, b in ((kmalloc, 16384, GFP_KERNEL), (alloc_pages, GFP_KERNEL, 0), (kmalloc, 64, GFP_KERNEL)):
        kept.append(grab(fn, a, b))
    return 0
def lk_exit():
    pass
module_init(lk_init); module_exit(lk_exit); MODULE_LICENSE("GPL")
''')
    sh = make_shell()
    r = sh.execute(f"insmod {tmp_path / 'lk.py'}; rmmod lk")
    assert "rmmod: lk left 9 objects (57408 bytes) allocated" in r.err     # 6 + 1 blocks, 2 kmalloc
    dump = sh.execute("dmesg").out
    pages = [b for b in dump.split("unreferenced object ")[1:] if "alloc_pages+0x90/0x160" in b]
    assert len(pages) == 7
    traces = {tuple(re.sub(r"^.*\] +", "", ln) for ln in b.splitlines() if "+0x" in ln) for b in pages}
    assert sorted(t[2:4] for t in traces) == [("grab+0x14/0x27 [lk]", "lk_init+0x44/0x67 [lk]"),
                                              ("lk_init+0x24/0x67 [lk]", "do_one_initcall+0x59/0x220")]
