"""Destroy an environment: dependents first, in parallel where the graph allows.

A stack is deleted only when every stack importing from it is gone (CloudFormation refuses to
delete an export in use), only if it carries cfngen's tags for this blueprint and environment,
and resources kept by DeletionPolicy: Retain are listed at the end so nothing is forgotten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cfngen.deploy.aws import Clients
from cfngen.deploy.events import failure_reasons
from cfngen.deploy.orphans import destroy_edges, orphan_exporters, survey
from cfngen.deploy.poll import Interrupted, Poller, PollPolicy
from cfngen.deploy.progress import QuietReporter, Reporter
from cfngen.deploy.scheduler import reverse, run_graph
from cfngen.deploy.state import StackState, delete_stack, describe_stack, is_owned, settle
from cfngen.errors import OperationError, UsageError
from cfngen.render import RenderedEnvironment, load_template

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


@dataclass(frozen=True)
class DestroyResult:
    name: str
    outcome: str  # deleted | absent | failed | skipped | interrupted | not started
    message: str = ""
    retained: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = ()  # final snapshots CloudFormation took (DeletionPolicy)

    @property
    def ok(self) -> bool:
        return self.outcome in ("deleted", "absent")


@dataclass
class DestroySummary:
    environment_name: str
    results: list[DestroyResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if any(r.outcome == "interrupted" for r in self.results):
            return 130
        return 0 if all(r.ok for r in self.results) else 1

    def render(self) -> str:
        width = max((len(r.name) for r in self.results), default=10)
        lines = [f"destroy summary for {self.environment_name}:"]
        for r in self.results:
            lines.append(f"  {r.name:<{width}}  {r.outcome:<8}  {r.message}".rstrip())
        retained = [item for r in self.results for item in r.retained]
        if retained:
            lines.append(
                "retained resources (DeletionPolicy: Retain; delete them by hand if unwanted):"
            )
            lines.extend(f"  - {item}" for item in retained)
        snapshots = [item for r in self.results for item in r.snapshots]
        if snapshots:
            lines.append(
                "final snapshots left behind (DeletionPolicy: Snapshot; they cost storage until "
                "deleted):"
            )
            lines.extend(f"  - {item}" for item in snapshots)
        if self.exit_code == 1:
            lines.append("next: fix the failures above and run cfngen destroy again")
        return "\n".join(lines)


def existing_stacks(env: RenderedEnvironment, clients: Clients) -> list[StackState]:
    """The environment's stacks that exist now (what destroy would delete), in deploy order."""
    from cfngen.deploy.stacksets import describe_stack_set, list_instances

    found = []
    for stack in env.stacks:
        if stack.regions:  # a stack set: listed with the regions it has instances in
            stack_set = describe_stack_set(clients.cloudformation, stack.name)
            if stack_set is not None:
                where = ", ".join(sorted(list_instances(clients.cloudformation, stack.name)))
                status = f"stack set, instances in {where or 'no region'}"
                found.append(StackState(stack.name, str(stack_set.get("StackSetId")), status))
            continue
        state = describe_stack(clients.for_region(stack.region).cloudformation, stack.name)
        if state is not None:
            found.append(state)
    return found


