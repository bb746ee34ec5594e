"""The alarms kind: CloudWatch alarms on any metric, in the stack `alarms` (split into `alarms-2`
... past `SHARD_SIZE` alarms) that notifies the alerts topic.

An alarm names either a component of the blueprint, whose kind says where its metrics are
(`Kind.metrics`: namespace and the dimensions that select it), or a namespace and dimensions of
its own (typed references, exports and composed values allowed). The stack depends on the
alerts stack and on every stack whose outputs it imports, so it deploys after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import Struct
from troposphere import Select, Split, Sub

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.alarms import COMPARISONS, Alarm
from cfngen.blueprint.models.containers import ComponentValue, ComposedValue, EnvValue
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.containers import render_value
from cfngen.kinds import alerts
from cfngen.kinds.base import ArnTail, Facts, Kind, MetricSource
from cfngen.stacks import Output, logical_id

ALARMS = "alarms"


class AlarmsSpec(Struct, frozen=True):
    alarms: dict[str, Alarm]
    sources: dict[str, MetricSource]  # component -> where its metrics are


def _references(alarm: Alarm) -> list[tuple[str, ComponentValue]]:
    """(dimension, typed reference) of every reference in an alarm's dimensions."""
    out: list[tuple[str, ComponentValue]] = []
    for dim, value in alarm.dimensions.items():
        if isinstance(value, ComponentValue):
            out.append((dim, value))
        elif isinstance(value, ComposedValue):
            out.extend((dim, v) for v in value.values.values() if isinstance(v, ComponentValue))
    return out


def _imports(alarm: Alarm, facts: Facts) -> set[str]:
    """The stacks an alarm imports from: its component's outputs, its references' outputs."""
    stacks: set[str] = set()
    source = facts.metrics.get(alarm.component or "")
    if source is not None:
        for value in source.dimensions.values():
            if isinstance(value, ArnTail):
                value = value.output
            if isinstance(value, Output):
                stacks.add(value.component)
    for _, ref in _references(alarm):
        attr = facts.attributes.get(ref.from_, {}).get(ref.attribute)
        if attr is not None:
            stacks.add(attr.output.component)
    return stacks


SHARD_SIZE = 100
"""Alarms per `alarms` stack: one resource each, about 1 KB of template each."""


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    shards: dict[str, dict[str, Alarm]] = {}
    for name, alarm in ALARMS_KIND.entries(bp).items():
        shards.setdefault(facts.shard(ALARMS, name), {})[name] = alarm
    plans: list[StackPlan[Any]] = []
    for component, alarms in shards.items():
        depends = set(alerts.dependency(bp))
        for alarm in alarms.values():
            depends |= _imports(alarm, facts)
        plans.append(
            StackPlan(
                component=component,
                title="CloudWatch alarms",
                build=build,
                spec=AlarmsSpec(
                    alarms,
                    {
                        a.component: facts.metrics[a.component]
                        for a in alarms.values()
                        if a.component
                    },
                ),
                depends_on=tuple(sorted(depends)),
                source=("alarms",),
            )
        )
    return plans


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    alarms = ALARMS_KIND.entries(bp)
    if alarms and not alerts.dependency(bp):
        c.error(
            ("alarms",),
            "alarms notify the alerts topic, and the blueprint has no `alerts`",
            "add an `alerts:` section with the e-mails to notify",
        )
    for name, alarm in alarms.items():
        base: Path_ = ("alarms", name)
        if alarm.component is not None and alarm.component not in facts.metrics:
            if alarm.component in facts.stacks:
                with_metrics = ", ".join(sorted(facts.metrics)) or "none"
                c.error(
                    (*base, "component"),
                    f"cfngen does not know where '{alarm.component}''s metrics are (components "
                    f"with metrics: {with_metrics})",
                    "give `namespace:` and `dimensions:` instead of `component:`",
                )
            else:
                c.reference((*base, "component"), alarm.component, facts.stacks, "component")
        for dim, ref in _references(alarm):
            path: Path_ = (*base, "dimensions", dim)
            value = alarm.dimensions[dim]
            if isinstance(value, ComposedValue):
                key = next(k for k, v in value.values.items() if v is ref)
                path = (*path, "values", key)
            c.value_reference(path, ref.from_, ref.attribute, facts.attributes, secret=False)


def _dimension(ctx: Context, value: str | Output | ArnTail | EnvValue) -> Any:
    if isinstance(value, ArnTail):
        arn = ctx.import_value(value.output.component, value.output.name)
        return Select(1, Split(value.marker, arn))
    if isinstance(value, Output):
        return ctx.import_value(value.component, value.name)
    if isinstance(value, str):
        return Sub(value) if "${" in value else value
    return render_value(ctx, value)


def build(spec: AlarmsSpec, ctx: Context) -> None:
    for name, alarm in sorted(spec.alarms.items()):
        dims: dict[str, Any] = {}
        namespace = alarm.namespace or ""
        if alarm.component is not None:
            source = spec.sources[alarm.component]
            namespace = source.namespace
            dims.update({k: _dimension(ctx, v) for k, v in source.dimensions.items()})
        dims.update({k: _dimension(ctx, v) for k, v in alarm.dimensions.items()})
        subject = alarm.component or namespace
        condition = f"{alarm.comparison} {alarm.threshold:g}"
        description = (
            alarm.description or f"{alarm.metric} of {subject} ({alarm.statistic}) {condition}"
        )
        created = alerts.add_alarm(
            ctx,
            f"{logical_id(name)}Alarm",
            description=description,
            threshold=alarm.threshold,
            namespace=namespace,
            metric=alarm.metric,
            dimensions=dims,
            comparison=COMPARISONS[alarm.comparison],
            statistic=alarm.statistic,
            period=alarm.period,
            evaluation_periods=alarm.evaluation_periods,
            missing_data=alarm.missing_data,
        )
        if alarm.datapoints is not None:
            created.DatapointsToAlarm = alarm.datapoints


ALARMS_KIND: Kind[Alarm] = Kind(
    section="alarms",
    model=Alarm,
    description="CloudWatch alarms on any metric of a component or namespace (stack `alarms`).",
    prefix=ALARMS,
    plan=plan,
    shared_stack=True,
    shard_size=SHARD_SIZE,
    names_components=False,
    checks=(check,),
    order=90,
)
KIND = ALARMS_KIND
