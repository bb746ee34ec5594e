"""Deploy and plan an environment: one change set per stack, along the dependency graph.

Per stack: settle, skip if the deployed template, parameters and tags already match, create a
change set, show it, refuse data loss or broken importers, confirm, execute, stream events.
`plan` runs the same analysis and deletes its change sets instead of executing them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from cfngen.deploy import template as tpl
from cfngen.deploy.artifacts import ArtifactStore, check_sizes, default_bucket_name
from cfngen.deploy.aws import Clients, aws_failure, supports_property_values
from cfngen.deploy.changeset import (
    ChangeSet,
    ChangeSetState,
    StackBusyError,
    create_change_set,
    delete_change_set,
    execute_change_set,
    wait_for_change_set,
)
from cfngen.deploy.destroy import DestroyResult, delete_owned_stack
from cfngen.deploy.diff import (
    PlanReport,
    StackPlan,
    additions,
)
from cfngen.deploy.environment import _has_no_echo, select_stacks, wanted_parameters
from cfngen.deploy.events import EventStream, failure_reasons, wait_for_operation
from cfngen.deploy.orphans import Orphan, prune_graph, survey
from cfngen.deploy.poll import Interrupted, Poller, PollPolicy
from cfngen.deploy.progress import QuietReporter, Reporter
from cfngen.deploy.results import DeploySummary, Outcome, StackResult, next_step
from cfngen.deploy.scheduler import GraphRun, run_graph
from cfngen.deploy.snapshots import Snapshot, needs_snapshot, take_snapshots
from cfngen.deploy.state import (
    StackState,
    delete_stack,
    describe_stack,
    owner_tags,
    settle,
)
from cfngen.errors import OperationError
from cfngen.render import RenderedEnvironment, RenderedStack, load_template

Confirm = Callable[[StackPlan], bool]


@dataclass(frozen=True)
class DeployOptions:
    concurrency: int = 4
    allow_replace: bool = False
    continue_rollback: bool = False
    stacks: tuple[str, ...] = ()  # stack names or component keys; empty = all
    poll: PollPolicy = field(default_factory=PollPolicy)
    artifact_bucket: str | None = None  # default: cfngen-artifacts-<account>-<region>
    prune: bool = False  # deploy: delete stacks of components no longer in the blueprint
    list_orphans: bool = False  # plan: report those stacks
    run_id: str = ""  # the lock's run id, put into change set names (cfngen.deploy.lock)
    role_arn: str | None = None  # RoleARN of change sets; default: deploy.cloudformation_role


class Deployment:
    """One deploy or plan of one environment against one account.

    Each stack is worked on in its own region (`stack.region`, else the clients' region, which
    defaults to the blueprint's): its CloudFormation calls, export checks and artifact bucket
    all belong to that region. The scheduler does not care: the graph is the same.
    """

    def __init__(
        self,
        env: RenderedEnvironment,
        clients: Clients,
        options: DeployOptions | None = None,
        reporter: Reporter | None = None,
        confirm: Confirm | None = None,
    ) -> None:
        self.env = env
        self.clients = clients
        self.options = options or DeployOptions()
        self.reporter: Reporter = reporter or QuietReporter()
        self.confirm = confirm  # None: --yes
        self.poller = Poller(self.options.poll)
        self.include_values = supports_property_values(clients.cloudformation)
        self._artifacts: dict[str, ArtifactStore] = {}
        self._account: str | None = None
        self._lock = threading.Lock()
        self._changed: dict[str, bool] = {}  # stack name -> created or updated in this run
        self._executing: set[str] = set()
        # workers queue their questions; the main thread asks them (see _serve_prompts)
        self._prompts: queue.Queue[tuple[StackPlan, list[bool], threading.Event]] = queue.Queue()
        self.selected = select_stacks(env, self.options.stacks)

    # --- shared -------------------------------------------------------------------------

    def aws(self, stack: RenderedStack) -> Clients:
        """The clients of the stack's own region."""
        return self.clients.for_region(stack.region)

    def artifacts(self, stack: RenderedStack) -> ArtifactStore:
        """The artifact store of the stack's region (CloudFormation reads TemplateURL there)."""
        aws = self.aws(stack)
        with self._lock:
            store = self._artifacts.get(aws.region)
            if store is None:
                store = ArtifactStore(aws.s3, aws.region, lambda: self._bucket_name(aws.region))
                self._artifacts[aws.region] = store
            return store

    def _bucket_name(self, region: str) -> str:
        """--artifact-bucket in the environment's region; elsewhere (and by default) one
        bucket per account and region, as a TemplateURL must be in the stack's region."""
        if self.options.artifact_bucket and region == self.clients.region:
            return self.options.artifact_bucket
        return default_bucket_name(self.account(), region)

    def account(self) -> str:
        """The account deployed to: the environment's, else the caller's (asked once)."""
        with self._lock:
            if self._account is None:
                self._account = self.env.target.get("account")
            if self._account is None:
                sts = self.clients.sts
                if sts is None:
                    raise OperationError("the account is needed (no STS client to ask)")
                try:
                    self._account = str(sts.get_caller_identity()["Account"])
                except ClientError as err:
                    raise aws_failure("GetCallerIdentity failed", err) from err
            return self._account

    def desired_tags(self, stack: RenderedStack) -> dict[str, str]:
        return {**stack.tags, **owner_tags(self.env)}

    def deployed_template(self, stack: RenderedStack) -> dict[str, Any]:
        name = stack.name
        try:
            body = self.aws(stack).cloudformation.get_template(
                StackName=name, TemplateStage="Original"
            )["TemplateBody"]
        except ClientError as err:
            raise aws_failure(f"{name}: GetTemplate failed", err) from err
        return load_template(body)

    def _output_reads(self, stack: RenderedStack) -> set[tuple[str, str]]:
        """What `stack` reads with Fn::GetStackOutput (parsed only for templates that do)."""
        if "GetStackOutput" not in stack.body:
            return set()
        return tpl.stack_output_reads(load_template(stack.body))

    def _rereads(self, template: dict[str, Any]) -> bool:
        """Whether the template reads (Fn::GetStackOutput) a stack this run created or updated.

        Such a read is resolved only when the reading stack is created or updated, so an
        identical template is not proof of "unchanged": CloudFormation gets to decide through
        a change set (an empty one still counts as unchanged).
        """
        with self._lock:
            return any(self._changed.get(name) for name, _ in tpl.stack_output_reads(template))

    def is_unchanged(
        self, stack: RenderedStack, state: StackState, old: dict[str, Any], new: dict[str, Any]
    ) -> bool:
        """Deployed template, parameters and tags equal the rendered ones (compared as data)."""
        if old != new or _has_no_echo(new):
            return False
        if state.parameters != wanted_parameters(stack, new):
            return False
        deployed_tags = {k: v for k, v in state.tags.items() if not k.startswith("aws:")}
        return deployed_tags == self.desired_tags(stack)

    def analyse(
        self,
        stack: RenderedStack,
        state: StackState,
        old: dict[str, Any],
        new: dict[str, Any],
        changes: list[dict[str, Any]],
    ) -> StackPlan:
        """The plan of an update: resources, parameters, export impact, refusals."""
        from cfngen.deploy.planning import analyse

        return analyse(self, stack, state, old, new, changes)

    def _create_change_set(
        self, stack: RenderedStack, state: StackState | None, template: dict[str, str]
    ) -> tuple[ChangeSet | tuple[str, str], StackState | None]:
        """Create the change set, waiting out (a bounded number of) concurrent operations."""
        for _ in range(5):
            try:
                created = create_change_set(
                    self.aws(stack).cloudformation,
                    stack_name=stack.name,
                    change_set_type="CREATE" if state is None else "UPDATE",
                    template=template,
                    parameters=stack.parameters,
                    capabilities=stack.capabilities,
                    tags=self.desired_tags(stack),
                    run_id=self.options.run_id,
                    role_arn=self.options.role_arn or self.env.target.get("cloudformation_role"),
                )
                return created, state
            except StackBusyError as busy:
                self.reporter.status(stack.name, f"waiting: {busy.status} (another operation)")
                state = self._settle(stack)
        raise OperationError(f"{stack.name}: another operation kept the stack busy; try again")

    def _settle(self, stack: RenderedStack) -> StackState | None:
        return settle(
            self.aws(stack).cloudformation,
            stack.name,
            self.env,
            self.poller,
            continue_rollback=self.options.continue_rollback,
            on_status=lambda text: self.reporter.status(stack.name, text),
            on_event=lambda e: self.reporter.event(stack.name, e),
        )

    def _sync_termination_protection(
        self, stack: RenderedStack, current: bool, stack_id: str
    ) -> None:
        if current == stack.termination_protection:
            return
        try:
            self.aws(stack).cloudformation.update_termination_protection(
                EnableTerminationProtection=stack.termination_protection, StackName=stack_id
            )
        except ClientError as err:
            raise aws_failure(f"{stack.name}: UpdateTerminationProtection failed", err) from err

    def _deps(self) -> dict[str, set[str]]:
        names = {s.component: s.name for s in self.env.stacks}
        chosen = {s.name for s in self.selected}
        return {
            s.name: {names[d] for d in s.depends_on if d in names and names[d] in chosen}
            for s in self.selected
        }

    # --- deploy -------------------------------------------------------------------------

    def deploy(self) -> DeploySummary:
        """Deploy the selected stacks; never raises for a stack failure (see the summary)."""
        check_sizes(self.env)
        by_name = {s.name: s for s in self.selected}
        deps = self._deps()
        orphans: dict[str, Orphan] = {}
        if self.options.prune:
            found, deployed = survey(self.env, self.clients)
            orphans = {o.name: o for o in found}
            deps = prune_graph(deps, self.env, found, deployed)

        def work(name: str) -> StackResult:
            if name in orphans:
                return self._delete_orphan(orphans[name])
            return self._deploy_one(by_name[name])

        order = [s.name for s in self.selected] + list(orphans)
        run: GraphRun[str, StackResult] = run_graph(
            deps,
            work,
            lambda result: result.outcome.ok,
            concurrency=self.options.concurrency,
            cancel=self.poller.cancel,
            order=order,
            idle=self._serve_prompts,
        )
        results: list[StackResult] = []
        for name in order:
            if name in run.results:
                results.append(run.results[name])
            elif name in run.skipped:
                cause = run.skipped[name]
                results.append(
                    StackResult(name, Outcome.SKIPPED, f"needs {cause}, which did not deploy")
                )
            elif name in run.running:
                results.append(StackResult(name, Outcome.INTERRUPTED, "interrupted while waiting"))
            else:
                results.append(StackResult(name, Outcome.NOT_STARTED))
        still = sorted(self._executing)
        return DeploySummary(self.env.environment_name, results, still_running=still)

    def _delete_orphan(self, orphan: Orphan) -> StackResult:
        """deploy --prune: delete the stack of a component that left the blueprint."""
        cfn = self.clients.for_region(orphan.region).cloudformation
        try:
            done = delete_owned_stack(cfn, orphan.name, self.env, self.poller, self.reporter)
        except Interrupted:
            return StackResult(orphan.name, Outcome.INTERRUPTED, "still deleting")
        except OperationError as err:
            done = DestroyResult(orphan.name, "failed", err.render())
        kept = (
            f"; kept (DeletionPolicy: Retain): {', '.join(done.retained)}" if done.retained else ""
        )
        if done.snapshots:
            kept += f"; final snapshots: {', '.join(done.snapshots)}"
        if done.ok:
            return StackResult(orphan.name, Outcome.DELETED, "no longer in the blueprint" + kept)
        return StackResult(
            orphan.name,
            Outcome.FAILED,
            done.message + kept,
            f"fix the cause and run `cfngen deploy --prune` again ({orphan.name} is not in the "
            "blueprint any more)",
        )

    def _deploy_one(self, stack: RenderedStack) -> StackResult:
        result = self._deploy_guarded(stack)
        with self._lock:
            self._changed[stack.name] = result.outcome in (Outcome.CREATED, Outcome.UPDATED)
        return result

    def _deploy_guarded(self, stack: RenderedStack) -> StackResult:
        try:
            return self._deploy_stack(stack)
        except Interrupted:
            return StackResult(stack.name, Outcome.INTERRUPTED, "interrupted while waiting")
        except OperationError as err:
            self.reporter.status(stack.name, "failed")
            return StackResult(stack.name, Outcome.FAILED, err.render())
        # connection, credentials: this stack fails. A connection cut in the middle of an
        # answer reaches botocore's parser as an empty body: ResponseParserError, which is not
        # a BotoCoreError
        except (BotoCoreError, ClientError, ResponseParserError) as err:
            self.reporter.status(stack.name, "failed")
            return StackResult(
                stack.name,
                Outcome.FAILED,
                aws_failure(stack.name, err).render(),
                "check the connection to AWS (endpoint, network, credentials), then run the "
                "same command again: it continues where this run stopped",
            )

    def _deploy_stack(self, stack: RenderedStack) -> StackResult:
        if stack.regions:  # the same in every region: a stack set (cfngen.deploy.stackset_deploy)
            from cfngen.deploy.stackset_deploy import deploy_stack_set

            return deploy_stack_set(self, stack)
        name, report = stack.name, self.reporter
        report.status(name, "checking")
        state = self._settle(stack)
        new = load_template(stack.body)
        old: dict[str, Any] = {}
        if state is not None:
            old = self.deployed_template(stack)
            if self.is_unchanged(stack, state, old, new) and not self._rereads(new):
                self._sync_termination_protection(
                    stack, state.termination_protection, state.stack_id
                )
                report.status(name, "unchanged")
                return StackResult(name, Outcome.UNCHANGED)
        template = self.artifacts(stack).template_argument(self.env.environment_name, stack)
        report.status(name, "creating change set")
        created, state = self._create_change_set(stack, state, template)
        if isinstance(created, ChangeSet):
            change_set = created
            stack_id = state.stack_id if state else name
        else:
            change_set_id, stack_id = created
            change_set = wait_for_change_set(
                self.aws(stack).cloudformation,
                name,
                change_set_id,
                self.poller,
                include_property_values=self.include_values,
            )
        creating = state is None
        if change_set.state is ChangeSetState.EMPTY:
            delete_change_set(self.aws(stack).cloudformation, name, change_set.id)
            if state is not None:
                self._sync_termination_protection(
                    stack, state.termination_protection, state.stack_id
                )
            report.status(name, "unchanged")
            return StackResult(name, Outcome.UNCHANGED)
        if change_set.state is ChangeSetState.FAILED:
            self._discard(stack, change_set.id, stack_id, creating)
            report.status(name, "change set failed")
            return StackResult(
                name,
                Outcome.FAILED,
                f"change set failed: {change_set.reason}",
                "fix the template or its imports and deploy again",
            )
        if state is None:
            plan = StackPlan(name, stack.component, "create", resources=additions(new))
        else:
            plan = self.analyse(stack, state, old, new, change_set.changes)
        if not creating:
            report.plan(plan)
        if plan.refusals:
            self._discard(stack, change_set.id, stack_id, creating)
            report.status(name, "refused")
            return StackResult(
                name, Outcome.FAILED, "refused: " + "; ".join(plan.refusals), plan.refusals[0]
            )
        if self.confirm is not None and not self._ask(plan):
            self._discard(stack, change_set.id, stack_id, creating)
            report.status(name, "declined")
            return StackResult(name, Outcome.DECLINED, "change set deleted, nothing changed")
        snapshots: list[Snapshot] = []
        if not creating and any(needs_snapshot(c) for c in plan.resources):
            aws = self.aws(stack)
            try:
                snapshots = take_snapshots(
                    aws.cloudformation,
                    aws.client,
                    name,
                    plan.resources,
                    self.poller,
                    lambda text: report.status(name, text),
                )
            except OperationError as err:
                self._discard(stack, change_set.id, stack_id, creating)
                report.status(name, "snapshot failed")
                return StackResult(
                    name,
                    Outcome.FAILED,
                    f"{err.render()}; the change set was deleted, nothing changed",
                    "fix the snapshot's cause (rds:CreateDBSnapshot, dynamodb:CreateBackup "
                    "permissions, a stopped instance) and deploy again",
                )
        result = self._execute(stack, change_set.id, stack_id, creating)
        if snapshots:
            taken = "snapshot first: " + ", ".join(s.describe() for s in snapshots)
            result = replace(result, message="; ".join(m for m in (result.message, taken) if m))
        return result

    def _ask(self, plan: StackPlan) -> bool:
        """Ask the main thread to confirm `plan`; Ctrl-C there interrupts this wait."""
        answer: list[bool] = []
        answered = threading.Event()
        self._prompts.put((plan, answer, answered))
        while not answered.wait(0.1):
            self.poller.check()
        return bool(answer and answer[0])

    def _serve_prompts(self) -> None:
        """Run pending confirmations in the calling (main) thread, one at a time."""
        while self.confirm is not None:
            try:
                plan, answer, answered = self._prompts.get_nowait()
            except queue.Empty:
                return
            answer.append(self.confirm(plan))
            answered.set()

    def _discard(
        self, stack: RenderedStack, change_set_id: str, stack_id: str, creating: bool
    ) -> None:
        """Delete an unused change set; for a new stack also the empty REVIEW_IN_PROGRESS stack."""
        if creating:
            state = describe_stack(self.aws(stack).cloudformation, stack_id)
            if state is not None and state.status == "REVIEW_IN_PROGRESS":
                delete_stack(self.aws(stack).cloudformation, state, self.poller)
                return
        delete_change_set(self.aws(stack).cloudformation, stack_id, change_set_id)

    def _execute(
        self, stack: RenderedStack, change_set_id: str, stack_id: str, creating: bool
    ) -> StackResult:
        name, report = stack.name, self.reporter
        stream = EventStream(self.aws(stack).cloudformation, stack_id)
        stream.prime()
        try:
            execute_change_set(self.aws(stack).cloudformation, name, change_set_id)
        except StackBusyError as busy:
            return StackResult(
                name,
                Outcome.FAILED,
                f"another operation started on the stack ({busy.status})",
                "run the same command again once it finishes",
            )
        self._executing.add(name)
        report.status(name, "CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS")
        events: list[dict[str, Any]] = []

        def on_event(event: dict[str, Any]) -> None:
            events.append(event)
            report.event(name, event)

        final = wait_for_operation(
            self.aws(stack).cloudformation, stack_id, name, stream, self.poller, on_event
        )
        self._executing.discard(name)
        status = final.status if final else "DELETE_COMPLETE"
        report.status(name, status)
        if final is not None and status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            self._sync_termination_protection(stack, final.termination_protection, final.stack_id)
            return StackResult(name, Outcome.CREATED if creating else Outcome.UPDATED)
        reasons = failure_reasons(events) or [final.reason if final else "stack disappeared"]
        message = f"{status}: " + "; ".join(r for r in reasons if r)
        step = next_step(name, status, creating)
        return StackResult(name, Outcome.FAILED, message, step)

    def plan(self) -> PlanReport:
        """What deploy would do, per stack; change sets are created and deleted again."""
        from cfngen.deploy.planning import plan_environment

        return plan_environment(self)
