"""DIR/ENV/README.md: how an ops team deploys a rendered folder by hand, from that folder alone.

Built only from what the folder holds (templates, parameter files, manifest.json), so the
runbook written by `cfngen render` and the one made from the folder read back
(`RenderedEnvironment.from_directory`) are the same text. The AWS CLI commands make the stacks
as `cfngen deploy` makes them: the same parameters, capabilities and tags (cfngen's ownership
tags included), termination protection where the manifest asks for it, and templates over
51,200 bytes through the same artifact bucket. tests/deploy/test_runbook_replay.py runs them with
the AWS CLI v1 against the emulator and checks that `cfngen plan` then finds nothing to change.

The operations half (prerequisites, backup and restore, scale-out) is cfngen.runbook_ops.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from cfngen.artifact_bucket import (
    ARTIFACT_EXPIRY_DAYS,
    ENCRYPTION,
    LIFECYCLE,
    MAX_TEMPLATE_BODY,
    PUBLIC_ACCESS_BLOCK,
    artifact_prefix,
    bucket_policy_document,
    default_bucket_name,
)
from cfngen.render import RenderedEnvironment, RenderedStack
from cfngen.runbook_images import push_lines, pushes
from cfngen.runbook_ops import before_first_deploy, operations
from cfngen.runbook_stacksets import (
    regions_section,
    removal_section,
    stack_set_commands,
    wait_function,
)
from cfngen.stacks import owner_tags

#: The template parameter that holds a service's or task's image tag (made by
#: cfngen.builders.task_definition, which this layer does not import; a test keeps them equal).
IMAGE_TAG = "ImageTag"

_CONTINUE = " \\\n  "


def _region(env: RenderedEnvironment, stack: RenderedStack) -> str:
    return stack.region or env.region


def _large(stack: RenderedStack) -> bool:
    return len(stack.body.encode("utf-8")) > MAX_TEMPLATE_BODY


def artifacts_variable(env: RenderedEnvironment, region: str) -> str:
    """The shell variable holding the artifact bucket's name for `region`."""
    if region == env.region:
        return "ARTIFACTS"
    return "ARTIFACTS_" + region.upper().replace("-", "_")


def tags(env: RenderedEnvironment, stack: RenderedStack) -> dict[str, str]:
    """Every tag `cfngen deploy` puts on the stack: the blueprint's, then cfngen's own."""
    merged = {**stack.tags, **owner_tags(env.blueprint, env.environment)}
    return dict(sorted(merged.items()))


def deploy_command(
    env: RenderedEnvironment, stack: RenderedStack, overrides: dict[str, str] | None = None
) -> str:
    """`aws cloudformation deploy` for one stack, as cfngen deploys it.

    The parameters come from the stack's parameter file, or, with `overrides`, are written out
    as `Key=Value` words: the manifest's values, quoted, with `overrides` over them, whose
    values are shell words written as given (`"$PREVIOUS_TAG"`). The AWS CLI takes either a
    file or words, not both."""
    region = _region(env, stack)
    lines = [
        f"aws cloudformation deploy --region {region} --stack-name {stack.name}",
        f"--template-file {shlex.quote(stack.file)}",
    ]
    if overrides is None:
        lines[-1] += f" --parameter-overrides file://{shlex.quote(stack.params_file)}"
    else:
        values = {k: shlex.quote(f"{k}={v}") for k, v in stack.parameters.items()}
        values |= {k: f"{k}={v}" for k, v in overrides.items()}
        words = " ".join(word for _, word in sorted(values.items()))
        lines[-1] += f" --parameter-overrides {words}"
    if _large(stack):
        prefix = artifact_prefix(env.environment_name, stack.component)
        lines.append(f'--s3-bucket "${artifacts_variable(env, region)}" --s3-prefix {prefix}')
    options = f"--capabilities {' '.join(stack.capabilities)} " if stack.capabilities else ""
    lines.append(options + "--no-fail-on-empty-changeset")
    words = " ".join(shlex.quote(f"{k}={v}") for k, v in tags(env, stack).items())
    lines.append(f"--tags {words}")
    return _CONTINUE.join(lines)


