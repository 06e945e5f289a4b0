"""SLUB's debugging (mm/slub_debug.py): slub_debug= as setup_slub_debug parses it, and each
debug report line by line against Linux 6.1 (double frees, padding, free pointers, virt_to_cache)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import make_shell

from kmsim.errors import KernelBUG
from kmsim.mm import slub as S
from kmsim.mm.debug_vm import check_kernel
from kmsim.mm.slab import get_freepointer


def _flags(sh, cache):
    out = []
    for attr in ("sanity_checks", "red_zone", "poison", "store_user"):
        out.append(int(sh.execute(f"cat /sys/kernel/slab/{cache}/{attr}").out))
    return tuple(out)


@pytest.mark.parametrize("append,cache,want", [
    ("slub_debug=FZ,kmalloc-*", "kmalloc-64", (1, 1, 0, 0)),     # a glob
    ("slub_debug=FZ,kmalloc-*", "dentry", (0, 0, 0, 0)),
    ("slub_debug=U,kmalloc-64;Z,dentry", "kmalloc-64", (0, 0, 0, 1)),   # blocks
    ("slub_debug=U,kmalloc-64;Z,dentry", "dentry", (0, 1, 0, 0)),
    ("slub_debug=FZ;-,kmalloc-64", "kmalloc-64", (0, 0, 0, 0)),  # global, then an exception
    ("slub_debug=FZ;-,kmalloc-64", "dentry", (1, 1, 0, 0)),
    ("slub_debug=,kmalloc-64", "kmalloc-64", (1, 1, 1, 1)),      # no letters: full debugging
    ("slub_debug=P,kmalloc-128,kmalloc-64", "kmalloc-64", (0, 0, 1, 0)),
])
def test_slub_debug_blocks_and_globs(append, cache, want):
    assert _flags(make_shell(append=append), cache) == want


def test_slub_debug_unknown_letter_is_reported_and_skipped():
    sh = make_shell(append="slub_debug=FX")
    assert _flags(sh, "kmalloc-64") == (1, 0, 0, 0)
    assert "slub_debug option 'X' unknown. skipped" in sh.execute("dmesg").out


def test_slub_debug_poison_notes_init_on_alloc():
    sh = make_shell(append="slub_debug=P")
    assert ("mem auto-init: SLAB_POISON will take precedence over init_on_alloc/init_on_free"
            in sh.execute("dmesg").out)


SM = Path(__file__).parent.parent / "slab_modules"


REF = Path("/work/shared/reference/out")


LAB = S.SLAB_HWCACHE_ALIGN | S.SLAB_POISON | S.SLAB_RED_ZONE


LABF = LAB | S.SLAB_CONSISTENCY_CHECKS


GFP = 0xcc0


HP = r"[0-9a-f]{16}"                    # a hashed pointer


# -- helpers ------------------------------------------------------------------------------
def slub(k):
    return k.slab


def log(k, since: int = 0) -> list[str]:
    """The text of the kernel's records from sequence number since on."""
    return [r.text for r in k.printk.records if r.seq >= since]


def next_seq(k) -> int:
    return k.printk.records[-1].seq + 1 if k.printk.records else 0


def ref_block(name: str, step: str, cmd: str) -> list[str]:
    """The messages a command of a reference transcript printed (dmesg -c after it)."""
    path = REF / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    lines = path.read_text().splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("### step:") and step in ln)
    j = lines.index(f"$ {cmd}", i)
    k = lines.index("--- dmesg -c:", j)
    end = lines.index("--- end dmesg", k)
    return [re.sub(r"^\[ *\d+\.\d+\] ?", "", ln) for ln in lines[k + 1:end]]


def shape(lines: list[str]) -> list[str]:
    """Lines with what differs between boots made equal: hashed pointers, offsets, PIDs,
    taint strings, the stacks and registers (from 'CPU: ' to '</TASK>'), kmsim's hints."""
    out, in_stack = [], False
    for ln in lines:
        if ln.startswith("CPU: 0 PID: "):
            in_stack = True
        if in_stack:
            in_stack = ln != " </TASK>"
            continue
        if ln.startswith("kmsim: ") or ln == "Disabling lock debugging due to kernel taint":
            continue
        ln = re.sub(r"\((Not tainted|Tainted: [^)]*)\)", "(T)", ln)
        ln = re.sub(r" \[last unloaded: [^\]]*\]", "", ln)
        ln = re.sub(HP, "P", ln)
        ln = re.sub(r"@offset=\d+", "@offset=N", ln)
        ln = re.sub(r"PID: \d+", "PID: N", ln)
        out.append(re.sub(r"\+0x[0-9a-f]+/0x[0-9a-f]+", "+O", ln))
    return out


