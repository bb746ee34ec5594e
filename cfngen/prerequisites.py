"""What an environment needs that nobody but its owner can create, checked before any change:
the SSM parameters and Secrets Manager secrets its containers read, the Route 53 hosted zones
and ACM certificates it names by ID, the images its containers pull from ECR repositories
it does not create (a shared scope's, or any private ECR URI) at the tag it deploys, and the
outputs of other stacks it reads with Fn::GetStackOutput (the shared scope's zone ID). Images of
the environment's own repositories cannot exist before its first deploy creates them: the
runbook pushes them right after that stack. Read from the rendered templates (so a rendered
folder is checked the same way); values the environment creates itself (imports) are not
prerequisites.

Each comes with the command that creates it. `cfngen.deploy.prerequisites` asks AWS whether
they exist; the runbook lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cfngen.render import RenderedEnvironment

_SSM = re.compile(r":ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}:parameter(/[^\s$]+)$")
_SECRET = re.compile(r":secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:([^:\s$]+)")
_IMAGE = re.compile(
    r"^(?P<account>[0-9]{12}|\$\{AWS::AccountId\})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)"
    r"\.amazonaws\.com(?:\.cn)?/(?P<repo>[a-z0-9._/-]+):(?P<tag>[A-Za-z0-9_.-]+)$"
)
_CERT = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$")


@dataclass(frozen=True, order=True)
class Prerequisite:
    kind: str  # ssm-parameter | ssm-value | secret | hosted-zone | certificate | image | output
    name: str  # an image's is repository:tag, an output's <stack name>.<output name>
    stack: str
    region: str | None = None  # the stack's own region, when not the environment's
    account: str | None = None  # an image's registry, when not the deploying account
    string_list: bool = False  # an ssm-value read as a list (of subnet IDs ...)

    def create(self, region: str | None = None) -> str:
        """The command (or step) that creates it; with `region`, the command names it."""
        where = f" --region {region}" if region else ""
        if self.kind == "ssm-parameter":
            return (
                f"aws ssm put-parameter{where} --name {self.name} --type SecureString --value '...'"
            )
        if self.kind == "ssm-value":  # read by CloudFormation: String or StringList, not secure
            kind = "StringList" if self.string_list else "String"
            return f"aws ssm put-parameter{where} --name {self.name} --type {kind} --value '...'"
        if self.kind == "secret":
            return (
                f"aws secretsmanager create-secret{where} --name {self.name} --secret-string '...'"
            )
        if self.kind == "image":
            registry = f"{self.account or '<account>'}.dkr.ecr.{self.region}.amazonaws.com"
            return f"docker build -t {registry}/{self.name} . && docker push {registry}/{self.name}"
        if self.kind == "output":
            stack, _, output = self.name.rpartition(".")
            scope = " (cfngen deploy BLUEPRINT --env shared)" if "-shared-" in stack else ""
            return f"deploy the stack {stack}{scope} first: its output {output} is read"
        if self.kind == "hosted-zone":
            return f"create the hosted zone, or set dns.zone_id to an existing one ({self.name})"
        return f"request or import the certificate in ACM, or name an existing one ({self.name})"


def _sub_text(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return str(value["Fn::Sub"])
    return None


# what a stack's resources name: secrets and parameters a container reads, hosted zones,
# certificates, other stacks' outputs
_KEYS = frozenset({"ValueFrom", "HostedZoneId", "CertificateArn", "Fn::GetStackOutput"})


def _keyed(template: dict[str, Any]) -> list[tuple[str, Any]]:
    """(key, value) of every entry named in `_KEYS` under the resources' properties, in one
    pass made once per stack, not once per region (order within a stack does not matter: what
    one stack names is recorded with that stack whatever the order)."""
    out: list[tuple[str, Any]] = []
    todo: list[Any] = [
        res.get("Properties") or {} if isinstance(res, dict) else {}
        for res in (template.get("Resources") or {}).values()
    ]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if k in _KEYS:
                    out.append((str(k), v))
                if isinstance(v, dict | list):
                    todo.append(v)
        elif isinstance(value, list):
            todo.extend(v for v in value if isinstance(v, dict | list))
    return out


def find(env: RenderedEnvironment) -> list[Prerequisite]:
    """Every prerequisite the environment's templates name, sorted, without duplicates."""
    found: dict[tuple[str, str, str | None], Prerequisite] = {}  # the first stack names it
    own = {stack.name for stack in env.stacks}  # reads of these are the deploy order's
    for stack in env.stacks:
        template = stack.template
        keyed = _keyed(template)
        # a stack set's stack reads its parameters and secrets in every region it deploys to
        for region in (stack.region, *stack.regions[1:]):
            _regional(found, stack.name, region, template, keyed)
        for image in _images(template, stack.parameters):
            repo, tag = image["repo"], image["tag"]
            account = None if image["account"].startswith("$") else image["account"]
            ref = f"{repo}:{tag}"
            found.setdefault(
                ("image", ref, image["region"]),
                Prerequisite("image", ref, stack.name, image["region"], account),
            )
        for key, value in keyed:
            if key == "Fn::GetStackOutput" and isinstance(value, dict):
                if value.get("StackName") not in own:
                    name = f"{value.get('StackName')}.{value.get('OutputName')}"
                    _add(found, "output", name, stack.name, str(value.get("Region") or ""))
            elif key == "HostedZoneId" and isinstance(value, str):
                _add(found, "hosted-zone", value, stack.name, None)
            elif key == "CertificateArn" and isinstance(value, str) and _CERT.match(value):
                _add(found, "certificate", value, stack.name, value.split(":")[3])
    # the environment's region (None) first: a stack set's other regions sort after it
    return sorted(found.values(), key=lambda p: (p.kind, p.name, p.stack, p.region or ""))


