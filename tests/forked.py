"""Each test in a forked child of its pytest process, so the suite boots less.

Booting is most of what the tests cost (about 1,300 boots a run, 60% of the CPU time).
A test runs in a child forked from its worker; the worker keeps one *pristine* booted
kernel of each configuration tests have asked for at least twice (machine, memory,
command line, seed), and the first ``Kernel(...)`` of that configuration in a child is
that kernel, copy-on-write, instead of a new boot.  A seeded boot is deterministic, so the
copy is the kernel the test would have booted; the child's changes die with it.  Later
boots in the same child, unseeded boots and other configurations boot as before.

Not forked: e2e tests (their cost is the subprocess), tests that use a module- or
class-scoped fixture of the test tree (their shared state lives in the worker, as
without this plugin), and the rest of a file whose first three forked tests booted
nothing (a fork costs a few milliseconds of page-table copying and copy-on-write).
``--no-fork`` (or --pdb, --trace, a platform without fork) runs every test in the worker.  The child
reports through a pipe with pytest's own report serialisation; one that dies first is a
failed test saying how it died.
"""
from __future__ import annotations

import gc
import inspect
import os
import pickle
import signal
from collections import Counter, defaultdict
from typing import Any

import pytest
from _pytest.reports import TestReport
from _pytest.runner import runtestprotocol

import kmsim.current
from kmsim.kernel import Kernel, set_current_kernel

Key = tuple[str, Any, str, int]

_SIGNATURE = inspect.signature(Kernel.__init__)
_ORIG_INIT = Kernel.__init__


class _Pool:
    """The worker's pristine kernels, and what its children asked for."""

    def __init__(self) -> None:
        self.pristine: dict[Key, Kernel] = {}
        self.asked: Counter[Key] = Counter()
        self.in_child = False
        self.taken: set[Key] = set()      # in a child: configurations already handed out
        self.requests: list[Key] = []     # in a child: every seeded boot it asked for
        self.handing: Kernel | None = None
        self.forks = 0
        # per test file: how many of its forked tests booted nothing ([0]) and booted ([1])
        self.booted: defaultdict[object, list[int]] = defaultdict(lambda: [0, 0])

    def key(self, args: tuple, kwargs: dict) -> Key | None:
        """The configuration of a Kernel(...) call, or None if it cannot be shared."""
        try:
            bound = _SIGNATURE.bind(None, *args, **kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        machine, mem, append, seed = (bound.arguments[n] for n in ("machine", "mem", "append", "seed"))
        if not isinstance(machine, str) or not isinstance(seed, int) or not isinstance(mem, str | int):
            return None
        return machine, mem, append or "", seed

    def take(self, key: Key) -> Kernel | None:
        """In a child: the pristine kernel of key, the first time it is asked for."""
        self.requests.append(key)
        if key in self.taken:
            return None
        k = self.pristine.get(key)
        if k is not None:
            self.taken.add(key)
        return k

    def learn(self, requests: list[Key]) -> None:
        """In the worker: boot the configurations asked for twice (a seeded boot is the same
        every time), then freeze them out of the collector so children copy less."""
        fresh = False
        for key in requests:
            self.asked[key] += 1
            if self.asked[key] == 2 and key not in self.pristine:
                running = kmsim.current.running
                try:
                    self.pristine[key] = Kernel(*key[:3], seed=key[3])
                    fresh = True
                except Exception:      # a configuration that fails to boot is the test's business
                    pass
                set_current_kernel(running)      # the worker's state as it was
        if fresh:
            refreeze()


POOL = _Pool()
REFREEZE_EVERY = 64                      # forks


def refreeze() -> None:
    """Collect the worker's garbage, then move what is left out of the collector's sight: a
    child's collections then walk only the child's own objects, instead of touching (and so
    copying) every page of the worker's heap."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _new(cls, *args, **kwargs):
    if POOL.in_child and cls is Kernel:
        key = POOL.key(args, kwargs)
        k = POOL.take(key) if key is not None else None
        if k is not None:
            POOL.handing = k
            return k
    return object.__new__(cls)


def _init(self, *args, **kwargs) -> None:
    if self is POOL.handing:
        POOL.handing = None
        set_current_kernel(self)         # what the boot would have done
        return
    _ORIG_INIT(self, *args, **kwargs)


def pytest_addoption(parser) -> None:
    parser.addoption("--no-fork", action="store_true",
                     help="run every test in the pytest process (tests/forked.py)")


def pytest_configure(config) -> None:
    if config.getoption("--no-fork") or not hasattr(os, "fork") or config.getoption("usepdb") \
            or config.getoption("trace"):     # a debugger wants the test in this process
        return
    config.stash[_ENABLED] = True
    Kernel.__new__ = _new      # type: ignore[method-assign]
    Kernel.__init__ = _init    # type: ignore[method-assign]


_ENABLED = pytest.StashKey[bool]()


def _forkable(item) -> bool:
    if item.get_closest_marker("e2e") is not None:
        return False
    nothing, booted = POOL.booted[item.path]
    if nothing >= 3 and not booted:     # a file whose tests boot no kernel: a fork buys nothing
        return False
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for defs in info.name2fixturedefs.values():
        for fd in defs:
            if fd.scope != "function" and str(fd.baseid).startswith("tests"):
                return False
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Run item in a forked child (see the module's docstring)."""
    if not item.config.stash.get(_ENABLED, False) or not _forkable(item):
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports, requests = _run_forked(item, nextitem)
    for rep in reports:
        item.ihook.pytest_runtest_logreport(report=rep)
    # the child tore down what nextitem does not need; the worker's own stack follows it
    item.session._setupstate.teardown_exact(nextitem)
    POOL.learn(requests)
    POOL.booted[item.path][bool(requests)] += 1
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _run_forked(item, nextitem) -> tuple[list[TestReport], list[Key]]:
    hook = item.config.hook
    POOL.forks += 1
    if POOL.forks % REFREEZE_EVERY == 1:
        refreeze()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                          # the child
        os.close(r)
        status = 1
        try:
            POOL.in_child = True
            reps = runtestprotocol(item, log=False, nextitem=nextitem)
            data = [hook.pytest_report_to_serializable(config=item.config, report=x) for x in reps]
            with os.fdopen(w, "wb") as f:
                pickle.dump((data, POOL.requests), f)
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        raw = f.read()
    _, wstatus = os.waitpid(pid, 0)
    try:
        data, requests = pickle.loads(raw)
    except Exception:
        return [_crash_report(item, wstatus)], []
    reps = [hook.pytest_report_from_serializable(config=item.config, data=d) for d in data]
    return reps, requests


def _crash_report(item, wstatus: int) -> TestReport:
    if os.WIFSIGNALED(wstatus):
        why = f"killed by signal {signal.Signals(os.WTERMSIG(wstatus)).name}"
    else:
        why = f"exited with status {os.WEXITSTATUS(wstatus)} before reporting"
    return TestReport(item.nodeid, item.location, {}, "failed",
                      f"the forked child running this test {why} (tests/forked.py; --no-fork runs it "
                      "in the pytest process)", "call")
