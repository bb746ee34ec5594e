"""Service events to the alerts topic (EventBridge) and deployments that roll back on alarms."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build, facts, imp

ALERTS = {"emails": ["ops@example.com"]}


def _of_type(res: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in res.items() if v["Type"] == kind}


def test_events_become_rules_targeting_the_alerts_topic() -> None:
    bp = blueprint(
        alerts=ALERTS,
        services={
            "api": {
                "image": {"uri": "nginx"},
                "events": {"deployment_failures": True, "stopped_tasks": True},
            }
        },
    )
    res = build(bp, "service-api")["Resources"]
    rules = _of_type(res, "AWS::Events::Rule")
    assert sorted(rules) == ["DeploymentFailedRule", "TaskStoppedRule"]
    failed = rules["DeploymentFailedRule"]["Properties"]
    assert failed["EventPattern"]["resources"] == [{"Ref": "Service"}]
    assert failed["EventPattern"]["detail"] == {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]}
    assert failed["Targets"][0]["Arn"] == imp("alerts", "TopicArn")
    stopped = rules["TaskStoppedRule"]["Properties"]["EventPattern"]["detail"]
    assert stopped["group"] == ["service:api"]
    assert stopped["clusterArn"] == [imp("cluster", "ClusterArn")]
    # the topic's policy admits EventBridge only because a service publishes events
    assert "events.amazonaws.com" in facts(bp).alert_publishers


def test_no_events_no_rules_and_no_publisher() -> None:
    bp = blueprint(alerts=ALERTS, services={"api": {"image": {"uri": "nginx"}}})
    res = build(bp, "service-api")["Resources"]
    assert not _of_type(res, "AWS::Events::Rule")
    assert "events.amazonaws.com" not in facts(bp).alert_publishers


def test_rollback_on_alarms_lists_all_but_the_running_count_alarm() -> None:
    bp = blueprint(
        alerts=ALERTS,
        services={"api": {"image": {"uri": "nginx"}, "deployment": {"rollback_on_alarms": True}}},
    )
    res = build(bp, "service-api")["Resources"]
    alarms = _of_type(res, "AWS::CloudWatch::Alarm")
    config = res["Service"]["Properties"]["DeploymentConfiguration"]
    names = [a["Ref"] for a in config["Alarms"]["AlarmNames"]]
    assert config["Alarms"]["Rollback"] is True and config["Alarms"]["Enable"] is True
    assert names and set(names) < set(alarms)
    assert not any("Running" in n for n in names)
    # the alarms name the service by its fixed name, so the service may list them (no cycle)
    for name in names:
        dims = {d["Name"]: d["Value"] for d in alarms[name]["Properties"]["Dimensions"]}
        assert dims["ServiceName"] == "api"


def test_without_rollback_no_deployment_alarms() -> None:
    bp = blueprint(alerts=ALERTS, services={"api": {"image": {"uri": "nginx"}}})
    config = build(bp, "service-api")["Resources"]["Service"]["Properties"]
    assert "Alarms" not in config["DeploymentConfiguration"]


def test_events_and_rollback_need_alerts(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        services:
          api:
            image: {uri: nginx}
            events: {stopped_tasks: true}
            deployment: {rollback_on_alarms: true}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:13: services.api.events: service api sends its events to alerts, but the "
        "blueprint has no `alerts` (add an `alerts:` section (the SNS topic events are sent "
        "to), or remove `events`)",
        "bp.yaml:7:38: services.api.deployment.rollback_on_alarms: service api rolls "
        "deployments back on its alarms, but it has none (add an `alerts:` section (services "
        "get alarms by default) or set `alarms:` on services.api)",
    ]
