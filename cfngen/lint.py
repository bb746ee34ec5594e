"""cfn-lint in-process on every rendered template, plus cfngen's own security checks.

cfn-lint runs with informational rules included (`--include-checks I`). cfngen's checks cover
what neither cfn-lint nor checkov catches (see SECURITY.md); each has an ID `CG####` and is a
pure function of one parsed template.
"""

from __future__ import annotations

import functools
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


@functools.cache
def _runner(region: str) -> Any:
    """One cfn-lint runner per region: loading its rules costs ~0.4 s, linting a stack less."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(include_checks=["I"], regions=[region]))


def cfn_lint(stack: RenderedStack, region: str) -> list[Finding]:
    """cfn-lint's findings for one template, informational rules included (as `cfnlint.api.lint`
    does it, with the rules loaded once)."""
    from cfnlint.decode.decode import decode_str

    template, errors = decode_str(stack.body)
    matches = errors or ([] if template is None else _runner(region).validate_template(template))
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


# --- ECS and load balancers (CG1xx) ---------------------------------------------------------


def _with_metadata(
    t: dict[str, Any], rtype: str
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for name, res in t.get("Resources", {}).items():
        if res.get("Type") == rtype:
            yield name, res.get("Properties", {}), (res.get("Metadata") or {}).get("cfngen", {})


def check_ecs_public_ip(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG101: ECS tasks get no public IP unless the blueprint says why (Metadata reason).

    Services, scheduled tasks (Scheduler targets) and run-once tasks (cfngen's custom resource).
    """
    for name, props, meta in _with_metadata(t, "AWS::ECS::Service"):
        vpc = (props.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}
        if vpc.get("AssignPublicIp") == "ENABLED" and not meta.get("public_ip_reason"):
            yield name, "ECS tasks get public IPs and no reason is recorded"
    for name, props, meta in _with_metadata(t, "AWS::Scheduler::Schedule"):
        ecs = (props.get("Target") or {}).get("EcsParameters") or {}
        vpc = (ecs.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}
        if vpc.get("AssignPublicIp") == "ENABLED" and not meta.get("public_ip_reason"):
            yield name, "scheduled ECS tasks get public IPs and no reason is recorded"
    for name, props, meta in _with_metadata(t, "Custom::RunTaskOnce"):
        if props.get("AssignPublicIp") == "ENABLED" and not meta.get("public_ip_reason"):
            yield name, "the run-once ECS task gets a public IP and no reason is recorded"


