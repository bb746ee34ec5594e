"""Scheduled tasks run as jobs: a Step Functions state machine with retries, backoff and a
timeout, started by the schedule, with least-privilege roles and one alert per failed job."""

from __future__ import annotations

import json
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from cfngen.checks.base import TemplateView
from cfngen.checks.ecs import public_ip
from cfngen.kinds.job import JOB_RUNNER_CODE
from cfngen.lint import Template, lint_template
from cfngen.render import dump_template, load_template
from tests.helpers import compile_text
from tests.kinds.helpers import blueprint, build, imp

JOB_TASK = {
    "image": {"uri": "public.ecr.aws/docker/library/python", "tag": "3.13-slim"},
    "command": ["python", "-m", "report"],
    "schedule": "cron(0 3 * * ? *)",
    "job": {"attempts": 4, "interval_seconds": 30, "backoff_rate": 3, "timeout_minutes": 45},
}


def _definition(res: dict[str, Any]) -> dict[str, Any]:
    text, subs = res["JobStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"]
    filled = (
        text.replace("${Subnets}", 's-1","s-2')
        .replace("${SecurityGroups}", "sg-1")
        .replace("${ClusterArn}", "c")
        .replace("${TaskDefinition}", "td")
        .replace("${AWS::Partition}", "aws")
    )
    assert set(subs) == {"ClusterArn", "TaskDefinition", "Subnets", "SecurityGroups"}
    document: dict[str, Any] = json.loads(filled)
    return document


