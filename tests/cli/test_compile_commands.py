"""validate, render, lint, graph, schema: exact output and exit codes (more of lint in
test_lint_cli.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfngen.cli import cli
from tests.helpers import write

GOOD = """\
blueprint: shop
region: eu-west-1
security_groups:
  app: {description: app}
environments:
  dev: {}
  prod: {network: {nat: per-az}}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_validate_all_environments(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert run("validate", str(path)) == (0, f"{path}: valid (dev: 2 stacks, prod: 2 stacks)\n", "")


def test_validate_reports_errors_of_every_environment_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("nat: per-az", "nat: all").replace("app: {", "App: {"))
    code, out, err = run("validate", str(path))
    assert (code, out) == (2, "")
    assert err == (
        f"{path}:4:3: security_groups.App: invalid name 'App': use lowercase letters, digits "
        "and single hyphens, starting with a letter (e.g. 'app')\n"
        f"{path}:7:25: network.nat: invalid value 'all' (expected 'single', 'per-az' or 'none')\n"
        "2 errors\n"
    )


def test_missing_blueprint_file(tmp_path: Path) -> None:
    assert run("validate", str(tmp_path / "nope.yaml")) == (
        2,
        "",
        f"{tmp_path / 'nope.yaml'}: blueprint file not found\n",
    )


def test_unreadable_blueprint_file(tmp_path: Path) -> None:
    assert run("render", str(tmp_path), "--env", "dev") == (
        2,
        "",
        f"{tmp_path}: is a directory, expected a blueprint file\n",
    )
    binary = tmp_path / "bp.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert run("validate", str(binary)) == (
        2,
        "",
        f"{binary}:1:1: blueprint file is not UTF-8 text (invalid start byte: byte 0xff); save "
        "it as UTF-8\n",
    )


def test_render_writes_templates_params_manifest_and_runbook(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    out = tmp_path / "out"
    code, stdout, _ = run("render", str(path), "--env", "dev", "-o", str(out))
    assert code == 0
    assert stdout == (
        f"rendered 2 stacks for shop-dev into {out / 'dev'}/\n"
        f"  {out / 'dev' / 'network.yaml'}  (shop-dev-network)\n"
        f"  {out / 'dev' / 'security.yaml'}  (shop-dev-security)\n"
    )
    files = sorted(p.name for p in (out / "dev").iterdir())
    assert files == [
        "README.md",
        "manifest.json",
        "network.params.json",
        "network.yaml",
        "security.params.json",
        "security.yaml",
    ]
    # the format `aws cloudformation deploy --parameter-overrides file://` reads in CLI v1 and v2
    assert json.loads((out / "dev" / "network.params.json").read_text()) == [
        "EnvironmentName=shop-dev"
    ]
    manifest = json.loads((out / "dev" / "manifest.json").read_text())
    assert manifest["order"] == ["shop-dev-network", "shop-dev-security"]
    assert manifest["stacks"][1]["imports"] == ["shop-dev-network-VpcId"]
    assert manifest["stacks"][1]["depends_on"] == ["network"]
    assert "aws cloudformation deploy" in (out / "dev" / "README.md").read_text()


def test_render_is_byte_identical_twice(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    run("render", str(path), "--env", "prod", "-o", str(tmp_path / "a"))
    run("render", str(path), "--env", "prod", "-o", str(tmp_path / "b"))
    for f in (tmp_path / "a" / "prod").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / "prod" / f.name).read_bytes(), f.name


def test_failed_render_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("region: eu-west-1", "region: mars"))
    out = tmp_path / "out"
    code, _, err = run("render", str(path), "--env", "dev", "-o", str(out))
    assert code == 2
    assert err == f"{path}:2:9: region: invalid AWS region 'mars' (e.g. eu-west-1 or us-east-1)\n"
    assert not out.exists()


def test_failed_render_keeps_the_previous_output(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    out = tmp_path / "out"
    run("render", str(path), "--env", "dev", "-o", str(out))
    before = {p.name: p.read_bytes() for p in (out / "dev").iterdir()}
    write(tmp_path, GOOD.replace("nat: per-az", "nat: x"))
    assert run("render", str(path), "--env", "prod", "-o", str(out))[0] == 2
    assert {p.name: p.read_bytes() for p in (out / "dev").iterdir()} == before
    assert sorted(p.name for p in out.iterdir()) == ["dev"]


def test_unknown_environment_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert run("render", str(path), "--env", "staging") == (
        2,
        "",
        f"{path}:5:1: environments: unknown environment 'staging' (use one of: dev, prod)\n",
    )


def test_bad_var_syntax_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert run("render", str(path), "--env", "dev", "--var", "novalue") == (
        2,
        "",
        "--var 'novalue': expected KEY=VALUE\n",
    )


def test_lint_clean(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert run("lint", str(path), "--env", "dev") == (
        0,
        "shop-dev: 2 templates (cfngen checks, cfn-lint): no findings\n",
        "",
    )


def test_lint_findings_exit_1_and_name_the_blueprint_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace(
            "app: {description: app}",
            "app:\n    description: app\n    ingress:\n"
            "      - {port: 22, cidr: 0.0.0.0/0, description: ssh}",
        ),
    )
    code, out, err = run("lint", str(path), "--env", "dev")
    assert code == 1
    assert out.splitlines() == [
        "dev/security.yaml:16: error CFG006: AppSecurityGroup: SSH port 22 is open to the "
        "internet (0.0.0.0/0)",
        f"    stack shop-dev-security, from {path}:4:3 (security_groups.app)",
        "    CFG006 Database, cache, file system or admin port open to the internet: "
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-19",
        "shop-dev: 2 templates (cfngen checks, cfn-lint): 1 error",
    ]
    assert err == "1 finding(s)\n"


def test_graph_formats(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert run("graph", str(path), "--env", "dev")[1] == (
        "flowchart LR\n"
        '  network["network<br/>VPC, subnets, gateways and routes"]\n'
        '  security["security<br/>Security groups and the rules between them"]\n'
        "  network --> security\n"
    )
    dot = run("graph", str(path), "--env", "dev", "--format", "dot")[1]
    assert '"network" -> "security";' in dot
    data = json.loads(run("graph", str(path), "--env", "dev", "--format", "json")[1])
    assert [(s["stack"], s["depends_on"]) for s in data["stacks"]] == [
        ("shop-dev-network", []),
        ("shop-dev-security", ["network"]),
    ]


def test_schema_is_json_schema_with_every_top_level_key() -> None:
    code, out, _ = run("schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert {"blueprint", "region", "network", "security_groups", "environments"} <= set(
        schema["properties"]
    )


@pytest.mark.parametrize("command", ["validate", "render", "lint", "checks", "graph", "schema"])
def test_every_command_explains_itself_with_an_example(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0
    assert "Example:" in out or "Examples:" in out


def test_render_never_imports_boto3(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    argv = ["render", str(path), "--env", "dev", "-o", str(tmp_path / "o")]
    code = (
        "import sys\n"
        "from cfngen.cli import cli\n"
        f"try:\n    cli.main({argv!r})\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('boto3', 'botocore', 'cfnlint')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ}, check=True
    )
    assert proc.stdout.strip().splitlines()[-1] == "[]"
