"""Tests that boot an expensive kernel run in a forked child, so the suite boots less.

The worker (the pytest process, or each xdist worker) keeps one *pristine* booted kernel
of each seeded configuration (machine, memory, command line, seed) its tests have asked
for twice, and a forked child's first ``Kernel(...)`` of that configuration *is* that
kernel, copy-on-write, instead of a new boot.  A seeded boot is deterministic, so the
copy is the kernel the test would have booted; the child's changes die with it.  Later
boots in the same child, unseeded boots and other configurations boot as before.

A fork is not free: the child's copy-on-write faults cost about 30 ms of system time on
the development machine, about what a 1G boot costs alone.  So the worker keeps only
configurations whose boot, as tests saw it, cost more than MIN_BOOT_SECONDS, and a test
is forked only when the first kernel it will ask for (guessed from its parametrized
siblings, then from its ``kernel``/``shell`` fixtures, then from the previous test of
its file) has a pristine copy, or when it is marked ``forked``.  Never forked: e2e tests
and tests that use a module- or class-scoped fixture of the test tree (their shared
state lives in the worker).
``--no-fork`` (or --pdb, --trace, a platform without fork) runs every test in the
worker.  The child reports through a pipe (kmsim check's Forker) with pytest's own
report serialisation; one that dies first is a failed test saying how it died.
"""
from __future__ import annotations

import gc
import inspect
import os
import signal
import time
from collections import Counter
from typing import Any

import pytest
from _pytest.reports import TestReport
from _pytest.runner import runtestprotocol

import kmsim.current
from kmsim.check import Forker
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
        self.cost: dict[Key, float] = {}       # CPU seconds of a boot of each configuration
        self.costs: dict[Key, float] = {}      # the boots of this test (a child sends them back)
        # the first configuration a test asked for, by its function and by its file's last test
        self.first_of_function: dict[tuple[object, str], Key | None] = {}
        self.first_of_file: dict[object, Key | None] = {}

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

    def worth(self, key: Key | None) -> bool:
        """A pristine kernel of key saves more than a fork costs."""
        return key is not None and key in self.pristine

    def take(self, key: Key) -> Kernel | None:
        """In a child: the pristine kernel of key, the first time it is asked for."""
        if key in self.taken:
            return None
        k = self.pristine.get(key)
        if k is not None:
            self.taken.add(key)
        return k

    def learn(self, requests: list[Key], costs: dict[Key, float]) -> None:
        """In the worker: keep a pristine kernel of each configuration asked for twice whose
        boot (as a test saw it) costs more than a fork (a seeded boot is the same every
        time), then freeze it out of the collector so children copy less."""
        self.cost.update(costs)
        fresh = False
        for key in requests:
            self.asked[key] += 1
            if (self.asked[key] >= 2 and key not in self.pristine
                    and self.cost.get(key, 0.0) >= MIN_BOOT_SECONDS):
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
# A fork and the copy-on-write faults of a test's child cost about 30 ms of system time on
# the development machine: a pristine kernel is worth it for the boots that cost more.
MIN_BOOT_SECONDS = 0.06
FIXTURE_BOOT: Key = ("x86_64", "1G", "", 1)          # conftest's kernel and shell fixtures
REFREEZE_EVERY = 64                      # forks


def refreeze() -> None:
    """Collect the worker's garbage, then move what is left out of the collector's sight: a
    child's collections then walk only the child's own objects, instead of touching (and so
    copying) every page of the worker's heap."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _new(cls, *args, **kwargs):
    key = POOL.key(args, kwargs) if cls is Kernel else None
    if key is not None:
        POOL.requests.append(key)
        k = POOL.take(key) if POOL.in_child else None
        if k is not None:
            POOL.handing = k
            return k
    return object.__new__(cls)


def _init(self, *args, **kwargs) -> None:
    if self is POOL.handing:
        POOL.handing = None
        set_current_kernel(self)         # what the boot would have done
        return
    t = time.process_time()
    _ORIG_INIT(self, *args, **kwargs)
    key = POOL.key(args, kwargs)
    if key is not None:
        POOL.costs[key] = time.process_time() - t


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
    if item.get_closest_marker("forked") is not None:
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for defs in info.name2fixturedefs.values():
        for fd in defs:
            if fd.scope != "function" and str(fd.baseid).startswith("tests"):
                return False
    func = (item.path, getattr(item, "originalname", item.name))
    if func in POOL.first_of_function:          # a parametrized test's earlier case
        return POOL.worth(POOL.first_of_function[func])
    if "kernel" in item.fixturenames or "shell" in item.fixturenames:
        return POOL.worth(FIXTURE_BOOT)
    return POOL.worth(POOL.first_of_file.get(item.path))


def _note(item) -> None:
    """What item asked for, for the next decisions; the worker learns the configurations."""
    requests, POOL.requests = POOL.requests, []
    costs, POOL.costs = POOL.costs, {}
    first = requests[0] if requests else None
    POOL.first_of_function.setdefault((item.path, getattr(item, "originalname", item.name)), first)
    POOL.first_of_file[item.path] = first
    POOL.learn(requests, costs)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Run item in a forked child (see the module's docstring)."""
    if not item.config.stash.get(_ENABLED, False):
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    POOL.requests, POOL.costs = [], {}
    if _forkable(item):
        reports, POOL.requests, POOL.costs = _run_forked(item, nextitem)
        for rep in reports:
            item.ihook.pytest_runtest_logreport(report=rep)
        # the child tore down what nextitem does not need; the worker's own stack follows it
        item.session._setupstate.teardown_exact(nextitem)
    else:
        runtestprotocol(item, nextitem=nextitem)        # what pytest's own protocol does
    _note(item)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _run_forked(item, nextitem) -> tuple[list[TestReport], list[Key], dict[Key, float]]:
    hook = item.config.hook
    POOL.forks += 1
    if POOL.forks % REFREEZE_EVERY == 1:
        refreeze()

    def child(_kernel):
        POOL.in_child = True
        reps = runtestprotocol(item, log=False, nextitem=nextitem)
        data = [hook.pytest_report_to_serializable(config=item.config, report=x) for x in reps]
        return data, POOL.requests, POOL.costs

    died: list[int | None] = []
    got = Forker(lambda: None, on_death=died.append).call(child)     # kmsim check's fork and pipe
    if got is None:
        return [_crash_report(item, died[0] if died else None)], [], {}
    data, requests, costs = got
    return [hook.pytest_report_from_serializable(config=item.config, data=d) for d in data], requests, costs


def _crash_report(item, wstatus: int | None) -> TestReport:
    if wstatus is None:
        why = "was interrupted"
    elif os.WIFSIGNALED(wstatus):
        why = f"killed by signal {signal.Signals(os.WTERMSIG(wstatus)).name}"
    else:
        why = f"exited with status {os.WEXITSTATUS(wstatus)} before reporting"
    return TestReport(item.nodeid, item.location, {}, "failed",
                      f"the forked child running this test {why} (tests/forked.py; --no-fork runs it "
                      "in the pytest process)", "call")
