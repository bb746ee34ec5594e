"""Data stores: RDS databases, ElastiCache Redis caches and OpenSearch domains.

Each lives in private subnets behind the security group cfngen derives for it (named like its
stack, e.g. `database-payload-db`); other components reach it through `connects_to`, and take its
endpoint, port, URL or secret by typed reference (`payload-db.secret_arn`), never by copying.
"""

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from cfngen.blueprint.models.common import (
    WAIVERS_DESCRIPTION,
    LogRetention,
    Model,
    Port,
    Waiver,
    fail,
)

# Current defaults (engine versions RDS, ElastiCache and OpenSearch offer as of 2026).
POSTGRES_DEFAULT_VERSION = "17.5"
MYSQL_DEFAULT_VERSION = "8.4.5"
REDIS_DEFAULT_VERSION = "7.1"
OPENSEARCH_DEFAULT_VERSION = "OpenSearch_2.19"


def matching(regex: str, what: str, example: str) -> AfterValidator:
    """A pattern check whose error says what is expected, with an example (not the regex)."""

    def check(value: str) -> str:
        if not re.match(regex, value):  # compiled on first use, then from re's cache
            raise fail(f"invalid {what} '{value}'", f"e.g. {example}")
        return value

    return AfterValidator(check)


InstanceClass = Annotated[
    str, matching(r"^db\.[a-z0-9]+\.[a-z0-9]+$", "instance class", "db.t4g.micro")
]
NodeType = Annotated[
    str, matching(r"^cache\.[a-z0-9]+\.[a-z0-9]+$", "node type", "cache.t4g.small")
]
SearchInstanceType = Annotated[
    str, matching(r"^[a-z0-9]+\.[a-z0-9]+\.search$", "instance type", "t3.small.search")
]

KmsKeyArn = Annotated[
    str,
    matching(r"^arn:aws[a-z-]*:kms:", "KMS key ARN", "arn:aws:kms:eu-west-1:111122223333:key/<id>"),
]

_PG_VERSION = re.compile(r"^(\d{2})\.\d+$")
_MYSQL_VERSION = re.compile(r"^(8\.[04])\.\d+$")


class DatabaseAlarms(Model):
    """CloudWatch alarms on the instance (sent to `alerts` when the blueprint has it)."""

    cpu_percent: int | None = Field(
        80, ge=1, le=100, description="Alarm when average CPU exceeds this (null: no alarm)."
    )
    free_storage_gb: int | None = Field(
        2, ge=1, description="Alarm when free storage falls below this many GB (null: no alarm)."
    )


RdsEventCategory = Literal[
    "availability",
    "backup",
    "configuration change",
    "creation",
    "deletion",
    "failover",
    "failure",
    "low storage",
    "maintenance",
    "notification",
    "read replica",
    "recovery",
    "restoration",
    "security",
    "security patching",
]
"""The event categories RDS publishes for DB instances."""


