"""python -m kmsim.check_worker: grade one submission in this process, for `kmsim check`.

The parent (kmsim.check_pool) starts one of these per submission.  It sets its limits,
installs the sandbox's audit hook, runs the explorer (kmsim.check) and writes one JSON
object a line to the file descriptor --fd: ``start`` before each run (so the parent
knows which run a limit stopped), ``run`` after it (run 0's also carries the calls
to fail), ``done`` at the end.  The submission's own output goes to stdout/stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kmsim.check_worker")
    p.add_argument("--fd", type=int, required=True, help="where the JSON lines go")
    p.add_argument("--cpu", type=int, default=0, help="CPU seconds (RLIMIT_CPU), 0: none")
    p.add_argument("--mem", type=int, default=0, help="address space in MiB (RLIMIT_AS), 0: none")
    p.add_argument("--max-runs", type=int, default=0)
    p.add_argument("--all-calls", action="store_true")
    p.add_argument("--no-sandbox", action="store_true", help="no audit hook (kmsim's own tests)")
    p.add_argument("module")
    return p


def main(argv: list[str] | None = None) -> int:
    """Grade the module named on the command line; status 0 when the runs were all made."""
    args = _parser().parse_args(argv)
    from .check_sandbox import Sandbox, set_limits  # lazy: the limits are set before kmsim is imported
    set_limits(args.cpu, args.mem)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)   # Python ignores it: the output limit must end us
    sys.dont_write_bytecode = True          # no __pycache__ writes while the hook is on
    out = os.fdopen(args.fd, "w", encoding="utf-8")

    def emit(obj: dict) -> None:
        out.write(json.dumps(obj, default=str) + "\n")
        out.flush()
    _preload()
    sandbox = Sandbox(args.module)
    if not args.no_sandbox:
        sandbox.install()
    try:
        _grade(args, sandbox, emit)
    except MemoryError:
        emit({"event": "limit", "limit": "memory"})
        return 3
    emit({"event": "done"})
    return 0


def _preload() -> None:
    """Import what module files import, before the hook watches them."""
    import pkgutil

    import kmsim.linux  # lazy: imported here, before the audit hook watches imports
    for info in pkgutil.iter_modules(kmsim.linux.__path__, "kmsim.linux."):
        __import__(info.name)
    from . import check, kernel  # noqa: F401  # lazy: imported here, before the audit hook watches imports


def _grade(args, sandbox, emit) -> None:
    from .check import Forker, can_fork, choose_tested  # lazy: after _preload, under the limits
    forker = Forker(_boot_frozen, args.cpu, sandbox.take, _died) if can_fork() else None
    emit({"event": "start", "k": 0, "call_site": None})
    base = _run(args.module, 0, [], [], sandbox, args.mem, forker)
    sites = base.pop("sites", [])
    null_sites = base.pop("null_sites", [])
    tested = choose_tested(sites, args.max_runs, args.all_calls)
    emit({"event": "run", "run": base, "calls": base["calls"], "tested": tested, "all_calls": args.all_calls,
          "call_sites": len({(s["file"], s["line"]) for s in sites})})
    for k in tested:
        emit({"event": "start", "k": k, "call_site": sites[k - 1] if k <= len(sites) else None})
        emit({"event": "run", "run": _run(args.module, k, sites, null_sites, sandbox, args.mem, forker)})


def _died(status: int) -> None:
    """A forked run the CPU limit ended ends the grading the same way (killed by the signal,
    no traceback of ours); any other death, the run is made again in this process."""
    if not os.WIFSIGNALED(status) or os.WTERMSIG(status) not in (signal.SIGXCPU, signal.SIGKILL):
        return
    import faulthandler
    sig = os.WTERMSIG(status)
    faulthandler.disable()
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    signal.pause()


def _boot_frozen():
    """The forked runs' kernel, out of the collector's sight (children then copy less)."""
    import gc

    from .check import boot_kernel  # lazy: after _preload, under the limits
    k = boot_kernel()
    gc.collect()
    gc.freeze()
    return k


def _run(path: str, k: int, sites: list[dict], null_sites: list, sandbox, mem: int = 0,
         forker=None) -> dict:
    """One run, with the refused host actions it made and limits it hit as findings; forked
    from `forker`'s kernel (check.Forker) when given."""
    import gc

    from .check import finding, forked_run, new_run, next_run  # lazy: after _preload, under the limits
    gc.collect()                # the last run's kernel (its 1 GiB map of RAM) goes now
    try:
        run = forked_run(forker, path, 0) if k == 0 else next_run(path, k, sites, null_sites, forker)
    except MemoryError:
        raise
    except BaseException as e:       # something escaped the loader
        run = new_run(k)
        run["call_site"] = sites[k - 1] if 0 < k <= len(sites) else None
        run["findings"].append(_escaped(e, path))
    seen = set()
    refused = []
    for r in (forker.collected if forker is not None else []) + sandbox.take():
        key = (r["event"], r["site"]["file"], r["site"]["line"])
        if key in seen or key in _REPORTED:
            continue
        seen.add(key)
        _REPORTED.add(key)
        why = f" ({r['why']})" if r["why"] else ""
        refused.append(finding("refused", f"refused {r['call']}{why} at {r['site']['file']}:"
                               f"{r['site']['line']}", site=r["site"]))
    run["findings"][:0] = refused       # the cause first: the Oops is what the refusal led to
    for f in run["findings"]:
        if f["kind"] == "host-oom":         # under RLIMIT_AS, the host's memory is the limit
            f["kind"] = "memory-limit"
            f["hints"].insert(0, f["message"])
            f["message"] = (f"the module's code ran out of the grading process's {mem} MiB of "
                            f"memory (kmsim check --mem)" if mem else f["message"])
    if run["findings"]:
        run["verdict"] = "findings"
    return run


def _escaped(e: BaseException, path: str) -> dict:
    """The finding for an exception that escaped the loader: kmsim's own bug when it was
    raised in kmsim's code (not the submission's doing), else the submission's."""
    import traceback

    from .check import finding  # lazy: after _preload, under the limits
    frames = traceback.extract_tb(e.__traceback__)
    last = frames[-1] if frames else None
    kmsim_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
    if last is not None and last.filename.startswith(kmsim_dir) and \
            os.path.realpath(last.filename) != os.path.realpath(path):
        where = f"{os.path.relpath(last.filename, os.path.dirname(kmsim_dir.rstrip(os.sep)))}:{last.lineno}"
        return finding("kmsim-error", f"kmsim itself failed: {type(e).__name__}: {e} ({where}); "
                       f"not the submission's doing, please report it")
    return finding("crash", f"{type(e).__name__} escaped from the module's code: {e}")


_REPORTED: set = set()      # refusals already reported in an earlier run of this submission


if __name__ == "__main__":
    sys.exit(main())
