"""Wiring checks, continued: tasks getting out (CFG024), declared relations (CFG023), VPC links
(CFG030), CloudFront origins (CFG031) and instance capabilities (CFG032)."""

from __future__ import annotations

from cfnlint.decode.decode import decode_str

from cfngen.checks import CHECKS, TemplateView
from cfngen.verify import Environment, Stack
from tests.checks import test_wiring as base

env, hits, NETWORK = base.env, base.hits, base.NETWORK


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
    Properties: {RouteTableId: !Ref Table, DestinationCidrBlock: 0.0.0.0/0, NatGatewayId: nat-1}
  Tasks:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: tasks, VpcId: vpc-1}
Outputs:
  PrivateSubnetIds:
    Value: !Join [",", [!Ref Private]]
    Export: {Name: !Sub "${EnvironmentName}-network-PrivateSubnetIds"}
  TasksId:
    Value: !Ref Tasks
    Export: {Name: !Sub "${EnvironmentName}-network-TasksId"}
"""
FARGATE = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Service:
    Type: AWS::ECS::Service
    Properties:
      LaunchType: FARGATE
      NetworkConfiguration:
        AwsvpcConfiguration:
          AssignPublicIp: DISABLED
          SecurityGroups: [!ImportValue {"Fn::Sub": "${EnvironmentName}-network-TasksId"}]
          Subnets:
            Fn::Split:
              - ","
              - !ImportValue {"Fn::Sub": "${EnvironmentName}-network-PrivateSubnetIds"}
"""


def _egress(network: str = ROUTED) -> list[tuple[str, str, str]]:
    stacks = []
    for comp, text, deps in (("network", network, ()), ("service", FARGATE, ("network",))):
        parsed, errors = decode_str(text)
        assert not errors, errors
        stacks.append(Stack(comp, f"shop-dev-{comp}", f"{comp}.yaml", parsed, {}, deps))
    return hits("CFG024", Environment(stacks))


def test_cfg024_good_private_subnet_with_a_nat_route() -> None:
    assert _egress() == []


def test_cfg024_bad_private_subnet_without_nat_or_endpoints() -> None:
    found = _egress(
        ROUTED.replace("NatGatewayId: nat-1", "VpcPeeringConnectionId: pcx-1").replace(
            "DestinationCidrBlock: 0.0.0.0/0", "DestinationCidrBlock: 10.1.0.0/16"
        )
    )
    assert [(c, r) for c, r, _ in found] == [("service", "Service")]
    assert "subnet Private has no NAT route" in found[0][2] and "ecr.dkr" in found[0][2]


def test_cfg024_bad_no_https_out() -> None:
    closed = ROUTED.replace(
        "Properties: {GroupDescription: tasks, VpcId: vpc-1}",
        "Properties:\n      GroupDescription: tasks\n      VpcId: vpc-1\n"
        "      SecurityGroupEgress: [{IpProtocol: tcp, FromPort: 5432, ToPort: 5432, "
        "CidrIp: 10.0.0.0/16}]",
    )
    found = _egress(closed)
    assert [m for _, _, m in found] == ["the tasks' security group does not allow HTTPS (443) out"]


LAUNCH = """\
Parameters:
  Image:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id
Resources:
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData: {InstanceType: TYPE, ImageId: !Ref Image, EbsOptimized: true}
"""


def _capabilities(instance: str, text: str = LAUNCH) -> list[tuple[str, str]]:
    parsed, errors = decode_str(text.replace("TYPE", instance))
    assert not errors, errors
    return list(CHECKS["CFG032"].run(TemplateView(parsed)))


def test_cfg032_good_supported_type_and_matching_ami() -> None:
    assert _capabilities("t3.small") == []
    assert _capabilities("m3.xlarge") == []


def test_cfg032_bad_ebs_optimized_t2_and_an_x86_ami_on_graviton() -> None:
    assert _capabilities("t2.micro") == [
        ("Template", "t2.micro does not support EBS optimization but EbsOptimized is true")
    ]
    (found,) = _capabilities("m7g.large")
    assert found[0] == "Template" and "m7g.large runs arm64 AMIs" in found[1]


