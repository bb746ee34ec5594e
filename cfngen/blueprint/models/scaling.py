"""How a service scales: target tracking (CPU, memory, requests per target, queue backlog per
task), step scaling on CPU or memory, and scheduled capacity changes."""

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from cfngen.blueprint.models.common import Model, Name, fail
from cfngen.blueprint.models.schedule import check_schedule


class QueueBacklog(Model):
    """Keep about `messages_per_task` visible messages of a queue per running task."""

    queue: Name = Field(description="A queue of this blueprint (`queues`).")
    messages_per_task: int = Field(
        ge=1, le=100000, description="Messages one task works off in an acceptable time."
    )


class Step(Model):
    """One step: when the metric is at least `above` (scale out) or at most `below` (scale in),
    change the task count by `change` (negative to remove tasks)."""

    above: float | None = Field(None, ge=0, le=100, description="Scale out at or above this %.")
    below: float | None = Field(None, ge=0, le=100, description="Scale in at or below this %.")
    change: int = Field(ge=-100, le=100, description="Tasks to add (or remove, negative).")

    @model_validator(mode="after")
    def _one_bound(self) -> Self:
        if (self.above is None) == (self.below is None):
            raise fail(
                "a step needs exactly one of `above` or `below`", "e.g. {above: 80, change: 2}"
            )
        if self.change == 0:
            raise fail("a step must change the task count", "e.g. change: 1")
        if self.above is not None and self.change < 0:
            raise fail("a step above a threshold adds tasks", "make change positive")
        if self.below is not None and self.change > 0:
            raise fail("a step below a threshold removes tasks", "make change negative")
        return self


class StepScaling(Model):
    """Step scaling on the service's average CPU or memory, with CloudWatch alarms."""

    metric: Literal["cpu", "memory"] = Field(description="The service's average cpu or memory.")
    steps: list[Step] = Field(min_length=1, description="The steps, in any order.")
    cooldown: int = Field(120, ge=0, le=3600, description="Seconds between adjustments.")


class ScheduledScaling(Model):
    """Change the task range on a schedule, e.g. dev scaled to zero at night."""

    schedule: str = Field(description="cron(...), rate(...) or at(...) (EventBridge syntax).")
    min: int = Field(ge=0, le=1000, description="Fewest tasks from then on.")
    max: int = Field(ge=0, le=1000, description="Most tasks from then on.")
    timezone: str = Field("UTC", description="Time zone of the schedule.")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        problem = check_schedule(value)
        if problem is not None:
            raise fail(f"invalid schedule '{value}': {problem[0]}", problem[1])
        return value

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.min > self.max:
            raise fail(f"min ({self.min}) is larger than max ({self.max})", "lower min")
        return self


class Autoscaling(Model):
    """Scaling of the service's task count between `min` and `max`."""

    min: int = Field(1, ge=0, le=1000, description="Fewest tasks.")
    max: int = Field(ge=1, le=1000, description="Most tasks.")
    cpu: int | None = Field(None, ge=10, le=95, description="Target average CPU %.")
    memory: int | None = Field(None, ge=10, le=95, description="Target average memory %.")
    requests_per_target: int | None = Field(
        None,
        ge=1,
        le=1000000,
        description="Target requests per task per minute, through the service's application "
        "load balancer route (ALBRequestCountPerTarget).",
    )
    queue: QueueBacklog | None = Field(
        None, description="Target backlog per task of a queue (messages visible / tasks)."
    )
    steps: StepScaling | None = Field(None, description="Step scaling on CPU or memory.")
    schedules: list[ScheduledScaling] = Field(
        default_factory=list, description="Scheduled changes of min and max."
    )
    scale_in_cooldown: int = Field(120, ge=0, le=3600, description="Target tracking: seconds.")
    scale_out_cooldown: int = Field(60, ge=0, le=3600, description="Target tracking: seconds.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.min > self.max:
            raise fail(f"min ({self.min}) is larger than max ({self.max})", "lower min")
        policies = [self.cpu, self.memory, self.requests_per_target, self.queue, self.steps]
        if all(p is None for p in policies) and not self.schedules:
            raise fail(
                "autoscaling needs a target (cpu, memory, requests_per_target, queue), steps "
                "or schedules",
                "e.g. cpu: 60",
            )
        return self
