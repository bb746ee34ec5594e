"""Runbook: the regions of a multi-region environment and the AWS CLI StackSets commands.

A stack that deploys to every region is one stack set administered in the home region with
self-managed permissions (docs/deploying.md): `create-stack-set` once (`update-stack-set`
when it exists), then `create-stack-instances` for the regions that have no instance yet,
each operation waited for with `describe-stack-set-operation`, the same calls `cfngen deploy`
makes (cfngen.deploy.stackset_deploy). Stacks that stay in the home region keep
`aws cloudformation deploy` (cfngen.runbook).
"""

from __future__ import annotations

import json
import shlex

from cfngen.artifact_bucket import MAX_TEMPLATE_BODY, artifact_prefix
from cfngen.render import RenderedEnvironment, RenderedStack
from cfngen.stacks import owner_tags

_CONTINUE = " \\\n  "


def _json(value: object) -> str:
    return shlex.quote(json.dumps(value, separators=(",", ":")))


def _preferences(env: RenderedEnvironment, regions: str) -> str:
    """--operation-preferences as cfngen.deploy.stacksets.preferences makes them; `regions`
    is a shell word holding the region list (the order comes from the environment)."""
    tolerance = int(env.stack_sets.get("failure_tolerance", 0))
    parallel = env.stack_sets.get("region_concurrency") == "parallel"
    kind = "PARALLEL" if parallel else "SEQUENTIAL"
    return (
        f"RegionConcurrencyType={kind},RegionOrder={regions},"
        f"FailureToleranceCount={tolerance},MaxConcurrentCount={tolerance + 1}"
    )


def regions_section(env: RenderedEnvironment) -> list[str]:
    """Where the environment runs: which stacks go to every region, which stay home."""
    if not env.multi_region:
        return []
    home = env.regions[0]
    lines = [
        "",
        f"It deploys to the regions {', '.join(f'`{r}`' for r in env.regions)} (home `{home}`). "
        "The stacks that are the same in every region are CloudFormation stack sets, "
        f"administered in `{home}` with self-managed permissions: the administration role "
        "`AWSCloudFormationStackSetAdministrationRole` "
        + (
            f"(here `{env.stack_sets['administration_role']}`) "
            if env.stack_sets.get("administration_role")
            else ""
        )
        + "and the execution role "
        f"`{env.stack_sets.get('execution_role', 'AWSCloudFormationStackSetExecutionRole')}` "
        "must exist in the account first (cfngen's docs/deploying.md shows how). The others "
        f"stay in `{home}`:",
        "",
        "| stack | regions |",
        "|---|---|",
    ]
    for s in env.stacks:
        where = (
            ", ".join(s.regions) + " (stack set)" if s.regions else f"{home} only: {s.home_only}"
        )
        lines.append(f"| {s.name} | {where} |")
    return lines


def wait_function(env: RenderedEnvironment) -> list[str]:
    """A shell function that waits for a stack set operation and shows each region on failure."""
    home = env.regions[0]
    account = (
        env.target.get("account") or "$(aws sts get-caller-identity --query Account --output text)"
    )
    return [
        f"ACCOUNT={account}",
        "wait_op() {  # stack set, operation id: wait until it is over; each region on failure",
        "  while :; do",
        f"    s=$(aws cloudformation describe-stack-set-operation --region {home} "
        '--stack-set-name "$1" --operation-id "$2" --query StackSetOperation.Status '
        "--output text)",
        '    case "$s" in',
        "      RUNNING|QUEUED|STOPPING) sleep 10 ;;",
        "      SUCCEEDED) return 0 ;;",
        f'      *) echo "$1: $s"; aws cloudformation list-stack-instances --region {home} '
        "--stack-set-name \"$1\" --query 'Summaries[].[Region,Status,StatusReason]' "
        "--output table; return 1 ;;",
        "    esac",
        "  done",
        "}",
    ]


