"""All stacks of one environment read together, with every `Fn::ImportValue` resolved.

An import is replaced by the value the exporting stack's output would have. Values known only at
deploy time (a security group's ID, a repository's ARN) become a `Ref` to the resource they come
from, so a group imported in one stack and a rule written in another compare equal. Every reader
tolerates any shape: what cannot be resolved is `None` (unknown), never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cfngen.checks.base import Resource, TemplateView, as_dict, as_list

_PSEUDO = ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName")
_SUB_VAR = re.compile(r"\$\{([^!}][^}]*)\}")


@dataclass(frozen=True)
class Ref:
    """A resource of the environment: `component` is the stack's component, `id` its logical id."""

    component: str
    id: str


@dataclass(frozen=True)
class Missing:
    """An import no stack exports."""

    name: str


@dataclass
class Stack:
    component: str
    name: str  # full stack name
    file: str  # as findings show it
    template: Any  # the parsed template (cfn-lint's decoder keeps lines)
    parameters: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    view: TemplateView = field(init=False)

    def __post_init__(self) -> None:
        self.view = TemplateView(self.template)
        for name, param in as_dict(as_dict(self.template).get("Parameters")).items():
            default = as_dict(param).get("Default")
            if str(name) not in self.parameters and isinstance(default, str | int):
                self.parameters[str(name)] = str(default)


@dataclass(frozen=True)
class Export:
    component: str
    output: str
    value: Any


