"""kmsim check [--json] [-j N] PATH...: the error-path explorer and its command line.

Run 0 loads and unloads the module on a fresh kernel (fixed seed, KASAN on) and
counts its allocation calls: each call the module's code makes into an allocator
(pages, slab and kmalloc, vmalloc, mempool, and the constructors kmem_cache_create
and mempool_create*) counts once, however many pages or objects the allocator takes
underneath.  Run k boots a fresh kernel again and fails exactly the k-th call (every
allocation inside it fails, as fault injection with ``times``/``space`` would make
the k-th call fail), then loads and unloads the module.  By default the calls failed
are the first and second made at each call site (`choose_sites`).  A run is clean
when init returned an error and left nothing allocated, or init succeeded and rmmod
left nothing; a leak, an Oops, a KASAN report, a WARN, a soft lockup, a Bad page
state, a missing licence or an init returning None is a finding, printed with the
whole statement of the call that failed.  Where the host can fork, the kernel is
booted once and each run is made in a child forked from it (`Forker`).

`main` grades every PATH in its own process (kmsim.check_pool, kmsim.check_worker,
kmsim.check_sandbox); `check_module` runs the explorer in this process.  Exit status
0 only when every submission is clean, 1 with findings, 2 for a usage error.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import json
import linecache
import math
import os
import pickle
import re
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from .errors import ModuleError
from .kernel import Kernel, set_current_kernel
from .loader_hints import is_err_hint, last_line
from .module import GPL_COMPATIBLE, mod_strerror
from .version import __version__

__all__ = ["main", "check_module", "iter_runs", "next_run", "choose_calls", "choose_sites",
           "choose_tested", "AllocCounter", "run_once", "new_run", "finding", "statement_text",
           "format_runs", "format_head", "format_run", "format_tail", "format_submission",
           "format_summary", "report_document", "FINDING_KINDS", "SCHEMA_VERSION", "is_err_hint"]

SEED = 1
DEFAULT_MAX_RUNS = 500      # a cap: a module with hundreds of call sites must not take hours
APPEND = "kasan"
REPORT_RE = re.compile(r"^(BUG: |kernel BUG at |watchdog: BUG: |WARNING: |BUG [\w\-:() ]+: |"
                       r"general protection fault|Bad page state|kmsim: .*(host out of memory))")
TAINT_LINES = ("taints kernel.", "tainting kernel")
KIND_OF = [("BUG: KASAN", "kasan"), ("watchdog: BUG", "lockup"), ("WARNING:", "warning"),
           ("BUG: Bad page state", "bad-page"), ("kmsim:", "host-oom"), ("BUG ", "slab-corruption")]


# The allocators whose NULL (or None) result means "no memory" to the module.
ALLOC_API = {"kmalloc", "kzalloc", "kcalloc", "kmalloc_array", "krealloc", "kstrdup",
             "kmemdup", "kmem_cache_alloc", "kmem_cache_zalloc", "kmem_cache_create",
             "vmalloc", "vzalloc", "kvmalloc", "kvzalloc", "alloc_pages", "alloc_page",
             "__get_free_pages", "__get_free_page", "get_zeroed_page", "mempool_create",
             "mempool_alloc", "mempool_create_slab_pool", "mempool_create_kmalloc_pool",
             "mempool_create_page_pool", "mempool_create_node", "KMEM_CACHE"}
# Constructors of allocator objects: they may allocate nothing the fault injection sees,
# so check fails them itself (they return NULL on failure, as in 6.1).
CREATE_API = {"kmem_cache_create", "KMEM_CACHE", "mempool_create", "mempool_create_node",
              "mempool_create_slab_pool", "mempool_create_kmalloc_pool", "mempool_create_page_pool"}


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
        self.null_returned: str | bool = False  # an allocator gave the module NULL after the failure
        self.license: str | None = None
        self.hooked = False                     # the module's file ran: its licence is known
        self.null_site: dict | None = None
        self.null_sites: set[tuple[str, int]] = set()       # where the module got a NULL
        # where run 0 got a NULL with no failure injected: a loop that allocates until
        # memory runs out tests the result there, so a NULL at that line is expected
        self.expected_null: frozenset = frozenset()
        self.init_none: dict | None = None      # the init function, when it returned None
        self.module = None

    def wrap_module(self, mod) -> None:
        """Load hook: watch what the module's allocator calls return to it (a failed
        allocation below mempool_alloc, served from the reserve, is not a NULL), fail the
        constructors itself, and note the licence and what init returns."""
        for name in ALLOC_API & set(mod.namespace):
            fn = mod.namespace[name]
            if callable(fn):
                mod.namespace[name] = self._watch(fn, name in CREATE_API)
        self.hooked = True
        self.license = mod.license
        self.module = mod

    def _watch(self, fn, create: bool):
        def watched(*args, **kwargs):
            failed = create and self._count(sys._getframe(0), sys._getframe(1))
            r = None if failed else fn(*args, **kwargs)     # a failed constructor returns NULL
            if r is None or (type(r) is int and r == 0):
                caller = sys._getframe(1)
                where = (caller.f_code.co_filename, caller.f_lineno)
                if self.failed and not self.null_returned and where not in self.expected_null:
                    self.null_returned = fn.__name__
                    self.null_site = _site(caller)
                self.null_sites.add(where)
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
        return self._count(api, modframe)

    def note_init_none(self) -> None:
        """After insmod: the loader's flag for an init that fell off its end, with the line."""
        mod = self.module
        if mod is None or not mod.init_returned_none or self.init_none:
            return
        code = getattr(mod.init_fn, "__code__", None)
        site = _make_site(code.co_filename, last_line(mod.init_fn), code.co_name) if code else None
        self.init_none = {"function": getattr(mod.init_fn, "__name__", "init"), "site": site}

    def _count(self, api, modframe) -> bool:
        """Count the call of frame `api` (made at `modframe`) once; True to fail it."""
        if api is not self._last:
            self._last = api
            self.n += 1
            self.sites.append(_site(modframe))
            if self.n == self.target:
                self.failed = True
                return True
        return self.n == self.target and self.failed and api is self._last

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
    return _make_site(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _make_site(path: str, line: int, function: str) -> dict:
    """A call site as reports give it: file (relative when below the current folder),
    line, function and the whole statement at that line."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = path
    return {"file": rel if not rel.startswith("..") else path, "line": line, "function": function,
            "source": statement_text(path, line)}


_STATEMENTS: dict[str, list[tuple[int, int]]] = {}


def _statement_spans(path: str) -> list[tuple[int, int]]:
    """(first line, last line) of every simple statement of a file and of every compound
    statement's header, parsed once per file."""
    spans = _STATEMENTS.get(path)
    if spans is None:
        spans = []
        try:
            tree = ast.parse("".join(linecache.getlines(path)))
        except (SyntaxError, ValueError):
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.stmt):
                end = node.end_lineno or node.lineno
                body = getattr(node, "body", None)
                if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                    end = max(node.lineno, body[0].lineno - 1)      # a header: 'if not (p := ...):'
                spans.append((node.lineno, end))
        _STATEMENTS[path] = spans
    return spans


