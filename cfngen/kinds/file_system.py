"""The file system kind: EFS file systems (`efs-<name>`), encrypted, with a mount target per AZ
and access points with a POSIX user, retained when the stack is deleted or the resource replaced.

Containers mount a file system through `volumes` (an access point and a path): the mount's grant
gives the task role ClientMount (and ClientWrite unless read-only) on the file system, limited to
that access point, and opens NFS (2049) from the task's group to the mount targets.

An `existing` file system is not created: its stack exports the given IDs and ARNs under the
same names (and holds the access points cfngen creates on it), and its mount targets' group is
the `security_groups` entry it names, so mounts work unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awacs.aws import Action as AwsAction
from awacs.aws import Allow, AWSPrincipal, Bool, Condition, Policy, Statement
from msgspec import Struct
from troposphere import GetAtt, Ref, Select, Split, Sub, Tags, cloudformation, efs

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.models.storage import FileSystem
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import existing_value, waive
from cfngen.builders.hardened import deny_insecure_transport
from cfngen.kinds import network, security
from cfngen.kinds.base import (
    Attribute,
    Derived,
    Facts,
    Grant,
    GrantFn,
    GrantProblem,
    GrantRequest,
    GrantResource,
    GrantStatement,
    Kind,
    MetricSource,
    Target,
)
from cfngen.kinds.security import SECURITY_GROUPS
from cfngen.stacks import Output, logical_id

RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
FS_ID = "FileSystemId"
FS_ARN = "FileSystemArn"
NFS_PORT = 2049


def efs_key(name: str) -> str:
    return FILE_SYSTEMS.key(name)


def access_point_output(ap: str, what: str) -> str:
    """what: Id | Arn."""
    return logical_id(ap, "access-point", what)


class FsSpec(Struct, frozen=True):
    name: str
    fs: FileSystem
    availability_zones: int


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    return [
        StackPlan(
            component=efs_key(name),
            title=f"EFS file system {name}",
            build=build_file_system,
            spec=FsSpec(name, fs, network.of(bp).availability_zones),
            depends_on=(network.COMPONENT, security.group_stack(facts, efs_key(name))),
            source=("file_systems", name),
        )
        for name, fs in FILE_SYSTEMS.entries(bp).items()
    ]


def mount_group(name: str, fs: FileSystem) -> str:
    """The security group of a file system's mount targets: its own `efs-<name>`, or the group
    an existing file system names."""
    return fs.existing.security_group if fs.existing is not None else efs_key(name)


def groups(bp: Blueprint, facts: Facts) -> Derived:
    out = Derived()
    for name, fs in FILE_SYSTEMS.entries(bp).items():
        if fs.existing is not None:
            continue  # its mount targets' group is a `security_groups` entry
        key = efs_key(name)
        out.groups[key] = SecurityGroup(
            description=f"EFS file system {name} mount targets", egress=[]
        )
        out.sources[key] = ("file_systems", name)
    return out


def targets(bp: Blueprint) -> list[Target]:
    return [
        Target(name, "file system", mount_group(name, fs), (NFS_PORT,), ("file_systems", name))
        for name, fs in FILE_SYSTEMS.entries(bp).items()
    ]


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """An existing file system's mount target group is one of the blueprint's groups."""
    for name, fs in FILE_SYSTEMS.entries(bp).items():
        if fs.existing is not None:
            c.reference(
                ("file_systems", name, "existing", "security_group"),
                fs.existing.security_group,
                SECURITY_GROUPS.entries(bp),
                "security group",
            )


def _grant(write: bool) -> GrantFn:
    """Mount (and write unless read-only) through one access point, over NFS from the user's
    security group to the mount targets."""

    def grant(bp: Blueprint, request: GrantRequest) -> Grant:
        ap = request.options.get("access_point")
        if ap is None:
            raise GrantProblem(
                f"file system '{request.component}' is used by mounting it",
                "add it to `volumes` with an access point and a path",
                "component",
            )
        key = efs_key(request.component)
        actions = ["elasticfilesystem:ClientMount"]
        if write:
            actions.append("elasticfilesystem:ClientWrite")
        through = Output(key, access_point_output(str(ap), "Arn"))
        fs = FILE_SYSTEMS.entries(bp)[request.component]
        return Grant(
            statements=(
                GrantStatement(
                    tuple(actions),
                    (GrantResource(Output(key, FS_ARN)),),
                    ("StringEquals", "elasticfilesystem:AccessPointArn", through),
                ),
            ),
            group=mount_group(request.component, fs),
            ports=(NFS_PORT,),
            address=Output(key, FS_ID),
            description=f"mounts file system {request.component}",
        )

    return grant


def metrics(bp: Blueprint) -> dict[str, MetricSource]:
    """AWS/EFS metrics of each file system, selected by its ID."""
    return {
        name: MetricSource(
            "AWS/EFS",
            {"FileSystemId": Output(efs_key(name), FS_ID)},
            ("PercentIOLimit", "BurstCreditBalance", "StorageBytes"),
        )
        for name in FILE_SYSTEMS.entries(bp)
    }


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name in FILE_SYSTEMS.entries(bp):
        key = efs_key(name)
        out[name] = {
            "id": Attribute(Output(key, FS_ID), "value", "File system ID"),
            "arn": Attribute(Output(key, FS_ARN), "value", "File system ARN"),
        }
    return out


def _as_dict(policy: Policy) -> dict[str, Any]:
    """troposphere types some policy properties as plain dicts; intrinsics inside still encode."""
    data: dict[str, Any] = policy.JSONrepr()
    return data


def build_file_system(spec: FsSpec, ctx: Context) -> None:
    fs = spec.fs
    if fs.existing is not None:
        _build_existing(spec, ctx)
        return
    props: dict[str, Any] = {
        "Encrypted": True,
        "PerformanceMode": fs.performance_mode,
        "ThroughputMode": fs.throughput_mode,
        "BackupPolicy": efs.BackupPolicy(Status="ENABLED" if fs.backups else "DISABLED"),
        "FileSystemTags": Tags(Name=ctx.name(f"efs-{spec.name}")),
        # Clients must mount over TLS, and only principals whose own IAM policy allows it
        # (the task roles cfngen grants) may mount: the account is trusted, not everyone.
        "FileSystemPolicy": _as_dict(
            Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="MountThroughMountTargetsWithIam",
                        Effect=Allow,
                        Principal=AWSPrincipal(
                            Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
                        ),
                        Action=[
                            AwsAction("elasticfilesystem", "ClientMount"),
                            AwsAction("elasticfilesystem", "ClientWrite"),
                        ],
                        Condition=Condition(Bool("elasticfilesystem:AccessedViaMountTarget", True)),
                    ),
                    deny_insecure_transport("elasticfilesystem"),
                ],
            )
        ),
    }
    if fs.transition_to_ia_days is not None:
        props["LifecyclePolicies"] = [
            efs.LifecyclePolicy(TransitionToIA=f"AFTER_{fs.transition_to_ia_days}_DAYS")
        ]
    if fs.kms_key_arn:
        props["KmsKeyId"] = fs.kms_key_arn
    system = efs.FileSystem("FileSystem", **RETAIN, **props)
    if not fs.kms_key_arn:
        waive(
            system,
            {
                "CKV_AWS_184": "encrypted with the AWS-managed key aws/elasticfilesystem; set "
                "kms_key_arn on the file system for a customer-managed key"
            },
        )
    system = ctx.add(system)
    subnets = ctx.import_value(network.COMPONENT, network.PRIVATE_SUBNETS)
    group = security.group_id(ctx, efs_key(spec.name))
    for i in range(spec.availability_zones):
        ctx.add(
            efs.MountTarget(
                f"MountTarget{i + 1}",
                FileSystemId=Ref(system),
                SubnetId=Select(i, Split(",", subnets)),
                SecurityGroups=[group],
            )
        )
    _access_points(spec, ctx, Ref(system))
    ctx.export(FS_ID, Ref(system), f"File system {spec.name}")
    ctx.export(FS_ARN, GetAtt(system, "Arn"), f"File system {spec.name} ARN")


def _build_existing(spec: FsSpec, ctx: Context) -> None:
    """No file system, mount targets or policy (they are the owner's): the existing IDs and
    ARNs under cfngen's export names, and the access points cfngen creates on it."""
    existing = spec.fs.existing
    assert existing is not None
    fs_id = existing_value(ctx, "ExistingFileSystemId", existing.id, False)
    for ap_name, value in existing.access_points.items():
        ap_id = existing_value(ctx, logical_id("existing", ap_name, "access-point"), value, False)
        ctx.export(access_point_output(ap_name, "Id"), ap_id, f"Access point {ap_name} (existing)")
        ctx.export(
            access_point_output(ap_name, "Arn"),
            _arn("access-point", ap_id),
            f"Access point {ap_name} ARN (existing)",
        )
    _access_points(spec, ctx, fs_id)
    if not spec.fs.access_points:
        ctx.add(cloudformation.WaitConditionHandle("ExistingFileSystem"))  # a stack needs one
    ctx.export(FS_ID, fs_id, f"File system {spec.name} (existing)")
    ctx.export(FS_ARN, _arn("file-system", fs_id), "File system ARN")


def _arn(what: str, id_: Any) -> Sub:
    """The ARN of an existing file system or access point (`what`) of this account by ID."""
    return Sub(
        "arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:"
        + what
        + "/${Id}",
        Id=id_,
    )


def _access_points(spec: FsSpec, ctx: Context, fs_id: Any) -> None:
    """The access points cfngen creates on the file system, each exported by ID and ARN."""
    for ap_name, ap in spec.fs.access_points.items():
        point = ctx.add(
            efs.AccessPoint(
                logical_id(ap_name, "access-point"),
                FileSystemId=fs_id,
                PosixUser=efs.PosixUser(Uid=str(ap.uid), Gid=str(ap.gid)),
                RootDirectory=efs.RootDirectory(
                    Path=ap.path,
                    CreationInfo=efs.CreationInfo(
                        OwnerUid=str(ap.uid), OwnerGid=str(ap.gid), Permissions=ap.permissions
                    ),
                ),
                AccessPointTags=Tags(Name=ctx.name(f"efs-{spec.name}-{ap_name}")),
            )
        )
        ctx.export(access_point_output(ap_name, "Id"), Ref(point), f"Access point {ap_name}")
        ctx.export(
            access_point_output(ap_name, "Arn"), GetAtt(point, "Arn"), f"Access point {ap_name} ARN"
        )


FILE_SYSTEMS: Kind[FileSystem] = Kind(
    section="file_systems",
    model=FileSystem,
    description="EFS file systems, one stack each.",
    prefix="efs",
    plan=plan,
    targets=targets,
    metrics=metrics,
    attributes=attributes,
    groups=groups,
    grants={"read": _grant(write=False), "read-write": _grant(write=True)},
    checks=(check,),
    order=51,
)
KIND = FILE_SYSTEMS
