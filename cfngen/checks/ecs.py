"""ECS: public IPs, privileged containers, secrets, roles, logs; plain HTTP listeners."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import Hit, TemplateView, as_bool, as_dict, as_list, check

ECS_SOURCE = "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html"


def _assigns_public_ip(network: Any) -> bool:
    net = as_dict(network)
    vpc = as_dict(net.get("AwsvpcConfiguration") or net.get("AwsVpcConfiguration"))
    return str(vpc.get("AssignPublicIp", "")).upper() == "ENABLED"


@check(
    "CFG002",
    "ECS tasks get public IP addresses",
    why="A task with a public IP is reachable from the internet whenever its security group "
    "allows it; tasks belong in private subnets behind a load balancer, with NAT or VPC "
    "endpoints for outbound traffic.",
    source=f"{ECS_SOURCE}#ecs-2",
)
def public_ip(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type("AWS::ECS::Service", "AWS::ECS::TaskSet"):
        if _assigns_public_ip(res.props.get("NetworkConfiguration")):
            yield res.id, "the service's tasks get public IPs (AssignPublicIp: ENABLED)"
    for res in t.of_type("AWS::Scheduler::Schedule"):
        ecs = as_dict(as_dict(res.props.get("Target")).get("EcsParameters"))
        if _assigns_public_ip(ecs.get("NetworkConfiguration")):
            yield res.id, "the scheduled tasks get public IPs (AssignPublicIp: ENABLED)"
    for res in t.of_type("AWS::Events::Rule"):
        for target in as_list(res.props.get("Targets")):
            ecs = as_dict(as_dict(target).get("EcsParameters"))
            if _assigns_public_ip(ecs.get("NetworkConfiguration")):
                yield res.id, "the rule starts tasks with public IPs (AssignPublicIp: ENABLED)"
    for res in t.of_type("Custom::RunTaskOnce"):
        if str(res.props.get("AssignPublicIp", "")).upper() == "ENABLED":
            yield res.id, "the run-once task gets a public IP (AssignPublicIp: ENABLED)"
    for res in t.of_type("AWS::StepFunctions::StateMachine"):
        if _PUBLIC_IP_IN_ASL.search(_definition_text(res.props.get("DefinitionString"))):
            yield res.id, "the state machine starts tasks with public IPs (AssignPublicIp: ENABLED)"


# A state machine's ECS task parameters, in its Amazon States Language text (a string, or the
# text of an Fn::Sub): what RunTask receives.
_PUBLIC_IP_IN_ASL = re.compile(r'"AssignPublicIp"\s*:\s*"ENABLED"', re.I)


def _definition_text(definition: Any) -> str:
    if isinstance(definition, dict) and "Fn::Sub" in definition:
        definition = definition["Fn::Sub"]
        if isinstance(definition, list) and definition:
            definition = definition[0]
    return definition if isinstance(definition, str) else ""


def _containers(t: TemplateView) -> Iterator[tuple[str, dict[str, Any]]]:
    for res in t.of_type("AWS::ECS::TaskDefinition"):
        for cdef in as_list(res.props.get("ContainerDefinitions")):
            if isinstance(cdef, dict):
                yield res.id, cdef


def _name(cdef: dict[str, Any]) -> str:
    name = cdef.get("Name")
    return repr(name) if isinstance(name, str) else "(unnamed)"


@check(
    "CFG003",
    "Privileged container",
    why="A privileged container has root on the host: one compromised process owns the "
    "instance and every other task on it.",
    source=f"{ECS_SOURCE}#ecs-4",
)
def privileged(t: TemplateView) -> Iterator[Hit]:
    for task, cdef in _containers(t):
        if as_bool(cdef.get("Privileged")):
            yield task, f"container {_name(cdef)} runs privileged"


_SECRETY = re.compile(r"(password|passwd|secret|token|private.?key|credential|api.?key)", re.I)
_NOT_A_SECRET = re.compile(r"(_ARN|_NAME|_ID|_PATH|_FILE|_TTL|_SECONDS|_MODE|_URL_PARAM)$", re.I)
_CREDENTIAL_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


@check(
    "CFG004",
    "Secret in a container's environment variables",
    why="Environment values are stored in the task definition in plain text and shown to anyone "
    "who can describe it; secrets go through `Secrets` from SSM or Secrets Manager.",
    source=f"{ECS_SOURCE}#ecs-8",
)
def env_secrets(t: TemplateView) -> Iterator[Hit]:
    for task, cdef in _containers(t):
        for env in as_list(cdef.get("Environment")):
            var, value = str(as_dict(env).get("Name", "")), as_dict(env).get("Value")
            if not isinstance(value, str):
                continue  # an imported value (an ARN, a name) or a reference, never a literal
            if _CREDENTIAL_URL.search(value):
                yield task, f"container {_name(cdef)}: {var} holds credentials in a URL"
            elif value and _SECRETY.search(var) and not _NOT_A_SECRET.search(var):
                yield (
                    task,
                    f"container {_name(cdef)}: {var} looks like a secret; pass it through Secrets",
                )


@check(
    "CFG005",
    "One role as both execution role and task role",
    why="The execution role lets the ECS agent pull images and read the task's secrets; the task "
    "role is what the application may do. One role for both gives the application every "
    "secret and the agent every application right.",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
)
def role_separation(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type("AWS::ECS::TaskDefinition"):
        execution, task = res.props.get("ExecutionRoleArn"), res.props.get("TaskRoleArn")
        if execution is not None and execution == task:
            yield res.id, "ExecutionRoleArn and TaskRoleArn are the same role"


@check(
    "CFG014",
    "Container without a log configuration",
    why="Without a log driver a container's output is lost when the task stops: failed "
    "deployments and incidents leave nothing to read.",
    source=f"{ECS_SOURCE}#ecs-9",
)
def log_configuration(t: TemplateView) -> Iterator[Hit]:
    for task, cdef in _containers(t):
        if not as_dict(cdef.get("LogConfiguration")).get("LogDriver"):
            yield task, f"container {_name(cdef)} has no LogConfiguration; its output is lost"


@check(
    "CFG016",
    "Load balancer serves plain HTTP",
    why="An HTTP listener that forwards instead of redirecting to HTTPS sends sessions and "
    "credentials in clear text.",
    source="https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html#elb-1",
)
def plain_http_listener(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type("AWS::ElasticLoadBalancingV2::Listener"):
        if str(res.props.get("Protocol", "")).upper() != "HTTP":
            continue
        actions = [as_dict(a) for a in as_list(res.props.get("DefaultActions"))]
        if actions and all(a.get("Type") == "redirect" for a in actions):
            continue
        yield res.id, "the HTTP listener forwards traffic instead of redirecting to HTTPS"
