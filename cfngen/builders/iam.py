"""IAM pieces every kind with a role uses: statements, inline policies, trust policies, ARNs."""

from __future__ import annotations

from typing import Any

from awacs import aws as awacs_aws
from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import Ref, Sub, iam

from cfngen.blueprint.models.permissions import Permissions
from cfngen.builders.base import Context
from cfngen.kinds.base import Grant, GrantResource
from cfngen.stacks import Output


def statement(actions: list[str], resources: list[Any], **extra: Any) -> Statement:
    """An Allow statement: `service:Action` strings on resources (ARNs or intrinsics)."""
    return Statement(
        Effect=Allow,
        Action=[Action(*a.split(":", 1)) for a in actions],
        Resource=resources,
        **extra,
    )


def policy(name: str, statements: list[Statement]) -> iam.Policy:
    return iam.Policy(
        PolicyName=name, PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements)
    )


def task_trust() -> PolicyDocument:
    """ECS tasks of this account and region only (the confused-deputy guard AWS recommends)."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", "ecs-tasks.amazonaws.com"),
                Action=[Action("sts", "AssumeRole")],
                Condition=Condition(
                    [
                        ArnLike(
                            "aws:SourceArn",
                            Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*"),
                        ),
                        StringEquals("aws:SourceAccount", Ref("AWS::AccountId")),
                    ]
                ),
            )
        ],
    )


def ssm_parameter_arn(name: str) -> Sub:
    """The ARN of an SSM parameter named `/a/b` (the name's leading slash joins `parameter`)."""
    return Sub(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{name}")


def _imported(ctx: Context, value: str | Output) -> Any:
    return ctx.import_value(value.component, value.name) if isinstance(value, Output) else value


def _resource(ctx: Context, res: GrantResource) -> Any:
    if res.output is None:
        return Sub(res.literal) if "${" in res.literal else res.literal
    arn = _imported(ctx, res.output)
    return Sub(f"${{Arn}}{res.suffix}", Arn=arn) if res.suffix else arn


def grant_statements(ctx: Context, grant: Grant) -> list[Statement]:
    """A grant's statements for the role of the stack being built (its imports resolved)."""
    out = []
    for st in grant.statements:
        extra: dict[str, Any] = {}
        if st.condition is not None:
            operator, key, value = st.condition
            values = (
                [_imported(ctx, v) for v in value]
                if isinstance(value, tuple)
                else _imported(ctx, value)
            )
            extra["Condition"] = Condition(getattr(awacs_aws, operator)({key: values}))
        out.append(statement(list(st.actions), [_resource(ctx, r) for r in st.resources], **extra))
    return out


def _managed_arn(name: str) -> Any:
    if name.startswith("aws:"):
        return Sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{name.removeprefix('aws:')}")
    return Sub(name) if "${" in name else name


def _arn(ctx: Context, value: Any) -> Any:
    if isinstance(value, str):
        return Sub(value) if "${" in value else value
    attr = ctx.facts.attributes[value.from_][value.attribute]
    return ctx.import_value(attr.output.component, attr.output.name)


def permission_statements(ctx: Context, permissions: Permissions) -> list[Statement]:
    """The blueprint's own statements for a role, with typed references imported."""
    out = []
    for st in permissions.statements:
        extra: dict[str, Any] = {"Sid": st.sid} if st.sid else {}
        if st.conditions:
            extra["Condition"] = Condition(
                [
                    getattr(awacs_aws, op.replace(":", ""))(dict(sorted(pairs.items())))
                    for op, pairs in sorted(st.conditions.items())
                ]
            )
        out.append(
            Statement(
                Effect=Allow if st.effect == "Allow" else Deny,
                Action=[Action(*a.split(":", 1)) for a in st.actions],
                Resource=[_arn(ctx, r) for r in st.resources],
                **extra,
            )
        )
    return out


def role_extras(ctx: Context, permissions: Permissions) -> dict[str, Any]:
    """A role's ManagedPolicyArns and PermissionsBoundary from the blueprint."""
    extras: dict[str, Any] = {}
    if permissions.managed_policies:
        extras["ManagedPolicyArns"] = [_managed_arn(p) for p in permissions.managed_policies]
    if permissions.boundary is not None:
        extras["PermissionsBoundary"] = _managed_arn(permissions.boundary)
    return extras
