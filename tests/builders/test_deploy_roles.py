"""GitHub OIDC deploy roles, asserted by what they render."""

from __future__ import annotations

from pathlib import Path

from tests.builders.containers_sample import SAMPLE, imp, rendered, template


def test_trust_pins_aud_and_sub_and_policy_is_scoped_to_own_resources(tmp_path: Path) -> None:
    t = template(tmp_path, "deploy-role-gh")
    res = t["Resources"]
    assert res["OidcProvider"]["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert res["OidcProvider"]["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    (trust,) = res["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Federated": {"Fn::GetAtt": ["OidcProvider", "Arn"]}}
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/shop:ref:refs/heads/main",
        }
    }
    statements = {
        s["Sid"]: s
        for s in res["DeployRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    }
    assert statements["PushToOwnRepositories"]["Resource"] == [imp("ecr", "ShopApiRepositoryArn")]
    services = statements["DescribeOwnServices"]["Resource"]
    assert services[0] == {
        "Fn::Sub": [
            "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${Cluster}/api",
            {"Cluster": imp("cluster", "ClusterName")},
        ]
    }
    assert statements["DeployOwnServices"]["Resource"] == services
    families = statements["DeployOwnServices"]["Condition"]["ArnLikeIfExists"]
    assert families["ecs:task-definition"][0] == {
        "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:"
        "task-definition/${EnvironmentName}-api:*"
    }
    assert imp("service-api", "TaskRoleArn") in statements["PassOwnTaskRoles"]["Resource"]
    assert statements["ActionsWithoutResourceScope"]["Action"] == [
        "cloudformation:DescribeStacks",  # with deploy_stacks (the default): cfngen deploy
        "cloudformation:ListImports",
        "ecr:GetAuthorizationToken",
        "ecs:DescribeTaskDefinition",
        "ecs:RegisterTaskDefinition",
    ]


def test_existing_provider_and_github_environment_subject(tmp_path: Path) -> None:
    text = SAMPLE.replace(
        "gh: {provider: github, repository: acme/shop, branch: main}",
        "gh: {provider: github, repository: acme/shop, environment: production, services: [api],"
        " oidc_provider_arn: 'arn:aws:iam::123456789012:oidc-provider/"
        "token.actions.githubusercontent.com'}",
    )
    env = rendered(tmp_path, "dev", text)
    assert set(env.stack("deploy-role-gh").depends_on) == {"ecr", "cluster", "service-api"}
    t = template(tmp_path, "deploy-role-gh", text=text)
    assert "OidcProvider" not in t["Resources"]
    (trust,) = t["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        "repo:acme/shop:environment:production"
    )
