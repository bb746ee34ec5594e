"""Options shared by commands that read a blueprint."""

from __future__ import annotations

import atexit
import functools
import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cfngen.cli.completion import complete_env

F = TypeVar("F", bound=Callable[..., Any])


EXITS = "exits"
"""ctx.obj key set by the console entry point (cfngen.cli.main): the interpreter ends with
the command. In-process callers (tests, CliRunner) do not set it."""


def short_run(f: F) -> F:
    """For a command that compiles and exits (validate, render ...): when the process ends
    with it, no cyclic garbage collection while it runs, and none at interpreter exit.

    Such a run allocates a few hundred thousand objects and keeps nearly all of them to the
    end (models, kinds, templates); the collector's passes over them, and the final one at
    teardown, cost ~0.1 s of a 0.4 s render and free almost nothing (memory grows ~3 %;
    docs/development.md). Commands that run long (deploy, lint's worker pool) keep the
    collector, and so does every in-process caller, which goes on after the command.
    """

    @functools.wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and isinstance(ctx.obj, dict) and ctx.obj.get(EXITS):
            gc.disable()
            atexit.register(gc.freeze)  # teardown then skips every object still alive
        return f(*args, **kwargs)

    return run  # type: ignore[return-value]


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
