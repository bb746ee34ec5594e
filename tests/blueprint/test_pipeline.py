"""Loader positions, environment overlays, interpolation and variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfngen.blueprint.environments import deep_merge, select_environment
from cfngen.blueprint.source import load_yaml
from cfngen.compiler import compile_environment
from cfngen.errors import Mark, UsageError
from cfngen.render import load_template
from tests.helpers import errors_of, write


def test_positions_of_values_and_keys() -> None:
    doc = load_yaml("a: 1\nb:\n  c: [x, y]\n", "f.yaml")
    assert doc.data == {"a": 1, "b": {"c": ["x", "y"]}}
    assert doc.positions.value(("b", "c", 1)) == Mark("f.yaml", 3, 10)
    assert doc.positions.key(("b", "c")) == Mark("f.yaml", 3, 3)
    # a path without its own mark falls back to its nearest ancestor
    assert doc.positions.value(("b", "c", 7)) == Mark("f.yaml", 3, 6)


def test_deep_merge_merges_mappings_and_replaces_lists() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    overlay = {"a": {"y": [3]}, "c": 2}
    assert deep_merge(base, overlay) == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}


def test_selected_environment_keeps_overlay_positions() -> None:
    text = (
        "network: {nat: single, cidr: 10.0.0.0/16}\n"
        "environments:\n  prod:\n    network: {nat: per-az}\n"
    )
    doc = select_environment(load_yaml(text, "f.yaml"), "prod")
    assert doc.data["network"] == {"nat": "per-az", "cidr": "10.0.0.0/16"}
    assert doc.positions.value(("network", "nat")) == Mark("f.yaml", 4, 20)
    assert doc.positions.value(("network", "cidr")) == Mark("f.yaml", 1, 30)


BP = """\
blueprint: shop
region: eu-west-1
vars: {team: core}
tags:
  team: "{{ vars.team }}"
  env: "{{ env.name }}"
  stack: "{{ blueprint.name }}-{{ env.environment_name }}"
environments:
  dev: {}
  prod:
    environment_name: shop-production
"""


def _tags(tmp_path: Path, env: str, **kw: object) -> dict[str, str]:
    rendered = compile_environment(write(tmp_path, BP), env, **kw)  # type: ignore[arg-type]
    return {k: v for k, v in rendered.stacks[0].tags.items() if not k.startswith("cfngen:")}


def test_interpolation_of_env_blueprint_and_vars(tmp_path: Path) -> None:
    assert _tags(tmp_path, "dev") == {"team": "core", "env": "dev", "stack": "shop-shop-dev"}
    assert _tags(tmp_path, "prod")["stack"] == "shop-shop-production"


def test_cli_vars_win_over_var_files_and_blueprint_vars(tmp_path: Path) -> None:
    var_file = tmp_path / "vars.yaml"
    var_file.write_text("team: from-file\n")
    assert _tags(tmp_path, "dev", var_files=[var_file])["team"] == "from-file"
    assert _tags(tmp_path, "dev", var_files=[var_file], variables={"team": "cli"})["team"] == "cli"


def test_missing_var_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.yaml: variables file not found"):
        _tags(tmp_path, "dev", var_files=[tmp_path / "nope.yaml"])


def test_environment_name_override_names_stacks(tmp_path: Path) -> None:
    rendered = compile_environment(write(tmp_path, BP), "prod")
    assert [s.name for s in rendered.stacks] == ["shop-production-network"]
    t = load_template(rendered.stacks[0].body)
    assert t["Parameters"]["EnvironmentName"]["Default"] == "shop-production"


def test_template_syntax_error_points_at_the_value(tmp_path: Path) -> None:
    text = (
        "blueprint: shop\nregion: eu-west-1\ntags: {a: '{{ env.name '}\nenvironments: {dev: {}}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:11: tags.a: template error: unexpected end of template, expected 'end of "
        "print statement'. (check the {{ ... }} expression)"
    ]
