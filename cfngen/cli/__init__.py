"""The cfngen command line: thin click commands and the one error boundary.

Commands parse options, call one function, print and exit. Domain errors (CfngenError) become a
message and an exit code here and nowhere else; `--debug` re-raises them with a traceback.
"""

from __future__ import annotations

import os
import sys

import click

from cfngen import __version__
from cfngen.cli.options import EXITS
from cfngen.errors import EXIT_FAILED, CfngenError

COMMANDS = {
    "validate": "cfngen.cli.compile:validate",
    "render": "cfngen.cli.compile:render",
    "lint": "cfngen.cli.lint:lint",
    "verify": "cfngen.cli.verify:verify",
    "checks": "cfngen.cli.lint:checks",
    "graph": "cfngen.cli.compile:graph",
    "schema": "cfngen.cli.compile:schema",
    "plan": "cfngen.cli.deploy:plan_cmd",
    "deploy": "cfngen.cli.deploy:deploy_cmd",
    "destroy": "cfngen.cli.deploy:destroy_cmd",
    "status": "cfngen.cli.deploy:status_cmd",
    "outputs": "cfngen.cli.deploy:outputs_cmd",
    "unlock": "cfngen.cli.deploy:unlock_cmd",
    "ci": "cfngen.cli.ci:ci",
}
"""Every command -> where it is defined: a run imports only its own command's module (the
deploy commands' modules are not a render's business); `--help` imports them all."""


class _Group(click.Group):
    """Finds commands in COMMANDS, and runs every command inside the error boundary."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        import importlib

        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CfngenError as err:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(err.render(), err=True)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cfngen")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (for bug reports).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Compile YAML blueprints into modular CloudFormation stacks and deploy them.

    \b
    Example:
      cfngen validate blueprints/legocity.yaml
      cfngen render blueprints/legocity.yaml --env dev
      cfngen deploy blueprints/legocity.yaml --env dev --yes
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _debug() -> bool:
    # `--debug` belongs to the group, before the command; the error boundary runs outside click,
    # so it reads argv (an option value spelled "--debug" after the command is not the flag)
    for arg in sys.argv[1:]:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            return False
    return False


_PLUGIN_LOADER = "pydantic.plugin._loader"
_ALL = ("__all__", "1", "true")  # the values with which pydantic loads no plugin


def _without_pydantic_plugins() -> None:
    """No pydantic plugin runs inside cfngen, and none is looked for.

    cfngen registers none. With `PYDANTIC_DISABLE_PLUGINS=__all__` pydantic's `get_plugins()`
    returns nothing, but the module holding it imports `importlib.metadata` (with email, socket,
    zipfile, csv: ~10 ms of every run) only to find entry points it would then skip. The module
    is given as one whose `get_plugins` answers what pydantic's does under that setting; any
    other name loads pydantic's own module. tests/cli/test_startup.py keeps both true.
    """
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if os.environ["PYDANTIC_DISABLE_PLUGINS"] not in _ALL or _PLUGIN_LOADER in sys.modules:
        return
    import types

    stub = types.ModuleType(_PLUGIN_LOADER, "pydantic's plugin loader, with every plugin disabled")

    def get_plugins() -> tuple[()]:
        return ()

    def real(name: str) -> object:
        if name.startswith("__"):  # the import system asks for __path__ and the like
            raise AttributeError(name)
        import importlib

        if sys.modules.get(_PLUGIN_LOADER) is stub:
            del sys.modules[_PLUGIN_LOADER]
        return getattr(importlib.import_module(_PLUGIN_LOADER), name)

    stub.get_plugins = get_plugins  # type: ignore[attr-defined]
    stub.__getattr__ = real  # type: ignore[method-assign]
    sys.modules[_PLUGIN_LOADER] = stub


def main() -> None:
    """Console-script entry point."""
    _without_pydantic_plugins()
    import traceback

    try:
        # the process ends with the command: short runs may skip garbage collection
        cli.main(prog_name="cfngen", standalone_mode=True, obj={EXITS: True})
    except CfngenError as err:  # raised outside a command, or re-raised by --debug
        if _debug():
            click.echo(traceback.format_exc(), err=True)
        click.echo(err.render(), err=True)
        sys.exit(err.exit_code)
    except Exception as err:
        if _debug():
            click.echo(traceback.format_exc(), err=True)
            hint = "please report it with the traceback above"
        else:
            hint = "run the command again with `cfngen --debug ...` for a traceback to report"
        click.echo(
            f"cfngen: internal error (a bug): {type(err).__name__}: {str(err)[:300]}\n{hint}",
            err=True,
        )
        sys.exit(EXIT_FAILED)
