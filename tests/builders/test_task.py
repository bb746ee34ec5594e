"""Tasks: scheduled (EventBridge Scheduler) and run once per revision (custom resource),
asserted by what their stacks render; the runner's inline code is exercised with fakes."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from cfngen.kinds.task import RUNNER_CODE
from cfngen.render import RenderedEnvironment, load_template
from tests.builders.containers_sample import imp
from tests.helpers import compile_text

BP = """\
blueprint: shop
region: eu-west-1
network: {cidr: 10.0.0.0/16, availability_zones: 2, nat: single}
databases:
  db: {engine: postgres}
load_balancers:
  public:
    type: application
    scheme: internet-facing
    certificate: arn:aws:acm:eu-west-1:123456789012:certificate/abc-123
services:
  api:
    image: {uri: ghcr.io/acme/api, tag: v1}
    port: 3000
    discovery: true
    routes: [{load_balancer: public}]
tasks:
  report:
    image: {uri: ghcr.io/acme/report, tag: v2}
    cpu: 512
    memory: 1024
    schedule: cron(0 3 * * ? *)
    timezone: Europe/Berlin
    flexible_window_minutes: 15
    retries: 4
    max_event_age_minutes: 120
    connects_to: [db, api]
    secrets:
      DB_PASSWORD: {from: db, attribute: secret_arn, key: password}
      TOKEN: ssm:/shop/{{ env.name }}/report/token
      OTHER: ssm:/shop/{{ env.name }}/report/other
    egress:
      - {port: 443, cidr: 0.0.0.0/0, description: HTTPS to AWS APIs}
  init:
    image: {uri: ghcr.io/acme/init}
    run: once
    wait_minutes: 10
    environment:
      DOMAIN: {from: public, attribute: dns_name}
      API_URL: {from: api, attribute: url}
    depends_on: [api]
  nightly:
    image: {uri: ghcr.io/acme/init}
    run: once
environments: {dev: {}, prod: {}}
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> RenderedEnvironment:
    return compile_text(tmp_path_factory.mktemp("task"), BP, "prod")


def res(env: RenderedEnvironment, component: str) -> dict[str, Any]:
    resources: dict[str, Any] = load_template(env.stack(component).body)["Resources"]
    return resources


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = role["Properties"]["Policies"]
    st: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return st


FAMILY = (
    "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/"
    "${EnvironmentName}-report:*"
)


def test_each_task_has_its_own_stack_after_what_it_uses(env: RenderedEnvironment) -> None:
    report = env.stack("task-report")
    assert report.name == "shop-prod-task-report"
    assert set(report.depends_on) == {"network", "cluster", "security", "database-db"}
    init = env.stack("task-init")
    assert set(init.depends_on) == {"network", "cluster", "security", "lb-public", "service-api"}
    order = [s.component for s in env.stacks]
    assert order.index("task-init") > order.index("service-api")


def test_a_task_gets_the_same_task_definition_as_a_service_with_the_same_settings(
    tmp_path: Path,
) -> None:
    body = (
        "    image: {uri: ghcr.io/acme/job, tag: v3}\n    cpu: 512\n    memory: 1024\n"
        "    command: [run]\n    secrets: {TOKEN: 'ssm:/shop/token'}\n"
        "    environment: {MODE: batch}\n"
    )
    text = (
        "blueprint: shop\nregion: eu-west-1\nservices:\n  job:\n"
        + body
        + "tasks:\n  job2:\n"
        + body
        + "    run: once\nenvironments: {dev: {}}\n"
    )
    rendered = compile_text(tmp_path, text)
    svc, task = res(rendered, "service-job"), res(rendered, "task-job2")
    for logical in ("TaskDefinition", "ExecutionRole", "TaskRole", "LogGroup"):
        got = json.dumps(task[logical]).replace("job2", "job").replace("tasks.job", "services.job")
        assert json.loads(got) == svc[logical], logical  # all but the source stamp


