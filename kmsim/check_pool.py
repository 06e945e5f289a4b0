"""Grading a class: find the submissions, grade each in its own bounded process, in parallel.

`discover` turns the command line's paths into module files; `grade_all` runs one
`python -m kmsim.check_worker` per submission, `jobs` at a time, and enforces the wall
time limits from here (the worker sets its own CPU and memory limits); `grade_one`
turns what a worker wrote, and how it ended, into the submission's report entry.
"""
from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

__all__ = ["Limits", "discover", "grade_all", "grade_one", "MODULE_SUFFIXES", "LIMIT_KINDS"]

MODULE_SUFFIXES = (".py", ".c")
LIMIT_KINDS = ("cpu-limit", "wall-limit", "memory-limit", "output-limit")
_SKIP_DIRS = {"__pycache__", "node_modules"}
NO_MODULES = "no module files (.py, .c) in this folder"
STARTUP_GRACE = 30.0        # seconds for a worker to start (imports) on a loaded machine


@dataclass
class Limits:
    """What one submission may use (docs/grading.md gives the reasons for the defaults)."""
    cpu: int = 120          # CPU seconds for all its runs (RLIMIT_CPU)
    mem: int = 4096         # MiB of address space (RLIMIT_AS); kmsim itself maps ~1.6 GiB
    timeout: float = 10.0   # wall seconds for one run (one insmod and rmmod)
    wall: float = 300.0     # wall seconds for all its runs
    max_runs: int = 500
    all_calls: bool = False
    sandbox: bool = True

    def as_json(self) -> dict:
        """The limits as the report's 'limits' object."""
        return {"cpu_seconds": self.cpu, "memory_mib": self.mem, "run_seconds": self.timeout,
                "wall_seconds": self.wall, "max_runs": self.max_runs, "all_calls": self.all_calls}


def discover(paths: list[str]) -> list[tuple[str, str | None]]:
    """(path, error) for each submission: a file named is one; a folder gives every
    .py and .c file below it (sorted, hidden and __pycache__ folders skipped)."""
    out: list[tuple[str, str | None]] = []
    for path in paths:
        if os.path.isdir(path):
            found = _walk(path)
            out += [(f, None) for f in found] if found else [(path, NO_MODULES)]
            continue
        try:
            with open(path, "rb"):
                pass
            out.append((path, None))
        except OSError as e:
            out.append((path, e.strerror or str(e)))
    return out


