"""The edge: static sites on S3 + CloudFront, Route 53 records, ACM certificates.

CloudFront only accepts certificates from us-east-1. A site with a `domain` therefore gets a
second, small stack (`site-<name>-certificate`) that cfngen deploys to us-east-1; the
distribution reads its ARN with `Fn::GetStackOutput` (see docs/data-edge-ops.md).
"""

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Name, Waiver, fail
from cfngen.blueprint.models.data import matching

_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _check_domain(value: str) -> str:
    if value != value.lower():
        raise fail(f"domain '{value}' has upper-case letters", f"write '{value.lower()}'")
    if value.endswith("."):
        raise fail(f"domain '{value}' ends with a dot", f"write '{value.rstrip('.')}'")
    if len(value) > 253 or not _DOMAIN.match(value):
        raise fail(f"invalid domain name '{value}'", "e.g. www.example.com")
    return value


Domain = Annotated[str, AfterValidator(_check_domain)]
"""A lower-case DNS name without the trailing dot (a leading `*.` is allowed)."""


def in_zone(domain: str, zone: str) -> bool:
    return domain == zone or domain.endswith("." + zone)


class Behaviour(Model):
    """A path pattern the distribution sends to a load balancer instead of the bucket."""

    path: Annotated[str, matching(r"^/[A-Za-z0-9_\-./*?]*$", "path pattern", "/api/*")] = Field(
        max_length=255,
        description="Path pattern, e.g. /api/*.",
    )
    load_balancer: Name = Field(description="Load balancer (in `load_balancers`) to send it to.")
    origin_domain: Domain | None = Field(
        None,
        description="Host name CloudFront connects to over HTTPS; it must match the load "
        "balancer's certificate (default: the `dns.records` name pointing at that load balancer).",
    )


class Site(Model):
    """A static web site: a private S3 bucket served by CloudFront through origin access control."""

    domain: Domain | None = Field(
        None,
        description="Custom domain (needs `dns`): an ACM certificate in us-east-1 and alias "
        "records "
        "are created for it.",
    )
    aliases: list[Domain] = Field(
        default_factory=list, description="More names for the same site (also in the certificate)."
    )
    default_root_object: Annotated[
        str, matching(r"^[A-Za-z0-9_\-.]+$", "object name", "index.html")
    ] = Field("index.html", description="Object served for `/`.")
    spa: bool = Field(
        False, description="Single-page app: serve the root object for 403/404 (client routing)."
    )
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        "PriceClass_100",
        description="CloudFront price class.",
    )
    behaviours: list[Behaviour] = Field(
        default_factory=list, description="Paths sent to a load balancer, e.g. /api/*."
    )
    web_acl_arn: (
        Annotated[
            str,
            matching(
                r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/",
                "CloudFront web ACL ARN",
                "arn:aws:wafv2:us-east-1:123456789012:global/webacl/<name>/<id>",
            ),
        ]
        | None
    ) = Field(
        None,
        description="A WAFv2 web ACL (scope CLOUDFRONT) to attach.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.aliases and self.domain is None:
            raise fail("`aliases` needs `domain`", "set the main name in `domain`")
        seen = set()
        for b in self.behaviours:
            if b.path in seen:
                raise fail(f"path '{b.path}' is listed twice in behaviours", "keep one")
            seen.add(b.path)
        return self

    @property
    def names(self) -> list[str]:
        return [self.domain, *self.aliases] if self.domain else []


class Record(Model):
    """An alias record (A, and AAAA for distributions) for a component."""

    target: Name = Field(description="A load balancer or site to point the name at.")


_NAME_SERVER = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$"


class Dns(Model):
    """The Route 53 hosted zone the blueprint's names live in, and alias records in it.

    In an environment: an existing zone (`zone` and `zone_id`), or neither to use the zone of
    the `shared` scope (same account). In the shared scope: `zone` alone creates the zone in
    the scope's stack `dns` (with `zone_id`, an existing one), and `delegations` hands subzones
    to environments in other accounts."""

    zone: Domain | None = Field(
        None,
        description="Hosted zone name, e.g. example.com (default: the shared scope's zone).",
    )
    zone_id: (
        Annotated[str, matching(r"^Z[A-Z0-9]{1,31}$", "hosted zone ID", "Z0123456789ABCDEFGHIJ")]
        | None
    ) = Field(
        None,
        description="Hosted zone ID (Route 53 console), used for records and certificate "
        "validation; required with `zone` in an environment. In the shared scope, leave it out "
        "to create the zone.",
    )
    records: dict[Domain, Record] = Field(
        default_factory=dict,
        description="Alias records by name, e.g. `api.example.com: {target: public}`; sites with "
        "a `domain` get theirs automatically.",
    )
    delegations: dict[
        Domain,
        Annotated[
            list[Annotated[str, matching(_NAME_SERVER, "name server", "ns-1.awsdns-01.org")]],
            Field(min_length=1, max_length=8),
        ],
    ] = Field(
        default_factory=dict,
        description="Shared scope only: subzones hosted elsewhere (an environment's own zone in "
        "its account), each with the name servers of its hosted zone, as NS records in this "
        "zone, e.g. `dev.example.com: [ns-1.awsdns-01.org, ...]`.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _zone(self) -> Self:
        if self.zone_id is not None and self.zone is None:
            raise fail("zone_id needs the zone's name", "add `zone: example.com`")
        for sub in self.delegations:
            if self.zone is not None and (sub == self.zone or not in_zone(sub, self.zone)):
                raise fail(
                    f"delegation {sub} is not a subzone of {self.zone}",
                    f"use a name ending in .{self.zone}",
                )
        return self


class Certificate(Model):
    """An ACM certificate in the blueprint's region, validated through `dns.zone` records.

    Load balancers take it by name; CloudFront certificates are made by sites themselves.
    """

    domain: Domain = Field(description="Main name, e.g. api.example.com.")
    alternative_names: list[Domain] = Field(
        default_factory=list, description="More names on the certificate."
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @property
    def names(self) -> list[str]:
        return [self.domain, *self.alternative_names]