def _strip_c_comment(text: str) -> str:
    """`text` without a // or /* comment that starts outside a string or char literal."""
    quote = None
    for i, c in enumerate(text):
        if quote:
            if c == quote and text[i - 1] != "\\":
                quote = None
        elif c in "\"'":
            quote = c
        elif text.startswith(("//", "/*"), i):
            return text[:i]
    return text


def _c_statement(path: str, line: int) -> str:
    """A C statement from `line` on: its lines up to the ';' (or '{') that ends it with its
    parentheses balanced (at most 12 lines), joined into one."""
    text, depth = "", 0
    for n in range(line, line + 12):
        part = _strip_c_comment(linecache.getline(path, n)).strip()
        if not part and n > line:
            break
        if text and part and not text.endswith(("(", "[")) and not part.startswith((")", "]")):
            text += " "
        text += part
        depth += part.count("(") - part.count(")")
        if depth <= 0 and text.endswith((";", "{", "}")):
            break
    return text


def statement_text(path: str, line: int) -> str:
    """The statement of `path` that contains `line`, its physical lines joined into one
    (a call spanning two lines is quoted whole, as the student wrote it)."""
    if not path.endswith(".py") and path.endswith((".c", ".h")):
        return _c_statement(path, line)
    best = None
    for first, last in _statement_spans(path):
        if first <= line <= last and (best is None or last - first < best[1] - best[0]):
            best = (first, last)
    first, last = best or (line, line)
    text = ""
    for n in range(first, last + 1):
        part = linecache.getline(path, n).strip()
        if "#" in part and "'" not in part and '"' not in part:
            part = part.split("#", 1)[0].rstrip()
        if text and part and not text.endswith(("(", "[", "{")) and not part.startswith((")", "]", "}")):
            text += " "
        text += part
    return text


