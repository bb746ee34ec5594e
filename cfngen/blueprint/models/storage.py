"""Long-lived storage, each in its own stack with Retain policies: EFS and S3 data buckets."""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Name, Waiver, fail
from cfngen.blueprint.models.network import FromExport, FromParameter

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


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
