"""Checks across scopes: an environment pulls from a repository of the blueprint's `shared`
scope, which lives in another account and must admit the environment's account (CFG033); its
deploy roles trust the scope's OIDC provider (CFG034); it reads the scope's stack outputs with
Fn::GetStackOutput (CFG035)."""

from __future__ import annotations

import textwrap

from cfnlint.decode.decode import decode_str

from cfngen.checks import CHECKS
from cfngen.verify import Environment, Stack

SHARED = """\
Parameters:
  EnvironmentName: {Type: String, Default: city-shared}
Resources:
  PayloadRepository:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: !Sub ${EnvironmentName}-payload
      RepositoryPolicyText:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: [!Sub "arn:${AWS::Partition}:iam::222222222222:root"]}
            Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]
"""

SERVICE = """\
Parameters:
  ImageTag: {Type: String, Default: v1}
Resources:
  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: web
          Image: !Sub 111111111111.dkr.ecr.eu-west-1.amazonaws.com/city-shared-payload:${ImageTag}
"""


def stack(component: str, name: str, text: str) -> Stack:
    parsed, errors = decode_str(textwrap.dedent(text))
    assert not errors, errors
    return Stack(component, name, f"{component}.yaml", parsed, {}, ())


def environment(account: str | None, shared: str = SHARED) -> Environment:
    env = Environment([stack("service-web", "city-dev-service-web", SERVICE)], "eu-west-1")
    env.account = account
    peer = Environment([stack("ecr", "city-shared-ecr", shared)], "eu-west-1")
    peer.account = "111111111111"
    env.peers = {"shared": peer}
    return env


def hits(environment: Environment) -> list[tuple[str, str, str]]:
    assert CHECKS["CFG033"].scope == "environment"
    return list(CHECKS["CFG033"].run(environment))


def test_cfg033_good_the_repository_policy_admits_the_environments_account() -> None:
    assert hits(environment("222222222222")) == []


def test_cfg033_good_without_a_shared_scope_or_in_the_same_account() -> None:
    alone = Environment([stack("service-web", "x", SERVICE)], "eu-west-1")
    alone.account = "222222222222"
    assert hits(alone) == []
    assert hits(environment("111111111111")) == []


def test_cfg033_bad_another_account_is_not_admitted() -> None:
    assert hits(environment("333333333333")) == [
        (
            "service-web",
            "TaskDefinition",
            "container web pulls from city-shared-payload in account 111111111111, whose "
            "repository policy does not give account 333333333333 ecr:BatchGetImage, "
            "ecr:GetDownloadUrlForLayer",
        )
    ]


def test_cfg033_bad_a_policy_without_one_pull_action() -> None:
    partial = SHARED.replace("ecr:BatchGetImage, ", "")
    found = hits(environment("222222222222", partial))
    assert [m for _, _, m in found] == [
        "container web pulls from city-shared-payload in account 111111111111, whose "
        "repository policy does not give account 222222222222 ecr:BatchGetImage"
    ]


def test_cfg033_bad_an_environment_without_an_account() -> None:
    found = hits(environment(None))
    assert len(found) == 1 and "names no deploy.account" in found[0][2]


def test_cfg033_good_actions_by_wildcard_and_an_image_of_the_deploying_account() -> None:
    wildcard = SHARED.replace("[ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]", "ECR:*")
    assert hits(environment("222222222222", wildcard)) == []
    same = environment("333333333333")
    stack = same.stacks["service-web"]
    container = stack.template["Resources"]["TaskDefinition"]["Properties"]
    container["ContainerDefinitions"][0]["Image"] = {
        "Fn::Sub": "${AWS::AccountId}.dkr.ecr.eu-west-1.amazonaws.com/city-shared-payload:v1"
    }
    assert hits(same) == []


def test_cfg033_bad_a_malformed_action_is_no_grant_and_no_crash() -> None:
    broken = SHARED.replace("[ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]", '["ecr:(", "ecr:["]')
    assert len(hits(environment("222222222222", broken))) == 1


# --- CFG034: a deploy role trusts the shared scope's OIDC provider -------------------------------

PROVIDER = """\
Resources:
  GithubProvider:
    Type: AWS::IAM::OIDCProvider
    Properties:
      Url: https://token.actions.githubusercontent.com
      ClientIdList: [sts.amazonaws.com]
"""

ROLE = """\
Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Action: sts:AssumeRoleWithWebIdentity
            Principal:
              Federated: !Sub
                - arn:${AWS::Partition}:iam::111111111111:oidc-provider/${Issuer}
                - {Issuer: token.actions.githubusercontent.com}
            Condition:
              StringEquals:
                token.actions.githubusercontent.com:aud: sts.amazonaws.com
                token.actions.githubusercontent.com:sub: repo:acme/city:ref:refs/heads/main
"""


def with_provider(role: str = ROLE, provider: str = PROVIDER) -> Environment:
    env = Environment([stack("deploy-role-github", "city-dev-deploy-role-github", role)])
    env.account = "111111111111"
    peer = Environment([stack("oidc", "city-shared-oidc", provider)], "eu-west-1")
    peer.account = "111111111111"
    env.peers = {"shared": peer}
    return env


