"""Which stacks a run acts on, and the parameter values a stack should end up with."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from cfngen.deploy.scheduler import closure
from cfngen.errors import UsageError
from cfngen.render import RenderedEnvironment, RenderedStack


def select_stacks(env: RenderedEnvironment, wanted: tuple[str, ...]) -> list[RenderedStack]:
    """The stacks to act on: all, or the named ones (name or component) plus what they need."""
    if not wanted:
        return list(env.stacks)
    by_key = {s.component: s for s in env.stacks} | {s.name: s for s in env.stacks}
    unknown = [w for w in wanted if w not in by_key]
    if unknown:
        known = ", ".join(s.component for s in env.stacks)
        raise UsageError(f"unknown stack: {', '.join(unknown)} (stacks: {known})")
    deps = {s.component: set(s.depends_on) for s in env.stacks}
    keep = closure(deps, [by_key[w].component for w in wanted])
    return [s for s in env.stacks if s.component in keep]


IMAGE_TAG = "ImageTag"
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # the parameter's AllowedPattern


def _runs_ecr_image(stack: RenderedStack) -> bool:
    """Whether the stack's ImageTag tags an image of an ECR repository (the blueprint's, a
    shared one or a private URI): an image from elsewhere (nginx:1.27) keeps its own tag."""
    return bool(_ECR_IMAGE.search(stack.body))


_ECR_IMAGE = re.compile(r"dkr\.ecr\.[^\s'\"]*:\$\{ImageTag\}|\$\{Uri\}:\$\{ImageTag\}")


def with_image_tag(env: RenderedEnvironment, tag: str | None) -> RenderedEnvironment:
    """The environment with `ImageTag` set to `tag` on every stack whose ImageTag tags an ECR
    image (services, tasks, jobs): how a pipeline deploys, or rolls back to, an image tag
    without re-rendering. The next deploy without it goes back to the rendered tag."""
    if tag is None:
        return env
    if not _TAG.match(tag):
        raise UsageError(
            f"--image-tag {tag!r} is not a Docker tag (letters, digits, _ . -, at most 128, "
            "not starting with . or -)"
        )
    tagged = {s.name for s in env.stacks if IMAGE_TAG in s.parameters and _runs_ecr_image(s)}
    if not tagged:
        raise UsageError(
            f"--image-tag: no stack of {env.environment} runs an image of an ECR repository "
            "with an ImageTag parameter (services, tasks and jobs whose image is a repository)"
        )
    stacks = tuple(
        replace(s, parameters={**s.parameters, IMAGE_TAG: tag}) if s.name in tagged else s
        for s in env.stacks
    )
    return replace(env, stacks=stacks)


def wanted_parameters(stack: RenderedStack, template: dict[str, Any]) -> dict[str, str]:
    """The parameter values the stack should end up with, template defaults included."""
    values: dict[str, str] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if isinstance(spec, dict) and "Default" in spec:
            default = spec["Default"]
            values[name] = (
                ",".join(map(str, default)) if isinstance(default, list) else str(default)
            )
    values.update(stack.parameters)
    return values


def _has_no_echo(template: dict[str, Any]) -> bool:
    params = template.get("Parameters") or {}
    return any(
        isinstance(p, dict) and str(p.get("NoEcho")).lower() == "true" for p in params.values()
    )
