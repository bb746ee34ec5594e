"""Typed validation: pydantic errors and semantic checks, each with file:line:col and a fix."""

from __future__ import annotations

import difflib
import ipaddress
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.source import Document, Path_, dotted
from cfngen.errors import BlueprintError, Diagnostic

_TYPE_NAMES = {
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "float": "a number",
    "dict": "a mapping",
    "list": "a list",
}


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (Optional/Union/Annotated removed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                out.extend(_unwrap(arg))
        return out
    return [annotation]


def _annotation_at(root: type[BaseModel], loc: Path_) -> list[Any]:
    current: list[Any] = [root]
    for part in loc:
        nxt: list[Any] = []
        for ann in current:
            origin = typing.get_origin(ann)
            if isinstance(ann, type) and issubclass(ann, BaseModel) and isinstance(part, str):
                for name, f in ann.model_fields.items():
                    if part in (name, f.alias):
                        nxt.extend(_unwrap(f.annotation))
            elif origin is dict:
                nxt.extend(_unwrap(typing.get_args(ann)[1]))
            elif origin is list and isinstance(part, int):
                nxt.extend(_unwrap(typing.get_args(ann)[0]))
        current = nxt
    return current


def _known_keys(root: type[BaseModel], loc: Path_) -> list[str]:
    keys: list[str] = []
    for ann in _annotation_at(root, loc):
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.extend(f.alias or name for name, f in ann.model_fields.items())
    return keys


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"


def _data_path(loc: tuple[Any, ...], data: Any) -> Path_:
    """The error location as a path in the document.

    pydantic inserts a discriminated union's tag (`deploy_roles.ci.gitlab.url`) and validator
    names (`function-after[...]`) into locations; neither is a key the user wrote.
    """
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(part, str) and part.startswith("function-"):
            continue
        if isinstance(node, dict) and part not in node and part in map(str, node.values()):
            continue  # the union's tag, e.g. provider: gitlab
        path.append(part)
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (
                node[part]
                if isinstance(node, list) and isinstance(part, int) and part < len(node)
                else None
            )
        )
    return tuple(path)


def _diagnostic(err: Any, doc: Document, root: type[BaseModel]) -> Diagnostic:
    loc = _data_path(err["loc"], doc.data)
    at_key = bool(loc) and loc[-1] == "[key]"  # a dict key failed its own validation
    if at_key:
        loc = loc[:-1]
    field = dotted(loc)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if at_key and kind == "cfngen":
        return Diagnostic(doc.positions.key(loc), field, err["msg"], str(ctx.get("fix", "")))
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _known_keys(root, loc[:-1])
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        fix = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(sorted(known))}"
        return Diagnostic(doc.positions.key(loc), field, f"unknown key '{key}'", fix)
    if kind == "missing":
        return Diagnostic(
            doc.positions.value(loc[:-1]),
            field,
            "required field is missing",
            f"add `{loc[-1]}:` here",
        )
    mark = doc.positions.value(loc)
    if kind == "cfngen":
        return Diagnostic(mark, field, err["msg"], str(ctx.get("fix", "")))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = ctx.get("discriminator", "").strip("'")
        expected = ctx.get("expected_tags") or ", ".join(
            repr(v)
            for ann in _annotation_at(root, loc)
            if isinstance(ann, type) and issubclass(ann, BaseModel) and tag in ann.model_fields
            for v in typing.get_args(ann.model_fields[tag].annotation)
        )
        if kind == "union_tag_not_found":
            return Diagnostic(
                mark, field, f"`{tag}` is missing", f"add `{tag}:`, one of {expected}"
            )
        return Diagnostic(
            doc.positions.value((*loc, tag)) or mark,
            f"{field}.{tag}",
            f"invalid value {ctx.get('tag')!r}",
            f"expected one of {expected}",
        )
    if kind == "literal_error":
        return Diagnostic(
            mark, field, f"invalid value {err['input']!r}", f"expected {ctx.get('expected')}"
        )
    base = kind.split("_")[0]
    if kind.endswith(("_type", "_parsing")) or kind in ("model_type", "model_attributes_type"):
        wanted = _TYPE_NAMES.get(base, "a mapping" if base.startswith("model") else base)
        return Diagnostic(
            mark,
            field,
            f"wrong type: expected {wanted}, got {_describe(err['input'])}",
            f"write {wanted} here",
        )
    if kind in ("string_too_long", "string_too_short"):
        n = ctx.get("max_length") if kind == "string_too_long" else ctx.get("min_length")
        got = len(err["input"]) if isinstance(err["input"], str) else 0
        if kind == "string_too_long":
            return Diagnostic(
                mark, field, f"is {got} characters long; at most {n} are allowed", "shorten it"
            )
        return Diagnostic(
            mark, field, f"is {got} characters long; at least {n} are needed", "lengthen it"
        )
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        items = "item" if n == 1 else "items"
        if kind == "too_short":
            return Diagnostic(
                mark, field, f"needs at least {n} {items}", "add one, or leave the key out"
            )
        return Diagnostic(mark, field, f"has more than {n} {items}", f"keep at most {n}")
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg.removeprefix("Value error, ")
    return Diagnostic(mark, field, msg[0].lower() + msg[1:], "")


