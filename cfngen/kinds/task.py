"""The task kind: stacks `task-<name>` with a Fargate task definition that is not a service.

The task definition, its two roles, log group and security group are exactly what a service
with the same settings gets (cfngen.builders.task_definition and cfngen.builders.containers).
What starts the task differs:

- `schedule`: an EventBridge Scheduler schedule with an ECS RunTask target. Its role may call
  `ecs:RunTask` on this task definition family in this cluster only, and pass exactly the
  task's execution and task roles to ECS.
- `run: once`: a custom resource backed by a small inline Lambda function. On create, and on
  every update that changes the task definition revision, it calls `ecs:RunTask` once; with
  `wait_minutes` it waits for the task to stop and fails the deploy when the container exits
  non-zero. On delete it does nothing. Nothing keeps running afterwards: no service, no
  schedule. Its role has the same scoped permissions as the scheduler's (plus
  `ecs:DescribeTasks` in this cluster when it waits).

Why a custom resource: CloudFormation has no resource that runs a task once. An ECS service with
one task (PlaceOS's original `init`) restarts the task forever after it exits; a schedule with
an `at()` expression runs at a wall-clock time, not when the stack changes. The function is the
smallest piece that ties "run" to "this revision was deployed".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from msgspec import Struct
from troposphere import AWSObject, GetAtt, Ref, Sub, awslambda, iam, scheduler

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.models.tasks import Task
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import log_group, service_trust, waive
from cfngen.builders.containers import (
    AwsvpcSettings,
    awsvpc_settings,
    check_containers,
    check_image_and_size,
    check_relations,
    container_dependencies,
    container_relations,
)
from cfngen.builders.custom_resource import runner_head
from cfngen.builders.iam import policy, statement
from cfngen.builders.task_definition import TaskDefinitionParts, add_task_definition
from cfngen.kinds import alerts
from cfngen.kinds.base import Derived, Facts, Kind
from cfngen.kinds.cluster import CLUSTER, CLUSTER_ARN, CLUSTER_NAME, NEEDS_CLUSTER
from cfngen.kinds.job import JOB_RUNNER_CODE, add_job, runner_statements, start_statement

TASK_DEFINITION_ARN = "TaskDefinitionArn"
TASK_ROLE_ARN = "TaskRoleArn"
EXECUTION_ROLE_ARN = "ExecutionRoleArn"
RUNNER_RUNTIME = "python3.13"


def task_key(name: str) -> str:
    """Stack component and security group of a task."""
    return TASKS.key(name)


class TaskSpec(Struct, frozen=True):
    name: str
    task: Task


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    plans: list[StackPlan[Any]] = []
    for name, task in TASKS.entries(bp).items():
        deps = container_dependencies(bp, facts, ("tasks", name), task, group=task_key(name))
        deps.pop(task_key(name), None)
        if task.notify_failures:
            for dep in alerts.dependency(bp):
                deps.setdefault(dep, ("tasks", name, "notify_failures"))
        kind = f"scheduled ({task.schedule})" if task.schedule else "run once per revision"
        plans.append(
            StackPlan(
                component=task_key(name),
                title=f"ECS task {name}, {kind}",
                build=build,
                spec=TaskSpec(name, task),
                depends_on=tuple(deps),
                source=("tasks", name),
                dependency_sources=deps,
            )
        )
    return plans


def groups(bp: Blueprint, facts: Facts) -> Derived:
    out = Derived()
    for name, task in TASKS.entries(bp).items():
        own = task_key(name)
        out.groups[own] = SecurityGroup(description=f"ECS task {name}", egress=task.egress)
        out.sources[own] = ("tasks", name)
        out.relations.extend(container_relations(bp, own, f"Task {name}", task, facts))
    return out


def needs(bp: Blueprint) -> list[tuple[str, Path_]]:
    return [(NEEDS_CLUSTER, ("tasks",))] if TASKS.entries(bp) else []


def publishers(bp: Blueprint) -> tuple[str, ...]:
    """Tasks report failed runs to the alerts topic through EventBridge."""
    return (alerts.EVENTS,) if TASKS.entries(bp) else ()


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    for name, task in TASKS.entries(bp).items():
        base: Path_ = ("tasks", name)
        for key, message in task.misplaced():
            fix = "remove `run`" if key == "run" else f"remove `{key}`"
            c.error((*base, key), message, fix, at_key=True)
        check_image_and_size(bp, facts, c, base, task, fargate=True)
        check_containers(c, name, task, base, fargate=True, ports=())
        check_relations(bp, facts, c, base, name, task, "task")


# -- the stack ------------------------------------------------------------------------------


def _family_arn(name: str) -> Sub:
    """Every revision of this task's family (RunTask is authorised per task definition)."""
    return Sub(
        "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/"
        f"${{EnvironmentName}}-{name}:*"
    )


