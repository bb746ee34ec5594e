"""plan, deploy, destroy and status of the stacks a multi-region environment deploys to every
region: one stack set each (cfngen.deploy.stacksets), in the same dependency graph as the
plain stacks, so a stack set starts once everything it imports from is in every region.

Per stack set, deploy:

1. **Unchanged** when the stack set's template, parameters, tags and capabilities equal the
   rendered ones and every region has a CURRENT instance: no operation at all.
2. **Plan and safety** of an update: a change set is created on the home region's instance
   (a plain stack, `StackSet-<name>-<id>`) and analysed as for any stack (replacements of
   stateful resources, exports in use), then deleted. A refusal stops before any operation;
   `--yes` or the confirmation lets the update go on. Every region gets the same template,
   so the home region's plan is every region's.
3. **Operations**: UpdateStackSet for every region that has an instance (when the template,
   parameters or tags changed, or an instance is OUTDATED after a failed run: an update that
   names only some regions leaves the others OUTDATED), then CreateStackInstances for the
   regions without one; the regions in the environment's order,
   one at a time or in parallel (`deploy.stack_sets`), a failure tolerance of 0 by default.
4. **Per region** the outcome is read back (ListStackInstances): a stack set is deployed when
   every region's instance is CURRENT; otherwise it failed, with each region's StatusReason,
   and the stacks importing from it are skipped. Running deploy again updates the OUTDATED
   instances and creates the missing ones: it converges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cfngen.deploy.aws import aws_failure, error_code
from cfngen.deploy.destroy import DestroyResult
from cfngen.deploy.diff import StackPlan, additions
from cfngen.deploy.environment import _has_no_echo
from cfngen.deploy.poll import Poller
from cfngen.deploy.progress import Reporter
from cfngen.deploy.results import Outcome, StackResult
from cfngen.deploy.stacksets import (
    Instance,
    describe_stack_set,
    list_instances,
    operation_failure,
    preferences,
    roles,
    run_operation,
)
from cfngen.deploy.state import describe_stack, owner_tags
from cfngen.errors import OperationError
from cfngen.render import RenderedEnvironment, RenderedStack, load_template

if TYPE_CHECKING:
    from cfngen.deploy.deployer import Deployment


def _pairs(values: dict[str, str], key: str, value: str) -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(values.items())]


def _owned(found: dict[str, Any], env: RenderedEnvironment) -> bool:
    tags = {t["Key"]: t["Value"] for t in found.get("Tags", [])}
    return all(tags.get(k) == v for k, v in owner_tags(env).items())


def _not_owned(name: str, env: RenderedEnvironment) -> str:
    return (
        f"{name}: a stack set of that name exists without cfngen's tags for "
        f"{env.blueprint}/{env.environment}; cfngen changes only its own stack sets"
    )


def _plain_first(name: str, status: str) -> str:
    """A plain stack of the stack set's name (the environment ran in one region before): its
    exports would collide with the home instance's, so it has to go first."""
    return (
        f"{name} is a plain stack ({status}) of this environment from before it had several "
        "regions; its exports would collide with the stack set's instance in the home region. "
        "cfngen does not move a stack into a stack set: destroy the environment's plain stacks "
        "first (`cfngen destroy` with the earlier render of the folder), or deploy the new "
        "regions as an environment of their own"
    )


def is_unchanged(self: Deployment, stack: RenderedStack, found: dict[str, Any]) -> bool:
    """The stack set's template, parameters, tags and capabilities equal the rendered ones."""
    new = load_template(stack.body)
    if _has_no_echo(new) or load_template(found.get("TemplateBody") or "{}") != new:
        return False
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}
    tags = {t["Key"]: t["Value"] for t in found.get("Tags", [])}
    return (
        params == stack.parameters
        and tags == self.desired_tags(stack)
        and set(found.get("Capabilities", [])) == set(stack.capabilities)
    )


def region_rows(
    stack: RenderedStack, instances: dict[str, Instance]
) -> tuple[tuple[str, str], ...]:
    return tuple(
        (r, instances[r].describe() if r in instances else "NOT_DEPLOYED") for r in stack.regions
    )


def _home(
    self: Deployment, stack: RenderedStack, instances: dict[str, Instance]
) -> Instance | None:
    """The instance a change set can be planned on: the home region's, else the first."""
    for region in (self.clients.region, *stack.regions):
        found = instances.get(region)
        if found is not None and found.stack_id:
            return found
    return None