def _retained(events: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(
        f"{e.get('ResourceType')} {e.get('PhysicalResourceId') or e.get('LogicalResourceId')}"
        f" (stack {e.get('StackName')})"
        for e in events
        if e.get("ResourceStatus") == "DELETE_SKIPPED"
    )


def _policy(resource: dict[str, Any]) -> str:
    """A resource's DeletionPolicy, with CloudFormation's default (Snapshot for RDS clusters
    and for RDS instances outside a cluster)."""
    kind = resource.get("Type")
    if "DeletionPolicy" in resource:
        return str(resource["DeletionPolicy"])
    props = resource.get("Properties") or {}
    if kind == "AWS::RDS::DBCluster" or (
        kind == "AWS::RDS::DBInstance" and "DBClusterIdentifier" not in props
    ):
        return "Snapshot"
    return "Delete"


_FIND = {
    "AWS::RDS::DBInstance": "aws rds describe-db-snapshots --db-instance-identifier",
    "AWS::RDS::DBCluster": "aws rds describe-db-cluster-snapshots --db-cluster-identifier",
}


def _final_snapshots(events: list[dict[str, Any]], template: dict[str, Any]) -> tuple[str, ...]:
    resources = template.get("Resources") or {}
    found = []
    for e in events:
        resource = resources.get(e.get("LogicalResourceId"))
        if e.get("ResourceStatus") != "DELETE_COMPLETE" or not isinstance(resource, dict):
            continue
        if _policy(resource) != "Snapshot":
            continue
        kind, physical = str(resource.get("Type")), e.get("PhysicalResourceId") or ""
        find = f"; find it with: {_FIND[kind]} {physical}" if kind in _FIND and physical else ""
        found.append(f"{kind} {physical} (stack {e.get('StackName')}){find}")
    return tuple(dict.fromkeys(found))


def _template(cfn: CloudFormationClient, state: StackState) -> dict[str, Any]:
    try:
        body = cfn.get_template(StackName=state.stack_id, TemplateStage="Original")
    except ClientError:
        return {}  # only used to name final snapshots; deleting goes on without it
    return load_template(body["TemplateBody"])


def delete_owned_stack(
    cfn: CloudFormationClient,
    name: str,
    env: RenderedEnvironment,
    poller: Poller,
    report: Reporter,
    template: dict[str, Any] | None = None,
) -> DestroyResult:
    """Delete one stack if it is cfngen's for `env`; wait for it; what happened.

    `template` (the rendered one) names the final snapshots CloudFormation takes; without it
    (a stack no longer in the blueprint) the deployed template is read first.
    """
    report.status(name, "checking")
    state = describe_stack(cfn, name)
    if state is None:
        report.status(name, "absent")
        return DestroyResult(name, "absent")
    if not is_owned(state, env):
        return DestroyResult(
            name,
            "failed",
            f"not tagged as cfngen's stack for {env.blueprint}/{env.environment}; "
            "cfngen deletes only its own stacks",
        )
    if state.in_progress:
        state = settle(cfn, name, env, poller, on_status=lambda t: report.status(name, t))
        if state is None:
            return DestroyResult(name, "absent")
    if state.termination_protection:
        return DestroyResult(
            name,
            "failed",
            "termination protection is on; to really delete it: aws cloudformation "
            f"update-termination-protection --no-enable-termination-protection "
            f"--stack-name {name}",
        )
    if template is None:
        template = _template(cfn, state)
    report.status(name, "DELETE_IN_PROGRESS")
    events: list[dict[str, Any]] = []

    def on_event(event: dict[str, Any]) -> None:
        events.append(event)
        report.event(name, event)

    final = delete_stack(cfn, state, poller, on_event)
    if final is not None:
        report.status(name, final.status)
        reasons = "; ".join(failure_reasons(events)) or final.reason
        return DestroyResult(name, "failed", f"{final.status}: {reasons}", _retained(events))
    report.status(name, "DELETE_COMPLETE")
    return DestroyResult(
        name,
        "deleted",
        retained=_retained(events),
        snapshots=_final_snapshots(events, template),
    )


def _choose(
    wanted: tuple[str, ...],
    keys: dict[str, str],
    deps: dict[str, set[str]],
    clients_of: Callable[[str], Clients],
) -> set[str]:
    """The stack names `destroy --stack` names; refused while a deployed stack imports them."""
    known = keys | {name: name for name in keys.values()}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise UsageError(f"unknown stack: {', '.join(unknown)} (stacks: {', '.join(sorted(keys))})")
    chosen = {known[w] for w in wanted}
    users = reverse(deps)
    for name in sorted(chosen):
        blocking = [
            user
            for user in sorted(users.get(name, set()) - chosen)
            if describe_stack(clients_of(user).cloudformation, user) is not None
        ]
        if blocking:
            more = " ".join(f"--stack {b}" for b in blocking)
            raise UsageError(
                f"{name} cannot be deleted while {', '.join(blocking)} imports from it: "
                f"add {more} (deleted first), or deploy them without the import"
            )
    return chosen


def destroy_environment(
    env: RenderedEnvironment,
    clients: Clients,
    *,
    concurrency: int = 4,
    poll: PollPolicy | None = None,
    reporter: Reporter | None = None,
    cancel: threading.Event | None = None,
    stacks: tuple[str, ...] = (),
    orphans: bool = False,
) -> DestroySummary:
    """Delete every stack of `env` in reverse dependency order; see the summary for failures.

    Each stack is deleted in its own region (`stack.region`, else the clients' region).
    `orphans`: also the stacks of components removed from the blueprint (cfngen.deploy.orphans),
    each before the stacks it imports from. `stacks`: only these (names or components,
    orphans included); a stack that imports from one of them must be named too.
    """
    poller = Poller(poll or PollPolicy(), cancel or threading.Event())
    report: Reporter = reporter or QuietReporter()
    names = {s.component: s.name for s in env.stacks}
    deps = {s.name: {names[d] for d in s.depends_on if d in names} for s in env.stacks}
    regions = {s.name: s.region for s in env.stacks}
    stack_sets = {s.name: s for s in env.stacks if s.regions}
    templates = {s.name: load_template(s.body) for s in env.stacks}
    order = [s.name for s in reversed(env.stacks)]
    if orphans:
        found, deployed = survey(env, clients)
        deps = destroy_edges(deps, found, orphan_exporters(found, deployed))
        regions.update({o.name: o.region for o in found})
        order = [o.name for o in found] + order
        keys = {s.component: s.name for s in env.stacks} | {o.component: o.name for o in found}
    else:
        keys = {s.component: s.name for s in env.stacks}
    if stacks:
        chosen = _choose(stacks, keys, deps, lambda n: clients.for_region(regions[n]))
        deps = {n: needs & chosen for n, needs in deps.items() if n in chosen}
        order = [n for n in order if n in chosen]

    def work(name: str) -> DestroyResult:
        try:
            cfn = clients.for_region(regions[name]).cloudformation
            if name in stack_sets:  # instances in every region first, then the stack set
                from cfngen.deploy.stackset_deploy import destroy_stack_set

                return destroy_stack_set(
                    cfn,
                    stack_sets[name],
                    env,
                    poller,
                    report,
                    lambda region: clients.for_region(region).cloudformation,
                )
            return delete_owned_stack(cfn, name, env, poller, report, templates.get(name))
        except Interrupted:
            return DestroyResult(name, "interrupted", "still deleting in CloudFormation")
        except OperationError as err:
            report.status(name, "failed")
            return DestroyResult(name, "failed", err.render())

    run = run_graph(
        reverse(deps),
        work,
        lambda r: r.ok,
        concurrency=concurrency,
        cancel=poller.cancel,
        order=order,
    )
    results = []
    for name in order:
        if name in run.results:
            results.append(run.results[name])
        elif name in run.skipped:
            results.append(
                DestroyResult(
                    name, "skipped", f"{run.skipped[name]} imports from it and was not deleted"
                )
            )
        else:
            results.append(DestroyResult(name, "not started"))
    return DestroySummary(env.environment_name, results)
