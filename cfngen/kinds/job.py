"""Part of the task kind (cfngen.kinds.task): a task run as a job. A Step Functions state
machine runs the task with the ECS `.sync` integration (it waits for the task to stop; a run
whose essential container exits non-zero, or that fails to start, fails the state), retries a
failed run with backoff, and stops a run that passes its timeout. The schedule (or, for
`run: once`, the stack's runner function) starts the state machine instead of the task; a failed
or timed-out execution is sent to the alerts topic.

Roles, least privilege: the state machine may run this family in this cluster, pass exactly the
task's two roles to ECS, describe and stop tasks in this cluster, and manage the one EventBridge
rule `.sync` uses (`StepFunctionsGetEventsForECSTaskRule`, AWS's managed rule); the scheduler or
the runner may start this state machine only (and the runner, when it waits, describe its
executions).
"""

from __future__ import annotations

import json
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
from troposphere import GetAtt, Join, Ref, Sub, iam, stepfunctions

from cfngen.blueprint.models.tasks import Job, Task
from cfngen.builders.base import Context
from cfngen.builders.common import log_group, waive
from cfngen.builders.containers import AwsvpcSettings
from cfngen.builders.custom_resource import runner_head
from cfngen.builders.iam import policy, statement
from cfngen.builders.task_definition import TaskDefinitionParts
from cfngen.kinds import alerts


