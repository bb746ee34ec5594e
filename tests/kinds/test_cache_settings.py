"""The cache's URL-with-credentials secret and its snapshot and maintenance windows."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build


def test_auth_url_secret_and_windows() -> None:
    bp = blueprint(
        caches={
            "redis": {
                "replicas": 1,
                "snapshot_window": "15:00-16:00",
                "maintenance_window": "sun:16:30-sun:17:30",
            }
        }
    )
    template = build(bp, "cache-redis")
    res = template["Resources"]
    group = res["ReplicationGroup"]["Properties"]
    assert group["SnapshotWindow"] == "15:00-16:00"
    assert group["PreferredMaintenanceWindow"] == "sun:16:30-sun:17:30"
    url = res["AuthUrl"]["Properties"]["SecretString"]["Fn::Sub"]
    # composed by CloudFormation from the token secret: the token never appears in a template
    assert url.startswith("rediss://:{{resolve:secretsmanager:${AuthToken}:SecretString}}@")
    assert url.endswith(
        "${ReplicationGroup.PrimaryEndPoint.Address}:${ReplicationGroup.PrimaryEndPoint.Port}"
    )
    assert template["Outputs"]["AuthUrlSecretArn"]["Value"] == {"Ref": "AuthUrl"}


def test_window_errors(tmp_path: Path) -> None:
    base = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        caches:
          redis: {replicas: 1, snapshot_window: "%s", maintenance_window: "%s"}
        environments: {dev: {}}
        """
    )
    errors = errors_of(tmp_path, base % ("03:00-03:30", "sun:05:00-sun:06:00"))
    assert [e.split(": ", 2)[2] for e in errors] == [
        "snapshot_window is shorter than 60 minutes (widen it to an hour or more)"
    ]
    errors = errors_of(tmp_path, base % ("23:30-00:30", "mon:00:00-mon:01:00"))
    assert [e.split(": ", 2)[2] for e in errors] == [
        "the snapshot window overlaps the maintenance window (move one of them (ElastiCache "
        "refuses overlapping windows))"
    ]
    errors = errors_of(tmp_path, base % ("25:00-26:00", "sun:05:00-sun:06:00"))
    assert "snapshot_window" in errors[0]
