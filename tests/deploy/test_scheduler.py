"""The per-node scheduler, with real threads: starts, skips and limits are observed, not mocked."""

from __future__ import annotations

import threading
import time

import pytest

from cfngen.deploy.scheduler import closure, reverse, run_graph


def test_a_node_starts_as_soon_as_its_own_dependencies_finish() -> None:
    # slow -> after_slow ; fast -> after_fast. after_fast must not wait for slow.
    deps = {"slow": set(), "fast": set(), "after_slow": {"slow"}, "after_fast": {"fast"}}
    finished: dict[str, float] = {}
    started: dict[str, float] = {}

    def work(node: str) -> bool:
        started[node] = time.monotonic()
        time.sleep(0.4 if node == "slow" else 0.02)
        finished[node] = time.monotonic()
        return True

    run = run_graph(deps, work, bool, concurrency=4, cancel=threading.Event())
    assert set(run.results) == set(deps)
    assert started["after_fast"] < finished["slow"]  # not level by level
    assert started["after_slow"] >= finished["slow"]


def test_failure_skips_dependents_and_independent_nodes_finish() -> None:
    deps = {"a": set(), "b": {"a"}, "c": {"b"}, "d": set(), "e": {"d"}}
    run = run_graph(deps, lambda n: n != "a", bool, concurrency=2, cancel=threading.Event())
    assert run.results == {"a": False, "d": True, "e": True}
    assert run.skipped == {"b": "a", "c": "a"}


def test_concurrency_is_a_hard_limit() -> None:
    deps: dict[str, set[str]] = {str(i): set() for i in range(8)}
    running = 0
    peak = 0
    lock = threading.Lock()

    def work(_: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return True

    run_graph(deps, work, bool, concurrency=3, cancel=threading.Event())
    assert peak == 3


def test_concurrency_one_follows_the_given_order() -> None:
    deps = {"net": set(), "solo": set(), "a": {"net"}, "b": {"net"}}
    seen: list[str] = []

    def work(node: str) -> bool:
        seen.append(node)
        return True

    run_graph(
        deps, work, bool, concurrency=1, cancel=threading.Event(), order=["net", "solo", "a", "b"]
    )
    assert seen == ["net", "solo", "a", "b"]


def test_an_exception_propagates_after_in_flight_work() -> None:
    def work(node: str) -> bool:
        if node == "x":
            raise RuntimeError("boom")
        return True

    with pytest.raises(RuntimeError, match="boom"):
        run_graph({"x": set(), "y": {"x"}}, work, bool, concurrency=2, cancel=threading.Event())


def test_reverse_and_closure() -> None:
    deps = {"net": set(), "a": {"net"}, "edge": {"a"}, "solo": set()}
    assert reverse(deps) == {"net": {"a"}, "a": {"edge"}, "edge": set(), "solo": set()}
    assert closure(deps, ["edge"]) == {"edge", "a", "net"}


def test_ctrl_c_cancels_waiting_and_reports_what_was_running() -> None:
    import _thread

    cancel = threading.Event()

    def work(node: str) -> str:
        if node == "a":
            time.sleep(0.05)
            _thread.interrupt_main()  # what Ctrl-C does: KeyboardInterrupt in the main thread
            assert cancel.wait(5), "the scheduler never set cancel"
            return "interrupted"
        return "ran"

    run = run_graph(
        {"a": set(), "b": {"a"}}, work, lambda r: r == "ran", concurrency=2, cancel=cancel
    )
    assert run.interrupted
    assert run.running == ["a"] and run.not_started == ["b"]
    assert run.results == {"a": "interrupted"}
