"""kmsim check [--json] MODULE.py: the error-path explorer.

Run 0 loads and unloads the module on a fresh kernel (fixed seed, KASAN on) and
counts its allocation calls: each call the module's code makes into an allocator
(pages, slab and kmalloc, vmalloc, mempool) counts once, however many pages or
objects the allocator takes underneath.  Run k boots a fresh kernel again and
fails exactly the k-th call (every allocation inside it fails, as fault
injection with ``times``/``space`` would make the k-th call fail), then loads and
unloads the module.  A run is clean when init returned an error and left nothing
allocated, or init succeeded and rmmod left nothing; a leak, an Oops, a KASAN
report, a WARN, a soft lockup or a Bad page state is a finding, printed with the
module line of the call that failed.  Exit status 0 only when every run is clean.
"""
from __future__ import annotations

import argparse
import json
import linecache
import os
import re
import sys
from types import FrameType
from typing import Any

from .errors import ModuleError
from .kernel import Kernel
from .module import mod_strerror

__all__ = ["main", "check_module", "iter_runs", "choose_calls", "AllocCounter", "run_once",
           "format_runs", "format_head", "format_run", "format_tail"]

SEED = 1
# every call of a lab module; a module allocating in a long loop must not take hours
DEFAULT_MAX_RUNS = 500
APPEND = "kasan"
REPORT_RE = re.compile(r"^(BUG: |kernel BUG at |watchdog: BUG: |WARNING: |BUG [\w\-:() ]+: |"
                       r"general protection fault|Bad page state|kmsim: .*(host out of memory))")
TAINT_LINES = ("taints kernel.", "tainting kernel")
KIND_OF = [("BUG: KASAN", "kasan"), ("watchdog: BUG", "lockup"), ("WARNING:", "warning"),
           ("Bad page state", "bad-page"), ("kmsim:", "host-oom"), ("BUG ", "slab-corruption")]


# The allocators whose NULL (or None) result means "no memory" to the module.
ALLOC_API = {"kmalloc", "kzalloc", "kcalloc", "kmalloc_array", "krealloc", "kstrdup",
             "kmemdup", "kmem_cache_alloc", "kmem_cache_zalloc", "kmem_cache_create",
             "vmalloc", "vzalloc", "kvmalloc", "kvzalloc", "alloc_pages", "alloc_page",
             "__get_free_pages", "__get_free_page", "get_zeroed_page", "mempool_create",
             "mempool_alloc", "mempool_create_slab_pool", "mempool_create_kmalloc_pool",
             "mempool_create_page_pool"}


class AllocCounter:
    """A fault-injection predicate that counts the module's allocation calls and fails one.

    A call is identified by the frame of the API function the module called (the
    frame just inside the innermost module frame): every allocation made while
    that frame lives belongs to the same call.
    """

    def __init__(self, kernel, target: int = 0):
        self.k = kernel
        self.target = target
        self.n = 0
        self.sites: list[dict] = []
        self._last = None
        self.failed = False
        self.null_returned = False      # an allocator gave the module NULL after the failure

    def wrap_module(self, mod) -> None:
        """Load hook: watch what the module's allocator calls return to it (a failed
        allocation below mempool_alloc, served from the reserve, is not a NULL)."""
        for name in ALLOC_API & set(mod.namespace):
            fn = mod.namespace[name]
            if callable(fn):
                mod.namespace[name] = self._watch(fn)

    def _watch(self, fn):
        def watched(*args, **kwargs):
            r = fn(*args, **kwargs)
            if self.failed and not self.null_returned and (r is None or (type(r) is int and r == 0)):
                self.null_returned = fn.__name__
            return r
        watched.__name__ = fn.__name__
        return watched

    def __call__(self, kind: str, gfp: int, size: int) -> bool:
        k = self.k
        if k.current_owner == k.kernel_owner:
            return False
        api, modframe = self._api_frame()
        if api is None:
            return False
        if api is not self._last:
            self._last = api
            self.n += 1
            self.sites.append(_site(modframe))
        if self.n == self.target:
            self.failed = True
            return True
        return False

    def _api_frame(self):
        files = self.k.modules.module_files()
        f: FrameType | None = sys._getframe(2)
        inner = None
        while f is not None:
            if f.f_code.co_filename in files:
                return inner, f
            if f.f_globals.get("__name__", "") == "kmsim.module":
                return None, None
            inner = f
            f = f.f_back
        return None, None


