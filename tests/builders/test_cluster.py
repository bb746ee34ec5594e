"""The ECS cluster stack, asserted by what it renders."""

from __future__ import annotations

from pathlib import Path

from cfngen.render import load_template
from tests.builders.containers_sample import imp, rendered, template


def test_cluster_with_fargate_spot_and_ec2_capacity(tmp_path: Path) -> None:
    res = template(tmp_path, "cluster")["Resources"]
    cluster = res["Cluster"]["Properties"]
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]
    assert cluster["ServiceConnectDefaults"] == {"Namespace": {"Fn::GetAtt": ["Namespace", "Arn"]}}
    assoc = res["CapacityProviderAssociations"]["Properties"]
    assert assoc["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT", {"Ref": "Ec2CapacityProvider"}]
    assert assoc["DefaultCapacityProviderStrategy"] == [
        {"Base": 1, "CapacityProvider": "FARGATE", "Weight": 1},
        {"Base": 0, "CapacityProvider": "FARGATE_SPOT", "Weight": 3},
        {"Base": 0, "CapacityProvider": {"Ref": "Ec2CapacityProvider"}, "Weight": 1},
    ]
    assert res["Namespace"]["Properties"]["Name"] == "shop.internal"


def test_ec2_capacity_ami_from_ssm_imdsv2_private_subnets_managed_scaling(tmp_path: Path) -> None:
    t = template(tmp_path, "cluster")
    assert t["Parameters"]["Ec2ImageId"] == {
        "Default": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
        "Description": "ECS-optimised AMI, resolved from AWS's public SSM parameter at deploy.",
        "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
    }
    data = t["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["ImageId"] == {"Ref": "Ec2ImageId"}
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["IamInstanceProfile"] == {"Arn": {"Fn::GetAtt": ["InstanceProfile", "Arn"]}}
    assert data["SecurityGroupIds"] == [imp("security", "ClusterSecurityGroupId")]
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    asg = t["Resources"]["AutoScalingGroup"]["Properties"]
    assert asg["VPCZoneIdentifier"] == {"Fn::Split": [",", imp("network", "PrivateSubnetIds")]}
    assert (asg["MinSize"], asg["MaxSize"]) == ("1", "4")
    provider = t["Resources"]["Ec2CapacityProvider"]["Properties"]["AutoScalingGroupProvider"]
    assert provider["ManagedScaling"]["Status"] == "ENABLED"
    assert provider["ManagedDraining"] == "ENABLED"
    assert provider["AutoScalingGroupArn"] == {"Ref": "AutoScalingGroup"}


def test_services_alone_get_a_fargate_cluster_without_namespace(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        services:
          api: {image: {uri: nginx}}
        environments: {dev: {}}
        """
    env = rendered(tmp_path, "dev", text)
    res = load_template(env.stack("cluster").body)["Resources"]
    assert set(res) == {"Cluster", "CapacityProviderAssociations"}
    assert res["CapacityProviderAssociations"]["Properties"]["DefaultCapacityProviderStrategy"] == [
        {"Base": 0, "CapacityProvider": "FARGATE", "Weight": 1}
    ]
    assert env.stack("cluster").depends_on == ()
