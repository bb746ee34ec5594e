"""Wiring checks of what the blueprint grants: `uses` and a host's own needs (CFG028), deploy
pipelines (CFG029); and the two paths added with them: container instances getting out
(CFG024) and HTTP API VPC links (CFG030). The accesses are written as the manifest records
them; the templates are small hand-written stacks, so each test shows the one statement that
makes the difference."""

from __future__ import annotations

from typing import Any

from cfnlint.decode.decode import decode_str

from cfngen.verify import Environment, Stack
from tests.checks.test_wiring import hits
from tests.checks.test_wiring_more import MOUNT

DATA = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Key:
    Type: AWS::KMS::Key
  Queue:
    Type: AWS::SQS::Queue
    Properties: {KmsMasterKeyId: !GetAtt Key.Arn}
Outputs:
  BucketArn:
    Value: !GetAtt Bucket.Arn
    Export: {Name: !Sub "${EnvironmentName}-data-BucketArn"}
  QueueArn:
    Value: !GetAtt Queue.Arn
    Export: {Name: !Sub "${EnvironmentName}-data-QueueArn"}
"""

APP = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: app
          PolicyDocument:
            Statement:
STATEMENTS
"""

OBJECTS = """\
              - Effect: Allow
                Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]
                Resource: !Sub
                  - ${Arn}/PREFIX*
                  - Arn: !ImportValue {Fn::Sub: "${EnvironmentName}-data-BucketArn"}
              - Effect: Allow
                Action: s3:ListBucket
                Resource: !ImportValue {Fn::Sub: "${EnvironmentName}-data-BucketArn"}
                Condition: {StringLike: {s3:prefix: [LISTED*]}}
"""
CONSUME = """\
              - Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility]
                Resource: !ImportValue {Fn::Sub: "${EnvironmentName}-data-QueueArn"}
"""
DECRYPT = """\
              - {Effect: Allow, Action: kms:Decrypt, Resource: !ImportValue {Fn::Sub: "KEY"}}
"""


def _parse(text: str) -> Any:
    parsed, errors = decode_str(text)
    assert not errors, errors
    return parsed


def _uses(statements: str, *accesses: dict[str, str]) -> list[tuple[str, ...]]:
    stacks = [
        Stack("data", "shop-dev-data", "data.yaml", _parse(DATA)),
        Stack(
            "service-api",
            "shop-dev-service-api",
            "api.yaml",
            _parse(APP.replace("STATEMENTS\n", statements)),
            depends_on=("data",),
        ),
    ]
    return hits("CFG028", Environment(stacks, "eu-west-1", "shop-dev", (), accesses))


def _access(need: str, resource: str, **extra: str) -> dict[str, str]:
    return {"role": "service-api/TaskRole", "need": need, "resource": resource, **extra}


READ_WRITE = _access(
    "uses:read-write",
    "export:shop-dev-data-BucketArn",
    component="results",
    prefix="results/",
    source="services.api.uses.0",
)
CONSUMES = _access(
    "uses:consume", "export:shop-dev-data-QueueArn", component="jobs", source="services.api.uses.1"
)


def test_cfg028_good_bucket_prefix_objects_and_listing() -> None:
    statements = OBJECTS.replace("PREFIX", "results/").replace("LISTED", "results/")
    assert _uses(statements, READ_WRITE) == []


def test_cfg028_bad_objects_of_another_prefix() -> None:
    statements = OBJECTS.replace("PREFIX", "reports/").replace("LISTED", "results/")
    assert _uses(statements, READ_WRITE) == [
        (
            "service-api",
            "TaskRole",
            "role TaskRole cannot use results (read-write): missing s3:GetObject, s3:PutObject, "
            "s3:DeleteObject on Bucket under 'results/'",
            "services.api.uses.0",
        )
    ]


def test_cfg028_bad_listing_condition_of_another_prefix() -> None:
    statements = OBJECTS.replace("PREFIX", "results/").replace("LISTED", "reports/")
    (found,) = _uses(statements, READ_WRITE)
    assert "missing s3:ListBucket on Bucket" in found[2]


def test_cfg028_bad_consumer_of_an_encrypted_queue_without_its_key() -> None:
    assert _uses(CONSUME, CONSUMES) == [
        (
            "service-api",
            "TaskRole",
            "role TaskRole cannot use jobs (consume): missing kms:Decrypt on its KMS key Key",
            "services.api.uses.1",
        )
    ]


def test_cfg028_good_consumer_with_the_queue_key() -> None:
    key = DECRYPT.replace('{Fn::Sub: "KEY"}', '{Fn::Sub: "${EnvironmentName}-data-KeyArn"}')
    data = DATA + (
        "  KeyArn:\n    Value: !GetAtt Key.Arn\n"
        '    Export: {Name: !Sub "${EnvironmentName}-data-KeyArn"}\n'
    )
    stacks = [
        Stack("data", "shop-dev-data", "data.yaml", _parse(data)),
        Stack(
            "service-api",
            "shop-dev-service-api",
            "api.yaml",
            _parse(APP.replace("STATEMENTS\n", CONSUME + key)),
            depends_on=("data",),
        ),
    ]
    assert hits("CFG028", Environment(stacks, "eu-west-1", "shop-dev", (), (CONSUMES,))) == []


