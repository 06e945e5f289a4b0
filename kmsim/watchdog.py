"""The soft-lockup watchdog (kernel/watchdog.c) for module code that runs too long.

A real soft lockup fires when a CPU has not scheduled for ``2 * watchdog_thresh``
seconds (``watchdog_thresh=`` on the command line, default 10).  kmsim maps host
CPU time to simulated time at ``SIM_SECONDS_PER_HOST_SECOND`` (10): with the
default threshold a ``while True:`` in a module is reported after 2.2 seconds of
host CPU, as "stuck for 22s", and the clock moves on by those 22 s.  A scheduling
point (a blocking allocation, cond_resched(), msleep() ...: ``kmsim.sched``) counts in
``mm.hooks.RESCHED``; the watchdog's thread samples that count and measures the stuck
time from the last sample in which it changed, so a loop that schedules is never a
soft lockup.  Such a loop that never returns is stopped at kmsim's own limit instead:
``kmsim.call_limit=SECONDS`` of host CPU time for one call into module code (default
120, 0 for none), with a ``kmsim:`` line.  The thread calls ``_thread.interrupt_main()``;
the loader turns the KeyboardInterrupt into the report when ``fired`` is set.  Nothing
runs per bytecode, and nothing can fire outside module code.
"""
from __future__ import annotations

import _thread
import contextlib
import os
import signal
import threading
import time
from typing import Any

from .mm.hooks import RESCHED
from .report import TAINT_SOFTLOCKUP, module_frames

__all__ = ["Watchdog", "watchdog_init", "SIM_SECONDS_PER_HOST_SECOND", "CALL_LIMIT_DEFAULT"]

SIM_SECONDS_PER_HOST_SECOND = 10
CALL_LIMIT_DEFAULT = 120          # host CPU seconds of one call into module code that schedules


class Watchdog:
    """One kernel's soft-lockup detector."""

    def __init__(self, kernel, thresh: int = 10, call_limit: float = CALL_LIMIT_DEFAULT):
        self.k = kernel
        self.thresh = thresh
        self.call_limit = call_limit
        self.depth = 0
        self.fired = False
        self.reason = "lockup"           # what fired: "lockup" or "limit" (kmsim.call_limit)
        self.started = 0.0               # process CPU time of the last scheduling point seen
        self._lock = threading.Lock()
        self._saved_handler: Any = None      # signal.signal's previous SIGINT handler
        self._timer: _Watcher | None = None

    def timeout_seconds(self) -> float:
        """Simulated seconds a function may run: the kernel reports after 2*thresh (+2 s tick)."""
        return 2 * self.thresh + 2

    def arm(self) -> None:
        """Called when module code starts (nested calls share the outermost timer)."""
        self.depth += 1
        if self.depth > 1 or (self.thresh <= 0 and self.call_limit <= 0):
            return
        if threading.current_thread() is not threading.main_thread():
            return
        self.fired = False
        self.started = time.process_time()
        # interrupt_main() does nothing while SIGINT is ignored (a background job)
        self._saved_handler = None
        if not callable(signal.getsignal(signal.SIGINT)):
            self._saved_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
        lockup = self.timeout_seconds() / SIM_SECONDS_PER_HOST_SECOND if self.thresh > 0 else 0.0
        self._timer = _Watcher(self, lockup, self.call_limit)
        _WatchThread.watch(self._timer)
        if self.k.module_depth == 0:         # the shell's py: SLUB's fast paths count for us
            self.k.slab.set_watched(True)

    def disarm(self) -> None:
        """Called when module code returns; idempotent for the outermost call."""
        if self.depth <= 0:
            return
        self.depth -= 1
        if self.depth == 0:
            with self._lock:
                t, self._timer = self._timer, None
            if t is not None:
                t.cancel()
            self.k.slab.set_watched(False)
            if self._saved_handler is not None:
                signal.signal(signal.SIGINT, self._saved_handler)
                self._saved_handler = None

    def _fire(self, watcher, reason: str, since: float) -> None:
        with self._lock:
            if self._timer is not watcher or self.depth == 0:
                return
            self.fired, self.reason, self.started = True, reason, since
        _thread.interrupt_main()

    def stuck_seconds(self) -> int:
        """The simulated time the CPU was stuck."""
        if self.k.seed is not None:
            return int(self.timeout_seconds())
        return int((time.process_time() - self.started) * SIM_SECONDS_PER_HOST_SECOND)

    def report(self, tb) -> None:
        """watchdog_timer_fn: 'watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [insmod:PID]';
        or, for a call that schedules but never returns, kmsim's own limit."""
        if self.reason == "limit":
            self.report_limit()
            return
        k = self.k
        r = k.reporter
        secs = self.stuck_seconds()
        k.advance_clock(secs * 1_000_000_000)        # the report comes after the stuck seconds
        lines = [f"watchdog: BUG: soft lockup - CPU#0 stuck for {secs}s! "
                 f"[{k.current.comm}:{k.current.pid}]", r.modules_linked_in()]
        lines += show_regs_of(k, tb)
        r.emit(lines[:1], level=0)
        r.emit(lines[1:], level=4)
        k.add_taint(TAINT_SOFTLOCKUP)
        k.printk.emit(4, "kmsim: the module function never returned (an endless loop?): a real "
                         "kernel would stay stuck, kmsim stopped it")
        self.fired = False

    def report_limit(self) -> None:
        """The kmsim: line for a call into module code stopped at kmsim.call_limit."""
        k = self.k
        k.printk.emit(4, f"kmsim: {k.current.comm}[{k.current.pid}] ran module code for "
                         f"{self.call_limit:g} s of CPU time without returning; it schedules, so "
                         f"it is no soft lockup, but kmsim stopped it (kmsim.call_limit="
                         f"{self.call_limit:g}; 0 for no limit)")
        self.fired = False
        self.reason = "lockup"


