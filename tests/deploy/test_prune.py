"""Removed components: plan lists their stacks, deploy --prune deletes them in order,
destroy --stack accepts them. Driven through the CLI against MiniStack."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from cfngen.cli import cli
from cfngen.deploy.orphans import Orphan, destroy_edges, orphan_exporters, prune_graph
from cfngen.deploy.state import StackState
from cfngen.render import RenderedEnvironment
from tests.deploy.sample import sample_environment, with_stack, write_rendered

pytestmark = pytest.mark.xdist_group("ministack")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def without(env: RenderedEnvironment, *components: str) -> RenderedEnvironment:
    return replace(env, stacks=tuple(s for s in env.stacks if s.component not in components))


def network_without_param_export(env: RenderedEnvironment) -> RenderedEnvironment:
    network = env.stack("network")
    head, _, _ = network.body.partition("  ParamName:\n")
    return with_stack(
        env,
        "network",
        # a resource change too: MiniStack reports an Outputs-only change set as empty
        body=head.replace("network-v1", "network-v2"),
        exports=tuple(e for e in network.exports if "Param" not in e),
    )


class Env:
    def __init__(self, endpoint: str, tmp_path: Path) -> None:
        self.endpoint = endpoint
        self.out = tmp_path / "out"
        self.cfn = boto3.client(
            "cloudformation",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def write(self, env: RenderedEnvironment) -> None:
        write_rendered(env, self.out)

    def cli(self, command: str, *extra: str) -> tuple[int, str]:
        target = [str(self.out), "--env", "test", "--endpoint-url", self.endpoint]
        if command in ("deploy", "destroy"):
            target += ["--yes", "--poll-interval", "0.1"]
        return run(command, *target, *extra)

    def names(self) -> set[str]:
        stacks = self.cfn.describe_stacks()["Stacks"]
        return {s["StackName"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"}


@pytest.fixture
def deployed(emulator: str, tmp_path: Path) -> Env:
    target = Env(emulator, tmp_path)
    target.write(sample_environment())
    code, output = target.cli("deploy")
    assert code == 0, output
    return target


def test_plan_lists_a_removed_component_and_deploy_prune_deletes_it(deployed: Env) -> None:
    deployed.write(without(sample_environment(), "edge"))
    code, output = deployed.cli("plan", "--detailed-exitcode")
    assert code == 0, output  # an orphan is not a change to the blueprint's stacks
    assert "sample-test-edge: orphan" in output
    assert "no longer in the blueprint; `cfngen deploy --prune` deletes it" in output
    assert "1 orphan" in output

    code, output = deployed.cli("deploy")  # without --prune it stays
    assert code == 0, output
    assert "sample-test-edge" in deployed.names()

    code, output = deployed.cli("deploy", "--prune")
    assert code == 0, output
    assert re.search(r"sample-test-edge +deleted +no longer in the blueprint", output)
    assert "sample-test-edge" not in deployed.names()
    code, output = deployed.cli("plan")
    assert "orphan" not in output


def test_a_removed_component_whose_import_blocks_an_export_is_explained(deployed: Env) -> None:
    """app-b imports network's ParamName; the blueprint drops app-b, edge and that export."""
    changed = network_without_param_export(without(sample_environment(), "app-b", "edge"))
    deployed.write(changed)
    code, output = deployed.cli("deploy")
    assert code == 1, output
    assert "sample-test-network-ParamName would be removed or changed but is imported by " in output
    assert (
        "sample-test-app-b is no longer in the blueprint: `cfngen deploy --prune` deletes it "
        "before this stack is updated" in output
    )
    assert "deploy those stacks without the import" not in output

    code, output = deployed.cli("deploy", "--prune")
    assert code == 0, output
    # edge (imports app-b) goes first, then app-b, then network drops the export
    assert re.search(r"sample-test-network +updated", output)
    assert {"sample-test-app-b", "sample-test-edge"}.isdisjoint(deployed.names())
    outputs = deployed.cfn.describe_stacks(StackName="sample-test-network")["Stacks"][0]
    assert [o["OutputKey"] for o in outputs.get("Outputs", [])] == ["TopicArn"]
    code, output = deployed.cli("deploy", "--prune")
    assert code == 0 and "3 stacks: 3 unchanged" in output, output


