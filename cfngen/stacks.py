"""Names and the dependency graph: the only place stack, export and logical names are made.

Each kind names its components through `component_key` with its own prefix (its `Kind` record
says which); output names are the kind's own and reach other kinds only through the typed
`Attribute`s it publishes.

A reference between stacks is a typed `Output(component, name)`. The planner declares which
components a stack depends on; builders import through `import_value`, which refuses a reference
the plan did not declare, so the graph and the imports can never disagree.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping

from msgspec import Struct
from troposphere import AWSHelperFn, ImportValue, Sub

ENV_PARAM = "EnvironmentName"
STACK_NAME_MAX = 128

#: Stack tags that mark a stack as cfngen's, for one blueprint and environment. cfngen deletes or
#: recreates only stacks carrying both with the expected values.
TAG_BLUEPRINT = "cfngen:blueprint"
TAG_ENVIRONMENT = "cfngen:environment"


def owner_tags(blueprint: str, environment: str) -> dict[str, str]:
    """The tags cfngen puts on every stack of an environment (over the blueprint's own tags)."""
    return {TAG_BLUEPRINT: blueprint, TAG_ENVIRONMENT: environment}


class Output(Struct, frozen=True, order=True):
    """A typed reference to one exported output of another stack."""

    component: str
    name: str


def component_key(prefix: str, name: str) -> str:
    """A component's stack key: `<kind prefix>-<name>` (service-payload, database-main)."""
    return f"{prefix}-{name}"


def shard_key(prefix: str, index: int) -> str:
    """The component key of a split shared stack's shard `index` (0-based): `security`,
    `security-2`, `security-3` ... The first shard keeps the unsplit stack's name."""
    return prefix if index == 0 else f"{prefix}-{index + 1}"


def environment_name(blueprint: str, env: str, override: str | None) -> str:
    return override or f"{blueprint}-{env}"


def stack_name(env_name: str, component: str) -> str:
    name = f"{env_name}-{component}"
    if len(name) > STACK_NAME_MAX:  # guarded by validation; kept here as the last word
        raise ValueError(f"stack name too long: {name}")
    return name


def export_name(output: Output) -> Sub:
    """`${EnvironmentName}-<component>-<Output>` as a template expression."""
    return Sub(f"${{{ENV_PARAM}}}-{output.component}-{output.name}")


def resolved_export_name(env_name: str, output: Output) -> str:
    """The same export name with EnvironmentName filled in (for manifests and checks)."""
    return f"{env_name}-{output.component}-{output.name}"


def import_value(output: Output) -> ImportValue:
    return ImportValue(export_name(output))


class GetStackOutput(AWSHelperFn):
    """`Fn::GetStackOutput`: another stack's output, in any region, resolved at deploy time (a
    weak reference: no export, across regions; a site's us-east-1 certificate, the shared
    scope's zone).

    The stack name is written out (not `!Sub`): CloudFormation does not accept other short-form
    functions inside `!GetStackOutput`, and templates are rendered per environment anyway.
    """

    def __init__(self, stack: str, output: str, region: str) -> None:
        self.data = {
            "Fn::GetStackOutput": {"StackName": stack, "OutputName": output, "Region": region}
        }


def physical_name(suffix: str) -> Sub:
    """A resource name unique per environment: `${EnvironmentName}-<suffix>`."""
    return Sub(f"${{{ENV_PARAM}}}-{suffix}")


_WORD = re.compile(r"[A-Za-z0-9]+")


def logical_id(*parts: str) -> str:
    """CamelCase logical ID from names: ('payload-db', 'instance') -> 'PayloadDbInstance'."""
    out = ""
    for part in parts:
        for word in _WORD.findall(part):
            out += word[0].upper() + word[1:]
    return out


# --- the graph ---------------------------------------------------------------------------


class CycleError(Exception):
    def __init__(self, cycle: list[str]) -> None:
        super().__init__(" -> ".join(cycle))
        self.cycle = cycle


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as a closed path (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def deploy_order(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Topological order; among ready nodes the one declared first goes first (stable)."""
    cycle = find_cycle(graph)
    if cycle:
        raise CycleError(cycle)
    index = {n: i for i, n in enumerate(graph)}
    waiting = {n: len(set(deps)) for n, deps in graph.items()}
    users: dict[str, list[str]] = {}
    for n, deps in graph.items():
        for dep in set(deps):
            users.setdefault(dep, []).append(n)
    ready = [index[n] for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    names = list(graph)
    order: list[str] = []
    while ready:  # linear (a heap of the ready ones): 1000 services are 1000 stacks
        node = names[heapq.heappop(ready)]
        order.append(node)
        for user in users.get(node, ()):
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, index[user])
    if len(order) != len(names):
        missing = sorted({d for deps in graph.values() for d in deps} - set(names))
        raise ValueError(f"dependencies outside the graph: {', '.join(missing)}")
    return order


def dependents(graph: Mapping[str, Iterable[str]], node: str) -> set[str]:
    """Every node that (transitively) depends on `node`."""
    out: set[str] = set()
    frontier = [node]
    while frontier:
        current = frontier.pop()
        for n, deps in graph.items():
            if current in deps and n not in out:
                out.add(n)
                frontier.append(n)
    return out