def _run_statements(name: str, parts: TaskDefinitionParts, cluster_arn: Any) -> list[Statement]:
    """ecs:RunTask on this family in this cluster; pass exactly the task's two roles to ECS."""
    return [
        statement(
            ["ecs:RunTask"],
            [_family_arn(name)],
            Condition=Condition(ArnEquals({"ecs:cluster": cluster_arn})),
        ),
        statement(
            ["iam:PassRole"],
            [GetAtt(parts.execution_role, "Arn"), GetAtt(parts.task_role, "Arn")],
            Condition=Condition(StringEquals({"iam:PassedToService": "ecs-tasks.amazonaws.com"})),
        ),
    ]


def build(spec: TaskSpec, ctx: Context) -> None:
    task, name = spec.task, spec.name
    parts = add_task_definition(ctx, name, task, base=("tasks", name))
    net = awsvpc_settings(ctx, task_key(name), task)
    cluster_arn = ctx.import_value(CLUSTER, CLUSTER_ARN)
    if task.schedule is not None:
        _schedule(spec, parts, net, cluster_arn, ctx)
    else:
        _run_once(spec, parts, net, cluster_arn, ctx)
    if task.notify_failures and alerts.dependency(ctx.blueprint) and task.job is None:
        _failure_rule(name, cluster_arn, ctx)  # a job reports its final failure instead
    ctx.export(TASK_ROLE_ARN, GetAtt(parts.task_role, "Arn"), f"Task role of task {name}")
    ctx.export(
        EXECUTION_ROLE_ARN, GetAtt(parts.execution_role, "Arn"), f"Execution role of task {name}"
    )
    ctx.output(TASK_DEFINITION_ARN, Ref(parts.task_definition), "Task definition revision deployed")
    ctx.output("LogGroupName", Ref(parts.log_group), "Where the task's logs go")


def _failure_rule(name: str, cluster_arn: Any, ctx: Context) -> None:
    """An EventBridge rule publishing a failed run of this task to the alerts topic."""
    alerts.add_failed_task_rule(
        ctx,
        "FailureRule",
        cluster_arn=cluster_arn,
        group=Sub(f"family:${{EnvironmentName}}-{name}"),
        description=f"a run of task {name} failed",
        message=f"task {name} failed: <reason> (<task>)",
    )


