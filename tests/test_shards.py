"""Shared stacks (security, ecr, alarms) split into shards past a fixed number of entries, and
stably: an entry's shard depends only on its position in its own blueprint section.

The split is exercised here with small shard sizes (the kinds' records with `shard_size` 4)
on small generated blueprints, so it stays fast; tests/test_scale.py renders 500 services with
the real sizes.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path

import msgspec.structs
import pytest
from click.testing import CliRunner

from cfngen import registry
from cfngen.cli import cli
from cfngen.compiler import compile_environment
from cfngen.kinds.base import place, shard_index
from cfngen.render import RenderedEnvironment
from cfngen.stacks import deploy_order, shard_key
from cfngen.verify import verify
from tests.scale import generated_blueprint

SMALL = 4


def test_shard_keys_keep_the_unsplit_name_first() -> None:
    assert [shard_key("security", i) for i in range(3)] == ["security", "security-2", "security-3"]
    assert [shard_index(c, "ecr") for c in ("ecr", "ecr-2", "ecr-10")] == [0, 1, 9]


def test_entries_fill_shards_in_order_per_section() -> None:
    items = [("services", f"s{i}", f"g{i}") for i in range(5)]
    items += [("databases", "db0", "d0"), ("services", "s0", "g0-extra")]
    assert place("security", 2, items) == {
        "g0": "security",
        "g1": "security",
        "g2": "security-2",
        "g3": "security-2",
        "g4": "security-3",
        "d0": "security",  # the first database: its own section's first shard
        "g0-extra": "security",  # a second key of entry s0 stays with it
    }


def test_without_a_size_everything_stays_in_one_stack() -> None:
    items = [("alarms", f"a{i}", f"a{i}") for i in range(1000)]
    assert set(place("alarms", None, items).values()) == {"alarms"}


def test_appending_never_moves_and_inserting_moves_one_per_boundary() -> None:
    def shards(names: list[str]) -> dict[str, str]:
        return place("ecr", 3, [("repositories", n, n) for n in names])

    before = shards([f"r{i}" for i in range(7)])
    appended = shards([f"r{i}" for i in range(8)])
    assert {k: appended[k] for k in before} == before
    inserted = shards(["r0", "new", *[f"r{i}" for i in range(1, 7)]])
    moved = sorted(k for k in before if inserted[k] != before[k])
    assert moved == ["r2", "r5"]  # the last entry before each later boundary moves on


# --- whole environments -----------------------------------------------------------------------


def _sizes(monkeypatch: pytest.MonkeyPatch, size: int | None) -> None:
    """Every splitting kind with `size` entries per shard, where its own module names its
    record (the registry loads a kind's `KIND`; a kind's attributes place its entries through
    the record). The registry's kinds are made again, here and after the test."""
    for kind in registry.KINDS:
        if kind.shard_size is not None:
            changed = msgspec.structs.replace(kind, shard_size=size)
            module = sys.modules[kind.plan.__module__]
            for name, value in list(vars(module).items()):
                if value is kind:
                    monkeypatch.setattr(module, name, changed)
    # a registry of its own for the test; the models the original one named come back after
    monkeypatch.setattr(registry, "_registry", functools.cache(registry._registry.__wrapped__))
    for name, value in list(vars(registry).items()):
        if name.startswith(("_blueprint_", "_shared_")):
            monkeypatch.setattr(registry, name, value)


@pytest.fixture
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    _sizes(monkeypatch, SMALL)


def _render(tmp_path: Path, services: int) -> RenderedEnvironment:
    path = tmp_path / f"scale-{services}.yaml"
    path.write_text(generated_blueprint(services))
    return compile_environment(path, "dev")


def _logical_ids(env: RenderedEnvironment) -> dict[str, str]:
    """Logical ID -> the stack holding it, over the shared stacks (ids are unique across them)."""
    out: dict[str, str] = {}
    for stack in env.stacks:
        if stack.component.split("-")[0] in ("security", "ecr", "alarms"):
            for logical in stack.template["Resources"]:
                assert logical not in out, logical
                out[logical] = stack.component
    return out


def test_a_small_environment_keeps_one_stack_per_shared_kind(tmp_path: Path) -> None:
    components = [s.component for s in _render(tmp_path, 20).stacks]
    assert {"security", "ecr", "alarms"} <= set(components)
    shards = [c for c in components if c.split("-")[0] in ("security", "ecr", "alarms")]
    assert sorted(shards) == ["alarms", "ecr", "security"]


