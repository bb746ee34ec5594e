"""A role's own permissions beyond what `uses` grants: IAM statements with typed resources,
managed policies and a permissions boundary (services, tasks and hosts)."""

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from cfngen.blueprint.models.common import Model, fail
from cfngen.blueprint.models.containers import ComponentValue

_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")
_ARN = re.compile(r"^(\*|arn:[^\s]+)$")
_OPERATOR = re.compile(
    r"^((ForAnyValue:|ForAllValues:)?(String(Not)?Equals(IgnoreCase)?|String(Not)?Like|"
    r"Numeric(Not)?Equals|Numeric(Less|Greater)Than(Equals)?|Date(Not)?Equals|"
    r"Date(Less|Greater)Than(Equals)?|Bool|BinaryEquals|(Not)?IpAddress|Arn(Not)?(Equals|Like))"
    r"(IfExists)?|Null)$"
)
_MANAGED = re.compile(r"^(aws:[A-Za-z0-9+=,.@_/-]+|arn:[^\s]+:iam::[^\s]+:policy/[^\s]+)$")


class PolicyStatement(Model):
    """One IAM statement for the role: actions on resources, optionally with conditions."""

    sid: str | None = Field(None, pattern=r"^[A-Za-z0-9]+$", description="Statement ID.")
    effect: Literal["Allow", "Deny"] = Field("Allow", description="Allow or Deny.")
    actions: list[str] = Field(
        min_length=1, description="service:Action names, e.g. ses:SendEmail (wildcards allowed)."
    )
    resources: list[str | ComponentValue] = Field(
        min_length=1,
        description="ARNs (`${AWS::Region}`, `${AWS::AccountId}`, `${AWS::Partition}` and "
        "`${EnvironmentName}` are filled in), or typed references to another component's ARN "
        "({from: uploads, attribute: arn}).",
    )
    conditions: dict[str, dict[str, str | list[str]]] = Field(
        default_factory=dict,
        description="IAM conditions: {StringEquals: {'aws:RequestedRegion': eu-west-1}}.",
    )

    @field_validator("actions")
    @classmethod
    def _actions(cls, value: list[str]) -> list[str]:
        for action in value:
            if not _ACTION.match(action):
                raise fail(
                    f"'{action}' is not an IAM action", "write service:Action, e.g. s3:GetObject"
                )
        return value

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, value: dict[str, Any]) -> dict[str, Any]:
        for operator in value:
            if not _OPERATOR.match(operator):
                raise fail(
                    f"'{operator}' is not an IAM condition operator",
                    "e.g. StringEquals, StringLike, ArnLike, Bool, IpAddress, Null",
                )
        return value

    @field_validator("resources")
    @classmethod
    def _resources(cls, value: list[Any]) -> list[Any]:
        for res in value:
            if isinstance(res, str) and not _ARN.match(res):
                raise fail(f"'{res}' is not an ARN", "write arn:${AWS::Partition}:service:...")
        return value


class Permissions(Model):
    """More rights for the role than `uses` grants: statements, managed policies, a boundary.
    `cfngen lint` checks them like everything else (full admin rights and `iam:PassRole` on
    roles the template does not create are findings)."""

    statements: list[PolicyStatement] = Field(default_factory=list, description="Statements.")
    managed_policies: list[str] = Field(
        default_factory=list,
        description="Managed policies: `aws:AmazonSSMReadOnlyAccess` for AWS's own (the "
        "partition is filled in), or a customer-managed policy's ARN.",
    )
    boundary: str | None = Field(
        None, description="A permissions boundary: a managed policy's ARN (or `aws:Name`)."
    )

    @field_validator("managed_policies")
    @classmethod
    def _managed(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not _MANAGED.match(arn):
                raise fail(f"'{arn}' is not a managed policy", "e.g. aws:AmazonSSMReadOnlyAccess")
        return value

    @field_validator("boundary")
    @classmethod
    def _boundary(cls, value: str | None) -> str | None:
        if value is not None and not _MANAGED.match(value):
            raise fail(f"'{value}' is not a managed policy", "write the policy's ARN")
        return value
