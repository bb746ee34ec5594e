"""A blueprint loads only the kinds it uses; the index says where they are; leaving the others
out changes nothing."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cfngen import registry
from cfngen.compiler import Inputs, environment_names, load_inputs, prepare
from cfngen.kinds import index
from cfngen.kinds.base import Kind
from tests.reference import ROOT

BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml")) + sorted(
    (ROOT / "examples").glob("*.yaml")
)


def test_the_index_is_generated_from_the_kinds() -> None:
    assert Path(index.__file__).read_text() == index.generate(), (
        "cfngen/kinds/index.py is stale: run `python -m cfngen.kinds.index`"
    )


def test_a_stale_index_is_an_error_that_says_how_to_regenerate_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kind moved to another module without the index regenerated: an error (not an
    assert, which `python -O` would skip), naming the fix."""
    monkeypatch.setitem(index.SECTIONS, "queues", index.SECTIONS["topics"])
    with pytest.raises(RuntimeError, match=r"stale \(queues\).*python -m cfngen.kinds.index"):
        registry._load("queues")
    monkeypatch.setitem(index.SECTIONS, "queues", "base")  # a module without a record
    with pytest.raises(RuntimeError, match="stale"):
        registry._load("queues")


def test_a_blueprint_loads_the_kinds_of_its_sections_and_the_implicit_ones() -> None:
    data = {
        "blueprint": "x",
        "queues": {"q": {}},
        "environments": {"dev": {"topics": {"t": {}}}},
        "shared": {"repositories": {"r": {}}},
    }
    loaded = {k.section for k in registry.for_document(data).kinds}
    assert loaded == {"queues", "topics", "repositories"} | index.IMPLICIT
    assert {k.section for k in registry.KINDS if k.implicit} == index.IMPLICIT


def test_a_kind_left_out_keeps_its_section_always_empty() -> None:
    model = registry.for_document({}).blueprint
    assert set(model.model_fields) == set(registry.BLUEPRINT.model_fields)
    base = {"blueprint": "x", "region": "eu-west-1", "environments": {"dev": {}}}
    bp = model.model_validate(base)
    assert bp.queues == {} and bp.dns is None
    with pytest.raises(ValueError):  # never reached by a document: it would load the kind
        model.model_validate({**base, "queues": {"q": {}}})


def _offers(kind: Kind[Any], bp: Any, facts: Any) -> list[str]:
    """What a kind contributes to an environment, by the fields of its record."""
    found = []
    if kind.plan(bp, facts):
        found.append("plan")
    for name in ("targets", "routes", "records", "needs", "links", "alert_publishers"):
        fn = getattr(kind, name)
        if fn is not None and list(fn(bp)):
            found.append(name)
    for name in ("attributes", "metrics"):
        fn = getattr(kind, name)
        if fn is not None and dict(fn(bp)):
            found.append(name)
    if kind.groups is not None:
        derived = kind.groups(bp, facts)
        if derived.groups or derived.relations:
            found.append("groups")
    if kind.shard_entries is not None and list(kind.shard_entries(bp, facts)):
        found.append("shard_entries")
    if kind.default is not None:
        found.append("default")
    return found


FAST = ("legocity", "dbward", "orders")  # the rest run in `make test`


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=p.stem, marks=() if p.stem in FAST else pytest.mark.slow)
        for p in BLUEPRINTS
    ],
)
def test_a_kind_that_is_not_implicit_offers_nothing_without_its_section(path: Path) -> None:
    doc, variables = load_inputs(Inputs(path))
    used = registry.used_sections(doc.data)
    for env in environment_names(doc):
        prep = prepare(doc, env, variables)
        for kind in registry.KINDS:
            if kind.section in used or kind.implicit:
                continue
            assert _offers(kind, prep.blueprint, prep.facts) == [], (
                f"{kind.section} offers something to {path.stem} {env} without its section: "
                "set `implicit=True` on its record and regenerate cfngen.kinds.index"
            )


