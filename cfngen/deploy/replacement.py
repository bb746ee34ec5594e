"""Why a replacement cannot happen, and what would make it possible.

Two things make a replacement fail whatever the user allows:

- a custom name that stays the same. CloudFormation creates the new resource before deleting
  the old one, and two resources cannot share a name, so it stops with "CloudFormation cannot
  update a stack when a custom-named resource requires replacing". The fix is a new name, or no
  name (CloudFormation then generates one).
- an export in use. A replaced resource has a new ID or ARN, so every output referring to it
  changes value, and CloudFormation refuses to change an export another stack imports. The
  order that works: deploy the importers without the import, then this stack, then the
  importers with the import again.

Both are refused even with --allow-replace, which is only suggested where it would work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cfngen.deploy import template as tpl
from cfngen.deploy.diff import ResourceChange

#: The property holding a resource's user-chosen, unique name (the types cfngen generates
#: plus the stateful types deploy guards).
NAME_PROPERTIES: dict[str, str] = {
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::DocDB::DBCluster": "DBClusterIdentifier",
    "AWS::DocDB::DBInstance": "DBInstanceIdentifier",
    "AWS::Neptune::DBCluster": "DBClusterIdentifier",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Kinesis::Stream": "Name",
    "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
    "AWS::ElastiCache::CacheCluster": "ClusterName",
    "AWS::ElastiCache::ServerlessCache": "ServerlessCacheName",
    "AWS::MemoryDB::Cluster": "ClusterName",
    "AWS::OpenSearchService::Domain": "DomainName",
    "AWS::Elasticsearch::Domain": "DomainName",
    "AWS::Redshift::Cluster": "ClusterIdentifier",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::KMS::Alias": "AliasName",
}


def _replaced(change: ResourceChange) -> bool:
    return change.action == "Modify" and change.replacement in ("True", "Conditional")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else json.dumps(sub, sort_keys=True)
    return json.dumps(value, sort_keys=True, default=str)


def custom_name(change: ResourceChange, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """Why replacing this resource is impossible because of its unchanged custom name."""
    prop = NAME_PROPERTIES.get(change.resource_type)
    if prop is None or not _replaced(change):
        return None
    before = (tpl.resources(old).get(change.logical_id, {}).get("Properties") or {}).get(prop)
    after = (tpl.resources(new).get(change.logical_id, {}).get("Properties") or {}).get(prop)
    if after is None or before != after:
        return None
    return (
        f"{change.logical_id} ({change.resource_type}) must be replaced, but its custom name "
        f"{prop} stays {_show(after)!r}: CloudFormation cannot replace a custom-named resource "
        f"(the new one is created before the old one is deleted), so --allow-replace cannot "
        f"help. Give it a new {prop}, or remove {prop} so CloudFormation generates one"
    )


def blocking_exports(
    change: ResourceChange,
    new: dict[str, Any],
    exports: Mapping[str, str],
    blocked: Mapping[str, list[str]],
) -> dict[str, list[str]]:
    """Exports in use whose value changes because this resource is replaced (export -> users).

    `exports` maps deployed export names to output keys; `blocked` is plan.blocked_exports.
    """
    if not (_replaced(change) or change.action == "Remove"):
        return {}
    outputs = tpl.outputs(new)
    found: dict[str, list[str]] = {}
    for export, key in exports.items():
        value = (outputs.get(key) or {}).get("Value")
        if export in blocked and change.logical_id in tpl.references(value):
            found[export] = blocked[export]
    return found


def export_in_use(change: ResourceChange, stack: str, blocked: dict[str, list[str]]) -> str:
    users = sorted({u for names in blocked.values() for u in names})
    who = ", ".join(users)
    return (
        f"{change.logical_id} ({change.resource_type}) would be replaced, which changes "
        f"export {', '.join(sorted(blocked))} that {who} import; CloudFormation refuses to "
        "change an export in use, so --allow-replace cannot help. The order that works: "
        f"deploy {who} without the import, then {stack}, then {who} with the import again"
    )


def impossible(
    changes: list[ResourceChange],
    stack: str,
    old: dict[str, Any],
    new: dict[str, Any],
    exports: Mapping[str, str],
    blocked: Mapping[str, list[str]],
) -> tuple[dict[str, str], set[str]]:
    """Replacements that cannot succeed: logical id -> explanation, and the exports explained."""
    reasons: dict[str, str] = {}
    explained: set[str] = set()
    for change in changes:
        why = custom_name(change, old, new)
        if why:
            reasons[change.logical_id] = why
            continue
        in_use = blocking_exports(change, new, exports, blocked)
        if in_use and change.action != "Remove":
            reasons[change.logical_id] = export_in_use(change, stack, in_use)
            explained |= set(in_use)
    return reasons, explained
