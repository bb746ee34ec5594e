"""`cfngen verify` on a blueprint and a rendered folder; the verifier inside `cfngen lint`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from cfngen.cli import cli

ROOT = Path(__file__).resolve().parents[2]
RENDERED = ROOT / "tests" / "golden" / "production-lb" / "prod"
BLUEPRINT = ROOT / "blueprints" / "production-lb.yaml"


def _broken(tmp_path: Path) -> Path:
    """The production-lb folder with the service importing a misspelled target group export."""
    folder = tmp_path / "prod"
    shutil.copytree(RENDERED, folder)
    service = folder / "service-web.yaml"
    text = service.read_text()
    assert "-lb-internal-Web80TargetGroupArn" in text
    service.write_text(text.replace("-lb-internal-Web80TargetGroupArn", "-lb-internal-Web08TgArn"))
    return folder


def test_verify_a_clean_blueprint_and_folder() -> None:
    for args in ([str(BLUEPRINT), "--env", "prod"], [str(RENDERED)]):
        result = CliRunner().invoke(cli, ["verify", *args])
        assert result.exit_code == 0, result.output
        assert "production-lb-prod: 8 templates (environment checks): no findings" in result.output


def test_verify_names_the_broken_import_and_its_blueprint_line(tmp_path: Path) -> None:
    folder = _broken(tmp_path)
    result = CliRunner().invoke(cli, ["verify", str(folder)])
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "CFG020" in x and "error" in x)
    assert re.search(r"service-web\.yaml:\d+: error CFG020: Service: imports ", line), line
    assert "did you mean 'production-lb-prod-lb-internal-Web80TargetGroupArn'" in line
    assert re.search(r"from production-lb\.yaml:\d+:\d+ \(services\.web\)", result.output)
    # the target group nothing registers in any more is named too, at its own blueprint entry
    assert "CFG021: Web80TargetGroup:" in result.output


def test_verify_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["verify", str(_broken(tmp_path)), "--format", "json"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    rules = sorted(f["rule"] for f in out["reports"][0]["findings"])
    assert rules == ["CFG020", "CFG021"]
    assert all(f["origin"] for f in out["reports"][0]["findings"])


def test_verify_rejects_what_is_not_an_environment(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["verify", str(tmp_path)])
    assert result.exit_code == 2
    assert "no manifest.json" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["verify", str(RENDERED), "--env", "prod"])
    assert result.exit_code == 2 and "apply to blueprints" in result.output


def test_lint_runs_the_verifier_on_rendered_folders(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["lint", str(_broken(tmp_path))])
    assert result.exit_code == 1, result.output
    assert "error CFG020: Service:" in result.output
