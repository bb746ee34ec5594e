"""Small helpers for tests: write a blueprint, compile it, collect its error lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cfngen.compiler import compile_environment
from cfngen.errors import BlueprintError
from cfngen.render import RenderedEnvironment

BASE = """\
blueprint: shop
region: eu-west-1
"""


def write(tmp_path: Path, text: str, name: str = "bp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def compile_text(tmp_path: Path, text: str, env: str = "dev") -> RenderedEnvironment:
    return compile_environment(write(tmp_path, text), env)


def errors_of(tmp_path: Path, text: str, env: str = "dev", **kwargs: object) -> list[str]:
    """The rendered diagnostics, one line each, with the tmp path shortened to `bp.yaml`."""
    path = write(tmp_path, text)
    with pytest.raises(BlueprintError) as exc:
        compile_environment(path, env, **kwargs)  # type: ignore[arg-type]
    return [
        line.replace(str(path), "bp.yaml")
        for line in exc.value.render().splitlines()
        if not line.endswith(" errors")
    ]
