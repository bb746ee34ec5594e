"""The dns kind: the blueprint's Route 53 hosted zone and the alias records in it (stack `dns`).

A zone is an existing one (`zone`, `zone_id`) or the `shared` scope's: declared there once
(created by the scope's stack `dns` when it gives no `zone_id`), and read by environments in the
scope's account without exports, by `Fn::GetStackOutput` of the scope's stack, which
CloudFormation resolves when it creates or updates the stack. An environment in another account
cannot use it (CloudFormation creates records, and ACM validates certificates, only in a zone of
the deploying account): it gets a positioned error saying how to delegate a subzone instead
(`shared.dns.delegations`).

A record's target is any component that publishes the attributes `dns_name` and
`hosted_zone_id` (sites and load balancers do), so records never carry copied host names. Records
come from `dns.records` and from other kinds' `records` offers (a site's domain names), through
the planning stage. Other kinds needing the zone (certificates, sites) call `zone(bp)` and check
their names with `check_in_zone`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import Struct
from troposphere import GetAtt, Join, Ref, route53

from cfngen.blueprint.environments import SHARED
from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.edge import Dns, in_zone
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.kinds.base import AliasRecordRequest, Facts, Kind
from cfngen.stacks import GetStackOutput, Output, environment_name, logical_id, stack_name

COMPONENT = "dns"


ZONE_ID = "ZoneId"
NAME_SERVERS = "NameServers"
HOSTED_ZONE = "HostedZone"


class SharedZone(Struct, frozen=True):
    """Where the shared scope's zone lives, as an environment sees it."""

    account: str | None  # None: the environments' own account
    region: str
    stack: str  # the scope's dns stack, e.g. city-shared-dns


class Zone(Struct, frozen=True):
    """The hosted zone an environment's names live in."""

    zone: str
    zone_id: Any  # the ID, or how CloudFormation reads it from the shared scope's stack
    shared: SharedZone | None = None  # set when it is the shared scope's zone


class AliasRecord(Struct, frozen=True):
    fqdn: str
    target: str
    dns_name: Output
    zone: Output
    ipv6: bool


class DnsSpec(Struct, frozen=True):
    zone_id: Any
    records: tuple[AliasRecord, ...]
    create: str | None = None  # the shared scope: the zone's name when its stack creates it
    delegations: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _shared_dns(bp: Blueprint) -> tuple[Dns, SharedZone] | None:
    """The shared scope's zone settings, as an environment sees them."""
    scope = bp.shared
    dns = scope.dns if scope is not None else None
    if dns is None or dns.zone is None:
        return None
    stack = stack_name(environment_name(bp.blueprint, SHARED, None), COMPONENT)
    return dns, SharedZone(scope.deploy.account, scope.region or bp.region, stack)


def zone(bp: Blueprint) -> Zone | None:
    """The environment's hosted zone (None without one): its own, or the shared scope's."""
    dns = DNS.one(bp)
    if dns is not None and dns.zone is not None:
        if dns.zone_id is None:
            # the shared scope creates it; an environment without the ID is an error (check)
            return Zone(dns.zone, Ref(HOSTED_ZONE) if _is_shared_scope(bp) else "")
        return Zone(dns.zone, dns.zone_id)
    found = _shared_dns(bp)
    if found is None:
        return None
    shared, where = found
    assert shared.zone is not None
    zone_id = shared.zone_id or GetStackOutput(where.stack, ZONE_ID, where.region)
    return Zone(shared.zone, zone_id, where)


def _is_shared_scope(bp: Blueprint) -> bool:
    return bp.shared is None and list(bp.environments) == [SHARED]


def shared_zone_stack(bp: Blueprint) -> SharedZone | None:
    """The shared scope's stack an environment reads its zone ID from (Fn::GetStackOutput),
    or None: its CloudFormation execution role needs cloudformation:DescribeStacks on it."""
    z = zone(bp)
    if z is None or z.shared is None or isinstance(z.zone_id, str):
        return None
    return z.shared


