"""Per-node DAG scheduling: a node starts as soon as its own dependencies are done.

Level-by-level batches (Sceptre) make one slow stack hold back unrelated ones; here a stack waits
only for what it imports from. A failure marks every node that (transitively) depends on it as
skipped and lets independent nodes run to the end, so one broken service does not stop the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Hashable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


@dataclass
class GraphRun(Generic[K, R]):
    """What happened to each node: a result, skipped (and the failed node it needed), or not run."""

    results: dict[K, R] = field(default_factory=dict)
    skipped: dict[K, K] = field(default_factory=dict)  # node -> the failed dependency
    not_started: list[K] = field(default_factory=list)  # left when the run was interrupted
    running: list[K] = field(default_factory=list)  # in flight when the run was interrupted
    interrupted: bool = False


def reverse(deps: Mapping[K, Collection[K]]) -> dict[K, set[K]]:
    """Dependents instead of dependencies (destroy runs the graph backwards)."""
    out: dict[K, set[K]] = {k: set() for k in deps}
    for node, needs in deps.items():
        for need in needs:
            if need in out:
                out[need].add(node)
    return out


def closure(deps: Mapping[K, Collection[K]], wanted: Collection[K]) -> set[K]:
    """`wanted` plus everything they need, transitively (`--stack` deploys these)."""
    seen: set[K] = set()
    todo = list(wanted)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(n for n in deps.get(node, ()) if n in deps)
    return seen


def run_graph(
    deps: Mapping[K, Collection[K]],
    work: Callable[[K], R],
    succeeded: Callable[[R], bool],
    *,
    concurrency: int,
    cancel: threading.Event,
    order: Collection[K] | None = None,
    idle: Callable[[], None] | None = None,
) -> GraphRun[K, R]:
    """Run `work` on every node once all its dependencies succeeded, `concurrency` at a time.

    Dependencies outside `deps` are treated as satisfied (they are not part of this run).
    `order` breaks ties between ready nodes (the deploy order, for readable output). When
    `cancel` is set no new node starts; nodes in flight are expected to notice and raise.
    Exceptions from `work` propagate after in-flight nodes have finished. Ctrl-C (in the
    calling thread) sets `cancel`, waits for the workers and returns with `interrupted` set.
    `idle` runs in the calling thread between waits (at least every 0.2 s): work that must
    happen on the main thread, such as prompting the user, so Ctrl-C reaches it there.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    rank = {k: i for i, k in enumerate(order or deps)}
    pending = {k: {d for d in v if d in deps} for k, v in deps.items()}
    dependents = reverse(deps)
    run: GraphRun[K, R] = GraphRun()
    done: set[K] = set()
    in_flight: dict[Future[R], K] = {}
    error: BaseException | None = None
    started: set[K] = set()
    ended: set[K] = set()

    def skip_dependents(failed: K, cause: K) -> None:
        for child in dependents.get(failed, ()):
            if child not in run.skipped and child in pending:
                run.skipped[child] = cause
                del pending[child]
                skip_dependents(child, cause)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="cfngen") as pool:
        try:
            while pending or in_flight:
                if not cancel.is_set() and error is None:
                    ready = sorted(
                        (k for k, needs in pending.items() if needs <= done),
                        key=lambda k: rank.get(k, len(rank)),
                    )
                    for node in ready[: concurrency - len(in_flight)]:
                        del pending[node]
                        started.add(node)  # before submit: Ctrl-C may land in between
                        in_flight[pool.submit(work, node)] = node
                if not in_flight:
                    break
                if idle is not None:
                    idle()
                finished, _ = wait(list(in_flight), timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    node = in_flight.pop(future)
                    ended.add(node)
                    exc = future.exception()
                    if exc is not None:
                        error = error or exc
                        skip_dependents(node, node)
                        continue
                    result = future.result()
                    run.results[node] = result
                    if succeeded(result):
                        done.add(node)
                    else:
                        skip_dependents(node, node)
        except KeyboardInterrupt:
            cancel.set()
            run.running = sorted(started - ended, key=lambda k: rank.get(k, 0))
            run.not_started = sorted(pending, key=lambda k: rank.get(k, 0))
            wait(list(in_flight))  # workers see `cancel` at their next poll and return quickly
            for future, node in in_flight.items():
                if future.exception() is None:
                    run.results[node] = future.result()
            run.interrupted = True
            return run
        run.not_started = sorted(pending, key=lambda k: rank.get(k, 0))
    if error is not None:
        raise error
    return run
