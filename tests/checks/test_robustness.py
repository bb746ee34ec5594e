"""Checks never crash on templates cfngen did not write: every check runs to the end on many
deterministic mutations of the seed fixture and of every golden template, where random nodes are
replaced by intrinsics, None, scalars, empty or wrongly shaped containers."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.decode import decode_str

from cfngen.checks import CHECKS, TemplateView

pytestmark = pytest.mark.fuzz

TESTS = Path(__file__).parent.parent
TEMPLATES = [
    TESTS / "fixtures" / "production_lb_blog.yaml",
    *sorted(TESTS.glob("golden/**/*.yaml")),
]
MUTATIONS_PER_TEMPLATE = 60

Path_ = tuple[Any, ...]  # keys and indexes from the template's root to a node


def plain(node: Any) -> Any:
    """The decoded template as plain dicts, lists and scalars (cheap to copy)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [copy(v) for v in node]
    return node


def paths(node: Any, here: Path_ = ()) -> Iterator[Path_]:
    """Every node below the root."""
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield (*here, key)
        yield from paths(child, (*here, key))


REPLACEMENTS: list[Callable[[Any, random.Random], Any]] = [
    lambda old, r: {"Ref": "P"},
    lambda old, r: {"Ref": ["not", "a", "name"]},
    lambda old, r: {"Fn::If": ["C", 1, 2]},
    lambda old, r: {"Fn::If": ["C", old, {"Ref": "AWS::NoValue"}]},
    lambda old, r: {"Fn::GetAtt": []},
    lambda old, r: {"Fn::GetAtt": [{"Ref": "X"}, "Arn"]},
    lambda old, r: {"Fn::GetAtt": "Missing.Arn"},
    lambda old, r: {"Fn::Sub": []},
    lambda old, r: {"Fn::Sub": ["arn:aws:iam::${AWS::AccountId}:role/${X.Arn}", {"X": 1}]},
    lambda old, r: {"Fn::Sub": {"not": "text"}},
    lambda old, r: {"Fn::ImportValue": None},
    lambda old, r: {"Fn::Join": ["", ["arn:aws:", {"Ref": "AWS::Region"}]]},
    lambda old, r: None,
    lambda old, r: "",
    lambda old, r: "*",
    lambda old, r: "0.0.0.0/0",
    lambda old, r: "-1",
    lambda old, r: "ENABLED",
    lambda old, r: "off",
    lambda old, r: "arn:aws:iam::aws:policy/AdministratorAccess",
    lambda old, r: r.choice([0, -1, 22, 65536, 10**20]),
    lambda old, r: r.choice([True, False]),
    lambda old, r: 1.5,
    lambda old, r: [],
    lambda old, r: {},
    lambda old, r: [old],  # a list where a dict (or scalar) was
    lambda old, r: [None, 1, "x", [], {}],
    lambda old, r: {"Key": old},  # a dict where a list (or scalar) was
    lambda old, r: old[0] if isinstance(old, list) and old else old,  # one item for the list
    lambda old, r: list(old.values()) if isinstance(old, dict) else old,
    lambda old, r: {str(i): v for i, v in enumerate(old)} if isinstance(old, list) else old,
]


def mutate(template: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    mutated = copy(template)
    nodes = list(paths(mutated))
    for _ in range(rng.randint(1, 6)):
        if not nodes:
            break
        where = rng.choice(nodes)
        parent: Any = mutated
        try:
            for key in where[:-1]:
                parent = parent[key]
            old = parent[where[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation of this round replaced an ancestor
        if not isinstance(parent, dict | list):
            continue  # ... with a string, which indexes but cannot be assigned to
        parent[where[-1]] = rng.choice(REPLACEMENTS)(copy(old), rng)
    return mutated


def run_all(view: TemplateView, what: str) -> None:
    for check in CHECKS.values():
        if check.scope != "template":
            continue  # environment checks: tests/verify/
        try:
            for logical_id, message in check.run(view):
                assert isinstance(logical_id, str) and isinstance(message, str)
        except Exception as exc:  # the failure names the check and the mutation that broke it
            raise AssertionError(f"{check.id} crashed on {what}: {exc!r}") from exc


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(TESTS)))
def test_checks_survive_mutations(path: Path) -> None:
    parsed, errors = decode_str(path.read_text())
    assert not errors and isinstance(parsed, dict), errors
    run_all(TemplateView(parsed), "the unmutated template")  # the decoder's own node types
    template = plain(parsed)
    rng = random.Random(f"{path.relative_to(TESTS)}")
    for i in range(MUTATIONS_PER_TEMPLATE):
        for production in (False, True):
            run_all(TemplateView(mutate(template, rng), production), f"mutation {i}")


def test_checks_survive_whole_sections_of_the_wrong_shape() -> None:
    parsed, _ = decode_str(TEMPLATES[0].read_text())
    template = plain(parsed)
    for section in ("Resources", "Outputs", "Parameters", "Metadata"):
        for value in (None, [], "x", 3, [template.get(section)], {"Fn::If": ["C", 1, 2]}):
            broken = {**copy(template), section: value}
            run_all(TemplateView(broken, production=True), f"{section} = {value!r:.40}")
    for value in (None, [], "x", 3, {"A": None}, {"A": {"Type": 3}}, {"A": {"Type": "X"}}):
        run_all(TemplateView(value), f"template = {value!r:.40}")
    for res_type in sorted({r["Type"] for r in template["Resources"].values()}):
        for props in (None, [], "x", {"Fn::If": ["C", {}, {}]}):
            run_all(
                TemplateView({"Resources": {"R": {"Type": res_type, "Properties": props}}}),
                f"{res_type} with Properties {props!r}",
            )


def test_every_resource_type_the_checks_read_with_every_property_replaced() -> None:
    """For each resource of the seed and the goldens, each property replaced by each oddity."""
    seen: dict[str, dict[str, Any]] = {}
    for path in TEMPLATES:
        parsed, _ = decode_str(path.read_text())
        for res in plain(parsed).get("Resources", {}).values():
            seen.setdefault(res["Type"], res)
    assert len(seen) > 20
    rng = random.Random(0)
    for res_type, res in seen.items():
        props = res.get("Properties") or {}
        for prop, value in props.items():
            for replace in REPLACEMENTS:
                odd = replace(copy(value), rng)
                body = {**res, "Properties": {**props, prop: odd}}
                run_all(TemplateView({"Resources": {"R": body}}), f"{res_type}.{prop} = {odd!r}")
