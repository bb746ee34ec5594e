"""The search domain kind: OpenSearch Service domains in the VPC, one stack `search-<name>` each.

Node-to-node encryption, encryption at rest, HTTPS only with a TLS 1.2 policy, application logs
to CloudWatch Logs, data nodes spread over the network's AZs (zone awareness) when there are
several. Consumers take `<name>.url` (`https://vpc-...`) or `<name>.endpoint`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from troposphere import GetAtt, Select, Split, Sub, iam, logs, opensearchservice

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.data import SearchDomain
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import log_group, waive
from cfngen.kinds import network, security
from cfngen.kinds.base import Attribute, Derived, Facts, Kind, Target, closed_groups
from cfngen.stacks import Output

ENDPOINT = "Endpoint"
URL = "Url"
DOMAIN_ARN = "DomainArn"
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"


def component(name: str) -> str:
    return SEARCH_DOMAINS.key(name)


def zones(bp: Blueprint, domain: SearchDomain) -> int:
    """How many AZs the data nodes spread over (1 = no zone awareness)."""
    return min(domain.instance_count, network.of(bp).availability_zones, 3)


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    return [
        StackPlan(
            component=component(name),
            title=f"OpenSearch domain {name}",
            build=build,
            spec=(name, domain, zones(bp, domain)),
            depends_on=(network.COMPONENT, security.group_stack(facts, component(name))),
            source=("search_domains", name),
        )
        for name, domain in SEARCH_DOMAINS.entries(bp).items()
    ]


def groups(bp: Blueprint, facts: Facts) -> Derived:
    return closed_groups(SEARCH_DOMAINS, bp, lambda name, _: f"OpenSearch domain {name}")


def targets(bp: Blueprint) -> list[Target]:
    return [
        Target(name, "search domain", component(name), (443,), ("search_domains", name))
        for name in SEARCH_DOMAINS.entries(bp)
    ]


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name in SEARCH_DOMAINS.entries(bp):
        c = component(name)
        out[name] = {
            "url": Attribute(Output(c, URL), "value", "https:// URL of the domain endpoint"),
            "endpoint": Attribute(Output(c, ENDPOINT), "value", "Host name of the domain"),
            "arn": Attribute(Output(c, DOMAIN_ARN), "value", "Domain ARN (for IAM policies)"),
        }
    return out


def build(spec: tuple[str, SearchDomain, int], ctx: Context) -> None:
    name, domain, az_count = spec
    group = security.group_id(ctx, component(name))
    private = ctx.import_value(network.COMPONENT, network.PRIVATE_SUBNETS)
    subnets = [Select(i, Split(",", private)) for i in range(az_count)]

    app_logs = ctx.add(log_group("ApplicationLogGroup", domain.log_retention_days))
    ctx.add(
        logs.ResourcePolicy(
            "LogsResourcePolicy",
            PolicyName=Sub(f"${{EnvironmentName}}-{name}-opensearch-logs"),
            PolicyDocument=Sub(
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "es.amazonaws.com"},
                                "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                                "Resource": "${ApplicationLogGroup.Arn}",
                                "Condition": {
                                    "StringEquals": {"aws:SourceAccount": "${AWS::AccountId}"}
                                },
                            }
                        ],
                    },
                    sort_keys=True,
                )
            ),
        )
    )

    cluster: dict[str, Any] = {
        "InstanceType": domain.instance_type,
        "InstanceCount": domain.instance_count,
        "ZoneAwarenessEnabled": az_count > 1,
    }
    if az_count > 1:
        cluster["ZoneAwarenessConfig"] = opensearchservice.ZoneAwarenessConfig(
            AvailabilityZoneCount=az_count
        )
    principal: Any = (
        {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")}
        if domain.access == "account"
        else {"AWS": "*"}
    )
    encryption: dict[str, Any] = {"Enabled": True}
    waivers: dict[str, str] = {}  # the builder's own; blueprint waivers: cfngen.waivers
    if domain.kms_key_arn:
        encryption["KmsKeyId"] = domain.kms_key_arn
    waivers["CKV_AWS_317"] = (
        "Audit logs need fine-grained access control, which is off: access is limited by the "
        f"security group ({component(name)}) and the IAM access policy; application logs are on"
    )
    depends = ["LogsResourcePolicy"]
    if domain.service_linked_role:
        ctx.add(
            iam.ServiceLinkedRole(
                "ServiceLinkedRole",
                DeletionPolicy="Retain",  # shared by every domain of the account
                UpdateReplacePolicy="Retain",
                AWSServiceName="opensearchservice.amazonaws.com",
                Description="Lets OpenSearch Service manage VPC domains' network interfaces",
            )
        )
        depends.append("ServiceLinkedRole")
    res = ctx.add(
        waive(
            opensearchservice.Domain(
                "Domain",
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
                DependsOn=depends,
                EngineVersion=domain.engine_version,
                ClusterConfig=opensearchservice.ClusterConfig(**cluster),
                EBSOptions=opensearchservice.EBSOptions(
                    EBSEnabled=True, VolumeType="gp3", VolumeSize=domain.volume_gb
                ),
                EncryptionAtRestOptions=opensearchservice.EncryptionAtRestOptions(**encryption),
                NodeToNodeEncryptionOptions=opensearchservice.NodeToNodeEncryptionOptions(
                    Enabled=True
                ),
                DomainEndpointOptions=opensearchservice.DomainEndpointOptions(
                    EnforceHTTPS=True, TLSSecurityPolicy=TLS_POLICY
                ),
                VPCOptions=opensearchservice.VPCOptions(
                    SubnetIds=subnets, SecurityGroupIds=[group]
                ),
                LogPublishingOptions={
                    "ES_APPLICATION_LOGS": opensearchservice.LogPublishingOption(
                        Enabled=True, CloudWatchLogsLogGroupArn=GetAtt(app_logs, "Arn")
                    )
                },
                AccessPolicies={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": principal,
                            "Action": "es:ESHttp*",
                            "Resource": Sub(
                                "arn:${AWS::Partition}:es:${AWS::Region}:${AWS::AccountId}:"
                                "domain/*/*"
                            ),
                        }
                    ],
                },
                SoftwareUpdateOptions=opensearchservice.SoftwareUpdateOptions(
                    AutoSoftwareUpdateEnabled=True
                ),
                Tags=ctx.name_tag(name),
            ),
            waivers,
        )
    )
    host = GetAtt(res, "DomainEndpoint")
    ctx.export(ENDPOINT, host, f"{name}: domain endpoint host name")
    ctx.export(URL, Sub("https://${Domain.DomainEndpoint}"), f"{name}: https:// URL")
    ctx.export(DOMAIN_ARN, GetAtt(res, "Arn"), f"{name}: domain ARN")


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    for name, domain in SEARCH_DOMAINS.entries(bp).items():
        z = zones(bp, domain)
        n = domain.instance_count
        if z > 1 and n % z:
            c.error(
                ("search_domains", name, "instance_count"),
                f"{domain.instance_count} data nodes do not spread evenly over {z} availability "
                "zones",
                f"use a multiple of {z}, e.g. {n + z - n % z}",
            )


SEARCH_DOMAINS: Kind[SearchDomain] = Kind(
    section="search_domains",
    model=SearchDomain,
    description="OpenSearch domains in the VPC, one stack each.",
    prefix="search",
    plan=plan,
    targets=targets,
    attributes=attributes,
    groups=groups,
    checks=(check,),
    order=42,
)
KIND = SEARCH_DOMAINS
