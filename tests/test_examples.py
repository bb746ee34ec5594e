"""The example blueprints in examples/: each validates, renders the same bytes twice, and passes
`cfngen lint --checkov` with no findings in every environment (what the kinds promise)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cfngen.cli import cli
from cfngen.compiler import Inputs, compile_environment, validate_blueprint
from tests.gates import use_project_checkov
from tests.reference import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_and_renders_deterministically(example: Path) -> None:
    for prep in validate_blueprint(Inputs(example)):
        first = compile_environment(example, prep.env)
        again = compile_environment(example, prep.env)
        assert [s.body for s in first.stacks] == [s.body for s in again.stacks]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_examples_need_no_overrides(example: Path) -> None:
    """The examples are real architectures written with first-class settings only: the escape
    hatch is for what cfngen does not model, and these need nothing of it."""

    doc = yaml.safe_load(example.read_text())
    assert "overrides" not in doc
    for env in (doc.get("environments") or {}).values():
        assert "overrides" not in (env or {})


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_verifies_clean(example: Path) -> None:
    """Every relation the example declares is permitted by what it renders (cfngen verify)."""
    result = CliRunner().invoke(cli, ["verify", str(example.relative_to(ROOT))])
    assert result.exit_code == 0, result.output
    assert result.output.count("no findings") == len(validate_blueprint(Inputs(example)))


@pytest.mark.checkov
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_lints_clean_with_checkov(example: Path) -> None:
    use_project_checkov()
    result = CliRunner().invoke(cli, ["lint", str(example.relative_to(ROOT)), "--checkov"])
    assert result.exit_code == 0, result.output
    assert result.output.count("no findings") == len(validate_blueprint(Inputs(example)))