def from_line(lines: list[str], start: str) -> list[str]:
    return lines[next(i for i, ln in enumerate(lines) if ln.startswith(start)):]


def run_module(args: str, then: str):
    """insmod err_doublefree with args, then the command then; (kernel, insmod log, then log)."""
    sh = make_shell()
    sh.execute(f"insmod {SM}/err_doublefree.py {args}")
    k = sh.kernel
    seq = next_seq(k)
    sh.execute(then)
    return sh, log(k)[:len(log(k)) - len(log(k, seq))], log(k, seq)


# -- __GFP_ZERO and a constructor --------------------------------------------------------
def _ctor_cache(k, name, flags):
    def ctor(x):
        k.vm.write(x, b"\x55" * 32)
    return S.kmem_cache_create(k, name, 32, 0, flags, ctor)


# -- (f) double free, as transcript-main.txt and transcript-dfree*.txt show it ---------------
def test_double_free_with_checks_matches_reference_at_insmod_and_rmmod():
    sh, ins, rm = run_module("checks=1 keep=1", "rmmod err_doublefree")
    step = "double free with consistency checks, another object kept"
    ref_ins = ref_block("transcript-main.txt", step, "/sbin/insmod err_doublefree.ko checks=1 keep=1")
    ref_rm = ref_block("transcript-main.txt", step, "/sbin/rmmod err_doublefree")
    assert shape(from_line(ins, "err_doublefree: kept object")) == shape(ref_ins)
    assert shape(rm) == shape(ref_rm)
    assert sh.kernel.slab.find("dfree_cache") is not None
    assert check_kernel(sh.kernel) == []


def test_double_free_with_checks_rmmod_report_lines():
    sh, _ins, rm = run_module("checks=1 keep=1", "rmmod err_doublefree")
    i = rm.index("BUG dfree_cache (Tainted: G    B      OE     ): Wrong object count. Counter is 1 "
                 "but counted were 63")
    assert rm[i - 1] == "=" * 77 and rm[i + 1] == "-" * 77 and rm[i + 2] == ""
    assert re.fullmatch(rf"Slab 0x{HP} objects=64 used=1 fp=0x({HP}) flags=0xfffffc0000200"
                        r"\(slab\|node=0\|zone=1\|lastcpupid=0x1fffff\)", rm[i + 3])
    trace = rm[rm.index("Call Trace:", i):]
    assert trace[2:5] == [" dump_stack_lvl+0x44/0x5c", " slab_err+0xae/0xe7",
                          " on_freelist.cold+0x95/0x111"]
    assert trace[5] == " free_to_partial_list+0x180/0x4f0"
    assert re.fullmatch(r" dfree_exit\+0x[0-9a-f]+/0x[0-9a-f]+ \[err_doublefree\]", trace[6])
    fix = rm.index("FIX dfree_cache: Object count adjusted")
    j = rm.index("BUG dfree_cache (Tainted: G    B      OE     ): Objects remaining in dfree_cache "
                 "on __kmem_cache_shutdown()")
    assert fix < j and re.match(r"Slab 0x\S+ objects=64 used=62 fp=", rm[j + 3])
    objs = [ln for ln in rm if re.fullmatch(rf"Object 0x{HP} @offset=\d+", ln)]
    assert len(objs) == 62
    w = next(n for n, ln in enumerate(rm) if ln.startswith("kmem_cache_destroy dfree_cache: "))
    assert rm.index(objs[-1]) < w
    assert re.fullmatch(r"kmem_cache_destroy dfree_cache: Slab cache still has objects when called "
                        r"from dfree_exit\+0x[0-9a-f]+/0x[0-9a-f]+ \[err_doublefree\]", rm[w])
    assert re.fullmatch(r"WARNING: CPU: 0 PID: \d+ at mm/slab_common.c:493 "
                        r"kmem_cache_destroy\+0x141/0x150", rm[w + 1])
    assert [ln for ln in rm if not ln.startswith("kmsim: ")][-1] == "err_doublefree: cache destroyed"
    text = sh.execute("slabinfo dfree").out
    assert re.search(r"^dfree_cache +62 +64 +64 +64 +1 : tunables", text, re.M)


