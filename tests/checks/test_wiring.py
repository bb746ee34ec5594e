"""Wiring checks (cfngen verify): imports (CFG020), attached target groups (CFG021), load balancer
to targets (CFG022), image pulls (CFG025) and log writes (CFG027) across the stacks of one
environment. Each test writes a small environment of two or three stacks."""

from __future__ import annotations

import textwrap

from cfnlint.decode.decode import decode_str

from cfngen.checks import CHECKS
from cfngen.verify import Environment, Stack

NETWORK = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  LbGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: lb
      SecurityGroupEgress:
        - {IpProtocol: tcp, FromPort: 8080, ToPort: 8080, DestinationSecurityGroupId: !Ref AppGroup}
  AppGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 8080, ToPort: 8080, SourceSecurityGroupId: !Ref LbGroup}
Outputs:
  LbGroupId:
    Value: !Ref LbGroup
    Export: {Name: !Sub "${EnvironmentName}-security-LbGroupId"}
  AppGroupId:
    Value: !Ref AppGroup
    Export: {Name: !Sub "${EnvironmentName}-security-AppGroupId"}
"""

BALANCER = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      SecurityGroups: [!ImportValue {"Fn::Sub": "${EnvironmentName}-security-LbGroupId"}]
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Lb
      Port: 443
      DefaultActions: [{Type: forward, TargetGroupArn: !Ref Group}]
  Group:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: {Port: 8080, Protocol: HTTP, TargetType: ip}
Outputs:
  GroupArn:
    Value: !Ref Group
    Export: {Name: !Sub "${EnvironmentName}-lb-GroupArn"}
"""

SERVICE = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
  Repo:
    Type: AWS::ECR::Repository
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: agent
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]
                Resource: !GetAtt Repo.Arn
              - {Effect: Allow, Action: ecr:GetAuthorizationToken, Resource: "*"}
              - Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents]
                Resource: !GetAtt Logs.Arn
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      NetworkMode: awsvpc
      ExecutionRoleArn: !GetAtt ExecutionRole.Arn
      ContainerDefinitions:
        - Name: app
          Image: !Sub "${Repo.RepositoryUri}:latest"
          PortMappings: [{ContainerPort: 8080}]
          LogConfiguration: {LogDriver: awslogs, Options: {awslogs-group: !Ref Logs}}
  Service:
    Type: AWS::ECS::Service
    Properties:
      TaskDefinition: !Ref Task
      NetworkConfiguration:
        AwsvpcConfiguration:
          SecurityGroups: [!ImportValue {"Fn::Sub": "${EnvironmentName}-security-AppGroupId"}]
      LoadBalancers:
        - ContainerName: app
          ContainerPort: 8080
          TargetGroupArn: !ImportValue {"Fn::Sub": "${EnvironmentName}-lb-GroupArn"}