def _plan_update(
    self: Deployment, stack: RenderedStack, instances: dict[str, Instance]
) -> StackPlan:
    """The update's plan, from a change set on one region's instance (deleted again)."""
    from cfngen.deploy.planning import plan_stack

    home = _home(self, stack, instances)
    if home is None:
        plan = StackPlan(stack.name, stack.component, "update")
        plan.notes.append("no instance to plan on yet: the stack set's template changes")
        return plan
    elsewhere = home.region if home.region != self.clients.region else None
    plan = plan_stack(self, replace(stack, name=home.stack_id, region=elsewhere))
    plan.name = stack.name
    return plan


def plan_stack_set(self: Deployment, stack: RenderedStack) -> StackPlan:
    """`plan` of a stack set: create, or the home instance's change set, per region."""
    cfn = self.clients.cloudformation
    found = describe_stack_set(cfn, stack.name)
    if found is None:
        plain = describe_stack(cfn, stack.name)
        if plain is not None:
            return StackPlan(
                stack.name, stack.component, "error", notes=[_plain_first(stack.name, plain.status)]
            )
        plan = StackPlan(
            stack.name, stack.component, "create", resources=additions(load_template(stack.body))
        )
        plan.regions = [{"region": r, "action": "create", "status": ""} for r in stack.regions]
        return plan
    if not _owned(found, self.env):
        return StackPlan(
            stack.name, stack.component, "error", notes=[_not_owned(stack.name, self.env)]
        )
    instances = list_instances(cfn, stack.name, self.env.target.get("account"))
    same = is_unchanged(self, stack, found)
    plan = (
        StackPlan(stack.name, stack.component, "unchanged")
        if same
        else _plan_update(self, stack, instances)
    )
    stale = any(not i.current for r, i in instances.items() if r in stack.regions)
    for region in stack.regions:
        inst = instances.get(region)
        if inst is None:
            action, status = "create", "NOT_DEPLOYED"
        else:  # an OUTDATED one is updated with all the others (see deploy_stack_set)
            status = inst.describe()
            action = "update" if not same or stale else "unchanged"
        plan.regions.append({"region": region, "action": action, "status": status})
    left = _left_over(stack, instances, self.clients.region)
    if left:
        plan.notes.append(left)
    if plan.action == "unchanged" and any(r["action"] != "unchanged" for r in plan.regions):
        plan.action = "update"
        plan.notes.append(
            "instances missing or not CURRENT: deploy creates or updates them "
            + ", ".join(
                f"{r['region']} ({r['status']})" for r in plan.regions if r["action"] != "unchanged"
            )
        )
    return plan


