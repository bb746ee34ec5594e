"""An existing VPC: no network resources, its IDs under cfngen's export names."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build


def test_existing_ids_from_ssm_exports_and_literals() -> None:
    bp = blueprint(
        network={
            "cidr": "172.31.0.0/16",
            "existing": {
                "vpc_id": {"ssm": "/platform/vpc-id"},
                "private_subnets": {"import": "platform-PrivateSubnets"},
                "public_subnets": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
            },
        }
    )
    template = build(bp, "network")
    assert [r["Type"] for r in template["Resources"].values()] == [
        "AWS::CloudFormation::WaitConditionHandle"
    ]
    assert template["Parameters"]["VpcId"] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": "/platform/vpc-id",
        "Description": "SSM parameter holding the existing VpcId",
    }
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}
    assert outputs["VpcId"] == {"Ref": "VpcId"}
    assert outputs["PrivateSubnetIds"] == {"Fn::ImportValue": "platform-PrivateSubnets"}
    assert outputs["PublicSubnetIds"] == {
        "Fn::Join": [",", ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]]
    }
    assert outputs["VpcCidr"] == "172.31.0.0/16"


def test_existing_network_errors(tmp_path: Path) -> None:
    head = "blueprint: shop\nregion: eu-west-1\n"
    text = head + textwrap.dedent(
        """\
        network:
          nat: single
          existing: {vpc_id: vpc-123, private_subnets: []}
        environments: {dev: {}}
        """
    )
    errors = errors_of(tmp_path, text)
    assert errors[0].startswith("bp.yaml:5:22: network.existing.vpc_id: 'vpc-123' is not a vpc ID")
    assert errors[1].startswith("bp.yaml:5:48: network.existing.private_subnets: no subnets given")
    text = head + textwrap.dedent(
        """\
        network:
          nat: single
          existing: {vpc_id: vpc-0123456789abcdef0, private_subnets: [subnet-0123456789abcdef0]}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:3: network: `nat` describes a VPC cfngen creates; this one exists (remove "
        "`nat` (set it on the existing VPC itself))"
    ]
    text = head + textwrap.dedent(
        """\
        network:
          existing: {vpc_id: vpc-0123456789abcdef0, private_subnets: [subnet-0123456789abcdef0]}
        load_balancers:
          web: {type: application, scheme: internet-facing, plain_http_reason: demo allowlisted}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:8: load_balancers.web: lb-web needs PublicSubnetIds of network, which does "
        "not offer it in this blueprint (an existing network needs `public_subnets` for public "
        "components)"
    ]


def test_an_existing_bucket_is_named_not_created(tmp_path: Path) -> None:
    bp = blueprint(
        buckets={"media": {"existing": {"name": {"ssm": "/platform/media-bucket"}}}},
        services={
            "api": {
                "image": {"uri": "nginx"},
                "uses": [{"component": "media", "access": "read", "env": "MEDIA"}],
            }
        },
    )
    template = build(bp, "bucket-media")
    assert [r["Type"] for r in template["Resources"].values()] == [
        "AWS::CloudFormation::WaitConditionHandle"
    ]
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}
    assert outputs["BucketName"] == {"Ref": "BucketName"}
    assert outputs["BucketArn"] == {
        "Fn::Sub": ["arn:${AWS::Partition}:s3:::${Name}", {"Name": {"Ref": "BucketName"}}]
    }
    policy = str(build(bp, "service-api")["Resources"]["TaskRole"])
    assert "bucket-media-BucketArn" in policy  # the grant reaches the existing bucket
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        buckets:
          media: {versioning: true, existing: {name: Media_Bucket}}
        environments: {dev: {}}
        """
    )
    errors = errors_of(tmp_path, text)
    assert errors[0].startswith("bp.yaml:4:46: buckets.media.existing.name: 'Media_Bucket' is not")
    text = text.replace("Media_Bucket", "media-bucket")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:10: buckets.media: `versioning` configures a bucket cfngen creates; this one "
        "exists (remove `versioning` (configure the existing bucket itself))"
    ]
