"""What an environment needs that nobody but its owner can create, checked before any change:
the SSM parameters and Secrets Manager secrets its containers read, the Route 53 hosted zones
and ACM certificates it names by ID. Read from the rendered templates (so a rendered folder is
checked the same way); values the environment creates itself (imports) are not prerequisites.

Each missing item comes with the command that creates it. A check that is not allowed
(AccessDenied) is reported as unchecked, not as missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cfngen.render import RenderedEnvironment, load_template

_SSM = re.compile(r":ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}:parameter(/[^\s$]+)$")
_SECRET = re.compile(r":secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:([^:\s$]+)")
_CERT = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$")


@dataclass(frozen=True, order=True)
class Prerequisite:
    kind: str  # ssm-parameter | secret | hosted-zone | certificate
    name: str
    stack: str
    region: str | None = None  # the stack's own region, when not the environment's

    def create(self) -> str:
        """The command (or step) that creates it."""
        if self.kind == "ssm-parameter":
            return f"aws ssm put-parameter --name {self.name} --type SecureString --value '...'"
        if self.kind == "secret":
            return f"aws secretsmanager create-secret --name {self.name} --secret-string '...'"
        if self.kind == "hosted-zone":
            return f"create the hosted zone, or set dns.zone_id to an existing one ({self.name})"
        return f"request or import the certificate in ACM, or name an existing one ({self.name})"


def _sub_text(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return str(value["Fn::Sub"])
    return None


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k), v
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def find(env: RenderedEnvironment) -> list[Prerequisite]:
    """Every prerequisite the environment's templates name, sorted, without duplicates."""
    found: dict[tuple[str, str, str | None], Prerequisite] = {}  # the first stack names it
    for stack in env.stacks:
        template = load_template(stack.body)
        for res in (template.get("Resources") or {}).values():
            props = res.get("Properties") or {} if isinstance(res, dict) else {}
            for key, value in _walk(props):
                text = _sub_text(value) if key == "ValueFrom" else None
                if text is not None:
                    ssm = _SSM.search(text)
                    secret = _SECRET.search(text)
                    if ssm:
                        _add(found, "ssm-parameter", ssm.group(1), stack.name, stack.region)
                    elif secret:
                        _add(found, "secret", secret.group(1), stack.name, stack.region)
                if key == "HostedZoneId" and isinstance(value, str):
                    _add(found, "hosted-zone", value, stack.name, None)
                if key == "CertificateArn" and isinstance(value, str) and _CERT.match(value):
                    _add(found, "certificate", value, stack.name, value.split(":")[3])
    return sorted(found.values())


def _add(
    found: dict[tuple[str, str, str | None], Prerequisite],
    kind: str,
    name: str,
    stack: str,
    region: str | None,
) -> None:
    found.setdefault((kind, name, region), Prerequisite(kind, name, stack, region))


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


def check(items: list[Prerequisite], clients: Any) -> Result:
    """Ask AWS for each prerequisite (batched where the API allows)."""
    missing: list[Prerequisite] = []
    unchecked: list[tuple[Prerequisite, str]] = []
    params = [p for p in items if p.kind == "ssm-parameter"]
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
        if p.kind == "ssm-parameter":
            continue
        try:
            here = clients.for_region(p.region)
            if p.kind == "secret":
                here.client("secretsmanager").describe_secret(SecretId=p.name)
            elif p.kind == "hosted-zone":
                here.client("route53").get_hosted_zone(Id=p.name)
            else:
                here.client("acm").describe_certificate(CertificateArn=p.name)
        except ClientError as err:
            if _code(err) in ("ResourceNotFoundException", "NoSuchHostedZone"):
                missing.append(p)
            else:
                message = err.response.get("Error", {}).get("Message", "")
                unchecked.append((p, f"{_code(err)}: {message}"))
        except BotoCoreError as err:
            unchecked.append((p, str(err)))
    return Result(sorted(missing), unchecked)
