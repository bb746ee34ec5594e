"""The alerts kind: the SNS topic every alarm and notification goes to, and the alarm helpers
every kind uses.

`add_alarm` is the one way a builder adds a CloudWatch alarm: the alarm notifies the `alerts`
topic when the blueprint has one (the planner must then depend on `dependency(bp)`). Kinds whose
resources publish to the topic themselves (EventBridge rules, budgets) say so through their
record's `alert_publishers`, which the topic's key and policy admit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awacs import kms as awacs_kms
from awacs import sns as awacs_sns
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import AccountId, GetAtt, Ref, Sub, cloudwatch, events, kms, sns

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.operations import Alerts
from cfngen.builders.base import Context, StackPlan
from cfngen.kinds.base import Facts, Kind

ALERTS = "alerts"
TOPIC_ARN = "TopicArn"


def dependency(bp: Blueprint) -> tuple[str, ...]:
    """Add to a plan's depends_on when its builder calls `add_alarm` or publishes to the topic."""
    return (ALERTS,) if ALERTS_KIND.one(bp) is not None else ()


def topic_arn(ctx: Context) -> Any | None:
    """The alerts topic's ARN (imported), or None when the blueprint has no alerts."""
    if ALERTS_KIND.one(ctx.blueprint) is None:
        return None
    return ctx.import_value(ALERTS, TOPIC_ARN)


def add_alarm(
    ctx: Context,
    title: str,
    *,
    description: str,
    threshold: float,
    namespace: str = "",
    metric: str = "",
    dimensions: dict[str, Any] | None = None,
    comparison: str = "GreaterThanThreshold",
    statistic: str = "Average",
    period: int = 300,
    evaluation_periods: int = 2,
    missing_data: str = "missing",
    metrics: list[cloudwatch.MetricDataQuery] | None = None,
) -> cloudwatch.Alarm:
    """A CloudWatch alarm that notifies the alerts topic (when there is one) on alarm and OK.

    Either one metric (`namespace`, `metric`, `dimensions`, `statistic`, `period`) or metric
    math (`metrics`, built with `metric_query` and `expression`; the expression returns data).
    """
    topic = topic_arn(ctx)
    actions: list[Any] = [] if topic is None else [topic]
    props: dict[str, Any] = {
        "AlarmDescription": description,
        "EvaluationPeriods": evaluation_periods,
        "Threshold": threshold,
        "ComparisonOperator": comparison,
        "TreatMissingData": missing_data,
    }
    if metrics is not None:
        props["Metrics"] = metrics
    else:
        props.update(
            {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [
                    cloudwatch.MetricDimension(Name=k, Value=v)
                    for k, v in sorted((dimensions or {}).items())
                ],
                ("ExtendedStatistic" if statistic.startswith("p") else "Statistic"): statistic,
                "Period": period,
            }
        )
    if actions:
        props["AlarmActions"] = actions
        props["OKActions"] = actions
    alarm: cloudwatch.Alarm = ctx.add(cloudwatch.Alarm(title, **props))
    return alarm


def metric_query(
    query_id: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, Any],
    stat: str,
    period: int = 300,
) -> cloudwatch.MetricDataQuery:
    """One metric of an alarm's metric math (not returned itself)."""
    return cloudwatch.MetricDataQuery(
        Id=query_id,
        MetricStat=cloudwatch.MetricStat(
            Metric=cloudwatch.Metric(
                Namespace=namespace,
                MetricName=metric,
                Dimensions=[
                    cloudwatch.MetricDimension(Name=k, Value=v)
                    for k, v in sorted(dimensions.items())
                ],
            ),
            Period=period,
            Stat=stat,
        ),
        ReturnData=False,
    )


def expression(query_id: str, expr: str, label: str) -> cloudwatch.MetricDataQuery:
    """The metric math expression an alarm compares with its threshold."""
    return cloudwatch.MetricDataQuery(Id=query_id, Expression=expr, Label=label, ReturnData=True)


def add_event_rule(
    ctx: Context,
    title: str,
    *,
    description: str,
    pattern: dict[str, Any],
    paths: dict[str, str],
    message: str,
) -> events.Rule:
    """An EventBridge rule that publishes matching events to the alerts topic as one line of
    text (`message` with <name> placeholders filled from `paths`). The kind that adds one must
    list `events.amazonaws.com` in its record's `alert_publishers`."""
    rule: events.Rule = ctx.add(
        events.Rule(
            title,
            Description=Sub(f"${{EnvironmentName}}: {description}"),
            State="ENABLED",
            EventPattern=pattern,
            Targets=[
                events.Target(
                    Id="alerts",
                    Arn=topic_arn(ctx),
                    InputTransformer=events.InputTransformer(
                        InputPathsMap=paths,
                        InputTemplate=Sub(f'"${{EnvironmentName}}: {message}"'),
                    ),
                )
            ],
        )
    )
    return rule


