"""Semantic checks of the data, edge and operations kinds (databases, caches, search domains,
sites, DNS, certificates, hosts, alerts, budget, GitLab deploy roles): references resolve and
settings fit each other. Each error names the field that is wrong and the fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.edge import in_zone
from cfngen.blueprint.source import Path_

if TYPE_CHECKING:
    from cfngen.blueprint.validate import Checker
    from cfngen.builders.relations import Attribute


def _environment_names(bp: Blueprint) -> list[str]:
    """EnvironmentName of every environment (resource names are built from it)."""
    if bp.environment_name:
        return [bp.environment_name]
    return [f"{bp.blueprint}-{env}" for env in bp.environments]


def check_physical_names(bp: Blueprint, c: Checker) -> None:
    """Names AWS limits: DB identifiers (63, lowercased by RDS) and CloudFront OAC names (64)."""
    envs = _environment_names(bp)
    longest = max(envs, key=len) if envs else ""
    for kind, names, limit in (("databases", bp.databases, 63), ("sites", bp.sites, 64)):
        for name in names:
            full = f"{longest}-{name}"
            if len(full) > limit:
                c.error(
                    (kind, name),
                    f"the resource name {full} is {len(full)} characters long; AWS allows {limit}",
                    f"use a name of at most {limit - len(longest) - 1} characters",
                    at_key=True,
                )
    if bp.databases and bp.environment_name and bp.environment_name != bp.environment_name.lower():
        c.error(
            ("environment_name",),
            "RDS lowercases DB instance identifiers, so the database log groups would not match "
            f"'{bp.environment_name}'",
            f"use '{bp.environment_name.lower()}'",
        )


def check_search_domains(bp: Blueprint, c: Checker) -> None:
    from cfngen.builders.search import zones

    for name, domain in bp.search_domains.items():
        z = zones(bp, domain)
        n = domain.instance_count
        if z > 1 and n % z:
            c.error(
                ("search_domains", name, "instance_count"),
                f"{domain.instance_count} data nodes do not spread evenly over {z} availability "
                "zones",
                f"use a multiple of {z}, e.g. {n + z - n % z}",
            )


def _needs_dns(bp: Blueprint, c: Checker, path: Path_, what: str) -> bool:
    if bp.dns is None:
        c.error(
            path,
            f"{what} needs `dns`: the hosted zone that validates the certificate",
            "add `dns: {zone: example.com, zone_id: Z...}`",
        )
        return False
    return True


def _in_zone(bp: Blueprint, c: Checker, path: Path_, fqdn: str) -> None:
    assert bp.dns is not None
    if not in_zone(fqdn.removeprefix("*."), bp.dns.zone):
        c.error(
            path,
            f"'{fqdn}' is not in the hosted zone {bp.dns.zone}",
            f"use a name ending in .{bp.dns.zone}",
        )


def check_edge(bp: Blueprint, c: Checker) -> None:
    from cfngen.builders.dns import alias_records
    from cfngen.builders.relations import attributes
    from cfngen.builders.site import origin_domain

    for name, site in bp.sites.items():
        base: Path_ = ("sites", name)
        if site.domain and _needs_dns(bp, c, (*base, "domain"), "a site with a custom domain"):
            _in_zone(bp, c, (*base, "domain"), site.domain)
            for i, alias in enumerate(site.aliases):
                _in_zone(bp, c, (*base, "aliases", i), alias)
        for i, b in enumerate(site.behaviours):
            path: Path_ = (*base, "behaviours", i, "load_balancer")
            if b.load_balancer not in bp.load_balancers:
                c.reference(path, b.load_balancer, bp.load_balancers, "load balancer")
                continue
            if bp.load_balancers[b.load_balancer].type != "application":
                c.error(path, f"'{b.load_balancer}' is a network load balancer", "use an ALB")
            elif origin_domain(bp, b.load_balancer, b.origin_domain) is None:
                c.error(
                    path,
                    f"CloudFront needs a host name for load balancer '{b.load_balancer}' that "
                    "its certificate covers",
                    f"add a dns record `api.example.com: {{target: {b.load_balancer}}}` or set "
                    "origin_domain",
                )
    for name, cert in bp.certificates.items():
        base = ("certificates", name)
        if _needs_dns(bp, c, base, "a certificate"):
            for i, n in enumerate(cert.names):
                where: Path_ = (*base, "domain") if i == 0 else (*base, "alternative_names", i - 1)
                _in_zone(bp, c, where, n)
    for name, lb in bp.load_balancers.items():
        ref = lb.certificate
        if ref is not None and not ref.startswith("arn:"):
            path = ("load_balancers", name, "certificate")
            if ref not in bp.certificates:
                c.reference(path, ref, bp.certificates, "certificate")
            elif bp.dns is None:
                c.error(path, "certificates by name need `dns`", "add `dns:` or give an ARN")
    if bp.dns is None:
        return
    attrs = attributes(bp)
    aliasable = {n for n, a in attrs.items() if "dns_name" in a and "hosted_zone_id" in a}
    seen: dict[str, Path_] = {}
    for fqdn, target, where in alias_records(bp):
        if where[0] == "dns":
            _in_zone(bp, c, ("dns", "records", fqdn), fqdn)
            c.reference(where, target, aliasable, "alias target")
        if fqdn in seen:
            c.error(
                where,
                f"the name {fqdn} already has a record ({'.'.join(map(str, seen[fqdn]))})",
                "keep one record per name",
            )
        seen.setdefault(fqdn, where)


def _value(
    c: Checker,
    attrs: dict[str, dict[str, Attribute]],
    path: Path_,
    component: str,
    attribute: str | None,
    secret: bool,
) -> None:
    """A typed reference to another component's value: it exists and is (not) a secret."""
    if component not in attrs:
        c.reference((*path, "from"), component, attrs, "component with attributes")
        return
    if attribute not in attrs[component]:
        c.reference((*path, "attribute"), str(attribute), attrs[component], "attribute")
        return
    kind = attrs[component][attribute].kind
    if secret and kind != "secret_arn":
        c.error(
            (*path, "attribute"),
            f"{component}.{attribute} is a plain value, not a secret",
            "move it to `environment`",
        )
    elif not secret and kind == "secret_arn":
        c.error(
            (*path, "attribute"),
            f"{component}.{attribute} is a secret",
            "move it to `secrets`: its value is read at start, never written into the template",
        )