def deploy_stack_set(self: Deployment, stack: RenderedStack) -> StackResult:
    """Create or update the stack set and its instances until every region is CURRENT."""
    name, report = stack.name, self.reporter
    cfn: Any = self.clients.cloudformation  # the stack set is administered in the home region
    settings = self.env.stack_sets
    account = self.account()
    report.status(name, "checking stack set")
    found = describe_stack_set(cfn, name)
    template = self.artifacts(stack).template_argument(self.env.environment_name, stack)
    definition: dict[str, Any] = {
        **template,
        "Parameters": _pairs(stack.parameters, "ParameterKey", "ParameterValue"),
        "Capabilities": list(stack.capabilities),
        "Tags": _pairs(self.desired_tags(stack), "Key", "Value"),
        **roles(settings),
    }
    on_status = lambda text: report.status(name, text)  # noqa: E731
    created = found is None
    instances: dict[str, Instance] = {}
    if found is None:
        plain = describe_stack(cfn, name)
        if plain is not None:
            raise OperationError(_plain_first(name, plain.status))
        plan = StackPlan(
            name, stack.component, "create", resources=additions(load_template(stack.body))
        )
        plan.regions = [{"region": r, "action": "create", "status": ""} for r in stack.regions]
        if self.confirm is not None and not self._ask(plan):
            return StackResult(name, Outcome.DECLINED, "nothing created")
        report.status(name, "creating stack set")
        try:
            cfn.create_stack_set(
                StackSetName=name,
                Description=f"{self.env.environment_name} {stack.component} (cfngen)",
                PermissionModel="SELF_MANAGED",
                **definition,
            )
        except ClientError as err:
            raise aws_failure(f"{name}: CreateStackSet failed", err) from err
    else:
        if not _owned(found, self.env):
            raise OperationError(_not_owned(name, self.env))
        instances = list_instances(cfn, name, account)
    same = not created and found is not None and is_unchanged(self, stack, found)
    missing = [r for r in stack.regions if r not in instances]
    stale = [r for r in stack.regions if r in instances and not instances[r].current]
    if same and not missing and not stale:
        report.status(name, "unchanged")
        return StackResult(
            name,
            Outcome.UNCHANGED,
            _left_over(stack, instances, self.clients.region),
            regions=region_rows(stack, instances),
        )
    op: dict[str, Any] = {}
    # every region that has an instance, even when only some are OUTDATED: an UpdateStackSet
    # with the template marks all instances OUTDATED and updates only the regions it names
    update = [r for r in stack.regions if r in instances] if not same or stale else []
    if same and missing and not created and self.confirm is not None:  # a region was added
        plan = StackPlan(name, stack.component, "update")
        plan.regions = [
            {"region": r, "action": "create" if r in missing else "unchanged", "status": ""}
            for r in stack.regions
        ]
        plan.notes.append(f"new instances in {', '.join(missing)}")
        if not self._ask(plan):
            return StackResult(name, Outcome.DECLINED, "nothing changed")
    self._executing.add(name)  # an interruption leaves the operation running server-side
    if update:
        if not same:
            plan = _plan_update(self, stack, instances)
            plan.regions = [
                {"region": r, "action": "update" if r in update else "create", "status": ""}
                for r in stack.regions
            ]
            report.plan(plan)
            if plan.refusals:
                self._executing.discard(name)
                report.status(name, "refused")
                return StackResult(
                    name, Outcome.FAILED, "refused: " + "; ".join(plan.refusals), plan.refusals[0]
                )
            if self.confirm is not None and not self._ask(plan):
                self._executing.discard(name)
                return StackResult(name, Outcome.DECLINED, "nothing changed")
        op = run_operation(
            cfn,
            name,
            "UpdateStackSet",
            lambda: cfn.update_stack_set(
                StackSetName=name,
                **definition,
                OperationPreferences=preferences(settings, update),
                Accounts=[account],
                Regions=update,
            )["OperationId"],
            self.poller,
            on_status,
        )
    elif not same and not created:  # a stack set without instances: its definition only
        op = run_operation(
            cfn,
            name,
            "UpdateStackSet",
            lambda: cfn.update_stack_set(StackSetName=name, **definition)["OperationId"],
            self.poller,
            on_status,
        )
    if missing and op.get("Status", "SUCCEEDED") == "SUCCEEDED":
        op = run_operation(
            cfn,
            name,
            "CreateStackInstances",
            lambda: cfn.create_stack_instances(
                StackSetName=name,
                Accounts=[account],
                Regions=missing,
                OperationPreferences=preferences(settings, missing),
            )["OperationId"],
            self.poller,
            on_status,
        )
    self._executing.discard(name)
    instances = list_instances(cfn, name, account)
    rows = region_rows(stack, instances)
    bad = [r for r in stack.regions if r not in instances or not instances[r].current]
    if bad or op.get("Status", "SUCCEEDED") != "SUCCEEDED":
        report.status(name, "failed")
        return StackResult(
            name,
            Outcome.FAILED,
            operation_failure(op, {r: instances[r] for r in stack.regions if r in instances}),
            f"fix the cause in {', '.join(bad) or 'the stack set'} and run the same command "
            f"again: it updates {name}'s OUTDATED instances and creates the missing ones",
            regions=rows,
        )
    if stack.termination_protection:
        protect(self, stack, instances)
    report.status(name, "CURRENT in " + ", ".join(stack.regions))
    return StackResult(
        name,
        Outcome.CREATED if created else Outcome.UPDATED,
        _left_over(stack, instances, self.clients.region),
        regions=rows,
    )


def protect(self: Deployment, stack: RenderedStack, instances: dict[str, Instance]) -> None:
    """Termination protection on every region's instance (a stack of its own), as for a
    plain stack of the environment: `destroy` then refuses it until it is turned off."""
    for region in stack.regions:
        inst = instances.get(region)
        if inst is None or not inst.stack_id:
            continue
        cfn = self.clients.for_region(region).cloudformation
        state = describe_stack(cfn, inst.stack_id)
        if state is not None and not state.termination_protection:
            try:
                cfn.update_termination_protection(
                    EnableTerminationProtection=True, StackName=inst.stack_id
                )
            except ClientError as err:
                raise aws_failure(f"{stack.name}: UpdateTerminationProtection failed", err) from err


