"""ECS tasks that are not services: run on a schedule, or once per task-definition revision.

Each task gets its own stack `task-<name>` with the same task definition, roles, log group and
derived security group a service with the same settings would get (`ContainerSettings`).
"""

import re
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from cfngen.blueprint.models.common import Model, fail
from cfngen.blueprint.models.schedule import check_schedule
from cfngen.blueprint.models.services import ContainerSettings

_TIMEZONE = re.compile(r"^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$")

SCHEDULE_ONLY = (
    "timezone",
    "enabled",
    "flexible_window_minutes",
    "retries",
    "max_event_age_minutes",
)
ONCE_ONLY = ("wait_minutes",)


class Job(Model):
    """A run as a job: started by a Step Functions state machine that waits for the task to
    stop, retries a failed run with backoff and gives up after a timeout. (EventBridge Scheduler
    alone only retries the RunTask call, not a run whose container fails; `run: once` alone runs
    the task once, without retries.)"""

    attempts: int = Field(3, ge=1, le=10, description="Retries of a failed run.")
    interval_seconds: int = Field(
        60, ge=1, le=3600, description="Wait before the first retry, in seconds."
    )
    backoff_rate: float = Field(
        2.0, ge=1.0, le=10.0, description="Each retry waits this many times longer."
    )
    timeout_minutes: int = Field(
        60, ge=1, le=1440, description="A run still going after this long is stopped and failed."
    )


class Task(ContainerSettings):
    """A Fargate task in its own stack `task-<name>`: `schedule` or `run: once`, not both."""

    schedule: str | None = Field(
        None,
        description="EventBridge Scheduler expression: rate(15 minutes), "
        "cron(0 3 * * ? *) or at(2030-01-01T00:00:00).",
    )
    run: Literal["once"] | None = Field(
        None,
        description="once: run once per task-definition revision, started by the stack "
        "(a Lambda-backed custom resource calls ecs:RunTask on create and update).",
    )
    timezone: str = Field("UTC", description="Schedule: time zone of cron/at expressions.")
    enabled: bool = Field(True, description="Schedule: ENABLED or DISABLED.")
    flexible_window_minutes: int = Field(
        0,
        ge=0,
        le=1440,
        description="Schedule: start within this many minutes of the time (0: exactly on time).",
    )
    retries: int = Field(
        2, ge=0, le=185, description="Schedule: retries when RunTask fails (e.g. no capacity)."
    )
    max_event_age_minutes: int = Field(
        60, ge=1, le=1440, description="Schedule: give up retrying after this many minutes."
    )
    job: Job | None = Field(
        None,
        description="Run as a job with retries of failed runs (backoff) and a timeout, through "
        "a Step Functions state machine (the schedule, or `run: once`, starts it).",
    )
    notify_failures: bool = Field(
        True,
        description="With `alerts`: publish to the topic when a run fails (a container exits "
        "non-zero, or the task fails to start).",
    )
    wait_minutes: int = Field(
        0,
        ge=0,
        le=14,
        description="run once: wait up to this many minutes for the task to stop and fail the "
        "deploy when it exits non-zero (0: start it and return at once).",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            problem = check_schedule(value)
            if problem is not None:
                raise fail(f"invalid schedule '{value}': {problem[0]}", problem[1])
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if not _TIMEZONE.match(value):
            raise fail(f"invalid time zone '{value}'", "an IANA name, e.g. UTC or Europe/Berlin")
        return value

    @model_validator(mode="after")
    def _mode(self) -> Self:
        if self.schedule is None and self.run is None:
            raise fail(
                "a task needs `schedule` or `run`",
                "e.g. schedule: rate(15 minutes), or run: once",
            )
        return self

    def misplaced(self) -> list[tuple[str, str]]:
        """(field, message) for settings that do not apply to this task's mode."""
        if self.schedule is not None and self.run is not None:
            return [("run", "a task runs on a `schedule` or `run: once`, not both")]
        if self.schedule is not None:
            wrong = [f for f in ONCE_ONLY if f in self.model_fields_set]
            return [(f, f"`{f}` applies to `run: once` tasks only") for f in wrong]
        wrong = [f for f in SCHEDULE_ONLY if f in self.model_fields_set]
        return [(f, f"`{f}` applies to scheduled tasks only") for f in wrong]
