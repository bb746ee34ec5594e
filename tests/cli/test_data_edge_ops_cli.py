"""render with the data, edge and operations kinds: exit codes, files, per-stack regions."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cfngen.cli import cli
from tests.helpers import write

BP = """\
blueprint: shop
region: eu-west-1
dns: {zone: example.com, zone_id: Z0123456789ABC}
sites:
  web: {domain: www.example.com}
databases:
  db: {engine: postgres}
environments:
  dev: {}
  prod:
    databases: {db: {max_storage_gb: 10}}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_bad_prod_only_setting_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, BP)
    out = tmp_path / "out"
    code, _, err = run("render", str(path), "--env", "prod", "-o", str(out))
    assert code == 2
    assert err == (
        f"{path}:11:21: databases.db: max_storage_gb (10) must be larger than storage_gb (20) "
        "(raise max_storage_gb above 20, or remove it to turn storage autoscaling off)\n"
    )
    assert not out.exists()


def test_certificate_stack_is_rendered_for_us_east_1(tmp_path: Path) -> None:
    path = write(tmp_path, BP)
    out = tmp_path / "out"
    assert run("render", str(path), "--env", "dev", "-o", str(out))[0] == 0
    manifest = json.loads((out / "dev" / "manifest.json").read_text())
    regions = {s["component"]: s.get("region") for s in manifest["stacks"]}
    assert regions["site-web-certificate"] == "us-east-1"
    assert regions["site-web"] is None and manifest["region"] == "eu-west-1"
    runbook = (out / "dev" / "README.md").read_text()
    assert "--region us-east-1 --stack-name shop-dev-site-web-certificate " in runbook
    assert "--region eu-west-1 --stack-name shop-dev-site-web " in runbook