def _site_text(site: dict | None) -> str:
    if not site:
        return "?"
    return f"{site['file']}:{site['line']}: {site['source']}"


def boot_kernel() -> Kernel:
    """The fresh kernel every run starts from."""
    return Kernel("x86_64", "1G", APPEND, seed=SEED)


def run_once(path: str, target: int, expected_null=frozenset(), kernel: Kernel | None = None) -> dict:
    """Boot a fresh kernel, fail allocation call `target` (0: none), insmod and rmmod.
    `expected_null`: run 0's 'null_sites', where NULL comes without an injected failure.
    `kernel`: a fresh `boot_kernel()` to use instead (a Forker's, in a child)."""
    if kernel is None:
        k = boot_kernel()
    else:
        k = kernel
        set_current_kernel(k)            # what its boot did
    counter = AllocCounter(k, target)
    counter.expected_null = frozenset(tuple(x) for x in expected_null)
    fi: Any = k.faultinject
    if fi is not None:
        fi.extra.append(counter)
        fi.update_hooks()
    k.modules.load_hooks.append(counter.wrap_module)
    k.modules.output = lambda _stream, _text: None     # a module's print() is not part of the report
    seq = len(k.printk.visible())
    name = os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    run = new_run(target)
    findings = run["findings"]
    loaded = False
    try:
        k.modules.insmod(path, [])
        run["init"] = 0
        loaded = True
        counter.note_init_none()
    except ModuleError as e:
        if e.errno:
            run["init"] = -e.errno
        elif e.status in OOPS_STATUS:           # insmod died: the Oops kind, not an init value
            run["oops"] = e.message
        run["insmod_error"] = e.message
    owner = _module_owner(k, name)
    if loaded:
        try:
            k.modules.rmmod(name)
            run["unloaded"] = True
        except ModuleError as e:
            run["rmmod_error"] = e.message
            findings.append(_rmmod_finding(e.message))
    reasons = _log_findings(k, seq, name, findings)
    mod = k.modules.modules.get(name)
    run["stuck"] = bool(mod is not None and mod.stuck)
    if owner is not None and (run["unloaded"] or not loaded):
        findings += _leak_findings(k, owner)
    if target == 0 and not loaded and not findings:
        why = (run["insmod_error"] or _init_text(run)).splitlines()
        findings.insert(0, finding("load-failed", f"insmod failed with no injected failure: {why[-1]}",
                                   reasons + [w.removeprefix("kmsim: ") for w in why[:-1]]))
    if target and counter.failed and run["init"] == 0 and (findings or counter.null_returned):
        hints = []
        if counter.null_returned:
            hints = [f"{counter.null_returned}() returned NULL to the module and init went "
                     f"on: allocators return NULL, not an error pointer, so IS_ERR() does "
                     f"not see it; test the result with 'if (!ptr)' ('if not ptr:')"]
        findings.insert(0, finding("success-despite-failure",
                                   f"init returned 0 although allocation call {target} failed", hints))
    if counter.null_returned and any(f["kind"] in UNCHECKED_AFTER for f in findings):
        site = counter.null_site
        findings.append(finding("unchecked-null", f"{counter.null_returned}() returned NULL at "
                                f"{_site_text(site)} and the module went on as if it had memory",
                                site=site))
    findings += _module_findings(counter, target)
    run["calls"] = counter.n
    run["call_site"] = counter.sites[target - 1] if 0 < target <= len(counter.sites) else None
    run["sites"] = counter.sites
    run["null_sites"] = sorted(counter.null_sites)
    run["reached"] = counter.failed or target == 0
    run["verdict"] = "findings" if findings else "clean"
    return run


