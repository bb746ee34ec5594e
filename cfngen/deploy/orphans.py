"""Stacks left behind by components removed from the blueprint ("orphans"), and their order.

An orphan carries cfngen's tags for this blueprint and environment but its name is no longer
one of the environment's stacks. `plan` lists them; `deploy --prune` deletes them in the same
graph as the updates: after the stacks that import from the orphan were updated (so they no
longer import it), and before a stack that drops an export the orphan imports (CloudFormation
refuses to remove an export in use). `destroy` deletes them before the stacks they import from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cfngen.deploy import template as tpl
from cfngen.deploy.aws import Clients, aws_failure
from cfngen.deploy.safety import importers
from cfngen.deploy.state import StackState, is_owned
from cfngen.render import RenderedEnvironment, load_template

PRUNE_HINT = "`cfngen deploy --prune` deletes it"


@dataclass(frozen=True)
class Orphan:
    name: str
    component: str
    region: str
    state: StackState
    imports: frozenset[str]  # export names its deployed template imports
    importers: tuple[str, ...]  # stacks importing one of its exports (ListImports)

    @property
    def exports(self) -> list[str]:
        return sorted(self.state.exports)


def _regions(env: RenderedEnvironment, clients: Clients) -> list[str]:
    return sorted({clients.region} | {s.region for s in env.stacks if s.region})


STACK_SET_INSTANCE = "StackSet-"
"""How CloudFormation names the stacks of a stack set's instances (StackSet-<name>-<id>)."""


def _owned_stacks(cfn: Any, env: RenderedEnvironment) -> list[StackState]:
    found: list[StackState] = []
    try:
        for page in cfn.get_paginator("describe_stacks").paginate():
            for data in page.get("Stacks", []):
                state = StackState.from_api(data)
                if state.name.startswith(STACK_SET_INSTANCE):
                    continue  # a stack set's instance: deleted with its stack set, never alone
                if state.status != "DELETE_COMPLETE" and is_owned(state, env):
                    found.append(state)
    except ClientError as err:
        raise aws_failure("DescribeStacks (looking for removed components) failed", err) from err
    return found


def survey(env: RenderedEnvironment, clients: Clients) -> tuple[list[Orphan], dict[str, set[str]]]:
    """The orphans of `env` (sorted by name) and the exports each of its stacks has deployed.

    One paginated DescribeStacks per region, then GetTemplate and ListImports per orphan only.
    """
    wanted = {s.name for s in env.stacks}
    orphans: list[Orphan] = []
    deployed: dict[str, set[str]] = {}
    for region in _regions(env, clients):
        cfn = clients.for_region(region).cloudformation
        for state in _owned_stacks(cfn, env):
            if state.name in wanted:
                deployed[state.name] = set(state.exports)
            else:
                orphans.append(_orphan(cfn, env, region, state))
    return sorted(orphans, key=lambda o: o.name), deployed


def find_orphans(env: RenderedEnvironment, clients: Clients) -> list[Orphan]:
    """Stacks tagged as `env`'s that the environment no longer has, sorted by name."""
    return survey(env, clients)[0]


def _orphan(cfn: Any, env: RenderedEnvironment, region: str, state: StackState) -> Orphan:
    try:
        body = cfn.get_template(StackName=state.stack_id, TemplateStage="Original")
    except ClientError as err:
        raise aws_failure(f"{state.name}: GetTemplate failed", err) from err
    template = load_template(body["TemplateBody"])
    meta = (template.get("Metadata") or {}).get("cfngen") or {}
    component = str(meta.get("component") or state.name.removeprefix(f"{env.environment_name}-"))
    users = sorted({u for e in state.exports for u in importers(cfn, e)} - {state.name})
    return Orphan(
        name=state.name,
        component=component,
        region=region,
        state=state,
        imports=frozenset(tpl.imports(template, env.environment_name)),
        importers=tuple(users),
    )


def _cyclic(deps: Mapping[str, Iterable[str]]) -> bool:
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        state[node] = 1
        for need in deps.get(node, ()):
            if need not in deps:
                continue
            if state.get(need) == 1 or (need not in state and visit(need)):
                return True
        state[node] = 2
        return False

    return any(node not in state and visit(node) for node in deps)


def prune_graph(
    deps: Mapping[str, set[str]],
    env: RenderedEnvironment,
    orphans: list[Orphan],
    deployed: Mapping[str, set[str]],
) -> dict[str, set[str]]:
    """The deploy graph with orphan deletions in it (node -> what must finish first).

    An orphan waits for the stacks (and orphans) that import from it; a stack that drops an
    export an orphan imports waits for the orphan. If those two rules ever form a cycle, the
    second is left out and the stack's own refusal explains what to do.
    """
    out = {name: set(needs) for name, needs in deps.items()}
    names = {o.name for o in orphans}
    for orphan in orphans:
        out[orphan.name] = {u for u in orphan.importers if u in out or u in names}
    with_drops = {name: set(needs) for name, needs in out.items()}
    for stack in env.stacks:
        if stack.name not in out:
            continue
        dropped = deployed.get(stack.name, set()) - set(stack.exports)
        for orphan in orphans:
            if dropped & orphan.imports:
                with_drops[stack.name].add(orphan.name)
    return out if _cyclic(with_drops) else with_drops


def destroy_edges(
    deps: Mapping[str, set[str]], orphans: list[Orphan], exporters: Mapping[str, str]
) -> dict[str, set[str]]:
    """The import graph (node -> what it imports from) with orphans in it, for destroy.

    `exporters` maps an export name to the stack exporting it now.
    """
    out = {name: set(needs) for name, needs in deps.items()}
    for orphan in orphans:
        out[orphan.name] = set()
    for orphan in orphans:
        out[orphan.name] = {exporters[e] for e in orphan.imports if exporters.get(e) in out} - {
            orphan.name
        }
        for user in orphan.importers:
            if user in out:
                out[user].add(orphan.name)
    return out


def orphan_note(orphan: Orphan, prune: bool = False) -> str:
    """What plan says about an orphan."""
    text = "no longer in the blueprint; " + ("deploy --prune deletes it" if prune else PRUNE_HINT)
    if orphan.importers:
        text += f" after {', '.join(orphan.importers)} no longer import its exports"
    return text


def orphan_exporters(orphans: list[Orphan], deployed: Mapping[str, set[str]]) -> dict[str, str]:
    """Export name -> exporting stack, for the environment's stacks and its orphans."""
    found = {e: name for name, exports in deployed.items() for e in exports}
    found.update({e: o.name for o in orphans for e in o.exports})
    return found
