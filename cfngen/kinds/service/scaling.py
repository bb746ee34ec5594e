"""A service's autoscaling: one scalable target with its scheduled actions, and a policy per
target (CPU, memory, requests per target, queue backlog per task) or step scaling on an alarm."""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Join, Ref, Select, Split, Sub, cloudwatch
from troposphere import applicationautoscaling as aas

from cfngen.blueprint.models.scaling import Autoscaling, StepScaling
from cfngen.builders.base import Context
from cfngen.kinds.base import RouteTarget
from cfngen.stacks import logical_id


def add_autoscaling(
    ctx: Context,
    name: str,
    auto: Autoscaling,
    cluster_name: Any,
    service: Any,
    routes: list[RouteTarget],
) -> None:
    """The scalable target and every policy `auto` asks for."""
    actions = [
        aas.ScheduledAction(
            ScheduledActionName=f"{name}-{i + 1}",
            Schedule=s.schedule,
            Timezone=s.timezone,
            ScalableTargetAction=aas.ScalableTargetAction(MinCapacity=s.min, MaxCapacity=s.max),
        )
        for i, s in enumerate(auto.schedules)
    ]
    target_props: dict[str, Any] = {}
    if actions:
        target_props["ScheduledActions"] = actions
    target = ctx.add(
        aas.ScalableTarget(
            "ScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Join("/", ["service", cluster_name, GetAtt(service, "Name")]),
            MinCapacity=auto.min,
            MaxCapacity=auto.max,
            **target_props,
        )
    )
    for metric, utilisation in (("CPU", auto.cpu), ("Memory", auto.memory)):
        if utilisation is None:
            continue
        _tracking(
            ctx,
            f"{metric}ScalingPolicy",
            f"{name}-{metric.lower()}",
            target,
            auto,
            float(utilisation),
            PredefinedMetricSpecification=aas.PredefinedMetricSpecification(
                PredefinedMetricType=f"ECSServiceAverage{metric}Utilization"
            ),
        )
    if auto.requests_per_target is not None and routes:
        from cfngen.kinds.load_balancer import LB_ARN, lb_key

        rt = routes[0]  # the first application load balancer route (checked)
        tg_arn = ctx.import_value(lb_key(rt.load_balancer), rt.output)
        lb_arn = ctx.import_value(lb_key(rt.load_balancer), LB_ARN)
        label = Join(
            "/",
            [Select(1, Split("loadbalancer/", lb_arn)), Select(5, Split(":", tg_arn))],
        )
        _tracking(
            ctx,
            "RequestsScalingPolicy",
            f"{name}-requests",
            target,
            auto,
            float(auto.requests_per_target),
            PredefinedMetricSpecification=aas.PredefinedMetricSpecification(
                PredefinedMetricType="ALBRequestCountPerTarget", ResourceLabel=label
            ),
        )
    if auto.queue is not None:
        from cfngen.kinds.queue import QUEUE_NAME, queue_key  # names one: the blueprint has queues

        queue_name = ctx.import_value(queue_key(auto.queue.queue), QUEUE_NAME)
        service_dims = [
            aas.TargetTrackingMetricDimension(Name="ClusterName", Value=cluster_name),
            aas.TargetTrackingMetricDimension(Name="ServiceName", Value=GetAtt(service, "Name")),
        ]
        _tracking(
            ctx,
            "BacklogScalingPolicy",
            f"{name}-backlog",
            target,
            auto,
            float(auto.queue.messages_per_task),
            CustomizedMetricSpecification=aas.CustomizedMetricSpecification(
                Metrics=[
                    _query(
                        "visible",
                        "AWS/SQS",
                        "ApproximateNumberOfMessagesVisible",
                        [aas.TargetTrackingMetricDimension(Name="QueueName", Value=queue_name)],
                        "Sum",
                    ),
                    _query(
                        "tasks",
                        "ECS/ContainerInsights",
                        "RunningTaskCount",
                        service_dims,
                        "Average",
                    ),
                    aas.TargetTrackingMetricDataQuery(
                        Id="backlog",
                        Expression="visible / IF(tasks > 0, tasks, 1)",
                        Label="Messages per running task",
                        ReturnData=True,
                    ),
                ]
            ),
        )
    if auto.steps is not None:
        _steps(ctx, name, auto.steps, target, cluster_name, service)