RENDER = """
import json, sys
from pathlib import Path
from cfngen import registry
from cfngen.compiler import Inputs, validate_and_build
if sys.argv[2] == "every":
    registry.for_document = lambda data: registry.full()
out = {}
for prep, env in validate_and_build(Inputs(Path(sys.argv[1]))):
    out[prep.env] = [[s.name, s.body] for s in env.stacks]
modules = sorted(m for m in sys.modules if m.startswith("cfngen.kinds."))
print(json.dumps({"stacks": out, "modules": modules}))
"""


def _render(path: Path, kinds: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", RENDER, str(path), kinds],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=p.stem, marks=pytest.mark.slow)  # two renders each: `make test`
        for p in BLUEPRINTS
    ],
)
def test_every_environment_renders_the_same_bytes_with_every_kind_loaded(path: Path) -> None:
    own, every = _render(path, "own"), _render(path, "every")
    assert own["stacks"] == every["stacks"]
    data = yaml.safe_load(path.read_text())
    left_out = set(index.SECTIONS) - registry.used_sections(data) - index.IMPLICIT
    assert left_out  # every blueprint here leaves some kind out
    # a kind's module is imported only when the blueprint uses its section (or it is implicit)
    loaded = _loaded_kinds(own["modules"])
    expected = {index.SECTIONS[s] for s in registry.used_sections(data) | index.IMPLICIT}
    assert loaded == expected, f"imported without its section: {sorted(loaded - expected)}"


def _loaded_kinds(modules: list[str]) -> set[str]:
    return {m.split(".")[2] for m in modules} & set(index.SECTIONS.values())


# entries that name no entry of another kind: an email subscription, sites (one with a domain
# in the `dns` zone, which needs no `certificates`), a certificate by ARN, deploy roles naming
# no service, repository, host or site. Each once made cfngen import that other kind.
MIXED = """
blueprint: mixed
region: eu-west-1
dns: {zone: example.com, zone_id: Z0123456789ABCDEFGHIJ}
topics: {notices: {subscriptions: [{email: ops@example.com}]}}
sites: {docs: {}, www: {domain: www.example.com}}
load_balancers:
  web: {type: application, certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/abc"}
deploy_roles:
  ci: {provider: github, repository: owner/repo, branch: main}
  lab: {provider: gitlab, project: group/project, branch: main}
environments: {dev: {}}
"""


@pytest.mark.slow  # a render in a new interpreter: `make test`
def test_naming_no_entry_of_another_kind_loads_no_other_kind(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED)
    loaded = _loaded_kinds(_render(path, "own")["modules"])
    used = registry.used_sections(yaml.safe_load(MIXED)) | index.IMPLICIT
    assert loaded == {index.SECTIONS[s] for s in used}


# a kind imports another at module level only where every valid blueprint using it uses the
# other too (elsewhere it imports the other where an entry names one of its entries)
NEEDED = {
    ("certificate", "dns"): "a certificate is validated in the blueprint's hosted zone",
    ("api", "load_balancer"): "an API always fronts a load balancer (a required field)",
}


def _module_level_kind_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module == "cfngen.kinds":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cfngen.kinds."):
            found.add((node.module or "").split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {
                alias.name.split(".")[2]
                for alias in node.names
                if alias.name.startswith("cfngen.kinds.")
            }
    return found & set(index.SECTIONS.values())


def test_kinds_import_other_kinds_at_module_level_only_where_always_used() -> None:
    implicit = {index.SECTIONS[s] for s in index.IMPLICIT}
    package = ROOT / "cfngen"
    wrong = []
    for path in sorted(package.glob("kinds/**/*.py")) + sorted(package.glob("builders/*.py")):
        parts = path.relative_to(package).parts
        own = parts[1].removesuffix(".py") if parts[0] == "kinds" else ""
        for other in _module_level_kind_imports(path) - implicit - {own}:
            if (own, other) not in NEEDED:
                wrong.append(f"{path.relative_to(ROOT)} imports cfngen.kinds.{other}")
    assert not wrong, (
        "import another kind where an entry names one of its entries, not at module level "
        f"(else every blueprint using this kind loads it): {wrong}"
    )
