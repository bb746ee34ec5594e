"""`plan`: what deploy would do, per stack; change sets are created and deleted again.

The same analysis as deploy (cfngen.deploy.deployer), run on a Deployment; split out to keep
each module readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cfngen.deploy import template as tpl
from cfngen.deploy.artifacts import check_sizes
from cfngen.deploy.changeset import (
    ChangeSet,
    ChangeSetState,
    delete_change_set,
    wait_for_change_set,
)
from cfngen.deploy.diff import (
    PlanReport,
    StackPlan,
    additions,
    changed_outputs,
    parameter_changes,
    resource_changes,
)
from cfngen.deploy.environment import wanted_parameters
from cfngen.deploy.orphans import orphan_note, survey
from cfngen.deploy.poll import Interrupted
from cfngen.deploy.replacement import impossible
from cfngen.deploy.safety import importers, refusals
from cfngen.deploy.scheduler import GraphRun, run_graph
from cfngen.deploy.state import (
    RECREATE_STATUSES,
    StackState,
    continue_rollback_command,
    describe_stack,
    is_owned,
)
from cfngen.errors import OperationError
from cfngen.render import RenderedStack, load_template

if TYPE_CHECKING:
    from cfngen.deploy.deployer import Deployment


def plan_environment(self: Deployment) -> PlanReport:
    """What deploy would do, per stack; change sets are created and deleted again."""
    check_sizes(self.env)
    by_name = {s.name: s for s in self.selected}
    run: GraphRun[str, StackPlan] = run_graph(
        self._deps(),
        lambda name: _plan_one(self, by_name[name]),
        lambda _: True,
        concurrency=self.options.concurrency,
        cancel=self.poller.cancel,
        order=[s.name for s in self.selected],
    )
    if run.interrupted:
        raise Interrupted("plan interrupted; its change sets may be left (cfngen-*), harmless")
    plans = [run.results[s.name] for s in self.selected]
    if self.options.list_orphans:
        plans += [
            StackPlan(o.name, o.component, "orphan", notes=[orphan_note(o)])
            for o in survey(self.env, self.clients)[0]
        ]
    return PlanReport(self.env.environment_name, plans)


def _plan_one(self: Deployment, stack: RenderedStack) -> StackPlan:
    from cfngen.deploy.stackset_deploy import plan_stack_set

    try:
        plan = plan_stack_set(self, stack) if stack.regions else _plan_stack(self, stack)
    except OperationError as err:
        plan = StackPlan(stack.name, stack.component, "error", notes=[err.render()])
    if stack.home_only:
        plan.notes.append(f"home region only ({self.clients.region}): {stack.home_only}")
    with self._lock:
        self._changed[stack.name] = plan.action in ("create", "recreate", "update")
    return plan


def plan_stack(self: Deployment, stack: RenderedStack) -> StackPlan:
    """One plain stack's plan (a stack set plans its home instance through this)."""
    return _plan_stack(self, stack)


