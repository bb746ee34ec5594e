"""RDS databases (PostgreSQL, MySQL): one stack `database-<name>` each.

Private subnets, encrypted storage, master password generated and kept by Secrets Manager
(`ManageMasterUserPassword`), TLS forced by the parameter group, `Snapshot` deletion and
update-replace policies. Its group `database-<name>` lives in the security stack; `connects_to`
of other components opens its port there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from troposphere import GetAtt, Ref, Split, Sub, iam, rds

from cfngen.blueprint.models import Blueprint, SecurityGroup
from cfngen.blueprint.models.data import Database
from cfngen.builders import network, ops, security
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import log_group, service_trust, waive
from cfngen.builders.relations import Attribute, Target
from cfngen.stacks import Output

ENDPOINT = "Endpoint"
PORT = "Port"
SECRET_ARN = "SecretArn"
INSTANCE_ID = "InstanceId"

_LOG_EXPORTS = {"postgres": ["postgresql", "upgrade"], "mysql": ["error", "slowquery"]}


def component(name: str) -> str:
    return f"database-{name}"


def plan(bp: Blueprint) -> Sequence[StackPlan[Any]]:
    return [
        StackPlan(
            component=component(name),
            title=f"RDS {db.engine} database {name}",
            build=build,
            spec=(name, db),
            depends_on=(network.COMPONENT, security.COMPONENT, *ops.alerts_dependency(bp)),
            source=("databases", name),
        )
        for name, db in bp.databases.items()
    ]


def groups(bp: Blueprint) -> security.Derived:
    return security.Derived(
        groups={
            component(name): SecurityGroup(
                description=f"RDS {db.engine} database {name}", ingress=[], egress=[]
            )
            for name, db in bp.databases.items()
        },
        sources={component(name): ("databases", name) for name in bp.databases},
    )


def targets(bp: Blueprint) -> list[Target]:
    return [
        Target(name, "database", component(name), (db.effective_port,), ("databases", name))
        for name, db in bp.databases.items()
    ]


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name in bp.databases:
        c = component(name)
        out[name] = {
            "secret_arn": Attribute(
                Output(c, SECRET_ARN),
                "secret_arn",
                "Secrets Manager secret with the master username and password (JSON keys "
                "`username`, `password`)",
            ),
            "endpoint": Attribute(Output(c, ENDPOINT), "value", "Host name of the instance"),
            "port": Attribute(Output(c, PORT), "value", "Port of the instance"),
        }
    return out


def _tls_parameters(db: Database) -> dict[str, str]:
    if db.engine == "postgres":
        return {"rds.force_ssl": "1"}
    return {"require_secure_transport": "1"}


def build(spec: tuple[str, Database], ctx: Context) -> None:
    name, db = spec
    group = ctx.import_value(security.COMPONENT, security.group_output(component(name)))
    subnets = ctx.add(
        rds.DBSubnetGroup(
            "SubnetGroup",
            DBSubnetGroupDescription=Sub(f"${{EnvironmentName}} {name}: private subnets"),
            SubnetIds=Split(",", ctx.import_value(network.COMPONENT, network.PRIVATE_SUBNETS)),
            Tags=ctx.name_tag(name),
        )
    )
    params = ctx.add(
        rds.DBParameterGroup(
            "ParameterGroup",
            Description=Sub(f"${{EnvironmentName}} {name}: TLS enforced"),
            Family=db.family,
            Parameters={**dict(sorted(db.parameters.items())), **_tls_parameters(db)},
            Tags=ctx.name_tag(name),
        )
    )
    identifier = ctx.name(name)
    log_groups = []
    for kind in _LOG_EXPORTS[db.engine]:
        log_groups.append(
            ctx.add(
                log_group(
                    f"{kind.capitalize()}LogGroup",
                    db.log_retention_days,
                    LogGroupName=Sub(f"/aws/rds/instance/${{EnvironmentName}}-{name}/{kind}"),
                )
            )
        )
    props: dict[str, Any] = {
        "DBInstanceIdentifier": identifier,
        "Engine": db.engine,
        "EngineVersion": db.version,
        "DBInstanceClass": db.instance_class,
        "AllocatedStorage": str(db.storage_gb),
        "StorageType": "gp3",
        "StorageEncrypted": True,
        "ManageMasterUserPassword": True,
        "MasterUsername": db.master_username,
        "Port": str(db.effective_port),
        "MultiAZ": db.multi_az,
        "DeletionProtection": db.deletion_protection,
        "BackupRetentionPeriod": db.backup_retention_days,
        "DeleteAutomatedBackups": False,
        "CopyTagsToSnapshot": True,
        "PubliclyAccessible": False,
        "AutoMinorVersionUpgrade": True,
        "EnableIAMDatabaseAuthentication": True,
        "DBSubnetGroupName": Ref(subnets),
        "DBParameterGroupName": Ref(params),
        "VPCSecurityGroups": [group],
        "EnableCloudwatchLogsExports": _LOG_EXPORTS[db.engine],
        "Tags": ctx.name_tag(name),
    }
    if db.max_storage_gb is not None:
        props["MaxAllocatedStorage"] = db.max_storage_gb
    if db.database_name:
        props["DBName"] = db.database_name
    if db.kms_key_arn:
        props["KmsKeyId"] = db.kms_key_arn
        props["MasterUserSecret"] = rds.MasterUserSecret(KmsKeyId=db.kms_key_arn)
    if db.performance_insights:
        props["EnablePerformanceInsights"] = True
        props["PerformanceInsightsRetentionPeriod"] = 7
        if db.kms_key_arn:
            props["PerformanceInsightsKMSKeyId"] = db.kms_key_arn
    if db.monitoring_interval:
        role = ctx.add(
            iam.Role(
                "MonitoringRole",
                AssumeRolePolicyDocument=service_trust("monitoring.rds.amazonaws.com"),
                ManagedPolicyArns=[
                    Sub(
                        "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AmazonRDSEnhancedMonitoringRole"
                    )
                ],
            )
        )
        props["MonitoringInterval"] = db.monitoring_interval
        props["MonitoringRoleArn"] = GetAtt(role, "Arn")
    waivers: dict[str, str] = {}  # the builder's own; blueprint waivers: cfngen.waivers
    if not db.monitoring_interval:
        waivers["CKV_AWS_118"] = (
            f"Enhanced monitoring turned off by databases.{name}.monitoring_interval: 0 "
            "(CloudWatch's standard RDS metrics and the alarms remain)"
        )
    if not db.multi_az:
        waivers["CKV_AWS_157"] = (
            f"Single-AZ by the blueprint's setting databases.{name}.multi_az: false "
            "(cost; restore from backups instead)"
        )
    instance = ctx.add(
        waive(
            rds.DBInstance(
                "Instance",
                DeletionPolicy="Snapshot",
                UpdateReplacePolicy="Snapshot",
                DependsOn=[g.title for g in log_groups],
                **props,
            ),
            waivers,
        )
    )

    if db.alarms.cpu_percent is not None:
        ops.add_alarm(
            ctx,
            "CpuAlarm",
            description=f"{name}: CPU above {db.alarms.cpu_percent}% for 10 minutes",
            namespace="AWS/RDS",
            metric="CPUUtilization",
            dimensions={"DBInstanceIdentifier": Ref(instance)},
            threshold=db.alarms.cpu_percent,
        )
    if db.alarms.free_storage_gb is not None:
        ops.add_alarm(
            ctx,
            "FreeStorageAlarm",
            description=f"{name}: free storage below {db.alarms.free_storage_gb} GB",
            namespace="AWS/RDS",
            metric="FreeStorageSpace",
            dimensions={"DBInstanceIdentifier": Ref(instance)},
            threshold=db.alarms.free_storage_gb * 1024**3,
            comparison="LessThanThreshold",
            statistic="Minimum",
        )

    ctx.export(ENDPOINT, GetAtt(instance, "Endpoint.Address"), f"{name}: host name")
    ctx.export(PORT, GetAtt(instance, "Endpoint.Port"), f"{name}: port")
    ctx.export(
        SECRET_ARN,
        GetAtt(instance, "MasterUserSecret.SecretArn"),
        f"{name}: ARN of the Secrets Manager secret holding the master credentials",
    )
    ctx.export(INSTANCE_ID, Ref(instance), f"{name}: DB instance identifier")