def test_destroy_stack_accepts_a_removed_component(deployed: Env) -> None:
    deployed.write(without(sample_environment(), "edge", "app-b"))
    code, output = deployed.cli("destroy", "--stack", "app-b")
    assert code == 2, output
    assert "sample-test-app-b cannot be deleted while sample-test-edge imports from it" in output
    code, output = deployed.cli("destroy", "--stack", "app-b", "--stack", "sample-test-edge")
    assert code == 0, output
    assert {"sample-test-app-b", "sample-test-edge"}.isdisjoint(deployed.names())
    assert "sample-test-network" in deployed.names()


def test_full_destroy_deletes_removed_components_too(deployed: Env) -> None:
    deployed.write(without(sample_environment(), "edge", "app-b"))
    code, output = deployed.cli("destroy")
    assert code == 0, output
    assert output.count(" deleted") == 5, output
    assert not {n for n in deployed.names() if n.startswith("sample-test-")}


def test_unknown_destroy_stack_is_bad_input(deployed: Env) -> None:
    code, output = deployed.cli("destroy", "--stack", "nope")
    assert code == 2
    assert "unknown stack: nope" in output


def orphan(
    name: str, *, imports: frozenset[str] = frozenset(), importers: tuple[str, ...] = ()
) -> Orphan:
    state = StackState(name=name, stack_id=f"id/{name}", status="UPDATE_COMPLETE")
    return Orphan(name, name, "eu-west-1", state, imports, importers)


def test_prune_graph_orders_orphans_between_importers_and_export_droppers() -> None:
    env = network_without_param_export(without(sample_environment(), "app-b", "edge"))
    deps = {
        "sample-test-network": set(),
        "sample-test-solo": set(),
        "sample-test-app-a": {"sample-test-network"},
    }
    deployed = {
        "sample-test-network": {"sample-test-network-TopicArn", "sample-test-network-ParamName"}
    }
    app_b = orphan(
        "sample-test-app-b",
        imports=frozenset({"sample-test-network-ParamName"}),
        importers=("sample-test-edge",),
    )
    edge = orphan("sample-test-edge", imports=frozenset({"sample-test-app-b-QueueValue"}))
    graph = prune_graph(deps, env, [app_b, edge], deployed)
    assert graph["sample-test-app-b"] == {"sample-test-edge"}  # after its importer is gone
    assert graph["sample-test-network"] == {"sample-test-app-b"}  # before the export is dropped
    assert graph["sample-test-edge"] == set()


def test_prune_graph_leaves_out_the_ordering_that_would_be_a_cycle() -> None:
    env = network_without_param_export(without(sample_environment(), "app-b", "edge"))
    # app-a imports the orphan and network; network drops an export the orphan imports
    deps = {"sample-test-network": set(), "sample-test-app-a": {"sample-test-network"}}
    deployed = {"sample-test-network": {"sample-test-network-ParamName"}}
    odd = orphan(
        "sample-test-old",
        imports=frozenset({"sample-test-network-ParamName"}),
        importers=("sample-test-app-a",),
    )
    graph = prune_graph(deps, env, [odd], deployed)
    assert graph["sample-test-old"] == {"sample-test-app-a"}
    assert graph["sample-test-network"] == set()  # the refusal explains the rest


def test_destroy_deletes_an_orphan_after_its_importers_and_before_its_exporters() -> None:
    deps = {"sample-test-network": set(), "sample-test-app-a": {"sample-test-network"}}
    old = orphan(
        "sample-test-old",
        imports=frozenset({"sample-test-network-TopicArn"}),
        importers=("sample-test-app-a",),
    )
    exporters = orphan_exporters([old], {"sample-test-network": {"sample-test-network-TopicArn"}})
    graph = destroy_edges(deps, [old], exporters)
    assert graph["sample-test-old"] == {"sample-test-network"}  # it imports from network
    assert "sample-test-old" in graph["sample-test-app-a"]  # app-a imports from it
