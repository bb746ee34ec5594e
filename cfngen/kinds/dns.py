"""The dns kind: the blueprint's Route 53 hosted zone and the alias records in it (stack `dns`).

A record's target is any component that publishes the attributes `dns_name` and
`hosted_zone_id` (sites and load balancers do), so records never carry copied host names. Records
come from `dns.records` and from other kinds' `records` offers (a site's domain names), through
the planning stage. Other kinds needing the zone (certificates, sites) call `zone(bp)` and check
their names with `check_in_zone`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from troposphere import route53

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.edge import Dns, in_zone
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.kinds.base import AliasRecordRequest, Facts, Kind
from cfngen.stacks import Output, logical_id

COMPONENT = "dns"


@dataclass(frozen=True)
class AliasRecord:
    fqdn: str
    target: str
    dns_name: Output
    zone: Output
    ipv6: bool


@dataclass(frozen=True)
class DnsSpec:
    zone_id: str
    records: tuple[AliasRecord, ...]


def zone(bp: Blueprint) -> Dns | None:
    """The blueprint's hosted zone settings (None without `dns`)."""
    return DNS.one(bp)


def records(bp: Blueprint) -> list[AliasRecordRequest]:
    """The blueprint's own `dns.records`."""
    dns = zone(bp)
    if dns is None:
        return []
    return [
        AliasRecordRequest(fqdn, record.target, ("dns", "records", fqdn, "target"), ipv6=False)
        for fqdn, record in dns.records.items()
    ]


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    dns = zone(bp)
    if dns is None:
        return []
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
            title=f"Route 53 alias records in {dns.zone}",
            build=build,
            spec=DnsSpec(dns.zone_id, tuple(alias_records)),
            depends_on=tuple(sorted(sources)),
            source=("dns",),
            dependency_sources=sources,
        )
    ]


# --- checks other kinds share ---------------------------------------------------------------------


def check_needs_zone(bp: Blueprint, c: Checker, path: Path_, what: str) -> bool:
    """False (and an error at `path`) when the blueprint has no hosted zone."""
    if zone(bp) is None:
        c.error(
            path,
            f"{what} needs `dns`: the hosted zone that validates the certificate",
            "add `dns: {zone: example.com, zone_id: Z...}`",
        )
        return False
    return True


def check_in_zone(bp: Blueprint, c: Checker, path: Path_, fqdn: str) -> None:
    dns = zone(bp)
    assert dns is not None
    if not in_zone(fqdn.removeprefix("*."), dns.zone):
        c.error(
            path,
            f"'{fqdn}' is not in the hosted zone {dns.zone}",
            f"use a name ending in .{dns.zone}",
        )


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """Records are in the zone, point at components with an alias target, one per name."""
    if zone(bp) is None:
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
                    HostedZoneId=spec.zone_id,
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
    records=records,
    checks=(check,),
    order=45,
)
KIND = DNS
