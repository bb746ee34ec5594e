"""ECR repositories of the blueprint (all in the stack `ecr`)."""

from typing import Annotated

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
    pull_accounts: list[Annotated[str, Field(pattern=r"^[0-9]{12}$")]] = Field(
        default_factory=list,
        max_length=50,
        description="Other AWS accounts whose roles may pull images (a repository policy). "
        "In the `shared` scope, every environment's `deploy.account` is added.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)