UNCHECKED_AFTER = ("oops", "kasan", "success-despite-failure", "slab-corruption", "bad-page")
# Every kind of finding (docs/check-schema.json lists the same).
FINDING_KINDS = ("leak", "cache-leak", "oops", "kasan", "lockup", "warning", "bad-page", "host-oom",
                 "slab-corruption", "load-failed", "success-despite-failure", "unchecked-null",
                 "rmmod-failed", "no-license", "non-gpl-license", "init-returned-none", "refused",
                 "cpu-limit", "wall-limit", "memory-limit", "output-limit", "crash", "exit",
                 "kmsim-error")
OOPS_STATUS = (137, 139, 130)       # insmod killed (Killed), segfaulted (Oops), interrupted
MAX_OBJECTS = 1000      # leaked objects listed in one finding (a loop can leak a million)


def new_run(k: int) -> dict:
    """A run with every field of the report's schema at its neutral value."""
    return {"k": k, "init": None, "oops": None, "insmod_error": None, "unloaded": False,
            "rmmod_error": None, "stuck": False, "calls": 0, "call_site": None, "reached": False,
            "verdict": "clean", "findings": []}


def finding(kind: str, message: str, hints: list[str] | None = None, site: dict | None = None,
            objects: list[dict] | None = None) -> dict:
    """One finding, every field present (the schema's shape)."""
    return {"kind": kind, "message": message, "hints": list(hints or []), "site": site,
            "objects": list(objects or [])}


def _log_findings(k, seq: int, name: str, findings: list[dict]) -> list[str]:
    """Findings from the kernel log since record `seq` (reports, Oopses); returns the
    module's own lines (a load failure's reason)."""
    reasons = []
    for rec in k.printk.visible()[seq:]:
        text = getattr(rec, "text", str(rec))
        if text.startswith(f"{name}: ") and not text.endswith(TAINT_LINES):
            reasons.append(text)
        cache = re.match(rf"kmsim: {re.escape(name)} did not destroy its cache '(.*)'", text)
        if cache:               # kmemleak's unload hook saw it
            findings.append(finding("cache-leak", f"cache {cache.group(1)} was not destroyed",
                                    ["kmem_cache_destroy() is missing from the exit path"]))
        elif REPORT_RE.match(text):
            kind = next((kd for pre, kd in KIND_OF if text.startswith(pre)), "oops")
            findings.append(finding(kind, text))
        elif text.startswith("KASAN: ") and findings and findings[-1]["message"].startswith(
                "general protection fault"):
            findings[-1]["message"] = text      # 'KASAN: null-ptr-deref in range [...]' says it
        elif text.startswith("kmsim: ") and findings and "stays loaded" not in text \
                and "returned None: an init returns" not in text:     # (its own finding)
            findings[-1]["hints"].append(text[7:])
    return reasons


def _leak_findings(k, owner: int) -> list[dict]:
    """Caches and objects the module left behind (kmemleak's view of its owner)."""
    kl = k.kmemleak
    if kl is None:
        return []
    out = []
    module = k.owners[owner].module
    for cname in kl.leaked_caches(module) if module else []:
        out.append(finding("cache-leak", f"cache {cname} was not destroyed"))
    left = kl.owned_by(owner)
    if left:
        total = sum(o.size for o in left)
        objs = [{"addr": f"{o.addr:#x}", "size": o.size, "kind": o.kind, "site": _obj_site(o)}
                for o in left[:MAX_OBJECTS]]
        hints = [f"the first {MAX_OBJECTS} are listed"] if len(left) > MAX_OBJECTS else []
        out.append(finding("leak", f"left {len(left)} {'object' if len(left) == 1 else 'objects'} "
                           f"({total} bytes) allocated", hints, objects=objs))
    return out