def check_hosts(bp: Blueprint, c: Checker) -> None:
    from cfngen.builders import GROUP_PROVIDERS
    from cfngen.builders.relations import attributes, targets
    from cfngen.builders.security import collect

    known = targets(bp)
    attrs = attributes(bp)
    group_names = set(collect(bp, GROUP_PROVIDERS).groups)
    for name, host in bp.hosts.items():
        base: Path_ = ("hosts", name)
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
            if tg.load_balancer not in bp.load_balancers:
                c.reference(path, tg.load_balancer, bp.load_balancers, "load balancer")
            elif bp.load_balancers[tg.load_balancer].type != "application":
                c.error(
                    path,
                    f"'{tg.load_balancer}' is a network load balancer; host target groups use "
                    "listener rules of an application load balancer",
                    "use an ALB",
                )
        for var, secret in host.secrets.items():
            if secret.from_ is not None:
                _value(c, attrs, (*base, "secrets", var), secret.from_, secret.attribute, True)
        for var, value in host.environment.items():
            _value(c, attrs, (*base, "environment", var), value.from_, value.attribute, False)
        if host.compose is not None and host.compose.bucket is not None:
            c.reference((*base, "compose", "bucket"), host.compose.bucket, bp.buckets, "bucket")
        needs_internet = host.compose is not None or host.agent
        if needs_internet and host.subnet == "private" and bp.network.nat == "none":
            c.error(
                (*base, "subnet"),
                "the host installs Docker and its project at boot but a private subnet has no "
                "route to the internet (network.nat: none)",
                "set `subnet: public` with `public_ip: true`, or give the network a NAT gateway",
            )
        if needs_internet and host.subnet == "public" and not host.public_ip:
            c.error(
                (*base, "public_ip"),
                "a host in a public subnet reaches the internet only with a public IP",
                "set `public_ip: true`, or use `subnet: private` with a NAT gateway",
            )


def check_operations(bp: Blueprint, c: Checker) -> None:
    if bp.budget is not None and not bp.budget.emails and bp.alerts is None:
        c.error(
            ("budget",),
            "the budget notifies nobody",
            "add `emails:` to the budget, or an `alerts` topic",
        )
    from cfngen.blueprint.models.deploy_roles import GitlabDeployRole

    for name, role in bp.deploy_roles.items():
        if not isinstance(role, GitlabDeployRole):
            continue
        base: Path_ = ("deploy_roles", name, "permissions")
        perms = role.permissions
        for i, repo in enumerate(perms.repositories):
            c.reference((*base, "repositories", i), repo, bp.repositories, "repository")
        for i, h in enumerate(perms.run_command_on):
            c.reference((*base, "run_command_on", i), h, bp.hosts, "host")
        for i, s in enumerate(perms.publish_sites):
            c.reference((*base, "publish_sites", i), s, bp.sites, "site")


DATA_EDGE_OPS_CHECKS = (
    check_physical_names,
    check_search_domains,
    check_edge,
    check_hosts,
    check_operations,
)