def test_split_stacks_depend_only_on_lower_shards(tmp_path: Path, small_shards: None) -> None:
    env = _render(tmp_path, 10)
    by_component = {s.component: s for s in env.stacks}
    assert [c for c in by_component if c.startswith("security")] == [
        "security",
        "security-2",
        "security-3",
    ]
    assert {"ecr", "ecr-2", "ecr-3", "alarms-3"} <= set(by_component)
    for component in ("security-2", "security-3"):
        deps = by_component[component].depends_on
        assert set(deps) - {"network"} <= {"security", "security-2"}
        assert all(
            shard_index(d, "security") < shard_index(component, "security") for d in deps[1:]
        )
    deploy_order({s.component: s.depends_on for s in env.stacks})  # no cycle
    # svc9's group is in security-3 (services 8-11), db0's in security: the rule on db0's group
    # from svc9 is a resource of security-3, which imports db0's group ID from security
    third = by_component["security-3"].template["Resources"]
    rule = third["DatabaseDb0IngressTcp5432FromServiceSvc9"]["Properties"]
    assert rule["GroupId"] == {
        "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-security-DatabaseDb0SecurityGroupId"}
    }
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": ["ServiceSvc9SecurityGroup", "GroupId"]}
    # a service imports its group from its own shard, its repository from its ecr shard
    imports = by_component["service-svc9"].imports
    assert "scale-dev-security-3-ServiceSvc9SecurityGroupId" in imports
    assert "scale-dev-ecr-3-Svc9ImagesRepositoryUri" in imports


def test_a_split_environment_verifies(tmp_path: Path, small_shards: None) -> None:
    report = verify(_render(tmp_path, 10))
    assert report.findings == []


def test_appending_a_service_moves_no_resource(tmp_path: Path, small_shards: None) -> None:
    before = _logical_ids(_render(tmp_path, 10))
    after = _logical_ids(_render(tmp_path, 11))
    assert {k: after[k] for k in before} == before
    assert set(after) > set(before)


@pytest.mark.slow  # renders a split environment; runs in `make test`
def test_a_stack_over_a_limit_is_a_positioned_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the split (as for a kind that has no shard size), 80 repositories pass the 200
    outputs of one stack: a blueprint error at the entry, exit 2, never a traceback."""
    _sizes(monkeypatch, None)
    path = tmp_path / "big.yaml"
    path.write_text(generated_blueprint(80))
    result = CliRunner().invoke(cli, ["validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert f"{path}:" in result.output
    assert "stack ecr would have 240 outputs; CloudFormation allows 200 per stack" in (
        result.output
    )


def test_the_parsed_template_is_what_the_body_says(tmp_path: Path) -> None:
    """RenderedStack.template is the data the compiler dumped; the runbook reads it instead of
    parsing every template again, so the two must not differ."""
    from cfngen.render import load_template

    env = _render(tmp_path, 3)
    for stack in env.stacks:
        assert stack.template == load_template(stack.body), stack.component
    # a copy with another body (a test's edit, say) parses its own text
    edited = dataclasses.replace(env.stacks[0], body=env.stacks[0].body.replace("dev", "edited"))
    assert edited.data() is None
    assert edited.template == load_template(edited.body) != env.stacks[0].template


def test_an_entry_that_changed_shard_is_refused_with_what_happened(
    tmp_path: Path, small_shards: None
) -> None:
    """Inserting a repository in the middle moves the last one of each later shard; the deploy
    plan of the shard that lost it names where its export went instead of suggesting an order
    cfngen cannot run."""
    from cfngen.deploy.diff import StackPlan
    from cfngen.deploy.planning import moved_exports
    from cfngen.deploy.safety import refusals

    before = _render(tmp_path, 10)
    text = generated_blueprint(10).replace(
        "  svc0-images: {}\n", "  svc0-images: {}\n  inserted-images: {}\n"
    )
    path = tmp_path / "inserted.yaml"
    path.write_text(text)
    after = compile_environment(path, "dev")
    first = next(s for s in after.stacks if s.component == "ecr")
    old = next(s for s in before.stacks if s.component == "ecr")
    removed = sorted(set(old.exports) - set(first.exports))
    assert removed == [f"scale-dev-ecr-Svc3ImagesRepository{w}" for w in ("Arn", "Name", "Uri")]
    moved = moved_exports("scale-dev", first, removed, after)
    assert moved == dict.fromkeys(removed, "scale-dev-ecr-2")
    export = "scale-dev-ecr-Svc3ImagesRepositoryUri"
    plan = StackPlan("scale-dev-ecr", "ecr", "update", removed_exports=removed)
    plan.blocked_exports = {export: ["scale-dev-service-svc3"]}
    (reason,) = refusals(plan, allow_replace=False, moved=moved)
    assert reason.startswith(
        f"export {export} moved to scale-dev-ecr-2, which scale-dev-service-svc3 now import "
        "instead: an entry was inserted or removed before it in its blueprint section"
    )
    assert "add entries at its end" in reason