HOST_SECRET = _access(
    "parameter",
    "/shop/dev/api-key",
    source="hosts.app.secrets.API_KEY",
    role="service-api/TaskRole",
)
PARAMETER = """\
              - Effect: Allow
                Action: ssm:GetParameter
                Resource: !Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:\\
                  ${AWS::AccountId}:parameterPATH"
"""


def test_cfg028_good_host_reads_its_parameter() -> None:
    assert _uses(PARAMETER.replace("PATH", "/shop/dev/api-key"), HOST_SECRET) == []


def test_cfg028_bad_host_reads_another_parameter() -> None:
    (found,) = _uses(PARAMETER.replace("PATH", "/shop/dev/other"), HOST_SECRET)
    assert found[2] == (
        "role TaskRole cannot read its parameter: missing ssm:GetParameter on "
        "arn:aws:ssm:eu-west-1:*:parameter/shop/dev/api-key"
    )
    assert found[3] == "hosts.app.secrets.API_KEY"


SERVICE = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Cluster:
    Type: AWS::ECS::Cluster
  ExecutionRole:
    Type: AWS::IAM::Role
  TaskRole:
    Type: AWS::IAM::Role
  OtherRole:
    Type: AWS::IAM::Role
  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: !Sub ${EnvironmentName}-web
      ExecutionRoleArn: !GetAtt ExecutionRole.Arn
      TaskRoleArn: !GetAtt TaskRole.Arn
      ContainerDefinitions: [{Name: web, Image: nginx}]
  Service:
    Type: AWS::ECS::Service
    Properties: {Cluster: !Ref Cluster, ServiceName: web, TaskDefinition: !Ref TaskDefinition}
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: deploy
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [ecs:DescribeServices, ecs:UpdateService]
                Resource: !Sub
                  - arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${C}/web
                  - C: !Ref Cluster
                Condition:
                  ArnLikeIfExists:
                    ecs:task-definition: !Sub "arn:${AWS::Partition}:ecs:${AWS::Region}:\\
                      ${AWS::AccountId}:task-definition/${EnvironmentName}-FAMILY:*"
              - Effect: Allow
                Action: iam:PassRole
                Resource: PASSED
              - Effect: Allow
                Action: [ecs:RegisterTaskDefinition, ecs:DescribeTaskDefinition]
                Resource: "*"
"""
DEPLOYS = {
    "role": "service-web/DeployRole",
    "need": "deploy:service",
    "resource": "stack:service-web",
    "source": "deploy_roles.github.services.0",
}
OWN = "[!GetAtt ExecutionRole.Arn, !GetAtt TaskRole.Arn]"


def _deploy(family: str = "web", passed: str = OWN) -> list[tuple[str, ...]]:
    text = SERVICE.replace("FAMILY", family).replace("PASSED", passed)
    stack = Stack("service-web", "shop-dev-service-web", "web.yaml", _parse(text))
    return hits("CFG029", Environment([stack], "eu-west-1", "shop-dev", (), (DEPLOYS,)))


def test_cfg029_good_deploys_its_own_service() -> None:
    assert _deploy() == []


def test_cfg029_bad_update_limited_to_another_family() -> None:
    (found,) = _deploy(family="api")
    assert found[:2] == ("service-web", "DeployRole")
    assert found[2].startswith(
        "cannot update the service to the new revision "
        "(arn:aws:ecs:eu-west-1:*:service/Cluster/web): missing ecs:UpdateService"
    )
    assert found[3] == "deploy_roles.github.services.0"


def test_cfg029_bad_cannot_pass_the_task_role_or_passes_others() -> None:
    (found,) = _deploy(passed="[!GetAtt ExecutionRole.Arn]")
    assert "cannot pass the task's roles to ECS (TaskRole): missing iam:PassRole" in found[2]
    (found,) = _deploy(
        passed="[!GetAtt ExecutionRole.Arn, !GetAtt TaskRole.Arn, !GetAtt OtherRole.Arn]"
    )
    assert found[2] == "may pass roles beyond its services' task and execution roles: OtherRole"
    assert _deploy(passed='"*"')[-1][2].endswith("task and execution roles: *")


# --- CFG024 on EC2 capacity, CFG030 for HTTP APIs: the same network stack as CFG024's tests

ROUTED = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Private:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: vpc-1, CidrBlock: 10.0.1.0/24}
  Table:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: vpc-1}
  Assoc:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref Private, RouteTableId: !Ref Table}
  Default:
    Type: AWS::EC2::Route
    Properties: {RouteTableId: !Ref Table, DestinationCidrBlock: 0.0.0.0/0, GATEWAY}
  Hosts:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: hosts, VpcId: vpc-1}
Outputs:
  PrivateSubnetIds:
    Value: !Join [",", [!Ref Private]]
    Export: {Name: !Sub "${EnvironmentName}-network-PrivateSubnetIds"}
  HostsId:
    Value: !Ref Hosts
    Export: {Name: !Sub "${EnvironmentName}-network-HostsId"}
"""
CLUSTER = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Cluster:
    Type: AWS::ECS::Cluster
  LaunchTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        SecurityGroupIds: [!ImportValue {"Fn::Sub": "${EnvironmentName}-network-HostsId"}]
  AutoScalingGroup:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: "1"
      MaxSize: "2"
      LaunchTemplate: {LaunchTemplateId: !Ref LaunchTemplate, Version: "1"}
      VPCZoneIdentifier:
        Fn::Split:
          - ","
          - !ImportValue {"Fn::Sub": "${EnvironmentName}-network-PrivateSubnetIds"}
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      NetworkMode: bridge
      RequiresCompatibilities: [EC2]
      ContainerDefinitions: [{Name: web, Image: nginx}]
  Service:
    Type: AWS::ECS::Service
    Properties: {Cluster: !Ref Cluster, TaskDefinition: !Ref Task, LaunchType: EC2}
