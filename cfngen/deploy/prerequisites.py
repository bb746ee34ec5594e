"""Whether an environment's prerequisites (cfngen.prerequisites) exist, asked of AWS before the
first change. A check that is not allowed (AccessDenied) is reported as unchecked, not missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cfngen.prerequisites import Prerequisite

__all__ = ["Prerequisite", "Result", "check"]


@dataclass(frozen=True)
class Result:
    missing: list[Prerequisite]
    unchecked: list[tuple[Prerequisite, str]]  # (item, why)

    def render(self) -> str:
        lines: list[str] = []
        if self.missing:
            lines.append("missing before the first change (create them, then run again):")
            for p in self.missing:
                lines.append(f"  {p.kind} {p.name} (stack {p.stack}): {p.create()}")
        for p, why in self.unchecked:
            lines.append(f"not checked: {p.kind} {p.name}: {why}")
        return "\n".join(lines)


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _image_exists(ecr: Any, p: Prerequisite) -> bool:
    repo, _, tag = p.name.rpartition(":")
    registry = {"registryId": p.account} if p.account else {}
    answer = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": tag}], **registry)
    return bool(answer.get("imageDetails"))


def _output_exists(cloudformation: Any, p: Prerequisite) -> bool:
    stack, _, output = p.name.rpartition(".")
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err.response.get("Error", {}).get("Message", "")):
            return False
        raise
    return any(o.get("OutputKey") == output for s in found for o in s.get("Outputs", []))


def check(items: list[Prerequisite], clients: Any) -> Result:
    """Ask AWS for each prerequisite (batched where the API allows)."""
    missing: list[Prerequisite] = []
    unchecked: list[tuple[Prerequisite, str]] = []
    params = [p for p in items if p.kind in ("ssm-parameter", "ssm-value")]
    for i in range(0, len(params), 10):
        batch = params[i : i + 10]
        try:
            ssm = clients.for_region(batch[0].region).client("ssm")
            answer = ssm.get_parameters(Names=[p.name for p in batch])
        except (ClientError, BotoCoreError) as err:
            unchecked += [(p, str(err)) for p in batch]
            continue
        invalid = set(answer.get("InvalidParameters", []))
        missing += [p for p in batch if p.name in invalid]
    for p in items:
        if p.kind in ("ssm-parameter", "ssm-value"):
            continue
        try:
            here = clients.for_region(p.region)
            if p.kind == "image":
                if not _image_exists(here.client("ecr"), p):
                    missing.append(p)
            elif p.kind == "secret":
                here.client("secretsmanager").describe_secret(SecretId=p.name)
            elif p.kind == "output":
                if not _output_exists(here.cloudformation, p):
                    missing.append(p)
            elif p.kind == "hosted-zone":
                here.client("route53").get_hosted_zone(Id=p.name)
            else:
                here.client("acm").describe_certificate(CertificateArn=p.name)
        except ClientError as err:
            gone = ("ResourceNotFoundException", "NoSuchHostedZone", "ImageNotFoundException")
            if _code(err) in (*gone, "RepositoryNotFoundException"):
                missing.append(p)
            else:
                message = err.response.get("Error", {}).get("Message", "")
                unchecked.append((p, f"{_code(err)}: {message}"))
        except BotoCoreError as err:
            unchecked.append((p, str(err)))
    return Result(sorted(missing), unchecked)
