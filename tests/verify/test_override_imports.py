"""`Fn::ImportValue` written in overrides: a dependency edge, listed in the manifest's imports, and
a misspelled or same-stack export is a blueprint error at the override's own line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cfngen.compiler import compile_environment
from cfngen.errors import BlueprintError
from cfngen.verify import verify
from tests.helpers import write

BLUEPRINT = """\
blueprint: shop
region: eu-west-1
network: {cidr: 10.0.0.0/16}
queues:
  jobs: {}
buckets:
  files: {}
environments: {dev: {}}
overrides:
  bucket-files:
    resources:
      Marker:
        Type: AWS::SSM::Parameter
        Properties:
          Type: String
          Value: {Fn::ImportValue: {Fn::Sub: "${EnvironmentName}-EXPORT"}}
"""


def _errors(tmp_path: Path, export: str) -> list[str]:
    path = write(tmp_path, BLUEPRINT.replace("EXPORT", export))
    with pytest.raises(BlueprintError) as exc:
        compile_environment(path, "dev")
    return [
        line.replace(str(path), "bp.yaml")
        for line in exc.value.render().splitlines()
        if not line.endswith(" errors")
    ]


def _an_export(tmp_path: Path) -> str:
    env = compile_environment(write(tmp_path, BLUEPRINT.split("overrides:")[0]), "dev")
    queue = next(s for s in env.stacks if s.component.startswith("queue"))
    return queue.exports[0].removeprefix("shop-dev-")


def test_an_override_import_is_a_dependency_and_an_import(tmp_path: Path) -> None:
    export = _an_export(tmp_path)
    env = compile_environment(write(tmp_path, BLUEPRINT.replace("EXPORT", export)), "dev")
    queue = next(s for s in env.stacks if s.component.startswith("queue"))
    bucket = next(s for s in env.stacks if s.component == "bucket-files")
    assert queue.component in bucket.depends_on
    assert f"shop-dev-{export}" in bucket.imports
    order = [s.component for s in env.stacks]
    assert order.index(queue.component) < order.index("bucket-files")
    assert verify(env).findings == []


def test_a_misspelled_override_import_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    export = _an_export(tmp_path)
    wrong = export[:-2] + export[-1] + export[-2]  # two letters swapped
    errors = _errors(tmp_path, wrong)
    assert len(errors) == 1, errors
    assert errors[0].startswith("bp.yaml:16:36: ")
    assert "overrides.bucket-files.resources.Marker.Properties.Value.Fn::ImportValue" in errors[0]
    assert f"'shop-dev-{wrong}', which no stack of this environment exports" in errors[0]
    assert f"did you mean 'shop-dev-{export}'?" in errors[0]


def test_importing_the_same_stacks_export_is_an_error(tmp_path: Path) -> None:
    env = compile_environment(write(tmp_path, BLUEPRINT.split("overrides:")[0]), "dev")
    own = next(s for s in env.stacks if s.component == "bucket-files").exports[0]
    errors = _errors(tmp_path, own.removeprefix("shop-dev-"))
    assert len(errors) == 1 and "this same stack (bucket-files)" in errors[0], errors


def test_another_environments_export_is_left_alone(tmp_path: Path) -> None:
    text = BLUEPRINT.replace('{Fn::Sub: "${EnvironmentName}-EXPORT"}', "network-shared-VpcId")
    env = compile_environment(write(tmp_path, textwrap.dedent(text)), "dev")
    bucket = next(s for s in env.stacks if s.component == "bucket-files")
    assert bucket.imports == () or "network-shared-VpcId" not in bucket.imports
    assert verify(env).findings == []