def _schedule(
    spec: TaskSpec,
    parts: TaskDefinitionParts,
    net: AwsvpcSettings,
    cluster_arn: Any,
    ctx: Context,
) -> None:
    task, name = spec.task, spec.name
    machine = add_job(name, task, parts, net, cluster_arn, ctx) if task.job else None
    role = ctx.add(
        iam.Role(
            "SchedulerRole",
            AssumeRolePolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", "scheduler.amazonaws.com"),
                        Action=[Action("sts", "AssumeRole")],
                        Condition=Condition(
                            StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")})
                        ),
                    )
                ],
            ),
            Policies=[
                policy(
                    "run-task",
                    [start_statement(machine)]
                    if machine is not None
                    else _run_statements(name, parts, cluster_arn),
                )
            ],
            Tags=ctx.name_tag(f"{name}-scheduler"),
        )
    )
    window = (
        scheduler.FlexibleTimeWindow(
            Mode="FLEXIBLE", MaximumWindowInMinutes=task.flexible_window_minutes
        )
        if task.flexible_window_minutes
        else scheduler.FlexibleTimeWindow(Mode="OFF")
    )
    props: dict[str, Any] = {
        "Name": ctx.name(name),
        "Description": Sub(f"${{EnvironmentName}}: run task {name} ({task.schedule})"),
        "ScheduleExpression": task.schedule,
        "ScheduleExpressionTimezone": task.timezone,
        "State": "ENABLED" if task.enabled else "DISABLED",
        "FlexibleTimeWindow": window,
        "Target": _job_target(machine, role, task)
        if machine is not None
        else scheduler.Target(
            Arn=cluster_arn,
            RoleArn=GetAtt(role, "Arn"),
            EcsParameters=scheduler.EcsParameters(
                TaskDefinitionArn=Ref(parts.task_definition),
                LaunchType="FARGATE",
                PlatformVersion="LATEST",
                TaskCount=1,
                NetworkConfiguration=scheduler.NetworkConfiguration(
                    AwsvpcConfiguration=scheduler.AwsVpcConfiguration(
                        Subnets=net.subnets,
                        SecurityGroups=net.security_groups,
                        AssignPublicIp=net.assign_public_ip,
                    )
                ),
            ),
            RetryPolicy=scheduler.RetryPolicy(
                MaximumRetryAttempts=task.retries,
                MaximumEventAgeInSeconds=task.max_event_age_minutes * 60,
            ),
        ),
    }
    schedule = scheduler.Schedule("Schedule", **props)
    if task.placement.assign_public_ip and machine is None:  # a job's is on its state machine
        waive(schedule, {"CFG002": f"public IP by choice: {task.placement.reason}"})
    ctx.add(schedule)
    ctx.output("ScheduleName", Ref(schedule), f"EventBridge Scheduler schedule of task {name}")


def _job_target(machine: Any, role: Any, task: Task) -> scheduler.Target:
    """The schedule starts the job's state machine (which runs and retries the task)."""
    return scheduler.Target(
        Arn=Ref(machine),
        RoleArn=GetAtt(role, "Arn"),
        Input="{}",
        RetryPolicy=scheduler.RetryPolicy(
            MaximumRetryAttempts=task.retries,
            MaximumEventAgeInSeconds=task.max_event_age_minutes * 60,
        ),
    )


class RunTaskOnce(AWSObject):
    """The custom resource that runs the task once per task-definition revision."""

    resource_type = "Custom::RunTaskOnce"
    props = {
        "ServiceToken": (object, True),
        "ServiceTimeout": (int, False),
        "Cluster": (object, True),
        "TaskDefinition": (object, True),
        "Subnets": (object, True),
        "SecurityGroups": (list, True),
        "AssignPublicIp": (str, True),
        "WaitSeconds": (int, True),
        "StateMachine": (object, False),  # a job: start this state machine instead
    }


# Inline so the template is the whole deployment (no artifact bucket, no packaging step).
# It answers CloudFormation itself (cfn-response is not importable from every runtime).
RUNNER_CODE = (
    runner_head('ecs = boto3.client("ecs")')
    + """\
def handler(event, context):
    props = event["ResourceProperties"]
    try:
        if event["RequestType"] == "Delete":
            return respond(event, context, "SUCCESS", "nothing to undo")
        old = event.get("OldResourceProperties") or {}
        same = old.get("TaskDefinition") == props["TaskDefinition"]
        if event["RequestType"] == "Update" and same:
            return respond(event, context, "SUCCESS", "same task definition: not run again",
                           data={"TaskArn": event["PhysicalResourceId"]})
        started = ecs.run_task(
            cluster=props["Cluster"],
            taskDefinition=props["TaskDefinition"],
            count=1,
            launchType="FARGATE",
            platformVersion="LATEST",
            startedBy="cloudformation",
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": props["Subnets"],
                "securityGroups": props["SecurityGroups"],
                "assignPublicIp": props["AssignPublicIp"],
            }},
        )
        if started["failures"] or not started["tasks"]:
            raise RuntimeError("RunTask failed: " + json.dumps(started["failures"]))
        arn = started["tasks"][0]["taskArn"]
        print("started", arn)
        wait = int(props["WaitSeconds"])
        deadline = time.time() + wait
        while wait:
            if time.time() > deadline:
                raise RuntimeError(f"{arn} still running after {wait} seconds")
            time.sleep(15)
            (task,) = ecs.describe_tasks(cluster=props["Cluster"], tasks=[arn])["tasks"]
            if task["lastStatus"] == "STOPPED":
                codes = [c.get("exitCode") for c in task["containers"]]
                if codes != [0]:
                    raise RuntimeError(
                        f"{arn} stopped ({task.get('stoppedReason')}), exit codes {codes}"
                    )
                break
        respond(event, context, "SUCCESS", physical=arn, data={"TaskArn": arn})
    except Exception as err:
        print("failed:", err)
        respond(event, context, "FAILED", str(err))
"""
)