def _related(network: str = NETWORK, ports: str = "8080") -> list[tuple[str, ...]]:
    tag = "      Tags: [{Key: Name, Value: !Sub '${EnvironmentName}-%s'}]\n"
    tagged = network.replace(
        "      GroupDescription: lb\n", "      GroupDescription: lb\n" + tag % "lb-web"
    ).replace(
        "      GroupDescription: app\n", "      GroupDescription: app\n" + tag % "service-app"
    )
    base = env(network=tagged)
    relation = {
        "from": "lb-web",
        "to": "service-app",
        "protocol": "tcp",
        "ports": ports,
        "description": "Load balancer web to service app",
        "source": "services.app.routes[0]",
    }
    related = Environment(list(base.stacks.values()), base.region, "shop-dev", [relation])
    return [tuple(h) for h in CHECKS["CFG023"].run(related)]


def test_cfg023_good_the_groups_permit_the_relation() -> None:
    assert _related() == []


def test_cfg023_bad_relation_on_a_port_the_groups_do_not_open() -> None:
    found = _related(ports="9090")
    assert [(c, r, p) for c, r, _, p in found] == [
        ("security", "AppGroup", "services.app.routes[0]"),
        ("security", "LbGroup", "services.app.routes[0]"),
    ]
    assert "port 9090 is not admitted" in found[0][2] and "cannot leave" in found[1][2]


NLB = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Type: network, Scheme: internal}
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties: {LoadBalancerArn: !Ref Lb, Port: 8000, Protocol: TCP}
Outputs:
  Arn:
    Value: !Ref Lb
    Export: {Name: !Sub "${EnvironmentName}-lb-Arn"}
  Dns:
    Value: !GetAtt Lb.DNSName
    Export: {Name: !Sub "${EnvironmentName}-lb-Dns"}
"""
REST = """\
Parameters:
  EnvironmentName: {Type: String, Default: shop-dev}
Resources:
  VpcLink:
    Type: AWS::ApiGateway::VpcLink
    Properties:
      Name: link
      TargetArns: [!ImportValue {"Fn::Sub": "${EnvironmentName}-lb-Arn"}]
  Method:
    Type: AWS::ApiGateway::Method
    Properties:
      HttpMethod: GET
      Integration:
        ConnectionType: VPC_LINK
        ConnectionId: !Ref VpcLink
        Type: HTTP_PROXY
        Uri:
          Fn::Sub:
            - http://${Dns}:PORT/
            - Dns: !ImportValue {"Fn::Sub": "${EnvironmentName}-lb-Dns"}
"""


def _api(port: int) -> list[tuple[str, str, str]]:
    stacks = []
    for comp, text, deps in (("lb", NLB, ()), ("api", REST.replace("PORT", str(port)), ("lb",))):
        parsed, errors = decode_str(text)
        assert not errors, errors
        stacks.append(Stack(comp, f"shop-dev-{comp}", f"{comp}.yaml", parsed, {}, deps))
    return hits("CFG030", Environment(stacks))


def test_cfg030_good_vpc_link_to_a_listener_port() -> None:
    assert _api(8000) == []


def test_cfg030_bad_integration_port_without_a_listener() -> None:
    assert _api(9000) == [
        (
            "api",
            "Method",
            "the integration sends to port 9000, but load balancer Lb has no listener on it",
        )
    ]


SITE = """\
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Access:
    Type: AWS::CloudFront::OriginAccessControl
    Properties:
      OriginAccessControlConfig:
        Name: site
        OriginAccessControlOriginType: s3
        SigningBehavior: always
        SigningProtocol: sigv4
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: cloudfront.amazonaws.com}
            Action: s3:GetObject
            Resource: !Sub "${Bucket.Arn}/*"
            Condition:
              StringEquals:
                AWS:SourceArn: !Sub "arn:aws:cloudfront::${AWS::AccountId}:distribution/${WHO}"
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins:
          - Id: site-bucket
            DomainName: !GetAtt Bucket.RegionalDomainName
            OriginAccessControlId: !GetAtt Access.Id
            S3OriginConfig: {OriginAccessIdentity: ""}
  Other:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig: {Enabled: true}