def test_double_free_with_checks_offsets_exclude_the_two_objects():
    sh, ins, rm = run_module("checks=1 keep=1", "rmmod err_doublefree")
    k = sh.kernel
    kept = int(re.search(r"kept object at ([0-9a-f]+)", "\n".join(ins)).group(1), 16)
    obj = int(re.search(r"keep=1 object at ([0-9a-f]+)", "\n".join(ins)).group(1), 16)
    base = kept & ~0xfff
    listed = {int(m.group(1)) for ln in rm for m in [re.fullmatch(rf"Object 0x{HP} @offset=(\d+)", ln)]
              if m}
    every = {16 + 64 * i for i in range(64)}
    assert listed == every - {kept - base, obj - base}
    assert check_kernel(k) == []


def test_double_free_without_checks_empty_slab_matches_reference():
    _sh, ins, rm = run_module("", "rmmod err_doublefree")
    ref_ins = ref_block("transcript-dfree.txt", "double free, lab flags", ("/sbin/insmod "
                                                                           "err_doublefree.ko checks=0"))
    ref_rm = ref_block("transcript-dfree.txt", "double free, lab flags", "/sbin/rmmod err_doublefree")
    mark = "err_doublefree: checks="
    assert shape(from_line(ins, mark)) == shape(from_line(ref_ins, mark))
    assert shape(rm) == shape(ref_rm) == ["err_doublefree: cache destroyed"]


def test_double_free_state_machine_in_memory(kernel):
    """The hook's NULL free pointer cuts the chain after the head: inuse stays 1, 62 objects
    are on no list; the next free counts them back in ("Object count adjusted")."""
    s = S.kmem_cache_create(kernel, "dfree_cache", 16, 0, LABF, None)
    obj = S.kmem_cache_alloc(s, GFP)
    kept = S.kmem_cache_alloc(s, GFP)
    S.kmem_cache_free(s, obj)
    S.kmem_cache_free(s, obj)
    sl = slub(kernel).find_slab(obj)
    assert (sl.freelist, sl.inuse, sl.lost) == ([obj], 1, 62)
    assert get_freepointer(s, obj) == 0
    assert slub(kernel).debug_check() == [] and check_kernel(kernel) == []
    seq = next_seq(kernel)
    S.kmem_cache_free(s, kept)
    assert (sl.freelist, sl.inuse, sl.lost) == ([obj, kept], 62, 0)
    assert "FIX dfree_cache: Object count adjusted" in log(kernel, seq)
    assert S.kmem_cache_destroy(kernel, s) is None and slub(kernel).find("dfree_cache") is s
    assert check_kernel(kernel) == []


def test_validate_counts_lost_objects(kernel):
    s = S.kmem_cache_create(kernel, "vl", 16, 0, LABF, None)
    obj = S.kmem_cache_alloc(s, GFP)
    S.kmem_cache_alloc(s, GFP)
    S.kmem_cache_free(s, obj)
    S.kmem_cache_free(s, obj)
    seq = next_seq(kernel)
    slub(kernel).validate(s)
    out = log(kernel, seq)
    assert out[1] == "BUG vl (Tainted: G    B             ): Wrong object count. Counter is 1 but " \
                     "counted were 63"
    i = out.index(" on_freelist.cold+0x95/0x111")
    assert out[i + 1:i + 3] == [" validate_slab+0x9a/0x120", " validate_slab_cache+0x101/0x160"]
    assert "FIX vl: Object count adjusted" in out
    assert slub(kernel).find_slab(obj).inuse == 63 and check_kernel(kernel) == []


def test_double_free_without_checks_bug_holds_the_list_lock(kernel):
    """dfree_keep: BUG_ON(object == fp) in free_to_partial_list, after slab->inuse--, with
    n->list_lock held: make_task_dead then says 'exited with irqs disabled' and
    'preempt_count 1' (the report's owner prints them from these attributes)."""
    s = S.kmem_cache_create(kernel, "dfree_cache", 16, 0, LAB, None)
    kept = S.kmem_cache_alloc(s, GFP)
    obj = S.kmem_cache_alloc(s, GFP)
    S.kmem_cache_free(s, obj)
    with pytest.raises(KernelBUG) as e:
        S.kmem_cache_free(s, obj)
    assert e.value.where == "mm/slub.c:419"
    assert e.value.irqs_disabled is True and e.value.preempt_count == 1
    sl = slub(kernel).find_slab(kept)
    assert (sl.freelist, sl.inuse) == ([obj], 0)
    assert slub(kernel).debug_check() == [] and check_kernel(kernel) == []


def test_double_free_plain_bug_has_no_exit_notes(kernel):
    s = S.kmem_cache_create(kernel, "plain_df", 64, 0, 0, None)
    x = S.kmem_cache_alloc(s, GFP)
    S.kmem_cache_free(s, x)
    with pytest.raises(KernelBUG) as e:
        S.kmem_cache_free(s, x)
    assert not getattr(e.value, "irqs_disabled", False)


