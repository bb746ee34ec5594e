"""The blueprint loader's two paths: libyaml's C parser and composer (fast), and the pure-Python
`_PositionLoader` (exact errors). Whatever the fast path accepts, it loads to the same data,
positions and construction errors as the Python path; whatever it cannot decide (a YAML error,
a bound passed, a character the Python reader refuses) goes to the Python path, so every
message is the Python path's (issue 10's guarantees, tests/blueprint/test_untrusted.py)."""

from __future__ import annotations

import pytest

from cfngen.blueprint import source
from cfngen.errors import BlueprintError
from tests.blueprint.hostile import CASES
from tests.reference import ROOT


def _outcome(load: object, text: str) -> tuple[str, object, object]:
    try:
        doc = load(text, "bp.yaml")  # type: ignore[operator]
    except BlueprintError as err:
        return "error", [d.render() for d in err.diagnostics], None
    if doc is None:
        return "undecided", None, None
    return "loaded", doc.data, (doc.positions.values, doc.positions.keys)


def _texts() -> list[tuple[str, str]]:
    found = []
    for folder in ("blueprints", "examples", "tests/fixtures", "tests/golden", "docs"):
        for path in sorted((ROOT / folder).rglob("*.yaml")):
            found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    for case in CASES:
        if isinstance(case.text, str):
            found.append((case.id, case.text))
    head = "blueprint: shop\nregion: eu-west-1\n"
    deep = "vars: {a: " + "[" * 62 + "]" * 62 + "}\n"
    found += [
        ("crlf", (ROOT / "blueprints" / "legocity.yaml").read_text().replace("\n", "\r\n")),
        ("unicode", head + 'description: "h\u00e9llo \u2603 \U0001f600"\nvars: {k: \u00e9}\n'),
        ("bom", "\ufeff" + head),
        ("tabs", head + "vars:\n  a:\t1\n"),
        ("depth 64", head + deep),
        ("depth 65", head + deep.replace("[", "[[", 1).replace("]", "]]", 1)),
        ("merge", head + "vars:\n  b: &b {a: 1, c: 2}\n  x:\n    <<: *b\n    c: 3\n"),
        ("dup", head + "vars:\n  x: 1\n  x: 2\n"),
        ("recursive", head + "vars: &loop\n  self: *loop\n"),
        ("tag", head + "vars: {a: !Ref x}\n"),
        ("timestamp", head + "vars: {a: 2026-12-04}\n"),
        ("big int", head + "vars: {a: " + "9" * 5000 + "}\n"),
        ("key seq", head + "vars: {[a]: 1}\n"),
        ("nel", head + 'vars: {a: "x\u0085y"}\n'),
        ("empty", ""),
        ("comment only", "# nothing\n"),
        ("undefined alias", head + "vars: *nope\n"),
        ("two docs", head + "---\n" + head),
        ("control", head + "description: a\x01b\n"),
        (
            "bomb",
            head
            + "".join(
                f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9)
            ).replace("*a0", "x"),
        ),
    ]
    return found


TEXTS = _texts()


@pytest.mark.parametrize(
    "text",
    [
        # every fourth case in test-fast (its 30 s budget), all of them in `make test`
        pytest.param(t, id=n, marks=() if i % 4 == 0 else pytest.mark.slow)
        for i, (n, t) in enumerate(TEXTS)
    ],
)
def test_the_fast_path_agrees_with_the_python_path(text: str) -> None:
    fast = _outcome(source._load_fast, text)
    python = _outcome(source._load_python, text)
    assert python[0] != "undecided"
    if fast[0] != "undecided":
        assert fast == python
    assert _outcome(source.load_yaml, text) == python


def test_the_fast_path_decides_every_reference_blueprint() -> None:
    for path in sorted((ROOT / "blueprints").glob("*.yaml")):
        assert source._load_fast(path.read_text(), str(path)) is not None, path
