"""End-to-end deploys of a hand-built five-stack environment on a real MiniStack.

Nothing here is mocked: stacks are created, updated, rolled back and deleted by the emulator's
CloudFormation. API calls are counted with botocore event hooks to prove what was (not) called.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any

import boto3
import pytest

from cfngen.deploy.aws import CallCounter, Clients
from cfngen.deploy.deployer import Deployment, DeployOptions, DeploySummary, Outcome
from cfngen.deploy.destroy import destroy_environment
from cfngen.deploy.diff import render_text
from cfngen.deploy.poll import PollPolicy
from cfngen.deploy.state import describe_stack
from cfngen.render import RenderedEnvironment
from tests.deploy.sample import APP_A, SOLO, broken, sample_environment, with_stack

pytestmark = pytest.mark.xdist_group("ministack")

SETTING_VALUE = "      Value: !Ref Setting\n"

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
        body=APP_A.replace(SETTING_VALUE, "      Description: the setting\n" + SETTING_VALUE),
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
    setting = next(r for r in plan.resources if r.logical_id == "SettingParam")
    assert setting.action == "Modify" and setting.replacement == "False"
    description = next(p for p in setting.properties if p.name == "Description")
    assert (description.before, description.after) == (None, "the setting")
    value = next(p for p in setting.properties if p.name == "Value")
    assert value.cause == "parameter Setting"
    assert "Description: None -> 'the setting'" in render_text(report) or (
        "Description: null -> the setting" in render_text(report)
    )
    assert [(p.name, p.before, p.after) for p in plan.parameters] == [("Setting", "one", "two")]
    assert counter.calls["CreateChangeSet"] == 1
    assert counter.calls["DeleteChangeSet"] == 1
    assert counter.calls["ExecuteChangeSet"] == 0

    counter.calls.clear()
    summary = deploy(changed, clients)
    assert summary.ok, summary.render()
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
        name = str(params["body"]["StackName"])  # a name, or an ARN .../stack/NAME/id
        order.append(name.split("/")[1] if name.startswith("arn:") else name)

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


def test_stateful_replacement_is_refused_without_allow_replace(
    emulator: str, clients: Clients, counter: CallCounter
) -> None:
    env = sample_environment()
    assert deploy(env, clients).ok
    renamed = with_stack(env, "solo", body=SOLO.replace("-solo-data", "-solo-data2"))
    counter.calls.clear()
    refused = deploy(renamed, clients)
    result = next(r for r in refused.results if r.name == env.stack("solo").name)
    assert result.outcome is Outcome.FAILED and refused.exit_code == 1
    assert "Bucket (AWS::S3::Bucket)" in result.message and "--allow-replace" in result.message
    assert counter.calls["ExecuteChangeSet"] == 0
    assert counter.calls["DeleteChangeSet"] == 1  # nothing left behind

    allowed = deploy(renamed, clients, allow_replace=True)
    assert by_component(renamed, allowed)["solo"] is Outcome.UPDATED


def test_removing_an_export_in_use_is_refused_with_the_importers(
    emulator: str, clients: Clients, counter: CallCounter
) -> None:
    env = sample_environment()
    assert deploy(env, clients).ok
    network = env.stack("network")
    # drop the ParamName output (app-b imports it); also change a resource, because MiniStack
    # reports an Outputs-only change set as empty (emulator_gaps.KNOWN_DIFFERENCES)
    body = network.body.split("  ParamName:")[0].replace("network-v1", "network-v2")
    exports = tuple(e for e in network.exports if not e.endswith("ParamName"))
    changed = with_stack(env, "network", body=body, exports=exports)
    counter.calls.clear()
    summary = deploy(changed, clients, stacks=("network",))
    result = summary.results[0]
    assert result.outcome is Outcome.FAILED
    assert "export sample-test-network-ParamName" in result.message
    assert "imported by sample-test-app-b" in result.message
    assert counter.calls["ListImports"] == 1
    assert counter.calls["ExecuteChangeSet"] == 0
    report = Deployment(changed, clients, DeployOptions(poll=FAST)).plan()
    plan = next(p for p in report.stacks if p.component == "network")
    assert plan.removed_exports == ["sample-test-network-ParamName"]
    assert plan.affected_stacks == ["sample-test-app-b"]


def test_large_template_goes_through_the_artifact_bucket(
    emulator: str, clients: Clients, counter: CallCounter
) -> None:
    env = sample_environment()
    solo = env.stack("solo")
    body = solo.body + "# " + "x" * 52_000 + "\n"  # over 51,200 bytes, comments only
    big = replace(env, stacks=(replace(solo, body=body),))
    summary = deploy(big, clients)
    assert summary.ok, summary.render()
    assert counter.calls["CreateChangeSet"] == 1
    bucket = "cfngen-artifacts-000000000000-eu-west-1"  # MiniStack's account id
    s3 = clients.s3
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("sample-test/solo/")
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    # deployed template equals the rendered one: the next deploy is a no-op
    counter.calls.clear()
    assert by_component(big, deploy(big, clients))["solo"] is Outcome.UNCHANGED
    assert counter.calls["CreateChangeSet"] == 0


def test_live_and_plain_progress_show_stacks_and_events(emulator: str, clients: Clients) -> None:
    import io

    from rich.console import Console

    from cfngen.deploy.progress import PlainReporter, RichReporter

    env = sample_environment()
    screen = io.StringIO()
    live = RichReporter(Console(file=screen, force_terminal=True, width=120))
    try:
        assert Deployment(env, clients, DeployOptions(poll=FAST), live).deploy().ok
    finally:
        live.close()
    assert "sample-test-edge" in screen.getvalue() and "CREATE_COMPLETE" in screen.getvalue()

    lines = io.StringIO()
    changed = with_stack(
        env, "app-a", parameters={"EnvironmentName": "sample-test", "Setting": "plain"}
    )
    summary = Deployment(changed, clients, DeployOptions(poll=FAST), PlainReporter(lines)).deploy()
    assert summary.ok
    text = lines.getvalue()
    assert "sample-test-app-a    UPDATE_IN_PROGRESS" in text
    assert "SettingParam UPDATE_COMPLETE" in text
    assert "parameter Setting: 'one' -> 'plain'" in text  # the diff is shown before executing


def test_declined_change_set_changes_nothing_and_skips_dependents(
    emulator: str, clients: Clients, counter: CallCounter
) -> None:
    env = sample_environment()
    asked: list[str] = []

    def decline_app_b(plan: Any) -> bool:
        # prompts run on the main thread, so Ctrl-C during a question reaches the scheduler
        assert threading.current_thread() is threading.main_thread()
        asked.append(plan.name)
        return plan.component != "app-b"

    summary = Deployment(env, clients, DeployOptions(poll=FAST), confirm=decline_app_b).deploy()
    assert by_component(env, summary) == {
        "network": Outcome.CREATED,
        "solo": Outcome.CREATED,
        "app-a": Outcome.CREATED,
        "app-b": Outcome.DECLINED,
        "edge": Outcome.SKIPPED,
    }
    assert sorted(asked) == sorted(s.name for s in env.stacks if s.component != "edge")
    # the declined new stack leaves nothing behind (its REVIEW_IN_PROGRESS shell is removed)
    assert describe_stack(clients.cloudformation, env.stack("app-b").name) is None


def test_termination_protection_is_applied_and_respected_by_destroy(
    emulator: str, clients: Clients
) -> None:
    env = sample_environment()
    protected = with_stack(env, "solo", termination_protection=True)
    assert deploy(protected, clients).ok
    state = describe_stack(clients.cloudformation, env.stack("solo").name)
    assert state is not None and state.termination_protection
    result = destroy_environment(protected, clients, poll=FAST)
    solo = next(r for r in result.results if r.name == env.stack("solo").name)
    assert solo.outcome == "failed" and "update-termination-protection" in solo.message
    assert result.exit_code == 1
    # switching it off in the rendered environment turns it off on the next deploy
    assert by_component(env, deploy(env, clients))["solo"] is Outcome.UNCHANGED
    assert destroy_environment(env, clients, poll=FAST).exit_code == 0


def test_destroy_lists_retained_resources(emulator: str, clients: Clients) -> None:
    env = sample_environment()
    solo = env.stack("solo")
    kept = with_stack(
        env, "solo", body=solo.body.replace("DeletionPolicy: Delete", "DeletionPolicy: Retain")
    )
    only_solo = replace(kept, stacks=(kept.stack("solo"),))
    assert deploy(only_solo, clients).ok
    result = destroy_environment(only_solo, clients, poll=FAST)
    assert result.exit_code == 0, result.render()
    assert result.results[0].retained == (
        "AWS::S3::Bucket sample-test-solo-data (stack sample-test-solo)",
    )
    assert "retained resources" in result.render()