def test_double_free_without_checks_exit_notes_e2e():
    _sh, ins, _rm = run_module("keep=1", "lsmod")
    i = ins.index("---[ end trace 0000000000000000 ]---")
    pid = re.search(r"PID: (\d+) Comm: insmod", "\n".join(ins)).group(1)
    notes = [ln for ln in ins[i:] if ln.startswith("note: ")]
    assert notes == [f"note: insmod[{pid}] exited with irqs disabled",
                     f"note: insmod[{pid}] exited with preempt_count 1"]


# -- check_object: check_pad_bytes and the free pointer -------------------------------------
def test_object_padding_overwritten_reported_at_free(kernel):
    s = S.kmem_cache_create(kernel, "padc", 16, 0, LABF, None)
    x = S.kmem_cache_alloc(s, GFP)
    sl = slub(kernel).find_slab(x)
    kernel.vm.write(x + 40, b"\x41")                 # padding: x+32 .. x+48
    seq = next_seq(kernel)
    S.kmem_cache_free(s, x)
    out = log(kernel, seq)
    hp = kernel.printk_ctx.hash_pointer
    assert out[:4] == ["=" * 77, "BUG padc (Not tainted): Object padding overwritten", "-" * 77, ""]
    assert out[4] == f"0x{hp(x + 40)}-0x{hp(x + 40)} @offset={x + 40 - sl.base}. First byte 0x41 " \
                     f"instead of 0x5a"
    assert re.fullmatch(rf"Slab 0x{HP} objects=64 used=1 fp=0x{HP} flags=\S+", out[5])
    assert out[6:8] == [f"Object 0x{hp(x)} @offset={x - sl.base} fp=0x{'0' * 16}", ""]
    assert out[11] == f"Padding  {hp(x + 32)}: 5a 5a 5a 5a 5a 5a 5a 5a 41 5a 5a 5a 5a 5a 5a 5a  " \
                      f"ZZZZZZZZAZZZZZZZ"
    i = out.index(" dump_stack_lvl+0x44/0x5c")
    assert out[i + 1:i + 4] == [" check_bytes_and_report.cold+0x6d/0x97", " check_object+0x25d/0x280",
                                " free_to_partial_list+0x19b/0x4f0"]
    assert out[-1] == f"FIX padc: Restoring Object padding 0x{hp(x + 40)}-0x{hp(x + 40)}=0x5a"
    assert kernel.vm.read(x + 32, 16) == b"\x5a" * 16
    assert slub(kernel).is_free(s, x)                # check_pad_bytes cleans up; the free goes on
    assert check_kernel(kernel) == []


def test_padding_not_checked_without_poison(kernel):
    """6.1 calls check_pad_bytes only for SLAB_POISON caches (only they fill it with 0x5a)."""
    s = S.kmem_cache_create(kernel, "rzpad", 16, 0, S.SLAB_RED_ZONE | S.SLAB_CONSISTENCY_CHECKS, None)
    x = S.kmem_cache_alloc(s, GFP)
    seq = next_seq(kernel)
    kernel.vm.write(x + 24, b"\x41")                 # padding: x+24 .. x+32
    S.kmem_cache_free(s, x)
    assert not any(ln.startswith("BUG ") for ln in log(kernel, seq))


def test_freepointer_corrupt_at_alloc(kernel):
    s = S.kmem_cache_create(kernel, "fpc", 16, 0, LABF, None)
    S.kmem_cache_alloc(s, GFP)
    z = S.kmem_cache_alloc(s, GFP)
    S.kmem_cache_free(s, z)
    kernel.vm.write(z + 24, b"\x41" * 8)              # the free pointer, outside the object
    seq = next_seq(kernel)
    w = S.kmem_cache_alloc(s, GFP)
    out = log(kernel, seq)
    hp = kernel.printk_ctx.hash_pointer
    sl = slub(kernel).find_slab(z)
    assert out[:4] == ["=" * 77, "BUG fpc (Not tainted): Freepointer corrupt", "-" * 77, ""]
    m = re.fullmatch(rf"Slab 0x{HP} objects=64 used=2 fp=0x({HP}) flags=\S+", out[4])
    assert m and out[5] == f"Object 0x{hp(z)} @offset={z - sl.base} fp=0x{m.group(1)}"
    i = out.index(" dump_stack_lvl+0x44/0x5c")
    assert out[i + 1:i + 4] == [" object_err+0x8a/0xb6", " check_object+0x26c/0x280",
                                " alloc_debug_processing+0xa8/0x120"]
    assert out[-1] == "FIX fpc: Marking all objects used"
    assert w != z and w and slub(kernel).find_slab(w) is not sl
    assert get_freepointer(s, z) == 0    # zapped
    assert sl.inuse == sl.objects and check_kernel(kernel) == []


