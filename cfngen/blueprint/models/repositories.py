"""ECR repositories of the blueprint (all in the stack `ecr`)."""

from __future__ import annotations

from pydantic import Field

from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Waiver


class Repository(Model):
    """A private ECR repository: scanned on push, old images expired."""

    scan_on_push: bool = Field(True, description="Scan every pushed image.")
    keep_last: int = Field(20, ge=1, le=10000, description="Keep the last N images.")
    immutable_tags: bool = Field(
        False, description="Refuse to overwrite a tag (set when deploying by unique tags)."
    )
    kms_key_arn: str | None = Field(
        None, description="Customer-managed KMS key (default: AES-256)."
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)
