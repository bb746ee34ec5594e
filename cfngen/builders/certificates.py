"""ACM certificates validated by DNS: the certificate kind's (regional, for load balancers) and
the site kind's (us-east-1, for CloudFront) are made the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from troposphere import certificatemanager

from cfngen.builders.base import Context


def dns_validated(ctx: Context, names: Sequence[str], zone_id: Any, tag: str) -> Any:
    """An ACM certificate for `names` (the first is the domain), validated by DNS records that
    CloudFormation creates in the zone itself."""
    main, *others = names
    props: dict[str, Any] = {
        "DomainName": main,
        "ValidationMethod": "DNS",
        "DomainValidationOptions": [
            certificatemanager.DomainValidationOption(DomainName=n, HostedZoneId=zone_id)
            for n in names
        ],
        "Tags": ctx.name_tag(tag),
    }
    if others:
        props["SubjectAlternativeNames"] = others
    return ctx.add(certificatemanager.Certificate("Certificate", **props))