def _module_findings(counter: AllocCounter, target: int) -> list[dict]:
    """What the module declares rather than does: its licence (run 0), an init that
    returns None."""
    out = []
    loaded = counter.hooked
    if target == 0 and loaded and counter.license is None:
        out.append(finding("no-license", "no MODULE_LICENSE: the kernel logs \"module license "
                           "'unspecified' taints kernel.\" and refuses the module GPL-only symbols",
                           ["add MODULE_LICENSE(\"GPL\") at the end of the module"]))
    elif target == 0 and loaded and counter.license not in GPL_COMPATIBLE:
        out.append(finding("non-gpl-license", f"MODULE_LICENSE(\"{counter.license}\") is not "
                           f"GPL-compatible: the module taints the kernel (P)"))
    if counter.init_none is not None:
        fn = counter.init_none["function"]
        out.append(finding("init-returned-none", f"{fn}() returned None: an init function returns 0 "
                           f"or a negative errno (in C, falling off its end returns garbage)",
                           [f"end {fn}() with 'return 0' and every error path with "
                            f"'return -ENOMEM' (or another errno)"], site=counter.init_none["site"]))
    return out


def _rmmod_finding(message: str) -> dict:
    """A module that cannot be unloaded is a finding (it needs a reboot to go)."""
    f = finding("rmmod-failed", message.splitlines()[-1])
    if "Device or resource busy" in message:
        f["hints"] = ["the module has an init but no module_exit function: the kernel "
                      "refuses to unload it until the next reboot"]
    return f


def _obj_site(o) -> dict | None:
    if not o.site:
        return None
    path, line, fn = o.site
    return _make_site(path, line, fn)


def _module_owner(k, name: str) -> int | None:
    for o in reversed(k.owners):
        if o.kind == "module" and o.name == name:
            return o.id
    return None


def check_module(path: str, max_runs: int = 0, all_calls: bool = False) -> list[dict]:
    """Every run of the explorer, in this process: run 0 without failures, then one run per
    call chosen by `choose_sites` (`choose_calls` with all_calls), at most `max_runs` of
    them when it is not 0."""
    return list(iter_runs(path, max_runs, all_calls))


# -- runs from one boot ---------------------------------------------------------------
# Every run of a check starts from the same fresh kernel, and a seeded boot is
# deterministic: booting it once and forking a child per run gives each run the kernel
# it would have booted, copy-on-write, for the price of a fork instead of a boot (the
# KASAN boot is about three quarters of a run of a lab module).  The child hands its
# result back through a pipe (pickled).  A child that raises or dies hands back nothing:
# the run is then made in this process on a kernel booted for it, as without forks, so
# exceptions and crashes behave as they did.  Where os.fork does not exist every run boots.

def can_fork() -> bool:
    """True where runs can be forked (os.fork exists)."""
    return hasattr(os, "fork")


class Forker:
    """The pristine kernel of one check, and the runs made from it in forked children.

    ``boot()`` makes the kernel, the first time a run needs it.  check_worker gives the
    rest: ``cpu``, the CPU seconds of RLIMIT_CPU it set for all the runs (RLIMIT_CPU
    counts each process's own time, so each child may use what this process and the
    children before it have not); ``collect()``, run last in each child, and what it
    returns is ``collected`` after the call (the sandbox's refusals); ``on_death(status)``
    runs when a child handed back nothing."""

    def __init__(self, boot: Callable[[], Any], cpu: int = 0, collect: Callable[[], list] | None = None,
                 on_death: Callable[[int], None] | None = None):
        self.boot = boot
        self.cpu = cpu
        self.collect = collect
        self.on_death = on_death
        self.kernel: Any = None
        self.collected: list = []

    def call(self, fn: Callable[[Any], Any]) -> Any:
        """fn(the pristine kernel) in a forked child, and its result; None if the child
        raised or died."""
        if self.kernel is None:
            self.kernel = self.boot()
        self.collected = []
        t = os.times()
        cpu_left = max(1, math.ceil(self.cpu - (t.user + t.system + t.children_user + t.children_system)))
        for stream in (sys.stdout, sys.stderr):   # what is buffered would be written twice
            with contextlib.suppress(Exception):
                stream.flush()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            self._child(w, fn, cpu_left)
        os.close(w)
        status = None
        try:
            with os.fdopen(r, "rb") as f:
                raw = f.read()
            status = os.waitpid(pid, 0)[1]
        finally:
            if status is None:                # interrupted (Ctrl-C): the child goes too
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
        if raw and status == 0:
            result, self.collected = pickle.loads(raw)
            return result
        if self.on_death is not None:
            self.on_death(status)
        return None

    def _child(self, w: int, fn: Callable[[Any], Any], cpu_left: int) -> None:
        """The child's side of call: never returns."""
        status = 1
        try:
            if self.cpu > 0:
                import resource  # lazy: POSIX only, as fork
                resource.setrlimit(resource.RLIMIT_CPU, (cpu_left, cpu_left + 2))
            result = fn(self.kernel)
            data = pickle.dumps((result, self.collect() if self.collect is not None else []))
            with os.fdopen(w, "wb") as f:
                f.write(data)
            status = 0
        except BaseException:       # noqa: B036  the parent makes this run itself and sees what it raises
            pass
        finally:
            for stream in (sys.stdout, sys.stderr):       # the module's own output
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(status)