def _site(frame) -> dict:
    path = frame.f_code.co_filename
    line = frame.f_lineno
    return {"file": os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path,
            "line": line, "function": frame.f_code.co_name,
            "source": linecache.getline(path, line).strip()}


def _site_text(site: dict | None) -> str:
    if not site:
        return "?"
    return f"{site['file']}:{site['line']}: {site['source']}"


def run_once(path: str, target: int) -> dict:  # noqa: C901 -- one run in order: boot, hooks, insmod, rmmod, verdict
    """Boot a fresh kernel, fail allocation call `target` (0: none), insmod and rmmod."""
    k = Kernel("x86_64", "1G", APPEND, seed=SEED)
    counter = AllocCounter(k, target)
    fi = k.faultinject
    if fi is not None:
        fi.extra.append(counter)
        fi.update_hooks()
    k.modules.load_hooks.append(counter.wrap_module)
    k.modules.output = lambda _stream, _text: None     # a module's print() is not part of the report
    seq = len(k.printk.visible())
    name = (os.path.splitext(os.path.basename(path))[0].replace("-", "_")
            if path.endswith((".py", ".c")) else path)
    findings: list[dict[str, Any]] = []
    run: dict[str, Any] = {"k": target, "init": None, "unloaded": False, "findings": findings}
    loaded = False
    try:
        k.modules.insmod(path, [])
        run["init"] = 0
        loaded = True
        if getattr(k.modules.modules.get(name), "init_returned_none", False):    # the loader's flag
            findings.append({"kind": "init-returned-none", "message": "init returned None (it fell "
                             "off its end): an init returns 0 or a negative errno"})
    except ModuleError as e:
        run["init"] = -e.errno if e.errno else e.message
        run["insmod_error"] = e.message
    owner = _module_owner(k, name)
    if loaded:
        try:
            k.modules.rmmod(name)
            run["unloaded"] = True
        except ModuleError as e:
            run["rmmod_error"] = e.message
            findings.append(_rmmod_finding(e.message))
    reasons = []
    for rec in k.printk.visible()[seq:]:
        text = getattr(rec, "text", str(rec))
        if text.startswith(f"{name}: ") and not text.endswith(TAINT_LINES):
            reasons.append(text)
        if REPORT_RE.match(text):
            kind = next((kd for pre, kd in KIND_OF if text.startswith(pre)), "oops")
            findings.append({"kind": kind, "message": text})
        elif text.startswith("KASAN: ") and findings and findings[-1]["message"].startswith(
                "general protection fault"):
            findings[-1]["message"] = text      # 'KASAN: null-ptr-deref in range [...]' says it
        elif text.startswith("kmsim: ") and findings and "stays loaded" not in text:
            findings[-1].setdefault("hints", []).append(text[7:])
    mod = k.modules.modules.get(name)
    if mod is not None and mod.stuck:
        run["stuck"] = True
    kl = k.kmemleak
    if kl is not None and owner is not None and (run["unloaded"] or not loaded):
        for cname in kl.leaked_caches(k.owners[owner].module) if k.owners[owner].module else []:
            findings.append({"kind": "leak", "message": f"cache {cname} was not destroyed"})
        left = kl.owned_by(owner)
        if left:
            total = sum(o.size for o in left)
            objs = [{"addr": f"{o.addr:#x}", "size": o.size, "kind": o.kind, "site": _obj_site(o)}
                    for o in left]
            findings.append({"kind": "leak", "message": f"left {len(left)} "
                             f"{'object' if len(left) == 1 else 'objects'} ({total} bytes) "
                             f"allocated", "objects": objs})
    if target == 0 and not loaded and not findings:
        findings.insert(0, {"kind": "load-failed", "message": f"insmod failed with no injected "
                            f"failure: {run.get('insmod_error') or _init_text(run)}"})
        if reasons:             # the loader's dmesg line says why (a SyntaxError and its line)
            findings[0]["hints"] = reasons
    if target and counter.failed and run["init"] == 0 and (findings or counter.null_returned):
        f: dict[str, Any] = {"kind": "success-despite-failure",
             "message": f"init returned 0 although allocation call {target} failed"}
        if counter.null_returned:
            f["hints"] = [f"{counter.null_returned}() returned NULL to the module and init went "
                          f"on: allocators return NULL, not an error pointer, so IS_ERR() does "
                          f"not see it; test the result with 'if (!ptr)' ('if not ptr:')"]
        findings.insert(0, f)
    run["calls"] = counter.n
    run["call_site"] = counter.sites[target - 1] if 0 < target <= len(counter.sites) else None
    run["sites"] = counter.sites
    run["reached"] = counter.failed or target == 0
    run["verdict"] = "findings" if findings else "clean"
    return run


