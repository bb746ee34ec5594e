"""Checks across scopes (CFG033): an environment pulls from a repository of the blueprint's
`shared` scope, which lives in another account and must admit the environment's account."""

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