def test_cfg034_good_the_shared_provider_accepts_the_roles_audience() -> None:
    assert list(CHECKS["CFG034"].run(with_provider())) == []
    # a role trusting a provider its own stack creates, or one in another account: not checked
    own = ROLE.replace(
        "Federated: !Sub\n"
        "                - arn:${AWS::Partition}:iam::111111111111:oidc-provider/${Issuer}\n"
        "                - {Issuer: token.actions.githubusercontent.com}",
        "Federated: !GetAtt OidcProvider.Arn",
    )
    assert list(CHECKS["CFG034"].run(with_provider(own, "Resources: {}\n"))) == []
    other = ROLE.replace("iam::111111111111:", "iam::333333333333:")
    assert list(CHECKS["CFG034"].run(with_provider(other, "Resources: {}\n"))) == []


def test_cfg034_bad_no_provider_or_not_the_roles_audience() -> None:
    assert list(CHECKS["CFG034"].run(with_provider(provider="Resources: {}\n"))) == [
        (
            "deploy-role-github",
            "DeployRole",
            "DeployRole trusts the shared scope's OIDC provider for "
            "token.actions.githubusercontent.com, which the shared scope does not create",
        )
    ]
    deaf = PROVIDER.replace("[sts.amazonaws.com]", "[other]")
    assert list(CHECKS["CFG034"].run(with_provider(provider=deaf))) == [
        (
            "deploy-role-github",
            "DeployRole",
            "DeployRole pins the audience sts.amazonaws.com, which the shared scope's OIDC "
            "provider for token.actions.githubusercontent.com does not accept (other)",
        )
    ]


# --- CFG035: Fn::GetStackOutput of the shared scope ---------------------------------------------

ZONE = """\
Resources:
  HostedZone:
    Type: AWS::Route53::HostedZone
    Properties: {Name: city.test}
Outputs:
  ZoneId: {Value: !Ref HostedZone}
"""

RECORDS = """\
Resources:
  DevCityTestA:
    Type: AWS::Route53::RecordSet
    Properties:
      Name: dev.city.test
      Type: A
      HostedZoneId:
        Fn::GetStackOutput: {StackName: city-shared-dns, OutputName: ZoneId, Region: eu-west-1}
"""

SERVICE_ROLE = """\
Resources:
  CloudFormationServiceRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Action: sts:AssumeRole
            Principal: {Service: cloudformation.amazonaws.com}
      Policies:
        - PolicyName: environment-resources
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [cloudformation:DescribeStacks]
                Resource: !Sub
                  - arn:${AWS::Partition}:cloudformation:eu-west-1:${AWS::AccountId}:${Stack}
                  - {Stack: stack/city-shared-dns/*}
"""


def reading(records: str = RECORDS, zone: str = ZONE, role: str = SERVICE_ROLE) -> Environment:
    env = Environment(
        [
            stack("dns", "city-dev-dns", records),
            stack("deploy-role-github", "city-dev-deploy-role-github", role),
        ],
        "eu-west-1",
    )
    env.account = "111111111111"
    peer = Environment([stack("dns", "city-shared-dns", zone)], "eu-west-1", "city-shared")
    peer.account = "111111111111"
    env.peers = {"shared": peer}
    return env


def test_cfg035_good_the_output_exists_and_the_service_role_may_read_it() -> None:
    assert list(CHECKS["CFG035"].run(reading())) == []
    # a read of the environment's own stack (a site's us-east-1 certificate) is not the scope's
    own = RECORDS.replace("StackName: city-shared-dns", "StackName: city-dev-site-certificate")
    assert list(CHECKS["CFG035"].run(reading(records=own))) == []


def test_cfg035_bad_a_missing_output_stack_or_region_or_read_right() -> None:
    assert list(CHECKS["CFG035"].run(reading(zone=ZONE.split("Outputs:")[0]))) == [
        ("dns", "DevCityTestA", "reads output ZoneId of city-shared-dns, which has no such output")
    ]
    other = RECORDS.replace("StackName: city-shared-dns", "StackName: city-shared-zone")
    found = list(CHECKS["CFG035"].run(reading(records=other)))
    assert found[0] == (
        "dns",
        "DevCityTestA",
        "reads output ZoneId of stack city-shared-zone, which the shared scope does not have",
    )
    region = RECORDS.replace("Region: eu-west-1", "Region: us-east-1")
    assert next(iter(CHECKS["CFG035"].run(reading(records=region)))) == (
        "dns",
        "DevCityTestA",
        "reads city-shared-dns in region us-east-1; the shared scope is in eu-west-1",
    )
    blind = SERVICE_ROLE.replace("{Stack: stack/city-shared-dns/*}", "{Stack: stack/city-dev-*/*}")
    assert list(CHECKS["CFG035"].run(reading(role=blind))) == [
        (
            "deploy-role-github",
            "CloudFormationServiceRole",
            "CloudFormationServiceRole runs this environment's change sets, and city-dev-dns "
            "(DevCityTestA) reads city-shared-dns's outputs with Fn::GetStackOutput, but the "
            "role may not cloudformation:DescribeStacks it",
        )
    ]
