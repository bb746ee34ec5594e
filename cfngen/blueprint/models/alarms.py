"""Alarms on any metric: of a component of the blueprint (its namespace and dimensions come from
its kind) or of any CloudWatch namespace, notifying the alerts topic."""

from typing import Literal, Self

from pydantic import Field, model_validator

from cfngen.blueprint.models.common import Model, Name, fail
from cfngen.blueprint.models.containers import EnvValue

COMPARISONS = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}


class Alarm(Model):
    """One CloudWatch alarm. `component` picks the metric's namespace and dimensions from the
    component (a service, database, queue, topic, load balancer, file system, bucket or host);
    `namespace` and `dimensions` name any other metric, your application's included."""

    component: Name | None = Field(
        None, description="The component the metric belongs to (sets namespace and dimensions)."
    )
    namespace: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9./#:_ -]{1,255}$",
        description="CloudWatch namespace, e.g. AWS/Lambda or Shop/Orders (without `component`).",
    )
    metric: str = Field(
        pattern=r"^[A-Za-z0-9./#:_ -]{1,255}$", description="Metric name, e.g. CPUUtilization."
    )
    dimensions: dict[str, EnvValue] = Field(
        default_factory=dict,
        description="Dimensions (added to the component's): text, {from, attribute}, {import} "
        "or {format, values}.",
        max_length=30,
    )
    statistic: str = Field(
        "Average",
        pattern=r"^(Average|Sum|Minimum|Maximum|SampleCount|p(\d{1,2}(\.\d{1,2})?|100))$",
        description="Average, Sum, Minimum, Maximum, SampleCount or a percentile (p99, p99.9).",
    )
    comparison: Literal[">", ">=", "<", "<="] = Field(">", description="Alarm when the value is …")
    threshold: float = Field(description="… this value.")
    period: Literal[10, 20, 30, 60, 120, 180, 240, 300, 600, 900, 1800, 3600, 21600, 86400] = Field(
        300, description="Seconds per data point."
    )
    evaluation_periods: int = Field(1, ge=1, le=10080, description="Data points evaluated.")
    datapoints: int | None = Field(
        None, ge=1, le=100, description="Data points out of those that must breach (M of N)."
    )
    missing_data: Literal["missing", "notBreaching", "breaching", "ignore"] = Field(
        "missing", description="How missing data points count."
    )
    description: str | None = Field(
        None, max_length=1024, description="What the alarm means and what to do."
    )

    @model_validator(mode="after")
    def _source(self) -> Self:
        if (self.component is None) == (self.namespace is None):
            raise fail(
                "name either the component the metric belongs to or its namespace",
                "set `component:` (a component of this blueprint) or `namespace:`",
            )
        if self.datapoints is not None and self.datapoints > self.evaluation_periods:
            raise fail(
                f"datapoints ({self.datapoints}) exceed evaluation_periods "
                f"({self.evaluation_periods})",
                "lower datapoints or raise evaluation_periods",
            )
        limit = 7 * 86400 if self.period >= 3600 else 86400
        if self.period * self.evaluation_periods > limit:
            raise fail(
                f"period times evaluation_periods is longer than {limit // 86400} day(s), "
                "CloudWatch's limit for this period (1 day below an hour's period, else 7 days)",
                "lower evaluation_periods or the period",
            )
        return self