def _plan_stack(self: Deployment, stack: RenderedStack) -> StackPlan:
    name = stack.name
    new = load_template(stack.body)
    state = describe_stack(self.aws(stack).cloudformation, name)
    if state is None:
        return StackPlan(name, stack.component, "create", resources=additions(new))
    if state.in_progress:
        return StackPlan(
            name, stack.component, "busy", notes=[f"{state.status}: deploy will wait for it"]
        )
    if state.status in RECREATE_STATUSES:
        note = f"{state.status}: deploy deletes this empty stack and creates it again"
        if not is_owned(state, self.env):
            note = f"{state.status} and not tagged as cfngen's: deploy will refuse it"
        return StackPlan(name, stack.component, "recreate", resources=additions(new), notes=[note])
    if state.status in ("UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"):
        return StackPlan(
            name,
            stack.component,
            "error",
            notes=[
                f"{state.status}: {continue_rollback_command(name)}"
                if state.status == "UPDATE_ROLLBACK_FAILED"
                else state.status
            ],
        )
    old = self.deployed_template(stack)
    if self.is_unchanged(stack, state, old, new):
        if self._rereads(new):
            reads = ", ".join(sorted({n for n, _ in tpl.stack_output_reads(new)}))
            note = (
                f"reads {reads} with Fn::GetStackOutput, which this deploy changes: deploy "
                "asks CloudFormation for a change set to pick up the new value"
            )
            return StackPlan(name, stack.component, "update", notes=[note])
        return StackPlan(name, stack.component, "unchanged")
    template = self.artifacts(stack).template_argument(self.env.environment_name, stack)
    created, _ = self._create_change_set(stack, state, template)
    if isinstance(created, ChangeSet):
        return StackPlan(name, stack.component, "unchanged")
    change_set_id, _stack_id = created
    try:
        change_set = wait_for_change_set(
            self.aws(stack).cloudformation,
            name,
            change_set_id,
            self.poller,
            include_property_values=self.include_values,
        )
    finally:
        delete_change_set(self.aws(stack).cloudformation, name, change_set_id)
    if change_set.state is ChangeSetState.EMPTY:
        return StackPlan(name, stack.component, "unchanged")
    if change_set.state is ChangeSetState.FAILED:
        return StackPlan(name, stack.component, "error", notes=[change_set.reason])
    return self.analyse(stack, state, old, new, change_set.changes)


def analyse(
    self: Deployment,
    stack: RenderedStack,
    state: StackState,
    old: dict[str, Any],
    new: dict[str, Any],
    changes: list[dict[str, Any]],
) -> StackPlan:
    """The plan of an update: resources, parameters, export impact, refusals."""
    plan = StackPlan(name=stack.name, component=stack.component, action="update")
    wanted = wanted_parameters(stack, new)
    plan.resources = resource_changes(changes, old, new, (state.parameters, wanted))
    plan.parameters = parameter_changes(state.parameters, wanted)
    deployed = state.exports
    plan.removed_exports = sorted(set(deployed) - set(stack.exports))
    replaced = {
        r.logical_id
        for r in plan.resources
        if r.action == "Remove" or r.replacement in ("True", "Conditional")
    }
    changed_keys = changed_outputs(old, new, replaced)
    plan.changed_exports = sorted(
        e for e, key in deployed.items() if key in changed_keys and e in stack.exports
    )
    touched = set(plan.removed_exports) | set(plan.changed_exports)
    gone = set(tpl.outputs(old)) - set(tpl.outputs(new))
    read = {(stack.name, key) for key in changed_keys | gone}  # by Fn::GetStackOutput
    plan.affected_stacks = sorted(
        s.name
        for s in self.env.stacks
        if s.name != stack.name and (touched & set(s.imports) or read & self._output_reads(s))
    )
    for export in sorted(touched):
        users = importers(self.aws(stack).cloudformation, export)
        if users:
            plan.blocked_exports[export] = users
    using = {u for names in plan.blocked_exports.values() for u in names}
    gone = {u for u in using if _is_orphan(self, stack, u)}
    live = {e: [u for u in us if u not in gone] for e, us in plan.blocked_exports.items()}
    cannot, explained = impossible(
        plan.resources, stack.name, old, new, deployed, {e: u for e, u in live.items() if u}
    )
    plan.refusals = refusals(
        plan,
        allow_replace=self.options.allow_replace,
        orphans=gone,
        impossible=cannot,
        explained=explained,
    )
    return plan


def _is_orphan(self: Deployment, stack: RenderedStack, name: str) -> bool:
    """Whether `name` is a stack of this environment that the blueprint no longer has."""
    if any(s.name == name for s in self.env.stacks):
        return False
    if not name.startswith(f"{self.env.environment_name}-"):
        return False  # cfngen names every stack <EnvironmentName>-<component>
    state = describe_stack(self.aws(stack).cloudformation, name)
    return state is not None and is_owned(state, self.env)
