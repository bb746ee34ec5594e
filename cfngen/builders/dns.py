"""Route 53 alias records (stack `dns`) and regional ACM certificates (`certificate-<name>`).

A record's target is any component that publishes the attributes `dns_name` and
`hosted_zone_id` (sites do; load balancers do too), so records never carry copied host names.
Certificates are validated by DNS in the blueprint's hosted zone: CloudFormation creates the
validation records itself (`DomainValidationOptions` with the zone ID) and waits for issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from troposphere import Ref, certificatemanager, route53

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.edge import Certificate
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.relations import Attribute, attributes
from cfngen.stacks import Output, logical_id

COMPONENT = "dns"
CERTIFICATE_ARN = "CertificateArn"


def certificate_component(name: str) -> str:
    return f"certificate-{name}"


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


def alias_records(bp: Blueprint) -> list[tuple[str, str, tuple[str | int, ...]]]:
    """(name, target, where declared) of every alias record: sites' domains, then dns.records."""
    out: list[tuple[str, str, tuple[str | int, ...]]] = []
    for name, site in bp.sites.items():
        for i, fqdn in enumerate(site.names):
            where: tuple[str | int, ...] = (
                ("sites", name, "domain") if i == 0 else ("sites", name, "aliases", i - 1)
            )
            out.append((fqdn, name, where))
    if bp.dns is not None:
        for fqdn, record in bp.dns.records.items():
            out.append((fqdn, record.target, ("dns", "records", fqdn, "target")))
    return out


def plan(bp: Blueprint) -> Sequence[StackPlan[Any]]:
    plans: list[StackPlan[Any]] = []
    if bp.dns is None:
        return plans
    for name, cert in bp.certificates.items():
        plans.append(
            StackPlan(
                component=certificate_component(name),
                title=f"ACM certificate {name}",
                build=build_certificate,
                spec=(cert, bp.dns.zone_id),
                source=("certificates", name),
            )
        )
    attrs = attributes(bp)
    records: list[AliasRecord] = []
    sources: dict[str, tuple[str | int, ...]] = {}
    for fqdn, target, where in alias_records(bp):
        found = attrs.get(target, {})
        if "dns_name" not in found or "hosted_zone_id" not in found:
            continue  # reported by check_edge
        dns_name, zone = found["dns_name"].output, found["hosted_zone_id"].output
        records.append(AliasRecord(fqdn, target, dns_name, zone, ipv6=target in bp.sites))
        sources.setdefault(dns_name.component, where)
        sources.setdefault(zone.component, where)
    if records:
        plans.append(
            StackPlan(
                component=COMPONENT,
                title=f"Route 53 alias records in {bp.dns.zone}",
                build=build,
                spec=DnsSpec(bp.dns.zone_id, tuple(records)),
                depends_on=tuple(sorted(sources)),
                source=("dns",),
                dependency_sources=sources,
            )
        )
    return plans


def certificate_attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    if bp.dns is None:
        return {}
    return {
        name: {
            "arn": Attribute(
                Output(certificate_component(name), CERTIFICATE_ARN),
                "value",
                "ACM certificate ARN (blueprint region)",
            )
        }
        for name in bp.certificates
    }


def build_certificate(spec: tuple[Certificate, str], ctx: Context) -> None:
    cert, zone_id = spec
    props: dict[str, Any] = {
        "DomainName": cert.domain,
        "ValidationMethod": "DNS",
        "DomainValidationOptions": [
            certificatemanager.DomainValidationOption(DomainName=n, HostedZoneId=zone_id)
            for n in cert.names
        ],
        "Tags": ctx.name_tag("certificate"),
    }
    if cert.alternative_names:
        props["SubjectAlternativeNames"] = cert.alternative_names
    res = ctx.add(certificatemanager.Certificate("Certificate", **props))
    ctx.export(CERTIFICATE_ARN, Ref(res), f"ACM certificate for {cert.domain}")


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


# --- load balancer certificates by name (used by cfngen.builders.load_balancer) ---------------


def _certificate_name(certificate: str | None) -> str | None:
    """The `certificates` entry an ALB names, or None when it gives an ARN (or nothing)."""
    if certificate is None or certificate.startswith("arn:"):
        return None
    return certificate


def certificate_dependency(lb: Any) -> tuple[str, ...]:
    name = _certificate_name(lb.certificate)
    return (certificate_component(name),) if name else ()


def certificate_arn(lb: Any, ctx: Context) -> Any:
    name = _certificate_name(lb.certificate)
    if name is None:
        return lb.certificate
    return ctx.import_value(certificate_component(name), CERTIFICATE_ARN)
