"""The certificate kind: regional ACM certificates (`certificate-<name>`) for load balancers.

Validated by DNS in the blueprint's hosted zone: CloudFormation creates the validation records
itself (`DomainValidationOptions` with the zone ID) and waits for the certificate to be issued.
A load balancer names one by its blueprint name (`certificate: web`) or gives an ARN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from troposphere import Ref

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.edge import Certificate
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.certificates import dns_validated
from cfngen.kinds import dns
from cfngen.kinds.base import Attribute, Facts, Kind
from cfngen.stacks import Output

CERTIFICATE_ARN = "CertificateArn"


def certificate_component(name: str) -> str:
    return CERTIFICATES.key(name)


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    zone = dns.zone(bp)
    if zone is None:
        return []
    return [
        StackPlan(
            component=certificate_component(name),
            title=f"ACM certificate {name}",
            build=build_certificate,
            spec=(cert, zone.zone_id),
            source=("certificates", name),
        )
        for name, cert in CERTIFICATES.entries(bp).items()
    ]


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    if dns.zone(bp) is None:
        return {}
    return {
        name: {
            "arn": Attribute(
                Output(certificate_component(name), CERTIFICATE_ARN),
                "value",
                "ACM certificate ARN (blueprint region)",
            )
        }
        for name in CERTIFICATES.entries(bp)
    }


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    for name, cert in CERTIFICATES.entries(bp).items():
        base: Path_ = ("certificates", name)
        if dns.check_needs_zone(bp, c, base, "a certificate"):
            for i, n in enumerate(cert.names):
                where: Path_ = (*base, "domain") if i == 0 else (*base, "alternative_names", i - 1)
                dns.check_in_zone(bp, c, where, n)


def build_certificate(spec: tuple[Certificate, Any], ctx: Context) -> None:
    cert, zone_id = spec
    res = dns_validated(ctx, cert.names, zone_id, "certificate")
    ctx.export(CERTIFICATE_ARN, Ref(res), f"ACM certificate for {cert.domain}")


# --- load balancer certificates by name (cfngen.kinds.load_balancer) -------------------------


def check_reference(bp: Blueprint, c: Checker, path: Path_, name: str) -> None:
    """The certificate a load balancer names by its blueprint name exists (and can be
    validated)."""
    if name not in CERTIFICATES.entries(bp):
        c.reference(path, name, CERTIFICATES.entries(bp), "certificate")
    elif dns.zone(bp) is None:
        c.error(path, "certificates by name need `dns`", "add `dns:` or give an ARN")


CERTIFICATES: Kind[Certificate] = Kind(
    section="certificates",
    model=Certificate,
    description="ACM certificates in the blueprint's region (for load balancers).",
    prefix="certificate",
    plan=plan,
    attributes=attributes,
    checks=(check,),
    order=44,
)
KIND = CERTIFICATES
