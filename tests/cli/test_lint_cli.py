"""`cfngen lint` on what ops teams have: a rendered folder, templates cfngen did not write,
JSON for tools; and `cfngen checks`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfngen.checks import CHECKS
from cfngen.cli import cli
from tests.helpers import write

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "fixtures" / "production_lb_blog.yaml"

BLUEPRINT = """\
blueprint: shop
region: eu-west-1
security_groups:
  app:
    description: app
    ingress:
      - {port: 22, cidr: 0.0.0.0/0, description: ssh}
environments:
  dev: {}
"""

PLAIN = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Image: nginx
          Privileged: true
          LogConfiguration:
            LogDriver: awslogs
            Options: {awslogs-group: g, awslogs-region: eu-west-1, awslogs-stream-prefix: app}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_rendered_folder_keeps_stack_names_and_blueprint_lines(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    assert run("render", str(path), "--env", "dev", "-o", str(tmp_path / "out"))[0] == 0
    code, out, _ = run("lint", str(tmp_path / "out" / "dev"))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'out' / 'dev' / 'security.yaml'}:16: error CFG006")
    # the manifest's origins name the blueprint file (by name: rendered bytes don't depend on
    # the path the blueprint was given by) and the entry's line
    assert lines[1] == "    stack shop-dev-security, from bp.yaml:4:3 (security_groups.app)"


def test_a_folder_of_plain_templates(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "app.yaml").write_text(PLAIN)
    shutil.copy(SEED, tmp_path / "tpl" / "blog.yaml")
    (tmp_path / "tpl" / "params.json").write_text('{"Parameters": {}}')
    (tmp_path / "tpl" / "notes.yaml").write_text("just: notes\n")
    code, out, _ = run("lint", str(tmp_path / "tpl"))
    assert code == 1
    assert f"skipped {tmp_path / 'tpl' / 'notes.yaml'}: not a CloudFormation template" in out
    assert f"{tmp_path / 'tpl' / 'app.yaml'}:3: error CFG003: Task: container 'app' runs " in out
    assert "error CFG014: ECSTaskDefinition:" in out
    assert out.splitlines()[-1].startswith(f"{tmp_path / 'tpl'}: 2 templates (")


def test_one_plain_template_as_json(tmp_path: Path) -> None:
    code, out, _ = run("lint", str(SEED), "--format", "json")
    assert code == 1
    data = json.loads(out)
    (report,) = data["reports"]
    assert report["templates"] == 1
    cfg013 = next(f for f in report["findings"] if f["rule"] == "CFG013")
    assert cfg013["resource"] == "ApiGatewaySecurityGroup"
    assert cfg013["tool"] == "cfngen"
    assert cfg013["link"].startswith("https://docs.aws.amazon.com/")
    assert cfg013["origin"] == ""  # not a cfngen template: no blueprint behind it


def test_production_checks_of_plain_templates_are_asked_for(tmp_path: Path) -> None:
    db = """\
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    DeletionPolicy: Snapshot
    UpdateReplacePolicy: Snapshot
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      AllocatedStorage: '20'
      MasterUsername: app
      ManageMasterUserPassword: true
      StorageEncrypted: true
      BackupRetentionPeriod: 1
"""
    path = tmp_path / "db.yaml"
    path.write_text(db)
    assert "CFG009" not in run("lint", str(path))[1]
    assert "CFG009" in run("lint", str(path), "--production")[1]


def test_show_waived_prints_reasons(tmp_path: Path) -> None:
    waived = PLAIN.replace(
        "    Type: AWS::ECS::TaskDefinition\n",
        "    Type: AWS::ECS::TaskDefinition\n    Metadata:\n      cfngen:\n"
        "        waivers: {CFG003: the agent needs the docker socket (OPS-7)}\n",
    )
    path = tmp_path / "t.yaml"
    path.write_text(waived)
    code, out, _ = run("lint", str(path), "--show-waived")
    assert code == 0
    assert "waived CFG003: Task: container 'app' runs privileged" in out
    assert "    reason: the agent needs the docker socket (OPS-7)" in out
    assert "1 waived" in out.splitlines()[-1]


def test_blueprint_options_on_templates_are_usage_errors() -> None:
    code, _, err = run("lint", str(SEED), "--env", "prod")
    assert code == 2
    assert "--env, --var and --var-file apply to blueprints" in err


def test_asking_for_checkov_without_checkov_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECKOV_BIN", str(tmp_path / "nowhere" / "checkov"))
    code, _, err = run("lint", str(SEED), "--checkov")
    assert code == 2
    assert "checkov is not installed" in err


@pytest.mark.checkov
def test_checkov_findings_join_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    checkov = os.environ.get("CHECKOV_BIN", str(ROOT / ".checkov-venv" / "bin" / "checkov"))
    monkeypatch.setenv("CHECKOV_BIN", checkov)
    code, out, _ = run("lint", str(SEED), "--checkov", "--format", "json")
    assert code == 1
    (report,) = json.loads(out)["reports"]
    tools = {f["tool"] for f in report["findings"]}
    assert tools == {"cfngen", "cfn-lint", "checkov"}
    ckv = [f for f in report["findings"] if f["tool"] == "checkov"]
    # e.g. the ECR repository keeps mutable tags, the API methods need no authorization
    assert {"ECRRepository", "APIGatewayMethodRoot"} <= {f["resource"] for f in ckv}
    assert all(f["line"] > 1 and f["rule"].startswith("CKV") for f in ckv)


def test_checks_lists_and_explains() -> None:
    code, out, _ = run("checks")
    assert code == 0
    assert len(out.splitlines()) == len(CHECKS)
    assert out.splitlines()[0].startswith("CFG001  error    OIDC trust")
    code, out, _ = run("checks", "cfg001")
    assert code == 0
    assert "https://docs.aws.amazon.com/IAM/" in out
    assert run("checks", "CFG999")[0] == 2