def _rmmod_finding(message: str) -> dict:
    """A module that cannot be unloaded is a finding (it needs a reboot to go)."""
    f: dict[str, Any] = {"kind": "rmmod-failed", "message": message.splitlines()[-1]}
    if "Device or resource busy" in message:
        f["hints"] = ["the module has an init but no module_exit function: the kernel "
                      "refuses to unload it until the next reboot"]
    return f


def _obj_site(o) -> dict | None:
    if not o.site:
        return None
    path, line, fn = o.site
    rel = os.path.relpath(path)
    return {"file": rel if not rel.startswith("..") else path, "line": line, "function": fn,
            "source": linecache.getline(path, line).strip()}


def _module_owner(k, name: str) -> int | None:
    for o in reversed(k.owners):
        if o.kind == "module" and o.name == name:
            return o.id
    return None


def check_module(path: str, max_runs: int = 0) -> list[dict]:
    """Every run of the explorer: run 0 without failures, then one run per allocation call
    (at most `max_runs` of them when it is not 0, chosen by `choose_calls`)."""
    return list(iter_runs(path, max_runs))


def iter_runs(path: str, max_runs: int = 0):
    """The runs of `check_module`, one at a time (run 0 first, which has 'calls' and
    'tested', the calls that will be failed)."""
    base = run_once(path, 0)
    sites = base.pop("sites")
    base["tested"] = choose_calls(sites, max_runs)
    yield base
    for target in base["tested"]:
        run = run_once(path, target)
        if run["call_site"] is None and target <= len(sites):
            run["call_site"] = sites[target - 1]
        run.pop("sites", None)
        yield run


def choose_calls(sites: list[dict], max_runs: int = 0) -> list[int]:
    """The calls to fail (1-based), all of them unless there are more than `max_runs`.
    Then, in this order of priority: the first call of each source line, the last
    (a loop's end), the second (cleanup of one element), then the earliest others."""
    n = len(sites)
    if not max_runs or n <= max_runs:
        return list(range(1, n + 1))
    by_line: dict[tuple, list[int]] = {}
    for k, site in enumerate(sites, 1):
        by_line.setdefault((site["file"], site["line"]), []).append(k)
    lines = list(by_line.values())
    order = [c[0] for c in lines] + [c[-1] for c in lines] + [c[1] for c in lines if len(c) > 1]
    picked = list(dict.fromkeys(order + list(range(1, n + 1))))[:max_runs]
    return sorted(picked)