"""


def env(network: str = NETWORK, balancer: str = BALANCER, service: str = SERVICE) -> Environment:
    stacks = []
    for comp, text, deps in (
        ("security", network, ()),
        ("lb", balancer, ("security",)),
        ("service", service, ("security", "lb")),
    ):
        parsed, errors = decode_str(textwrap.dedent(text))
        assert not errors, errors
        stacks.append(Stack(comp, f"shop-dev-{comp}", f"{comp}.yaml", parsed, {}, deps))
    return Environment(stacks)


def hits(rule: str, environment: Environment) -> list[tuple[str, str, str]]:
    assert CHECKS[rule].scope == "environment"
    return list(CHECKS[rule].run(environment))


def test_cfg020_good_imports_of_earlier_stacks() -> None:
    assert hits("CFG020", env()) == []


def test_cfg020_bad_misspelled_export_with_a_suggestion() -> None:
    broken = SERVICE.replace("-lb-GroupArn", "-lb-GrupArn")
    found = hits("CFG020", env(service=broken))
    assert [(c, r) for c, r, _ in found] == [("service", "Service")]
    assert (
        "shop-dev-lb-GrupArn" in found[0][2]
        and "did you mean 'shop-dev-lb-GroupArn'" in found[0][2]
    )


def test_cfg020_bad_import_of_a_stack_not_depended_on() -> None:
    stacks = list(env().stacks.values())
    stacks[2].depends_on = ("security",)
    found = hits("CFG020", Environment(stacks))
    assert [(c, r) for c, r, _ in found] == [("service", "Service")]
    assert "does not depend on" in found[0][2]


def test_cfg021_good_forwarded_and_registered() -> None:
    assert hits("CFG021", env()) == []


def test_cfg021_bad_no_listener_and_no_service() -> None:
    balancer = BALANCER.replace("TargetGroupArn: !Ref Group", "TargetGroupArn: !Ref Other")
    service = SERVICE.split("  Service:\n")[0]
    found = hits("CFG021", env(balancer=balancer, service=service))
    assert [(c, r) for c, r, _ in found] == [("lb", "Group"), ("lb", "Group")]
    assert "no listener" in found[0][2] and "registered" in found[1][2]


def test_cfg022_good_groups_open_the_container_port() -> None:
    assert hits("CFG022", env()) == []


def test_cfg022_bad_targets_do_not_admit_the_balancer() -> None:
    network = NETWORK.replace(
        "FromPort: 8080, ToPort: 8080, SourceSecurityGroupId",
        "FromPort: 80, ToPort: 80, SourceSecurityGroupId",
    )
    found = hits("CFG022", env(network=network))
    assert [(c, r) for c, r, _ in found] == [("service", "Service")]
    assert "does not admit the load balancer on port 8080" in found[0][2]


def test_cfg022_bad_bridge_mode_needs_the_dynamic_range() -> None:
    bridge = SERVICE.replace("NetworkMode: awsvpc", "NetworkMode: bridge").replace(
        "[{ContainerPort: 8080}]", "[{ContainerPort: 8080, HostPort: 0}]"
    )
    bridge += """\
  Cluster:
    Type: AWS::ECS::Cluster
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        SecurityGroupIds: [!ImportValue {"Fn::Sub": "${EnvironmentName}-security-AppGroupId"}]
"""
    bridge = bridge.replace(
        "      TaskDefinition: !Ref Task\n",
        "      TaskDefinition: !Ref Task\n      Cluster: !Ref Cluster\n",
    )
    found = hits("CFG022", env(service=bridge))
    assert any("ports 32768-65535" in m and "egress" in m for _, _, m in found), found
    assert any("ports 32768-65535" in m and "admit" in m for _, _, m in found), found
    opened = NETWORK.replace("FromPort: 8080, ToPort: 8080", "FromPort: 32768, ToPort: 65535")
    assert hits("CFG022", env(network=opened, service=bridge)) == []


def test_cfg025_good_role_pulls_the_repository() -> None:
    assert hits("CFG025", env()) == []


def test_cfg025_bad_missing_pull_action() -> None:
    found = hits("CFG025", env(service=SERVICE.replace("ecr:BatchGetImage, ", "")))
    assert [(c, r) for c, r, _ in found] == [("service", "Task")]
    assert "missing ecr:BatchGetImage" in found[0][2]


def test_cfg025_bad_private_ecr_uri_without_permissions() -> None:
    uri = SERVICE.replace(
        '!Sub "${Repo.RepositoryUri}:latest"',
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/app:1.0",
    )
    found = hits("CFG025", env(service=uri))
    assert len(found) == 1 and "repository/shop/app" in found[0][2]
    fixed = uri.replace(
        "Resource: !GetAtt Repo.Arn",
        "Resource: arn:aws:ecr:us-east-1:123456789012:repository/shop/app",
    )
    assert hits("CFG025", env(service=fixed)) == []


def test_cfg027_good_role_writes_the_log_group() -> None:
    assert hits("CFG027", env()) == []


def test_cfg027_bad_log_group_of_another_resource() -> None:
    found = hits(
        "CFG027",
        env(service=SERVICE.replace("Resource: !GetAtt Logs.Arn", "Resource: !GetAtt Repo.Arn")),
    )
    assert [(c, r) for c, r, _ in found] == [("service", "Task")]
    assert "logs:CreateLogStream, logs:PutLogEvents" in found[0][2]


def test_cfg020_good_import_of_another_environments_export() -> None:
    shared = SERVICE.replace(
        '"${EnvironmentName}-security-AppGroupId"', '"network-shared-AppGroupId"'
    )
    assert hits("CFG020", env(service=shared)) == []


PUBLIC_GROUP = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  LbGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: public load balancer
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0, Description: clients}
Outputs:
  LbGroupId:
    Value: !GetAtt LbGroup.GroupId
    Export: {Name: !Sub "${EnvironmentName}-security-LbGroupId"}
"""
PUBLIC_LB = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Scheme: SCHEME
      Subnets: [subnet-1, subnet-2]
      SecurityGroups: [!ImportValue {"Fn::Sub": "${EnvironmentName}-security-LbGroupId"}]
"""


def _cfg013(scheme: str) -> list[tuple[str, str]]:
    from cfngen.lint import Template, lint_templates

    report = lint_templates(
        [
            Template("shop-dev-security", "security.yaml", PUBLIC_GROUP, "us-east-1"),
            Template("shop-dev-lb", "lb.yaml", PUBLIC_LB.replace("SCHEME", scheme), "us-east-1"),
        ]
    )
    return [(f.file, f.resource) for f in report.findings if f.rule == "CFG013"]


def test_cfg013_sees_the_internet_facing_balancer_of_another_stack() -> None:
    assert _cfg013("internet-facing") == []
    assert _cfg013("internal") == [("security.yaml", "LbGroup")]


_SECRET = (
    "          Secrets:\n"
    "            - Name: DB_URL\n"
    "              ValueFrom: !Sub 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
    "${AWS::AccountId}:secret:shop/db-url:url::'\n"
    "            - {Name: API_KEY, ValueFrom: /shop/api-key}\n"
)
_READS = (
    "              - Effect: Allow\n"
    "                Action: secretsmanager:GetSecretValue\n"
    "                Resource: !Sub 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
    "${AWS::AccountId}:secret:shop/db-url-??????'\n"
    "              - Effect: Allow\n"
    "                Action: ssm:GetParameters\n"
    "                Resource: !Sub 'arn:${AWS::Partition}:ssm:${AWS::Region}:"
    "${AWS::AccountId}:parameter/shop/api-key'\n"
)


def _with_secrets(reads: str = _READS) -> str:
    text = SERVICE.replace("          PortMappings:", _SECRET + "          PortMappings:")
    return text.replace("  Task:\n", reads + "  Task:\n", 1)


def test_cfg026_good_role_reads_each_secret() -> None:
    assert hits("CFG026", env(service=_with_secrets())) == []


def test_cfg026_bad_a_parameter_the_role_cannot_read() -> None:
    reads = _READS.replace("parameter/shop/api-key", "parameter/shop/other")
    found = hits("CFG026", env(service=_with_secrets(reads)))
    assert [(c, r) for c, r, _ in found] == [("service", "Task")]
    assert "secret API_KEY" in found[0][2] and "missing ssm:GetParameters" in found[0][2]
