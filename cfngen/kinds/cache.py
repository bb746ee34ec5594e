"""The cache kind: ElastiCache Redis replication groups, one stack `cache-<name>` each.

Encryption at rest and in transit, an AUTH token generated into Secrets Manager (never typed by
anyone), Multi-AZ with automatic failover when the group has replicas, `Snapshot` policies.
Consumers take `<name>.url` (`rediss://host:port`) and `<name>.auth_secret_arn`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from troposphere import GetAtt, Ref, Split, Sub, elasticache, secretsmanager

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.data import Cache
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.kinds import network, security
from cfngen.kinds.base import Attribute, Derived, Facts, Kind, Target, closed_groups
from cfngen.stacks import Output

ENDPOINT = "Endpoint"
PORT = "Port"
URL = "Url"
AUTH_SECRET_ARN = "AuthSecretArn"
AUTH_URL_SECRET_ARN = "AuthUrlSecretArn"


def component(name: str) -> str:
    return CACHES.key(name)


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    return [
        StackPlan(
            component=component(name),
            title=f"ElastiCache Redis {name}",
            build=build,
            spec=(name, cache),
            depends_on=(network.COMPONENT, security.group_stack(facts, component(name))),
            source=("caches", name),
        )
        for name, cache in CACHES.entries(bp).items()
    ]


def groups(bp: Blueprint, facts: Facts) -> Derived:
    return closed_groups(CACHES, bp, lambda name, _: f"ElastiCache Redis {name}")


def targets(bp: Blueprint) -> list[Target]:
    return [
        Target(name, "cache", component(name), (cache.port,), ("caches", name))
        for name, cache in CACHES.entries(bp).items()
    ]


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name in CACHES.entries(bp):
        c = component(name)
        out[name] = {
            "url": Attribute(Output(c, URL), "value", "rediss://host:port of the primary"),
            "endpoint": Attribute(Output(c, ENDPOINT), "value", "Host name of the primary"),
            "port": Attribute(Output(c, PORT), "value", "Port"),
            "auth_secret_arn": Attribute(
                Output(c, AUTH_SECRET_ARN), "secret_arn", "Secret holding the Redis AUTH token"
            ),
            "auth_url_secret_arn": Attribute(
                Output(c, AUTH_URL_SECRET_ARN),
                "secret_arn",
                "Secret holding rediss://:<token>@<primary>:<port>, the URL with credentials",
            ),
        }
    return out


def build(spec: tuple[str, Cache], ctx: Context) -> None:
    name, cache = spec
    group = security.group_id(ctx, component(name))
    subnets = ctx.add(
        elasticache.SubnetGroup(
            "SubnetGroup",
            Description=Sub(f"${{EnvironmentName}} {name}: private subnets"),
            SubnetIds=Split(",", ctx.import_value(network.COMPONENT, network.PRIVATE_SUBNETS)),
            Tags=ctx.name_tag(name),
        )
    )
    token = ctx.add(
        waive(
            secretsmanager.Secret(
                "AuthToken",
                DeletionPolicy="Delete",
                UpdateReplacePolicy="Delete",
                Name=ctx.name(f"{name}/auth-token"),
                Description=Sub(f"${{EnvironmentName}} {name}: Redis AUTH token"),
                GenerateSecretString=secretsmanager.GenerateSecretString(
                    PasswordLength=64, ExcludePunctuation=True
                ),
                Tags=ctx.name_tag(name),
            ),
            {
                "CKV_AWS_149": "Encrypted with the AWS-managed Secrets Manager key; the token "
                "only matters together with network access through the cache's security group",
            },
        )
    )
    props: dict[str, Any] = {
        "ReplicationGroupDescription": Sub(f"${{EnvironmentName}} {name}"),
        "Engine": "redis",
        "EngineVersion": cache.engine_version,
        "CacheNodeType": cache.node_type,
        "NumCacheClusters": 1 + cache.replicas,
        "AutomaticFailoverEnabled": cache.multi_az,
        "MultiAZEnabled": cache.multi_az,
        "AtRestEncryptionEnabled": True,
        "TransitEncryptionEnabled": True,
        "AuthToken": Sub("{{resolve:secretsmanager:${AuthToken}:SecretString}}"),
        "CacheSubnetGroupName": Ref(subnets),
        "SecurityGroupIds": [group],
        "Port": cache.port,
        "SnapshotRetentionLimit": cache.snapshot_retention_days,
        "AutoMinorVersionUpgrade": True,
        "Tags": ctx.name_tag(name),
    }
    if cache.kms_key_arn:
        props["KmsKeyId"] = cache.kms_key_arn
    if cache.snapshot_window:
        props["SnapshotWindow"] = cache.snapshot_window
    if cache.maintenance_window:
        props["PreferredMaintenanceWindow"] = cache.maintenance_window
    group_res = ctx.add(
        elasticache.ReplicationGroup(
            "ReplicationGroup",
            DeletionPolicy="Snapshot",
            UpdateReplacePolicy="Snapshot",
            **props,
        )
    )
    host = GetAtt(group_res, "PrimaryEndPoint.Address")
    port = GetAtt(group_res, "PrimaryEndPoint.Port")
    ctx.export(ENDPOINT, host, f"{name}: primary endpoint host name")
    ctx.export(PORT, port, f"{name}: port")
    ctx.export(
        URL,
        Sub(
            "rediss://${ReplicationGroup.PrimaryEndPoint.Address}:"
            "${ReplicationGroup.PrimaryEndPoint.Port}"
        ),
        f"{name}: rediss:// URL (TLS)",
    )
    ctx.export(AUTH_SECRET_ARN, Ref(token), f"{name}: ARN of the AUTH token secret")
    # The URL with the token, for clients that read one REDIS_URL: composed by CloudFormation
    # when the stack deploys (the token is cfngen's own and not rotated, so it cannot go stale)
    # and stored as a secret, so the token never appears in a template or task definition.
    auth_url = ctx.add(
        waive(
            secretsmanager.Secret(
                "AuthUrl",
                DeletionPolicy="Delete",
                UpdateReplacePolicy="Delete",
                Name=ctx.name(f"{name}/auth-url"),
                Description=Sub(f"${{EnvironmentName}} {name}: rediss:// URL with the AUTH token"),
                SecretString=Sub(
                    "rediss://:{{resolve:secretsmanager:${AuthToken}:SecretString}}@"
                    "${ReplicationGroup.PrimaryEndPoint.Address}:"
                    "${ReplicationGroup.PrimaryEndPoint.Port}"
                ),
                Tags=ctx.name_tag(name),
            ),
            {
                "CKV_AWS_149": "Encrypted with the AWS-managed Secrets Manager key, like the "
                "AUTH token it contains",
            },
        )
    )
    ctx.export(
        AUTH_URL_SECRET_ARN, Ref(auth_url), f"{name}: ARN of the secret holding the URL with AUTH"
    )


CACHES: Kind[Cache] = Kind(
    section="caches",
    model=Cache,
    description="ElastiCache Redis replication groups, one stack each.",
    prefix="cache",
    plan=plan,
    targets=targets,
    attributes=attributes,
    groups=groups,
    order=41,
)
KIND = CACHES
