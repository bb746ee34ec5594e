"""cfngen's own ECS and load balancer checks (CG101-CG105): each fires on what it guards."""

from __future__ import annotations

from typing import Any

from cfngen.lint import (
    check_ecs_env_secrets,
    check_ecs_privileged,
    check_ecs_public_ip,
    check_ecs_role_separation,
    check_plain_http_listener,
)


def template(
    rtype: str, props: dict[str, Any], meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    res: dict[str, Any] = {"Type": rtype, "Properties": props}
    if meta is not None:
        res["Metadata"] = {"cfngen": meta}
    return {"Resources": {"R": res}}


def task(**container: Any) -> dict[str, Any]:
    return template(
        "AWS::ECS::TaskDefinition",
        {
            "ExecutionRoleArn": {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
            "TaskRoleArn": {"Fn::GetAtt": ["TaskRole", "Arn"]},
            "ContainerDefinitions": [{"Name": "app", **container}],
        },
    )


def test_cg101_public_ip_needs_a_recorded_reason() -> None:
    props = {"NetworkConfiguration": {"AwsvpcConfiguration": {"AssignPublicIp": "ENABLED"}}}
    assert list(check_ecs_public_ip(template("AWS::ECS::Service", props))) == [
        ("R", "ECS tasks get public IPs and no reason is recorded")
    ]
    with_reason = template("AWS::ECS::Service", props, {"public_ip_reason": "dev has no NAT"})
    assert list(check_ecs_public_ip(with_reason)) == []


def test_cg102_privileged_container() -> None:
    assert list(check_ecs_privileged(task(Privileged=True))) == [
        ("R", "container app is privileged")
    ]
    assert list(check_ecs_privileged(task(Privileged=False))) == []


def test_cg103_secrets_in_environment() -> None:
    env = [
        {"Name": "DB_PASSWORD", "Value": "hunter2"},
        {"Name": "DATABASE_URL", "Value": "postgres://app:s3cret@db:5432/app"},
        {"Name": "TOKEN_SECRET_ARN", "Value": "arn:aws:secretsmanager:..."},
        {"Name": "API_TOKEN", "Value": {"Fn::ImportValue": "x"}},
        {"Name": "MODE", "Value": "production"},
    ]
    assert list(check_ecs_env_secrets(task(Environment=env))) == [
        ("R", "environment variable DB_PASSWORD looks like a secret; use secrets"),
        ("R", "environment variable DATABASE_URL holds credentials in a URL"),
    ]


def test_cg104_same_execution_and_task_role() -> None:
    same = task()
    props = same["Resources"]["R"]["Properties"]
    assert list(check_ecs_role_separation(same)) == []
    props["TaskRoleArn"] = props["ExecutionRoleArn"]
    assert list(check_ecs_role_separation(same)) == [
        ("R", "execution role and task role are the same role")
    ]


def test_cg105_plain_http_listener_needs_a_reason() -> None:
    forward = {"Protocol": "HTTP", "DefaultActions": [{"Type": "forward"}]}
    rtype = "AWS::ElasticLoadBalancingV2::Listener"
    assert list(check_plain_http_listener(template(rtype, forward))) == [
        ("R", "plain HTTP listener without a recorded reason (plain_http_reason)")
    ]
    assert (
        list(check_plain_http_listener(template(rtype, forward, {"plain_http_reason": "x"}))) == []
    )
    redirect = {"Protocol": "HTTP", "DefaultActions": [{"Type": "redirect"}]}
    assert list(check_plain_http_listener(template(rtype, redirect))) == []
