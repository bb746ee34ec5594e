"""Long-lived storage, each in its own stack with Retain policies: EFS and S3 data buckets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Name, Waiver


class AccessPoint(Model):
    """An EFS access point: every client is this POSIX user, rooted in `path`."""

    uid: int = Field(ge=0, le=4294967295, description="POSIX user ID.")
    gid: int = Field(ge=0, le=4294967295, description="POSIX group ID.")
    path: str = Field(pattern=r"^/[A-Za-z0-9_./-]*$", description="Root directory.")
    permissions: str = Field("0750", pattern=r"^0?[0-7]{3}$", description="Mode if created.")


class FileSystem(Model):
    """An encrypted EFS file system with a mount target per availability zone."""

    access_points: dict[Name, AccessPoint] = Field(
        min_length=1, description="Access points by name; tasks mount through one."
    )
    performance_mode: Literal["generalPurpose", "maxIO"] = Field("generalPurpose")
    throughput_mode: Literal["bursting", "elastic"] = Field("elastic")
    backups: bool = Field(True, description="AWS Backup automatic backups.")
    transition_to_ia_days: Literal[1, 7, 14, 30, 60, 90, 180, 270, 365] | None = Field(
        30, description="Move files to Infrequent Access after N days."
    )
    kms_key_arn: str | None = Field(None, description="Customer-managed KMS key.")
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)


class Bucket(Model):
    """A data bucket: encrypted, private, owner-enforced, TLS only, retained on delete."""

    expire_after_days: int | None = Field(
        None, ge=1, le=36500, description="Delete objects after N days (lifecycle rule)."
    )
    expire_prefix: str = Field("", description="Only expire keys with this prefix.")
    versioning: bool = Field(False, description="Keep object versions.")
    noncurrent_expire_days: int = Field(
        30, ge=1, le=36500, description="With versioning: drop old versions after N days."
    )
    kms_key_arn: str | None = Field(None, description="SSE-KMS key (default: SSE-S3 AES-256).")
    access_logs_bucket: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="Existing bucket that receives S3 server access logs (default: none).",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)
