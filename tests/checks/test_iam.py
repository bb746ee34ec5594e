"""IAM checks: OIDC trust (CFG001), iam:PassRole (CFG015), admin rights (CFG017), partitions
(CFG019). Each check has a bad template that triggers it and a good one that does not."""

from __future__ import annotations

from tests.checks.helpers import hits, line_of, lint, ours

# --- CFG001 OIDC trust --------------------------------------------------------------------------

OIDC = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  GithubProvider:
    Type: AWS::IAM::OIDCProvider
    Properties:
      Url: https://token.actions.githubusercontent.com
      ClientIdList: [sts.amazonaws.com]
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Federated: !GetAtt GithubProvider.Arn
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
{condition}
"""

PINNED = """\
              StringEquals:
                token.actions.githubusercontent.com:aud: sts.amazonaws.com
                token.actions.githubusercontent.com:sub: repo:acme/shop:ref:refs/heads/main
"""


def oidc(condition: str) -> str:
    return OIDC.replace("{condition}\n", condition)


def test_cfg001_bad_wildcard_subject_with_string_like() -> None:
    text = oidc(
        """\
              StringEquals:
                token.actions.githubusercontent.com:aud: sts.amazonaws.com
              StringLike:
                token.actions.githubusercontent.com:sub: repo:acme/*
"""
    )
    found = hits("CFG001", text)
    assert len(found) == 1
    assert found[0][0] == "DeployRole"
    assert "wildcard subject 'repo:acme/*'" in found[0][1]
    assert ours(lint(text), "CFG001") == [("DeployRole", line_of(text, "DeployRole"))]


def test_cfg001_bad_subject_not_pinned() -> None:
    text = oidc(
        """\
              StringEquals:
                token.actions.githubusercontent.com:aud: sts.amazonaws.com
"""
    )
    found = hits("CFG001", text)
    assert [r for r, _ in found] == ["DeployRole"]
    assert "does not pin the subject (sub)" in found[0][1]


def test_cfg001_bad_no_condition_at_all() -> None:
    text = OIDC.replace("            Condition:\n{condition}\n", "")
    messages = [m for r, m in hits("CFG001", text) if r == "DeployRole"]
    assert len(messages) == 2
    assert any("audience (aud)" in m for m in messages)
    assert any("subject (sub)" in m for m in messages)


def test_cfg001_bad_wildcard_audience() -> None:
    text = oidc(
        """\
              StringEquals:
                token.actions.githubusercontent.com:aud: "*"
                token.actions.githubusercontent.com:sub: repo:acme/shop:ref:refs/heads/main
"""
    )
    found = hits("CFG001", text)
    assert [r for r, _ in found] == ["DeployRole"]
    assert "audience" in found[0][1]


def test_cfg001_good_pinned_audience_and_subject() -> None:
    assert hits("CFG001", oidc(PINNED)) == []
    assert ours(lint(oidc(PINNED)), "CFG001") == []


def test_cfg001_good_exact_subject_through_string_like() -> None:
    text = oidc(
        """\
              StringEquals:
                token.actions.githubusercontent.com:aud: sts.amazonaws.com
              StringLike:
                token.actions.githubusercontent.com:sub: repo:acme/shop:environment:prod
"""
    )
    assert hits("CFG001", text) == []


def test_cfg001_good_cognito_identity_pool_and_service_roles() -> None:
    cognito = """\
    Resources:
      Authenticated:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {Federated: cognito-identity.amazonaws.com}
                Action: [sts:AssumeRoleWithWebIdentity]
                Condition:
                  StringEquals: {cognito-identity.amazonaws.com:aud: eu-west-1:1234}
      TaskRole:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {Service: ecs-tasks.amazonaws.com}
                Action: sts:AssumeRole
    """
    assert hits("CFG001", cognito) == []


# --- CFG015 iam:PassRole ------------------------------------------------------------------------

PASS_ROLE = """\
Resources:
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
  Deployer:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: codebuild.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: deploy
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: iam:PassRole
                Resource:
{resource}
"""


def pass_role(resource: str) -> str:
    return PASS_ROLE.replace("{resource}\n", resource)


def test_cfg015_bad_every_role() -> None:
    text = PASS_ROLE.replace(
        "                Resource:\n{resource}\n", '                Resource: "*"\n'
    )
    found = hits("CFG015", text)
    assert found == [("Deployer", "iam:PassRole on every role ('*'); name the roles it may pass")]
    assert ours(lint(text), "CFG015") == [("Deployer", line_of(text, "Deployer"))]


def test_cfg015_bad_sub_arn_of_a_role_not_in_the_template() -> None:
    text = pass_role(
        """\
                  - !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ecsTaskExecutionRole
                  - !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ecsTaskExecutionRole
"""
    )
    found = hits("CFG015", text)
    # one hit per distinct role, and the message shows the ARN, not the intrinsic's name
    assert found == [
        (
            "Deployer",
            "iam:PassRole on a role this template does not create "
            "(arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ecsTaskExecutionRole)",
        )
    ]


def test_cfg015_bad_literal_arn_and_separate_policy_resource() -> None:
    text = """\
    Resources:
      PassAnything:
        Type: AWS::IAM::ManagedPolicy
        Properties:
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [iam:Pass*]
                Resource: arn:aws:iam::123456789012:role/admin
    """
    found = hits("CFG015", text)
    assert [r for r, _ in found] == ["PassAnything"]
    assert "role/admin" in found[0][1]


def test_cfg015_bad_not_resource() -> None:
    text = """\
    Resources:
      Policy:
        Type: AWS::IAM::Policy
        Properties:
          PolicyName: p
          Roles: [x]
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: iam:PassRole
                NotResource: arn:aws:iam::123456789012:role/admin
    """
    assert [r for r, _ in hits("CFG015", text)] == ["Policy"]


def test_cfg015_good_getatt_of_a_template_role() -> None:
    assert hits("CFG015", pass_role("                  - !GetAtt TaskRole.Arn\n")) == []


def test_cfg015_good_sub_naming_a_template_role() -> None:
    text = pass_role(
        """\
                  - !Sub ${TaskRole.Arn}
                  - !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${TaskRole}
"""
    )
    assert hits("CFG015", text) == []


def test_cfg015_good_role_imported_from_another_stack() -> None:
    text = pass_role("                  - !ImportValue shop-prod-security-TaskRoleArn\n")
    assert hits("CFG015", text) == []


def test_cfg015_good_deny_and_other_actions() -> None:
    text = PASS_ROLE.replace(
        "Effect: Allow\n                Action: iam:PassRole",
        "Effect: Deny\n                Action: iam:PassRole",
    )
    text = text.replace("{resource}\n", '                  - "*"\n')
    assert hits("CFG015", text) == []


# --- CFG017 admin rights ------------------------------------------------------------------------


def test_cfg017_bad_star_on_star() -> None:
    text = """\
    Resources:
      Admin:
        Type: AWS::IAM::ManagedPolicy
        Properties:
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: "*"
                Resource: "*"
    """
    assert hits("CFG017", text) == [("Admin", "a statement allows every action on every resource")]
    assert ours(lint(text), "CFG017") == [("Admin", line_of(text, "Admin"))]


def test_cfg017_bad_administrator_access_managed_policy() -> None:
    text = """\
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}
          ManagedPolicyArns:
            - !Sub arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess
    """
    assert hits("CFG017", text) == [("Role", "the AdministratorAccess managed policy is attached")]


def test_cfg017_good_scoped_policy() -> None:
    text = """\
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}
          ManagedPolicyArns:
            - !Sub arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess
          Policies:
            - PolicyName: p
              PolicyDocument:
                Statement:
                  - {Effect: Allow, Action: "s3:*", Resource: "*"}
                  - {Effect: Deny, Action: "*", Resource: "*"}
                  - {Effect: Allow, Action: "*", Resource: arn:aws:s3:::bucket}
    """
    assert hits("CFG017", text) == []


# --- CFG019 hard-coded partition ----------------------------------------------------------------

PARTITION = """\
Resources:
  Reader:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: {resource}
"""


def test_cfg019_good_sub_with_arn_aws_is_left_to_cfn_lint() -> None:
    """cfn-lint's I3042 reports hard-coded partitions in Fn::Sub; CFG019 does not repeat it."""
    text = PARTITION.format(resource="!Sub arn:aws:s3:::${AWS::StackName}-data/*")
    assert hits("CFG019", text) == []
    report = lint(text)
    assert [(f.rule, f.resource) for f in report.findings if f.rule == "I3042"] == [
        ("I3042", "Reader")
    ]


def test_cfg019_bad_literal_aws_managed_policy_arn() -> None:
    text = """\
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}
          ManagedPolicyArns:
            - arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore
            - arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy
    """
    found = hits("CFG019", text)
    assert [r for r, _ in found] == ["Role"]
    assert "and 1 more" in found[0][1]


def test_cfg019_bad_join_with_arn_aws() -> None:
    text = PARTITION.format(resource='!Join ["", ["arn:aws:s3:::", !Ref AWS::StackName, "/*"]]')
    assert [r for r, _ in hits("CFG019", text)] == ["Reader"]


def test_cfg019_good_partition_pseudo_parameter() -> None:
    text = PARTITION.format(resource="!Sub arn:${AWS::Partition}:s3:::${AWS::StackName}-data/*")
    assert hits("CFG019", text) == []


def test_cfg019_good_literal_arn_given_not_built() -> None:
    # an ARN copied from the console is data, not a construction the template could fix
    text = PARTITION.format(resource="arn:aws:s3:::shop-data/*")
    assert hits("CFG019", text) == []