def _init_text(run: dict) -> str:
    init = run["init"]
    if init == 0:
        return "init returned 0"
    if isinstance(init, int):
        return f"init returned {init} ({mod_strerror(-init)})"
    if str(init).startswith("insmod: ERROR"):     # the loader refused the file itself
        return "insmod failed"
    return f"insmod failed: {init}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def format_head(path: str, base: dict) -> str:
    """The first line of the report: the calls counted by run 0 and the runs made."""
    calls = base["calls"]
    tested = base.get("tested", range(1, calls + 1))
    head = (f"kmsim check: {path}: {_plural(calls, 'allocation call')}, "
            f"{_plural(len(tested) + 1, 'run')}")
    if len(tested) < calls:
        head += (f" (failing {len(tested)} of the {calls} calls: the first, second and last of "
                 f"each line, then the earliest; --max-runs 0 fails every one)")
    return head


def format_run(run: dict) -> list[str]:
    """The lines of one run: its head, then 'clean' or its findings."""
    if run["k"] == 0:
        out = ["run 0: no injected failure"]
    else:
        out = [f"run {run['k']}: failing call {run['k']} at {_site_text(run['call_site'])}"]
    if run["verdict"] == "clean":
        tail = ("rmmod left nothing allocated" if run["init"] == 0 and run["unloaded"]
                else "nothing left allocated")
        return out + [f"  clean: {_init_text(run)}, {tail}"]
    out.append(f"  FINDINGS ({_init_text(run)}):")
    for f in run["findings"]:
        out.append(f"    {f['kind']}: {f['message']}")
        out += [f"      hint: {h}" for h in f.get("hints", [])]
        out += _object_lines(f.get("objects", []))
    return out


def _object_lines(objects: list[dict]) -> list[str]:
    """One line per allocation site and size: a loop's thousand leaked pages is one line."""
    groups: dict[tuple, int] = {}
    for o in objects:
        key = (o["size"], o["kind"], _site_text(o["site"]))
        groups[key] = groups.get(key, 0) + 1
    return [f"      {f'{n} objects of ' if n > 1 else ''}{size} bytes ({kind}) allocated at {site}"
            for (size, kind, site), n in groups.items()]


def format_tail(runs: list[dict]) -> str:
    """The last line: all clean, or how many runs had findings."""
    bad = sum(1 for r in runs if r["verdict"] != "clean")
    return f"kmsim check: {'all runs clean' if not bad else f'{bad} of {len(runs)} runs with findings'}"


def format_runs(path: str, runs: list[dict]) -> list[str]:
    """The text report: one block per run."""
    base = dict(runs[0])
    base.setdefault("tested", [r["k"] for r in runs[1:]])
    out = [format_head(path, base)]
    for run in runs:
        out += format_run(run)
    return out + [format_tail(runs)]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kmsim check", description="Fail each allocation call of a "
                                "module in turn and report leaks, Oopses and KASAN reports.")
    p.add_argument("--json", action="store_true", help="a JSON list of runs (for graders)")
    p.add_argument("--max-runs", type=_max_runs, default=DEFAULT_MAX_RUNS, metavar="N",
                   help=f"fail at most N of the calls (default {DEFAULT_MAX_RUNS}; 0: every one)")
    p.add_argument("module", help="the module's Python file")
    return p


def _max_runs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count: '{text}'") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: '{text}'")
    return n


def _file_error(path: str) -> str | None:
    """Why `path` cannot be checked (as open() says it), or None."""
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        return e.strerror or str(e)
    return "Is a directory" if os.path.isdir(path) else None


