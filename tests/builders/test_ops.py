"""Alerts topic, budget and GitLab deploy role, asserted by what the stacks render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import RenderedEnvironment, load_template
from tests.helpers import compile_text

BP = """\
blueprint: shop
region: eu-west-1
network: {nat: none}
alerts: {emails: [ops@example.com, oncall@example.com]}
budget:
  monthly_limit_usd: 200
  thresholds: [{percent: 90, type: forecasted}, {percent: 100}]
  emails: [finance@example.com]
repositories:
  gateway: {}
sites:
  web: {}
hosts:
  app: {instance_type: t4g.small, subnet: public, public_ip: true}
deploy_roles:
  deploy:
    provider: gitlab
    url: https://gitlab.example.com
    project: acme/platform
    branch: main
    permissions:
      repositories: [gateway]
      run_command_on: [app]
      publish_sites: [web]
  readonly:
    provider: gitlab
    project: acme/tools
    branch: v1
    ref_type: tag
    audience: sts.amazonaws.com
    oidc_provider_arn: arn:aws:iam::123456789012:oidc-provider/gitlab.com
    permissions: {deploy_logs: false}
    deploy_stacks: false
environments: {prod: {}}
"""


def env(tmp_path: Path) -> RenderedEnvironment:
    return compile_text(tmp_path, BP, "prod")


def stack(tmp_path: Path, component: str) -> dict[str, Any]:
    return load_template(env(tmp_path).stack(component).body)


def test_alerts_topic_is_encrypted_with_a_key_alarms_and_budgets_may_use(tmp_path: Path) -> None:
    res = stack(tmp_path, "alerts")["Resources"]
    assert res["AlertsTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    key_policy = res["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert key_policy[1]["Principal"] == {
        "Service": ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
    }
    publish = res["AlertsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert publish["Action"] == ["sns:Publish"]
    emails = [
        v["Properties"]["Endpoint"] for v in res.values() if v["Type"] == "AWS::SNS::Subscription"
    ]
    assert emails == ["ops@example.com", "oncall@example.com"]


def test_budget_notifies_emails_and_the_topic_per_threshold(tmp_path: Path) -> None:
    rendered = env(tmp_path)
    assert rendered.stack("budget").depends_on == ("alerts",)
    budget = load_template(rendered.stack("budget").body)["Resources"]["MonthlyBudget"]
    p = budget["Properties"]
    assert p["Budget"]["BudgetLimit"] == {"Amount": 200.0, "Unit": "USD"}
    assert p["Budget"]["TimeUnit"] == "MONTHLY"
    first, second = p["NotificationsWithSubscribers"]
    assert first["Notification"] == {
        "NotificationType": "FORECASTED",
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": 90.0,
        "ThresholdType": "PERCENTAGE",
    }
    assert second["Notification"]["NotificationType"] == "ACTUAL"
    assert first["Subscribers"] == [
        {"SubscriptionType": "EMAIL", "Address": "finance@example.com"},
        {
            "SubscriptionType": "SNS",
            "Address": {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-alerts-TopicArn"}},
        },
    ]


def test_gitlab_trust_pins_audience_and_subject(tmp_path: Path) -> None:
    res = stack(tmp_path, "deploy-role-deploy")["Resources"]
    assert res["OidcProvider"]["Properties"]["Url"] == "https://gitlab.example.com"
    assert res["OidcProvider"]["Properties"]["ClientIdList"] == ["https://gitlab.example.com"]
    (trust,) = res["Role"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Federated": {"Ref": "OidcProvider"}}
    assert trust["Condition"] == {
        "StringEquals": {
            "gitlab.example.com:aud": "https://gitlab.example.com",
            "gitlab.example.com:sub": "project_path:acme/platform:ref_type:branch:ref:main",
        }
    }
    other = stack(tmp_path, "deploy-role-readonly")["Resources"]
    assert "OidcProvider" not in other and "Policies" not in other["Role"]["Properties"]
    (trust,) = other["Role"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"] == {
        "gitlab.com:aud": "sts.amazonaws.com",
        "gitlab.com:sub": "project_path:acme/tools:ref_type:tag:ref:v1",
    }


def test_gitlab_permissions_are_scoped_to_the_blueprint_resources(tmp_path: Path) -> None:
    rendered = env(tmp_path)
    role_stack = rendered.stack("deploy-role-deploy")
    assert set(role_stack.depends_on) == {"ecr", "host-app", "site-web"}
    res = load_template(role_stack.body)["Resources"]
    st = {
        s["Sid"]: s for s in res["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    }
    assert sorted(st) == [
        "ArtifactBucket",  # these seven: cfngen deploy (deploy_stacks, on by default)
        "ArtifactTemplates",
        "ChangeSetsThroughTheServiceRole",
        "DeployEnvironmentStacks",
        "DeployLogs",
        "EcrLogin",
        "EcrPush",
        "EnvironmentLock",
        "FollowCommands",
        "InvalidateSites",
        "ListSiteBuckets",
        "NotTheDeployRoleStacks",
        "PassOnlyTheServiceRole",
        "PublishSiteObjects",
        "ReadsWithoutResourceScope",
        "RunCommandOnHosts",
    ]
    assert st["EcrPush"]["Resource"] == [
        {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-ecr-GatewayRepositoryArn"}}
    ]
    assert st["RunCommandOnHosts"]["Resource"][0] == {
        "Fn::Sub": [
            "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/${Id}",
            {"Id": {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-host-app-InstanceId"}}},
        ]
    }
    wildcard = sorted(a for s in st.values() if s["Resource"] == ["*"] for a in s["Action"])
    assert wildcard == [
        "cloudformation:DescribeStacks",  # every stack: cfngen deploy finds removed components
        "cloudformation:ListImports",  # no resource-level permission
        "ec2:DescribeInstances",
        "ecr:GetAuthorizationToken",
        "ssm:DescribeInstanceInformation",
        "ssm:GetCommandInvocation",
    ]
