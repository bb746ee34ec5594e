"""Small pieces several builders share: waivers in Metadata, log groups, IAM documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from awacs.aws import Allow, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole
from troposphere import AWSObject, ImportValue, Join, Parameter, Ref, logs

from cfngen.blueprint.models.network import FromExport, FromParameter
from cfngen.waivers import record

if TYPE_CHECKING:
    from cfngen.builders.base import Context

LOGS_DEFAULT_ENCRYPTION = (
    "CloudWatch Logs encrypts log data at rest by default; set kms_key_arn on this component "
    "to use a customer-managed key instead"
)


def waive(resource: AWSObject, waivers: Mapping[str, str]) -> AWSObject:
    """Record waivers the builder makes itself (check ID -> reason) in the resource's Metadata:
    cfngen and cfn-lint IDs under `cfngen.waivers`, checkov IDs under `checkov.skip`
    (see cfngen.waivers.record).

    This is the only way a rendered template relaxes a check: the reason travels with the
    resource so a reviewer of the template sees it. Waivers written in the
    blueprint are applied by cfngen.waivers.apply, after every stack is built.
    """
    if not waivers:
        return resource
    meta: dict[str, Any] = dict(getattr(resource, "Metadata", None) or {})
    for check_id, reason in sorted(waivers.items()):
        record(meta, check_id, reason)
    resource.Metadata = meta
    return resource


def log_group(
    title: str,
    retention_days: int,
    kms_key_arn: str | None = None,
    **extra: Any,
) -> logs.LogGroup:
    """A log group with retention and explicit deletion policies (cfn-lint I3011).

    Logs are deleted with the stack: they belong to the component's lifetime, and a retained
    group would make re-creating the stack fail on the name when one is set.
    """
    props: dict[str, Any] = {"RetentionInDays": retention_days, **extra}
    if kms_key_arn:
        props["KmsKeyId"] = kms_key_arn
    group = logs.LogGroup(title, DeletionPolicy="Delete", UpdateReplacePolicy="Delete", **props)
    if not kms_key_arn:
        waive(group, {"CKV_AWS_158": LOGS_DEFAULT_ENCRYPTION})
    return group


def service_trust(service: str) -> PolicyDocument:
    """Trust policy letting one AWS service principal assume a role."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(Effect=Allow, Principal=Principal("Service", service), Action=[AssumeRole])
        ],
    )


def existing_value(ctx: Context, title: str, value: Any, list_: bool) -> Any:
    """The ID, name (or comma-joined IDs) of something that already exists: literal, imported
    from another stack's export, or read from an SSM parameter when the stack deploys."""
    if isinstance(value, FromExport):
        # the stack re-exports it under cfngen's name, so every consumer imports one name
        ctx.lint_ignores["W6001"] = (
            "existing resources given by another stack's export are re-exported under "
            "cfngen's export names on purpose"
        )
        return ImportValue(value.import_)
    if isinstance(value, FromParameter):
        kind = "List<String>" if list_ else "String"
        param = ctx.template.add_parameter(
            Parameter(
                title,
                Type=f"AWS::SSM::Parameter::Value<{kind}>",
                Default=value.ssm,
                Description=f"SSM parameter holding the existing {title}",
            )
        )
        return Join(",", Ref(param)) if list_ else Ref(param)
    return Join(",", value) if list_ else value
