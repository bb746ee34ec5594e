"""Deploy commands: plan, deploy, destroy, status, outputs.

Thin by design: parse options, build the environment, call one function in cfngen.deploy,
print, exit. boto3 and cfngen.deploy are imported inside the commands so `cfngen render` and
`cfngen validate` never load them.

BLUEPRINT is a blueprint file (compiled on the fly), or a rendered directory: either DIR/ENV
(holding manifest.json) or DIR (holding ENV/manifest.json), as written by `cfngen render`.

Exit codes: 0 success; 1 an operation failed; 2 bad input or usage; 130 interrupted.
`plan --detailed-exitcode`: 0 no changes, 1 error, 2 changes present (as terraform).

A little over 500 lines: five commands, most of it their options and help text; what they
share is in cfngen.cli.target.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cfngen.cli.target import (
    aws_errors,
    check_prerequisites,
    concurrency_option,
    environment_lock,
    finish,
    image_tag_option,
    interruptible,
    poll_option,
    prerequisites_option,
    resolve_target,
    role_arn_option,
    target_options,
    unlock_command,
    wait_for_lock_option,
)
from cfngen.errors import UsageError

if TYPE_CHECKING:
    from cfngen.deploy.diff import StackPlan

F = Callable[..., Any]


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirm(plan: StackPlan) -> bool:
    if plan.action == "create":
        click.echo(f"{plan.name}: create {len(plan.resources)} resources")
    return click.confirm(f"Execute the change set for {plan.name}?", default=False)


@click.command("plan")
@target_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Report format; markdown fits a pull-request comment.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing changes, 2 when changes are present, 1 on error.",
)
@click.option(
    "--stack",
    "stacks",
    multiple=True,
    metavar="NAME",
    help="Plan only this stack (name or component) and what it needs (repeatable).",
)
@click.option(
    "--allow-replace",
    is_flag=True,
    help="Plan as deploy --allow-replace would (no REFUSED for stateful replacements).",
)
@role_arn_option
@image_tag_option
@concurrency_option
@poll_option
@prerequisites_option
def plan_cmd(
    blueprint: Path,
    env: str,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    emulator: bool,
    fmt: str,
    detailed_exitcode: bool,
    stacks: tuple[str, ...],
    allow_replace: bool,
    role_arn: str | None,
    image_tag: str | None,
    concurrency: int,
    poll_interval: float,
    skip_prerequisites: bool,
) -> None:
    """Show what deploy would change, stack by stack, without changing anything.

    Creates a change set for every stack that differs from what is deployed, reports resources
    added, modified (property before/after), removed and replaced (stateful replacements
    first), parameter changes and the dependent stacks a changed export affects, then deletes
    the change sets.

    \b
    Exit codes: 0 ok, 1 error, 2 bad input.
    With --detailed-exitcode: 0 no changes, 1 error, 2 changes present.

    \b
    Example:
      cfngen plan blueprints/legocity.yaml --env prod --format markdown > plan.md
    """
    from cfngen.deploy.deployer import Deployment, DeployOptions
    from cfngen.deploy.diff import RENDERERS
    from cfngen.deploy.environment import with_image_tag
    from cfngen.deploy.poll import PollPolicy

    environment, plan_clients = resolve_target(
        blueprint, env, variables, var_files, profile, region, endpoint_url, emulator
    )
    environment = with_image_tag(environment, image_tag)
    with aws_errors():
        check_prerequisites(environment, plan_clients, skip_prerequisites)
    options = DeployOptions(
        concurrency=concurrency,
        stacks=stacks,
        allow_replace=allow_replace,
        poll=PollPolicy(initial=poll_interval),
        list_orphans=True,
        role_arn=role_arn,
    )
    deployment = Deployment(environment, plan_clients, options)
    with aws_errors():
        report = deployment.plan()
    click.echo(RENDERERS[fmt](report).rstrip("\n"))
    ctx = click.get_current_context()
    if report.has_errors:
        ctx.exit(1)
    if detailed_exitcode and report.has_changes:
        ctx.exit(2)


@click.command("deploy")
@target_options
@click.option(
    "--stack",
    "stacks",
    multiple=True,
    metavar="NAME",
    help="Deploy only this stack (name or component) and what it needs (repeatable).",
)
@click.option("--yes", "-y", is_flag=True, help="Execute change sets without asking.")
@click.option(
    "--allow-replace",
    is_flag=True,
    help="Allow replacing or deleting stateful resources (databases, buckets ...).",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Delete the stacks of components removed from the blueprint (plan lists them), "
    "after the stacks importing from them are updated.",
)
@click.option(
    "--continue-rollback",
    is_flag=True,
    help="Continue the rollback of stacks stuck in UPDATE_ROLLBACK_FAILED first.",
)
@click.option(
    "--artifact-bucket",
    default=None,
    help="Bucket for templates over 51,200 bytes (default: "
    "cfngen-artifacts-<account>-<region>, created on demand).",
)
@role_arn_option
@image_tag_option
@concurrency_option
@poll_option
@wait_for_lock_option
@prerequisites_option
def deploy_cmd(
    blueprint: Path,
    env: str,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    emulator: bool,
    stacks: tuple[str, ...],
    yes: bool,
    allow_replace: bool,
    prune: bool,
    continue_rollback: bool,
    artifact_bucket: str | None,
    role_arn: str | None,
    image_tag: str | None,
    concurrency: int,
    poll_interval: float,
    wait_for_lock: bool,
    skip_prerequisites: bool,
) -> None:
    """Deploy an environment through change sets, in dependency order and in parallel.

    Each stack starts as soon as the stacks it imports from are done. Unchanged stacks are
    skipped without a change set; a failed stack stops only its dependents. Without a terminal,
    --yes is required (deploy refuses rather than waiting for an answer nobody can give).

    \b
    Exit codes: 0 every stack ok, 1 a stack failed or was refused, 2 bad input,
    130 interrupted, 143 terminated (run again to continue);
    1 also when another run holds the environment's lock (see --wait-for-lock).

    \b
    Examples:
      cfngen deploy blueprints/legocity.yaml --env dev --yes
      cfngen deploy out/dev --env dev --stack service-payload --yes
    """
    from cfngen.deploy.artifacts import check_sizes
    from cfngen.deploy.deployer import Deployment, DeployOptions
    from cfngen.deploy.environment import with_image_tag
    from cfngen.deploy.lock import new_run_id
    from cfngen.deploy.poll import PollPolicy
    from cfngen.deploy.progress import PlainReporter, Reporter, RichReporter

    if not yes and not _interactive():
        raise UsageError(
            "no terminal to confirm change sets on: pass --yes to deploy without confirmation "
            "(run cfngen plan first to review)"
        )
    environment, deployment_clients = resolve_target(
        blueprint, env, variables, var_files, profile, region, endpoint_url, emulator
    )
    environment = with_image_tag(environment, image_tag)
    with aws_errors():
        check_prerequisites(environment, deployment_clients, skip_prerequisites)
    options = DeployOptions(
        concurrency=concurrency,
        allow_replace=allow_replace,
        continue_rollback=continue_rollback,
        stacks=stacks,
        poll=PollPolicy(initial=poll_interval),
        artifact_bucket=artifact_bucket,
        prune=prune,
        run_id=new_run_id(),
        role_arn=role_arn,
    )
    check_sizes(environment)  # bad input before the lock and before any API call
    unlock = unlock_command(blueprint, env, profile, region, endpoint_url, emulator)
    # The live table only without prompts: a confirmation question inside it is unreadable.
    reporter: Reporter = RichReporter() if yes and _interactive() else PlainReporter(sys.stdout)
    lost: list[str] = []
    with interruptible():
        try:
            deployment = Deployment(
                environment,
                deployment_clients,
                options,
                reporter,
                confirm=None if yes else _confirm,
            )

            def on_lost(reason: str) -> None:
                lost.append(reason)
                deployment.poller.cancel.set()  # start no more stacks

            with (
                environment_lock(
                    environment,
                    deployment_clients,
                    "deploy",
                    unlock,
                    wait=wait_for_lock,
                    on_lost=on_lost,
                    poll_interval=poll_interval,
                    run_id=options.run_id,
                ),
                aws_errors(),
            ):
                try:
                    summary = deployment.deploy()
                finally:
                    reporter.close()
                click.echo(summary.render())  # before the lock is released (and warns)
        finally:
            reporter.close()
        if lost:
            click.echo(f"stopped: {lost[0]}; no further stacks were started", err=True)
            finish(1)
        finish(summary.exit_code)


@click.command("destroy")
@target_options
@click.option("--yes", "-y", is_flag=True, help="Delete without asking.")
@click.option(
    "--stack",
    "stacks",
    multiple=True,
    metavar="NAME",
    help="Delete only this stack (name or component; also one no longer in the blueprint). "
    "Stacks importing from it must be named too.",
)
@concurrency_option
@poll_option
@wait_for_lock_option
def destroy_cmd(
    blueprint: Path,
    env: str,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    emulator: bool,
    yes: bool,
    stacks: tuple[str, ...],
    concurrency: int,
    poll_interval: float,
    wait_for_lock: bool,
) -> None:
    """Delete every stack of an environment, dependents first.

    Only stacks tagged as cfngen's for this blueprint and environment are deleted, including
    those of components removed from the blueprint; resources kept by DeletionPolicy: Retain
    are listed at the end.

    \b
    Exit codes: 0 all deleted, 1 a stack could not be deleted, 2 bad input, 130 interrupted,
    143 terminated; 1 also when another run holds the environment's lock.

    \b
    Example:
      cfngen destroy blueprints/legocity.yaml --env dev --yes
    """
    from cfngen.deploy.destroy import destroy_environment, existing_stacks
    from cfngen.deploy.orphans import find_orphans
    from cfngen.deploy.poll import PollPolicy
    from cfngen.deploy.progress import PlainReporter

    if not yes and not _interactive():
        raise UsageError("no terminal to confirm on: pass --yes to destroy without confirmation")
    environment, clients = resolve_target(
        blueprint, env, variables, var_files, profile, region, endpoint_url, emulator
    )
    unlock = unlock_command(blueprint, env, profile, region, endpoint_url, emulator)
    cancel = threading.Event()
    lost: list[str] = []

    def on_lost(reason: str) -> None:
        lost.append(reason)
        cancel.set()

    with (
        interruptible(),
        environment_lock(
            environment,
            clients,
            "destroy",
            unlock,
            wait=wait_for_lock,
            on_lost=on_lost,
            poll_interval=poll_interval,
        ),
    ):
        if not yes:
            with aws_errors():
                present = existing_stacks(environment, clients)
                present += [o.state for o in find_orphans(environment, clients)]
            if stacks:
                present = [
                    p
                    for p in present
                    if p.name in stacks or _component(environment, p.name) in stacks
                ]
            if not present:
                click.echo(f"nothing to destroy for {environment.environment_name}")
                return
            listing = "\n".join(f"  {s.name} ({s.status})" for s in present)
            click.echo("stacks to delete:\n" + listing)
            if not click.confirm(f"Delete {len(present)} stacks?", default=False):
                click.echo("nothing deleted")
                return
        with aws_errors():
            summary = destroy_environment(
                environment,
                clients,
                concurrency=concurrency,
                poll=PollPolicy(initial=poll_interval),
                reporter=PlainReporter(sys.stdout, events=False),
                cancel=cancel,
                stacks=stacks,
                orphans=True,
            )
        click.echo(summary.render())
    if lost:
        click.echo(f"stopped: {lost[0]}; no further stacks were deleted", err=True)
        finish(1)
    finish(summary.exit_code)


@click.command("status")
@target_options
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def status_cmd(
    blueprint: Path,
    env: str,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    emulator: bool,
    fmt: str,
) -> None:
    """Show the CloudFormation status of every stack of an environment.

    \b
    Example:
      cfngen status blueprints/legocity.yaml --env dev --format json
    """
    from cfngen.deploy.status import environment_status, render_json, render_table

    environment, clients = resolve_target(
        blueprint, env, variables, var_files, profile, region, endpoint_url, emulator
    )
    with aws_errors():
        rows = environment_status(environment, clients)
    if fmt == "json":
        click.echo(render_json(rows))
    else:
        click.echo(render_table(rows, _with_region(rows, ["stack", "status", "reason"])))


@click.command("outputs")
@target_options
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def outputs_cmd(
    blueprint: Path,
    env: str,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    emulator: bool,
    fmt: str,
) -> None:
    """Show the outputs (and export names) of every deployed stack of an environment.

    \b
    Example:
      cfngen outputs blueprints/legocity.yaml --env dev
    """
    from cfngen.deploy.status import environment_outputs, render_json, render_table

    environment, clients = resolve_target(
        blueprint, env, variables, var_files, profile, region, endpoint_url, emulator
    )
    with aws_errors():
        rows = environment_outputs(environment, clients)
    if fmt == "json":
        click.echo(render_json(rows))
    else:
        click.echo(render_table(rows, _with_region(rows, ["stack", "key", "value", "export"])))


@click.command("unlock")
@target_options
def unlock_cmd(
    blueprint: Path,
    env: str,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    emulator: bool,
) -> None:
    """Remove the environment's deploy lock, left by a run that died or lost its connection.

    A live run renews its lock every minute and stops starting stacks once its lock is gone,
    so remove a lock only when its holder (printed here) is not running any more.

    \b
    Example:
      cfngen unlock blueprints/legocity.yaml --env dev
    """
    from cfngen.deploy.lock import lock_name, remove_lock

    environment, clients = resolve_target(
        blueprint, env, variables, var_files, profile, region, endpoint_url, emulator
    )
    with aws_errors():
        holder = remove_lock(clients.ssm, environment.environment_name)
    name = lock_name(environment.environment_name)
    if holder is None:
        click.echo(f"{name}: not locked, nothing to remove")
    else:
        click.echo(f"{name}: removed the lock of {holder.describe()}")


def _component(env: Any, name: str) -> str:
    return str(name).removeprefix(f"{env.environment_name}-")


def _with_region(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    """A region column after the stack's, when the environment spans more than one region."""
    if len({row.get("region") for row in rows}) > 1:
        return [columns[0], "region", *columns[1:]]
    return columns