def check_ecs_privileged(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG102: no privileged containers."""
    for name, props in _resources(t, "AWS::ECS::TaskDefinition"):
        for cdef in props.get("ContainerDefinitions", []):
            if cdef.get("Privileged") is True:
                yield name, f"container {cdef.get('Name')} is privileged"


_CREDENTIAL_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
_NOT_A_SECRET = re.compile(r"(_ARN|_NAME|_ID|_PATH|_FILE|_TTL|_SECONDS|_MODE)$", re.I)


def check_ecs_env_secrets(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG103: secrets go through `Secrets` (SSM / Secrets Manager), never `Environment`."""
    for name, props in _resources(t, "AWS::ECS::TaskDefinition"):
        for cdef in props.get("ContainerDefinitions", []):
            for env in cdef.get("Environment", []):
                var, value = str(env.get("Name", "")), env.get("Value")
                if not isinstance(value, str):
                    continue  # an imported value (an ARN, a name), never a secret value
                if _CREDENTIAL_URL.search(value):
                    yield name, f"environment variable {var} holds credentials in a URL"
                elif _SECRETY.search(var) and not _NOT_A_SECRET.search(var):
                    yield name, f"environment variable {var} looks like a secret; use secrets"


def check_ecs_role_separation(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG104: the execution role (ECS agent) and the task role (application) differ."""
    for name, props in _resources(t, "AWS::ECS::TaskDefinition"):
        execution, task = props.get("ExecutionRoleArn"), props.get("TaskRoleArn")
        if execution is not None and execution == task:
            yield name, "execution role and task role are the same role"


def check_plain_http_listener(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG105: an HTTP listener that forwards (not redirects) carries its reason in Metadata."""
    for name, props, meta in _with_metadata(t, "AWS::ElasticLoadBalancingV2::Listener"):
        if props.get("Protocol") != "HTTP":
            continue
        actions = props.get("DefaultActions", [])
        if all(a.get("Type") == "redirect" for a in actions):
            continue
        if not meta.get("plain_http_reason"):
            yield name, "plain HTTP listener without a recorded reason (plain_http_reason)"


# --- data, edge and operations (CG2xx) ------------------------------------------------------

_PRODUCTION = frozenset({"prod", "production"})


def _wildcard_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _statements(policy: Any) -> list[dict[str, Any]]:
    if not isinstance(policy, dict):
        return []
    st = policy.get("Statement", [])
    return [s for s in (st if isinstance(st, list) else [st]) if isinstance(s, dict)]


def check_bucket_policy_public(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG201: a bucket policy statement with Principal "*" must be a Deny."""
    for name, props in _resources(t, "AWS::S3::BucketPolicy"):
        for st in _statements(props.get("PolicyDocument")):
            if _wildcard_principal(st.get("Principal")) and st.get("Effect") != "Deny":
                sid = st.get("Sid", "a statement")
                yield name, f"{sid} allows Principal '*'; grant named principals instead"


def _denies_insecure_transport(policy: Any) -> bool:
    for st in _statements(policy):
        cond = st.get("Condition", {})
        if st.get("Effect") == "Deny" and isinstance(cond, dict):
            value = (cond.get("Bool") or {}).get("aws:SecureTransport")
            if str(value).lower() == "false":
                return True
    return False


def check_bucket_tls_only(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG202: every bucket has a policy in its template denying requests without TLS."""
    protected = {
        str((props.get("Bucket") or {}).get("Ref"))
        for _, props in _resources(t, "AWS::S3::BucketPolicy")
        if isinstance(props.get("Bucket"), dict)
        and _denies_insecure_transport(props.get("PolicyDocument"))
    }
    for name, _props in _resources(t, "AWS::S3::Bucket"):
        if name not in protected:
            yield name, "bucket without a policy denying aws:SecureTransport false (TLS only)"


def check_rds_production(t: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """CG203: production databases keep 7+ days of backups and have deletion protection."""
    env = str((t.get("Metadata") or {}).get("cfngen", {}).get("environment", ""))
    if env not in _PRODUCTION:
        return
    for rtype in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        for name, props in _resources(t, rtype):
            if rtype == "AWS::RDS::DBInstance" and "DBClusterIdentifier" in props:
                continue  # the cluster holds backups and protection
            retention = props.get("BackupRetentionPeriod", 1)
            if isinstance(retention, (int, str)) and int(retention) < 7:
                yield name, f"production database keeps backups {retention} day(s); keep 7 or more"
            if props.get("DeletionProtection") is not True:
                yield name, "production database without DeletionProtection"


CHECKS: dict[str, Check] = {
    "CG001": check_open_admin_ports,
    "CG002": check_rule_descriptions,
    "CG003": check_public_ip_subnets,
    "CG004": check_secret_outputs,
    "CG005": check_oidc_trust,
    "CG101": check_ecs_public_ip,
    "CG102": check_ecs_privileged,
    "CG103": check_ecs_env_secrets,
    "CG104": check_ecs_role_separation,
    "CG105": check_plain_http_listener,
    "CG201": check_bucket_policy_public,
    "CG202": check_bucket_tls_only,
    "CG203": check_rds_production,
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
        found = cfn_lint(stack, stack.region or env.region) + own_checks(stack)
        findings.extend(sorted(found, key=lambda f: (f.line, f.rule)))
    return findings
