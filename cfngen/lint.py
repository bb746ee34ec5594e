"""cfn-lint in-process on every rendered template, plus cfngen's own security checks.

cfn-lint runs with informational rules included (`--include-checks I`). cfngen's checks cover
what neither cfn-lint nor checkov catches (see SECURITY.md); each has an ID `CG####` and is a
pure function of one parsed template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cfngen.render import RenderedEnvironment, RenderedStack, load_template


@dataclass(frozen=True, order=True)
class Finding:
    stack: str
    file: str
    line: int
    rule: str
    message: str

    def render(self) -> str:
        return f"{self.file}:{self.line}: [{self.rule}] {self.message} (stack {self.stack})"


def cfn_lint(stack: RenderedStack, region: str) -> list[Finding]:
    from cfnlint.api import ManualArgs, lint

    matches = lint(stack.body, config=ManualArgs(include_checks=["I"], regions=[region]))
    return [Finding(stack.name, stack.file, m.linenumber, m.rule.id, m.message) for m in matches]


# --- cfngen's own checks --------------------------------------------------------------------

Check = Callable[[dict[str, Any]], Iterator[tuple[str, str]]]  # yields (logical id, message)

ADMIN_AND_DATA_PORTS = {
    22: "SSH",
    3389: "RDP",
    5432: "PostgreSQL",
    3306: "MySQL",
    1433: "SQL Server",
    1521: "Oracle",
    6379: "Redis",
    11211: "Memcached",
    27017: "MongoDB",
    9200: "OpenSearch",
    2049: "NFS",
}
_OPEN = {"0.0.0.0/0", "::/0"}


def _resources(t: dict[str, Any], rtype: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, res in t.get("Resources", {}).items():
        if res.get("Type") == rtype:
            yield name, res.get("Properties", {})


def _open_rule(rule: dict[str, Any]) -> Iterator[str]:
    if rule.get("CidrIp") not in _OPEN and rule.get("CidrIpv6") not in _OPEN:
        return
    proto = str(rule.get("IpProtocol"))
    low, high = rule.get("FromPort", -1), rule.get("ToPort", -1)
    if not isinstance(low, int) or not isinstance(high, int):
        return
    peer = rule.get("CidrIp") or rule.get("CidrIpv6")
    for port, what in ADMIN_AND_DATA_PORTS.items():
        if proto == "-1" or low <= port <= high or low == -1:
            yield f"{what} port {port} open to the internet ({peer})"


def check_open_admin_ports(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG001: never 0.0.0.0/0 to a database, cache, file system or admin port."""
    for name, props in _resources(t, "AWS::EC2::SecurityGroup"):
        for rule in props.get("SecurityGroupIngress", []):
            for msg in _open_rule(rule):
                yield name, msg
    for name, props in _resources(t, "AWS::EC2::SecurityGroupIngress"):
        for msg in _open_rule(props):
            yield name, msg


def check_rule_descriptions(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG002: every security group rule has a description."""
    for name, props in _resources(t, "AWS::EC2::SecurityGroup"):
        for key in ("SecurityGroupIngress", "SecurityGroupEgress"):
            for rule in props.get(key, []):
                if not rule.get("Description"):
                    yield name, f"a rule in {key} has no Description"
    for rtype in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        for name, props in _resources(t, rtype):
            if not props.get("Description"):
                yield name, "security group rule has no Description"


def check_public_ip_subnets(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG003: subnets do not auto-assign public IPs unless a public host needs one."""
    reason = (t.get("Metadata") or {}).get("cfngen", {}).get("public_ip_reason")
    for name, props in _resources(t, "AWS::EC2::Subnet"):
        if props.get("MapPublicIpOnLaunch") is True and not reason:
            yield name, "subnet auto-assigns public IPs but no host in the blueprint needs one"


_SECRETY = re.compile(r"(password|secret|token|private.?key|credential)", re.I)


def check_secret_outputs(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG004: no passwords or secret values in Outputs (ARNs of secrets are fine)."""
    for name, out in t.get("Outputs", {}).items():
        value = out.get("Value")
        text = repr(value)
        if _SECRETY.search(name) and not re.search(r"(Arn|Name|Id)$", name):
            yield name, "output name suggests a secret value; export the secret's ARN instead"
        elif "SecretString" in text or "{{resolve:secretsmanager" in text:
            yield name, "output exposes a secret value"


def check_oidc_trust(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG005: web-identity trust must pin both `aud` and `sub` (no wildcard `sub`)."""
    for name, props in _resources(t, "AWS::IAM::Role"):
        doc = props.get("AssumeRolePolicyDocument", {})
        for st in doc.get("Statement", []):
            actions = st.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if "sts:AssumeRoleWithWebIdentity" not in actions:
                continue
            cond = st.get("Condition", {})
            equals = {**cond.get("StringEquals", {})}
            keys = " ".join(equals)
            if ":aud" not in keys:
                yield name, "web-identity trust does not pin the audience (aud) with StringEquals"
            if ":sub" not in keys:
                yield name, "web-identity trust does not pin the subject (sub) with StringEquals"
            if "StringLike" in cond:
                yield name, "web-identity trust uses StringLike; pin sub with StringEquals"


CHECKS: dict[str, Check] = {
    "CG001": check_open_admin_ports,
    "CG002": check_rule_descriptions,
    "CG003": check_public_ip_subnets,
    "CG004": check_secret_outputs,
    "CG005": check_oidc_trust,
}


def _line_of(body: str, logical_id: str) -> int:
    for i, line in enumerate(body.splitlines(), 1):
        if line.startswith(f"  {logical_id}:"):
            return i
    return 1


def own_checks(stack: RenderedStack, checks: dict[str, Check] = CHECKS) -> list[Finding]:
    template = load_template(stack.body)
    findings = []
    for rule, check in checks.items():
        for logical_id, message in check(template):
            findings.append(
                Finding(
                    stack.name,
                    stack.file,
                    _line_of(stack.body, logical_id),
                    rule,
                    f"{logical_id}: {message}",
                )
            )
    return findings


def lint_environment(env: RenderedEnvironment) -> list[Finding]:
    """Every finding of cfn-lint and cfngen's checks, sorted by stack order and line."""
    findings: list[Finding] = []
    for stack in env.stacks:
        found = cfn_lint(stack, env.region) + own_checks(stack)
        findings.extend(sorted(found, key=lambda f: (f.line, f.rule)))
    return findings
