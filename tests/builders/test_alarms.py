"""Alarms of containers and traffic: running tasks below desired, CPU and memory per service,
5xx and unhealthy targets per load balancer route; rendered through ops.add_alarm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import load_template
from tests.builders.containers_sample import imp, of_type
from tests.helpers import compile_text

BP = """\
blueprint: shop
region: eu-west-1
network: {nat: none}
alerts: {emails: [ops@example.com]}
load_balancers:
  public:
    type: application
    scheme: internet-facing
    certificate: arn:aws:acm:eu-west-1:123456789012:certificate/abc-123
  inner:
    type: network
    scheme: internal
    listeners: [{port: 9000}]
services:
  api:
    image: {uri: ghcr.io/acme/api}
    ports: [{container: 3000}, {container: 9000}]
    routes:
      - {load_balancer: public, path: /api/*}
      - {load_balancer: inner, listener: 9000, port: 9000}
  worker:
    image: {uri: ghcr.io/acme/worker}
    alarms: {cpu_percent: 90, memory_percent: null, running_below_desired: false}
environments: {dev: {}}
"""


def alarms(text: str, component: str, tmp_path: Path) -> dict[str, dict[str, Any]]:
    env = compile_text(tmp_path, text)
    t = load_template(env.stack(component).body)
    return {k: v["Properties"] for k, v in of_type(t, "AWS::CloudWatch::Alarm").items()}


TOPIC = [imp("alerts", "TopicArn")]
DIMS = [
    {"Name": "ClusterName", "Value": imp("cluster", "ClusterName")},
    {"Name": "ServiceName", "Value": "api"},  # the fixed name: the service may list its alarms
]


def test_with_an_alerts_topic_every_service_gets_its_alarms(tmp_path: Path) -> None:
    found = alarms(BP, "service-api", tmp_path)
    assert set(found) == {
        "RunningTasksAlarm",
        "CpuAlarm",
        "MemoryAlarm",
        "Public3000UnhealthyAlarm",
        "Public3000Target5xxAlarm",
        "Inner9000UnhealthyAlarm",
    }
    for alarm in found.values():
        assert alarm["AlarmActions"] == TOPIC and alarm["OKActions"] == TOPIC
    cpu = found["CpuAlarm"]
    assert (cpu["Namespace"], cpu["MetricName"], cpu["Threshold"]) == (
        "AWS/ECS",
        "CPUUtilization",
        80,
    )
    assert cpu["Dimensions"] == DIMS
    assert found["MemoryAlarm"]["MetricName"] == "MemoryUtilization"


def test_running_below_desired_compares_container_insights_counts(tmp_path: Path) -> None:
    alarm = alarms(BP, "service-api", tmp_path)["RunningTasksAlarm"]
    assert "MetricName" not in alarm
    desired, running, missing = alarm["Metrics"]
    assert desired["MetricStat"]["Metric"] == {
        "Namespace": "ECS/ContainerInsights",
        "MetricName": "DesiredTaskCount",
        "Dimensions": DIMS,
    }
    assert running["MetricStat"]["Metric"]["MetricName"] == "RunningTaskCount"
    assert (desired["ReturnData"], running["ReturnData"]) == (False, False)
    assert missing == {
        "Id": "missing",
        "Expression": "desired - running",
        "Label": "Tasks missing",
        "ReturnData": True,
    }
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["EvaluationPeriods"] == 2


def test_route_alarms_name_the_target_group_and_load_balancer(tmp_path: Path) -> None:
    found = alarms(BP, "service-api", tmp_path)
    five = found["Public3000Target5xxAlarm"]
    assert five["Namespace"] == "AWS/ApplicationELB"
    assert (five["MetricName"], five["Statistic"], five["Threshold"]) == (
        "HTTPCode_Target_5XX_Count",
        "Sum",
        10,
    )
    assert five["TreatMissingData"] == "notBreaching"
    assert five["Dimensions"] == [
        {
            "Name": "LoadBalancer",
            "Value": {
                "Fn::Select": [
                    1,
                    {"Fn::Split": ["loadbalancer/", imp("lb-public", "LoadBalancerArn")]},
                ]
            },
        },
        {
            "Name": "TargetGroup",
            "Value": {
                "Fn::Select": [5, {"Fn::Split": [":", imp("lb-public", "Api3000TargetGroupArn")]}]
            },
        },
    ]
    unhealthy = found["Inner9000UnhealthyAlarm"]
    assert unhealthy["Namespace"] == "AWS/NetworkELB"
    assert unhealthy["MetricName"] == "UnHealthyHostCount"
    assert unhealthy["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_thresholds_are_settings_and_null_turns_an_alarm_off(tmp_path: Path) -> None:
    found = alarms(BP, "service-worker", tmp_path)
    assert set(found) == {"CpuAlarm"}
    assert found["CpuAlarm"]["Threshold"] == 90


def test_without_alerts_only_services_that_ask_get_alarms_and_nobody_is_notified(
    tmp_path: Path,
) -> None:
    text = BP.replace("alerts: {emails: [ops@example.com]}\n", "")
    assert alarms(text, "service-api", tmp_path) == {}
    env = compile_text(tmp_path, text)
    assert "alerts" not in env.stack("service-worker").depends_on
    worker = alarms(text, "service-worker", tmp_path)
    assert set(worker) == {"CpuAlarm"}
    assert "AlarmActions" not in worker["CpuAlarm"]


def test_alarmed_services_deploy_after_the_alerts_topic(tmp_path: Path) -> None:
    env = compile_text(tmp_path, BP)
    assert "alerts" in env.stack("service-api").depends_on
    assert "shop-dev-alerts-TopicArn" in env.stack("service-api").imports


def test_application_load_balancer_alarms_on_its_own_5xx(tmp_path: Path) -> None:
    rendered = compile_text(tmp_path, BP)
    public = load_template(rendered.stack("lb-public").body)
    alarm = public["Resources"]["Elb5xxAlarm"]["Properties"]
    assert alarm["MetricName"] == "HTTPCode_ELB_5XX_Count"
    assert alarm["Namespace"] == "AWS/ApplicationELB"
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 10
    assert alarm["Dimensions"] == [
        {"Name": "LoadBalancer", "Value": {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]}}
    ]
    assert alarm["AlarmActions"] == [imp("alerts", "TopicArn")]
    assert "alerts" in rendered.stack("lb-public").depends_on
    # network load balancers have no 5xx of their own; null turns the alarm off
    assert "Elb5xxAlarm" not in load_template(rendered.stack("lb-inner").body)["Resources"]
    off = compile_text(
        tmp_path,
        BP.replace(
            "    certificate: arn:aws:acm:eu-west-1:123456789012:certificate/abc-123\n",
            "    certificate: arn:aws:acm:eu-west-1:123456789012:certificate/abc-123\n"
            "    elb_5xx_count: null\n",
        ),
    )
    assert "Elb5xxAlarm" not in load_template(off.stack("lb-public").body)["Resources"]
