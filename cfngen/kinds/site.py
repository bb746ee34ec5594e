"""The site kind: static sites, a private S3 bucket served by CloudFront through origin access
control.

One stack `site-<name>` (in the blueprint's region) holds the bucket, its policy and the
distribution. A site with a `domain` also gets `site-<name>-certificate`, deployed to us-east-1
because CloudFront only takes certificates from there. Exports cannot cross regions, so the
distribution reads the certificate ARN with `Fn::GetStackOutput` (a weak reference CloudFormation
resolves at deploy time, with the region given); the certificate stack comes first in the
deploy order because the site stack depends on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from awacs import s3 as awacs_s3
from awacs.aws import (
    Allow,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from msgspec import Struct
from troposphere import GetAtt, Ref, Sub, cloudfront, s3

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.edge import Site
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.certificates import dns_validated
from cfngen.builders.common import waive
from cfngen.builders.hardened import bucket_properties, deny_insecure_transport
from cfngen.kinds.base import AliasRecordRequest, Attribute, Facts, Kind, PhysicalName
from cfngen.stacks import GetStackOutput, Output, stack_name

if TYPE_CHECKING:  # the load balancer kind loads only for blueprints that have one
    from cfngen.blueprint.models.load_balancers import LoadBalancer

CLOUDFRONT_REGION = "us-east-1"
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"  # the hosted zone of every CloudFront alias target

DOMAIN_NAME = "DistributionDomainName"
DISTRIBUTION_ID = "DistributionId"
BUCKET_NAME = "BucketName"
BUCKET_ARN = "BucketArn"
HOSTED_ZONE_ID = "HostedZoneId"
CERTIFICATE_ARN = "CertificateArn"

# AWS-managed CloudFront policies (stable IDs documented by AWS).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"


def component(name: str) -> str:
    return SITES.key(name)


def certificate_component(name: str) -> str:
    return f"site-{name}-certificate"


class SiteSpec(Struct, frozen=True):
    name: str
    site: Site
    zone_id: Any
    origins: tuple[tuple[str, str, str], ...]  # (path, load balancer, origin domain)


class CertificateSpec(Struct, frozen=True):
    names: tuple[str, ...]
    zone_id: Any


def origin_domain(facts: Facts, load_balancer: str, given: str | None) -> str | None:
    """The host CloudFront uses for a load balancer: given, or a dns record pointing at it."""
    if given:
        return given
    named = sorted(r.fqdn for r in facts.records if r.target == load_balancer)
    return named[0] if named else None


def records(bp: Blueprint) -> list[AliasRecordRequest]:
    """A site's domain and aliases point at its distribution (A and AAAA)."""
    out: list[AliasRecordRequest] = []
    for name, site in SITES.entries(bp).items():
        for i, fqdn in enumerate(site.names):
            where: Path_ = (
                ("sites", name, "domain") if i == 0 else ("sites", name, "aliases", i - 1)
            )
            out.append(AliasRecordRequest(fqdn, name, where, ipv6=True))
    return out


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    plans: list[StackPlan[Any]] = []
    zone_id = None
    if any(site.domain for site in SITES.entries(bp).values()):
        from cfngen.kinds import dns  # a custom domain: the blueprint has `dns` (checked)

        zone = dns.zone(bp)
        zone_id = zone.zone_id if zone else None
    for name, site in SITES.entries(bp).items():
        deps: tuple[str, ...] = ()
        if site.domain and zone_id:
            plans.append(
                StackPlan(
                    component=certificate_component(name),
                    title=f"CloudFront certificate for site {name} (us-east-1)",
                    build=build_certificate,
                    spec=CertificateSpec(tuple(site.names), zone_id),
                    source=("sites", name, "domain"),
                    region=CLOUDFRONT_REGION,
                )
            )
            deps = (certificate_component(name),)
        origins = tuple(
            (b.path, b.load_balancer, origin_domain(facts, b.load_balancer, b.origin_domain) or "")
            for b in site.behaviours
        )
        plans.append(
            StackPlan(
                component=component(name),
                title=f"Static site {name}: S3 bucket and CloudFront distribution",
                build=build,
                spec=SiteSpec(name, site, zone_id, origins),
                depends_on=deps,
                source=("sites", name),
                dependency_sources={d: ("sites", name, "domain") for d in deps},
            )
        )
    return plans


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name in SITES.entries(bp):
        c = component(name)
        out[name] = {
            "dns_name": Attribute(Output(c, DOMAIN_NAME), "value", "Distribution domain name"),
            "hosted_zone_id": Attribute(
                Output(c, HOSTED_ZONE_ID), "value", "Hosted zone of the distribution (aliases)"
            ),
            "distribution_id": Attribute(Output(c, DISTRIBUTION_ID), "value", "Distribution ID"),
            "bucket_name": Attribute(Output(c, BUCKET_NAME), "value", "Content bucket name"),
            "bucket_arn": Attribute(Output(c, BUCKET_ARN), "value", "Content bucket ARN"),
        }
    return out


