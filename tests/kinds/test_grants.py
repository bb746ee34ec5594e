"""Grants of buckets and file systems, built from typed specs: what `uses` and `volumes` give."""

from __future__ import annotations

from typing import Any

from tests.kinds.helpers import blueprint, build, imp, plans


def _task_statements(res: dict[str, Any]) -> list[Any]:
    return list(res["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"])


def test_a_read_use_of_a_bucket_under_a_prefix() -> None:
    bp = blueprint(
        buckets={"results": {}},
        services={
            "api": {
                "image": {"uri": "nginx"},
                "uses": [
                    {"component": "results", "access": "read", "prefix": "out/", "env": "BUCKET"}
                ],
            }
        },
    )
    res = build(bp, "service-api")["Resources"]
    arn = imp("bucket-results", "BucketArn")
    assert _task_statements(res) == [
        {
            "Action": ["s3:GetObject"],
            "Effect": "Allow",
            "Resource": [{"Fn::Sub": ["${Arn}/out/*", {"Arn": arn}]}],
        },
        {
            "Action": ["s3:ListBucket"],
            "Condition": {"StringLike": {"s3:prefix": ["out/*"]}},
            "Effect": "Allow",
            "Resource": [arn],
        },
    ]
    env = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"]
    assert env == [{"Name": "BUCKET", "Value": imp("bucket-results", "BucketName")}]
    assert "bucket-results" in plans(bp)["service-api"].depends_on


def test_a_mount_grants_through_its_access_point_only_and_opens_nfs() -> None:
    bp = blueprint(
        file_systems={"data": {"access_points": {"app": {"uid": 1000, "gid": 1000, "path": "/a"}}}},
        tasks={
            "job": {
                "image": {"uri": "nginx"},
                "run": "once",
                "volumes": [
                    {"file_system": "data", "access_point": "app", "path": "/d", "read_only": True}
                ],
            }
        },
    )
    res = build(bp, "task-job")["Resources"]
    assert _task_statements(res) == [
        {
            "Action": ["elasticfilesystem:ClientMount"],
            "Condition": {
                "StringEquals": {
                    "elasticfilesystem:AccessPointArn": imp("efs-data", "AppAccessPointArn")
                }
            },
            "Effect": "Allow",
            "Resource": [imp("efs-data", "FileSystemArn")],
        }
    ]
    security = build(bp, "security")["Resources"]
    nfs = security["EfsDataIngressTcp2049FromTaskJob"]["Properties"]
    assert (nfs["FromPort"], nfs["ToPort"], nfs["Description"]) == (
        2049,
        2049,
        "Task job mounts file system data",
    )