def records(bp: Blueprint) -> list[AliasRecordRequest]:
    """The blueprint's own `dns.records`."""
    dns = DNS.one(bp)
    if dns is None:
        return []
    return [
        AliasRecordRequest(fqdn, record.target, ("dns", "records", fqdn, "target"), ipv6=False)
        for fqdn, record in dns.records.items()
    ]


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    z = zone(bp)
    dns = DNS.one(bp)
    if z is None or dns is None:
        return []
    if _is_shared_scope(bp):
        if dns.zone_id is not None and not dns.delegations:
            return []  # an existing zone, and nothing to add to it
        return [
            StackPlan(
                component=COMPONENT,
                title=f"Route 53 hosted zone {z.zone}",
                build=build,
                spec=DnsSpec(
                    z.zone_id,
                    (),
                    create=z.zone if dns.zone_id is None else None,
                    delegations=tuple((k, tuple(v)) for k, v in dns.delegations.items()),
                ),
                source=("dns",),
            )
        ]
    alias_records: list[AliasRecord] = []
    sources: dict[str, Path_] = {}
    for request in facts.records:
        found = facts.attributes.get(request.target, {})
        if "dns_name" not in found or "hosted_zone_id" not in found:
            continue  # reported by `check`
        dns_name, hosted_zone = found["dns_name"].output, found["hosted_zone_id"].output
        alias_records.append(
            AliasRecord(request.fqdn, request.target, dns_name, hosted_zone, ipv6=request.ipv6)
        )
        sources.setdefault(dns_name.component, request.source)
        sources.setdefault(hosted_zone.component, request.source)
    if not alias_records:
        return []
    return [
        StackPlan(
            component=COMPONENT,
            title=f"Route 53 alias records in {z.zone}",
            build=build,
            spec=DnsSpec(z.zone_id, tuple(alias_records)),
            depends_on=tuple(sorted(sources)),
            source=("dns",),
            dependency_sources=sources,
        )
    ]


# --- checks other kinds share ---------------------------------------------------------------------


def check_needs_zone(bp: Blueprint, c: Checker, path: Path_, what: str) -> bool:
    """False (and an error at `path`) when the blueprint has no hosted zone it can use."""
    z = zone(bp)
    if z is None:
        c.error(
            path,
            f"{what} needs `dns`: the hosted zone that validates the certificate",
            "add `dns: {zone: example.com, zone_id: Z...}`, or declare the zone once in "
            "`shared: {dns: {zone: example.com}}`",
        )
        return False
    return check_usable(bp, c, path, z, what)


def check_usable(bp: Blueprint, c: Checker, path: Path_, z: Zone, what: str) -> bool:
    """The shared scope's zone is usable only from its own account (CloudFormation creates
    records, and ACM validates certificates, in a zone of the deploying account)."""
    if z.shared is None or z.shared.account is None or z.shared.account == bp.deploy.account:
        return True
    sub = f"<env>.{z.zone}"
    delegate = (
        f"give the environment a hosted zone of its own in its account, `dns: {{zone: {sub}, "
        f"zone_id: Z...}}`, and delegate it from the shared zone with `shared: {{dns: "
        f"{{delegations: {{{sub}: [<its name servers>]}}}}}}`"
    )
    if bp.deploy.account is None:
        c.error(
            path,
            f"{what} uses the shared scope's zone {z.zone} in account {z.shared.account}, and "
            "this environment names no deploy.account, so cfngen cannot tell whether "
            "CloudFormation may write to that zone",
            f"set deploy.account to {z.shared.account} if the environment is in that account; "
            f"else {delegate}",
        )
    else:
        c.error(
            path,
            f"{what} uses the shared scope's zone {z.zone}, which is in account "
            f"{z.shared.account}, not this environment's {bp.deploy.account}: CloudFormation "
            "creates records (and ACM validates certificates) only in a zone of the deploying "
            "account",
            delegate,
        )
    return False


def check_in_zone(bp: Blueprint, c: Checker, path: Path_, fqdn: str) -> None:
    z = zone(bp)
    assert z is not None
    if not in_zone(fqdn.removeprefix("*."), z.zone):
        c.error(
            path,
            f"'{fqdn}' is not in the hosted zone {z.zone}",
            f"use a name ending in .{z.zone}",
        )


