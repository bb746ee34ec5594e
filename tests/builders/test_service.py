"""ECS services, asserted by what their stacks render."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from cfngen.render import RenderedEnvironment, load_template
from tests.builders.containers_sample import imp, of_type, rendered


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> RenderedEnvironment:
    return rendered(tmp_path_factory.mktemp("svc"))


def t(env: RenderedEnvironment, component: str) -> dict[str, Any]:
    return load_template(env.stack(component).body)


def test_image_tag_is_a_parameter_and_image_comes_from_the_blueprints_repository(
    env: RenderedEnvironment,
) -> None:
    api = t(env, "service-api")
    assert api["Parameters"]["ImageTag"]["Default"] == "v1"
    assert env.stack("service-api").parameters["ImageTag"] == "v1"
    container = api["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Image"] == {
        "Fn::Sub": ["${Uri}:${ImageTag}", {"Uri": imp("ecr", "ShopApiRepositoryUri")}]
    }
    web = t(env, "service-web")["Resources"]["TaskDefinition"]["Properties"]
    assert web["ContainerDefinitions"][0]["Image"] == {
        "Fn::Sub": "public.ecr.aws/nginx/nginx:${ImageTag}"
    }


def test_task_definition_fargate_container_settings(env: RenderedEnvironment) -> None:
    td = t(env, "service-api")["Resources"]["TaskDefinition"]["Properties"]
    assert (td["Cpu"], td["Memory"], td["NetworkMode"]) == ("512", "1024", "awsvpc")
    assert td["RequiresCompatibilities"] == ["FARGATE"]
    assert td["ExecutionRoleArn"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert td["TaskRoleArn"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}
    c = td["ContainerDefinitions"][0]
    assert c["Privileged"] is False and c["ReadonlyRootFilesystem"] is True
    assert c["PortMappings"] == [{"ContainerPort": 3000, "Name": "api-3000", "Protocol": "tcp"}]
    assert c["Environment"] == [
        {"Name": "MODE", "Value": "production"},
        {"Name": "RESULT_BUCKET", "Value": imp("bucket-results", "BucketName")},
    ]
    assert c["HealthCheck"]["Command"] == [
        "CMD-SHELL",
        "curl -f http://localhost:3000/health || exit 1",
    ]
    assert c["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "LogGroup"}
    logs = t(env, "service-api")["Resources"]["LogGroup"]["Properties"]
    assert logs == {
        "LogGroupName": {"Fn::Sub": "/ecs/${EnvironmentName}/api"},
        "RetentionInDays": 30,
    }


def test_secrets_by_reference_and_execution_role_reads_exactly_them(
    env: RenderedEnvironment,
) -> None:
    res = t(env, "service-api")["Resources"]
    c = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert c["Secrets"] == [
        {
            "Name": "API_KEY",
            "ValueFrom": {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                "parameter/shop/api-key"
            },
        },
        {
            "Name": "DB_URL",
            "ValueFrom": {
                "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                "${AWS::AccountId}:secret:shop/db-url:url::"
            },
        },
    ]
    for role in ("ExecutionRole", "TaskRole"):
        (trust,) = res[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Condition"]["StringEquals"] == {
            "aws:SourceAccount": {"Ref": "AWS::AccountId"}
        }
    statements = res["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    by_action = {tuple(s["Action"]): s["Resource"] for s in statements}
    assert by_action[("secretsmanager:GetSecretValue",)] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
            "secret:shop/db-url-??????"
        }
    ]
    assert by_action[("ssm:GetParameters",)] == [c["Secrets"][0]["ValueFrom"]]
    assert by_action[("logs:CreateLogStream", "logs:PutLogEvents")] == [
        {"Fn::GetAtt": ["LogGroup", "Arn"]}
    ]


def test_efs_volume_with_transit_encryption_iam_and_task_role_scoped_to_access_point(
    env: RenderedEnvironment,
) -> None:
    res = t(env, "service-api")["Resources"]
    volume = res["TaskDefinition"]["Properties"]["Volumes"][0]["EFSVolumeConfiguration"]
    assert volume["TransitEncryption"] == "ENABLED"
    assert volume["AuthorizationConfig"] == {
        "AccessPointId": imp("efs-uploads", "ApiAccessPointId"),
        "IAM": "ENABLED",
    }
    statements = res["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    efs = next(s for s in statements if "elasticfilesystem:ClientMount" in s["Action"])
    assert efs["Condition"] == {
        "StringEquals": {
            "elasticfilesystem:AccessPointArn": imp("efs-uploads", "ApiAccessPointArn")
        }
    }
    s3 = next(s for s in statements if "s3:PutObject" in s["Action"])
    assert s3["Resource"] == [
        {"Fn::Sub": ["${Arn}/results/*", {"Arn": imp("bucket-results", "BucketArn")}]}
    ]
    assert any("ssmmessages:OpenDataChannel" in s["Action"] for s in statements)  # ECS Exec


def test_service_deployment_network_and_registrations(env: RenderedEnvironment) -> None:
    res = t(env, "service-api")["Resources"]
    svc = res["Service"]["Properties"]
    assert svc["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }
    assert svc["EnableExecuteCommand"] is True and svc["DesiredCount"] == 2
    assert svc["CapacityProviderStrategy"] == [
        {"Base": 1, "CapacityProvider": "FARGATE", "Weight": 1},
        {"Base": 0, "CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]
    vpc = svc["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert vpc["AssignPublicIp"] == "DISABLED"
    assert vpc["Subnets"] == {"Fn::Split": [",", imp("network", "PrivateSubnetIds")]}
    assert vpc["SecurityGroups"] == [imp("security", "ServiceApiSecurityGroupId")]
    assert svc["LoadBalancers"] == [
        {
            "ContainerName": "api",
            "ContainerPort": 3000,
            "TargetGroupArn": imp("lb-public", "Api3000TargetGroupArn"),
        }
    ]
    assert "ServiceRegistries" not in svc
    connect = svc["ServiceConnectConfiguration"]
    assert connect["Namespace"] == imp("cluster", "NamespaceArn")
    assert connect["Services"] == [
        {
            "ClientAliases": [{"DnsName": "api", "Port": 3000}],
            "DiscoveryName": "api",
            "PortName": "api-3000",
        }
    ]
    web = t(env, "service-web")["Resources"]
    client = web["Service"]["Properties"]
    assert "Services" not in client["ServiceConnectConfiguration"]  # client only
    assert client["ServiceRegistries"] == [
        {"RegistryArn": {"Fn::GetAtt": ["DiscoveryService", "Arn"]}}
    ]
    registry = web["DiscoveryService"]["Properties"]
    assert registry["Name"] == "web"
    assert registry["DnsConfig"]["DnsRecords"] == [{"TTL": 10, "Type": "A"}]
    assert registry["NamespaceId"] == imp("cluster", "NamespaceId")
    policies = of_type(t(env, "service-api"), "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert sorted(
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in policies.values()
    ) == [60.0, 70.0]


def test_bridge_mode_on_ec2_uses_host_ports_and_the_capacity_provider(
    env: RenderedEnvironment,
) -> None:
    res = t(env, "service-legacy")["Resources"]
    td = res["TaskDefinition"]["Properties"]
    assert td["NetworkMode"] == "bridge" and td["RequiresCompatibilities"] == ["EC2"]
    ports = td["ContainerDefinitions"][0]["PortMappings"]
    assert [(p["ContainerPort"], p["HostPort"]) for p in ports] == [(80, 80), (8000, 8000)]
    svc = res["Service"]["Properties"]
    assert "NetworkConfiguration" not in svc
    assert svc["CapacityProviderStrategy"] == [
        {"CapacityProvider": imp("cluster", "Ec2CapacityProvider"), "Weight": 1}
    ]
    assert len(svc["LoadBalancers"]) == 2


def test_dependencies_come_from_typed_references(env: RenderedEnvironment) -> None:
    assert set(env.stack("service-api").depends_on) == {
        "network",
        "cluster",
        "security",
        "ecr",
        "lb-public",
        "efs-uploads",
        "bucket-results",
    }


def test_public_placement_carries_its_reason(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        services:
          api:
            image: {uri: nginx}
            placement: {subnets: public, assign_public_ip: true, reason: dev has no NAT gateway}
        environments: {dev: {}}
        """
    res = load_template(rendered(tmp_path, "dev", text).stack("service-api").body)["Resources"]
    svc = res["Service"]
    vpc = svc["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert vpc["AssignPublicIp"] == "ENABLED"
    assert vpc["Subnets"] == {"Fn::Split": [",", imp("network", "PublicSubnetIds")]}
    reason = "public IP by choice: dev has no NAT gateway"
    assert svc["Metadata"]["cfngen"]["waivers"] == {"CFG002": reason}
    assert svc["Metadata"]["checkov"]["skip"] == [{"id": "CKV_AWS_333", "comment": reason}]


def test_secret_and_value_from_another_kinds_published_attributes(tmp_path: Path) -> None:
    """Typed references resolve through the attributes another kind publishes (a database's)."""
    text = """\
        blueprint: shop
        region: eu-west-1
        databases:
          orders-db: {engine: postgres}
        services:
          api:
            image: {uri: nginx}
            connects_to: [orders-db]
            environment:
              DB_HOST: {from: orders-db, attribute: endpoint}
            secrets:
              DB_PASSWORD: {from: orders-db, attribute: secret_arn, key: password}
        environments: {dev: {}}
        """
    env = rendered(tmp_path, "dev", textwrap.dedent(text))
    assert "database-orders-db" in env.stack("service-api").depends_on
    res = load_template(env.stack("service-api").body)["Resources"]
    container = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    secret_arn = imp("database-orders-db", "SecretArn")
    assert container["Secrets"] == [
        {
            "Name": "DB_PASSWORD",
            "ValueFrom": {"Fn::Sub": ["${Arn}:password::", {"Arn": secret_arn}]},
        }
    ]
    assert container["Environment"] == [
        {"Name": "DB_HOST", "Value": imp("database-orders-db", "Endpoint")}
    ]
    statements = res["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert {
        "Action": ["secretsmanager:GetSecretValue"],
        "Effect": "Allow",
        "Resource": [secret_arn],
    } in statements
