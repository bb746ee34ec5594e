"""IAM pieces every kind with a role uses: statements, inline policies, trust policies, ARNs."""

from __future__ import annotations

from typing import Any

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
