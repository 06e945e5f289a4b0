"""The benchmark: ``python -m kmsim.bench [--quick] [--json]``.

Every figure is a rate measured in this run, and every rate is also given as a
ratio to the yardstick: the cost of two empty Python function calls, measured
alternately with the figure itself (this machine is shared and noisy: a ratio
to a yardstick taken minutes earlier would carry the noise of both moments).
Boot time and peak RSS are measured in a fresh subprocess per machine size.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from kmsim import bench as _self
from kmsim.kernel import Kernel
from kmsim.linux import gfp as L
from kmsim.linux import mempool as M
from kmsim.linux import slab as S
from kmsim.linux.printk import pr_info
from kmsim.linux.types import Struct, int_, unsigned_int

V = sys.modules["kmsim.linux.vmalloc"]   # the package's attribute of that name is the function

__all__ = ["main", "run", "PLAN", "RESULTS", "bench_module"]

# What kmsim/benchmod.py (the benchmark's kernel module) measures, and where its init puts
# the figures: {name: (seconds per pair, seconds per yardstick pair)}.
PLAN: dict = {}
RESULTS: dict = {}
MODULE_FIGURES = ("cache", "kmalloc", "order0", "mixed")


class Timing(float):
    """Seconds per iteration; ``yard`` is the yardstick measured alternately with it."""
    yard: float


def _f():
    pass


def _yard_loop(n: int) -> None:
    for _ in range(n):
        _f()
        _f()


def _once(fn, n: int) -> float:
    t = time.perf_counter()
    fn(n)
    return (time.perf_counter() - t) / n


def _best(fn, n: int, repeat: int = 5) -> Timing:
    """Best seconds per iteration of fn(n) over a few repeats, each next to a yardstick run."""
    best = yard = float("inf")
    for _ in range(repeat):
        yard = min(yard, _once(_yard_loop, 20_000))
        best = min(best, _once(fn, n))
    t = Timing(best)
    t.yard = yard
    return t


def yardstick(n: int) -> float:
    """Seconds for two empty Python calls."""
    return min(_once(_yard_loop, n) for _ in range(5))


def floor_pair(n: int) -> float:
    """The least an order-0 pair can cost here: a toy allocator that only pops a free list
    and keeps two struct page fields in numpy, with one check on free.  No zones,
    watermarks, pcp accounting, owners, zeroing or hooks."""
    import numpy as np
    flags = np.zeros(4096, np.uint32)
    refcount = np.zeros(4096, np.int32)
    cf, cr = memoryview(flags), memoryview(refcount)  # type: ignore[arg-type]  # numpy's stubs: an ndarray is a buffer
    free_list = list(range(1024, 2048))

    def alloc():
        pfn = free_list.pop()
        cf[pfn] = 0
        cr[pfn] = 1
        return pfn

    def free(pfn):
        if cr[pfn] > 0 and not cf[pfn]:
            cr[pfn] = 0
            cf[pfn] = 4
            free_list.append(pfn)

    def loop(n):
        for _ in range(n):
            free(alloc())
    return _best(loop, n)


def _empty_loop(n: int) -> float:
    def loop(n):
        for _ in range(n):
            pass
    return min(_once(loop, n) for _ in range(5))


def boot_probe(mem: str) -> dict:
    """Boot a machine in a subprocess: seconds and peak RSS in MB."""
    code = ("import time,resource;t=time.perf_counter();from kmsim.kernel import Kernel;"
            f"k=Kernel('x86_64','{mem}',seed=1);d=time.perf_counter()-t;"
            "print(d, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    secs, rss = out.stdout.split()
    return {"boot_s": float(secs), "peak_rss_mb": int(rss) / 1024}


def bench_buddy(mem: str, n: int) -> dict:
    """Order-0 and mixed-order alloc+free pairs through the allocator and the module API."""
    k = Kernel("x86_64", mem, seed=1)
    alloc, free = k.buddy.alloc, k.buddy.free

    def order0(n):
        for _ in range(n):
            free(alloc(0xcc0, 0), 0)

    orders = [i % 11 for i in range(1024)]

    def mixed(n):
        for i in range(n):
            o = orders[i & 1023]
            free(alloc(0xcc0, o), o)

    def api(n):
        g, f = L.__get_free_pages, L.free_pages
        for _ in range(n):
            f(g(0xcc0, 0), 0)

    dirty = k.phys.dirty

    def written(n):             # as if the page were written each time: cleared at every alloc
        for _ in range(n):
            pfn = alloc(0xcc0, 0)
            dirty[pfn] = 1
            free(pfn, 0)
    res = {"order0_pair_s": _best(order0, n), "mixed_pair_s": _best(mixed, max(n // 4, 1000)),
           "api_order0_pair_s": _best(api, n), "order0_written_pair_s": _best(written, n)}
    k.buddy.init_on_alloc = False        # the allocator alone, without zeroing the pages
    res["order0_nozero_pair_s"] = _best(order0, n)
    res["mixed_nozero_pair_s"] = _best(mixed, max(n // 4, 1000))
    return res


def bench_printk(n: int) -> dict:
    """Records per second through printk (formatting included)."""
    Kernel("x86_64", "64M", seed=1)

    def loop(n):
        for i in range(n):
            pr_info("bench: record %d at %p\n", i, 0xffff888000001000)
    return {"printk_record_s": _best(loop, n)}


def bench_slab(n: int) -> dict:
    """kmem_cache and kmalloc pairs; flatness with many live objects; typed field access."""
    out: dict = {}
    Kernel("x86_64", "1G", seed=1)
    plain = S.kmem_cache_create("bench_plain", 64, 0, 0, None)
    debug = S.kmem_cache_create("bench_debug", 64, 0, S.SLAB_POISON | S.SLAB_RED_ZONE, None)

    def pairs(cache):
        def loop(n):
            a, f = S.kmem_cache_alloc, S.kmem_cache_free
            for _ in range(n):
                f(cache, a(cache, 0xcc0))
        return loop
    out["cache_pair_s"] = _best(pairs(plain), n)
    out["cache_debug_pair_s"] = _best(pairs(debug), max(n // 4, 1000))
    sizes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]

    def kpairs(n):
        km, kf = S.kmalloc, S.kfree
        for i in range(n):
            kf(km(sizes[i % 13], 0xcc0))
    out["kmalloc_pair_s"] = _best(kpairs, n)
    live: list[int] = []
    for count in (1_000, 65_536, 1_000_000):
        while len(live) < count:
            live.append(S.kmem_cache_alloc(plain, 0xcc0))
        out[f"cache_pair_live_{count}_s"] = _best(pairs(plain), n)
    for p in live:
        S.kmem_cache_free(plain, p)

    class pt(Struct):
        _fields_ = [("x", int_), ("y", unsigned_int)]
    addr = S.kmalloc(64, 0xcc0)
    v = pt.at(addr)

    def field_rw(n):
        for i in range(n):
            v.x = i
            v.y = v.x
    out["field_rw_pair_s"] = _best(field_rw, n)
    return out


def bench_slab_nokmemleak(n: int) -> dict:
    """Cache and kmalloc pairs with kmemleak off: SLUB's fast paths alone."""
    Kernel("x86_64", "1G", "kmemleak=off", seed=1)
    c = S.kmem_cache_create("bench_fast", 64, 0, 0, None)

    def pairs(n):
        a, f = S.kmem_cache_alloc, S.kmem_cache_free
        for _ in range(n):
            f(c, a(c, 0xcc0))
    sizes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]

    def kpairs(n):
        km, kf = S.kmalloc, S.kfree
        for i in range(n):
            kf(km(sizes[i % 13], 0xcc0))
    return {"cache_pair_nokmemleak_s": _best(pairs, n), "kmalloc_pair_nokmemleak_s": _best(kpairs, n)}