def iter_runs(path: str, max_runs: int = 0, all_calls: bool = False):
    """The runs of `check_module`, one at a time (run 0 first, which has 'calls' and
    'tested', the calls that will be failed)."""
    forker = Forker(boot_kernel) if can_fork() else None
    base = forked_run(forker, path, 0)
    sites = base.pop("sites")
    null_sites = base.pop("null_sites")
    base["tested"] = choose_tested(sites, max_runs, all_calls)
    base["call_sites"] = len({(st["file"], st["line"]) for st in sites})
    base["all_calls"] = all_calls
    yield base
    for target in base["tested"]:
        yield next_run(path, target, sites, null_sites, forker)


def forked_run(forker: Forker | None, path: str, target: int, expected_null=frozenset()) -> dict:
    """run_once in a child forked from the forker's booted kernel; in this process, on a
    kernel booted for it, without a forker or when the child handed back nothing."""
    if forker is not None:
        run = forker.call(lambda k: run_once(path, target, expected_null, k))
        if run is not None:
            return run
    return run_once(path, target, expected_null)


def next_run(path: str, target: int, sites: list[dict], null_sites=(), forker: Forker | None = None) -> dict:
    """Run `target` of a module whose run 0 counted `sites` and got NULL at `null_sites`
    (forked from `forker`'s kernel when given)."""
    run = forked_run(forker, path, target, null_sites)
    if run["call_site"] is None and target <= len(sites):
        run["call_site"] = sites[target - 1]
    run.pop("sites", None)
    run.pop("null_sites", None)
    return run


def choose_tested(sites: list[dict], max_runs: int = 0, all_calls: bool = False) -> list[int]:
    """The calls to fail: every call (`choose_calls`) or each site's first two (`choose_sites`)."""
    return choose_calls(sites, max_runs) if all_calls else choose_sites(sites, max_runs)


def choose_sites(sites: list[dict], max_runs: int = 0) -> list[int]:
    """The calls to fail (1-based): the first and second execution of each call site
    (file:line), so a loop of a thousand allocations costs two runs; the first of every
    site before any second when `max_runs` (not 0) cuts the list."""
    seen: dict[tuple, list[int]] = {}
    for k, site in enumerate(sites, 1):
        calls = seen.setdefault((site["file"], site["line"]), [])
        if len(calls) < 2:
            calls.append(k)
    firsts = [c[0] for c in seen.values()]
    seconds = [c[1] for c in seen.values() if len(c) > 1]
    picked = firsts + seconds
    if max_runs:
        picked = picked[:max_runs]
    return sorted(picked)


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
    if run.get("oops"):
        return f"insmod failed: {run['oops']}"
    if not run.get("insmod_error"):         # a limit or a crash stopped the run
        return "the run did not finish"
    return "insmod failed"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def format_head(path: str, base: dict) -> str:
    """The first line of the report: the calls counted by run 0 and the runs made."""
    calls = base["calls"]
    tested = base.get("tested", range(1, calls + 1))
    head = (f"kmsim check: {path}: {_plural(calls, 'allocation call')}, "
            f"{_plural(len(tested) + 1, 'run')}")
    if len(tested) < calls and base.get("all_calls"):
        head += (f" (failing {len(tested)} of the {calls} calls: the first, second and last of "
                 f"each line, then the earliest; --max-runs 0 fails every one)")
    elif len(tested) < calls:
        nsites = base.get("call_sites", 0)
        where = "its 1 call site" if nsites == 1 else f"each of its {nsites} call sites"
        head += (f" (failing {len(tested)} of the {calls} calls: the first and second at {where}"
                 f"{' (cut by --max-runs)' if len(tested) < min(calls, 2 * nsites) else ''}; "
                 f"--all-calls fails every one)")
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


