"""RDS databases, asserted by what the stacks render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import load_template
from tests.helpers import compile_text

DB = """\
blueprint: shop
region: eu-west-1
databases:
  orders-db: {engine: postgres, max_storage_gb: 40, database_name: orders}
  legacy:
    engine: mysql
    engine_version: 8.0.40
    instance_class: db.t4g.medium
    multi_az: true
    backup_retention_days: 14
hosts:
  app: {instance_type: t4g.small, subnet: private, connects_to: [orders-db]}
environments:
  dev:
    databases: {orders-db: {deletion_protection: false}}
  prod: {}
"""


def stack(tmp_path: Path, component: str, env: str = "prod", text: str = DB) -> dict[str, Any]:
    return load_template(compile_text(tmp_path, text, env).stack(component).body)


def test_postgres_instance_is_private_encrypted_managed_password_and_snapshotted(
    tmp_path: Path,
) -> None:
    t = stack(tmp_path, "database-orders-db")
    db = t["Resources"]["Instance"]
    assert db["DeletionPolicy"] == db["UpdateReplacePolicy"] == "Snapshot"
    p = db["Properties"]
    assert p["Engine"] == "postgres" and p["EngineVersion"] == "17.5"
    assert p["StorageEncrypted"] is True and p["PubliclyAccessible"] is False
    assert p["ManageMasterUserPassword"] is True and "MasterUserPassword" not in p
    assert (p["AllocatedStorage"], p["MaxAllocatedStorage"]) == ("20", 40)
    assert p["BackupRetentionPeriod"] == 7 and p["DeletionProtection"] is True
    assert p["MultiAZ"] is False and p["DBName"] == "orders"
    assert p["VPCSecurityGroups"] == [
        {
            "Fn::ImportValue": {
                "Fn::Sub": "${EnvironmentName}-security-DatabaseOrdersDbSecurityGroupId"
            }
        }
    ]
    assert t["Resources"]["SubnetGroup"]["Properties"]["SubnetIds"] == {
        "Fn::Split": [
            ",",
            {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-network-PrivateSubnetIds"}},
        ]
    }
    params = t["Resources"]["ParameterGroup"]["Properties"]
    assert params["Family"] == "postgres17" and params["Parameters"] == {"rds.force_ssl": "1"}
    # Single-AZ is a stated choice, carried as a waiver with its reason.
    assert [s["id"] for s in db["Metadata"]["checkov"]["skip"]] == ["CKV_AWS_157"]


def test_secret_arn_endpoint_and_port_are_exported(tmp_path: Path) -> None:
    outputs = stack(tmp_path, "database-orders-db")["Outputs"]
    assert outputs["SecretArn"]["Value"] == {
        "Fn::GetAtt": ["Instance", "MasterUserSecret.SecretArn"]
    }
    assert outputs["SecretArn"]["Export"]["Name"] == {
        "Fn::Sub": "${EnvironmentName}-database-orders-db-SecretArn"
    }
    assert outputs["Endpoint"]["Value"] == {"Fn::GetAtt": ["Instance", "Endpoint.Address"]}
    assert outputs["Port"]["Value"] == {"Fn::GetAtt": ["Instance", "Endpoint.Port"]}


def test_mysql_forces_tls_and_follows_its_version_family(tmp_path: Path) -> None:
    t = stack(tmp_path, "database-legacy")
    params = t["Resources"]["ParameterGroup"]["Properties"]
    assert params["Family"] == "mysql8.0"
    assert params["Parameters"] == {"require_secure_transport": "1"}
    p = t["Resources"]["Instance"]["Properties"]
    assert p["MultiAZ"] is True and p["BackupRetentionPeriod"] == 14 and p["Port"] == "3306"
    assert t["Resources"]["Instance"]["Metadata"] == {
        "cfngen": {"source": "databases.legacy"}  # no waivers
    }
    groups = sorted(k for k, v in t["Resources"].items() if v["Type"] == "AWS::Logs::LogGroup")
    assert groups == ["ErrorLogGroup", "SlowqueryLogGroup"]


def test_environment_overrides_deletion_protection(tmp_path: Path) -> None:
    dev = stack(tmp_path, "database-orders-db", env="dev")["Resources"]["Instance"]
    assert dev["Properties"]["DeletionProtection"] is False


def test_connects_to_opens_only_the_database_port_from_the_host(tmp_path: Path) -> None:
    t = stack(tmp_path, "security")
    rules = {
        k: v["Properties"]
        for k, v in t["Resources"].items()
        if v["Type"] == "AWS::EC2::SecurityGroupIngress"
    }
    assert list(rules.values()) == [
        {
            "Description": "Host app to database orders-db",
            "FromPort": 5432,
            "ToPort": 5432,
            "IpProtocol": "tcp",
            "GroupId": {"Fn::GetAtt": ["DatabaseOrdersDbSecurityGroup", "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": ["HostAppSecurityGroup", "GroupId"]},
        }
    ]


def test_alarms_watch_cpu_and_free_storage(tmp_path: Path) -> None:
    res = stack(tmp_path, "database-orders-db")["Resources"]
    assert res["CpuAlarm"]["Properties"]["Threshold"] == 80
    free = res["FreeStorageAlarm"]["Properties"]
    assert free["Threshold"] == 2 * 1024**3 and free["ComparisonOperator"] == "LessThanThreshold"
    assert "AlarmActions" not in free  # no alerts topic in this blueprint
