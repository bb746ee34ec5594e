"""What keeps `cfngen render` and `validate` quick to start (issue 16), checked by behaviour,
never by timing: the garbage collector in short runs, what a run imports. Timings are in
`make bench` (tools/bench.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfngen.cli import cli
from tests.reference import ROOT, case_id, reference_cases

LEGOCITY = ROOT / "blueprints" / "legocity.yaml"


def _python(code: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return proc.stdout


def test_a_short_run_that_ends_the_process_skips_the_collector(tmp_path: Path) -> None:
    # the console entry point hands the command the process; at exit (the handler registered
    # first runs last) the collector is off and every object is frozen, so teardown skips them
    code = """
import atexit, gc, sys
atexit.register(lambda: print(gc.isenabled(), gc.get_freeze_count() > 100_000))
from cfngen.cli import cli
from cfngen.cli.options import EXITS
sys.argv = ["cfngen", *sys.argv[1:]]
cli.main(standalone_mode=False, obj={EXITS: True})
"""
    out = _python(code, "render", str(LEGOCITY), "--env", "dev", "-o", str(tmp_path))
    assert out.splitlines()[-1] == "False True"


def test_in_process_callers_keep_the_collector(tmp_path: Path) -> None:
    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(
        cli, ["render", str(LEGOCITY), "--env", "dev", "-o", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


@pytest.mark.parametrize("case", reference_cases(), ids=case_id)
def test_the_runbook_reads_what_the_templates_say(case: tuple[Path, str]) -> None:
    # the runbook reads the data each template was written from, not the text parsed back:
    # the two must be the same
    from cfngen.compiler import compile_environment
    from cfngen.render import load_template

    env = compile_environment(*case)
    for stack in env.stacks:
        assert stack.parsed is not None and stack.template is stack.parsed[1]
        assert stack.template == load_template(stack.body), stack.component


def test_a_stack_read_back_parses_its_body_once(tmp_path: Path) -> None:
    from cfngen.compiler import compile_environment
    from cfngen.render import RenderedEnvironment, load_template, write_environment

    folder = write_environment(compile_environment(LEGOCITY, "prod"), tmp_path)
    stack = RenderedEnvironment.from_directory(folder).stacks[0]
    assert stack.parsed is None
    assert stack.template == load_template(stack.body)
    assert stack.template is stack.template


IMPORTED = """
import sys
from cfngen.cli import cli
sys.argv = ["cfngen", *sys.argv[1:]]
try:
    cli.main(standalone_mode=False)
finally:
    print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _imported(*args: str) -> set[str]:
    return set(_python(IMPORTED, *args).splitlines()[-1].split())


def test_render_imports_no_deploy_lint_or_jinja(tmp_path: Path) -> None:
    # legocity's templated values only substitute names: no Jinja2 is needed for them
    loaded = _imported("render", str(LEGOCITY), "--env", "prod", "-o", str(tmp_path))
    assert {"cfngen", "troposphere", "pydantic"} <= loaded
    assert loaded.isdisjoint({"jinja2", "boto3", "botocore", "rich", "cfnlint"})


def test_a_filter_still_renders_through_jinja(tmp_path: Path) -> None:
    bp = tmp_path / "bp.yaml"
    bp.write_text(
        "blueprint: shop\nregion: eu-west-1\n"
        'security_groups:\n  app: {description: "{{ env.name | upper }} app"}\n'
        "environments: {dev: {}}\n"
    )
    loaded = _imported("render", str(bp), "--env", "dev", "-o", str(tmp_path / "out"))
    assert "jinja2" in loaded
    assert "DEV app" in (tmp_path / "out" / "dev" / "security.yaml").read_text()
