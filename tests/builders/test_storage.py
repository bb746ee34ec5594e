"""ECR repositories, EFS file systems and data buckets, asserted by what they render."""

from __future__ import annotations

import json
from pathlib import Path

from tests.builders.containers_sample import SAMPLE, imp, template


def test_ecr_scan_on_push_lifecycle_immutable_and_retained(tmp_path: Path) -> None:
    t = template(tmp_path, "ecr")
    repo = t["Resources"]["ShopApiRepository"]
    assert repo["DeletionPolicy"] == repo["UpdateReplacePolicy"] == "Retain"
    p = repo["Properties"]
    assert p["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert p["ImageTagMutability"] == "IMMUTABLE"
    assert p["RepositoryName"] == {"Fn::Sub": "${EnvironmentName}-shop-api"}
    rule = json.loads(p["LifecyclePolicy"]["LifecyclePolicyText"])["rules"][0]
    assert rule["selection"]["countNumber"] == 15
    assert set(t["Outputs"]) == {
        "ShopApiRepositoryUri",
        "ShopApiRepositoryArn",
        "ShopApiRepositoryName",
    }


def test_efs_encrypted_retained_mount_target_per_az_access_point_posix_user(
    tmp_path: Path,
) -> None:
    res = template(tmp_path, "efs-uploads")["Resources"]
    fs = res["FileSystem"]
    assert fs["DeletionPolicy"] == fs["UpdateReplacePolicy"] == "Retain"
    assert fs["Properties"]["Encrypted"] is True
    policy = fs["Properties"]["FileSystemPolicy"]["Statement"]
    assert [s["Sid"] for s in policy] == [
        "MountThroughMountTargetsWithIam",
        "DenyInsecureTransport",
    ]
    assert policy[0]["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    targets = [k for k in res if k.startswith("MountTarget")]
    assert targets == ["MountTarget1", "MountTarget2"]
    assert res["MountTarget2"]["Properties"]["SecurityGroups"] == [
        imp("security", "EfsUploadsSecurityGroupId")
    ]
    ap = res["ApiAccessPoint"]["Properties"]
    assert ap["PosixUser"] == {"Gid": "10001", "Uid": "10001"}
    assert ap["RootDirectory"]["Path"] == "/api"
    assert ap["RootDirectory"]["CreationInfo"]["Permissions"] == "0750"


def test_bucket_private_encrypted_owner_enforced_tls_only_expiring_retained(
    tmp_path: Path,
) -> None:
    res = template(tmp_path, "bucket-results")["Resources"]
    bucket = res["Bucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    p = bucket["Properties"]
    assert set(p["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(p["PublicAccessBlockConfiguration"]) == 4
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    encryption = p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert p["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 30
    (deny,) = res["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "LoggingConfiguration" not in p
    assert "CKV_AWS_18" in [s["id"] for s in bucket["Metadata"]["checkov"]["skip"]]


def test_bucket_server_access_logs_on_request(tmp_path: Path) -> None:
    text = SAMPLE.replace(
        "results: {expire_after_days: 30}",
        "results: {expire_after_days: 30, access_logs_bucket: shop-s3-logs}",
    )
    bucket = template(tmp_path, "bucket-results", text=text)["Resources"]["Bucket"]
    assert bucket["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": "shop-s3-logs",
        "LogFilePrefix": {"Fn::Sub": "${EnvironmentName}/results/"},
    }
    assert "CKV_AWS_18" not in [s["id"] for s in bucket["Metadata"]["checkov"]["skip"]]


def test_security_groups_from_relations(tmp_path: Path) -> None:
    res = template(tmp_path, "security")["Resources"]
    nfs = res["EfsUploadsIngressTcp2049FromServiceApi"]["Properties"]
    assert (nfs["FromPort"], nfs["Description"]) == (2049, "Service api mounts file system uploads")
    # api's egress is restricted: the relation adds the matching egress rule
    assert "ServiceApiEgressTcp2049ToEfsUploads" in res
    assert "ServiceApiIngressTcp3000FromLbPublic" in res
    assert "ServiceApiIngressTcp3000FromServiceWeb" in res  # web connects_to api
    # bridge-mode tasks use the instances' group, reached on the host ports
    assert "ClusterIngressTcp8000FromLbPrivate" in res
    public = res["LbPublicSecurityGroup"]
    ports = sorted(r["FromPort"] for r in public["Properties"]["SecurityGroupIngress"])
    assert ports == [80, 443]
    assert public["Metadata"]["checkov"]["skip"][0]["id"] == "CKV_AWS_260"