def test_the_schedule_starts_a_state_machine_that_retries_and_times_out() -> None:
    bp = blueprint(alerts={"emails": ["ops@example.com"]}, tasks={"report": JOB_TASK})
    res = build(bp, "task-report")["Resources"]
    document = _definition(res)
    attempt = document["States"]["Attempt"]
    run_branch, timer_branch = attempt["Branches"]
    run = run_branch["States"]["Run"]
    assert run["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert run["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == [
        "s-1",
        "s-2",
    ]
    # the run and a timer race; the loser is aborted (which stops a running ECS task)
    assert run["Next"] == "RunSucceeded" and "TimeoutSeconds" not in run
    assert run_branch["States"]["RunSucceeded"]["Error"] == "cfngen.RunSucceeded"
    assert timer_branch["States"]["Timer"] == {
        "Type": "Wait",
        "Seconds": 45 * 60,
        "Next": "TimedOut",
    }
    assert timer_branch["States"]["TimedOut"]["Error"] == "cfngen.RunTimedOut"
    # success is never retried and ends the execution well; everything else is retried
    assert attempt["Retry"] == [
        {"ErrorEquals": ["cfngen.RunSucceeded"], "MaxAttempts": 0},
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 30,
            "MaxAttempts": 4,
            "BackoffRate": 3.0,
        },
    ]
    assert attempt["Catch"] == [{"ErrorEquals": ["cfngen.RunSucceeded"], "Next": "Done"}]
    assert document["States"]["Done"] == {"Type": "Succeed"}
    target = res["Schedule"]["Properties"]["Target"]
    assert target["Arn"] == {"Ref": "JobStateMachine"} and "EcsParameters" not in target
    scheduler = res["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert scheduler == [
        {
            "Action": ["states:StartExecution"],
            "Effect": "Allow",
            "Resource": [{"Ref": "JobStateMachine"}],
        }
    ]
    job_role = res["JobRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = [a for st in job_role for a in st["Action"]]
    assert "ecs:RunTask" in actions and "iam:PassRole" in actions
    assert "events:PutRule" in actions and "ecs:StopTask" in actions
    events_rule = next(st for st in job_role if "events:PutRule" in st["Action"])
    assert "rule/StepFunctionsGetEventsForECSTaskRule" in events_rule["Resource"][0]["Fn::Sub"]
    # one alert per failed job, not one per failed attempt
    assert "JobFailedRule" in res and "FailureRule" not in res
    rule = res["JobFailedRule"]["Properties"]
    assert rule["EventPattern"]["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
    assert rule["Targets"][0]["Arn"] == imp("alerts", "TopicArn")
    logging = res["JobStateMachine"]["Properties"]["LoggingConfiguration"]
    assert logging["Level"] == "ERROR"


def _lint_with_plain_definition(template: dict[str, Any], break_it: bool = False) -> list[str]:
    """cfn-lint validates a state machine's definition (E3601, AWS's States Language schema)
    only when it is a plain string: fill in the Fn::Sub variables and lint that."""
    machine = template["Resources"]["JobStateMachine"]["Properties"]
    text = json.dumps(_definition(template["Resources"]))
    machine["DefinitionString"] = text.replace('"Parallel"', '"Paralel"') if break_it else text
    body = dump_template(template)
    report, _ = lint_template(Template("shop-dev-task-report", "t.yaml", body, "eu-west-1"))
    return [f"{f.rule} {f.message}" for f in report.findings]


def test_the_state_machine_definition_is_valid_states_language() -> None:
    bp = blueprint(alerts={"emails": ["ops@example.com"]}, tasks={"report": JOB_TASK})
    assert _lint_with_plain_definition(build(bp, "task-report")) == []
    broken = _lint_with_plain_definition(build(bp, "task-report"), break_it=True)
    assert [line.split()[0] for line in broken] == ["E3601"]  # the check can fail


def test_without_job_the_schedule_runs_the_task() -> None:
    plain = {k: v for k, v in JOB_TASK.items() if k != "job"}
    res = build(blueprint(tasks={"report": plain}), "task-report")["Resources"]
    assert "JobStateMachine" not in res
    assert "EcsParameters" in res["Schedule"]["Properties"]["Target"]


def test_a_run_once_job_is_started_by_the_runner_which_may_only_start_and_watch_it() -> None:
    once = {k: v for k, v in JOB_TASK.items() if k != "schedule"}
    bp = blueprint(
        alerts={"emails": ["ops@example.com"]},
        tasks={"migrate": {**once, "run": "once", "wait_minutes": 10}},
    )
    res = build(bp, "task-migrate")["Resources"]
    attempt = _definition(res)["States"]["Attempt"]
    assert attempt["Branches"][1]["States"]["Timer"]["Seconds"] == 45 * 60
    assert attempt["Retry"][1]["MaxAttempts"] == 4
    props = res["RunOnce"]["Properties"]
    assert props["StateMachine"] == {"Ref": "JobStateMachine"}
    assert props["TaskDefinition"] == {"Ref": "TaskDefinition"}
    assert res["Runner"]["Properties"]["Code"]["ZipFile"] == JOB_RUNNER_CODE
    runner = res["RunnerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert [st["Action"] for st in runner] == [
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        ["states:StartExecution"],
        ["states:DescribeExecution"],
    ]
    assert runner[1]["Resource"] == [{"Ref": "JobStateMachine"}]
    assert runner[2]["Resource"] == [
        {
            "Fn::Sub": [
                "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                "execution:${Machine}:*",
                {"Machine": {"Fn::GetAtt": ["JobStateMachine", "Name"]}},
            ]
        }
    ]
    assert "JobFailedRule" in res and "FailureRule" not in res


def test_without_waiting_the_run_once_runner_may_only_start_the_job() -> None:
    once = {k: v for k, v in JOB_TASK.items() if k != "schedule"}
    res = build(blueprint(tasks={"migrate": {**once, "run": "once"}}), "task-migrate")
    runner = res["Resources"]["RunnerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert [st["Action"] for st in runner["Statement"]][1:] == [["states:StartExecution"]]
    assert res["Outputs"]["ExecutionArn"]["Value"] == {"Fn::GetAtt": ["RunOnce", "ExecutionArn"]}
    assert "TaskArn" not in res["Outputs"]


def test_a_job_with_public_ips_is_found_by_cfg002_and_waived_with_the_reason(
    tmp_path: Path,
) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        tasks:
          report:
            image: {uri: public.ecr.aws/docker/library/python, tag: "3.13-slim"}
            schedule: rate(1 day)
            job: {attempts: 1}
            placement: {subnets: public, assign_public_ip: true, reason: no NAT here}
        environments: {dev: {}}
        """
    )
    stack = compile_text(tmp_path, text).stack("task-report")
    report, _ = lint_template(Template(stack.name, stack.file, stack.body, "eu-west-1"))
    assert [f.rule for f in report.findings] == []
    assert [(f.rule, f.resource, why) for f, why in report.waived] == [
        ("CFG002", "JobStateMachine", "public IP by choice: no NAT here")
    ]
    # without the waiver, the check finds the public IP inside the state machine's definition
    machine = load_template(stack.body)["Resources"]["JobStateMachine"]
    assert [hit for hit in public_ip(TemplateView({"Resources": {"M": machine}}))] == [
        ("M", "the state machine starts tasks with public IPs (AssignPublicIp: ENABLED)")
    ]


# -- the run-once job runner's code, with fake Step Functions and response URL ---------------


class FakeStates:
    def __init__(self, statuses: list[str] | None = None) -> None:
        self.started: list[dict[str, Any]] = []
        self.statuses = statuses or []

    def start_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        return {"executionArn": "arn:execution:m:1"}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        assert executionArn == "arn:execution:m:1"
        return {"status": self.statuses.pop(0)}


def run_handler(
    monkeypatch: pytest.MonkeyPatch, event: dict[str, Any], states: FakeStates
) -> dict[str, Any]:
    responses: list[dict[str, Any]] = []
    boto3 = types.ModuleType("boto3")
    boto3.client = lambda name: states  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    namespace: dict[str, Any] = {}
    exec(compile(JOB_RUNNER_CODE, "index.py", "exec"), namespace)  # as Lambda loads it
    monkeypatch.setattr(
        namespace["urllib"].request,
        "urlopen",
        lambda request, timeout: responses.append(json.loads(request.data)),
    )
    monkeypatch.setattr(namespace["time"], "sleep", lambda s: None)
    namespace["handler"](event, types.SimpleNamespace(log_stream_name="stream"))
    (response,) = responses
    return response


def event(kind: str, old: str | None = None, wait: str = "0") -> dict[str, Any]:
    e: dict[str, Any] = {
        "RequestType": kind,
        "ResponseURL": "https://example.com/response",
        "StackId": "stack",
        "RequestId": "5f0c-request",
        "LogicalResourceId": "RunOnce",
        "ResourceProperties": {
            "StateMachine": "arn:sm",
            "TaskDefinition": "td:2",
            "WaitSeconds": wait,
        },
    }
    if old is not None:
        e["OldResourceProperties"] = {**e["ResourceProperties"], "TaskDefinition": old}
        e["PhysicalResourceId"] = "arn:execution:m:0"
    return e


def test_job_runner_starts_one_execution_per_request_and_revision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    states = FakeStates()
    created = run_handler(monkeypatch, event("Create"), states)
    assert created["Status"] == "SUCCESS" and created["PhysicalResourceId"] == "arn:execution:m:1"
    assert created["Data"] == {"ExecutionArn": "arn:execution:m:1"}
    assert states.started == [
        {"stateMachineArn": "arn:sm", "name": "5f0c-request", "input": '{"TaskDefinition": "td:2"}'}
    ]
    same = run_handler(monkeypatch, event("Update", old="td:2"), states)
    assert same["Data"] == {"ExecutionArn": "arn:execution:m:0"} and len(states.started) == 1
    run_handler(monkeypatch, event("Update", old="td:1"), states)
    assert len(states.started) == 2
    deleted = run_handler(monkeypatch, event("Delete", old="td:2"), states)
    assert deleted["Status"] == "SUCCESS" and len(states.started) == 2


def test_job_runner_waits_for_the_job_and_fails_the_deploy_when_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok = FakeStates(["RUNNING", "RUNNING", "SUCCEEDED"])
    assert run_handler(monkeypatch, event("Create", wait="600"), ok)["Status"] == "SUCCESS"
    assert ok.statuses == []
    failed = run_handler(monkeypatch, event("Create", wait="600"), FakeStates(["TIMED_OUT"]))
    assert failed["Status"] == "FAILED"
    assert failed["Reason"] == "arn:execution:m:1 ended TIMED_OUT (its runs and retries failed)"
