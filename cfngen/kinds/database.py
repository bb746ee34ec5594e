"""The database kind: RDS PostgreSQL and MySQL instances, one stack `database-<name>` each.

Private subnets, encrypted storage, master password generated and kept by Secrets Manager
(`ManageMasterUserPassword`), TLS forced by the parameter group, `Snapshot` deletion and
update-replace policies. Its group `database-<name>` lives in the security stack; `connects_to`
of other components opens its port there.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from troposphere import GetAtt, Ref, Split, Sub, iam, rds

from cfngen.blueprint import aws_facts
from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.data import Database
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import log_group, service_trust, waive
from cfngen.kinds import alerts, network, security
from cfngen.kinds.base import (
    Attribute,
    Derived,
    Facts,
    Kind,
    MetricSource,
    PhysicalName,
    Target,
    closed_groups,
)
from cfngen.stacks import Output

ENDPOINT = "Endpoint"
PORT = "Port"
SECRET_ARN = "SecretArn"
INSTANCE_ID = "InstanceId"

_LOG_EXPORTS = {"postgres": ["postgresql", "upgrade"], "mysql": ["error", "slowquery"]}


def component(name: str) -> str:
    return DATABASES.key(name)


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    return [
        StackPlan(
            component=component(name),
            title=f"RDS {db.engine} database {name}",
            build=build,
            spec=(name, db),
            depends_on=(
                network.COMPONENT,
                security.group_stack(facts, component(name)),
                *alerts.dependency(bp),
            ),
            source=("databases", name),
        )
        for name, db in DATABASES.entries(bp).items()
    ]


def groups(bp: Blueprint, facts: Facts) -> Derived:
    return closed_groups(DATABASES, bp, lambda name, db: f"RDS {db.engine} database {name}")


def targets(bp: Blueprint) -> list[Target]:
    return [
        Target(name, "database", component(name), (db.effective_port,), ("databases", name))
        for name, db in DATABASES.entries(bp).items()
    ]


def publishers(bp: Blueprint) -> tuple[str, ...]:
    """Databases with `events` publish to the alerts topic through EventBridge."""
    return (alerts.EVENTS,) if any(db.events for db in DATABASES.entries(bp).values()) else ()


def metrics(bp: Blueprint) -> dict[str, MetricSource]:
    """AWS/RDS metrics of each instance, selected by its identifier."""
    return {
        name: MetricSource(
            "AWS/RDS",
            {"DBInstanceIdentifier": f"${{EnvironmentName}}-{name}"},
            ("CPUUtilization", "FreeStorageSpace", "DatabaseConnections", "ReadLatency"),
        )
        for name in DATABASES.entries(bp)
    }


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name in DATABASES.entries(bp):
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
    group = security.group_id(ctx, component(name))
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
        alerts.add_alarm(
            ctx,
            "CpuAlarm",
            description=f"{name}: CPU above {db.alarms.cpu_percent}% for 10 minutes",
            namespace="AWS/RDS",
            metric="CPUUtilization",
            dimensions={"DBInstanceIdentifier": Ref(instance)},
            threshold=db.alarms.cpu_percent,
        )
    if db.alarms.free_storage_gb is not None:
        alerts.add_alarm(
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

    if db.events and alerts.topic_arn(ctx) is not None:
        alerts.add_event_rule(
            ctx,
            "EventsRule",
            description=f"RDS events of database {name}: {', '.join(db.events)}",
            pattern={
                "source": ["aws.rds"],
                "detail-type": ["RDS DB Instance Event"],
                "resources": [GetAtt(instance, "DBInstanceArn")],
                "detail": {"EventCategories": sorted(db.events)},
            },
            paths={"message": "$.detail.Message", "id": "$.detail.EventID"},
            message=f"database {name}: <message> (<id>)",
        )

    ctx.export(ENDPOINT, GetAtt(instance, "Endpoint.Address"), f"{name}: host name")
    ctx.export(PORT, GetAtt(instance, "Endpoint.Port"), f"{name}: port")
    ctx.export(
        SECRET_ARN,
        GetAtt(instance, "MasterUserSecret.SecretArn"),
        f"{name}: ARN of the Secrets Manager secret holding the master credentials",
    )
    ctx.export(INSTANCE_ID, Ref(instance), f"{name}: DB instance identifier")


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """What RDS would refuse: an engine version it does not offer, an instance class the
    version does not run on, a reserved master user name (the data is cfn-lint's)."""
    env_name = bp.environment_name
    if DATABASES.entries(bp) and env_name and env_name != env_name.lower():
        c.error(
            ("environment_name",),
            "RDS lowercases DB instance identifiers, so the database log groups would not match "
            f"'{env_name}'",
            f"use '{env_name.lower()}'",
        )
    for name, db in DATABASES.entries(bp).items():
        path = ("databases", name)
        if db.events and not alerts.dependency(bp):
            c.error(
                (*path, "events"),
                f"database {name} sends its events to alerts, but the blueprint has no `alerts`",
                "add an `alerts:` section, or remove `events`",
            )
        versions = aws_facts.rds_engine_versions(db.engine)
        if versions and db.version not in versions:
            close = difflib.get_close_matches(db.version, versions, n=1, cutoff=0.8)
            same_major = [v for v in versions if v.split(".")[0] == db.version.split(".")[0]]
            if close:
                fix = f"did you mean {close[0]}?"
            elif same_major:
                fix = f"e.g. {same_major[-1]}"
            else:
                fix = f"see `aws rds describe-db-engine-versions --engine {db.engine}`"
            c.error((*path, "engine_version"), f"RDS does not offer {db.engine} {db.version}", fix)
        else:
            classes = aws_facts.rds_instance_classes(db.engine, db.version, db.instance_class)
            if classes and db.instance_class not in classes:
                family = db.instance_class.rsplit(".", 1)[0]
                same = [k for k in classes if k.startswith(family + ".")]
                c.error(
                    (*path, "instance_class"),
                    f"{db.engine} {db.version} does not run on {db.instance_class}",
                    f"use one of {', '.join(same[:6])}" if same else "pick another instance class",
                )
        if aws_facts.reserved_master_username(db.engine, db.master_username):
            c.error(
                (*path, "master_username"),
                f"'{db.master_username}' is a reserved word of {db.engine} or an RDS account; "
                "RDS refuses it as master user name",
                "e.g. dbadmin",
            )


DATABASES: Kind[Database] = Kind(
    section="databases",
    model=Database,
    description="RDS PostgreSQL/MySQL instances, one stack each.",
    prefix="database",
    plan=plan,
    targets=targets,
    metrics=metrics,
    alert_publishers=publishers,
    attributes=attributes,
    groups=groups,
    checks=(check,),
    physical_names=(PhysicalName("DB instance identifier (RDS lowercases it)", 63),),
    order=40,
)
KIND = DATABASES
