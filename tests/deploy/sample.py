"""Small, real environments for deploy tests: SSM parameters, SNS topics, log groups, buckets.

Shape (component -> what it imports from):

    network   exports TopicArn, ParamName
    app-a     imports network TopicArn     (has a log group: stateful)
    app-b     imports network ParamName    exports QueueValue
    edge      imports app-b QueueValue
    solo      independent                  (has a bucket: stateful)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cfngen.render import RenderedEnvironment, RenderedStack, write_environment

BLUEPRINT = "sample"
REGION = "eu-west-1"

NETWORK = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: network-like stack exporting values
Parameters:
  EnvironmentName: {Type: String}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub '${EnvironmentName}-events'
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub '/${EnvironmentName}/network/name'
      Type: String
      Value: network-v1
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export: {Name: !Sub '${EnvironmentName}-network-TopicArn'}
  ParamName:
    Value: !Ref Param
    Export: {Name: !Sub '${EnvironmentName}-network-ParamName'}
"""

APP_A = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: imports the topic
Parameters:
  EnvironmentName: {Type: String}
  Setting: {Type: String, Default: one}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      LogGroupName: !Sub '/${EnvironmentName}/app-a'
      RetentionInDays: 7
  TopicCopy:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub '/${EnvironmentName}/app-a/topic'
      Type: String
      Value: !ImportValue
        Fn::Sub: '${EnvironmentName}-network-TopicArn'
  SettingParam:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub '/${EnvironmentName}/app-a/setting'
      Type: String
      Value: !Ref Setting
"""

APP_B = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: imports the parameter name, exports a value
Parameters:
  EnvironmentName: {Type: String}
Resources:
  NameCopy:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub '/${EnvironmentName}/app-b/name'
      Type: String
      Value: !ImportValue
        Fn::Sub: '${EnvironmentName}-network-ParamName'
Outputs:
  QueueValue:
    Value: !GetAtt NameCopy.Value
    Export: {Name: !Sub '${EnvironmentName}-app-b-QueueValue'}
"""

EDGE = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: imports from app-b
Parameters:
  EnvironmentName: {Type: String}
Resources:
  EdgeParam:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub '/${EnvironmentName}/edge/value'
      Type: String
      Value: !ImportValue
        Fn::Sub: '${EnvironmentName}-app-b-QueueValue'
"""

SOLO = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: independent stack with a bucket
Parameters:
  EnvironmentName: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      BucketName: !Sub '${EnvironmentName}-solo-data'
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub '${EnvironmentName}-solo-alerts'
"""

#: An SSM parameter type that CloudFormation rejects when it creates the resource, so the
#: change set is created and the stack fails at execution, as a real misconfiguration would.
BAD_RESOURCE = """\
  Broken:
    Type: AWS::SSM::Parameter
    Properties:
      Type: NotAType
      Value: broken
"""


def _stack(
    env_name: str,
    component: str,
    body: str,
    depends_on: tuple[str, ...] = (),
    exports: tuple[str, ...] = (),
    imports: tuple[str, ...] = (),
    parameters: dict[str, str] | None = None,
    environment: str = "test",
) -> RenderedStack:
    return RenderedStack(
        name=f"{env_name}-{component}",
        component=component,
        file=f"{component}.yaml",
        body=body,
        parameters={"EnvironmentName": env_name, **(parameters or {})},
        depends_on=depends_on,
        exports=tuple(f"{env_name}-{e}" for e in exports),
        imports=tuple(f"{env_name}-{i}" for i in imports),
        tags={
            "project": "cfngen-tests",
            "cfngen:blueprint": BLUEPRINT,
            "cfngen:environment": environment,
        },
    )


def sample_environment(
    env_name: str = "sample-test", environment: str = "test"
) -> RenderedEnvironment:
    """Five stacks in deploy order (dependencies first)."""
    e = env_name
    stacks = (
        _stack(
            e,
            "network",
            NETWORK,
            exports=("network-TopicArn", "network-ParamName"),
            environment=environment,
        ),
        _stack(e, "solo", SOLO, environment=environment),
        _stack(
            e,
            "app-a",
            APP_A,
            depends_on=("network",),
            imports=("network-TopicArn",),
            environment=environment,
        ),
        _stack(
            e,
            "app-b",
            APP_B,
            depends_on=("network",),
            imports=("network-ParamName",),
            exports=("app-b-QueueValue",),
            environment=environment,
        ),
        _stack(
            e,
            "edge",
            EDGE,
            depends_on=("app-b",),
            imports=("app-b-QueueValue",),
            environment=environment,
        ),
    )
    return RenderedEnvironment(
        blueprint=BLUEPRINT,
        environment=environment,
        environment_name=e,
        region=REGION,
        source="tests/deploy/sample.py",
        stacks=stacks,
    )


def with_stack(env: RenderedEnvironment, component: str, **changes: object) -> RenderedEnvironment:
    """A copy of `env` with one stack's fields replaced (body, parameters ...)."""
    stacks = tuple(
        replace(s, **changes) if s.component == component else s  # type: ignore[arg-type]
        for s in env.stacks
    )
    return replace(env, stacks=stacks)


def broken(env: RenderedEnvironment, component: str) -> RenderedEnvironment:
    """`env` with a resource in `component` that fails when CloudFormation creates it."""
    body = env.stack(component).body
    head, sep, tail = body.partition("Outputs:")
    return with_stack(env, component, body=head + BAD_RESOURCE + sep + tail)


def write_rendered(env: RenderedEnvironment, directory: Path) -> Path:
    """Write `env` with cfngen's own writer, exactly as `cfngen render` does (DIR/ENV/)."""
    return write_environment(env, directory)