def _header(env: RenderedEnvironment) -> list[str]:
    files = sorted({Path(mark.file).name for mark in env.origins.values()})
    source = f" from `{files[0]}`" if len(files) == 1 else ""
    lines = [
        f"# {env.blueprint} / {env.environment} ({env.environment_name})",
        "",
        f"Rendered by cfngen{source} for region `{env.region}`. This folder is all a deploy "
        "needs: one template per stack (`*.yaml`), its parameters (`*.params.json`) and "
        "`manifest.json`.",
    ]
    account, role = env.target.get("account"), env.target.get("role_arn")
    if account:
        lines += [
            "",
            f"It belongs to AWS account `{account}`: deploy it with that account's credentials "
            "(`aws sts get-caller-identity --query Account --output text` prints "
            f"`{account}`){f', as `{role}`, the role cfngen assumes' if role else ''}.",
        ]
    lines += regions_section(env)
    lines += [
        "",
        "Deploy the stacks in this order (each only after the ones it depends on):",
        "",
        "| # | stack | template | depends on | termination protection |",
        "|---|---|---|---|---|",
    ]
    for i, s in enumerate(env.stacks, 1):
        deps = ", ".join(s.depends_on) or "-"
        protected = "on" if s.termination_protection else "-"
        lines.append(f"| {i} | {s.name} | {s.file} | {deps} | {protected} |")
    return lines


def _artifact_bucket(env: RenderedEnvironment, large: list[RenderedStack]) -> list[str]:
    """The bucket `cfngen deploy` would create for these templates, made with the AWS CLI."""
    regions = sorted({_region(env, s) for s in large}, key=lambda r: (r != env.region, r))
    names = ", ".join(f"`{s.file}`" for s in large)
    lines = [
        f"{names} {'is' if len(large) == 1 else 'are'} over {MAX_TEMPLATE_BODY:,} bytes, the "
        "most CloudFormation takes inline, so `aws cloudformation deploy` uploads "
        f"{'it' if len(large) == 1 else 'them'} to S3 first (`--s3-bucket`). The bucket is the "
        "one `cfngen deploy` uses, `cfngen-artifacts-<account>-<region>`; this makes it once per "
        "account and region (private, owner-enforced, encrypted, TLS only, copies expire after "
        f"{ARTIFACT_EXPIRY_DAYS} days) and is safe to run again:",
        "",
        "```sh",
    ]
    policy = json.dumps(bucket_policy_document("%s"), separators=(",", ":"))
    for region in regions:
        var = artifacts_variable(env, region)
        account = env.target.get("account") or (
            f"$(aws sts get-caller-identity --region {region} --query Account --output text)"
        )
        # us-east-1 is S3's default location, which CreateBucket refuses to be told
        location = f" --create-bucket-configuration LocationConstraint={region}"
        location = "" if region == "us-east-1" else location
        access = ",".join(f"{k}={str(v).lower()}" for k, v in PUBLIC_ACCESS_BLOCK.items())
        on = f'--region {region} --bucket "${var}"'
        compact = json.dumps(ENCRYPTION, separators=(",", ":"))
        lifecycle = json.dumps(LIFECYCLE, separators=(",", ":"))
        lines += [
            f"{var}={default_bucket_name(account, region)}",
            f"aws s3api head-bucket {on} 2>/dev/null ||{_CONTINUE}aws s3api create-bucket {on} "
            f"--object-ownership BucketOwnerEnforced{location}",
            f"aws s3api put-public-access-block {on}"
            f"{_CONTINUE}--public-access-block-configuration {access}",
            f"aws s3api put-bucket-encryption {on}"
            f"{_CONTINUE}--server-side-encryption-configuration {shlex.quote(compact)}",
            f"aws s3api put-bucket-policy {on}"
            f'{_CONTINUE}--policy "$(printf {shlex.quote(policy)} "${var}" "${var}")"',
            f"aws s3api put-bucket-lifecycle-configuration {on}"
            f"{_CONTINUE}--lifecycle-configuration {shlex.quote(lifecycle)}",
        ]
    return [*lines, "```", ""]


def _deploy(env: RenderedEnvironment) -> list[str]:
    lines = [
        "## Deploy with the AWS CLI",
        "",
        "From this folder, with the AWS CLI v1 or v2, run the blocks below in order. Each stack "
        "is deployed through a change set with the parameters, capabilities and tags "
        "`cfngen deploy` gives it (`cfngen:blueprint` and `cfngen:environment` mark it as this "
        "environment's: cfngen deletes or recreates only stacks that carry them); a "
        "stack that is up to date is left alone (`--no-fail-on-empty-changeset`), so running "
        "the commands again is safe.",
        "",
    ]
    large = [s for s in env.stacks if _large(s)]
    if large:
        lines += _artifact_bucket(env, large)
    images = pushes(env)
    block: list[str] = []
    waits = False
    for s in env.stacks:
        if s.regions:  # the same in every region: a stack set (cfngen.runbook_stacksets)
            if not waits:
                block += wait_function(env)
                waits = True
            block += stack_set_commands(env, s, artifacts_variable(env, env.region))
            continue
        block.append(deploy_command(env, s))
        if s.termination_protection:
            block.append(
                f"aws cloudformation update-termination-protection --region {_region(env, s)} "
                f"--stack-name {s.name} --enable-termination-protection"
            )
        if s.component in images:  # the images its repositories hold, before their users
            lines += ["```sh", *block, "```", "", *push_lines(env, s, images[s.component])]
            block = []
    if block:
        lines += ["```sh", *block, "```", ""]
    lines += [
        "Or with cfngen, from this folder: the same stacks through reviewed change sets, after "
        "checking the account and the prerequisites, with stateful resources never replaced "
        "unasked. `cfngen plan` shows what would change (nothing, after the commands above):",
        "",
        "```sh",
        f"cfngen plan . --env {env.environment}",
        f"cfngen deploy . --env {env.environment}",
        "```",
        "",
    ]
    return lines


