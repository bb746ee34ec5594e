"""Waivers: accepted findings of `cfngen lint`, written into the rendered resources' Metadata.

A finding is waived only by the Metadata of the resource it is about, so the reason travels
with the template and a reviewer of the template sees it:

- cfngen checks (CFG002) and cfn-lint rules (W1020): `Metadata.cfngen.waivers` (ID -> reason);
  a cfn-lint rule is also listed in `Metadata.cfn-lint.config.ignore_checks`, so cfn-lint itself
  skips it wherever the template is linted;
- checkov checks (CKV_AWS_123): `Metadata.checkov.skip` ([{id, comment}]).

`record` writes one waiver into a Metadata dict; builders use it (through
`cfngen.builders.common.waive`) for the waivers they make themselves. Waivers written in the
blueprint (`waivers:` of any component) are applied in one place, after every stack of the
environment is built and stamped: `collect` finds them in the validated blueprint and `apply`
writes each into every resource its component produced (`Metadata.cfngen.source`), or into the
one resource it names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel

from cfngen.blueprint.models.common import Waiver, check_kind
from cfngen.blueprint.source import Document, Path_, dotted
from cfngen.errors import BlueprintError, Diagnostic


def record(metadata: dict[str, Any], check_id: str, reason: str) -> dict[str, Any]:
    """Write one waiver into a resource's Metadata dict (in place) and return it.

    One entry per check ID: waiving the same check again replaces its reason (a blueprint
    waiver, applied after the builders, overrides the builder's own reason). Entries are kept
    sorted so the rendered template does not depend on the order waivers were written in.
    """
    kind = check_kind(check_id)
    if kind is None:
        raise ValueError(f"not a check ID: {check_id!r}")
    if kind == "checkov":
        checkov = dict(metadata.get("checkov") or {})
        skips = [s for s in checkov.get("skip") or [] if s.get("id") != check_id]
        skips.append({"id": check_id, "comment": reason})
        checkov["skip"] = sorted(skips, key=lambda s: str(s.get("id")))
        metadata["checkov"] = checkov
        return metadata
    cfngen = dict(metadata.get("cfngen") or {})
    waivers = {**(cfngen.get("waivers") or {}), check_id: reason}
    cfngen["waivers"] = dict(sorted(waivers.items()))
    metadata["cfngen"] = cfngen
    if kind == "cfn-lint":
        linter = dict(metadata.get("cfn-lint") or {})
        config = dict(linter.get("config") or {})
        config["ignore_checks"] = sorted({*(config.get("ignore_checks") or []), check_id})
        linter["config"] = config
        metadata["cfn-lint"] = linter
    return metadata


def _walk(value: Any, path: Path_) -> Iterator[tuple[Path_, Waiver]]:
    if isinstance(value, Waiver):
        yield path, value
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from _walk(getattr(value, name), (*path, info.alias or name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))


def collect(blueprint: BaseModel) -> list[tuple[Path_, Waiver]]:
    """Every waiver of the validated blueprint with its path, e.g.
    (('services', 'api', 'waivers', 0), Waiver(...))."""
    return list(_walk(blueprint, ()))


def _source(resource: Any) -> str | None:
    """The stamp `Metadata.cfngen.source` of a rendered resource (None when it has none)."""
    meta = resource.get("Metadata") if isinstance(resource, dict) else None
    cfngen = meta.get("cfngen") if isinstance(meta, dict) else None
    source = cfngen.get("source") if isinstance(cfngen, dict) else None
    return source if isinstance(source, str) else None


def _produced_by(source: str | None, component: str) -> bool:
    return source is not None and (
        source == component or source.startswith((f"{component}.", f"{component}["))
    )


def apply(
    bodies: Sequence[dict[str, Any]],
    waivers: Sequence[tuple[Path_, Waiver]],
    document: Document,
) -> None:
    """Write each blueprint waiver into the resources its component produced.

    `bodies` are the template dicts of every stack of the environment, stamped with
    `Metadata.cfngen.source`; a component's resources may live in several stacks (a service's
    security group is in the security stack). A waiver at `services.api.waivers[0]` applies to
    every resource whose source is `services.api` or below it, or with `resource:` to that one
    logical ID among them. A waiver that applies to nothing is a blueprint error; the errors of
    all waivers are reported together.
    """
    errors: list[Diagnostic] = []
    for path, waiver in waivers:
        component = dotted(path[:-2])
        produced = [
            (logical_id, resource)
            for body in bodies
            for logical_id, resource in (body.get("Resources") or {}).items()
            if _produced_by(_source(resource), component)
        ]
        targets = [
            resource
            for logical_id, resource in produced
            if waiver.resource is None or logical_id == waiver.resource
        ]
        if not targets:
            errors.append(
                _unmatched(path, waiver, component, [lid for lid, _ in produced], document)
            )
            continue
        for resource in targets:
            record(resource.setdefault("Metadata", {}), waiver.check, waiver.reason)
    if errors:
        raise BlueprintError(errors)


def _unmatched(
    path: Path_, waiver: Waiver, component: str, known: list[str], document: Document
) -> Diagnostic:
    names = sorted(set(known))
    if not names:
        return Diagnostic(
            document.positions.value(path),
            dotted(path),
            f"waiver {waiver.check} applies to nothing: {component} renders no resources in "
            "this environment",
            "remove the waiver",
        )
    assert waiver.resource is not None
    close = difflib.get_close_matches(waiver.resource, names, n=1, cutoff=0.6)
    listing = f"its resources: {', '.join(names)}"
    return Diagnostic(
        document.positions.value((*path, "resource")),
        dotted((*path, "resource")),
        f"{component} renders no resource '{waiver.resource}'",
        f"did you mean '{close[0]}'? {listing}" if close else listing,
    )