def test_freepointer_inside_allocated_object_not_checked(kernel):
    s = S.kmem_cache_create(kernel, "fpin", 64, 0, S.SLAB_RED_ZONE | S.SLAB_CONSISTENCY_CHECKS, None)
    x = S.kmem_cache_alloc(s, GFP)
    assert s.offset < s.inuse
    kernel.vm.write(x, b"\x41" * 64)                 # the object's data, free pointer included
    seq = next_seq(kernel)
    S.kmem_cache_free(s, x)
    assert not any(ln.startswith("BUG ") for ln in log(kernel, seq))
    assert slub(kernel).is_free(s, x) and check_kernel(kernel) == []


def test_freechain_corrupt_then_object_count(kernel):
    s = S.kmem_cache_create(kernel, "fch", 16, 0, LABF, None)
    a, b, c = (S.kmem_cache_alloc(s, GFP) for _ in range(3))
    S.kmem_cache_free(s, a)
    S.kmem_cache_free(s, b)
    kernel.vm.write(a + 24, b"\x41" * 8)              # a is free, behind b on the chain
    seq = next_seq(kernel)
    S.kmem_cache_free(s, c)
    out = log(kernel, seq)
    hp = kernel.printk_ctx.hash_pointer
    assert out[1] == "BUG fch (Not tainted): Freechain corrupt"
    assert out[5].startswith(f"Object 0x{hp(a)} @offset=")
    i = out.index(" object_err+0x8a/0xb6")
    assert out[i + 1:i + 3] == [" on_freelist.cold+0x2d/0x111", " free_to_partial_list+0x180/0x4f0"]
    j = out.index("BUG fch (Tainted: G    B             ): Wrong object count. Counter is 1 but "
                  "counted were 62")
    assert i < j and out[-1] == "FIX fch: Object count adjusted"
    sl = slub(kernel).find_slab(a)
    assert sl.freelist == [a, b, c] and sl.inuse == 61
    seq = next_seq(kernel)
    S.kmem_cache_destroy(kernel, s)
    assert sum(1 for ln in log(kernel, seq) if ln.startswith("Object 0x")) == 61
    assert check_kernel(kernel) == []


@pytest.mark.parametrize("flags", [0, S.SLAB_RED_ZONE | S.SLAB_CONSISTENCY_CHECKS])
def test_zalloc_zeroes_a_ctor_cache_without_init_on_alloc(flags):
    k = make_shell(append="init_on_alloc=0").kernel
    s = _ctor_cache(k, "zc", flags)
    for _ in range(3):                               # the slow path, then the per-cpu one
        x = S.kmem_cache_alloc(s, GFP | 0x100)
        assert k.vm.read(x, 32) == bytes(32)
        y = S.kmem_cache_alloc(s, GFP)
        assert k.vm.read(y, 32) == b"\x55" * 32


@pytest.mark.parametrize("flags", [0, S.SLAB_RED_ZONE | S.SLAB_CONSISTENCY_CHECKS])
def test_zalloc_never_zeroes_a_ctor_cache_with_init_on_alloc(kernel, flags):
    s = _ctor_cache(kernel, "zc1", flags)
    for _ in range(3):
        x = S.kmem_cache_alloc(s, GFP | 0x100)
        assert kernel.vm.read(x, 32) == b"\x55" * 32


# -- virt_to_cache ---------------------------------------------------------------------------
def test_kmem_cache_free_of_a_page_warns_in_virt_to_cache(kernel):
    s = S.kmem_cache_create(kernel, "vtc", 64, 0, 0, None)
    pfn = kernel.buddy.alloc(GFP, 0)
    addr = kernel.pfn_to_virt(pfn)
    seq = next_seq(kernel)
    S.kmem_cache_free(s, addr)
    out = log(kernel, seq)
    assert out[:3] == ["------------[ cut here ]------------", "virt_to_cache: Object is not a Slab page!",
                       "WARNING: CPU: 0 PID: 1 at mm/slab.h:627 kmem_cache_free+0x2c5/0x310"]
    seq = next_seq(kernel)
    S.kmem_cache_free(s, addr + 64)                  # WARN_ONCE
    assert not any("Object is not a Slab page" in ln for ln in log(kernel, seq))
    kernel.buddy.free(pfn, 0)
    assert check_kernel(kernel) == []
