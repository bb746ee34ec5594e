"""Options shared by commands that read a blueprint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cfngen.cli.completion import complete_env

F = TypeVar("F", bound=Callable[..., Any])


def blueprint_argument(f: F) -> F:
    return click.argument(
        "blueprint", type=click.Path(path_type=Path, dir_okay=True, exists=False)
    )(f)


def variable_options(f: F) -> F:
    f = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        type=click.Path(path_type=Path),
        help="YAML file of template variables ({{ vars.NAME }}); repeatable.",
    )(f)
    return click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="NAME=VALUE",
        help="A template variable ({{ vars.NAME }}); repeatable, wins over --var-file.",
    )(f)


def env_option(required: bool = True) -> Callable[[F], F]:
    return click.option(
        "--env",
        "-e",
        "env",
        shell_complete=complete_env,
        required=required,
        metavar="ENV",
        help="Environment from the blueprint's `environments:` (e.g. dev, prod).",
    )


def parse_variables(variables: tuple[str, ...]) -> dict[str, str]:
    from cfngen.blueprint.interpolate import parse_var

    return dict(parse_var(v) for v in variables)
