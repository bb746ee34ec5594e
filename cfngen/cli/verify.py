"""`cfngen verify`: would the stacks of an environment work together (cfngen.verify)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cfngen.cli.completion import complete_env
from cfngen.cli.options import parse_variables, variable_options
from cfngen.errors import OperationError, UsageError

if TYPE_CHECKING:
    from cfngen.lint import Report
    from cfngen.render import RenderedEnvironment


def environments(
    path: Path, envs: tuple[str, ...], variables: tuple[str, ...], var_files: tuple[Path, ...]
) -> list[tuple[RenderedEnvironment, dict[str, str]]]:
    """The environments PATH names, each with the file names findings show for its stacks."""
    from cfngen.render import RenderedEnvironment

    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise UsageError(
                f"{path} has no manifest.json: verify takes a blueprint or a folder "
                "`cfngen render` wrote (e.g. out/prod)"
            )
        if envs or variables or var_files:
            raise UsageError(
                "--env, --var and --var-file apply to blueprints, not rendered folders"
            )
        try:
            env = RenderedEnvironment.from_directory(path)
        except (OSError, KeyError, ValueError) as err:
            raise UsageError(f"{path}/manifest.json is not a cfngen manifest: {err}") from None
        return [(env, {s.component: str(path / s.file) for s in env.stacks})]
    from cfngen.compiler import Inputs, validate_and_build

    inputs = Inputs(path, tuple(parse_variables(variables).items()), var_files)
    out = []
    for _, env in validate_and_build(inputs, list(envs) or None):
        out.append((env, {s.component: f"{env.environment}/{s.file}" for s in env.stacks}))
    return out


@click.command()
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--env",
    "-e",
    "envs",
    shell_complete=complete_env,
    multiple=True,
    metavar="ENV",
    help="Environment of a blueprint to verify; repeatable (default: all of them).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option("--show-waived", is_flag=True, help="Also list waived findings with their reasons.")
@variable_options
def verify(
    path: Path,
    envs: tuple[str, ...],
    fmt: str,
    show_waived: bool,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
) -> None:
    """Verify that the stacks of an environment work together: every import names an export of
    a stack deployed before it, every target group is attached, load balancers reach their
    targets' ports, execution roles can pull images and write logs (`cfngen checks`, the
    environment checks). Each finding names the blueprint entry of the broken relation.

    PATH is a blueprint (every environment, or those given with --env) or a folder `cfngen
    render` wrote. Exit code 1 when there are findings, 2 for bad input.

    \b
    Examples:
      cfngen verify blueprints/legocity.yaml --env prod
      cfngen verify out/prod --format json
    """
    from cfngen.cli.lint import _print_text
    from cfngen.verify import shared_scope_of
    from cfngen.verify import verify as run

    found = environments(path, envs, variables, var_files)
    shared = shared_scope_of(path, [env for env, _ in found])
    reports: list[tuple[str, Report]] = [
        (env.environment_name, run(env, files, shared)) for env, files in found
    ]
    if fmt == "json":
        out: dict[str, Any] = {
            "reports": [
                {
                    "name": name,
                    "templates": r.templates,
                    "findings": [f.as_json() for f in r.findings],
                    "waived": [{**f.as_json(), "reason": why} for f, why in r.waived],
                }
                for name, r in reports
            ]
        }
        click.echo(json.dumps(out, indent=2))
    else:
        for name, r in reports:
            _print_text(name, r, show_waived, "environment checks")
    total = sum(len(r.findings) for _, r in reports)
    if total:
        raise OperationError(f"{total} finding(s)")
