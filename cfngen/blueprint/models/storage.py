"""Long-lived storage, each in its own stack with Retain policies: EFS and S3 data buckets."""

import re
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Name, Waiver, fail
from cfngen.blueprint.models.network import FromExport, FromParameter, existing_ids

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class AccessPoint(Model):
    """An EFS access point: every client is this POSIX user, rooted in `path`."""

    uid: int = Field(ge=0, le=4294967295, description="POSIX user ID.")
    gid: int = Field(ge=0, le=4294967295, description="POSIX group ID.")
    path: str = Field(pattern=r"^/[A-Za-z0-9_./-]*$", description="Root directory.")
    permissions: str = Field("0750", pattern=r"^0?[0-7]{3}$", description="Mode if created.")


ExistingId = str | FromExport | FromParameter


class ExistingFileSystem(Model):
    """An EFS file system that already exists, with its mount targets: cfngen creates no file
    system and gives others its ID and ARN (volumes, grants, typed references)."""

    id: ExistingId = Field(description="fs-..., {import: export}, or {ssm: /parameter}.")
    security_group: Name = Field(
        description="The `security_groups` entry of its mount targets (usually an existing "
        "group): mounts add NFS (2049) ingress to it."
    )
    access_points: dict[Name, ExistingId] = Field(
        default_factory=dict,
        description="Existing access points by name: fsap-..., {import: export}, or "
        "{ssm: /parameter}.",
    )

    @field_validator("id")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return existing_ids(value, "fs")

    @field_validator("access_points")
    @classmethod
    def _points(cls, value: dict[str, Any]) -> dict[str, Any]:
        for point in value.values():
            existing_ids(point, "fsap")
        return value


class FileSystem(Model):
    """An encrypted EFS file system with a mount target per availability zone."""

    access_points: dict[Name, AccessPoint] = Field(
        default_factory=dict,
        description="Access points cfngen creates, by name; tasks mount through one.",
    )
    performance_mode: Literal["generalPurpose", "maxIO"] = Field("generalPurpose")
    throughput_mode: Literal["bursting", "elastic"] = Field("elastic")
    backups: bool = Field(True, description="AWS Backup automatic backups.")
    transition_to_ia_days: Literal[1, 7, 14, 30, 60, 90, 180, 270, 365] | None = Field(
        30, description="Move files to Infrequent Access after N days."
    )
    kms_key_arn: str | None = Field(None, description="Customer-managed KMS key.")
    existing: ExistingFileSystem | None = Field(
        None,
        description="Mount a file system that already exists instead of creating one "
        "(`access_points` are then created on it).",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _existing_alone(self) -> Self:
        if self.existing is None:
            if not self.access_points:
                raise fail(
                    "a file system needs at least one access point",
                    "add one under `access_points` (tasks mount through it)",
                )
            return self
        owned = ("performance_mode", "throughput_mode", "backups", "transition_to_ia_days")
        made = [f for f in (*owned, "kms_key_arn") if f in self.model_fields_set]
        if made:
            raise fail(
                f"`{made[0]}` configures a file system cfngen creates; this one exists",
                f"remove `{made[0]}` (configure the existing file system itself)",
            )
        both = sorted(set(self.access_points) & set(self.existing.access_points))
        if both:
            raise fail(
                f"access point '{both[0]}' is both created and existing",
                "rename one of them",
            )
        if not self.access_points and not self.existing.access_points:
            raise fail(
                "an existing file system needs at least one access point to mount through",
                "name one under `existing.access_points`, or create one under `access_points`",
            )
        return self

    def access_point_names(self) -> list[str]:
        """Every access point a volume may name: created ones, then existing ones."""
        existing = self.existing.access_points if self.existing is not None else {}
        return [*self.access_points, *existing]


class ExistingBucket(Model):
    """A bucket that already exists: cfngen creates nothing and gives others its name and ARN
    (`uses` grants, typed references) under its own export names."""

    name: str | FromExport | FromParameter = Field(
        description="The bucket's name, {import: export}, or {ssm: /parameter}."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if isinstance(value, str) and not _BUCKET_NAME.match(value):
            raise fail(f"'{value}' is not a bucket name", "3-63 lowercase letters, digits, . and -")
        return value


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
    existing: ExistingBucket | None = Field(
        None, description="Use a bucket that already exists instead of creating one."
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _existing_alone(self) -> Self:
        if self.existing is not None:
            made = [f for f in self.model_fields_set if f not in ("existing", "waivers")]
            if made:
                raise fail(
                    f"`{sorted(made)[0]}` configures a bucket cfngen creates; this one exists",
                    f"remove `{sorted(made)[0]}` (configure the existing bucket itself)",
                )
        return self
