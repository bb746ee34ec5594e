"""IAM pieces every kind with a role uses: statements, inline policies, trust policies, ARNs."""

from __future__ import annotations

from typing import Any

from awacs import aws as awacs_aws
from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import Ref, Sub, iam

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
