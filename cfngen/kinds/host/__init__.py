"""The host kind: EC2 hosts running a Docker Compose project, one stack `host-<name>` each.

The instance boots the latest Amazon Linux 2023 (public SSM parameter, arm64 or x86_64), requires
IMDSv2, and has an instance profile with exactly Session Manager, ECR pull and CloudWatch Logs
(plus agent metrics and the compose object when used). User data installs Docker and the Compose
plugin, mounts the encrypted gp3 data volume (a separate volume with `Snapshot` policies, so
replacing the instance keeps the data), sends container logs to the host's log group (Docker's
awslogs driver) and starts the project. A `target_group` registers the instance for a load
balancer and adds a listener rule there. The boot script is cfngen.builders.user_data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cfngen.blueprint.models import Blueprint, IngressRule, SecurityGroup
from cfngen.blueprint.models.boot import Init
from cfngen.blueprint.models.hosts import Host
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import StackPlan
from cfngen.builders.boot import CFN_HUP_SERVICE, CFN_HUP_UNIT
from cfngen.builders.containers import (
    check_grants,
    permission_refs,
    resolve_grants,
    use_requests,
)
from cfngen.builders.user_data import SecretRef
from cfngen.kinds import alerts, network, security
from cfngen.kinds.base import Attribute, Derived, Facts, Kind, Link, MetricSource, Relation
from cfngen.kinds.host.build import build
from cfngen.kinds.host.spec import (
    INSTANCE_ID,
    PREFIX,
    PRIVATE_DNS,
    TARGET_GROUP_ARN,
    HostSpec,
    ListenerRule,
    component,
    hosts_of,
)
from cfngen.stacks import Output

if TYPE_CHECKING:  # the load balancer kind loads only for blueprints that have one
    from cfngen.blueprint.models.load_balancers import LoadBalancer

__all__ = ["HOSTS", "INSTANCE_ID", "component"]


def secret_refs(bp: Blueprint, facts: Facts, host: Host) -> tuple[SecretRef, ...]:
    """The host's secrets resolved to imports, names and paths (unknown ones are skipped: the
    semantic checks report them); then the addresses its `uses` put into the environment."""
    attrs = facts.attributes
    out = []
    for var, s in sorted(host.secrets.items()):
        if s.from_ is not None:
            found = attrs.get(s.from_, {}).get(s.attribute or "")
            if found is not None and found.kind == "secret_arn":
                out.append(SecretRef(var, "arn", found.output, s.key))
        elif s.secretsmanager is not None:
            out.append(SecretRef(var, "secretsmanager", s.secretsmanager, s.key))
        elif s.ssm is not None:
            out.append(SecretRef(var, "ssm", s.ssm, None))
    for var, v in sorted(host.environment.items()):
        found = attrs.get(v.from_, {}).get(v.attribute)
        if found is not None and found.kind == "value":
            out.append(SecretRef(var, "value", found.output, None))
    for _, _, env, grant in resolve_grants(bp, facts, use_requests(host.uses, ())):
        if env is not None and grant.address is not None:
            out.append(SecretRef(env, "value", grant.address, None))
    return tuple(out)


def _listener(bp: Blueprint, name: str, host: Host) -> ListenerRule | None:
    tg = host.target_group
    if tg is None or tg.load_balancer is None or tg.load_balancer not in bp.load_balancers:
        return None
    from cfngen.kinds.load_balancer import LB_ARN, lb_key, listener_output  # the host names one

    lb: LoadBalancer = bp.load_balancers[tg.load_balancer]
    return ListenerRule(
        lb_key(tg.load_balancer),
        listener_output(lb.main_port),
        LB_ARN,
        tg.priority,
        tg.host,
        tg.path,
    )


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    plans = []
    for name, host in hosts_of(bp).items():
        rule = _listener(bp, name, host)
        group_stack = security.group_stack(facts, component(name))
        deps = [network.COMPONENT, group_stack, *alerts.dependency(bp)]
        sources: dict[str, tuple[str | int, ...]] = {}
        bucket = None
        secrets = secret_refs(bp, facts, host)
        for ref in secrets:
            if isinstance(ref.ref, Output):
                deps.append(ref.ref.component)
                sources.setdefault(ref.ref.component, ("hosts", name, "secrets", ref.var))
        if host.compose is not None and host.compose.bucket is not None:
            found = facts.attributes.get(host.compose.bucket, {})
            if "name" in found and "arn" in found:
                bucket = (found["name"].output, found["arn"].output)
                deps.append(bucket[0].component)
                sources[bucket[0].component] = ("hosts", name, "compose", "bucket")
        if rule is not None:
            deps.append(rule.load_balancer)
            sources[rule.load_balancer] = ("hosts", name, "target_group", "load_balancer")
        for path, _, _, grant in resolve_grants(
            bp, facts, use_requests(host.uses, ("hosts", name))
        ):
            for output in grant.imports:
                deps.append(output.component)
                sources.setdefault(output.component, (*path, "component"))
        for where, used, attribute, _ in permission_refs(host.permissions, ("hosts", name)):
            provided = facts.attributes.get(used, {}).get(attribute)
            if provided is not None:
                deps.append(provided.output.component)
                sources.setdefault(provided.output.component, (*where, "from"))
        plans.append(
            StackPlan(
                component=component(name),
                title=f"EC2 host {name}",
                build=build,
                spec=HostSpec(name, host, rule, bucket, secrets),
                depends_on=tuple(dict.fromkeys(deps)),
                source=("hosts", name),
                dependency_sources=sources,
            )
        )
    return plans


def groups(bp: Blueprint, facts: Facts) -> Derived:
    out = Derived()
    known = facts.targets
    for name, host in hosts_of(bp).items():
        key = component(name)
        ingress = list(host.ingress)
        for cidr in host.ssh_cidrs:
            ingress.append(IngressRule(port=22, cidr=cidr, description=f"SSH from {cidr}"))
        out.groups[key] = SecurityGroup(description=f"EC2 host {name}", ingress=ingress)
        out.sources[key] = ("hosts", name)
        for target in host.connects_to:
            t = known.get(target)
            if t is None:
                continue  # reported by `check`
            for port in t.ports:
                out.relations.append(
                    Relation(key, t.group, port, f"Host {name} to {t.kind} {target}")
                )
        for _, _, _, grant in resolve_grants(bp, facts, use_requests(host.uses, ())):
            out.relations.extend(grant.relations(key, f"Host {name}"))
        tg = host.target_group
        if tg is not None and tg.load_balancer is not None:
            from cfngen.kinds.load_balancer import lb_key

            out.relations.append(
                Relation(
                    lb_key(tg.load_balancer),
                    key,
                    tg.port,
                    f"Load balancer {tg.load_balancer} to host {name}",
                )
            )
    return out


def metrics(bp: Blueprint) -> dict[str, MetricSource]:
    """AWS/EC2 metrics of each host, selected by its instance ID."""
    return {
        name: MetricSource(
            "AWS/EC2",
            {"InstanceId": Output(component(name), INSTANCE_ID)},
            ("CPUUtilization", "StatusCheckFailed"),
        )
        for name in hosts_of(bp)
    }


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name, host in hosts_of(bp).items():
        c = component(name)
        out[name] = {
            "instance_id": Attribute(Output(c, INSTANCE_ID), "value", "EC2 instance ID"),
            "private_dns": Attribute(Output(c, PRIVATE_DNS), "value", "Private DNS name"),
        }
        if host.target_group is not None:
            out[name]["target_group_arn"] = Attribute(
                Output(c, TARGET_GROUP_ARN), "value", "Target group (type instance)"
            )
    return out


def links(bp: Blueprint) -> list[Link]:
    """A host's target group forwards from its load balancer's main listener with a rule."""
    out = []
    for name, host in hosts_of(bp).items():
        tg = host.target_group
        if tg is not None and tg.load_balancer is not None:
            from cfngen.kinds.load_balancer import LISTENER_RULE

            out.append(
                Link(
                    name,
                    tg.load_balancer,
                    LISTENER_RULE,
                    ("hosts", name, "target_group"),
                    str(tg.priority),
                )
            )
    return out


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    known = facts.targets
    attrs = facts.attributes
    group_names = facts.groups.groups
    load_balancers: dict[str, LoadBalancer] = bp.load_balancers
    for name, host in hosts_of(bp).items():
        base: Path_ = ("hosts", name)
        check_grants(bp, facts, c, use_requests(host.uses, base))
        for where, ref, attribute, _ in permission_refs(host.permissions, base):
            c.value_reference(where, ref, attribute, attrs, secret=False)
        for i, target in enumerate(host.connects_to):
            c.reference((*base, "connects_to", i), target, known, "connection target")
        for i, rule in enumerate(host.ingress):
            if rule.from_ is not None:
                c.reference(
                    (*base, "ingress", i, "from"), rule.from_, group_names, "security group"
                )
        tg = host.target_group
        if tg is not None and tg.load_balancer is not None:
            path: Path_ = (*base, "target_group", "load_balancer")
            if tg.load_balancer not in load_balancers:
                c.reference(path, tg.load_balancer, load_balancers, "load balancer")
            elif load_balancers[tg.load_balancer].type != "application":
                c.error(
                    path,
                    f"'{tg.load_balancer}' is a network load balancer; host target groups use "
                    "listener rules of an application load balancer",
                    "use an ALB",
                )
        for var, secret in host.secrets.items():
            if secret.from_ is not None:
                c.value_reference(
                    (*base, "secrets", var), secret.from_, secret.attribute, attrs, secret=True
                )
        for var, value in host.environment.items():
            c.value_reference(
                (*base, "environment", var), value.from_, value.attribute, attrs, secret=False
            )
        if host.compose is not None and host.compose.bucket is not None:
            c.reference((*base, "compose", "bucket"), host.compose.bucket, bp.buckets, "bucket")
        installs = host.compose is not None or host.agent
        needs_internet = installs or host.init is not None
        what = (
            "installs Docker and its project"
            if installs
            else "runs cfn-init and signals CloudFormation"
        )
        if needs_internet and host.subnet == "private" and network.of(bp).nat == "none":
            c.error(
                (*base, "subnet"),
                f"the host {what} at boot but a private subnet has no "
                "route to the internet (network.nat: none)",
                "set `subnet: public` with `public_ip: true`, or give the network a NAT gateway",
            )
        if host.init is not None:
            _check_reloader(c, (*base, "init"), host.init)
        if needs_internet and host.subnet == "public" and not host.public_ip:
            c.error(
                (*base, "public_ip"),
                "a host in a public subnet reaches the internet only with a public IP",
                "set `public_ip: true`, or use `subnet: private` with a NAT gateway",
            )


def _check_reloader(c: Checker, base: Path_, init: Init) -> None:
    """cfngen writes cfn-hup's files and runs its service on a host with `init`."""
    for path in init.files:
        if path.startswith("/etc/cfn/") or path == CFN_HUP_UNIT:
            c.error(
                (*base, "files", path),
                f"{path} belongs to cfn-hup, which cfngen sets up on hosts with `init` (it "
                "applies a changed `init` to the running host)",
                "write your file to another path",
                at_key=True,
            )
    if CFN_HUP_SERVICE in init.services:
        c.error(
            (*base, "services", CFN_HUP_SERVICE),
            "cfngen runs cfn-hup on hosts with `init` already",
            "remove this service",
            at_key=True,
        )


HOSTS: Kind[Host] = Kind(
    section="hosts",
    model=Host,
    description="EC2 hosts (Docker Compose), one stack each.",
    prefix=PREFIX,
    plan=plan,
    metrics=metrics,
    attributes=attributes,
    groups=groups,
    links=links,
    checks=(check,),
    order=66,
)
KIND = HOSTS