def _tracking(
    ctx: Context, title: str, policy: str, target: Any, auto: Autoscaling, value: float, **spec: Any
) -> None:
    ctx.add(
        aas.ScalingPolicy(
            title,
            PolicyName=Sub(f"${{EnvironmentName}}-{policy}"),
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=aas.TargetTrackingScalingPolicyConfiguration(
                TargetValue=value,
                ScaleInCooldown=auto.scale_in_cooldown,
                ScaleOutCooldown=auto.scale_out_cooldown,
                **spec,
            ),
        )
    )


def _query(
    query_id: str, namespace: str, metric: str, dims: list[Any], stat: str
) -> aas.TargetTrackingMetricDataQuery:
    return aas.TargetTrackingMetricDataQuery(
        Id=query_id,
        MetricStat=aas.TargetTrackingMetricStat(
            Metric=aas.TargetTrackingMetric(
                Namespace=namespace, MetricName=metric, Dimensions=dims
            ),
            Stat=stat,
        ),
        ReturnData=False,
    )


def _steps(
    ctx: Context, name: str, steps: StepScaling, target: Any, cluster_name: Any, service: Any
) -> None:
    """Scale out and in through two alarms, each at the nearest step's threshold; the steps
    become adjustments relative to it."""
    metric = "CPUUtilization" if steps.metric == "cpu" else "MemoryUtilization"
    dims = [
        cloudwatch.MetricDimension(Name="ClusterName", Value=cluster_name),
        cloudwatch.MetricDimension(Name="ServiceName", Value=GetAtt(service, "Name")),
    ]
    outs = sorted((s for s in steps.steps if s.above is not None), key=lambda s: s.above or 0)
    ins = sorted((s for s in steps.steps if s.below is not None), key=lambda s: -(s.below or 0))
    for direction, chosen in (("Out", outs), ("In", ins)):
        if not chosen:
            continue
        bounds = [s.above if direction == "Out" else s.below for s in chosen]
        threshold = float(bounds[0] or 0)
        adjustments = []
        for i, step in enumerate(chosen):
            offset = float(bounds[i] or 0) - threshold
            following = float(bounds[i + 1] or 0) - threshold if i + 1 < len(chosen) else None
            interval: dict[str, Any] = {}
            if direction == "Out":
                interval["MetricIntervalLowerBound"] = offset
                if following is not None:
                    interval["MetricIntervalUpperBound"] = following
            else:
                interval["MetricIntervalUpperBound"] = offset
                if following is not None:
                    interval["MetricIntervalLowerBound"] = following
            adjustments.append(aas.StepAdjustment(ScalingAdjustment=step.change, **interval))
        policy = ctx.add(
            aas.ScalingPolicy(
                logical_id("step", "scale", direction.lower(), "policy"),
                PolicyName=Sub(f"${{EnvironmentName}}-{name}-scale-{direction.lower()}"),
                PolicyType="StepScaling",
                ScalingTargetId=Ref(target),
                StepScalingPolicyConfiguration=aas.StepScalingPolicyConfiguration(
                    AdjustmentType="ChangeInCapacity",
                    Cooldown=steps.cooldown,
                    MetricAggregationType="Average",
                    StepAdjustments=adjustments,
                ),
            )
        )
        ctx.add(
            cloudwatch.Alarm(
                logical_id("step", "scale", direction.lower(), "alarm"),
                AlarmDescription=f"Service {name}: scale {direction.lower()} on {steps.metric}",
                Namespace="AWS/ECS",
                MetricName=metric,
                Dimensions=dims,
                Statistic="Average",
                Period=60,
                EvaluationPeriods=2 if direction == "Out" else 5,
                Threshold=threshold,
                ComparisonOperator="GreaterThanOrEqualToThreshold"
                if direction == "Out"
                else "LessThanOrEqualToThreshold",
                AlarmActions=[Ref(policy)],
            )
        )