def _accepts_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    if typing.get_origin(annotation) is typing.Literal:
        return any(isinstance(a, bool) for a in typing.get_args(annotation))
    return False


def _is_number(annotation: Any) -> bool:
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) is typing.Literal:
        return any(
            isinstance(a, int | float) and not isinstance(a, bool)
            for a in typing.get_args(annotation)
        )
    return False


def _bools_as_numbers(doc: Document, root: type[BaseModel]) -> list[Diagnostic]:
    """`port: true` is not port 1: pydantic's lax mode reads booleans as numbers, YAML users
    write `true` by mistake (or by `yes`), so a boolean where only a number fits is an error."""
    out: list[Diagnostic] = []
    pending: list[tuple[Path_, Any]] = [((), doc.data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            pending.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            pending.extend(((*path, i), v) for i, v in enumerate(value))
        elif isinstance(value, bool):
            anns = _annotation_at(root, path)
            if any(map(_is_number, anns)) and not any(map(_accepts_bool, anns)):
                out.append(
                    Diagnostic(
                        doc.positions.value(path),
                        dotted(path),
                        f"wrong type: expected a number, got {str(value).lower()}",
                        "write a number here (YAML reads true/false/yes/no as booleans)",
                    )
                )
    return out


def validate_model(doc: Document, root: type[BaseModel] = Blueprint) -> Blueprint:
    """Validate a selected, interpolated document into the typed Blueprint."""
    errors = _bools_as_numbers(doc, root)
    try:
        blueprint = Blueprint.model_validate(doc.data)
    except ValidationError as exc:
        errors += [_diagnostic(e, doc, root) for e in exc.errors()]
    if errors:
        raise BlueprintError(errors)
    return blueprint


# --- semantic checks ---------------------------------------------------------------------


class Checker:
    """Collects semantic errors against the document's positions."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.errors: list[Diagnostic] = []

    def error(self, path: Path_, message: str, fix: str = "", *, at_key: bool = False) -> None:
        mark = self.doc.positions.key(path) if at_key else self.doc.positions.value(path)
        self.errors.append(Diagnostic(mark, dotted(path), message, fix))

    def reference(self, path: Path_, name: str, known: typing.Iterable[str], what: str) -> None:
        """Report `name` if it is not one of `known` (with a did-you-mean)."""
        names = sorted(known)
        if name in names:
            return
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if close:
            fix = f"did you mean '{close[0]}'?"
        elif names:
            fix = f"known {what}s: {', '.join(names)}"
        else:
            fix = f"declare the {what} first"
        self.error(path, f"unknown {what} '{name}'", fix)


SemanticCheck = Callable[[Blueprint, Checker], None]


def _subnet_plan(bp: Blueprint) -> tuple[list[str], list[str]]:
    from cfngen.builders.network import subnet_cidrs

    return subnet_cidrs(bp.network)


def check_network(bp: Blueprint, c: Checker) -> None:
    net = bp.network
    vpc = ipaddress.IPv4Network(net.cidr)
    if not 16 <= vpc.prefixlen <= 24:
        c.error(
            ("network", "cidr"),
            f"VPC CIDR {net.cidr} is /{vpc.prefixlen}; AWS allows /16 to /28 and cfngen needs "
            "room for two subnets per AZ",
            "use a prefix between /16 and /24, e.g. 10.0.0.0/16",
        )
        return
    n = net.availability_zones
    for kind in ("public_subnets", "private_subnets"):
        given = getattr(net, kind)
        if given is not None and len(given) != n:
            c.error(
                ("network", kind),
                f"{len(given)} subnet(s) given for {n} availability zone(s)",
                f"give exactly {n} CIDRs, one per AZ, or set availability_zones: {len(given)}",
            )
    public, private = _subnet_plan(bp)
    seen: list[tuple[ipaddress.IPv4Network, Path_]] = []
    for kind, cidrs in (("public_subnets", public), ("private_subnets", private)):
        for i, cidr in enumerate(cidrs):
            path: Path_ = ("network", kind, i) if getattr(net, kind) else ("network", "cidr")
            sub = ipaddress.IPv4Network(cidr)
            if not sub.subnet_of(vpc):
                c.error(
                    path,
                    f"subnet {cidr} is not inside the VPC {net.cidr}",
                    f"pick a range inside {net.cidr}",
                )
                continue
            if not 16 <= sub.prefixlen <= 28:
                c.error(
                    path,
                    f"subnet {cidr} is /{sub.prefixlen}; AWS allows /16 to /28",
                    "use a prefix between /16 and /28",
                )
            for other, other_path in seen:
                if sub.overlaps(other):
                    c.error(
                        path,
                        f"subnet {cidr} overlaps {other} ({dotted(other_path)})",
                        "give each subnet its own range",
                    )
            seen.append((sub, path))


def check_security_groups(bp: Blueprint, c: Checker) -> None:
    from cfngen.builders import GROUP_PROVIDERS
    from cfngen.builders.security import collect

    derived = collect(bp, ())
    for provider in GROUP_PROVIDERS:
        for name, source in provider(bp).sources.items():
            if name in bp.security_groups:
                c.error(
                    ("security_groups", name),
                    f"security group name '{name}' is also the group cfngen derives for "
                    f"{dotted(source)}",
                    "rename the explicit group",
                    at_key=True,
                )
    names = set(derived.groups) | {g for provider in GROUP_PROVIDERS for g in provider(bp).groups}
    for gname, group in bp.security_groups.items():
        for i, ing in enumerate(group.ingress):
            if ing.from_ is not None:
                c.reference(
                    ("security_groups", gname, "ingress", i, "from"),
                    ing.from_,
                    names,
                    "security group",
                )
        for i, eg in enumerate(group.egress or []):
            if eg.to is not None:
                c.reference(
                    ("security_groups", gname, "egress", i, "to"), eg.to, names, "security group"
                )


# Root fields whose keys are not component names.
_NOT_COMPONENTS = frozenset({"security_groups", "overrides", "environments", "vars", "tags"})


def component_fields() -> list[str]:
    """Root fields that declare named components (`services`, `databases`, ...)."""
    out = []
    for name, f in Blueprint.model_fields.items():
        if name in _NOT_COMPONENTS or typing.get_origin(f.annotation) is not dict:
            continue
        out.append(f.alias or name)
    return out


def check_unique_component_names(bp: Blueprint, c: Checker) -> None:
    """Component names are unique across kinds: a name alone resolves a reference."""
    seen: dict[str, str] = {}
    for field_name in component_fields():
        for name in getattr(bp, field_name):
            if name in seen:
                c.error(
                    (field_name, name),
                    f"name '{name}' is already used by {seen[name]}.{name}",
                    "component names are unique across kinds; rename one of them",
                    at_key=True,
                )
            else:
                seen[name] = field_name


def _container_checks() -> list[SemanticCheck]:
    from cfngen.blueprint.check_containers import CONTAINER_CHECKS

    return list(CONTAINER_CHECKS)


def _data_edge_ops_checks() -> list[SemanticCheck]:
    from cfngen.blueprint.check_data_edge_ops import DATA_EDGE_OPS_CHECKS

    return list(DATA_EDGE_OPS_CHECKS)


def _task_checks() -> list[SemanticCheck]:
    from cfngen.blueprint.check_tasks import TASK_CHECKS

    return list(TASK_CHECKS)


def _aws_checks() -> list[SemanticCheck]:
    from cfngen.blueprint.check_aws import AWS_CHECKS

    return list(AWS_CHECKS)


SEMANTIC_CHECKS: list[SemanticCheck] = [
    check_network,
    check_security_groups,
    check_unique_component_names,
    *_container_checks(),
    *_task_checks(),
    *_data_edge_ops_checks(),
    *_aws_checks(),
]


def check_semantics(bp: Blueprint, doc: Document, extra: list[SemanticCheck] | None = None) -> None:
    c = Checker(doc)
    for check in [*SEMANTIC_CHECKS, *(extra or [])]:
        check(bp, c)
    if c.errors:
        raise BlueprintError(c.errors)
