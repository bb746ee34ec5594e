"""What `cfngen` skips at start-up, and that skipping it changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pydantic.plugin._schema_validator as schema_validator

from tests.reference import ROOT

PROBE = """
import json, sys
from cfngen.cli import _without_pydantic_plugins
_without_pydantic_plugins()
from pydantic import BaseModel
class M(BaseModel):
    a: int
M(a=1)  # builds a validator: pydantic asks the plugin loader here
loader = sys.modules["pydantic.plugin._loader"]
print(json.dumps({
    "metadata": "importlib.metadata" in sys.modules,
    "plugins": list(loader.get_plugins()),
    "group": loader.PYDANTIC_ENTRY_POINT_GROUP,
}))
"""


def _probe(env_value: str | None) -> dict[str, object]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    if env_value is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_plugin_discovery_is_skipped_and_finds_nothing() -> None:
    result = _probe(None)
    assert result["metadata"] is False  # the entry-point scan's imports never happen
    assert result["plugins"] == []
    assert result["group"] == "pydantic"  # any other name is pydantic's own module's


def test_a_user_choice_of_plugins_is_pydantics_to_handle() -> None:
    result = _probe("some-plugin")
    assert result["metadata"] is True  # pydantic's own loader ran


def test_pydantic_asks_the_loader_only_for_get_plugins() -> None:
    # the stub answers `get_plugins`; if pydantic starts importing more from its loader, this
    # fails and the stub must be looked at again
    source = Path(schema_validator.__file__).read_text()
    imports = [line.strip() for line in source.splitlines() if "_loader" in line]
    assert imports == ["from ._loader import get_plugins"]


def test_every_command_is_found_where_the_table_says() -> None:
    import click

    from cfngen.cli import COMMANDS, cli

    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name
    assert cli.get_command(ctx, "nope") is None


def test_a_command_imports_no_other_commands_module() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['cfngen', 'validate', 'blueprints/dbward.yaml', '--env', 'dev']\n"
        "from cfngen.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('cfngen.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = out.stdout.strip().splitlines()[-1]
    assert "cfngen.cli.compile" in loaded
    for other in ("cfngen.cli.deploy", "cfngen.cli.ci", "cfngen.cli.verify"):
        assert other not in loaded