"""


def _site(who: str) -> list[tuple[str, str, str]]:
    parsed, errors = decode_str(SITE.replace("WHO", who))
    assert not errors, errors
    return hits("CFG031", Environment([Stack("site", "shop-dev-site", "site.yaml", parsed)]))


def test_cfg031_good_bucket_policy_for_this_distribution() -> None:
    assert _site("Site") == []


def test_cfg031_bad_bucket_policy_for_another_distribution() -> None:
    assert _site("Other") == [
        (
            "site",
            "Site",
            "origin site-bucket: the policy of bucket Bucket does not allow "
            "cloudfront.amazonaws.com s3:GetObject for this distribution",
        )
    ]


MOUNT = """\
Resources:
  Fs:
    Type: AWS::EFS::FileSystem
  Point:
    Type: AWS::EFS::AccessPoint
    Properties: {FileSystemId: !Ref Fs}
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: app
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite]
                Resource: !GetAtt Fs.Arn
                Condition: {StringEquals: {elasticfilesystem:AccessPointArn: !GetAtt WHO.Arn}}
  Other:
    Type: AWS::EFS::AccessPoint
    Properties: {FileSystemId: !Ref Fs}
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      TaskRoleArn: !GetAtt TaskRole.Arn
      ContainerDefinitions:
        - {Name: app, Image: nginx, MountPoints: [{SourceVolume: data, ContainerPath: /data}]}
      Volumes:
        - Name: data
          EFSVolumeConfiguration:
            FilesystemId: !Ref Fs
            TransitEncryption: ENABLED
            AuthorizationConfig: {AccessPointId: !Ref Point, IAM: ENABLED}
"""


def _mount(who: str) -> list[tuple[str, str, str]]:
    parsed, errors = decode_str(MOUNT.replace("WHO", who))
    assert not errors, errors
    return hits("CFG028", Environment([Stack("service", "shop-dev-service", "s.yaml", parsed)]))


def test_cfg028_good_task_role_mounts_through_its_access_point() -> None:
    assert _mount("Point") == []


def test_cfg028_bad_condition_names_another_access_point() -> None:
    assert _mount("Other") == [
        (
            "service",
            "Task",
            "task role TaskRole cannot mount volume data (Fs): missing "
            "elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite",
        )
    ]


KEYED = """\
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties: {KeyPolicy: {Version: "2012-10-17", Statement: []}}
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties: {KmsKeyId: !Ref Key}
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: agent
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: secretsmanager:GetSecretValue, Resource: !Ref Secret}
DECRYPT
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ExecutionRoleArn: !GetAtt ExecutionRole.Arn
      ContainerDefinitions:
        - {Name: app, Image: nginx, Secrets: [{Name: TOKEN, ValueFrom: !Ref Secret}]}
"""
DECRYPT = "              - {Effect: Allow, Action: kms:Decrypt, Resource: !GetAtt Key.Arn}"


def _keyed(decrypt: str) -> list[tuple[str, str, str]]:
    parsed, errors = decode_str(KEYED.replace("DECRYPT\n", decrypt))
    assert not errors, errors
    return hits("CFG026", Environment([Stack("service", "shop-dev-service", "s.yaml", parsed)]))


def test_cfg026_good_secret_key_with_decrypt() -> None:
    assert _keyed(DECRYPT + "\n") == []


def test_cfg026_bad_secret_key_without_decrypt() -> None:
    (found,) = _keyed("")
    assert found[:2] == ("service", "Task")
    assert "cannot decrypt app's secret TOKEN (Secret) with its key Key" in found[2]


EDGE = """\
Resources:
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: SCHEME}
  Https:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties: {LoadBalancerArn: !Ref Lb, Port: 443, Protocol: HTTPS}
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins:
          - Id: app
            DomainName: !GetAtt Lb.DNSName
            CustomOriginConfig: {OriginProtocolPolicy: https-only, HTTPSPort: PORT}
"""


def _edge(scheme: str, port: int) -> list[str]:
    text = EDGE.replace("SCHEME", scheme).replace("PORT", str(port))
    parsed, errors = decode_str(text)
    assert not errors, errors
    found = hits("CFG031", Environment([Stack("edge", "shop-dev-edge", "e.yaml", parsed)]))
    return [m for _, _, m in found]


def test_cfg031_good_internet_facing_origin_on_its_listener() -> None:
    assert _edge("internet-facing", 443) == []


def test_cfg031_bad_internal_or_unlistened_load_balancer_origin() -> None:
    assert _edge("internal", 443) == [
        "origin app: load balancer Lb is internal; CloudFront reaches origins over the internet"
    ]
    assert _edge("internet-facing", 8443) == [
        "origin app: load balancer Lb has no listener on 8443"
    ]