def _protected(
    clients_of: Callable[[str], Any], instances: dict[str, Instance]
) -> list[tuple[str, str]]:
    """The instances (region, stack id) whose stacks have termination protection on."""
    found = []
    for region, inst in sorted(instances.items()):
        state = describe_stack(clients_of(region), inst.stack_id) if inst.stack_id else None
        if state is not None and state.termination_protection:
            found.append((region, inst.stack_id))
    return found


def _left_over(stack: RenderedStack, instances: dict[str, Instance], home: str) -> str:
    """Instances in regions the environment no longer names: said, never deleted unasked."""
    extra = sorted(r for r in instances if r not in stack.regions)
    if not extra:
        return ""
    return (
        f"instances in {', '.join(extra)} are not in `regions` any more; remove them with "
        f"aws cloudformation delete-stack-instances --region {home} --stack-set-name "
        f"{stack.name} --accounts "
        f"{instances[extra[0]].account or '<account>'} --regions {' '.join(extra)} "
        "--no-retain-stacks"
    )


def destroy_stack_set(
    cfn: Any,
    stack: RenderedStack,
    env: RenderedEnvironment,
    poller: Poller,
    report: Reporter,
    clients_of: Callable[[str], Any] | None = None,
) -> DestroyResult:
    """Delete the stack set's instances in every region (their stacks with them), then the
    stack set itself."""
    name = stack.name
    on_status = lambda text: report.status(name, text)  # noqa: E731
    report.status(name, "checking stack set")
    found = describe_stack_set(cfn, name)
    if found is None:
        report.status(name, "absent")
        return DestroyResult(name, "absent")
    if not _owned(found, env):
        return DestroyResult(name, "failed", _not_owned(name, env))
    instances = list_instances(cfn, name)
    if stack.termination_protection and clients_of is not None:
        protected = _protected(clients_of, instances)
        if protected:
            commands = "; ".join(
                f"aws cloudformation update-termination-protection --region {region} "
                f"--no-enable-termination-protection --stack-name {stack_id}"
                for region, stack_id in protected
            )
            return DestroyResult(
                name,
                "failed",
                f"termination protection is on in {', '.join(r for r, _ in protected)}; to "
                f"really delete it: {commands}",
            )
    if instances:
        accounts = sorted({i.account for i in instances.values() if i.account})
        regions = [r for r in (*stack.regions, *sorted(instances)) if r in instances]
        regions = list(dict.fromkeys(regions))
        report.status(name, f"deleting instances in {', '.join(regions)}")
        op = run_operation(
            cfn,
            name,
            "DeleteStackInstances",
            lambda: cfn.delete_stack_instances(
                StackSetName=name,
                Accounts=accounts or [env.target.get("account", "")],
                Regions=regions,
                RetainStacks=False,
                OperationPreferences=preferences(env.stack_sets, regions),
            )["OperationId"],
            poller,
            on_status,
        )
        if op.get("Status") != "SUCCEEDED":
            left = list_instances(cfn, name)
            return DestroyResult(name, "failed", operation_failure(op, left))
    for _ in range(5):
        try:
            cfn.delete_stack_set(StackSetName=name)
            break
        except ClientError as err:
            if error_code(err) == "StackSetNotFoundException":
                break
            if error_code(err) != "OperationInProgressException":
                return DestroyResult(
                    name, "failed", aws_failure("DeleteStackSet failed", err).render()
                )
            poller.sleep(next(poller.policy.delays()))
    else:
        return DestroyResult(name, "failed", "other operations kept the stack set busy; try again")
    report.status(name, "deleted")
    where = ", ".join(sorted(instances)) or "no region"
    return DestroyResult(name, "deleted", f"stack set and its instances in {where}")


def stack_set_status(
    cfn: Any, stack: RenderedStack, env: RenderedEnvironment, home: str
) -> list[dict[str, Any]]:
    """`cfngen status` rows of a stack set: one per region of the environment."""
    found = describe_stack_set(cfn, stack.name)
    instances = list_instances(cfn, stack.name, env.target.get("account")) if found else {}
    owned = bool(found and _owned(found, env))
    rows = []
    for region in stack.regions:
        inst = instances.get(region)
        rows.append(
            {
                "stack": stack.name,
                "component": stack.component,
                "region": region,
                "status": (
                    f"STACK_SET {inst.status}" + (f" ({inst.detailed})" if inst.detailed else "")
                    if inst
                    else "NOT_DEPLOYED"
                ),
                "reason": inst.reason if inst else "",
                "owned": owned,
                "termination_protection": False,
                "stack_set": True,
                "stack_id": inst.stack_id if inst else "",
                "administered_in": home,
            }
        )
    return rows
