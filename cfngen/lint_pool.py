"""Lint's worker processes: one warm child, forked into one process per core.

cfn-lint costs ~0.5 s to import and load its rules in every process, and linting the templates
of one environment is ~85 % of `cfngen lint`. So the CLI starts one child (the "zygote") before
it compiles the blueprint; the child imports cfn-lint and loads its rules (one set for every
region) while the parent compiles, on the other core. When the templates are known, the child
forks the other workers from its warm state (they share it, copy-on-write) and every worker
takes the next item from a shared counter until none is left: the biggest items are given
first, so the cores finish together. The child says when it is warm (`Pool.warming`): until
then the caller may do work of its own that costs no time, as it would only wait.

A failure of this machinery never changes a result: an item whose worker raised or died, or
every item when the child is gone, runs again in the calling process, where it behaves exactly
as it always did. The pool needs `fork` (Linux, macOS) and more than one core; elsewhere
`Pool.open` returns None and lint runs in-process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

_POLL = 0.5  # seconds between checks that the child is still there


def available_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


class Pool:
    """`call(fn, *args)` and `map(fn, items)` in the warm child (and, for `map`, its forks).

    `fn` must be a module-level function; arguments and results are pickled.
    """

    def __init__(
        self, jobs: int, warm: Callable[..., None] | None, *warm_args: Any, eager: bool = True
    ) -> None:
        self.jobs = jobs
        self._warm, self._warm_args = warm, warm_args
        self._child: Any = None
        self._broken = False
        self._used = False
        self._busy = False  # a request is out (the caller may have stopped listening)
        self._ready = False  # the child said it is warm
        if eager:
            self._start()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._inbox, inbox = ctx.Pipe(duplex=True)
        self._results, results = ctx.Pipe(duplex=False)
        lock = ctx.Lock()
        for stream in (sys.stdout, sys.stderr):  # a fork must not write the parent's buffers
            with contextlib.suppress(Exception):
                stream.flush()
        self._child = ctx.Process(
            target=_zygote,
            args=(
                inbox,
                self._inbox,
                results,
                self._results,
                lock,
                self.jobs,
                self._warm,
                self._warm_args,
            ),
            name="cfngen-lint",
            daemon=True,
        )
        self._child.start()
        inbox.close()
        results.close()

    @classmethod
    def open(
        cls,
        warm: Callable[..., None] | None = None,
        *warm_args: Any,
        jobs: int | None = None,
        eager: bool = True,
    ) -> Pool | None:
        """A pool over `jobs` (default: every available core) processes, or None when one
        process is all there is to use. `eager` starts warming up now; otherwise the first
        call or map starts it (when there may well be nothing to do)."""
        jobs = jobs or available_cores()
        if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return None
        try:
            return cls(jobs, warm, *warm_args, eager=eager)
        except (OSError, ImportError):  # no processes, pipes or semaphores: lint in-process
            return None

    def warming(self) -> bool:
        """Whether the child is still warming up (before any request): work the caller does
        now costs no time, as it would only wait for the child. False once it is warm, and
        when it is not started, gone or broken."""
        if self._ready or self._broken or self._used or self._child is None:
            return False
        try:
            while self._results.poll():
                if self._results.recv()[0] == "ready":
                    self._ready = True
        except (OSError, EOFError, pickle.PickleError):
            return False
        return not self._ready and self._child.exitcode is None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the child: politely when it is idle, at once when it is warming up or still
        working for a caller that stopped listening (Ctrl-C)."""
        if self._child is None or self._child.exitcode is not None:
            return
        if self._used and not self._broken and not self._busy:
            with contextlib.suppress(OSError):
                self._inbox.send(None)
            self._child.join(2)
        if self._child.exitcode is None:
            self._child.terminate()
            self._child.join(2)
        self._inbox.close()
        self._results.close()

    # --- running work ---------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` in the warm child; in this process if the child cannot."""
        for kind, _, value in self._exchange(("call", fn, args), expect=1):
            if kind == "ok":
                return value
        return fn(*args)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """(index, fn(item)) for every item, in the order they finish, on every core."""
        done: set[int] = set()
        if items:
            for kind, index, value in self._exchange(("map", fn, list(items)), expect=len(items)):
                if kind == "ok" and index not in done:
                    done.add(index)
                    yield index, value
        for index, item in enumerate(items):  # raised, died or never started: run it here
            if index not in done:
                yield index, fn(item)

    def _exchange(self, request: tuple[Any, ...], expect: int) -> Iterator[tuple[str, int, Any]]:
        """Send one request; yield what comes back until `expect` answers or the end."""
        if self._broken:
            return
        self._used = self._busy = True
        try:
            if self._child is None:
                self._start()
            self._inbox.send(request)
            answers = 0
            while answers < expect:
                if not self._results.poll(_POLL):
                    if self._child.exitcode is not None:
                        raise EOFError("the lint child is gone")
                    continue
                kind, index, value = self._results.recv()
                if kind == "ready":  # said once, when warm: not an answer
                    self._ready = True
                    continue
                if kind == "end":  # fewer answers: a worker died (the caller re-runs)
                    self._busy = False
                    return
                answers += 1
                yield kind, index, value
            if request[0] == "map":
                while self._results.recv()[0] != "end":
                    pass
            self._busy = False
        except (
            OSError,
            EOFError,
            ImportError,
            ValueError,
            TypeError,
            AttributeError,
            pickle.PickleError,
        ):
            # a broken pipe, a child gone, no semaphores, something that does not pickle:
            # stop using the child; the caller runs what is missing itself
            self._broken = True
            if self._child is not None:
                self._child.terminate()


# --- the child ------------------------------------------------------------------------------


def _zygote(
    inbox: Connection,
    parent_end: Connection,
    results: Connection,
    parent_results: Connection,
    lock: Any,
    jobs: int,
    warm: Callable[..., None] | None,
    warm_args: tuple[Any, ...],
) -> None:
    parent_end.close()
    parent_results.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    workers: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        for pid in workers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        os._exit(1)

    signal.signal(signal.SIGTERM, stop)
    if warm is not None:
        with contextlib.suppress(Exception):  # warming up is an optimisation, never an error
            warm(*warm_args)
    with lock:
        results.send(("ready", -1, None))
    while True:
        try:
            request = inbox.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        if request[0] == "call":
            _, fn, args = request
            _answer(results, lock, -1, fn, args)
            continue
        _, fn, items = request
        counter = multiprocessing.get_context("fork").Value("i", 0)
        workers[:] = []
        for _ in range(min(jobs, len(items)) - 1):
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _work(results, lock, counter, fn, items)
                os._exit(0)
            workers.append(pid)
        _work(results, lock, counter, fn, items)
        for pid in workers:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        workers[:] = []
        with lock:
            results.send(("end", -1, None))


def _work(
    results: Connection, lock: Any, counter: Any, fn: Callable[[Any], Any], items: list[Any]
) -> None:
    parent = os.getppid()
    while os.getppid() == parent:  # an orphan (its parent killed) stops at the next item
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        if index >= len(items):
            return
        _answer(results, lock, index, fn, (items[index],))


def _answer(results: Connection, lock: Any, index: int, fn: Callable[..., Any], args: Any) -> None:
    try:
        message: tuple[str, int, Any] = ("ok", index, fn(*args))
    except Exception as err:  # the parent runs the item again and reports what happens
        message = ("err", index, f"{type(err).__name__}: {err}")
    with lock:
        try:
            results.send(message)
        except Exception as err:  # an answer that does not pickle: the parent re-runs it
            results.send(("err", index, f"{type(err).__name__}: {err}"))
