"""cfn-lint in-process: errors and informational rules are both reported, with line numbers."""

from __future__ import annotations

from cfngen.lint import cfn_lint
from cfngen.render import RenderedStack

BODY = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 7
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayNamee: x
"""


def stack(body: str) -> RenderedStack:
    return RenderedStack(
        name="shop-dev-x",
        component="x",
        file="x.yaml",
        body=body,
        parameters={},
        depends_on=(),
        exports=(),
        imports=(),
    )


def test_errors_and_informational_rules_with_lines() -> None:
    found = {(f.rule, f.line) for f in cfn_lint(stack(BODY), "eu-west-1")}
    assert ("E3002", 10) in found  # unknown property
    assert ("I3011", 3) in found  # stateful resource without explicit deletion policies


def test_the_same_runner_serves_every_stack_of_a_region() -> None:
    clean = BODY.replace("      DisplayNamee: x\n", "      DisplayName: x\n")
    assert ("E3002", 10) not in {(f.rule, f.line) for f in cfn_lint(stack(clean), "eu-west-1")}
    assert ("E3002", 10) in {(f.rule, f.line) for f in cfn_lint(stack(BODY), "eu-west-1")}