class _Watcher:
    """One call's watch: fires once the process has spent `limit` seconds of CPU without
    scheduling (a CPU that is busy, not a task that sleeps, is what a soft lockup means;
    and a loaded host does not make it fire early), or `call_limit` seconds in all."""

    def __init__(self, wd: Watchdog, limit: float, call_limit: float = 0.0):
        self.wd = wd
        self.limit = limit
        self.call_limit = call_limit
        self.start: float | None = None      # CPU time when the thread first saw it
        self.since = 0.0
        self.seen = 0

    def poll(self, now: float, count: int) -> bool:
        """One look, every 50 ms; True when it fired (it is then done)."""
        if self.start is None:
            self.start = self.since = now
            self.seen = count
            return False
        if count != self.seen:                 # it scheduled: the stuck time starts again
            self.seen, self.since = count, now
        elif self.limit and now - self.since >= self.limit:
            self.wd._fire(self, "lockup", self.since)
            return True
        if self.call_limit and now - self.start >= self.call_limit:
            self.wd._fire(self, "limit", self.since)
            return True
        return False

    def cancel(self) -> None:
        """Stop watching (the module code returned)."""
        _WatchThread.unwatch(self)


class _WatchThread(threading.Thread):
    """The process's one watchdog thread: it looks at the armed watches every 50 ms and
    waits, parked, while there are none (a thread started for each call into module code
    cost ~0.25 ms of CPU and more of wall time).  Started on the first arm; an idle one
    ends before a fork (a thread there would make Python 3.12+ warn that a multi-threaded
    process forks), and the next arm, in the parent or the child, starts another."""

    running: _WatchThread | None = None

    def __init__(self) -> None:
        super().__init__(name="kmsim-watchdog", daemon=True)
        self.cond = threading.Condition()
        self.watches: list[_Watcher] = []
        self.ending = False

    @classmethod
    def end_idle(cls) -> None:
        """Before a fork: end the thread if it watches nothing."""
        t = cls.running
        if t is None or not t.is_alive() or t is threading.current_thread():
            return
        with t.cond:
            if t.watches:
                return
            t.ending = True
            t.cond.notify()
        t.join()
        cls.running = None

    @classmethod
    def watch(cls, w: _Watcher) -> None:
        """Start watching w (its first look is now)."""
        t = cls.running
        if t is None or not t.is_alive():
            t = cls.running = cls()
            t.start()
        with t.cond:
            t.watches.append(w)
            t.cond.notify()

    @classmethod
    def unwatch(cls, w: _Watcher) -> None:
        """Stop watching w."""
        t = cls.running
        if t is None:
            return
        with t.cond:
            if w in t.watches:
                t.watches.remove(w)

    def run(self) -> None:
        cond = self.cond
        while True:
            with cond:
                while not self.watches and not self.ending:
                    cond.wait()
                if not self.watches:
                    return
                watches = list(self.watches)
            now, count = time.process_time(), RESCHED[0]
            done = [w for w in watches if w.poll(now, count)]
            with cond:
                for w in done:
                    if w in self.watches:
                        self.watches.remove(w)
                if not any(w.start is None for w in self.watches):
                    cond.wait(0.05)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_WatchThread.end_idle)


def show_regs_of(k, tb) -> list[str]:
    """show_regs() of the interrupted module code, as watchdog_timer_fn prints it: the CPU
    and hardware lines, the instruction pointer and the registers (Code: a jump to itself),
    then the call trace from the caller of the stuck function (ARM: its show_regs and
    backtrace)."""
    r = k.reporter
    rip = r.rip_of(tb)
    if k.machine.name == "rpi2":
        return r.arm_show_regs(rip, tb, [], "lockup")
    lines = [r.cpu_line(), r.hardware_line()] + r.regs_lines(rip, "lockup", tb=tb)
    inner = module_frames(k.modules.module_files(), tb=tb)
    return lines + r.trace_lines([], tb=tb, skip_rip=bool(inner) and inner[0][2] is not None)


def watchdog_init(kernel) -> Watchdog:
    """Boot step: read watchdog_thresh= and register the watchdog."""
    thresh = 10
    val = kernel.params.get("watchdog_thresh")
    if isinstance(val, str):
        with contextlib.suppress(ValueError):
            thresh = max(0, min(60, int(val)))
    limit: float = CALL_LIMIT_DEFAULT
    val = kernel.params.get("kmsim.call_limit")
    if isinstance(val, str):
        with contextlib.suppress(ValueError):
            limit = max(0.0, float(val))
    wd = Watchdog(kernel, thresh, limit)
    return wd
