"""Every reference blueprint, every environment: the promises the README and docs/ make.

Golden files (tests/golden/<blueprint>/<env>/) are compared by parsed content; regenerate them
only with `make goldens` and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfngen.cli import cli
from cfngen.compiler import compile_environment
from cfngen.render import RenderedEnvironment, load_template, runbook
from tests.gates import use_project_checkov
from tests.reference import GOLDEN, ROOT, case_id, reference_cases

CASES = reference_cases()


@pytest.fixture(scope="module", params=CASES, ids=[case_id(c) for c in CASES])
def rendered(request: pytest.FixtureRequest) -> RenderedEnvironment:
    path, env = request.param
    return compile_environment(path.relative_to(ROOT), env)


def test_rendering_twice_gives_identical_bytes(rendered: RenderedEnvironment) -> None:
    again = compile_environment(Path(rendered.source), rendered.environment)
    assert [s.body for s in again.stacks] == [s.body for s in rendered.stacks]
    assert again.manifest() == rendered.manifest()


def test_every_stack_takes_environment_name_and_exports_under_it(
    rendered: RenderedEnvironment,
) -> None:
    for stack in rendered.stacks:
        t = load_template(stack.body)
        assert t["Parameters"]["EnvironmentName"]["Type"] == "String", stack.name
        assert stack.name == f"{rendered.environment_name}-{stack.component}"
        for name, out in t.get("Outputs", {}).items():
            if "Export" in out:
                export = out["Export"]["Name"]
                assert export == {"Fn::Sub": f"${{EnvironmentName}}-{stack.component}-{name}"}


def test_imports_name_exports_of_earlier_stacks(rendered: RenderedEnvironment) -> None:
    exported_before: set[str] = set()
    for stack in rendered.stacks:
        t = load_template(stack.body)
        for imported in _imports(t):
            name = imported.replace("${EnvironmentName}", rendered.environment_name)
            assert name in exported_before, f"{stack.name} imports {name} before it is exported"
            assert name in stack.imports
        exported_before.update(stack.exports)


def _imports(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if "Fn::ImportValue" in node:
            value = node["Fn::ImportValue"]
            assert isinstance(value, dict) and "Fn::Sub" in value, f"untyped import {value}"
            found.append(value["Fn::Sub"])
        for v in node.values():
            found.extend(_imports(v))
    elif isinstance(node, list):
        for v in node:
            found.extend(_imports(v))
    return found


def test_matches_golden_files(rendered: RenderedEnvironment) -> None:
    golden = GOLDEN / rendered.blueprint / rendered.environment
    assert golden.is_dir(), f"no golden files for {golden}; run `make goldens`"
    manifest = json.loads((golden / "manifest.json").read_text())
    assert manifest == rendered.manifest(), "manifest differs from golden (make goldens?)"
    files = {p.name for p in golden.glob("*.yaml")}
    assert files == {s.file for s in rendered.stacks}
    for stack in rendered.stacks:
        want = load_template((golden / stack.file).read_text())
        got = load_template(stack.body)
        assert got == want, f"{stack.file} differs from its golden file (make goldens?)"


def test_runbook_matches_golden_and_the_folder_read_back(rendered: RenderedEnvironment) -> None:
    """The runbook is built from what the rendered folder holds: rendering the blueprint and
    reading the folder back give the same text (and `cfngen deploy .` in it is what it says)."""
    golden = GOLDEN / rendered.blueprint / rendered.environment
    text = runbook(rendered)
    assert text == (golden / "README.md").read_text(), "README.md differs (make goldens?)"
    assert runbook(RenderedEnvironment.from_directory(golden)) == text
    assert f"cfngen deploy . --env {rendered.environment}\n" in text
    assert "blueprints/" not in text


@pytest.mark.parametrize("blueprint", sorted({p for p, _ in CASES}), ids=lambda p: p.stem)
@pytest.mark.checkov
def test_cfngen_lint_with_checkov_finds_nothing(blueprint: Path) -> None:
    """What CI promises: `cfngen lint --checkov` over every environment of every
    reference blueprint reports nothing: cfngen's checks, cfn-lint with informational rules
    and checkov, in one pass."""
    use_project_checkov()
    result = CliRunner().invoke(cli, ["lint", str(blueprint.relative_to(ROOT)), "--checkov"])
    assert result.exit_code == 0, result.output
    envs = [env for p, env in CASES if p == blueprint]
    for env in envs:
        assert "no findings" in result.output.split(f"-{env}: ")[1].splitlines()[0]
