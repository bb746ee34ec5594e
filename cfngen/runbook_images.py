"""The runbook's image step: which images must be pushed to the environment's own ECR
repositories, and when (after the stack that creates a repository, before the stacks whose
tasks run its images: a service whose image is missing never becomes stable, and its stack
fails).

Read from the rendered templates: a container's `Image` that joins an imported repository URI
(`!Sub ["${Uri}:${ImageTag}", {Uri: !ImportValue ...}]`) names the repository through the
export, and the export's output in the repository's stack is that repository's `RepositoryUri`.
Images from other registries are the owner's to publish and are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cfngen.render import RenderedEnvironment, RenderedStack

_ENV = "${EnvironmentName}"


@dataclass(frozen=True, order=True)
class Push:
    """One image to push: the repository's URI output, the tag, the stacks that run it."""

    output: str  # output key of the repository stack, e.g. BrokerImagesRepositoryUri
    tag: str
    users: tuple[str, ...]  # components whose tasks run it


def _repository_output(env: RenderedEnvironment, image: Any) -> tuple[str, str, str] | None:
    """(repository stack component, URI output key, tag text) of an image from an imported
    repository URI, or None."""
    if not (isinstance(image, dict) and isinstance(image.get("Fn::Sub"), list)):
        return None
    text, variables = image["Fn::Sub"][0], image["Fn::Sub"][1]
    if not (isinstance(text, str) and isinstance(variables, dict)):
        return None
    for name, value in variables.items():
        prefix = f"${{{name}}}:"
        imported = value.get("Fn::ImportValue") if isinstance(value, dict) else None
        if isinstance(imported, dict):
            imported = imported.get("Fn::Sub")
        if not (text.startswith(prefix) and isinstance(imported, str)):
            continue
        export = imported.replace(_ENV, env.environment_name)
        for stack in env.stacks:
            if export not in stack.exports:
                continue
            key = export.removeprefix(f"{env.environment_name}-{stack.component}-")
            if _is_repository_uri(stack, key):
                return stack.component, key, text.removeprefix(prefix)
    return None


def _is_repository_uri(stack: RenderedStack, key: str) -> bool:
    template = stack.template
    value = ((template.get("Outputs") or {}).get(key) or {}).get("Value")
    if not (isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list)):
        return False
    resource, attribute = value["Fn::GetAtt"]
    kind = ((template.get("Resources") or {}).get(resource) or {}).get("Type")
    return bool(kind == "AWS::ECR::Repository" and attribute == "RepositoryUri")


def pushes(env: RenderedEnvironment) -> dict[str, list[Push]]:
    """Repository stack component -> the images to push once it exists, sorted."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for stack in env.stacks:
        for res in (stack.template.get("Resources") or {}).values():
            if res.get("Type") != "AWS::ECS::TaskDefinition":
                continue
            for container in (res.get("Properties") or {}).get("ContainerDefinitions") or []:
                where = _repository_output(env, container.get("Image"))
                if where is None:
                    continue
                component, key, tag = where
                for name, value in sorted(stack.parameters.items()):
                    tag = tag.replace(f"${{{name}}}", value)
                users = found.setdefault((component, key, tag), [])
                if stack.component not in users:
                    users.append(stack.component)
    result: dict[str, list[Push]] = {}
    for (component, key, tag), users in sorted(found.items()):
        result.setdefault(component, []).append(Push(key, tag, tuple(users)))
    return result


def push_lines(env: RenderedEnvironment, stack: RenderedStack, images: list[Push]) -> list[str]:
    """Markdown: log in to the registry, then tag and push each image the next stacks run."""
    region = stack.region or env.region

    def uri(key: str) -> str:
        return (
            f"$(aws cloudformation describe-stacks --region {region} --stack-name {stack.name} "
            f"--query \"Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue\" --output text)"
        )

    lines = [
        f"Before the stacks after {stack.name}: push the images they run to the repositories it "
        "just created (cfngen builds no image; build yours, or pull and re-tag it). Log in "
        "once:",
        "",
        "```sh",
        f"REGISTRY={uri(images[0].output)}",
        f"aws ecr get-login-password --region {region} | docker login --username AWS "
        '--password-stdin "${REGISTRY%%/*}"',
        "```",
        "",
        "then tag each image you built as the repository's URI and push it:",
        "",
    ]
    for push in images:
        image = f'"$URI:{push.tag}"'
        lines.append(
            f"- {', '.join(push.users)}: `URI={uri(push.output)}`, then "
            f"`docker tag <your image> {image} && docker push {image}`"
        )
    return [*lines, ""]