"""


def _instances(gateway: str, network: str = ROUTED) -> list[tuple[str, ...]]:
    stacks = [
        Stack("network", "shop-dev-network", "n.yaml", _parse(network.replace("GATEWAY", gateway))),
        Stack("cluster", "shop-dev-cluster", "c.yaml", _parse(CLUSTER), depends_on=("network",)),
    ]
    return hits("CFG024", Environment(stacks, "eu-west-1", "shop-dev"))


def test_cfg024_good_container_instances_behind_nat() -> None:
    assert _instances("NatGatewayId: nat-1") == []


def test_cfg024_good_container_instances_in_a_subnet_that_maps_public_ips() -> None:
    public = ROUTED.replace(
        "CidrBlock: 10.0.1.0/24}", "CidrBlock: 10.0.1.0/24, MapPublicIpOnLaunch: true}"
    )
    assert _instances("GatewayId: igw-1", public) == []


def test_cfg024_bad_container_instances_without_public_ip_or_nat() -> None:
    assert _instances("GatewayId: igw-1") == [
        (
            "cluster",
            "AutoScalingGroup",
            "subnet Private of the container instances has an internet gateway route but gets "
            "no public IP",
        )
    ]


LINKED = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  LinkGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: link
      VpcId: vpc-1
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: EGRESS
          ToPort: EGRESS
          DestinationSecurityGroupId: !Ref LbGroup
  LbGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: lb
      VpcId: vpc-1
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, SourceSecurityGroupId: !Ref LinkGroup}
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: internal, SecurityGroups: [!Ref LbGroup]}
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties: {LoadBalancerArn: !Ref Lb, Port: 443, Protocol: HTTPS}
  Link:
    Type: AWS::ApiGatewayV2::VpcLink
    Properties: {Name: link, SubnetIds: [subnet-1], SecurityGroupIds: [!Ref LinkGroup]}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: api-1
      IntegrationType: HTTP_PROXY
      ConnectionType: VPC_LINK
      ConnectionId: !Ref Link
      IntegrationUri: !Ref Listener
"""


def _http(egress: int) -> list[tuple[str, ...]]:
    text = LINKED.replace("EGRESS", str(egress))
    return hits("CFG030", Environment([Stack("api", "shop-dev-api", "a.yaml", _parse(text))]))


def test_cfg030_good_http_api_link_reaches_its_listener() -> None:
    assert _http(443) == []


def test_cfg030_bad_http_api_link_cannot_leave_on_the_listener_port() -> None:
    assert _http(80) == [
        (
            "api",
            "Integration",
            "its VPC link Link's security group does not allow egress to listener Listener on "
            "port 443",
        )
    ]


def _declared_mount(who: str) -> list[tuple[str, ...]]:
    mount = {
        "role": "service/TaskRole",
        "need": "uses:read-write",
        "resource": "ref:Fs",
        "access_point": "ref:Point",
        "component": "data",
        "source": "services.api.volumes.0",
    }
    stack = Stack("service", "shop-dev-service", "s.yaml", _parse(MOUNT.replace("WHO", who)))
    return hits("CFG028", Environment([stack], "eu-west-1", "shop-dev", (), (mount,)))


def test_cfg028_good_declared_mount_through_its_access_point() -> None:
    assert _declared_mount("Point") == []


def test_cfg028_bad_declared_mount_named_at_the_volume() -> None:
    assert _declared_mount("Other") == [
        (
            "service",
            "TaskRole",
            "role TaskRole cannot use data (read-write): missing elasticfilesystem:ClientMount, "
            "elasticfilesystem:ClientWrite on Fs",
            "services.api.volumes.0",
        )
    ]
