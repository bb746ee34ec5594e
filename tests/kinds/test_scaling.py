"""Service autoscaling beyond CPU and memory: requests per target, queue backlog per task,
step scaling and schedules."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build, imp, plans

LBS = {"web": {"type": "application", "plain_http_reason": "internal tools behind a VPN"}}


def _policies(res: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v["Properties"]
        for k, v in res.items()
        if v["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy"
    }


def test_requests_per_target_steps_and_schedules() -> None:
    bp = blueprint(
        load_balancers=LBS,
        services={
            "api": {
                "image": {"uri": "nginx"},
                "port": 80,
                "routes": [{"load_balancer": "web"}],
                "autoscaling": {
                    "min": 1,
                    "max": 10,
                    "requests_per_target": 500,
                    "steps": {
                        "metric": "cpu",
                        "steps": [
                            {"above": 70, "change": 1},
                            {"above": 90, "change": 3},
                            {"below": 20, "change": -1},
                        ],
                    },
                    "schedules": [{"schedule": "cron(0 20 ? * MON-FRI *)", "min": 0, "max": 0}],
                },
            }
        },
    )
    res = build(bp, "service-api")["Resources"]
    policies = _policies(res)
    requests = policies["RequestsScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"]
    spec = requests["PredefinedMetricSpecification"]
    assert spec["PredefinedMetricType"] == "ALBRequestCountPerTarget"
    assert requests["TargetValue"] == 500.0
    out = policies["StepScaleOutPolicy"]["StepScalingPolicyConfiguration"]["StepAdjustments"]
    assert out == [
        {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 20.0, "ScalingAdjustment": 1},
        {"MetricIntervalLowerBound": 20.0, "ScalingAdjustment": 3},
    ]
    assert res["StepScaleOutAlarm"]["Properties"]["Threshold"] == 70.0
    assert res["StepScaleInAlarm"]["Properties"]["Threshold"] == 20.0
    (action,) = res["ScalableTarget"]["Properties"]["ScheduledActions"]
    assert action["ScalableTargetAction"] == {"MaxCapacity": 0, "MinCapacity": 0}


def test_queue_backlog_per_task_reads_the_queue_and_depends_on_it() -> None:
    bp = blueprint(
        queues={"jobs": {}},
        services={
            "worker": {
                "image": {"uri": "nginx"},
                "uses": [{"component": "jobs", "access": "consume"}],
                "autoscaling": {
                    "min": 0,
                    "max": 5,
                    "queue": {"queue": "jobs", "messages_per_task": 50},
                },
            }
        },
    )
    policy = _policies(build(bp, "service-worker")["Resources"])["BacklogScalingPolicy"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    visible, tasks, backlog = config["CustomizedMetricSpecification"]["Metrics"]
    assert visible["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "QueueName", "Value": imp("queue-jobs", "QueueName")}
    ]
    assert tasks["MetricStat"]["Metric"]["MetricName"] == "RunningTaskCount"
    assert backlog["ReturnData"] is True and config["TargetValue"] == 50.0
    assert "queue-jobs" in plans(bp)["service-worker"].depends_on


def test_scaling_on_what_the_service_does_not_have(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        services:
          api:
            image: {uri: nginx}
            autoscaling:
              max: 4
              cpu: 60
              requests_per_target: 100
              queue: {queue: jbos, messages_per_task: 10}
              steps: {metric: cpu, steps: [{above: 80, change: 1}]}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:9:28: services.api.autoscaling.requests_per_target: requests per target are "
        "counted by an application load balancer; this service has no route to one (add a "
        "route to an application load balancer, or scale on cpu)",
        "bp.yaml:10:22: services.api.autoscaling.queue.queue: unknown queue 'jbos' (declare "
        "the queue first)",
        "bp.yaml:11:23: services.api.autoscaling.steps.metric: cpu is already a target "
        "tracking target; step scaling on the same metric would fight it (remove `cpu:` or the "
        "steps)",
    ]