def _main_container(stack: RenderedStack) -> str | None:
    """The name of the container whose image tag is the ImageTag parameter."""
    for res in (stack.template.get("Resources") or {}).values():
        if res.get("Type") != "AWS::ECS::TaskDefinition":
            continue
        for container in (res.get("Properties") or {}).get("ContainerDefinitions") or []:
            if f"${{{IMAGE_TAG}}}" in json.dumps(container.get("Image")):
                return str(container.get("Name"))
    return None


def _family(stack: RenderedStack, env: RenderedEnvironment) -> str | None:
    for res in (stack.template.get("Resources") or {}).values():
        if res.get("Type") == "AWS::ECS::TaskDefinition":
            family = (res.get("Properties") or {}).get("Family")
            if isinstance(family, dict):
                family = family.get("Fn::Sub")
            if isinstance(family, str) and "${" not in family.replace("${EnvironmentName}", ""):
                return family.replace("${EnvironmentName}", env.environment_name)
    return None


def _rollback(env: RenderedEnvironment) -> list[str]:
    """Per service and task: deploy the stack with another image tag, a new one or the one
    that ran before (found in the task definition's older revisions)."""
    items: list[str] = []
    for s in env.stacks:
        if IMAGE_TAG not in s.parameters:
            continue
        if s.regions:
            items += [
                f"- `{s.component}` (stack set {s.name}, in {', '.join(s.regions)}): "
                f"`cfngen deploy . --env {env.environment} --stack {s.component} --image-tag "
                "TAG` updates every region's instance with that tag.",
                "",
            ]
            continue
        region = _region(env, s)
        container, family = _main_container(s), _family(s, env)
        lines = [
            f"- `{s.component}` (stack {s.name}; rendered with "
            f"`{IMAGE_TAG}={s.parameters[IMAGE_TAG]}`). The tag deployed now: "
            f"`aws cloudformation describe-stacks --region {region} --stack-name {s.name} "
            f"--query \"Stacks[0].Parameters[?ParameterKey=='{IMAGE_TAG}'].ParameterValue\" "
            "--output text`."
        ]
        if container and family:
            lines.append(
                "  Earlier ones are in the task definition's older revisions: "
                f"`aws ecs list-task-definitions --region {region} --family-prefix {family} "
                "--sort DESC --max-items 5 --query taskDefinitionArns`, then "
                f"`aws ecs describe-task-definition --region {region} --task-definition <arn> "
                f"--query \"taskDefinition.containerDefinitions[?name=='{container}'].image\" "
                "--output text`."
            )
        command = deploy_command(env, s, {IMAGE_TAG: '"$TAG"'})
        lines += [
            "",
            "  ```sh",
            "  TAG=  # the image tag to deploy: the new one, or the previous one to roll back",
            '  : "${TAG:?set TAG to the image tag to deploy}"',
        ]
        lines += [f"  {line}" for line in command.splitlines()]
        lines += ["  ```", ""]
        items += lines
    if not items:
        return []
    return [
        "## Roll out or roll back an image",
        "",
        "Each service's and task's image tag is its stack's `ImageTag` parameter: deploy the "
        "stack with another tag to roll a new image out, or the previous one to roll back (a "
        "service whose new tasks fail to start rolls back by itself: the ECS deployment "
        "circuit breaker). The next deploy of this folder puts the rendered tag back, so "
        "render again with the tag you mean to keep.",
        "",
        *items,
    ]


def runbook(env: RenderedEnvironment) -> str:
    """DIR/ENV/README.md: how an ops team deploys these files by hand, in order."""
    lines = [*_header(env), "", *before_first_deploy(env), *_deploy(env), *_rollback(env)]
    lines += removal_section(env)
    lines += operations(env)
    return "\n".join(lines)
