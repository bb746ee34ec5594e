"""Names and the graph."""

from __future__ import annotations

import pytest

from cfngen.stacks import CycleError, dependents, deploy_order, find_cycle, logical_id


def test_logical_id() -> None:
    assert logical_id("payload-db", "instance") == "PayloadDbInstance"
    assert logical_id("update_env", "Task", "role") == "UpdateEnvTaskRole"


def test_deploy_order_is_topological_and_stable() -> None:
    graph = {"network": [], "security": ["network"], "b": ["security"], "a": ["network"]}
    assert deploy_order(graph) == ["network", "security", "b", "a"]


def test_cycle_is_reported_as_a_closed_path() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": []}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    with pytest.raises(CycleError, match="a -> b -> c -> a"):
        deploy_order(graph)


def test_dependents_are_transitive() -> None:
    graph = {"n": [], "s": ["n"], "x": ["s"], "y": []}
    assert dependents(graph, "n") == {"s", "x"}
