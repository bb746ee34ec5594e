"""The root model's core schema, kept from an earlier run (cfngen.blueprint.schema_cache): the
same schema, the same validation, the same JSON Schema as generating it; a bad or stale file
is only a miss; never read from the working directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, create_model

from cfngen import registry
from cfngen.blueprint import schema_cache, schema_codec
from cfngen.blueprint.models.common import Model
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
    text = json.dumps(schema_codec.encode(model.__pydantic_core_schema__, schema_codec.places()))
    assert json.loads(text, object_hook=schema_codec.decode_tagged) == (
        model.__pydantic_core_schema__
    )


@pytest.mark.slow  # starts cfngen three times; test-fast keeps the warm-hit test below
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
        pytest.param(  # pydantic-core panics on it (a BaseException from Rust)
            lambda key, body: key + "\n" + body.replace('{"type":"no-info"', '{"type":"nope"', 1),
            id="panics",
            marks=_SLOW,
        ),
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


# --- the models validated on their own: default factories, models the planners make ---------

COUNT = """
import json, sys
from pathlib import Path
from pydantic import BaseModel
from pydantic._internal import _generate_schema
from cfngen.blueprint.models.common import Model
from cfngen.compiler import Inputs, validate_blueprint

generated, calls = [], []
original = _generate_schema.GenerateSchema.generate_schema


def counting(self, obj):
    kept = isinstance(obj, type) and isinstance(obj.__dict__.get("__pydantic_core_schema__"), dict)
    if not kept:  # anything pydantic generates a schema for
        calls.append(obj)
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            generated.append(obj.__qualname__)
    return original(self, obj)


_generate_schema.GenerateSchema.generate_schema = counting
validate_blueprint(Inputs(Path(sys.argv[1])))
every, pending = set(), [Model]
while pending:
    for sub in pending.pop().__subclasses__():
        every.add(sub)
        pending.append(sub)
complete = sorted({m.__qualname__ for m in every if m.__pydantic_complete__})
print(json.dumps({"generated": sorted(set(generated)), "calls": len(calls), "complete": complete}))
"""

ON_THEIR_OWN = {  # completed outside the root's validation, or by a default_factory
    ("cfngen.blueprint.models.security", "SecurityGroup"),
    ("cfngen.blueprint.models.security", "EgressRule"),
    ("cfngen.blueprint.models.containers", "PortMapping"),
    ("cfngen.blueprint.models.containers", "Secret"),
    ("cfngen.blueprint.models", "DeploySettings"),
    ("cfngen.blueprint.models.permissions", "Permissions"),
}


def _count(cache: Path) -> dict[str, Any]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-c", COUNT, str(ROOT / "blueprints" / "legocity.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _root_file(cache: Path) -> Path:
    (found,) = (cache / "cfngen").glob("schema-cfngen.registry.Blueprint-*.json")
    return found


def _companions(path: Path) -> dict[tuple[str, str], str]:
    """(module, qualname) -> the rest of its line: fields and schema."""
    lines = path.read_text().split("\n")[2:]
    return {tuple(line.split(" ", 2)[:2]): line.split(" ", 2)[2] for line in lines}  # type: ignore[misc]


def test_a_hit_generates_no_schema_of_any_model(tmp_path: Path) -> None:
    cold = _count(tmp_path)
    assert {"Blueprint", "SecurityGroup", "PortMapping", "DeploySettings"} <= set(cold["generated"])
    assert set(_companions(_root_file(tmp_path))) >= ON_THEIR_OWN  # a miss writes
    warm = _count(tmp_path)
    assert (warm["generated"], warm["calls"]) == ([], 0)
    # the same models are ready as in the cold run: every one from the file
    assert warm["complete"] == cold["complete"] and len(warm["complete"]) >= 17


_SECURITY_GROUP = ("cfngen.blueprint.models.security", "SecurityGroup")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(  # names a function outside cfngen: never looked up, never called
            lambda rest: rest.split(" ", 1)[0] + ' {"\\u0000f": ["os", "system"]}', id="forged"
        ),
        pytest.param(  # reads back, but pydantic-core refuses it
            lambda rest: rest.split(" ", 1)[0] + ' {"type": "no-such-schema"}',
            id="unbuildable",
            marks=_SLOW,
        ),
        pytest.param(  # pydantic-core panics on it (a BaseException from Rust)
            lambda rest: rest.replace('{"type":"no-info"', '{"type":"nope"', 1),
            id="panics",
            marks=_SLOW,
        ),
        pytest.param(  # a model of this name with other fields
            lambda rest: "0" * 16 + " " + rest.split(" ", 1)[1], id="other-fields", marks=_SLOW
        ),
        pytest.param(lambda rest: rest[: len(rest) // 2], id="truncated", marks=_SLOW),
    ],
)
def test_a_bad_companion_is_generated_and_written_again(tmp_path: Path, damage: Any) -> None:
    _count(tmp_path)
    path = _root_file(tmp_path)
    good = _companions(path)[_SECURITY_GROUP]
    module, qualname = _SECURITY_GROUP
    text = path.read_text().replace(
        f"{module} {qualname} {good}", f"{module} {qualname} {damage(good)}"
    )
    assert text != path.read_text()
    path.write_text(text)
    again = _count(tmp_path)
    # that model (and the parts of it no run completes on their own), as pydantic always did
    assert "SecurityGroup" in again["generated"]
    assert not {"Blueprint", "EgressRule", "PortMapping", "Waiver"} & set(again["generated"])
    fields, schema = _companions(path)[_SECURITY_GROUP].split(" ", 1)
    assert fields == good.split(" ", 1)[0] and json.loads(schema)  # written again
    own = [
        line for line in path.read_text().split("\n") if line.startswith(f"{module} {qualname} ")
    ]
    assert len(own) == 1
    assert _count(tmp_path)["calls"] == 0


def test_models_of_one_name_with_other_fields_never_share_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root is made per blueprint (cfngen.registry): one qualname, other fields."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(schema_cache, "_watched", None)  # this test's files learn nothing after

    def make(attr: str, field: str) -> type[BaseModel]:
        # where the cache finds a create_model class: a module attribute of cfngen's
        model: type[BaseModel] = create_model(  # type: ignore[call-overload]
            "Blueprint", __base__=Model, __module__=registry.__name__, **{field: (int, 0)}
        )
        monkeypatch.setattr(registry, attr, model, raising=False)
        return model

    first, other = make("_test_a", "a"), make("_test_b", "b")
    assert schema_cache._file(first, tmp_path) != schema_cache._file(other, tmp_path)
    assert (schema_cache.complete(first), schema_cache.complete(other)) == (False, False)
    assert len(list((tmp_path / "cfngen").glob("schema-cfngen.registry.Blueprint-*"))) == 2
    # a later run: each model reads its own file
    first, other = make("_test_a", "a"), make("_test_b", "b")
    assert (schema_cache.complete(first), schema_cache.complete(other)) == (True, True)
    assert first.model_validate({"a": 1}).a == 1  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        first.model_validate({"b": 1})
    # the other model's file under this model's name: its key says whose it is
    shutil.copy(
        schema_cache._file(other, tmp_path / "cfngen"),
        schema_cache._file(first, tmp_path / "cfngen"),
    )
    assert schema_cache.complete(make("_test_a", "a")) is False