def _run_once(
    spec: TaskSpec,
    parts: TaskDefinitionParts,
    net: AwsvpcSettings,
    cluster_arn: Any,
    ctx: Context,
) -> None:
    task, name = spec.task, spec.name
    wait_seconds = task.wait_minutes * 60
    timeout = min(900, 60 + wait_seconds)
    logs = ctx.add(
        log_group(
            "RunnerLogGroup",
            task.log_retention_days,
            task.log_kms_key_arn,
            LogGroupName=Sub(f"/cfngen/${{EnvironmentName}}/{name}-run-once"),
        )
    )
    machine = add_job(name, task, parts, net, cluster_arn, ctx) if task.job else None
    statements = [
        statement(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(logs, "Arn")]),
        *(
            runner_statements(machine, bool(wait_seconds))
            if machine is not None
            else _run_statements(name, parts, cluster_arn)
        ),
    ]
    if wait_seconds and machine is None:
        statements.append(
            statement(
                ["ecs:DescribeTasks"],
                [
                    Sub(
                        "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/"
                        "${Cluster}/*",
                        Cluster=ctx.import_value(CLUSTER, CLUSTER_NAME),
                    )
                ],
                Condition=Condition(ArnEquals({"ecs:cluster": cluster_arn})),
            )
        )
    role = ctx.add(
        iam.Role(
            "RunnerRole",
            AssumeRolePolicyDocument=service_trust("lambda.amazonaws.com"),
            Policies=[policy("run-task-once", statements)],
            Tags=ctx.name_tag(f"{name}-runner"),
        )
    )
    function = awslambda.Function(
        "Runner",
        Description=Sub(f"${{EnvironmentName}}: runs task {name} once per task definition"),
        Runtime=RUNNER_RUNTIME,
        Handler="index.handler",
        Code=awslambda.Code(ZipFile=RUNNER_CODE if machine is None else JOB_RUNNER_CODE),
        Role=GetAtt(role, "Arn"),
        Timeout=timeout,
        MemorySize=128,
        LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(logs)),
        Tags=ctx.name_tag(f"{name}-runner"),
    )
    waive(
        function,
        {
            "CKV_AWS_115": "invoked only by CloudFormation when this stack is created or "
            "updated; reserved concurrency would fail in accounts with the default limit of 10",
            "CKV_AWS_116": "CloudFormation is the only caller and reports a failed invocation "
            "as a failed stack operation; a dead-letter queue would hold nothing to replay",
            "CKV_AWS_117": "calls only the ECS API and CloudFormation's pre-signed response "
            "URL; outside the VPC it needs no NAT gateway or VPC endpoints",
        },
    )
    function = ctx.add(function)
    run = RunTaskOnce(
        "RunOnce",
        ServiceToken=GetAtt(function, "Arn"),
        ServiceTimeout=timeout + 60,
        Cluster=cluster_arn,
        TaskDefinition=Ref(parts.task_definition),
        Subnets=net.subnets,
        SecurityGroups=net.security_groups,
        AssignPublicIp=net.assign_public_ip,
        WaitSeconds=wait_seconds,
        **({"StateMachine": Ref(machine)} if machine is not None else {}),
    )
    if task.placement.assign_public_ip:
        waive(run, {"CFG002": f"public IP by choice: {task.placement.reason}"})
    ctx.add(run)
    if machine is not None:
        ctx.output(
            "ExecutionArn",
            GetAtt(run, "ExecutionArn"),
            f"The job execution started for this revision of {name}",
        )
        return
    ctx.output("TaskArn", GetAtt(run, "TaskArn"), f"The task started for this revision of {name}")


TASKS: Kind[Task] = Kind(
    section="tasks",
    model=Task,
    description="ECS tasks run on a schedule or once per revision, one stack each.",
    prefix="task",
    plan=plan,
    groups=groups,
    needs=needs,
    alert_publishers=publishers,
    checks=(check,),
    order=63,
)
KIND = TASKS
