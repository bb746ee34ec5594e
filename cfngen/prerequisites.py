"""What an environment needs that nobody but its owner can create, checked before any change:
the SSM parameters and Secrets Manager secrets its containers read, the Route 53 hosted zones
and ACM certificates it names by ID. Read from the rendered templates (so a rendered folder is
checked the same way); values the environment creates itself (imports) are not prerequisites.

Each comes with the command that creates it. `cfngen.deploy.prerequisites` asks AWS whether
they exist; the runbook lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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

    def create(self, region: str | None = None) -> str:
        """The command (or step) that creates it; with `region`, the command names it."""
        where = f" --region {region}" if region else ""
        if self.kind == "ssm-parameter":
            return (
                f"aws ssm put-parameter{where} --name {self.name} --type SecureString --value '...'"
            )
        if self.kind == "secret":
            return (
                f"aws secretsmanager create-secret{where} --name {self.name} --secret-string '...'"
            )
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