def trust(service: str) -> PolicyDocument:
    """Assumable by one AWS service of this account only."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", service),
                Action=[Action("sts", "AssumeRole")],
                Condition=Condition(StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")})),
            )
        ],
    )


# Error names the state machine raises itself (States.* are Step Functions' own).
RUN_SUCCEEDED = "cfngen.RunSucceeded"
RUN_TIMED_OUT = "cfngen.RunTimedOut"


def definition(job: Job, assign_public_ip: str) -> str:
    """The state machine's Amazon States Language, with ${...} filled in by Fn::Sub.

    A Task state's own TimeoutSeconds fails the state but does not stop the ECS task it started
    (AWS documents cancelling a `.sync` task only when it is aborted: its execution is stopped,
    or another branch of its Parallel state fails). So each attempt is a Parallel state racing
    the run against a timer: whichever branch ends first fails the Parallel with its own error,
    which aborts the other branch. A timer that wins aborts the run (Step Functions then stops
    the ECS task, best effort) and the attempt fails with RUN_TIMED_OUT; a run that wins ends
    with RUN_SUCCEEDED, which is never retried and is caught as success. Every other error (the
    task failed to start, an essential container exited non-zero, the timeout) is retried with
    backoff; when the retries are spent the execution fails, which the alert rule reports."""
    run: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:${AWS::Partition}:states:::ecs:runTask.sync",
        "Parameters": {
            "Cluster": "${ClusterArn}",
            "TaskDefinition": "${TaskDefinition}",
            "LaunchType": "FARGATE",
            "PlatformVersion": "LATEST",
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "Subnets": ["${Subnets}"],
                    "SecurityGroups": ["${SecurityGroups}"],
                    "AssignPublicIp": assign_public_ip,
                }
            },
        },
        "Next": "RunSucceeded",
    }
    run_branch = {
        "StartAt": "Run",
        "States": {
            "Run": run,
            "RunSucceeded": {
                "Type": "Fail",
                "Error": RUN_SUCCEEDED,
                "Cause": "the task stopped with exit code 0 (ends the timer)",
            },
        },
    }
    timer_branch = {
        "StartAt": "Timer",
        "States": {
            "Timer": {"Type": "Wait", "Seconds": job.timeout_minutes * 60, "Next": "TimedOut"},
            "TimedOut": {
                "Type": "Fail",
                "Error": RUN_TIMED_OUT,
                "Cause": f"the run passed its timeout of {job.timeout_minutes} minutes",
            },
        },
    }
    attempt: dict[str, Any] = {
        "Type": "Parallel",
        "Branches": [run_branch, timer_branch],
        "Retry": [
            {"ErrorEquals": [RUN_SUCCEEDED], "MaxAttempts": 0},
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": job.interval_seconds,
                "MaxAttempts": job.attempts,
                "BackoffRate": job.backoff_rate,
            },
        ],
        "Catch": [{"ErrorEquals": [RUN_SUCCEEDED], "Next": "Done"}],
        "End": True,
    }
    document = {
        "Comment": "Run the task, stop it at the timeout, retry a failed run with backoff",
        "StartAt": "Attempt",
        "States": {"Attempt": attempt, "Done": {"Type": "Succeed"}},
    }
    # a list of IDs is spliced in as '","'-joined text between the quotes of one element;
    # ${AWS::Partition} stays for Fn::Sub, and nothing else in the document has ${
    return json.dumps(document, indent=2, sort_keys=True)


def add_job(
    name: str,
    task: Task,
    parts: TaskDefinitionParts,
    net: AwsvpcSettings,
    cluster_arn: Any,
    ctx: Context,
) -> Any:
    """The state machine (with its role and log group); returns it."""
    job = task.job
    assert job is not None
    family = Sub(
        "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/"
        f"${{EnvironmentName}}-{name}:*"
    )
    in_cluster = Condition(ArnEquals({"ecs:cluster": cluster_arn}))
    statements = [
        statement(["ecs:RunTask"], [family], Condition=in_cluster),
        statement(
            ["ecs:DescribeTasks", "ecs:StopTask"],
            [Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/*")],
            Condition=in_cluster,
        ),
        statement(
            ["iam:PassRole"],
            [GetAtt(parts.execution_role, "Arn"), GetAtt(parts.task_role, "Arn")],
            Condition=Condition(StringEquals({"iam:PassedToService": "ecs-tasks.amazonaws.com"})),
        ),
        statement(
            ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
            [
                Sub(
                    "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
                    "rule/StepFunctionsGetEventsForECSTaskRule"
                )
            ],
        ),
        statement(
            [
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:UpdateLogDelivery",
            ],
            ["*"],  # vended log deliveries have no resource-level permissions (AWS's docs)
        ),
    ]
    role = ctx.add(
        iam.Role(
            "JobRole",
            AssumeRolePolicyDocument=trust("states.amazonaws.com"),
            Policies=[policy("run-job", statements)],
            Tags=ctx.name_tag(f"{name}-job"),
        )
    )
    logs = ctx.add(
        log_group(
            "JobLogGroup",
            task.log_retention_days,
            task.log_kms_key_arn,
            LogGroupName=Sub(f"/aws/vendedlogs/states/${{EnvironmentName}}-{name}"),
        )
    )
    machine = stepfunctions.StateMachine(
        "JobStateMachine",
        StateMachineName=ctx.name(name),
        StateMachineType="STANDARD",
        RoleArn=GetAtt(role, "Arn"),
        DefinitionString=Sub(
            definition(job, net.assign_public_ip),
            ClusterArn=cluster_arn,
            TaskDefinition=Ref(parts.task_definition),
            Subnets=Join('","', net.subnets),
            SecurityGroups=Join('","', net.security_groups),
        ),
        LoggingConfiguration=stepfunctions.LoggingConfiguration(
            Level="ERROR",
            IncludeExecutionData=False,
            Destinations=[
                stepfunctions.LogDestination(
                    CloudWatchLogsLogGroup=stepfunctions.CloudWatchLogsLogGroup(
                        LogGroupArn=GetAtt(logs, "Arn")
                    )
                )
            ],
        ),
        TracingConfiguration=stepfunctions.TracingConfiguration(Enabled=True),
        Tags=ctx.name_tag(f"{name}-job"),
    )
    if task.placement.assign_public_ip:
        waive(machine, {"CFG002": f"public IP by choice: {task.placement.reason}"})
    ctx.add(machine)
    if task.notify_failures and alerts.topic_arn(ctx) is not None:
        alerts.add_event_rule(
            ctx,
            "JobFailedRule",
            description=f"job {name} failed after its retries, or timed out",
            pattern={
                "source": ["aws.states"],
                "detail-type": ["Step Functions Execution Status Change"],
                "detail": {
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                    "stateMachineArn": [Ref(machine)],
                },
            },
            paths={"status": "$.detail.status", "execution": "$.detail.executionArn"},
            message=f"job {name} ended <status> after its retries (<execution>)",
        )
    return machine


def start_statement(machine: Any) -> Statement:
    """What the scheduler needs: start this state machine."""
    return statement(["states:StartExecution"], [Ref(machine)])


def runner_statements(machine: Any, wait: bool) -> list[Statement]:
    """What the run-once runner needs: start this state machine and, when it waits for the
    result, describe this state machine's executions (their ARNs name the state machine)."""
    statements = [start_statement(machine)]
    if wait:
        statements.append(
            statement(
                ["states:DescribeExecution"],
                [
                    Sub(
                        "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                        "execution:${Machine}:*",
                        Machine=GetAtt(machine, "Name"),
                    )
                ],
            )
        )
    return statements


# The run-once runner of a job (cfngen.kinds.task keeps the plain one): it starts an execution
# of the state machine, named after CloudFormation's request so a retried request cannot start a
# second one, and with WaitSeconds waits for the execution (all its retries) to end.
JOB_RUNNER_CODE = (
    runner_head('states = boto3.client("stepfunctions")')
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
                           data={"ExecutionArn": event["PhysicalResourceId"]})
        arn = states.start_execution(
            stateMachineArn=props["StateMachine"],
            name=event["RequestId"],
            input=json.dumps({"TaskDefinition": props["TaskDefinition"]}),
        )["executionArn"]
        print("started", arn)
        wait = int(props["WaitSeconds"])
        deadline = time.time() + wait
        while wait:
            if time.time() > deadline:
                raise RuntimeError(f"{arn} still running after {wait} seconds")
            time.sleep(15)
            status = states.describe_execution(executionArn=arn)["status"]
            if status == "SUCCEEDED":
                break
            if status != "RUNNING":
                raise RuntimeError(f"{arn} ended {status} (its runs and retries failed)")
        respond(event, context, "SUCCESS", physical=arn, data={"ExecutionArn": arn})
    except Exception as err:
        print("failed:", err)
        respond(event, context, "FAILED", str(err))
"""
)
