"""Semantic checks of tasks, service discovery addresses and service alarms.

Tasks are checked with the same functions as services (`check_image_and_size`,
`check_relations`), so a setting means the same on both kinds and fails with the same message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfngen.blueprint.check_containers import check_image_and_size, check_relations
from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.source import Path_

if TYPE_CHECKING:
    from cfngen.blueprint.validate import Checker


def check_tasks(bp: Blueprint, c: Checker) -> None:
    from cfngen.builders.relations import attributes, targets

    known_targets = targets(bp)
    attrs = attributes(bp)
    for name, task in bp.tasks.items():
        base: Path_ = ("tasks", name)
        for key, message in task.misplaced():
            fix = "remove `run`" if key == "run" else f"remove `{key}`"
            c.error((*base, key), message, fix, at_key=True)
        check_image_and_size(bp, c, base, task, fargate=True)
        check_relations(bp, c, base, name, task, "task", known_targets, attrs)


def check_service_alarms(bp: Blueprint, c: Checker) -> None:
    """Running-task alarms read Container Insights, which the cluster must not turn off."""
    from cfngen.builders.service import effective_alarms

    if bp.cluster is None or bp.cluster.container_insights != "disabled":
        return
    for name, svc in bp.services.items():
        alarms = effective_alarms(bp, svc)
        if alarms is not None and alarms.running_below_desired:
            c.error(
                ("cluster", "container_insights"),
                f"service {name}'s running-task alarm reads Container Insights metrics, which "
                "this cluster turns off",
                "enable container_insights, or set alarms: {running_below_desired: false} on "
                f"services.{name}",
            )
            return


TASK_CHECKS = [check_tasks, check_service_alarms]
