"""What a deploy did, stack by stack, and the summary printed at its end."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cfngen.deploy.state import continue_rollback_command

__all__ = ["DeploySummary", "Outcome", "StackResult", "next_step"]


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"  # a removed component's stack, by deploy --prune
    FAILED = "failed"
    SKIPPED = "skipped"
    DECLINED = "declined"
    INTERRUPTED = "interrupted"
    NOT_STARTED = "not started"

    @property
    def ok(self) -> bool:
        return self in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.DELETED)


@dataclass(frozen=True)
class StackResult:
    name: str
    outcome: Outcome
    message: str = ""
    next_step: str = ""
    # a stack set's instances: (region, how it is there now), in the environment's order
    regions: tuple[tuple[str, str], ...] = ()


@dataclass
class DeploySummary:
    environment_name: str
    results: list[StackResult]
    still_running: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.outcome.ok for r in self.results) and not self.still_running

    @property
    def exit_code(self) -> int:
        if any(r.outcome is Outcome.INTERRUPTED for r in self.results):
            return 130
        if any(r.outcome is Outcome.NOT_STARTED for r in self.results):
            # only a cancelled run leaves stacks unstarted (a failure skips its dependants): an
            # interruption between stacks, whose running ones finished (a lost lock exits 1
            # before this is read)
            return 130
        return 0 if self.ok else 1

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.outcome.value] = counts.get(r.outcome.value, 0) + 1
        return counts

    def render(self) -> str:
        width = max((len(r.name) for r in self.results), default=10)
        lines = [f"deploy summary for {self.environment_name}:"]
        for r in self.results:
            text = f"  {r.name:<{width}}  {r.outcome.value:<11}"
            if r.message:
                text += f"  {r.message}"
            lines.append(text.rstrip())
            lines.extend(f"      {region}: {state}" for region, state in r.regions)
        counts = ", ".join(f"{n} {k}" for k, n in self.counts().items())
        lines.append(f"{len(self.results)} stacks: {counts}")
        stopped = (Outcome.INTERRUPTED, Outcome.NOT_STARTED)
        if not self.still_running and any(r.outcome in stopped for r in self.results):
            lines.append(
                "interrupted: nothing more was started. Run the same command again: it waits for "
                "what is still running and continues."
            )
        if self.still_running:
            lines.append(
                "still running in CloudFormation (not cancelled): "
                + ", ".join(self.still_running)
                + ". Run the same command again: cfngen waits for them and continues."
            )
        steps = [r.next_step for r in self.results if r.next_step]
        if steps:
            lines.append("next:")
            lines.extend(f"  - {s}" for s in dict.fromkeys(steps))
        elif self.ok:
            lines.append("next: nothing to do; `cfngen outputs` shows the stack outputs")
        elif any(r.outcome is Outcome.FAILED for r in self.results):
            lines.append("next: fix the failures above and run the same command again")
        return "\n".join(lines)


def next_step(name: str, status: str, creating: bool) -> str:
    """What to do after a failed operation, from the status the stack really ended in."""
    if status == "DELETE_COMPLETE":
        return (
            f"{name} was deleted while cfngen waited for it (by another run or by hand); "
            "deploy again to create it"
        )
    if status == "UPDATE_ROLLBACK_FAILED":
        return (
            f"fix the cause, then `{continue_rollback_command(name)}` "
            "or `cfngen deploy --continue-rollback`"
        )
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        return (
            f"{name} rolled back and holds nothing; fix the cause and deploy again "
            f"(cfngen deletes the {status} stack and recreates it)"
        )
    if status == "UPDATE_ROLLBACK_COMPLETE":
        return f"{name} is back at its previous version; fix the cause and deploy again"
    return (
        f"{name} ended {status} ({'creating' if creating else 'updating'}); "
        "check `cfngen status`, then deploy again"
    )