SCHEMA_VERSION = 1


def _parser() -> argparse.ArgumentParser:
    from .check_pool import Limits  # cycle: check_pool calls back into check
    d = Limits()
    p = argparse.ArgumentParser(
        prog="kmsim check", description="Grade kernel modules: load and unload each one, failing "
        "its allocation calls in turn, and report leaks, Oopses, KASAN reports and more. Each "
        "submission runs in its own bounded, sandboxed process (docs/grading.md).")
    p.add_argument("--json", action="store_true",
                   help="one JSON document with one entry per submission (docs/check-schema.json)")
    p.add_argument("-j", "--jobs", type=_count(1), default=_cores(), metavar="N",
                   help="grade N submissions at a time (default: the machine's cores)")
    p.add_argument("--max-runs", type=_count(0), default=DEFAULT_MAX_RUNS, metavar="N",
                   help=f"fail at most N calls per submission (default {DEFAULT_MAX_RUNS}; 0: no cap)")
    p.add_argument("--all-calls", action="store_true",
                   help="fail every allocation call, not only the first two at each call site")
    p.add_argument("--cpu", type=_count(1), default=d.cpu, metavar="SECONDS",
                   help=f"CPU time of one submission (default {d.cpu})")
    p.add_argument("--mem", type=_count(256), default=d.mem, metavar="MIB",
                   help=f"address space of one submission's process (default {d.mem})")
    p.add_argument("--timeout", type=_seconds, default=d.timeout, metavar="SECONDS",
                   help=f"wall time of one run, an insmod and rmmod (default {d.timeout:g})")
    p.add_argument("--wall", type=_seconds, default=d.wall, metavar="SECONDS",
                   help=f"wall time of one submission (default {d.wall:g})")
    p.add_argument("paths", nargs="+", metavar="PATH", help="module files (.py, .c) or folders of them")
    return p