def test_schedule_runs_the_task_definition_on_fargate_in_private_subnets(
    env: RenderedEnvironment,
) -> None:
    schedule = res(env, "task-report")["Schedule"]
    assert schedule["Type"] == "AWS::Scheduler::Schedule"
    p = schedule["Properties"]
    assert p["Name"] == {"Fn::Sub": "${EnvironmentName}-report"}
    assert p["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert p["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert p["State"] == "ENABLED"
    assert p["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    target = p["Target"]
    assert target["Arn"] == imp("cluster", "ClusterArn")
    assert target["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 7200}
    assert target["EcsParameters"] == {
        "TaskDefinitionArn": {"Ref": "TaskDefinition"},
        "LaunchType": "FARGATE",
        "PlatformVersion": "LATEST",
        "TaskCount": 1,
        "NetworkConfiguration": {
            "AwsvpcConfiguration": {
                "Subnets": {"Fn::Split": [",", imp("network", "PrivateSubnetIds")]},
                "SecurityGroups": [imp("security", "TaskReportSecurityGroupId")],
                "AssignPublicIp": "DISABLED",
            }
        },
    }


def test_scheduler_role_may_run_exactly_this_family_and_pass_exactly_its_two_roles(
    env: RenderedEnvironment,
) -> None:
    role = res(env, "task-report")["SchedulerRole"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    run, pass_role = statements(role)
    assert run == {
        "Effect": "Allow",
        "Action": ["ecs:RunTask"],
        "Resource": [{"Fn::Sub": FAMILY}],
        "Condition": {"ArnEquals": {"ecs:cluster": imp("cluster", "ClusterArn")}},
    }
    assert pass_role == {
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": [
            {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
            {"Fn::GetAtt": ["TaskRole", "Arn"]},
        ],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    }


def test_ssm_parameters_per_environment_are_secrets_the_execution_role_reads_exactly(
    tmp_path: Path,
) -> None:
    for env_name in ("dev", "prod"):
        r = res(compile_text(tmp_path, BP, env_name), "task-report")
        arns = [
            {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                f"parameter/shop/{env_name}/report/{name}"
            }
            for name in ("other", "token")
        ]
        container = r["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
        by_name = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
        assert [by_name["OTHER"], by_name["TOKEN"]] == arns
        assert "Environment" not in container
        granted = {tuple(s["Action"]): s["Resource"] for s in statements(r["ExecutionRole"])}
        assert granted[("ssm:GetParameters",)] == arns
        assert granted[("secretsmanager:GetSecretValue",)] == [imp("database-db", "SecretArn")]
        assert not any("ssm:GetParametersByPath" in a for a in granted)


def test_task_security_group_reaches_what_it_connects_to(env: RenderedEnvironment) -> None:
    sec = res(env, "security")
    group = sec["TaskReportSecurityGroup"]["Properties"]
    assert group["GroupDescription"] == "ECS task report"
    ingress = {
        (r["Properties"]["GroupId"]["Fn::GetAtt"][0], r["Properties"]["FromPort"])
        for r in sec.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
        and r["Properties"].get("SourceSecurityGroupId")
        == {"Fn::GetAtt": ["TaskReportSecurityGroup", "GroupId"]}
    }
    assert ingress == {("DatabaseDbSecurityGroup", 5432), ("ServiceApiSecurityGroup", 3000)}


def test_run_once_is_a_custom_resource_started_with_each_task_definition_revision(
    env: RenderedEnvironment,
) -> None:
    r = res(env, "task-init")
    assert "Schedule" not in r and not any(v["Type"] == "AWS::ECS::Service" for v in r.values())
    run = r["RunOnce"]
    assert run["Type"] == "Custom::RunTaskOnce"
    assert run["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": ["Runner", "Arn"]},
        "ServiceTimeout": 720,
        "Cluster": imp("cluster", "ClusterArn"),
        "TaskDefinition": {"Ref": "TaskDefinition"},
        "Subnets": {"Fn::Split": [",", imp("network", "PrivateSubnetIds")]},
        "SecurityGroups": [imp("security", "TaskInitSecurityGroupId")],
        "AssignPublicIp": "DISABLED",
        "WaitSeconds": 600,
    }
    runner = r["Runner"]["Properties"]
    assert runner["Runtime"] == "python3.13"
    assert runner["Timeout"] == 660
    assert runner["LoggingConfig"] == {"LogGroup": {"Ref": "RunnerLogGroup"}}
    assert runner["Code"]["ZipFile"] == RUNNER_CODE
    skipped = {s["id"] for s in r["Runner"]["Metadata"]["checkov"]["skip"]}
    assert skipped == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}
    container = r["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Environment"] == [
        {"Name": "API_URL", "Value": imp("service-api", "Url")},
        {"Name": "DOMAIN", "Value": imp("lb-public", "DnsName")},
    ]


def test_runner_role_runs_this_family_only_and_describes_tasks_only_when_waiting(
    env: RenderedEnvironment,
) -> None:
    waiting = statements(res(env, "task-init")["RunnerRole"])
    actions = [s["Action"] for s in waiting]
    assert actions == [
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        ["ecs:RunTask"],
        ["iam:PassRole"],
        ["ecs:DescribeTasks"],
    ]
    assert waiting[0]["Resource"] == [{"Fn::GetAtt": ["RunnerLogGroup", "Arn"]}]
    assert waiting[1]["Resource"] == [{"Fn::Sub": FAMILY.replace("report", "init")}]
    assert waiting[3]["Condition"] == {"ArnEquals": {"ecs:cluster": imp("cluster", "ClusterArn")}}
    quick = statements(res(env, "task-nightly")["RunnerRole"])
    assert [s["Action"] for s in quick] == actions[:3]
    assert res(env, "task-nightly")["RunOnce"]["Properties"]["WaitSeconds"] == 0


# -- the runner's code, with fake ECS and a fake CloudFormation response URL ------------------


class FakeEcs:
    def __init__(self, stops: list[dict[str, Any]] | None = None, fail: bool = False) -> None:
        self.started: list[dict[str, Any]] = []
        self.stops = stops or []
        self.fail = fail

    def run_task(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        if self.fail:
            return {"tasks": [], "failures": [{"reason": "RESOURCE:MEMORY"}]}
        return {"tasks": [{"taskArn": "arn:task/1"}], "failures": []}

    def describe_tasks(self, **kwargs: Any) -> dict[str, Any]:
        return {"tasks": [self.stops.pop(0)]}


def run_handler(
    monkeypatch: pytest.MonkeyPatch, event: dict[str, Any], ecs: FakeEcs
) -> dict[str, Any]:
    responses: list[dict[str, Any]] = []
    boto3 = types.ModuleType("boto3")
    boto3.client = lambda name: ecs  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    namespace: dict[str, Any] = {}
    exec(compile(RUNNER_CODE, "index.py", "exec"), namespace)  # the runner as Lambda loads it
    monkeypatch.setattr(
        namespace["urllib"].request,
        "urlopen",
        lambda request, timeout: responses.append(json.loads(request.data)),
    )
    monkeypatch.setattr(namespace["time"], "sleep", lambda s: None)
    context = types.SimpleNamespace(log_stream_name="stream")
    namespace["handler"](event, context)
    (response,) = responses
    return response


def event(
    kind: str, task_definition: str = "td:2", old: str | None = None, wait: str = "0"
) -> dict[str, Any]:
    e: dict[str, Any] = {
        "RequestType": kind,
        "ResponseURL": "https://example.com/response",
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": "RunOnce",
        "ResourceProperties": {
            "Cluster": "cluster",
            "TaskDefinition": task_definition,
            "Subnets": ["a", "b"],
            "SecurityGroups": ["sg"],
            "AssignPublicIp": "DISABLED",
            "WaitSeconds": wait,
        },
    }
    if old is not None:
        e["OldResourceProperties"] = {**e["ResourceProperties"], "TaskDefinition": old}
        e["PhysicalResourceId"] = "arn:task/0"
    return e


def test_runner_starts_the_task_on_create_and_returns_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ecs = FakeEcs()
    response = run_handler(monkeypatch, event("Create"), ecs)
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == "arn:task/1"
    assert response["Data"] == {"TaskArn": "arn:task/1"}
    (call,) = ecs.started
    assert call["taskDefinition"] == "td:2" and call["launchType"] == "FARGATE"
    assert call["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == ["a", "b"]


def test_runner_runs_again_only_for_a_new_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    ecs = FakeEcs()
    same = run_handler(monkeypatch, event("Update", "td:2", old="td:2"), ecs)
    assert same["Status"] == "SUCCESS" and ecs.started == []
    assert same["PhysicalResourceId"] == "arn:task/0"
    assert same["Data"] == {"TaskArn": "arn:task/0"}
    new = run_handler(monkeypatch, event("Update", "td:3", old="td:2"), ecs)
    assert new["Status"] == "SUCCESS" and len(ecs.started) == 1


def test_runner_does_nothing_on_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    ecs = FakeEcs()
    response = run_handler(monkeypatch, event("Delete", old="td:2"), ecs)
    assert response["Status"] == "SUCCESS" and ecs.started == []


def test_runner_fails_the_deploy_when_the_task_cannot_start_or_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = run_handler(monkeypatch, event("Create"), FakeEcs(fail=True))
    assert failed["Status"] == "FAILED"
    assert failed["Reason"] == 'RunTask failed: [{"reason": "RESOURCE:MEMORY"}]'
    stopped = {"lastStatus": "STOPPED", "stoppedReason": "Essential container exited"}
    bad = FakeEcs(stops=[{"lastStatus": "RUNNING"}, {**stopped, "containers": [{"exitCode": 1}]}])
    response = run_handler(monkeypatch, event("Create", wait="600"), bad)
    assert response["Status"] == "FAILED"
    assert response["Reason"] == ("arn:task/1 stopped (Essential container exited), exit codes [1]")
    good = FakeEcs(stops=[{**stopped, "containers": [{"exitCode": 0}]}])
    assert run_handler(monkeypatch, event("Create", wait="600"), good)["Status"] == "SUCCESS"


def test_public_task_ips_carry_the_blueprint_reason_as_a_cfg002_waiver(tmp_path: Path) -> None:
    from cfngen.lint import Template, lint_template

    text = BP.replace(
        "    egress:\n      - {port: 443",
        "    placement: {subnets: public, assign_public_ip: true, reason: no NAT in this VPC}\n"
        "    egress:\n      - {port: 443",
    )
    env = compile_text(tmp_path, text, "prod")
    t = load_template(env.stack("task-report").body)
    schedule = t["Resources"]["Schedule"]
    vpc = schedule["Properties"]["Target"]["EcsParameters"]["NetworkConfiguration"]
    assert vpc["AwsvpcConfiguration"]["AssignPublicIp"] == "ENABLED"
    assert vpc["AwsvpcConfiguration"]["Subnets"] == {
        "Fn::Split": [",", imp("network", "PublicSubnetIds")]
    }
    reason = "public IP by choice: no NAT in this VPC"
    assert schedule["Metadata"]["cfngen"]["waivers"] == {"CFG002": reason}
    stack = env.stack("task-report")
    report, _ = lint_template(Template(stack.name, stack.file, stack.body, "eu-west-1"))
    assert [f.rule for f in report.findings] == []
    assert [(f.rule, f.resource, why) for f, why in report.waived] == [
        ("CFG002", "Schedule", reason)
    ]


def test_failed_runs_are_published_to_the_alerts_topic(tmp_path: Path) -> None:
    text = BP.replace("databases:", "alerts: {emails: [ops@example.com]}\ndatabases:", 1)
    text = text.replace("  nightly:\n", "  nightly:\n    notify_failures: false\n")
    env = compile_text(tmp_path, text, "prod")
    assert "alerts" in env.stack("task-report").depends_on
    assert "alerts" not in env.stack("task-nightly").depends_on
    assert "FailureRule" not in res(env, "task-nightly")
    rule = res(env, "task-report")["FailureRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [imp("cluster", "ClusterArn")],
            "group": [{"Fn::Sub": "family:${EnvironmentName}-report"}],
            "lastStatus": ["STOPPED"],
            "$or": [
                {"containers": {"exitCode": [{"anything-but": 0}]}},
                {"stopCode": ["TaskFailedToStart"]},
            ],
        },
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == imp("alerts", "TopicArn")
    alerts = res(env, "alerts")
    publishers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"]
    key_statement = alerts["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"][1]
    assert key_statement["Principal"] == {"Service": publishers}
    publish = alerts["AlertsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert publish["Principal"] == {"Service": publishers}
