"""Commands that compile a blueprint: validate, render, graph, schema (and lint, checks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cfngen.cli.completion import complete_env
from cfngen.cli.options import (
    blueprint_argument,
    env_option,
    parse_variables,
    short_run,
    variable_options,
)

if TYPE_CHECKING:
    from cfngen.render import RenderedEnvironment


def _compile(
    blueprint: Path, env: str, variables: tuple[str, ...], var_files: tuple[Path, ...]
) -> RenderedEnvironment:
    from cfngen.compiler import compile_environment

    return compile_environment(blueprint, env, parse_variables(variables), var_files)


@click.command()
@blueprint_argument
@click.option(
    "--env",
    "-e",
    "envs",
    shell_complete=complete_env,
    multiple=True,
    metavar="ENV",
    help="Environment to validate; repeatable (default: all of them).",
)
@variable_options
@short_run
def validate(
    blueprint: Path, envs: tuple[str, ...], variables: tuple[str, ...], var_files: tuple[Path, ...]
) -> None:
    """Check a blueprint for every environment (or the ones given).

    Runs the whole pipeline up to the stack plan: YAML, environment overlays, template
    variables, types, references, CIDRs and dependency cycles. Every error is printed as
    file:line:col with the field and the fix; exit code 2 when there are any.

    \b
    Example:
      cfngen validate blueprints/legocity.yaml
      cfngen validate blueprints/legocity.yaml --env prod --var domain=example.com
    """
    from cfngen.compiler import Inputs, validate_blueprint

    inputs = Inputs(blueprint, tuple(parse_variables(variables).items()), var_files)
    prepared = validate_blueprint(inputs, envs or None)
    summary = ", ".join(f"{p.env}: {len(p.plans)} stacks" for p in prepared)
    click.echo(f"{blueprint}: valid ({summary})")


@click.command()
@blueprint_argument
@env_option()
@click.option(
    "--output",
    "-o",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Directory to write DIR/ENV/ into.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace DIR/ENV/ even when it holds another blueprint's environment or files cfngen "
    "did not write.",
)
@variable_options
@short_run
def render(
    blueprint: Path,
    env: str,
    out_dir: Path,
    force: bool,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
) -> None:
    """Write one environment's templates for review or hand-off.

    Writes DIR/ENV/<component>.yaml (one CloudFormation template per stack),
    DIR/ENV/<component>.params.json (parameters for `aws cloudformation deploy
    --parameter-overrides file://...`), DIR/ENV/manifest.json (deploy order, files,
    parameters, exports, imports) and DIR/ENV/README.md (a runbook). Only templates end in
    .yaml. Output is byte-for-byte deterministic; a failed render writes nothing.

    \b
    Example:
      cfngen render blueprints/legocity.yaml --env prod -o out
      cfn-lint out/prod/*.yaml
    """
    from cfngen.render import write_environment

    rendered = _compile(blueprint, env, variables, var_files)
    target = write_environment(rendered, out_dir, force=force)
    for warning in rendered.placeholders:  # stderr: stdout stays the file list
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"rendered {len(rendered.stacks)} stacks for {rendered.environment_name} into {target}/"
    )
    from cfngen.artifact_bucket import MAX_TEMPLATE_BODY

    for s in rendered.stacks:
        size = len(s.body.encode("utf-8"))
        big = (
            f"; {size:,} bytes: deploys through the artifact bucket (over {MAX_TEMPLATE_BODY:,})"
            if size > MAX_TEMPLATE_BODY
            else ""
        )
        if s.regions:  # a multi-region environment: where each stack goes (cfngen.regions)
            big += f"; stack set in {', '.join(s.regions)}"
        elif s.home_only:
            big += f"; {rendered.regions[0]} only: {s.home_only}"
        click.echo(f"  {target / s.file}  ({s.name}{big})")


@click.command()
@blueprint_argument
@env_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "json"]),
    default="mermaid",
    show_default=True,
    help="Output format.",
)
@variable_options
@short_run
def graph(
    blueprint: Path, env: str, fmt: str, variables: tuple[str, ...], var_files: tuple[Path, ...]
) -> None:
    """Print the stack dependency graph (an edge A --> B means A is deployed before B).

    \b
    Example:
      cfngen graph blueprints/legocity.yaml --env dev --format mermaid
      cfngen graph blueprints/legocity.yaml --env dev --format dot | dot -Tsvg > graph.svg
    """
    from cfngen.compiler import Inputs, validate_blueprint
    from cfngen.stacks import stack_name

    inputs = Inputs(blueprint, tuple(parse_variables(variables).items()), var_files)
    (prep,) = validate_blueprint(inputs, [env])
    nodes = [(p.component, p.title, list(p.depends_on)) for p in prep.plans]
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "environment_name": prep.env_name,
                    "stacks": [
                        {
                            "component": c,
                            "stack": stack_name(prep.env_name, c),
                            "title": t,
                            "depends_on": d,
                        }
                        for c, t, d in nodes
                    ],
                },
                indent=2,
            )
        )
    elif fmt == "dot":
        click.echo(f'digraph "{prep.env_name}" {{')
        click.echo("  rankdir=LR;")
        for c, t, _ in nodes:
            click.echo(f'  "{c}" [label="{c}\\n{t}"];')
        for c, _, deps in nodes:
            for d in deps:
                click.echo(f'  "{d}" -> "{c}";')
        click.echo("}")
    else:
        click.echo("flowchart LR")
        ids = {c: c.replace("-", "_") for c, _, _ in nodes}
        for c, t, _ in nodes:
            click.echo(f'  {ids[c]}["{c}<br/>{t}"]')
        for c, _, deps in nodes:
            for d in deps:
                click.echo(f"  {ids[d]} --> {ids[c]}")


@click.command()
@short_run
def schema() -> None:
    """Print the blueprint JSON Schema (for editor completion and validation).

    \b
    Example:
      cfngen schema > blueprint.schema.json
      # then, first line of a blueprint, for the YAML language server:
      # yaml-language-server: $schema=./blueprint.schema.json
    """
    from cfngen.schema import blueprint_schema

    click.echo(json.dumps(blueprint_schema(), indent=2))