def _cores() -> int:
    """The cores this process may run on (a container's CPU set), else the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _count(least: int):
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid count: '{text}'") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"must be {least} or more: '{text}'")
        return n
    return parse


def _seconds(text: str) -> float:
    try:
        n = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid time: '{text}'") from None
    if not n > 0 or n == float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0: '{text}'")
    return n


def main(argv: list[str] | None = None) -> int:
    """Entry point of `kmsim check [--json] [-j N] PATH...`: status 0 when every
    submission is clean, 1 when any has findings, 2 for a usage error (a path that is
    not there, a folder without modules), 130 when interrupted."""
    from .check_pool import Limits, discover, error_entry  # cycle: check_pool calls back into check
    args = _parser().parse_args(argv)
    limits = Limits(cpu=args.cpu, mem=args.mem, timeout=args.timeout, wall=args.wall,
                    max_runs=args.max_runs, all_calls=args.all_calls)
    found = discover(args.paths)
    for path, error in found:
        if error:
            print(f"kmsim check: {path}: {error}", file=sys.stderr)
    todo = [path for path, error in found if not error]
    single = len(args.paths) == 1 and len(found) == 1 and not os.path.isdir(args.paths[0])
    started = time.monotonic()
    try:
        if args.json:
            graded = _grade(todo, limits, args.jobs, None, None)
        elif single:
            printed: list[dict] = []
            graded = _grade(todo, limits, 1, None, _detail_printer(todo[0], printed) if todo else None)
            if graded:
                _finish_detail(graded[0], printed)
        else:
            graded = _grade(todo, limits, args.jobs, _line_printer(found), None)
    except KeyboardInterrupt:
        print("kmsim check: interrupted", file=sys.stderr)
        return 130
    by_path = dict(zip(todo, graded, strict=True))
    entries = [by_path[p] if not e else error_entry(p, e) for p, e in found]
    if args.json:
        print(json.dumps(report_document(entries, limits, args.jobs, time.monotonic() - started),
                         indent=2))
    elif not single:
        print(format_summary(entries))
    if any(e["verdict"] == "error" for e in entries):
        return 2
    return 0 if all(e["verdict"] == "clean" for e in entries) else 1


def _grade(paths, limits, jobs, on_done, on_event) -> list[dict]:
    from .check_pool import grade_all  # cycle: check_pool calls back into check
    return grade_all(paths, limits, min(jobs, max(1, len(paths))), on_done, on_event) if paths else []


def _detail_printer(path: str, runs: list[dict]):
    """on_event for one file: its run-by-run report as the runs finish."""
    def on_event(_i: int, ev: dict) -> None:
        if ev.get("event") == "run":
            run = ev["run"]
            if not runs:
                base = dict(run, tested=ev.get("tested", []), call_sites=ev.get("call_sites", 0),
                            all_calls=ev.get("all_calls", False))
                print(format_head(path, base), flush=True)
            runs.append(run)
            print("\n".join(format_run(run)), flush=True)
    return on_event


def _finish_detail(entry: dict, printed: list[dict]) -> None:
    """The runs the worker could not report itself (the one a limit stopped), the tail."""
    if not printed:
        print(format_head(entry["path"], {"calls": 0, "tested": []}))
    for run in entry["runs"][len(printed):]:
        print("\n".join(format_run(run)))
    print(format_tail(entry["runs"]))


def _line_printer(found: list[tuple[str, str | None]]):
    """on_done for a class: one line per submission, in the order found, as they finish
    (a path that cannot be graded has its line in its place)."""
    from .check_pool import error_entry  # cycle: check_pool calls back into check
    done = {i: error_entry(p, e) for i, (p, e) in enumerate(found) if e}
    graded_index = [i for i, (_p, e) in enumerate(found) if not e]
    state = {"next": 0}

    def flush() -> None:
        while state["next"] in done:
            print(format_submission(done.pop(state["next"])), flush=True)
            state["next"] += 1

    def on_done(i: int, entry: dict) -> None:
        done[graded_index[i]] = entry
        flush()
    flush()
    return on_done


def report_document(entries: list[dict], limits, jobs: int, seconds: float) -> dict:
    """The --json document (docs/check-schema.json)."""
    return {"schema_version": SCHEMA_VERSION, "tool": "kmsim check", "kmsim_version": __version__,
            "clean": all(e["verdict"] == "clean" for e in entries), "jobs": jobs,
            "seconds": round(seconds, 2), "limits": limits.as_json(),
            "summary": _summary_counts(entries), "submissions": entries}


def _summary_counts(entries: list[dict]) -> dict:
    kinds: dict[str, int] = {}
    for e in entries:
        for kind in e["kinds"]:
            kinds[kind] = kinds.get(kind, 0) + 1
    return {"submissions": len(entries),
            "clean": sum(e["verdict"] == "clean" for e in entries),
            "with_findings": sum(e["verdict"] == "findings" for e in entries),
            "errors": sum(e["verdict"] == "error" for e in entries),
            "kinds": dict(sorted(kinds.items()))}


def format_submission(entry: dict) -> str:
    """The one line of a submission in a class's report."""
    path = entry["path"]
    if entry["verdict"] == "error":
        return f"{path}: not graded: {entry['error']}"
    runs = entry["runs"]
    if entry["verdict"] == "clean":
        return f"{path}: clean ({_plural(len(runs), 'run')})"
    bad = [r for r in runs if r["findings"]]
    counts: dict[str, int] = {}
    for r in runs:
        for f in r["findings"]:
            counts[f["kind"]] = counts.get(f["kind"], 0) + 1
    kinds = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in counts.items())
    first = bad[0]
    where = "" if first["k"] == 0 else f" (failing {_site_text(first['call_site'])})"
    message = " ".join(first["findings"][0]["message"].split("\n"))     # one line, whatever it says
    return (f"{path}: FINDINGS in {len(bad)} of {_plural(len(runs), 'run')}: {kinds}; "
            f"run {first['k']}{where}: {first['findings'][0]['kind']}: {message}")


def format_summary(entries: list[dict]) -> str:
    """The last line of a class's report."""
    c = _summary_counts(entries)
    text = (f"kmsim check: {_plural(c['submissions'], 'submission')}: {c['clean']} clean, "
            f"{c['with_findings']} with findings")
    return text + (f", {c['errors']} not graded" if c["errors"] else "")
