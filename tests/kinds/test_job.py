"""Scheduled tasks run as jobs: a Step Functions state machine with retries, backoff and a
timeout, started by the schedule, with least-privilege roles and one alert per failed job."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from tests.helpers import errors_of
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
    run = _definition(res)["States"]["Run"]
    assert run["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert run["TimeoutSeconds"] == 45 * 60
    assert run["Retry"] == [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 30, "MaxAttempts": 4, "BackoffRate": 3.0}
    ]
    assert run["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == [
        "s-1",
        "s-2",
    ]
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


def test_without_job_the_schedule_runs_the_task() -> None:
    plain = {k: v for k, v in JOB_TASK.items() if k != "job"}
    res = build(blueprint(tasks={"report": plain}), "task-report")["Resources"]
    assert "JobStateMachine" not in res
    assert "EcsParameters" in res["Schedule"]["Properties"]["Target"]


def test_a_job_needs_a_schedule(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        tasks:
          migrate:
            image: {uri: nginx}
            run: once
            job: {attempts: 2}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:5: tasks.migrate.job: `job` applies to scheduled tasks only (remove `job`)"
    ]
