"""Renaming a blueprint file changes no template, so a deploy after a rename changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from cfngen.compiler import compile_environment

BLUEPRINTS = Path(__file__).resolve().parents[2] / "blueprints"


def test_renaming_the_blueprint_file_changes_no_template(tmp_path: Path) -> None:
    first = tmp_path / "legocity.yaml"
    second = tmp_path / "renamed-city.yaml"
    shutil.copy(BLUEPRINTS / "legocity.yaml", first)
    shutil.copy(BLUEPRINTS / "legocity.yaml", second)
    one = compile_environment(first, "dev", {}, [])
    two = compile_environment(second, "dev", {}, [])
    assert [s.name for s in one.stacks] == [s.name for s in two.stacks]
    for a, b in zip(one.stacks, two.stacks, strict=True):
        assert a.body == b.body, a.name
        assert "legocity.yaml" not in a.body
