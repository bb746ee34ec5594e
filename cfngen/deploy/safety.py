"""What a deploy must never do silently: replace or delete data, break importers, touch strangers.

The stateful list follows cfn-lint's I3011 (resources that hold data and need explicit
DeletionPolicy/UpdateReplacePolicy) plus the ones docs/deploying.md lists under Safety. A change
that replaces or removes one of these is refused unless the user passes --allow-replace; the
refusal names the resource and the flag.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from cfngen.deploy.aws import aws_failure, error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

    from cfngen.deploy.diff import ResourceChange, StackPlan

STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::RDS::GlobalCluster",
        "AWS::DocDB::DBCluster",
        "AWS::DocDB::DBInstance",
        "AWS::Neptune::DBCluster",
        "AWS::EFS::FileSystem",
        "AWS::FSx::FileSystem",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::ServerlessCache",
        "AWS::MemoryDB::Cluster",
        "AWS::OpenSearchService::Domain",
        "AWS::Elasticsearch::Domain",
        "AWS::S3::Bucket",
        "AWS::SecretsManager::Secret",
        "AWS::Logs::LogGroup",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::KMS::Key",
        "AWS::EC2::Volume",
        "AWS::ECR::Repository",
        "AWS::Kinesis::Stream",
        "AWS::SQS::Queue",
        "AWS::Cognito::UserPool",
        "AWS::Backup::BackupVault",
        "AWS::Redshift::Cluster",
        "AWS::QLDB::Ledger",
        "AWS::Timestream::Table",
    }
)


def is_stateful(resource_type: str) -> bool:
    return resource_type in STATEFUL_TYPES


def data_loss(change: ResourceChange) -> str | None:
    """Why this change can lose data, or None when it cannot."""
    if not change.stateful:
        return None
    if change.action == "Remove" and not change.retained:
        return "would be deleted"
    if change.action == "Modify" and change.replacement == "True":
        return "would be replaced (a new, empty resource)"
    if change.action == "Modify" and change.replacement == "Conditional":
        return "may be replaced (a new, empty resource), depending on values known at deploy"
    return None


def refusals(
    plan: StackPlan,
    *,
    allow_replace: bool,
    orphans: Collection[str] = (),
    impossible: Mapping[str, str] | None = None,
    explained: Collection[str] = (),
    moved: Mapping[str, str] | None = None,
) -> list[str]:
    """Reasons to refuse executing this stack's change set (empty list: go ahead).

    `orphans`: importers that are stacks of components removed from the blueprint.
    `impossible`: replacements that cannot succeed (logical id -> why, cfngen.deploy.replacement),
    refused even with --allow-replace; `explained`: the exports those reasons already cover.
    `moved`: removed exports whose output another stack of the environment now exports (export
    -> that stack): an entry of a split shared stack that changed shard.
    """
    reasons: list[str] = []
    cannot = impossible or {}
    for change in plan.resources:
        if change.logical_id in cannot:
            reasons.append(cannot[change.logical_id])
            continue
        why = data_loss(change)
        if why and not allow_replace:
            reasons.append(
                f"{change.logical_id} ({change.resource_type}) {why}; "
                "re-run with --allow-replace if that is intended"
            )
    for export, importers in sorted(plan.blocked_exports.items()):
        if export in explained:
            continue
        if moved and export in moved:
            reasons.append(
                f"export {export} moved to {moved[export]}, which {', '.join(importers)} now "
                "import instead: an entry was inserted or removed before it in its blueprint "
                "section, so it changed shard. CloudFormation keeps an export in use, and the "
                f"order that works ({moved[export]}, then {', '.join(importers)}, then this "
                "stack) is against the dependency graph. Keep the section's order (add entries "
                "at its end) and render again; see docs/blueprint.md, Large environments"
            )
            continue
        gone = [i for i in importers if i in orphans]
        live = [i for i in importers if i not in orphans]
        steps = []
        if gone:
            steps.append(
                f"{', '.join(gone)} is no longer in the blueprint: `cfngen deploy --prune` "
                "deletes it before this stack is updated"
            )
        if live:
            steps.append(
                f"deploy {', '.join(live)} without the import first (or destroy them), then "
                "deploy this one"
            )
        reasons.append(
            f"export {export} would be removed or changed but is imported by "
            f"{', '.join(importers)}; " + "; ".join(steps)
        )
    return reasons


def importers(cfn: CloudFormationClient, export_name: str) -> list[str]:
    """Stacks that import `export_name` (ListImports), across the whole account and region.

    AWS answers a ValidationError "Export 'X' is not imported by any stack." for none.
    """
    names: list[str] = []
    token: str | None = None
    while True:
        try:
            if token:
                page = cfn.list_imports(ExportName=export_name, NextToken=token)
            else:
                page = cfn.list_imports(ExportName=export_name)
        except ClientError as err:
            if error_code(err) == "ValidationError" and "not imported" in error_message(err):
                return names
            raise aws_failure(f"ListImports {export_name} failed", err) from err
        names.extend(page.get("Imports", []))
        token = page.get("NextToken")
        if not token:
            return sorted(set(names))
