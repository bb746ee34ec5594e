"""End-to-end deploys of a hand-built five-stack environment on a real MiniStack.

Nothing here is mocked: stacks are created, updated, rolled back and deleted by the emulator's
CloudFormation. API calls are counted with botocore event hooks to prove what was (not) called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from cfngen.deploy.aws import CallCounter, Clients
from cfngen.deploy.deployer import DeployOptions, Deployment, DeploySummary, Outcome
from cfngen.deploy.destroy import destroy_environment
from cfngen.deploy.poll import PollPolicy
from cfngen.deploy.state import describe_stack
from cfngen.render import RenderedEnvironment
from tests.deploy.sample import APP_A, broken, sample_environment, with_stack

pytestmark = pytest.mark.xdist_group("ministack")

FAST = PollPolicy(initial=0.1, factor=1.5, maximum=1.0, timeout=120)


def deploy(env: RenderedEnvironment, clients: Clients, **options: Any) -> DeploySummary:
    opts = DeployOptions(poll=FAST, **options)
    return Deployment(env, clients, opts).deploy()


def outcomes(summary: DeploySummary) -> dict[str, Outcome]:
    return {r.name.rsplit("-", 1)[-1] if False else r.name: r.outcome for r in summary.results}


def by_component(env: RenderedEnvironment, summary: DeploySummary) -> dict[str, Outcome]:
    names = {s.name: s.component for s in env.stacks}
    return {names[r.name]: r.outcome for r in summary.results}


def ssm_value(emulator: str, name: str) -> str:
    ssm = boto3.client("ssm", endpoint_url=emulator, region_name="eu-west-1")
    return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])


def test_deploy_from_nothing_then_again_creates_no_change_set(
    emulator: str, clients: Clients, counter: CallCounter
) -> None:
    env = sample_environment()
    first = deploy(env, clients)
    assert first.ok, first.render()
    assert set(by_component(env, first).values()) == {Outcome.CREATED}
    for stack in env.stacks:
        state = describe_stack(clients.cloudformation, stack.name)
        assert state is not None and state.status == "CREATE_COMPLETE"
        assert state.tags["cfngen:environment"] == "test"
    # imports resolved to the exporting stacks' real values
    topic = describe_stack(clients.cloudformation, env.stack("network").name)
    assert topic is not None
    topic_arn = dict((o["OutputKey"], o["OutputValue"]) for o in topic.outputs)["TopicArn"]
    assert ssm_value(emulator, "/sample-test/app-a/topic") == topic_arn
    assert ssm_value(emulator, "/sample-test/edge/value") == "/sample-test/network/name"
    assert counter.calls["CreateChangeSet"] == 5

    counter.calls.clear()
    second = deploy(env, clients)
    assert second.ok
    assert set(by_component(env, second).values()) == {Outcome.UNCHANGED}
    assert counter.calls["CreateChangeSet"] == 0
    assert counter.calls["ExecuteChangeSet"] == 0
    assert "5 unchanged" in second.render()


def test_changing_one_stack_updates_only_it_and_plan_reports_it_first(
    emulator: str, clients: Clients, counter: CallCounter
) -> None:
    env = sample_environment()
    assert deploy(env, clients).ok
    changed = with_stack(
        env,
        "app-a",
        body=APP_A.replace("RetentionInDays: 7", "RetentionInDays: 14"),
        parameters={"EnvironmentName": env.environment_name, "Setting": "two"},
    )

    counter.calls.clear()
    report = Deployment(changed, clients, DeployOptions(poll=FAST)).plan()
    actions = {p.component: p.action for p in report.stacks}
    assert actions == {
        "network": "unchanged",
        "solo": "unchanged",
        "app-a": "update",
        "app-b": "unchanged",
        "edge": "unchanged",
    }
    plan = next(p for p in report.stacks if p.component == "app-a")
    logs = next(r for r in plan.resources if r.logical_id == "Logs")
    retention = next(p for p in logs.properties if p.name == "RetentionInDays")
    assert (retention.before, retention.after) == (7, 14)
    assert [(p.name, p.before, p.after) for p in plan.parameters] == [("Setting", "one", "two")]
    assert counter.calls["CreateChangeSet"] == 1
    assert counter.calls["DeleteChangeSet"] == 1
    assert counter.calls["ExecuteChangeSet"] == 0

    counter.calls.clear()
    summary = deploy(changed, clients)
    assert by_component(changed, summary) == {
        "network": Outcome.UNCHANGED,
        "solo": Outcome.UNCHANGED,
        "app-a": Outcome.UPDATED,
        "app-b": Outcome.UNCHANGED,
        "edge": Outcome.UNCHANGED,
    }
    assert counter.calls["CreateChangeSet"] == 1
    assert ssm_value(emulator, "/sample-test/app-a/setting") == "two"
    state = describe_stack(clients.cloudformation, env.stack("app-a").name)
    assert state is not None and state.status == "UPDATE_COMPLETE"


def test_failed_stack_rolls_back_skips_dependents_and_recovers_on_rerun(
    emulator: str, clients: Clients
) -> None:
    env = sample_environment()
    bad = broken(env, "app-b")
    summary = deploy(bad, clients)
    assert not summary.ok and summary.exit_code == 1
    assert by_component(bad, summary) == {
        "network": Outcome.CREATED,
        "solo": Outcome.CREATED,
        "app-a": Outcome.CREATED,
        "app-b": Outcome.FAILED,
        "edge": Outcome.SKIPPED,
    }
    failed = next(r for r in summary.results if r.outcome is Outcome.FAILED)
    assert "ROLLBACK_COMPLETE" in failed.message
    assert "Broken" in failed.message and "NotAType" in failed.message
    text = summary.render()
    assert "needs sample-test-app-b, which did not deploy" in text
    assert "deploy again" in text
    state = describe_stack(clients.cloudformation, env.stack("app-b").name)
    assert state is not None and state.status == "ROLLBACK_COMPLETE"
    assert describe_stack(clients.cloudformation, env.stack("edge").name) is None

    again = deploy(env, clients)  # fixed: the ROLLBACK_COMPLETE stack is deleted and recreated
    assert again.ok, again.render()
    assert by_component(env, again) == {
        "network": Outcome.UNCHANGED,
        "solo": Outcome.UNCHANGED,
        "app-a": Outcome.UNCHANGED,
        "app-b": Outcome.CREATED,
        "edge": Outcome.CREATED,
    }


def test_failed_update_rolls_back_to_previous_version(emulator: str, clients: Clients) -> None:
    env = sample_environment()
    assert deploy(env, clients).ok
    summary = deploy(broken(env, "app-a"), clients)
    result = next(r for r in summary.results if r.name == env.stack("app-a").name)
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("UPDATE_ROLLBACK_COMPLETE")
    assert "previous version" in result.next_step
    state = describe_stack(clients.cloudformation, env.stack("app-a").name)
    assert state is not None and state.status == "UPDATE_ROLLBACK_COMPLETE"
    # the next deploy of the good version finds it unchanged: the rollback restored it
    assert by_component(env, deploy(env, clients))["app-a"] is Outcome.UNCHANGED


def _record_order(client: Any, operation: str) -> list[str]:
    order: list[str] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        order.append(str(params["body"]["StackName"]))

    client.meta.events.register(f"before-call.cloudformation.{operation}", hook)
    return order


@pytest.mark.parametrize("concurrency", [1, 4])
def test_deploy_and_destroy_in_dependency_order(
    emulator: str, clients: Clients, concurrency: int
) -> None:
    env = sample_environment()
    created = _record_order(clients.cloudformation, "ExecuteChangeSet")
    summary = deploy(env, clients, concurrency=concurrency)
    assert summary.ok, summary.render()
    position = {name: i for i, name in enumerate(created)}
    for stack in env.stacks:
        for dep in stack.depends_on:
            assert position[env.stack(dep).name] < position[stack.name]
    if concurrency == 1:
        assert created == [s.name for s in env.stacks]

    deleted = _record_order(clients.cloudformation, "DeleteStack")
    result = destroy_environment(env, clients, concurrency=concurrency, poll=FAST)
    assert result.exit_code == 0, result.render()
    assert {r.outcome for r in result.results} == {"deleted"}
    order = {name: i for i, name in enumerate(deleted)}
    for stack in env.stacks:
        for dep in stack.depends_on:
            assert order[stack.name] < order[env.stack(dep).name]
    for stack in env.stacks:
        assert describe_stack(clients.cloudformation, stack.name) is None

    again = destroy_environment(env, clients, poll=FAST)  # nothing left: every stack absent
    assert {r.outcome for r in again.results} == {"absent"}


def test_stack_option_deploys_the_stack_and_what_it_needs(emulator: str, clients: Clients) -> None:
    env = sample_environment()
    summary = deploy(env, clients, stacks=("edge",))
    assert summary.ok
    assert [r.name for r in summary.results] == [
        env.stack(c).name for c in ("network", "app-b", "edge")
    ]
    assert describe_stack(clients.cloudformation, env.stack("solo").name) is None


def _noop(*_: Any) -> Callable[..., None]:
    return lambda *a, **k: None