def build_certificate(spec: CertificateSpec, ctx: Context) -> None:
    cert = dns_validated(ctx, spec.names, spec.zone_id, "site-certificate")
    # Read by the site stack with Fn::GetStackOutput (cross-region); no export needed.
    ctx.output(CERTIFICATE_ARN, Ref(cert), "ACM certificate (us-east-1) for the distribution")


def _bucket_policy(bucket: s3.Bucket, distribution: cloudfront.Distribution) -> PolicyDocument:
    arn = GetAtt(bucket, "Arn")
    objects = Sub("${Bucket.Arn}/*")
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            deny_insecure_transport("s3", [arn, objects]),
            Statement(
                Sid="CloudFrontReadsThroughOriginAccessControl",
                Effect=Allow,
                Principal=Principal("Service", "cloudfront.amazonaws.com"),
                Action=[awacs_s3.GetObject],
                Resource=[objects],
                Condition=Condition(
                    StringEquals(
                        "AWS:SourceArn",
                        Sub(
                            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:"
                            f"distribution/${{{distribution.title}}}"
                        ),
                    )
                ),
            ),
        ],
    )


def build(spec: SiteSpec, ctx: Context) -> None:
    name, site = spec.name, spec.site
    bucket = ctx.add(
        waive(
            s3.Bucket(
                "Bucket",
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
                **bucket_properties(ctx.name_tag(f"site-{name}")),
                VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
                LifecycleConfiguration=s3.LifecycleConfiguration(
                    Rules=[
                        s3.LifecycleRule(
                            Id="expire-old-versions",
                            Status="Enabled",
                            NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                                NoncurrentDays=30
                            ),
                            AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                                DaysAfterInitiation=7
                            ),
                        )
                    ]
                ),
            ),
            {
                "CKV_AWS_18": "Site content is published by the pipeline and read only by "
                "CloudFront; requests are visible in CloudFront metrics",
            },
        )
    )
    oac = ctx.add(
        cloudfront.OriginAccessControl(
            "OriginAccessControl",
            OriginAccessControlConfig=cloudfront.OriginAccessControlConfig(
                Name=Sub(f"${{EnvironmentName}}-{name}"),
                Description=Sub(f"${{EnvironmentName}} site {name}: CloudFront reads the bucket"),
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )
    origins = [
        cloudfront.Origin(
            Id="site-bucket",
            DomainName=GetAtt(bucket, "RegionalDomainName"),
            S3OriginConfig=cloudfront.S3OriginConfig(OriginAccessIdentity=""),
            OriginAccessControlId=GetAtt(oac, "Id"),
        )
    ]
    behaviours = []
    for path, lb, domain in spec.origins:
        origin_id = f"load-balancer-{lb}"
        if origin_id not in {o.Id for o in origins}:
            origins.append(
                cloudfront.Origin(
                    Id=origin_id,
                    DomainName=domain,
                    CustomOriginConfig=cloudfront.CustomOriginConfig(
                        OriginProtocolPolicy="https-only",
                        OriginSSLProtocols=["TLSv1.2"],
                        HTTPSPort=443,
                    ),
                )
            )
        behaviours.append(
            cloudfront.CacheBehavior(
                PathPattern=path,
                TargetOriginId=origin_id,
                ViewerProtocolPolicy="redirect-to-https",
                AllowedMethods=["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                CachedMethods=["GET", "HEAD"],
                CachePolicyId=CACHING_DISABLED,
                OriginRequestPolicyId=ALL_VIEWER_EXCEPT_HOST,
                ResponseHeadersPolicyId=SECURITY_HEADERS,
                Compress=True,
            )
        )
    config: dict[str, Any] = {
        "Enabled": True,
        "Comment": Sub(f"${{EnvironmentName}} site {name}"),
        "DefaultRootObject": site.default_root_object,
        "HttpVersion": "http2and3",
        "IPV6Enabled": True,
        "PriceClass": site.price_class,
        "Origins": origins,
        "DefaultCacheBehavior": cloudfront.DefaultCacheBehavior(
            TargetOriginId="site-bucket",
            ViewerProtocolPolicy="redirect-to-https",
            AllowedMethods=["GET", "HEAD"],
            CachedMethods=["GET", "HEAD"],
            CachePolicyId=CACHING_OPTIMIZED,
            ResponseHeadersPolicyId=SECURITY_HEADERS,
            Compress=True,
        ),
    }
    if behaviours:
        config["CacheBehaviors"] = behaviours
    if site.spa:
        config["CustomErrorResponses"] = [
            cloudfront.CustomErrorResponse(
                ErrorCode=code,
                ResponseCode=200,
                ResponsePagePath=f"/{site.default_root_object}",
                ErrorCachingMinTTL=10,
            )
            for code in (403, 404)
        ]
    waivers: dict[str, str] = {}  # the builder's own; blueprint waivers: cfngen.waivers
    if site.domain and spec.zone_id:
        config["Aliases"] = site.names
        config["ViewerCertificate"] = cloudfront.ViewerCertificate(
            AcmCertificateArn=GetStackOutput(
                stack_name(ctx.env_name, certificate_component(name)),
                CERTIFICATE_ARN,
                CLOUDFRONT_REGION,
            ),
            SslSupportMethod="sni-only",
            MinimumProtocolVersion="TLSv1.2_2021",
        )
    else:
        config["ViewerCertificate"] = cloudfront.ViewerCertificate(
            CloudFrontDefaultCertificate=True
        )
        waivers["CKV_AWS_174"] = (
            "No custom domain: the default *.cloudfront.net certificate does not take a "
            "minimum protocol version (set sites.<name>.domain for TLS 1.2+ only)"
        )
    if site.web_acl_arn:
        config["WebACLId"] = site.web_acl_arn
    else:
        waivers["CKV_AWS_68"] = (
            "No WAF by the blueprint's choice (sites.<name>.web_acl_arn unset): static content"
        )
    waivers["CKV_AWS_86"] = (
        "Standard logging needs an ACL-enabled log bucket, which the S3 baseline forbids; "
        "CloudFront metrics cover the site"
    )
    distribution = ctx.add(
        waive(
            cloudfront.Distribution(
                "Distribution",
                DistributionConfig=cloudfront.DistributionConfig(**config),
                Tags=ctx.name_tag(f"site-{name}"),
            ),
            waivers,
        )
    )
    ctx.add(
        s3.BucketPolicy(
            "BucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=_bucket_policy(bucket, distribution),
        )
    )
    ctx.export(DOMAIN_NAME, GetAtt(distribution, "DomainName"), f"{name}: distribution domain")
    ctx.export(HOSTED_ZONE_ID, CLOUDFRONT_ZONE_ID, f"{name}: hosted zone of CloudFront aliases")
    ctx.export(DISTRIBUTION_ID, Ref(distribution), f"{name}: distribution ID")
    ctx.export(BUCKET_NAME, Ref(bucket), f"{name}: content bucket")
    ctx.export(BUCKET_ARN, GetAtt(bucket, "Arn"), f"{name}: content bucket ARN")


def _check_domain(
    bp: Blueprint, c: Checker, base: Path_, domain: str, aliases: Sequence[str]
) -> None:
    """A custom domain and its aliases lie in the blueprint's hosted zone."""
    from cfngen.kinds import dns  # a custom domain needs `dns` (the kind is used, or an error)

    if dns.check_needs_zone(bp, c, (*base, "domain"), "a site with a custom domain"):
        dns.check_in_zone(bp, c, (*base, "domain"), domain)
        for i, alias in enumerate(aliases):
            dns.check_in_zone(bp, c, (*base, "aliases", i), alias)


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    load_balancers: dict[str, LoadBalancer] = bp.load_balancers
    for name, site in SITES.entries(bp).items():
        base: Path_ = ("sites", name)
        if site.domain:
            _check_domain(bp, c, base, site.domain, site.aliases)
        for i, b in enumerate(site.behaviours):
            path: Path_ = (*base, "behaviours", i, "load_balancer")
            if b.load_balancer not in load_balancers:
                c.reference(path, b.load_balancer, load_balancers, "load balancer")
                continue
            if load_balancers[b.load_balancer].type != "application":
                c.error(path, f"'{b.load_balancer}' is a network load balancer", "use an ALB")
            elif origin_domain(facts, b.load_balancer, b.origin_domain) is None:
                c.error(
                    path,
                    f"CloudFront needs a host name for load balancer '{b.load_balancer}' that "
                    "its certificate covers",
                    f"add a dns record `api.example.com: {{target: {b.load_balancer}}}` or set "
                    "origin_domain",
                )


SITES: Kind[Site] = Kind(
    section="sites",
    model=Site,
    description="Static sites: S3 + CloudFront, one stack each.",
    prefix="site",
    plan=plan,
    attributes=attributes,
    records=records,
    checks=(check,),
    physical_names=(PhysicalName("CloudFront origin access control name", 64),),
    order=43,
)
KIND = SITES