def add_failed_task_rule(
    ctx: Context, title: str, *, cluster_arn: Any, group: Any, description: str, message: str
) -> events.Rule:
    """A rule for tasks of one ECS group (`service:<name>` or `family:<family>`) that stopped
    with a non-zero exit code or failed to start; `message` may use <reason> and <task>. ECS
    has no per-family metric of failed tasks to alarm on; its task state change events say
    which task stopped and why."""
    return add_event_rule(
        ctx,
        title,
        description=description,
        pattern={
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {
                "clusterArn": [cluster_arn],
                "group": [group],
                "lastStatus": ["STOPPED"],
                "$or": [
                    {"containers": {"exitCode": [{"anything-but": 0}]}},
                    {"stopCode": ["TaskFailedToStart"]},
                ],
            },
        },
        paths={"reason": "$.detail.stoppedReason", "task": "$.detail.taskArn"},
        message=message,
    )


EVENTS = "events.amazonaws.com"
"""The service principal of EventBridge rules that publish to the topic."""


# --- the alerts stack -----------------------------------------------------------------------


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    alerts = ALERTS_KIND.one(bp)
    if alerts is None:
        return []
    return [
        StackPlan(
            component=ALERTS,
            title="Alerts topic (SNS) with e-mail subscriptions",
            build=build_alerts,
            spec=alerts,
            source=("alerts",),
        )
    ]


def build_alerts(spec: Alerts, ctx: Context) -> None:
    # CloudWatch and Budgets cannot publish to a topic under the AWS-managed SNS key, so the
    # topic gets its own key whose policy lets exactly those two services use it.
    key = ctx.add(
        kms.Key(
            "AlertsKey",
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Description=Sub("${EnvironmentName} alerts topic encryption"),
            EnableKeyRotation=True,
            PendingWindowInDays=7,
            KeyPolicy=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="AccountAdministers",
                        Effect=Allow,
                        Principal=Principal(
                            "AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
                        ),
                        Action=[awacs_kms.Action("*")],
                        Resource=["*"],
                    ),
                    Statement(
                        Sid="PublishersEncrypt",
                        Effect=Allow,
                        Principal=Principal("Service", list(ctx.facts.alert_publishers)),
                        Action=[awacs_kms.Decrypt, awacs_kms.GenerateDataKey],
                        Resource=["*"],
                        Condition=Condition(StringEquals({"aws:SourceAccount": AccountId})),
                    ),
                ],
            ),
            Tags=ctx.name_tag("alerts"),
        )
    )
    topic = ctx.add(
        sns.Topic(
            "AlertsTopic",
            TopicName=ctx.name("alerts"),
            DisplayName=Sub("${EnvironmentName} alerts"),
            KmsMasterKeyId=Ref(key),
            Tags=ctx.name_tag("alerts"),
        )
    )
    ctx.add(
        sns.TopicPolicy(
            "AlertsTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="AlarmsAndBudgetsPublish",
                        Effect=Allow,
                        Principal=Principal("Service", list(ctx.facts.alert_publishers)),
                        Action=[awacs_sns.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(StringEquals({"aws:SourceAccount": AccountId})),
                    )
                ],
            ),
        )
    )
    for i, email in enumerate(spec.emails, 1):
        ctx.add(
            sns.SubscriptionResource(
                f"AlertsEmail{i}", TopicArn=Ref(topic), Protocol="email", Endpoint=email
            )
        )
    ctx.export(TOPIC_ARN, Ref(topic), "Alerts topic ARN (alarms and budget notifications)")
    ctx.output("KeyArn", GetAtt(key, "Arn"), "KMS key of the alerts topic")


ALERTS_KIND: Kind[Alerts] = Kind(
    section="alerts",
    model=Alerts,
    description="SNS topic every alarm and the budget notify.",
    prefix=ALERTS,
    plan=plan,
    singleton=True,
    alert_publishers=lambda bp: ("cloudwatch.amazonaws.com", "budgets.amazonaws.com"),
    implicit=True,
    order=30,
)
KIND = ALERTS_KIND