def main(argv: list[str] | None = None) -> int:
    """Entry point of `kmsim check [--json] [--max-runs N] MODULE.py`: status 0 when every
    run is clean, 1 with findings, 2 for a usage error, 130 when interrupted."""
    args = _parser().parse_args(argv)
    error = _file_error(args.module)
    if error:
        print(f"kmsim check: {args.module}: {error}", file=sys.stderr)
        if args.json:           # a grader parsing stdout still gets JSON
            print(json.dumps({"module": args.module, "calls": 0, "runs": [], "clean": False,
                              "error": error}, indent=2))
        return 2
    try:
        runs = _json_report(args) if args.json else _text_report(args)
    except KeyboardInterrupt:
        print("kmsim check: interrupted", file=sys.stderr)
        return 130
    return 0 if all(r["verdict"] == "clean" for r in runs) else 1


def _text_report(args) -> list[dict]:
    """Print the report run by run, as the runs finish."""
    runs: list[dict] = []
    for run in iter_runs(args.module, args.max_runs):
        if not runs:
            print(format_head(args.module, run), flush=True)
        runs.append(run)
        print("\n".join(format_run(run)), flush=True)
    print(format_tail(runs))
    return runs


def _json_report(args) -> list[dict]:
    runs = list(iter_runs(args.module, args.max_runs))
    tested = runs[0].pop("tested")
    calls = runs[0]["calls"]
    print(json.dumps({"module": args.module, "calls": calls, "runs": runs,
                      "clean": all(r["verdict"] == "clean" for r in runs),
                      "untested_calls": calls - len(tested)}, indent=2, default=str))
    return runs


_ALLOCATORS = ("alloc_pages", "alloc_page", "__get_free_pages", "__get_free_page",
               "get_zeroed_page", "kmalloc", "kzalloc", "kcalloc", "kmalloc_array", "krealloc",
               "kmem_cache_alloc", "kmem_cache_zalloc", "kmem_cache_create", "KMEM_CACHE",
               "kstrdup", "kmemdup", "vmalloc", "vzalloc", "kvmalloc", "kvzalloc",
               "mempool_create", "mempool_create_slab_pool", "mempool_create_kmalloc_pool",
               "mempool_create_page_pool", "mempool_alloc", "kmap", "page_address")


def is_err_hint(source: str, first_line: int, lineno: int) -> str | None:
    """The IS_ERR mistake behind a NULL dereference at `lineno`, if the function made it.

    Looks in the function's lines before the fault for ``NAME = allocator(...)``
    tested only with ``IS_ERR(NAME)`` (never with ``not NAME``, ``NAME is None``,
    ``IS_ERR_OR_NULL``), where NAME is used on the faulting line.
    """
    lines = source.splitlines()
    if not 0 < lineno <= len(lines):
        return None
    used = set(re.findall(r"[A-Za-z_]\w*", lines[lineno - 1]))
    assigned: dict[str, tuple[int, str]] = {}
    tested: dict[str, int] = {}
    for i in range(max(1, first_line), lineno):
        text = lines[i - 1].split("#", 1)[0]
        m = re.match(r"\s*([A-Za-z_]\w*)\s*=\s*([A-Za-z_]\w*)\s*\(", text)
        if m and m.group(2) in _ALLOCATORS:
            assigned[m.group(1)] = (i, m.group(2))
            tested.pop(m.group(1), None)
        for name in re.findall(r"\bIS_ERR\(\s*([A-Za-z_]\w*)\s*\)", text):
            tested.setdefault(name, i)
        for name in list(tested):
            if re.search(rf"\bnot\s+{name}\b|!\s*{name}\b|\b{name}\s+is\s+None|\b{name}\s*==\s*(0|None|NULL)"
                         rf"|IS_ERR_OR_NULL\(\s*{name}\s*\)", text):
                tested[name] = -1
    for name, (aline, alloc) in assigned.items():
        tline = tested.get(name, -1)
        if name in used and tline > 0:
            return (f"line {tline} tests {name} with IS_ERR only, but {alloc}() returns NULL on "
                    f"failure, not an error pointer: IS_ERR(NULL) is false, so line {lineno} used "
                    f"the NULL from line {aline}; test it with "
                    + (f"'if (!{name})'" if "#include" in source else f"'if not {name}:'"))
    return None
