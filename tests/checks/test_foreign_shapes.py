"""Shapes of templates cfngen did not write that once confused its checks: conditional rules,
a scheme from a parameter, ARN text inside Lambda inline code."""

from __future__ import annotations

from tests.checks.helpers import hits

LB = """\
Parameters:
  Scheme: {Type: String, Default: %s}
Resources:
  LbGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: lb
      VpcId: vpc-123
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0, Description: https}
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Scheme: !Ref Scheme
      Subnets: [subnet-1, subnet-2]
      SecurityGroups: [!Ref LbGroup]
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Lb
      Port: 443
      Protocol: HTTPS
      DefaultActions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: "404"}}]
"""


def test_a_scheme_from_a_parameter_counts_as_its_default() -> None:
    assert hits("CFG013", LB % "internet-facing") == []
    assert [r for r, _ in hits("CFG013", LB % "internal")] == ["LbGroup"]


def test_conditional_ingress_rules_are_read_through_fn_if() -> None:
    text = """\
Conditions:
  Open: !Equals [a, b]
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      VpcId: vpc-123
      SecurityGroupIngress:
        - !If
          - Open
          - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0, Description: ssh}
          - !Ref AWS::NoValue
"""
    assert [r for r, _ in hits("CFG006", text)] == ["Group"]


def test_arn_text_in_lambda_inline_code_is_not_an_arn_of_the_template() -> None:
    text = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: ROLE
      Code:
        ZipFile: !Join
          - "\\n"
          - - BUCKET = "arn:aws:s3:::reports"
            - !Sub "TABLE = '${AWS::StackName}'"
            - "def handler(event, context): return BUCKET"
"""
    own = "!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x"
    assert hits("CFG019", text.replace("ROLE", own)) == []
    joined = '!Join ["", ["arn:aws:iam::", !Ref AWS::AccountId, ":role/x"]]'
    found = hits("CFG019", text.replace("ROLE", joined))
    assert found == [("Fn", "'arn:aws:iam::' hard-code the aws partition; use ${AWS::Partition}")]