def stack_set_commands(env: RenderedEnvironment, stack: RenderedStack, artifacts: str) -> list[str]:
    """Create or update the stack set, then its missing instances, each operation waited for."""
    home = env.regions[0]
    on = f"--region {home} --stack-set-name {stack.name}"
    lines: list[str] = []
    if len(stack.body.encode("utf-8")) > MAX_TEMPLATE_BODY:
        key = f"{artifact_prefix(env.environment_name, stack.component)}/{stack.file}"
        lines.append(f'aws s3 cp {shlex.quote(stack.file)} "s3://${artifacts}/{key}"')
        template = f'--template-url "https://${artifacts}.s3.{home}.amazonaws.com/{key}"'
    else:
        template = f"--template-body file://{shlex.quote(stack.file)}"
    parameters = [
        {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(stack.parameters.items())
    ]
    merged = {**stack.tags, **owner_tags(env.blueprint, env.environment)}
    tags = [{"Key": k, "Value": v} for k, v in sorted(merged.items())]
    definition = [template, f"--parameters {_json(parameters)}", f"--tags {_json(tags)}"]
    if stack.capabilities:
        definition.append(f"--capabilities {' '.join(stack.capabilities)}")
    definition.append(
        "--execution-role-name "
        + str(env.stack_sets.get("execution_role", "AWSCloudFormationStackSetExecutionRole"))
    )
    if env.stack_sets.get("administration_role"):
        definition.append(f"--administration-role-arn {env.stack_sets['administration_role']}")
    body = _CONTINUE.join(definition)
    regions = " ".join(stack.regions)
    missing = '[$(echo $MISSING | tr " " ,)]'
    listed = "[" + ",".join(stack.regions) + "]"
    lines += [
        f"if aws cloudformation describe-stack-set {on} >/dev/null 2>&1; then",
        f'  wait_op {stack.name} "$(aws cloudformation update-stack-set {on}{_CONTINUE}{body}'
        f"{_CONTINUE}--operation-preferences "
        f"{_preferences(env, listed)}"
        f'{_CONTINUE}--query OperationId --output text)" || exit 1',
        "else",
        f"  aws cloudformation create-stack-set {on} --permission-model SELF_MANAGED"
        f"{_CONTINUE}{body}",
        "fi",
        "MISSING=$(for r in " + regions + "; do aws cloudformation list-stack-instances "
        f"{on} --stack-instance-region $r --query 'Summaries[0].Region' --output text "
        "| grep -qx $r || echo $r; done)",
        f'[ -z "$MISSING" ] || wait_op {stack.name} "$(aws cloudformation '
        f"create-stack-instances {on}{_CONTINUE}--accounts $ACCOUNT --regions $MISSING"
        f"{_CONTINUE}--operation-preferences "
        f"{_preferences(env, missing)}"
        f'{_CONTINUE}--query OperationId --output text)" || exit 1',
    ]
    if stack.termination_protection:  # on each region's instance, a stack of its own
        lines += [
            f"for r in {regions}; do aws cloudformation update-termination-protection "
            "--region $r --enable-termination-protection"
            f'{_CONTINUE}--stack-name "$(aws cloudformation list-stack-instances {on} '
            "--stack-instance-region $r --query 'Summaries[0].StackId' --output text)\"; done"
        ]
    return lines


def removal_section(env: RenderedEnvironment) -> list[str]:
    """How to remove the stack sets by hand: instances in every region, then the set."""
    sets = [s for s in reversed(env.stacks) if s.regions]
    if not sets:
        return []
    home = env.regions[0]
    lines = [
        "## Remove the stack sets",
        "",
        "`cfngen destroy . --env "
        f"{env.environment}` does this in dependency order. By hand, dependents first: delete "
        "each stack set's instances (their stacks with them), wait, then the stack set:",
        "",
        "```sh",
        *wait_function(env),
    ]
    for s in sets:
        on = f"--region {home} --stack-set-name {s.name}"
        if s.termination_protection:  # deleting protected instances fails: turn it off first
            lines.append(
                f"for r in {' '.join(s.regions)}; do aws cloudformation "
                "update-termination-protection --region $r --no-enable-termination-protection"
                f'{_CONTINUE}--stack-name "$(aws cloudformation list-stack-instances {on} '
                "--stack-instance-region $r --query 'Summaries[0].StackId' --output text)\"; "
                "done"
            )
        lines += [
            f'wait_op {s.name} "$(aws cloudformation delete-stack-instances {on}'
            f"{_CONTINUE}--accounts $ACCOUNT --regions {' '.join(s.regions)} --no-retain-stacks"
            f'{_CONTINUE}--query OperationId --output text)" || exit 1',
            f"aws cloudformation delete-stack-set {on}",
        ]
    return [*lines, "```", ""]