def bench_vm(n: int) -> dict:
    """mempool pairs, vmalloc+vfree, and access through vmalloc vs the direct map."""
    out: dict = {}
    k = Kernel("x86_64", "1G", seed=1)
    cache = S.kmem_cache_create("bench_pool", 64, 0, 0, None)
    pool = M.mempool_create(10, M.mempool_alloc_slab, M.mempool_free_slab, cache)

    def mp(n):
        for _ in range(n):
            M.mempool_free(M.mempool_alloc(pool, 0xcc0), pool)
    out["mempool_pair_s"] = _best(mp, n)

    def vm1(n):
        for _ in range(n):
            V.vfree(V.vmalloc(4096))
    out["vmalloc_1page_pair_s"] = _best(vm1, max(n // 20, 200))

    def vm256(n):
        for _ in range(n):
            V.vfree(V.vmalloc(1 << 20))
    out["vmalloc_1mib_pair_s"] = _best(vm256, 50)
    va = V.vmalloc(1 << 16)
    da = S.kmalloc(4096, 0xcc0)
    vm = k.vm

    def rw(addr):
        def loop(n):
            r, w = vm.read_int, vm.write_int
            for i in range(n):
                w(addr + (i & 0xff0), 8, i)
                r(addr + (i & 0xff0), 8)
        return loop
    out["vmalloc_rw_pair_s"] = _best(rw(va), n)
    out["direct_rw_pair_s"] = _best(rw(da), n)
    return out


def _module_timing(pair: tuple[float, float]) -> Timing:
    t = Timing(pair[0])
    t.yard = pair[1]
    return t


def bench_module(mem: str = "1G", append: str = "", n: int = 20_000, repeat: int = 7,
                 figures=MODULE_FIGURES, live=(), kernel_context: bool = True) -> dict:
    """The pairs timed from inside a module's init (insmod of kmsim/benchmod.py), and
    beside them the same loops called from kernel code (``kernel_*``)."""
    from pathlib import Path

    k = Kernel("x86_64", mem, append, seed=1)
    path = str(Path(__file__).with_name("benchmod.py"))
    PLAN.clear()
    PLAN.update(n=n, repeat=repeat, figures=list(figures), live=list(live))
    RESULTS.clear()
    lines = k.modules.insmod(path)
    if "benchmod" not in k.modules.modules:
        raise RuntimeError("the benchmark module did not load: " + " ".join(lines))
    out = {f"module_{name}_pair_s": _module_timing(v) for name, v in RESULTS.items()}
    if kernel_context and figures:
        ns = k.modules.modules["benchmod"].namespace
        kres = ns["figures"](n, repeat, set(figures))
        out.update({f"kernel_{name}_pair_s": _module_timing(v) for name, v in kres.items()})
    k.modules.rmmod("benchmod")
    return out


C_TWIN = """#include <linux/module.h>
#include <linux/slab.h>

static int n;
module_param(n, int, 0444);

static int __init loop_init(void)
{
	int i;

	for (i = 0; i < n; i++) {
		int *p = kmalloc(64, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		*p = i;
		kfree(p);
	}
	return 0;
}

static void __exit loop_exit(void)
{
}

module_init(loop_init);
module_exit(loop_exit);
MODULE_LICENSE("GPL");
"""
PY_TWIN = """from kmsim.linux import *

n = 0
module_param("n", "int", 0o444)


def loop_init():
    for i in range(n):
        p = kmalloc(64, GFP_KERNEL)
        if not p:
            return -ENOMEM
        int_.at(p).value = i
        kfree(p)
    return 0


def loop_exit():
    pass


module_init(loop_init)
module_exit(loop_exit)
MODULE_LICENSE("GPL")
"""


def bench_c_twin(n: int, repeat: int = 3) -> dict:
    """The same kmalloc(64)/store/kfree loop in a module's init, written in C (kmsim/cc
    translates it) and in Python: seconds per iteration (insmod with n=N less insmod with
    n=0, so the load and the translation, cached after the first, are not counted)."""
    import tempfile
    from pathlib import Path

    out = {}
    with tempfile.TemporaryDirectory() as d:
        for ext, src in (("c", C_TWIN), ("py", PY_TWIN)):
            f = Path(d) / f"alloc_loop.{ext}"
            f.write_text(src)
            k = Kernel("x86_64", "1G", "", seed=1)
            k.modules.insmod(str(f), ["n=0"])            # the translation, cached from here on
            k.modules.rmmod("alloc_loop")
            best = float("inf")
            for _ in range(repeat):
                times = []
                for count in (0, n):
                    t = time.thread_time()
                    k.modules.insmod(str(f), [f"n={count}"])
                    times.append(time.thread_time() - t)
                    k.modules.rmmod("alloc_loop")
                per = max(1e-9, times[1] - times[0]) / n
                best = min(best, per)
            out[f"{ext}_loop_iteration_s"] = best
    out["c_over_python"] = out["c_loop_iteration_s"] / out["py_loop_iteration_s"]
    return out


def module_memory(count: int = 100_000, append: str = "") -> dict:
    """Host bytes per live kmalloc(64) object of a module (tracemalloc: SLUB, kmemleak,
    the int the module holds and its list slot)."""
    from pathlib import Path

    k = Kernel("x86_64", "1G", append, seed=1)
    PLAN.clear()
    PLAN.update(hold=(count, 64), tracemalloc=True)
    RESULTS.clear()
    k.modules.insmod(str(Path(__file__).with_name("benchmod.py")))
    return {"module_bytes_per_object": RESULTS["hold_bytes"] / count}


def module_rss_probe(count: int, append: str = "") -> dict:
    """Peak RSS (MB) of a process whose module holds count kmalloc(64) objects."""
    code = ("import resource,sys;from kmsim import bench;from kmsim.kernel import Kernel;"
            f"k=Kernel('x86_64','2G',{append!r},seed=1);bench.PLAN.update(hold=({count},64));"
            "import pathlib;k.modules.insmod(str(pathlib.Path(bench.__file__).with_name('benchmod.py')));"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {f"module_{count}_objects_rss_mb": int(out.stdout.split()[-1]) / 1024}


def bench_startup() -> dict:
    """Seconds from process start to a booted shell ready for its first prompt (1 GiB)."""
    code = ("from kmsim.kernel import Kernel;from kmsim.shell.core import Shell;"
            "s=Shell(lambda: Kernel('x86_64','1G'));"
            "from kmsim.shell.repl import Repl;Repl(s)._session();import time;print(time.time())")
    best = float("inf")
    for _ in range(3):
        t0 = time.time()        # wall clock, shared with the child: its exit is not counted
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        best = min(best, float(out.stdout.split()[-1]) - t0)
    return {"startup_to_prompt_s": best}


def fill_probe(mem: str) -> dict:
    """``kmsim --mem MEM -c 'insmod benchfill.py'``: a module allocating order-0 pages
    (GFP_KERNEL) until alloc_pages fails, with the default watchdog.  Wall seconds, peak
    RSS (MB) of that process, the pages it got and insmod's last line."""
    from pathlib import Path

    path = str(Path(__file__).with_name("benchfill.py"))
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "kmsim", "--mem", mem, "-c", f"insmod {path}; dmesg"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout is not None
    text = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    got = [ln for ln in text.splitlines() if "benchfill: " in ln]
    pages = int(got[-1].split("benchfill: ")[1].split()[0]) if got else -1
    shell_line = next((ln for ln in text.splitlines() if ln and ln[0] != "["), "")   # not a printk line
    return {"fill_wall_s": wall, "fill_cpu_s": ru.ru_utime + ru.ru_stime, "fill_rss_mb": ru.ru_maxrss / 1024,
            "fill_pages": pages, "fill_status": shell_line}


def run_big() -> dict:
    """The allocate-until-failure figures on 1, 4 and 16 GiB."""
    return {mem: fill_probe(mem) for mem in ("1G", "4G", "16G")}


def report_big(res: dict) -> list[str]:
    """The allocate-until-failure figures as text."""
    out = ["a module allocating order-0 pages (GFP_KERNEL) until alloc_pages fails, "
           "`kmsim --mem SIZE -c insmod` with the default watchdog (target on 16G: <= 12 s, <= 1 GB):"]
    for mem, r in res.items():
        out.append(f"  {mem:>4}: {r['fill_pages']:>9,} pages, {r['fill_wall_s']:6.2f} s wall "
                   f"({r['fill_cpu_s']:.2f} s CPU), peak RSS {r['fill_rss_mb']:.0f} MB, "
                   f"insmod: {r['fill_status']}")
    return out


# Issue 12's targets for the module-context pairs (multiples of the yardstick).
MODULE_TARGETS = {"cache": 8, "kmalloc": 9, "order0": 12, "mixed": 30}
MODULE_LABELS = {"cache": "kmem_cache_alloc+free, 64 B cache", "kmalloc": "kmalloc(64)+kfree",
                 "order0": "alloc_pages+__free_pages, order 0", "mixed": "the same, orders 0-10 mixed"}


def run_module(quick: bool = False, append: str = "") -> dict:
    """The figures from inside module code (kmemleak on, as by default)."""
    n, repeat = (5_000, 5) if quick else (20_000, 9)
    res: dict = {"1G": bench_module("1G", append, n, repeat)}
    for mem in ("64M", "16G"):
        res[mem] = bench_module(mem, append, n, repeat, figures=("order0", "mixed"), kernel_context=False)
    res["live"] = bench_module("1G", append, n, repeat, figures=(), kernel_context=False,
                               live=(1, 1_000) if quick else (1, 1_000, 1_000_000))
    res.update(module_memory(20_000 if quick else 100_000, append))
    if not quick:
        res.update(module_rss_probe(3_000_000, append))
    return res


def report_module(res: dict) -> list[str]:
    """The module-context figures as text."""
    r = res["1G"]
    out = ["from inside a module's init (kmemleak on; x = multiple of two empty calls with the "
           "same arguments, thread CPU time, medians):",
           f"  {'pair':<40} {'module':>8} {'kernel':>8} {'mod/kern':>8} {'target':>7} {'module pairs/s':>15}"]
    for name, label in MODULE_LABELS.items():
        mk, kk = f"module_{name}_pair_x", f"kernel_{name}_pair_x"
        if mk not in r:
            continue
        kx = r.get(kk, float("nan"))
        rate = 1 / r[f"module_{name}_pair_s"]          # thread CPU time
        out.append(f"  {label:<40} {r[mk]:8.2f} {kx:8.2f} {r[mk] / kx:8.2f} {MODULE_TARGETS[name]:>7} "
                   f"{rate:>15,.0f}")
    for name in ("order0", "mixed"):
        key = f"module_{name}_pair_x"
        out.append(f"  {name} pair 64M / 1G / 16G: {res['64M'][key]:.2f} / {r[key]:.2f} / "
                   f"{res['16G'][key]:.2f} (16G/64M {res['16G'][key] / res['64M'][key]:.2f})")
    lv = {k: v for k, v in res["live"].items() if k.startswith("module_cache_live_") and k.endswith("_x")}
    if lv:
        counts = " / ".join(f"{int(k.split('_')[3]):,}" for k in lv)
        out.append(f"  cache pair with {counts} live objects: " + " / ".join(f"{v:.2f}" for v in lv.values()))
    out.append(f"  host bytes per live kmalloc(64) object of a module: {res['module_bytes_per_object']:.0f} "
               f"(tracemalloc; the module's int and list slot included)")
    for key, v in res.items():
        if key.endswith("_objects_rss_mb"):
            out.append(f"  peak RSS with {int(key.split('_')[1]):,} live kmalloc objects: {v:.0f} MB")
    return out


def run(quick: bool = False) -> dict:
    """All figures, as a dict."""
    n = 20_000 if quick else 100_000
    # The subprocess figures first: a child's ru_maxrss starts at its parent's RSS at fork,
    # and the module-context part leaves this process holding hundreds of MB.
    boots = {mem: boot_probe(mem) for mem in ("64M", "1G", "16G")}
    startup = bench_startup()
    res: dict = {"module": run_module(quick), "yardstick_s": yardstick(n * 2),
                 "empty_loop_s": _empty_loop(n * 2), "floor_pair_s": floor_pair(n * 2)}
    for mem, boot in boots.items():
        res[mem] = boot
        res[mem].update(bench_buddy(mem, n))
    res.update(bench_printk(n // 5))
    res.update(bench_slab(n // (4 if quick else 1)))
    res.update(bench_slab_nokmemleak(n))
    res.update(bench_vm(n // 4))
    res.update(startup)
    res["c_twin"] = bench_c_twin(n // 20)
    _add_ratios(res)
    return res


def _add_ratios(res: dict) -> None:
    """Beside every Timing ``K``, ``K_x``: its multiple of the yardstick measured with it."""
    for key, v in list(res.items()):
        if isinstance(v, dict):
            _add_ratios(v)
        elif isinstance(v, Timing):
            res[key[:-2] + "_x" if key.endswith("_s") else key + "_x"] = v / v.yard


def _x(key: str) -> str:
    return key[:-2] + "_x"


def _line(name: str, res: dict, key: str) -> str:
    secs = res[key]
    return f"  {name:<44} {1 / secs:>12,.0f}/s  {res[_x(key)]:6.2f}x yardstick"


def report(res: dict) -> str:
    """The figures as text."""
    y = res["yardstick_s"]
    out = report_module(res["module"]) if "module" in res else []
    out.append(f"yardstick (two empty Python calls): {1 / y:,.0f}/s ({y * 1e9:.0f} ns); each ratio "
               f"below is to a yardstick measured alternately with that figure (kernel context)")
    if "floor_pair_s" in res:
        out.append(_line("floor: toy allocator pair (pop/append, 2 numpy fields)", res, "floor_pair_s"))
    for mem in ("64M", "1G", "16G"):
        r = res[mem]
        out.append(f"{mem}: boot {r['boot_s']:.3f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
        out.append(_line("order-0 alloc+free pair (buddy)", r, "order0_pair_s"))
        out.append(_line("mixed orders 0-10 pair (buddy)", r, "mixed_pair_s"))
        out.append(_line("__get_free_pages+free_pages pair (module API)", r, "api_order0_pair_s"))
        out.append(_line("order-0 pair, page written each time (cleared)", r, "order0_written_pair_s"))
        out.append(_line("order-0 pair, init_on_alloc=0", r, "order0_nozero_pair_s"))
        out.append(_line("mixed orders pair, init_on_alloc=0", r, "mixed_nozero_pair_s"))
    out.append(f"per-op cost 16G / 64M (ratio of the multiples): "
               f"order-0 {res['16G']['order0_pair_x'] / res['64M']['order0_pair_x']:.2f}, "
               f"mixed {res['16G']['mixed_pair_x'] / res['64M']['mixed_pair_x']:.2f}")
    names = [("printk_record_s", "printk record"), ("cache_pair_s", "kmem_cache_alloc+free (no debug)"),
             ("cache_debug_pair_s", "kmem_cache_alloc+free (POISON|RED_ZONE)"),
             ("kmalloc_pair_s", "kmalloc+kfree over the size classes"),
             ("cache_pair_nokmemleak_s", "kmem_cache pair, kmemleak=off"),
             ("kmalloc_pair_nokmemleak_s", "kmalloc pair, kmemleak=off"),
             ("cache_pair_live_1000_s", "cache pair with 1,000 live objects"),
             ("cache_pair_live_65536_s", "cache pair with 65,536 live objects"),
             ("cache_pair_live_1000000_s", "cache pair with 1,000,000 live objects"),
             ("field_rw_pair_s", "typed field write+read"), ("mempool_pair_s", "mempool_alloc+free"),
             ("vmalloc_1page_pair_s", "vmalloc+vfree 1 page"), ("vmalloc_1mib_pair_s", "vmalloc+vfree 1 MiB"),
             ("vmalloc_rw_pair_s", "8-byte write+read via vmalloc"),
             ("direct_rw_pair_s", "8-byte write+read via direct map")]
    for key, label in names:
        if key in res:
            out.append(_line(label, res, key))
    if "vmalloc_rw_pair_s" in res:
        ratio = res["vmalloc_rw_pair_x"] / res["direct_rw_pair_x"]
        out.append(f"vmalloc access / direct-map access: {ratio:.2f}x")
    if "c_twin" in res:
        c = res["c_twin"]
        out.append(f"C module loop (kmalloc(64), store, kfree): {1 / c['c_loop_iteration_s']:,.0f}/s, "
                   f"{c['c_over_python']:.2f}x its Python twin's time")
    if "startup_to_prompt_s" in res:
        out.append(f"startup to first prompt (1 GiB machine): {res['startup_to_prompt_s']:.3f} s")
    return "\n".join(out)


def main(argv=None) -> int:
    """Run the benchmark and print the figures."""
    p = argparse.ArgumentParser(prog="python -m kmsim.bench")
    p.add_argument("--quick", action="store_true", help="fewer iterations")
    p.add_argument("--json", action="store_true")
    p.add_argument("--module-only", action="store_true", help="only the figures from inside a module")
    p.add_argument("--append", default="", help="kernel command line of the module-context machines")
    p.add_argument("--big", action="store_true",
                   help="only allocate-until-failure on 1, 4 and 16 GiB (wall time and peak RSS)")
    a = p.parse_args(argv)
    if a.big:
        big = run_big()
        print(json.dumps(big, indent=2) if a.json else "\n".join(report_big(big)))
        return 0
    if a.module_only:
        res = {"module": run_module(a.quick, a.append)}
        _add_ratios(res)
        print(json.dumps(res, indent=2) if a.json else "\n".join(report_module(res["module"])))
        return 0
    res = run(a.quick)
    print(json.dumps(res, indent=2) if a.json else report(res))
    return 0


if __name__ == "__main__":       # the module's PLAN and RESULTS are kmsim.bench's, not __main__'s
    raise SystemExit(_self.main())

del resource
