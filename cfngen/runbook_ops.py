"""The operations half of a rendered environment's runbook (DIR/ENV/README.md, cfngen.runbook):
what must exist before the first deploy, how each stateful resource is backed up and restored,
and how the services and hosts scale out. Read from the rendered templates only, so the runbook of a
rendered folder is the same as the one of its blueprint."""

from __future__ import annotations

from typing import Any

from cfngen.prerequisites import find
from cfngen.render import RenderedEnvironment


def _named(value: Any, env_name: str) -> str | None:
    """A physical name as the template writes it (`${EnvironmentName}-x` filled in)."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        value = value["Fn::Sub"]
    if isinstance(value, str) and "${" not in value.replace("${EnvironmentName}", ""):
        return value.replace("${EnvironmentName}", env_name)
    return None


def _output(stack: str, key: str, region: str) -> str:
    return (
        f"$(aws cloudformation describe-stacks --region {region} --stack-name {stack} --query "
        f"\"Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue\" --output text)"
    )


def before_first_deploy(env: RenderedEnvironment) -> list[str]:
    """Markdown lines: what must exist before the first deploy, with the commands that create
    it (empty when nothing must)."""
    needed = find(env)
    if not needed:
        return []
    lines = ["## Before the first deploy", "", "Create what the environment reads:", ""]
    lines += [f"- {p.kind} `{p.name}`: `{p.create(p.region or env.region)}`" for p in needed]
    return [*lines, ""]


def operations(env: RenderedEnvironment) -> list[str]:
    """Markdown lines: backup and restore, scale-out."""
    lines: list[str] = []
    backup: list[str] = []
    scale: list[str] = []
    for stack in env.stacks:
        region = stack.region or env.region
        resources = (stack.template.get("Resources") or {}).values()
        for res in resources:
            kind, props = res.get("Type"), res.get("Properties") or {}
            if kind == "AWS::RDS::DBInstance":
                db = _named(props.get("DBInstanceIdentifier"), env.environment_name)
                if db is None:
                    continue
                backup += [
                    f"- RDS instance `{db}` (stack {stack.name}): automated backups and "
                    "point-in-time recovery are on. Before a major change:",
                    f"  `aws rds create-db-snapshot --region {region} --db-instance-identifier {db}"
                    f" --db-snapshot-identifier {db}-manual-$(date +%Y%m%d%H%M)`.",
                    "  Restore into a new instance, check it, then move the data or the "
                    "application to it: "
                    f"`aws rds restore-db-instance-to-point-in-time --region {region} "
                    f"--source-db-instance-identifier {db} --target-db-instance-identifier "
                    f"{db}-restored --restore-time <UTC time>` (or "
                    "`restore-db-instance-from-db-snapshot` with a snapshot).",
                ]
            elif kind == "AWS::EFS::FileSystem":
                fs = _output(stack.name, "FileSystemId", region)
                backup += [
                    f"- EFS file system (stack {stack.name}): AWS Backup's daily plan keeps "
                    "recovery points; list them with `aws backup "
                    f"list-recovery-points-by-resource --region {region} --resource-arn "
                    f"arn:aws:elasticfilesystem:{region}:<account>:file-system/{fs}` and restore "
                    "one into a new directory with `aws backup start-restore-job`.",
                ]
            elif kind == "AWS::ElastiCache::ReplicationGroup":
                backup += [
                    f"- Redis (stack {stack.name}): daily snapshots; one now with `aws elasticache "
                    f"create-snapshot --region {region} --replication-group-id <group> "
                    "--snapshot-name <name>`; a restore creates a new group from the snapshot "
                    "(`aws elasticache create-replication-group --snapshot-name ...`).",
                ]
            elif kind == "AWS::S3::Bucket" and props.get("VersioningConfiguration"):
                backup += [
                    f"- S3 bucket (stack {stack.name}): versioned; an overwritten or deleted "
                    "object comes back by copying an earlier version: `aws s3api "
                    "list-object-versions "
                    "--bucket <bucket> --prefix <key>` then `aws s3api copy-object --bucket "
                    "<bucket> --key <key> --copy-source <bucket>/<key>?versionId=<id>`.",
                ]
            elif kind == "AWS::EC2::Volume":
                instance = _output(stack.name, "InstanceId", region)
                backup += [
                    f"- EBS data volume (stack {stack.name}): snapshot it "
                    f"with `aws ec2 create-snapshot --region {region} --volume-id <volume>`, the "
                    f"volume being `aws ec2 describe-volumes --region {region} --filters "
                    f"Name=attachment.instance-id,Values={instance} --query "
                    "\"Volumes[?Attachments[0].Device!='/dev/xvda'].VolumeId\" --output text`; "
                    "restore by creating a volume from the snapshot and swapping it in.",
                ]
            elif kind == "AWS::ECS::Service":
                name = _named(props.get("ServiceName"), env.environment_name)
                if name is not None:
                    scale.append(
                        f"- service `{name}`: now, `aws ecs update-service --region {region} "
                        f"--cluster {env.environment_name} --service {name} --desired-count <n>`"
                        "; for good, `desired_count` or `autoscaling.max` in the blueprint (a "
                        "deploy sets the count the template says)."
                    )
            elif kind == "AWS::EC2::Instance":
                scale.append(
                    f"- host (stack {stack.name}): a larger `instance_type` in the blueprint "
                    "and a deploy (the instance stops and starts; its data volume stays)."
                )
            elif kind == "AWS::AutoScaling::AutoScalingGroup":
                scale.append(
                    f"- EC2 capacity (stack {stack.name}): raise `cluster.ec2.max` (managed "
                    "scaling adds instances as tasks need them)."
                )
    if backup:
        lines += ["## Backup and restore", "", *backup, ""]
    if scale:
        lines += ["## Scale out", "", *scale, ""]
    return lines