class Environment:
    """Every stack of one environment, in deploy order."""

    account: str | None = None  # the environment's `deploy.account`, when it names one
    peers: dict[str, Environment] = {}
    scope: str = ""  # the environment's name in the blueprint (`shared`: the shared scope)

    def __init__(
        self,
        stacks: Sequence[Stack],
        region: str = "us-east-1",
        name: str = "",
        relations: Sequence[dict[str, str]] = (),
        accesses: Sequence[dict[str, str]] = (),
    ) -> None:
        self.stacks = {s.component: s for s in stacks}
        self.region = region
        self.name = name  # the environment name (export and group names start with it)
        self.relations = tuple(relations)  # what the blueprint declares (manifest.json)
        self.accesses = tuple(accesses)  # which role needs what access, and where it is declared
        self.memo: dict[Any, Any] = {}  # readers' results that do not change (a role's grants)
        self.exports: dict[str, Export] = {}
        for s in stacks:
            for out_name, out in s.view.outputs.items():
                export = self.text(s, as_dict(out.get("Export")).get("Name"))
                if export is not None:
                    self.exports.setdefault(export, Export(s.component, out_name, out.get("Value")))

    # --- resolution -----------------------------------------------------------------------

    def text(self, stack: Stack, value: Any) -> str | None:
        """`value` as a plain string when it can be known before deployment."""
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        v = as_dict(value)
        if "Ref" in v and len(v) == 1:
            name = str(v["Ref"])
            if name in stack.parameters:
                return stack.parameters[name]
            if name == "AWS::Partition":
                return partition(self.region)
            if name == "AWS::AccountId":
                return "*"  # the deploying account: a wildcard both sides of a comparison match
            return self.region if name == "AWS::Region" else None
        if "Fn::Sub" in v and len(v) == 1:
            sub = v["Fn::Sub"]
            body, names = (sub[0], as_dict(sub[1])) if isinstance(sub, list) and sub else (sub, {})
            if not isinstance(body, str):
                return None
            unknown = False

            def one(m: re.Match[str]) -> str:
                nonlocal unknown
                key = m.group(1)
                got = (
                    self.text(stack, names[key]) if key in names else self.text(stack, {"Ref": key})
                )
                if got is None:
                    unknown = True
                    return ""
                return got

            out = _SUB_VAR.sub(one, body)
            return None if unknown else out
        if "Fn::Join" in v and len(v) == 1:
            parts = as_list(v["Fn::Join"])
            if len(parts) == 2 and isinstance(parts[0], str):
                texts = [self.text(stack, p) for p in as_list(parts[1])]
                if all(t is not None for t in texts):
                    return parts[0].join(t for t in texts if t is not None)
        return None

    def resolve(self, stack: Stack, value: Any, depth: int = 0) -> Any:
        """A Ref for a resource, a string for a known value, Missing for a dangling import,
        None when unknown."""
        if depth > 8:
            return None
        if isinstance(value, str):
            return value
        v = as_dict(value)
        if len(v) != 1:
            return None
        key, arg = next(iter(v.items()))
        if key == "Ref":
            name = str(arg)
            if name in stack.view.resources:
                return Ref(stack.component, name)
            return self.text(stack, value)
        if key == "Fn::GetAtt":
            target = arg[0] if isinstance(arg, list) and arg else str(arg).split(".")[0]
            if isinstance(target, str) and target in stack.view.resources:
                return Ref(stack.component, target)
            return None
        if key == "Fn::ImportValue":
            export_name = self.text(stack, arg)
            if export_name is None:
                return None
            export = self.exports.get(export_name)
            if export is None:
                return Missing(export_name)
            return self.resolve(self.stacks[export.component], export.value, depth + 1)
        return self.text(stack, value)

    def pattern(self, stack: Stack, value: Any, depth: int = 0) -> str | None:
        """`value` as text in which every resource it names is a `token` (`@{stack/Id}`): `!Sub
        ${Arn}/results/*` of an imported bucket ARN becomes `@{bucket-results/Bucket}/results/*`
        and compares with fnmatch like an ARN; None when some part is unknown."""
        text = self.text(stack, value)
        if text is not None or depth > 8:
            return text
        got = self.resolve(stack, value, depth)
        if isinstance(got, Ref):
            return token(got)
        v = as_dict(value)
        if len(v) == 1 and "Fn::Sub" in v:
            sub = v["Fn::Sub"]
            body, names = (sub[0], as_dict(sub[1])) if isinstance(sub, list) and sub else (sub, {})
            if not isinstance(body, str):
                return None
            unknown = False

            def one(m: re.Match[str]) -> str:
                nonlocal unknown
                key = m.group(1)
                if key in names:
                    got = self.pattern(stack, names[key], depth + 1)
                elif key.split(".")[0] in stack.view.resources:
                    got = token(Ref(stack.component, key.split(".")[0]))
                else:
                    got = self.text(stack, {"Ref": key})
                if got is None:
                    unknown = True
                return got or ""

            out = _SUB_VAR.sub(one, body)
            return None if unknown else out
        if len(v) == 1 and "Fn::Join" in v:
            parts = as_list(v["Fn::Join"])
            if len(parts) == 2 and isinstance(parts[0], str):
                texts = [self.pattern(stack, p, depth + 1) for p in as_list(parts[1])]
                if all(t is not None for t in texts):
                    return parts[0].join(t for t in texts if t is not None)
        return None

    def resolve_all(self, stack: Stack, value: Any) -> list[Any]:
        """A list property (security groups, subnets, statements' resources) resolved item by
        item; a single value is a list of one."""
        if isinstance(value, list):
            return [self.resolve(stack, v) for v in value]
        return [self.resolve(stack, value)] if value is not None else []

    def follow(self, stack: Stack, value: Any, depth: int = 0) -> tuple[Stack, Any]:
        """The value an import stands for, in the stack that exports it (imports followed)."""
        v = as_dict(value)
        if depth < 8 and len(v) == 1 and "Fn::ImportValue" in v:
            export = self.exports.get(self.text(stack, v["Fn::ImportValue"]) or "")
            if export is not None:
                return self.follow(self.stacks[export.component], export.value, depth + 1)
        return stack, value

    def items(self, stack: Stack, value: Any) -> list[Any]:
        """A list property resolved item by item, through `Fn::Split` of an imported
        `Fn::Join` (how cfngen exports subnet lists)."""
        v = as_dict(value)
        if len(v) == 1 and "Fn::Split" in v:
            parts = as_list(v["Fn::Split"])
            if len(parts) == 2:
                home, joined = self.follow(stack, parts[1])
                j = as_list(as_dict(joined).get("Fn::Join"))
                if len(j) == 2 and j[0] == parts[0] and isinstance(j[1], list):
                    return [self.resolve(home, x) for x in j[1]]
                text = self.text(home, joined)
                return text.split(str(parts[0])) if text is not None else []
            return []
        return self.resolve_all(stack, value)

    def refs_in(self, stack: Stack, value: Any) -> set[Ref]:
        """Every resource a value mentions, through imports (e.g. the repository of an image)."""
        found: set[Ref] = set()
        for node in _nodes(value):
            got = self.resolve(stack, node)
            if isinstance(got, Ref):
                found.add(got)
        return found

    def resource(self, ref: Any) -> Resource | None:
        if not isinstance(ref, Ref):
            return None
        stack = self.stacks.get(ref.component)
        return stack.view.resources.get(ref.id) if stack else None

    def of_type(self, *types: str) -> Iterator[tuple[Stack, Resource]]:
        for stack in self.stacks.values():
            for res in stack.view.of_type(*types):
                yield stack, res

    def upstream(self, component: str) -> set[str]:
        """Every stack `component` depends on, directly or not."""
        seen: set[str] = set()
        todo = list(self.stacks[component].depends_on) if component in self.stacks else []
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo.extend(self.stacks[c].depends_on if c in self.stacks else ())
        return seen


def token(ref: Ref) -> str:
    """A resource inside a pattern (`Environment.pattern`): no fnmatch special characters."""
    return f"@{{{ref.component}/{ref.id}}}"


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _nodes(value: Any) -> Iterator[Any]:
    """Every Ref, GetAtt and ImportValue node inside a value."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::ImportValue"):
            yield value
            return
        if len(value) == 1 and "Fn::Sub" in value:  # ${Repo.RepositoryUri} names a resource
            sub = value["Fn::Sub"]
            body = sub[0] if isinstance(sub, list) and sub else sub
            for var in _SUB_VAR.findall(body if isinstance(body, str) else ""):
                yield {"Ref": var.split(".")[0]}
        for v in value.values():
            yield from _nodes(v)
    elif isinstance(value, list):
        for v in value:
            yield from _nodes(v)


def imports_in(value: Any) -> Iterator[Any]:
    """Every `Fn::ImportValue` node inside a value."""
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::ImportValue" in value:
            yield value
            return
        for v in value.values():
            yield from imports_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from imports_in(v)