def _regional(
    found: dict[tuple[str, str, str | None], Prerequisite],
    name: str,
    region: str | None,
    template: dict[str, Any],
    keyed: list[tuple[str, Any]],
) -> None:
    """The SSM parameters and secrets stack `name` reads in `region` (`_keyed` of its
    template)."""
    for spec in (template.get("Parameters") or {}).values():
        # existing resources given as {ssm: /name}: CloudFormation reads them at deploy time
        kind = str(spec.get("Type", "")) if isinstance(spec, dict) else ""
        default = spec.get("Default") if isinstance(spec, dict) else None
        if (
            kind.startswith("AWS::SSM::Parameter::Value<")
            and isinstance(default, str)
            and not default.startswith("/aws/")  # AWS's public parameters (AMI IDs)
        ):
            found.setdefault(
                ("ssm-value", spec["Default"], region),
                Prerequisite(
                    "ssm-value",
                    spec["Default"],
                    name,
                    region,
                    string_list="List<" in kind,
                ),
            )
    for key, value in keyed:
        text = _sub_text(value) if key == "ValueFrom" else None
        if text is not None:
            ssm = _SSM.search(text)
            secret = _SECRET.search(text)
            if ssm:
                _add(found, "ssm-parameter", ssm.group(1), name, region)
            elif secret:
                _add(found, "secret", secret.group(1), name, region)


def _images(template: dict[str, Any], parameters: dict[str, str]) -> Iterator[re.Match[str]]:
    """The ECR images task definitions name with a known repository and tag."""
    values = {
        str(k): str(v["Default"])
        for k, v in (template.get("Parameters") or {}).items()
        if isinstance(v, dict) and isinstance(v.get("Default"), str | int)
    }
    values.update(parameters)
    for res in (template.get("Resources") or {}).values():
        if not isinstance(res, dict) or res.get("Type") != "AWS::ECS::TaskDefinition":
            continue
        for container in (res.get("Properties") or {}).get("ContainerDefinitions") or []:
            image = container.get("Image") if isinstance(container, dict) else None
            text = image if isinstance(image, str) else _sub_text(image)
            if text is None:
                continue
            text = re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)
            match = _IMAGE.match(text)
            if match:
                yield match


def _add(
    found: dict[tuple[str, str, str | None], Prerequisite],
    kind: str,
    name: str,
    stack: str,
    region: str | None,
) -> None:
    found.setdefault((kind, name, region), Prerequisite(kind, name, stack, region))