def _check_zone(bp: Blueprint, dns: Dns, c: Checker) -> None:
    """An environment names an existing zone (or none, for the shared one), delegated when it
    lies inside the shared zone; the shared scope names the zone it creates or extends."""
    if _is_shared_scope(bp):
        if dns.zone is None:
            c.error(
                ("dns",),
                "the shared scope's dns needs `zone`",
                "add `zone: example.com` (without zone_id the scope creates the zone)",
            )
        return
    if dns.delegations:
        c.error(
            ("dns", "delegations"),
            "delegations are NS records in the shared scope's zone",
            "move them to `shared: {dns: {delegations: ...}}`",
            at_key=True,
        )
    if dns.zone is None:
        if _shared_dns(bp) is None and (dns.records or dns.zone_id):
            c.error(
                ("dns",),
                "dns needs `zone` and `zone_id` (no zone is declared in the shared scope)",
                "add `zone: example.com` and `zone_id: Z...`",
            )
        return
    if dns.zone_id is None:
        c.error(
            ("dns", "zone"),
            f"an environment uses an existing hosted zone: {dns.zone} needs its zone_id",
            "add `zone_id: Z...` (Route 53 console), or leave both out to use the zone "
            "declared in `shared: {dns: {zone: ...}}` (which the shared scope creates)",
        )
    found = _shared_dns(bp)
    if found is None:
        return
    shared = found[0]
    assert shared.zone is not None
    inside = dns.zone != shared.zone and in_zone(dns.zone, shared.zone)
    if inside and dns.zone not in shared.delegations:
        zid = dns.zone_id or "Z..."
        c.error(
            ("dns", "zone"),
            f"{dns.zone} lies inside the shared zone {shared.zone}, which does not "
            "delegate it, so its names do not resolve (and certificates never validate)",
            f"add `shared: {{dns: {{delegations: {{{dns.zone}: [<name servers>]}}}}}}` "
            f"with the zone's name servers (aws route53 get-hosted-zone --id {zid})",
        )


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """Records are in the zone, point at components with an alias target, one per name."""
    dns = DNS.one(bp)
    if dns is not None:
        _check_zone(bp, dns, c)
    z = zone(bp)
    if z is None or not z.zone_id:
        return
    if facts.records and not check_usable(bp, c, facts.records[0].source, z, "the record"):
        return
    aliasable = {
        n for n, a in facts.attributes.items() if "dns_name" in a and "hosted_zone_id" in a
    }
    seen: dict[str, Path_] = {}
    for request in facts.records:
        where = request.source
        if where[0] == "dns":
            check_in_zone(bp, c, ("dns", "records", request.fqdn), request.fqdn)
            c.reference(where, request.target, aliasable, "alias target")
        if request.fqdn in seen:
            c.error(
                where,
                f"the name {request.fqdn} already has a record "
                f"({'.'.join(map(str, seen[request.fqdn]))})",
                "keep one record per name",
            )
        seen.setdefault(request.fqdn, where)


def build(spec: DnsSpec, ctx: Context) -> None:
    zone_id = spec.zone_id
    if spec.create is not None:
        hosted = ctx.add(
            route53.HostedZone(
                HOSTED_ZONE,
                Name=spec.create,
                HostedZoneConfig=route53.HostedZoneConfiguration(
                    Comment=f"{spec.create}: the zone of {ctx.blueprint.blueprint}'s environments"
                ),
                HostedZoneTags=ctx.name_tag("zone"),
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
            ),
            ("dns", "zone"),
        )
        zone_id = Ref(hosted)
        ctx.output(ZONE_ID, zone_id, f"Hosted zone ID of {spec.create} (environments read it)")
        ctx.output(
            NAME_SERVERS,
            Join(",", GetAtt(hosted, "NameServers")),
            f"Name servers of {spec.create}: delegate the domain to them at its registrar",
        )
    for sub, servers in spec.delegations:
        ctx.add(
            route53.RecordSetType(
                logical_id(sub.replace(".", "-"), "NS"),
                HostedZoneId=zone_id,
                Name=sub,
                Type="NS",
                TTL="172800",
                ResourceRecords=list(servers),
            ),
            ("dns", "delegations", sub),
        )
    for rec in spec.records:
        alias = route53.AliasTarget(
            DNSName=ctx.import_value(rec.dns_name.component, rec.dns_name.name),
            HostedZoneId=ctx.import_value(rec.zone.component, rec.zone.name),
            EvaluateTargetHealth=False,
        )
        for rtype in ("A", "AAAA") if rec.ipv6 else ("A",):
            ctx.add(
                route53.RecordSetType(
                    logical_id(rec.fqdn.replace(".", "-"), rtype),
                    HostedZoneId=zone_id,
                    Name=rec.fqdn,
                    Type=rtype,
                    AliasTarget=alias,
                )
            )


DNS: Kind[Dns] = Kind(
    section="dns",
    model=Dns,
    description="The Route 53 hosted zone and alias records.",
    prefix=COMPONENT,
    plan=plan,
    singleton=True,
    shareable=True,
    records=records,
    checks=(check,),
    order=45,
)
KIND = DNS
