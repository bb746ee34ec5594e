"""The pre-commit hooks: the definition file pre-commit reads, and the runner it calls."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from cfngen.cli.hooks import is_blueprint, main
from tests.reference import ROOT

GOOD = "blueprint: shop\nregion: eu-west-1\nenvironments: {dev: {}}\n"
BAD = "blueprint: shop\nregion: eu-west-1\nnetwork: {cidr: 10.0.0.1/16}\nenvironments: {dev: {}}\n"


def test_the_hook_definitions_are_what_pre_commit_reads() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["cfngen-validate", "cfngen-lint"]
    for hook in hooks:
        # pre-commit requires id, name, entry and language; python installs this repository
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"
        assert shlex.split(hook["entry"])[:3] == ["python", "-m", "cfngen.cli.hooks"]
        assert shlex.split(hook["entry"])[3] == hook["id"].removeprefix("cfngen-")


def test_runner_checks_blueprints_and_skips_other_yaml(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    good, bad, other = tmp_path / "good.yaml", tmp_path / "bad.yaml", tmp_path / "ci.yml"
    good.write_text(GOOD)
    bad.write_text(BAD)
    other.write_text("on: push\njobs: {}\n")
    assert not is_blueprint(other)
    assert main(["validate", str(good), str(other)]) == 0
    assert main(["validate", str(good), str(bad), str(other)]) == 2
    out, err = capfd.readouterr()
    assert f"{good}: valid (dev: " in out
    assert f"{bad}:3:17: network.cidr: invalid CIDR '10.0.0.1/16'" in err
    assert "ci.yml" not in out + err
    assert main(["deploy", str(good)]) == 2
