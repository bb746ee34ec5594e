"""Bad input for RDS databases, ElastiCache caches and OpenSearch domains.

Exact messages with file:line:col, field and fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import errors_of

HEAD = "blueprint: shop\nregion: eu-west-1\n"
TAIL = "environments: {dev: {}}\n"

CASES = {
    "db_engine": (
        "databases:\n  db: {engine: oracle}\n",
        [
            (
                "bp.yaml:4:16: databases.db.engine: invalid value 'oracle' (expected "
                "'postgres' or 'mysql')"
            ),
        ],
    ),
    "db_version": (
        "databases:\n  db: {engine: postgres, engine_version: '17'}\n",
        [
            (
                "bp.yaml:4:7: databases.db: invalid postgres engine version '17' (write "
                "MAJOR.MINOR, e.g. 17.5)"
            ),
        ],
    ),
    "db_mysql_version": (
        "databases:\n  db: {engine: mysql, engine_version: 5.7.44}\n",
        [
            (
                "bp.yaml:4:7: databases.db: invalid mysql engine version '5.7.44' (write "
                "MAJOR.MINOR.PATCH, e.g. 8.4.5)"
            ),
        ],
    ),
    "db_max_storage": (
        "databases:\n  db: {engine: postgres, storage_gb: 50, max_storage_gb: 40}\n",
        [
            (
                "bp.yaml:4:7: databases.db: max_storage_gb (40) must be larger than "
                "storage_gb (50) (raise max_storage_gb above 50, or remove it to turn "
                "storage autoscaling off)"
            ),
        ],
    ),
    "db_force_ssl": (
        ("databases:\n  db:\n    engine: postgres\n    parameters: {rds.force_ssl: '0'}\n"),
        [
            (
                "bp.yaml:5:5: databases.db: TLS enforcement is always on and cannot be set "
                "in `parameters` (remove rds.force_ssl / require_secure_transport)"
            ),
        ],
    ),
    "db_backup": (
        "databases:\n  db: {engine: postgres, backup_retention_days: 0}\n",
        [
            (
                "bp.yaml:4:49: databases.db.backup_retention_days: input should be greater "
                "than or equal to 1"
            ),
        ],
    ),
    "db_class": (
        "databases:\n  db: {engine: postgres, instance_class: t4g.micro}\n",
        [
            (
                "bp.yaml:4:42: databases.db.instance_class: invalid instance class "
                "'t4g.micro' (e.g. db.t4g.micro)"
            ),
        ],
    ),
    "db_unknown_key": (
        "databases:\n  db: {engine: postgres, multiaz: true}\n",
        [
            (
                "bp.yaml:4:26: databases.db.multiaz: unknown key 'multiaz' (did you mean "
                "'multi_az'?)"
            ),
        ],
    ),
    "db_mysql_pi": (
        "databases:\n  db: {engine: mysql, instance_class: db.t4g.micro}\n",
        [
            (
                "bp.yaml:4:7: databases.db: Performance Insights does not support MySQL on "
                "db.t4g.micro (set performance_insights: false, or a larger instance_class)"
            ),
        ],
    ),
    "db_name_long": (
        (
            "databases:\n  a-long-database-name-for-rds-db: {engine: "
            "postgres}\nenvironment_name: shop-production-environment-eu-west\n"
        ),
        [
            (
                "bp.yaml:4:3: databases.a-long-database-name-for-rds-db: the resource name "
                "shop-production-environment-eu-west-a-long-database-name-for-rds-db is 67 "
                "characters long; AWS allows 63 (use a name of at most 27 characters)"
            ),
        ],
    ),
    "db_env_upper": (
        "environment_name: Shop-Prod\ndatabases:\n  db: {engine: postgres}\n",
        [
            (
                "bp.yaml:3:19: environment_name: RDS lowercases DB instance identifiers, "
                "so the database log groups would not match 'Shop-Prod' (use 'shop-prod')"
            ),
        ],
    ),
    "db_kms": (
        "databases:\n  db: {engine: postgres, kms_key_arn: key-123}\n",
        [
            (
                "bp.yaml:4:39: databases.db.kms_key_arn: invalid KMS key ARN 'key-123' "
                "(e.g. arn:aws:kms:eu-west-1:111122223333:key/<id>)"
            ),
        ],
    ),
    "db_username": (
        "databases:\n  db: {engine: postgres, master_username: 1admin}\n",
        [
            (
                "bp.yaml:4:43: databases.db.master_username: invalid user name '1admin' "
                "(e.g. dbadmin)"
            ),
        ],
    ),
    "db_monitoring": (
        "databases:\n  db: {engine: postgres, monitoring_interval: 45}\n",
        [
            (
                "bp.yaml:4:47: databases.db.monitoring_interval: invalid value 45 "
                "(expected 0, 1, 5, 10, 15, 30 or 60)"
            ),
        ],
    ),
    "search_version": (
        "search_domains:\n  s: {engine_version: '2.19'}\n",
        [
            (
                "bp.yaml:4:23: search_domains.s.engine_version: invalid engine version "
                "'2.19' (e.g. OpenSearch_2.19)"
            ),
        ],
    ),
    "search_access": (
        "search_domains:\n  s: {access: public}\n",
        [
            (
                "bp.yaml:4:15: search_domains.s.access: invalid value 'public' (expected "
                "'account' or 'vpc')"
            ),
        ],
    ),
    "cache_multi_az": (
        "caches:\n  redis: {replicas: 0}\n",
        [
            (
                "bp.yaml:4:10: caches.redis: multi_az needs at least one replica to fail "
                "over to (set replicas: 1 or more, or multi_az: false)"
            ),
        ],
    ),
    "cache_node": (
        "caches:\n  redis: {node_type: t4g.micro}\n",
        [
            (
                "bp.yaml:4:22: caches.redis.node_type: invalid node type 't4g.micro' (e.g. "
                "cache.t4g.small)"
            ),
        ],
    ),
    "search_uneven": (
        "network: {availability_zones: 2}\nsearch_domains:\n  s: {instance_count: 3}\n",
        [
            (
                "bp.yaml:5:23: search_domains.s.instance_count: 3 data nodes do not spread "
                "evenly over 2 availability zones (use a multiple of 2, e.g. 4)"
            ),
        ],
    ),
    "search_type": (
        "search_domains:\n  s: {instance_type: t3.small}\n",
        [
            (
                "bp.yaml:4:22: search_domains.s.instance_type: invalid instance type "
                "'t3.small' (e.g. t3.small.search)"
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(tmp_path: Path, case: str) -> None:
    body, expected = CASES[case]
    assert errors_of(tmp_path, HEAD + body + TAIL) == expected
