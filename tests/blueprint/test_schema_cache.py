"""The root model's core schema, kept from an earlier run (cfngen.blueprint.schema_cache): the
same schema, the same validation, the same JSON Schema as generating it; a bad or stale file
is only a miss; never read from the working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfngen import registry
from cfngen.blueprint import schema_cache
from tests.reference import ROOT

BROKEN = """\
blueprint: shop
region: eu-west-1
services:
  api: {image: {uri: nginx}, port: 99999, cpu: 3, memory: lots}
databases:
  db: {engine: postgres, instance_class: m5.large}
environments: {dev: {}}
"""

RUN = """
import json, sys
from cfngen import registry
from cfngen.blueprint import schema_cache
from cfngen.blueprint.validate import validate_model
from cfngen.compiler import Inputs, validate_blueprint
from cfngen.errors import BlueprintError
from cfngen.schema import blueprint_schema
used = schema_cache.complete(registry.BLUEPRINT)
try:
    validate_blueprint(Inputs(__import__("pathlib").Path(sys.argv[1])))
    errors = []
except BlueprintError as err:
    errors = [d.render() for d in err.diagnostics]
print(json.dumps({"used": used, "errors": errors, "schema": blueprint_schema()}))
"""


def _run(cache: Path, blueprint: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-c", RUN, str(blueprint)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def _file(cache: Path) -> Path:
    """The file of the model of every kind (validating writes the blueprint's own too)."""
    found = schema_cache._file(registry.BLUEPRINT, cache / "cfngen")
    assert found.is_file()
    return found


def test_the_schema_reads_back_equal() -> None:
    model = registry.BLUEPRINT
    model.model_rebuild()
    text = json.dumps(schema_cache._encode(model.__pydantic_core_schema__, schema_cache._places()))
    assert json.loads(text, object_hook=schema_cache._decode_tagged) == (
        model.__pydantic_core_schema__
    )


def test_a_later_run_validates_and_describes_the_same(tmp_path: Path) -> None:
    broken = tmp_path / "bp.yaml"
    broken.write_text(BROKEN)
    cold = _run(tmp_path / "cache", broken)
    warm = _run(tmp_path / "cache", broken)
    assert (cold["used"], warm["used"]) == (False, True)
    assert warm["errors"] == cold["errors"] and len(cold["errors"]) >= 3  # type: ignore[arg-type]
    assert warm["schema"] == cold["schema"]
    ok = _run(tmp_path / "cache", ROOT / "blueprints" / "legocity.yaml")
    assert (ok["used"], ok["errors"]) == (True, [])


# each case starts cfngen twice (~1.4 s): test-fast keeps the one that matters most for
# untrusted input (a reference to a function outside cfngen), the rest run in `make test`
_SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(  # another version's or code's schema
            lambda key, body: "0" * 64 + "\n" + body, id="stale", marks=_SLOW
        ),
        pytest.param(
            lambda key, body: key + "\n" + body[: len(body) // 2], id="truncated", marks=_SLOW
        ),
        pytest.param(
            lambda key, body: key + "\n" + body.replace("cfngen.blueprint.models.common", "os", 1),
            id="foreign-module",
            marks=_SLOW,
        ),
        pytest.param(
            lambda key, body: key + "\n" + '{"\\u0000f": ["os", "system"]}', id="foreign-function"
        ),
        pytest.param(lambda key, body: key + "\n" + "[]", id="not-a-schema", marks=_SLOW),
    ],
)
def test_a_bad_file_is_a_miss_and_is_written_again(tmp_path: Path, damage: object) -> None:
    blueprint = ROOT / "blueprints" / "legocity.yaml"
    _run(tmp_path, blueprint)
    path = _file(tmp_path)
    good = path.read_text()
    key, body = good.split("\n", 1)
    path.write_text(damage(key, body))  # type: ignore[operator]
    result = _run(tmp_path, blueprint)
    assert (result["used"], result["errors"]) == (False, [])
    assert path.read_text().split("\n", 1)[0] == key  # written again (refs hold ids: not bytes)
    assert _run(tmp_path, blueprint)["used"] is True


def test_never_the_working_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert schema_cache.directory() == tmp_path / ".cache" / "cfngen"
    monkeypatch.delenv("HOME")
    assert schema_cache.directory() is None


@pytest.mark.slow  # starts cfngen twice
def test_a_cache_folder_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # $XDG_CACHE_HOME/cfngen cannot be created under a file
    for _ in range(2):
        result = _run(blocked, ROOT / "blueprints" / "legocity.yaml")
        assert (result["used"], result["errors"]) == (False, [])
