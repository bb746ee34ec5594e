"""Typed validation: pydantic errors become diagnostics with file:line:col and a fix; `Checker`
collects the semantic errors the kinds' own checks find (cfngen.kinds: each record lists its
checks), and the few checks every blueprint gets whatever its kinds live here."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from cfngen.blueprint import aws_facts, schema_cache
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
            keys.extend(f.alias or name for name, f in ann.model_fields.items() if not f.exclude)
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
        if isinstance(part, str) and (part.startswith("function-") or part.startswith("<")):
            continue  # a validator's name, or the tag of a union chosen by its keys
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


def validate_model(doc: Document, root: type[Blueprint]) -> Blueprint:
    """Validate a selected, interpolated document into the typed blueprint model `root`."""
    errors = _bools_as_numbers(doc, root)
    # the validators of the root and of the models validated on their own (default factories,
    # the planners' models) from the schemas of an earlier run, if any
    schema_cache.complete(root)
    try:
        blueprint = root.model_validate(doc.data)
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

    def value_reference(
        self,
        path: Path_,
        component: str,
        attribute: str | None,
        attributes: typing.Mapping[str, typing.Mapping[str, Any]],
        *,
        secret: bool,
    ) -> None:
        """A typed reference `{from: component, attribute: ...}` at `path`: the component
        publishes the attribute, and it is a secret exactly when it is used as one."""
        if component not in attributes:
            self.reference((*path, "from"), component, attributes, "component with attributes")
            return
        provided = attributes[component]
        if attribute is None or attribute not in provided:
            names = sorted(provided)
            close = difflib.get_close_matches(str(attribute), names, n=1, cutoff=0.6)
            self.error(
                (*path, "attribute"),
                f"'{component}' has no attribute '{attribute}'",
                f"did you mean '{close[0]}'?" if close else f"its attributes: {', '.join(names)}",
            )
            return
        kind = getattr(provided[attribute], "kind", "value")
        if "secrets" in path and "values" in path:  # a part of a composed secret
            if secret and kind != "secret_arn":
                self.error(
                    (*path, "key"),
                    f"'{component}.{attribute}' is a plain value; `key` picks a JSON key of a "
                    "secret",
                    "remove `key`",
                )
            elif not secret and kind == "secret_arn":
                self.error(
                    (*path, "attribute"),
                    f"'{component}.{attribute}' is a secret; the composition needs one JSON key "
                    "of it",
                    "add `key:`, e.g. key: password",
                )
            return
        if secret and kind != "secret_arn":
            self.error(
                (*path, "attribute"),
                f"'{component}.{attribute}' is a plain value, not a secret",
                "move it to `environment`, or use a secret_arn attribute",
            )
        if not secret and kind == "secret_arn":
            self.error(
                (*path, "attribute"),
                f"'{component}.{attribute}' is a secret; secrets never go into the environment",
                "move it to `secrets`: its value is read at start, never written into the template",
            )


# --- checks of every blueprint, whatever its kinds ------------------------------------------------

OWN_TAGS = ("cfngen:blueprint", "cfngen:environment")
"""Tags cfngen puts on every stack besides the blueprint's own."""


def check_stack_tags(bp: Blueprint, c: Checker) -> None:
    """Stack tags (the blueprint's `tags` plus cfngen's own) within CloudFormation's limits."""
    room = aws_facts.STACK_TAGS_MAX - len(OWN_TAGS)
    if len(bp.tags) > room:
        c.error(
            ("tags",),
            f"{len(bp.tags)} tags; a stack takes at most {aws_facts.STACK_TAGS_MAX}, and cfngen "
            f"adds {len(OWN_TAGS)} of its own ({', '.join(OWN_TAGS)})",
            f"keep at most {room}",
        )
    for key, value in bp.tags.items():
        if key.startswith("cfngen:"):
            c.error(
                ("tags", key), f"tag key '{key}' is cfngen's own", "use another key", at_key=True
            )
            continue
        problem = aws_facts.tag_problem(key, value)
        if problem:
            c.error(("tags", key), problem[0], problem[1], at_key="key" in problem[0])


def check_unique_names(bp: Blueprint, c: Checker, sections: typing.Sequence[str]) -> None:
    """Component names are unique across kinds: a name alone resolves a reference. The entry
    written first keeps the name; the later one is the error."""
    entries = [(section, name) for section in sections for name in getattr(bp, section)]

    def written(entry: tuple[str, str]) -> tuple[int, int]:
        mark = c.doc.positions.key(entry)
        return (mark.line, mark.col) if mark else (0, 0)

    seen: dict[str, str] = {}
    for section, name in sorted(entries, key=written):
        if name in seen:
            c.error(
                (section, name),
                f"name '{name}' is already used by {seen[name]}.{name}",
                "component names are unique across kinds; rename one of them",
                at_key=True,
            )
        else:
            seen[name] = section


def environment_names(bp: Blueprint) -> list[str]:
    """EnvironmentName of every environment (physical names are built from it)."""
    if bp.environment_name:
        return [bp.environment_name]
    return [f"{bp.blueprint}-{env}" for env in bp.environments]


def check_physical_name(
    bp: Blueprint, c: Checker, path: Path_, name: str, limit: int, suffix: str = ""
) -> None:
    """`<EnvironmentName>-<name><suffix>` fits AWS's limit for every environment."""
    envs = environment_names(bp)
    longest = max(envs, key=len) if envs else ""
    full = f"{longest}-{name}{suffix}"
    if len(full) > limit:
        c.error(
            path,
            f"the resource name {full} is {len(full)} characters long; AWS allows {limit}",
            f"use a name of at most {limit - len(longest) - 1 - len(suffix)} characters",
            at_key=True,
        )
