"""Composed secrets: parts read as ECS secrets and plain values, joined by a start shell that
then runs the container's own command. The rendered shell is run here, so the test checks what
the container would see."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build, imp

DB = {"payload-db": {"engine": "postgres", "database_name": "payload"}}
URL = {
    "format": "postgres://${user}:${password}@${host}:${port}/payload",
    "values": {
        "user": {"from": "payload-db", "attribute": "secret_arn", "key": "username"},
        "password": {
            "from": "payload-db",
            "attribute": "secret_arn",
            "key": "password",
            "encode": "url",
        },
        "host": {"from": "payload-db", "attribute": "endpoint"},
        "port": {"from": "payload-db", "attribute": "port"},
    },
}


def _main(res: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    return container


def test_parts_become_secrets_and_values_and_the_shell_composes_them() -> None:
    bp = blueprint(
        databases=DB,
        services={
            "cms": {
                "image": {"uri": "ghcr.io/acme/cms"},
                "entry_point": ["docker-entrypoint.sh"],
                "command": ["node", "server.js"],
                "connects_to": ["payload-db"],
                "secrets": {"DATABASE_URI": URL},
            }
        },
    )
    res = build(bp, "service-cms")["Resources"]
    cms = _main(res)
    assert cms["EntryPoint"][:2] == ["/bin/sh", "-c"]
    assert cms["Command"] == ["cfngen-start", "docker-entrypoint.sh", "node", "server.js"]
    env = {e["Name"]: e["Value"] for e in cms["Environment"]}
    assert env == {
        "CFNGEN_DATABASE_URI_1": imp("database-payload-db", "Endpoint"),
        "CFNGEN_DATABASE_URI_3": imp("database-payload-db", "Port"),
    }
    secrets = {s["Name"]: s["ValueFrom"] for s in cms["Secrets"]}
    assert secrets["CFNGEN_DATABASE_URI_2"]["Fn::Sub"][0] == "${Arn}:password::"
    assert secrets["CFNGEN_DATABASE_URI_4"]["Fn::Sub"][0] == "${Arn}:username::"
    # the execution role may read the database's secret
    assert "SecretArn" in str(res["ExecutionRole"]["Properties"])

    shell = shutil.which("sh")
    if shell is None:
        pytest.skip("no POSIX shell on this machine to run the start script")
    parts = {
        "CFNGEN_DATABASE_URI_1": "db.example.internal",
        "CFNGEN_DATABASE_URI_2": 'p@ss:w/rd%#?"$`\\x',
        "CFNGEN_DATABASE_URI_3": "5432",
        "CFNGEN_DATABASE_URI_4": "admin",
    }
    probe = ["sh", "-c", 'printf "%s|" "$DATABASE_URI"; env | grep -c "^CFNGEN_" || true']
    script = cms["EntryPoint"][2]
    out = subprocess.run(
        [shell, "-c", script, "cfngen-start", *probe],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **parts},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == (
        "postgres://admin:p%40ss%3Aw%2Frd%25%23%3F%22%24%60%5Cx@db.example.internal:5432/"
        "payload|0\n"
    )  # encoded password, and the parts are gone from the application's environment


def test_composed_secret_errors(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        databases: {payload-db: {engine: postgres}}
        services:
          cms:
            image: {uri: ghcr.io/acme/cms}
            secrets:
              A:
                format: "${u}@${h}"
                values:
                  u: {from: payload-db, attribute: secret_arn}
                  h: {from: payload-db, attribute: endpoint, key: host}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:9:9: services.cms.secrets.A: A is composed when the container starts, by a "
        "shell that then runs the container's command, which the blueprint does not give (set "
        "`command` (and `entry_point` if the image has one) to what the image runs)",
        "bp.yaml:12:59: services.cms.secrets.A.values.h.key: 'payload-db.endpoint' is a plain "
        "value; `key` picks a JSON key of a secret (remove `key`)",
    ]
    plain = "".join(line for line in text.splitlines(True) if "u: {from" not in line)
    plain = plain.replace("${u}@${h}", "${h}").replace(", key: host", "")
    errors = errors_of(tmp_path, plain)
    assert errors[0].startswith("bp.yaml:9:9: services.cms.secrets.A: no value of the ")
