"""Alarms on any metric: of a component (its kind supplies namespace and dimensions) or of any
namespace with typed, imported or composed dimensions."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build, facts, imp, plans

ALERTS = {"emails": ["ops@example.com"]}
LBS = {"web": {"type": "application", "plain_http_reason": "internal tools behind a VPN"}}


def _alarm(res: dict[str, Any], title: str) -> dict[str, Any]:
    assert res[title]["Type"] == "AWS::CloudWatch::Alarm"
    props: dict[str, Any] = res[title]["Properties"]
    return props


def _dims(props: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in props["Dimensions"]}


def test_component_alarms_take_namespace_and_dimensions_from_the_kind() -> None:
    bp = blueprint(
        alerts=ALERTS,
        load_balancers=LBS,
        queues={"jobs": {}},
        services={"api": {"image": {"uri": "nginx"}}},
        alarms={
            "lb-5xx": {
                "component": "web",
                "metric": "HTTPCode_ELB_5XX_Count",
                "statistic": "Sum",
                "threshold": 10,
                "period": 60,
                "evaluation_periods": 5,
                "datapoints": 3,
                "missing_data": "notBreaching",
            },
            "jobs-age": {
                "component": "jobs",
                "metric": "ApproximateAgeOfOldestMessage",
                "statistic": "Maximum",
                "comparison": ">=",
                "threshold": 900,
            },
            "api-p99": {
                "component": "api",
                "metric": "CPUUtilization",
                "statistic": "p99",
                "threshold": 90,
            },
        },
    )
    plan = plans(bp)["alarms"]
    assert set(plan.depends_on) == {"alerts", "lb-web"}
    res = build(bp, "alarms")["Resources"]
    lb = _alarm(res, "Lb5xxAlarm")
    assert lb["Namespace"] == "AWS/ApplicationELB"
    assert _dims(lb) == {
        "LoadBalancer": {
            "Fn::Select": [1, {"Fn::Split": ["loadbalancer/", imp("lb-web", "LoadBalancerArn")]}]
        }
    }
    assert (lb["Statistic"], lb["Period"], lb["EvaluationPeriods"]) == ("Sum", 60, 5)
    assert lb["DatapointsToAlarm"] == 3 and lb["TreatMissingData"] == "notBreaching"
    assert lb["AlarmActions"] == [imp("alerts", "TopicArn")]
    age = _alarm(res, "JobsAgeAlarm")
    assert age["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert _dims(age) == {"QueueName": {"Fn::Sub": "${EnvironmentName}-jobs"}}
    p99 = _alarm(res, "ApiP99Alarm")
    assert p99["ExtendedStatistic"] == "p99" and "Statistic" not in p99
    assert _dims(p99) == {"ClusterName": {"Fn::Sub": "${EnvironmentName}"}, "ServiceName": "api"}


def test_namespace_alarms_with_typed_and_composed_dimensions() -> None:
    bp = blueprint(
        alerts=ALERTS,
        buckets={"media": {}},
        alarms={
            "orders-failed": {
                "namespace": "Shop/Orders",
                "metric": "Failed",
                "dimensions": {
                    "Environment": {"format": "${EnvironmentName}"},
                    "Bucket": {"from": "media", "attribute": "name"},
                    "Team": "payments",
                },
                "statistic": "Sum",
                "threshold": 0,
            }
        },
    )
    assert set(plans(bp)["alarms"].depends_on) == {"alerts", "bucket-media"}
    props = _alarm(build(bp, "alarms")["Resources"], "OrdersFailedAlarm")
    assert props["Namespace"] == "Shop/Orders"
    assert _dims(props) == {
        "Environment": {"Fn::Sub": "${EnvironmentName}"},
        "Bucket": imp("bucket-media", "BucketName"),
        "Team": "payments",
    }


def test_alarm_errors(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        alerts: {emails: [ops@example.com]}
        queues: {jobs: {}}
        repositories: {api: {}}
        alarms:
          a: {component: jbos, metric: X, threshold: 1}
          b: {component: api, metric: X, threshold: 1}
          c: {metric: X, threshold: 1}
          d: {namespace: N, metric: X, threshold: 1, evaluation_periods: 2, datapoints: 3}
          e: {namespace: N, metric: X, threshold: 1, period: 600, evaluation_periods: 200}
          f: {namespace: N, metric: X, threshold: 1, dimensions: {Q: {from: jobs, attribute: nme}}}
        environments: {dev: {}}
        """
    )
    errors = errors_of(tmp_path, text)
    assert errors[0].startswith("bp.yaml:9:6: alarms.c: name either the component")
    assert errors[1].startswith(
        "bp.yaml:10:6: alarms.d: datapoints (3) exceed evaluation_periods (2)"
    )
    assert errors[2].startswith(
        "bp.yaml:11:6: alarms.e: period times evaluation_periods is longer than 1 day(s)"
    )
    assert len(errors) == 3
    text = (
        "\n".join(
            line for line in text.splitlines() if not line.startswith(("  c:", "  d:", "  e:"))
        )
        + "\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:18: alarms.a.component: unknown component 'jbos' (did you mean 'jobs'?)",
        "bp.yaml:8:18: alarms.b.component: cfngen does not know where 'api''s metrics are "
        "(components with metrics: jobs) (give `namespace:` and `dimensions:` instead of "
        "`component:`)",
        "bp.yaml:9:86: alarms.f.dimensions.Q.attribute: 'jobs' has no attribute 'nme' (did you "
        "mean 'name'?)",
    ]


def test_alarms_need_alerts(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        alarms:
          a: {namespace: N, metric: X, threshold: 1}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:3: alarms: alarms notify the alerts topic, and the blueprint has no `alerts` "
        "(add an `alerts:` section with the e-mails to notify)"
    ]


def test_database_events_go_to_alerts_through_eventbridge(tmp_path: Path) -> None:
    bp = blueprint(
        alerts=ALERTS,
        databases={
            "main": {"engine": "postgres", "events": ["failure", "failover", "low storage"]}
        },
    )
    res = build(bp, "database-main")["Resources"]
    rule = res["EventsRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Instance Event"],
        "resources": [{"Fn::GetAtt": ["Instance", "DBInstanceArn"]}],
        "detail": {"EventCategories": ["failover", "failure", "low storage"]},
    }
    assert rule["Targets"][0]["Arn"] == imp("alerts", "TopicArn")

    assert "events.amazonaws.com" in facts(bp).alert_publishers
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        databases:
          main: {engine: postgres, events: [failure]}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:36: databases.main.events: database main sends its events to alerts, but the "
        "blueprint has no `alerts` (add an `alerts:` section, or remove `events`)"
    ]
