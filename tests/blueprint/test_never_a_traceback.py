"""Mutated blueprints either compile or fail with a CfngenError: never any other exception.

Deterministic (fixed seed) mutations of every reference blueprint: lines dropped, duplicated,
re-indented, values replaced with values of other types. Each run checks a few hundred inputs.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from cfngen.compiler import compile_environment
from cfngen.errors import BlueprintError, CfngenError
from tests.reference import BLUEPRINTS

JUNK = [
    "",
    "~",
    "[]",
    "{}",
    "-1",
    "0",
    "true",
    "'{{ vars.nope }}'",
    "[1, 2",
    "x: y: z",
    "!Ref a",
    "99999999999999999999",
    "0.0.0.0/0",
    "\t",
    "&a",
    "*a",
    "'\\x00'",
]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    op = rng.randrange(4)
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[i])
    elif op == 2:
        lines[i] = " " * rng.randrange(1, 5) + lines[i]
    else:
        key, sep, _ = lines[i].partition(":")
        lines[i] = f"{key}{sep or ':'} {rng.choice(JUNK)}"
    return "\n".join(lines) + "\n"


@pytest.mark.fuzz
@pytest.mark.parametrize("blueprint", sorted(BLUEPRINTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_mutations_never_raise_anything_but_cfngen_errors(blueprint: Path, tmp_path: Path) -> None:
    rng = random.Random(blueprint.stem)
    source = blueprint.read_text()
    failures = 0
    for n in range(300):
        path = tmp_path / "bp.yaml"
        path.write_text(mutate(source, rng))
        try:
            compile_environment(path, "prod")
        except BlueprintError as err:
            failures += 1
            for d in err.diagnostics:
                assert d.mark is not None, f"mutation {n}: no position: {d.render()}"
        except CfngenError:
            failures += 1
    assert failures > 0  # the mutations do break things