def _walk(folder: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        found += [os.path.join(root, f) for f in sorted(files)
                  if f.endswith(MODULE_SUFFIXES) and not f.startswith(".")]
    return found


class _Live:
    """The worker processes running now (so Ctrl-C can end them all)."""

    def __init__(self):
        self.procs: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def kill_all(self) -> None:
        """SIGKILL every worker's process group."""
        with self.lock:
            self.stopping = True
            for p in self.procs:
                _kill(p)


def grade_all(paths: list[str], limits: Limits, jobs: int,
              on_done: Callable[[int, dict], None] | None = None,
              on_event: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Grade every path, `jobs` at a time; on_done(i, entry) as each finishes, on_event(i,
    event) for each line a worker writes.  Ctrl-C ends every worker and re-raises."""
    live = _Live()
    results: list[dict | None] = [None] * len(paths)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    futures = {pool.submit(grade_one, p, limits, _bind(on_event, i), live): i
               for i, p in enumerate(paths)}
    try:
        from concurrent.futures import as_completed
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            if on_done is not None:
                on_done(i, results[i])      # type: ignore[arg-type]  # set just above: no longer None
    except BaseException:
        live.kill_all()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [r for r in results if r is not None]


def _bind(on_event: Callable[[int, dict], None] | None, i: int) -> Callable[[dict], None] | None:
    if on_event is None:
        return None
    return lambda ev: on_event(i, ev)


def _worker_command(path: str, limits: Limits, fd: int) -> list[str]:
    # -P: the current folder is not on sys.path, so a submission named json.py in it is
    # not imported in place of the standard library's (outside the sandbox)
    cmd = [sys.executable, "-P", "-m", "kmsim.check_worker", "--fd", str(fd), "--cpu", str(limits.cpu),
           "--mem", str(limits.mem), "--max-runs", str(limits.max_runs)]
    if limits.all_calls:
        cmd.append("--all-calls")
    if not limits.sandbox:
        cmd.append("--no-sandbox")
    return cmd + ["--", path]


def _worker_env() -> dict:
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
               PYTHONFAULTHANDLER="1")
    return env


def grade_one(path: str, limits: Limits, on_event: Callable[[dict], None] | None = None,
              live: _Live | None = None) -> dict:
    """Grade one submission in its own process; its report entry."""
    import json
    started = time.monotonic()
    rfd, wfd = os.pipe()
    out = tempfile.TemporaryFile()      # noqa: SIM115 (closed below, after the worker ends)
    live = live or _Live()
    with live.lock:
        if live.stopping:
            raise KeyboardInterrupt
        proc = subprocess.Popen(_worker_command(path, limits, wfd), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out, pass_fds=(wfd,), start_new_session=True,
                                env=_worker_env())
        live.procs.add(proc)
    os.close(wfd)
    events: list[dict] = []
    try:
        timed_out = _read_events(rfd, proc, limits, started, events, on_event, json.loads)
        rc = proc.wait()
    finally:
        os.close(rfd)
        with live.lock:
            live.procs.discard(proc)
    out.seek(0, os.SEEK_END)
    size = out.tell()
    out.seek(max(0, size - 65536))
    text = out.read().decode("utf-8", "replace")
    out.close()
    entry = _entry(path, events, rc, timed_out, text.splitlines()[-3:], limits,
                   time.monotonic() - started)
    if rc < 0 and not timed_out:
        _locate_crash(entry, path, text)
    return entry


_FAULT_FRAME = re.compile(r'^\s*File "(.*)", line (\d+) in (\S+)', re.M)


def _locate_crash(entry: dict, path: str, text: str) -> None:
    """A crash's line in the submission, from the traceback faulthandler printed
    (PYTHONFAULTHANDLER): the finding's site, and the message names it."""
    from .check import _make_site  # cycle: check imports check_pool
    real = os.path.realpath(path)
    for m in _FAULT_FRAME.finditer(text):
        if os.path.realpath(m.group(1)) == real:
            site = _make_site(m.group(1), int(m.group(2)), m.group(3))
            f = entry["runs"][-1]["findings"][-1]
            f["site"] = site
            f["message"] += f" at {site['file']}:{site['line']}: {site['source']}"
            f["hints"] = []
            return


def _read_events(rfd: int, proc, limits: Limits, started: float, events: list[dict],
                 on_event, loads) -> str | None:
    """Collect the worker's JSON lines until it closes the pipe; kill it at a wall limit.
    Returns None, or which wall limit ('run', 'total') ended it."""
    sel = selectors.DefaultSelector()
    sel.register(rfd, selectors.EVENT_READ)
    buf = b""
    run_deadline = started + limits.timeout + STARTUP_GRACE    # Python and kmsim start first
    timed_out = None
    try:
        while True:
            now = time.monotonic()
            deadline = min(run_deadline, started + limits.wall)
            if now >= deadline:
                timed_out = "run" if run_deadline <= started + limits.wall else "total"
                _kill(proc)
                break
            if not sel.select(timeout=deadline - now):
                continue
            chunk = os.read(rfd, 65536)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                try:
                    ev = loads(line)
                except ValueError:
                    continue            # the submission wrote to the pipe: not ours
                if not isinstance(ev, dict):
                    continue
                events.append(ev)
                if ev.get("event") == "start":
                    run_deadline = time.monotonic() + limits.timeout
                if on_event is not None:
                    on_event(ev)
    finally:
        sel.close()
    if timed_out is None:       # the pipe closed (the end, or the module closed it): wait, bounded
        try:
            proc.wait(timeout=max(0.0, min(run_deadline, started + limits.wall) - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = "run" if run_deadline <= started + limits.wall else "total"
            _kill(proc)
    return timed_out


def _kill(proc) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _entry(path: str, events: list[dict], rc: int, timed_out: str | None, tail: list[str],
           limits: Limits, seconds: float) -> dict:
    """The submission's entry of the report from its worker's events and exit."""
    from .check import new_run  # cycle: check imports check_pool
    runs = [ev["run"] for ev in events if ev.get("event") == "run"]
    base = next((ev for ev in events if ev.get("event") == "run" and "tested" in ev), {})
    starts = [ev for ev in events if ev.get("event") == "start"]
    done = any(ev.get("event") == "done" for ev in events)
    stop = None
    if not done:
        stop = _stop_finding(events, rc, timed_out, tail, limits)
        current = starts[-1] if starts and len(starts) > len(runs) else None
        if current is not None:
            run = new_run(current["k"])
            run["call_site"] = current.get("call_site")
            runs.append(run)
        elif not runs:
            runs.append(new_run(0))
        runs[-1]["findings"].append(stop)
        runs[-1]["verdict"] = "findings"
    calls = base.get("calls", 0)
    made = [r["k"] for r in runs if r["k"]]
    kinds = sorted({f["kind"] for r in runs for f in r["findings"]})
    return {"path": path, "name": os.path.splitext(os.path.basename(path))[0].replace("-", "_"),
            "verdict": "findings" if kinds else "clean", "error": None,
            "calls": calls, "call_sites": base.get("call_sites", 0), "tested": made,
            "untested_calls": max(0, calls - len(made)), "stopped": stop is not None,
            "kinds": kinds, "findings": sum(len(r["findings"]) for r in runs),
            "seconds": round(seconds, 2), "planned": base.get("tested", []), "runs": runs}


def _stop_finding(events: list[dict], rc: int, timed_out: str | None, tail: list[str],
                  limits: Limits) -> dict:
    """Why the worker stopped before 'done': a limit, an exit, a crash."""
    from .check import finding  # cycle: check imports check_pool
    if timed_out == "run":
        return finding("wall-limit", f"the run took more than {limits.timeout:g} s of wall time "
                       f"and was stopped (kmsim check --timeout)",
                       ["a sleep or a wait that never ends in the module's code"])
    if timed_out == "total":
        return finding("wall-limit", f"grading took more than {limits.wall:g} s of wall time and "
                       f"was stopped (kmsim check --wall)")
    if any(ev.get("event") == "limit" for ev in events):
        return finding("memory-limit", f"the grading process ran out of its {limits.mem} MiB of "
                       f"memory (kmsim check --mem)")
    if rc in (-signal.SIGXCPU, -signal.SIGKILL):
        return finding("cpu-limit", f"the grading process used its {limits.cpu} s of CPU time "
                       f"and was stopped (kmsim check --cpu)")
    if rc == -signal.SIGXFSZ:
        return finding("output-limit", "the submission wrote more than 64 MiB of output")
    if rc < 0:
        name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
        return finding("crash", f"the grading process died of {name}", tail)
    return finding("exit", f"the grading process exited with status {rc} before the end "
                   f"(os._exit() or sys.exit() outside module code, or a kmsim error)", tail)


def error_entry(path: str, error: str) -> dict:
    """The entry of a path that could not be graded."""
    return {"path": path, "name": os.path.splitext(os.path.basename(path))[0].replace("-", "_"),
            "verdict": "error", "error": error, "calls": 0, "call_sites": 0, "tested": [],
            "untested_calls": 0, "stopped": False, "kinds": [], "findings": 0, "seconds": 0.0,
            "planned": [], "runs": []}