class Database(Model):
    """An RDS PostgreSQL or MySQL instance.

    Encrypted, private, with the master password managed by Secrets Manager
    (`ManageMasterUserPassword`; the secret's ARN is exported as `<name>.secret_arn`), TLS forced
    by a parameter group, `Snapshot` deletion and update-replace policies.
    """

    engine: Literal["postgres", "mysql"] = Field(description="postgres or mysql.")
    engine_version: str | None = Field(
        None,
        description=f"Engine version (default: postgres {POSTGRES_DEFAULT_VERSION}, "
        f"mysql {MYSQL_DEFAULT_VERSION}). The parameter group family follows the major version.",
    )
    instance_class: InstanceClass = Field(
        "db.t4g.micro", description="Instance class, e.g. db.t4g.micro."
    )
    storage_gb: int = Field(20, ge=20, le=65536, description="Allocated storage (gp3) in GB.")
    max_storage_gb: int | None = Field(
        None,
        le=65536,
        description="Storage autoscaling upper limit in GB (null: autoscaling off).",
    )
    multi_az: bool = Field(False, description="A standby in a second AZ (set per environment).")
    deletion_protection: bool = Field(
        True, description="Refuse DeleteDBInstance (turn off only for throw-away environments)."
    )
    backup_retention_days: int = Field(
        7,
        ge=1,
        le=35,
        description="Automated backups and point-in-time recovery window in days "
        "(7+ in production).",
    )
    database_name: (
        Annotated[str, matching(r"^[A-Za-z][A-Za-z0-9_]{0,62}$", "database name", "app")] | None
    ) = Field(
        None,
        description="Initial database to create (default: none, the engine's default database).",
    )
    master_username: Annotated[
        str, matching(r"^[A-Za-z][A-Za-z0-9_]{0,15}$", "user name", "dbadmin")
    ] = Field(
        "dbadmin",
        description="Master user name; its password is generated and kept in Secrets Manager.",
    )
    port: Port | None = Field(None, description="Port (default: 5432 postgres, 3306 mysql).")
    kms_key_arn: KmsKeyArn | None = Field(
        None,
        description="Customer-managed KMS key for storage, the secret and Performance Insights "
        "(default: the AWS-managed keys).",
    )
    performance_insights: bool = Field(
        True, description="Performance Insights (7 days, free tier)."
    )
    monitoring_interval: Literal[0, 1, 5, 10, 15, 30, 60] = Field(
        60, description="Enhanced monitoring interval in seconds (0: off)."
    )
    log_retention_days: LogRetention = Field(
        30, description="Retention of the engine logs exported to CloudWatch Logs."
    )
    parameters: dict[str, str] = Field(
        default_factory=dict,
        description="Extra engine parameters for the parameter group "
        "(TLS enforcement is always set).",
    )
    alarms: DatabaseAlarms = Field(
        default_factory=DatabaseAlarms,
        description="CloudWatch alarms (need `alerts`).",
    )
    events: list[RdsEventCategory] = Field(
        default_factory=list,
        description="RDS event categories of the instance sent to `alerts` (EventBridge), e.g. "
        "[failover, failure, low storage, maintenance].",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.engine_version is not None:
            pattern = _PG_VERSION if self.engine == "postgres" else _MYSQL_VERSION
            if not pattern.match(self.engine_version):
                example = (
                    POSTGRES_DEFAULT_VERSION if self.engine == "postgres" else MYSQL_DEFAULT_VERSION
                )
                raise fail(
                    f"invalid {self.engine} engine version '{self.engine_version}'",
                    f"write MAJOR.MINOR{'.PATCH' if self.engine == 'mysql' else ''}, "
                    f"e.g. {example}",
                )
        if self.max_storage_gb is not None and self.max_storage_gb <= self.storage_gb:
            raise fail(
                f"max_storage_gb ({self.max_storage_gb}) must be larger than storage_gb "
                f"({self.storage_gb})",
                f"raise max_storage_gb above {self.storage_gb}, or remove it to turn "
                "storage autoscaling off",
            )
        if (
            self.engine == "mysql"
            and self.performance_insights
            and re.match(r"^db\.t[234]g?\.(micro|small)$", self.instance_class)
        ):
            raise fail(
                f"Performance Insights does not support MySQL on {self.instance_class}",
                "set performance_insights: false, or a larger instance_class",
            )
        if "rds.force_ssl" in self.parameters or "require_secure_transport" in self.parameters:
            raise fail(
                "TLS enforcement is always on and cannot be set in `parameters`",
                "remove rds.force_ssl / require_secure_transport",
            )
        return self

    @property
    def version(self) -> str:
        if self.engine_version:
            return self.engine_version
        return POSTGRES_DEFAULT_VERSION if self.engine == "postgres" else MYSQL_DEFAULT_VERSION

    @property
    def family(self) -> str:
        """Parameter group family: postgres17, mysql8.4 ..."""
        if self.engine == "postgres":
            return f"postgres{self.version.split('.')[0]}"
        return "mysql" + ".".join(self.version.split(".")[:2])

    @property
    def effective_port(self) -> int:
        return self.port or (5432 if self.engine == "postgres" else 3306)


class Cache(Model):
    """An ElastiCache Redis (OSS) replication group.

    Encrypted at rest and in transit, AUTH token generated into Secrets Manager
    (`<name>.auth_secret_arn`),
    Multi-AZ with automatic failover when it has replicas. Consumers take `<name>.url`
    (`rediss://host:port`) or `<name>.endpoint`.
    """

    node_type: NodeType = Field("cache.t4g.micro", description="Node type, e.g. cache.t4g.small.")
    replicas: int = Field(1, ge=0, le=5, description="Read replicas besides the primary.")
    multi_az: bool = Field(
        True, description="Multi-AZ with automatic failover (needs at least one replica)."
    )
    engine_version: Annotated[str, matching(r"^\d+\.\d+$", "Redis version", "7.1")] = Field(
        REDIS_DEFAULT_VERSION, description="Redis engine version."
    )
    port: Port = Field(6379, description="Port.")
    snapshot_retention_days: int = Field(
        7, ge=0, le=35, description="Daily snapshots kept (0: none)."
    )
    snapshot_window: str | None = Field(
        None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Daily snapshot window in UTC, hh:mm-hh:mm, at least 60 minutes (default: "
        "one ElastiCache picks).",
    )
    maintenance_window: str | None = Field(
        None,
        pattern=r"^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-"
        r"(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Weekly maintenance window in UTC, ddd:hh:mm-ddd:hh:mm, at least 60 minutes "
        "(default: one ElastiCache picks).",
    )
    kms_key_arn: KmsKeyArn | None = Field(
        None,
        description="Customer-managed KMS key for encryption at rest (default: AWS-managed).",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.multi_az and self.replicas == 0:
            raise fail(
                "multi_az needs at least one replica to fail over to",
                "set replicas: 1 or more, or multi_az: false",
            )
        snapshot = _window_minutes(self.snapshot_window, weekly=False)
        maintenance = _window_minutes(self.maintenance_window, weekly=True)
        for what, window in (("snapshot_window", snapshot), ("maintenance_window", maintenance)):
            if window is not None and (window[1] - window[0]) % (7 * 1440) < 60:
                raise fail(f"{what} is shorter than 60 minutes", "widen it to an hour or more")
        if snapshot is not None and maintenance is not None:
            start, end = snapshot
            for day in range(7):  # the daily window, on each day of the week
                if _overlap((day * 1440 + start, day * 1440 + end), maintenance):
                    raise fail(
                        "the snapshot window overlaps the maintenance window",
                        "move one of them (ElastiCache refuses overlapping windows)",
                    )
        return self


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _window_minutes(window: str | None, *, weekly: bool) -> tuple[int, int] | None:
    """A window as (start, end) minutes from Monday 00:00 (weekly) or midnight (daily); the end
    is moved past the start when the window wraps."""
    if window is None:
        return None
    start_text, end_text = window.split("-")

    def minutes(text: str) -> int:
        parts = text.split(":")
        day = _DAYS.index(parts[0]) * 1440 if weekly else 0
        return day + int(parts[-2]) * 60 + int(parts[-1])

    start, end = minutes(start_text), minutes(end_text)
    if end <= start:
        end += 7 * 1440 if weekly else 1440
    return start, end


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    week = 7 * 1440
    return any(a[0] < b[1] + shift and b[0] + shift < a[1] for shift in (-week, 0, week))


class SearchDomain(Model):
    """An OpenSearch Service domain inside the VPC.

    Node-to-node encryption, encryption at rest, HTTPS only (TLS 1.2+), application logs to
    CloudWatch Logs. Consumers take `<name>.url` (`https://vpc-...`) or `<name>.endpoint`.
    """

    engine_version: Annotated[
        str,
        matching(
            r"^(OpenSearch_\d+\.\d+|Elasticsearch_\d+\.\d+)$", "engine version", "OpenSearch_2.19"
        ),
    ] = Field(
        OPENSEARCH_DEFAULT_VERSION,
        description="Engine version, e.g. OpenSearch_2.19.",
    )
    instance_type: SearchInstanceType = Field(
        "t3.small.search", description="Data node instance type, e.g. t3.small.search."
    )
    instance_count: int = Field(2, ge=1, le=80, description="Data nodes.")
    volume_gb: int = Field(10, ge=10, le=16384, description="EBS gp3 volume per node in GB.")
    access: Literal["account", "vpc"] = Field(
        "account",
        description="Who the access policy allows: `account` (IAM principals of this account, "
        "requests signed with SigV4) or `vpc` (any client its security group lets in, for "
        "clients that cannot sign requests).",
    )
    kms_key_arn: KmsKeyArn | None = Field(
        None,
        description="Customer-managed KMS key for encryption at rest (default: AWS-managed).",
    )
    log_retention_days: LogRetention = Field(30, description="Application log retention.")
    service_linked_role: bool = Field(
        False,
        description="Create the account's OpenSearch service-linked role in this stack (needed "
        "once per account before the first VPC domain; fails if it exists already).",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)
