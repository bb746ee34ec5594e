"""What the CLI does with its inputs: unknown --var names, folders it would replace, --debug."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cfngen.cli import cli
from tests.helpers import write

BLUEPRINT = """\
blueprint: shop
region: eu-west-1
vars: {image_tag: v1}
security_groups:
  app: {description: "app {{ vars.image_tag }}"}
environments:
  dev: {}
  prod:
    security_groups:
      app: {description: "app {{ vars.release }}"}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def cfngen(*args: str, extra: str = "") -> subprocess.CompletedProcess[str]:
    """The real entry point (its error boundary is outside click), in a new process."""
    argv = ["cfngen", *args]
    code = f"import sys\n{extra}\nsys.argv = {argv!r}\nfrom cfngen.cli import main\nmain()\n"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ}
    )


def test_an_unknown_variable_name_is_an_error_with_a_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    code, out, err = run("validate", str(path), "--var", "imagetag=v2")
    assert (code, out) == (2, "")
    assert err == (
        "--var imagetag: the blueprint neither declares (`vars:`) nor uses ({{ vars.imagetag }}) "
        "a variable 'imagetag'; did you mean 'image_tag'?\n"
    )


def test_variables_declared_or_used_in_any_environment_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    code, out, _ = run("validate", str(path), "--var", "image_tag=v2", "--var", "release=r1")
    assert (code, out) == (0, f"{path}: valid (dev: 2 stacks, prod: 2 stacks)\n")


def test_a_template_reading_vars_by_a_computed_name_accepts_any_name(tmp_path: Path) -> None:
    text = BLUEPRINT.replace("{{ vars.image_tag }}", "{{ vars[env.name] | default('x') }}")
    path = write(tmp_path, text)
    code, _, err = run("validate", str(path), "--env", "dev", "--var", "dev=1")
    assert (code, err) == (0, "")


def test_render_refuses_to_replace_another_blueprints_environment(tmp_path: Path) -> None:
    first = write(tmp_path, BLUEPRINT)
    second = write(tmp_path, BLUEPRINT.replace("blueprint: shop", "blueprint: other"), "o.yaml")
    out = tmp_path / "out"
    assert run("render", str(first), "--env", "dev", "-o", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in (out / "dev").iterdir()}
    code, _, err = run("render", str(second), "--env", "dev", "-o", str(out))
    assert code == 2
    assert err == (
        f"{out / 'dev'}: holds blueprint 'shop', not 'other'; rendering would replace it. Render "
        "into another folder (-o DIR), or pass --force to replace it\n"
    )
    assert {p.name: p.read_bytes() for p in (out / "dev").iterdir()} == before
    assert run("render", str(second), "--env", "dev", "-o", str(out), "--force")[0] == 0
    assert json.loads((out / "dev" / "manifest.json").read_text())["blueprint"] == "other"


def test_render_keeps_files_it_did_not_write_unless_forced(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    out = tmp_path / "out"
    assert run("render", str(path), "--env", "dev", "-o", str(out))[0] == 0
    assert run("render", str(path), "--env", "dev", "-o", str(out))[0] == 0  # its own: fine
    (out / "dev" / "notes.txt").write_text("mine")
    code, _, err = run("render", str(path), "--env", "dev", "-o", str(out))
    assert code == 2 and "holds files that cfngen did not write (notes.txt)" in err
    (out / "prod").mkdir()
    (out / "prod" / "main.tf").write_text("")
    code, _, err = run("render", str(path), "--env", "prod", "-o", str(out), "--var", "release=1")
    assert code == 2 and "(no readable manifest.json)" in err
    assert (out / "prod" / "main.tf").exists()


def test_debug_shows_the_traceback_of_a_blueprint_error_with_the_same_exit_code(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "blueprint: [")
    plain = cfngen("validate", str(path))
    debug = cfngen("--debug", "validate", str(path))
    assert plain.returncode == debug.returncode == 2
    assert "Traceback" not in plain.stderr
    assert "Traceback (most recent call last)" in debug.stderr
    assert plain.stderr.strip().splitlines()[-1] in debug.stderr


def test_an_internal_error_names_itself_and_shows_a_traceback_only_with_debug(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, BLUEPRINT)
    boom = (
        "import cfngen.compiler\n"
        "def boom(*a, **k):\n    raise RuntimeError('boom')\n"
        "cfngen.compiler.validate_blueprint = boom\n"
    )
    plain = cfngen("validate", str(path), extra=boom)
    assert plain.returncode == 1
    assert "Traceback" not in plain.stderr
    assert plain.stderr == (
        "cfngen: internal error (a bug): RuntimeError: boom\n"
        "run the command again with `cfngen --debug ...` for a traceback to report\n"
    )
    debug = cfngen("--debug", "validate", str(path), extra=boom)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "please report it with the traceback above" in debug.stderr


def test_render_says_which_templates_need_the_artifact_bucket(tmp_path: Path) -> None:
    from tests.scale import generated_blueprint

    path = write(tmp_path, generated_blueprint(30))
    code, out, _ = run("render", str(path), "--env", "dev", "-o", str(tmp_path / "out"))
    assert code == 0
    big = [line for line in out.splitlines() if "artifact bucket" in line]
    assert len(big) == 1 and "(scale-dev-security; " in big[0]
    assert big[0].endswith("bytes: deploys through the artifact bucket (over 51,200))")
    assert "service-svc0.yaml  (scale-dev-service-svc0)" in out
