"""The list of component kinds, and everything derived from it.

Every module (or package) in cfngen.kinds that defines a `KIND` record is a kind; `KINDS` holds
them in their planning order. From that one list come the blueprint model (and so the JSON
Schema), the planners, the semantic checks, the name-length table and the planning stage's
registries. Nothing else enumerates kinds: adding a kind is adding its module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field, create_model

import cfngen.kinds
from cfngen.blueprint.models import Blueprint, SharedScope
from cfngen.blueprint.models.common import Name
from cfngen.blueprint.validate import (
    Checker,
    check_physical_name,
    check_stack_tags,
    check_unique_names,
)
from cfngen.builders.base import StackPlan
from cfngen.kinds.base import Facts, Kind


def _discover() -> tuple[Kind[Any], ...]:
    found: list[Kind[Any]] = []
    for info in pkgutil.iter_modules(cfngen.kinds.__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"cfngen.kinds.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, Kind):
            found.append(kind)
    return tuple(sorted(found, key=lambda k: (k.order, k.section)))


KINDS: tuple[Kind[Any], ...] = _discover()


def _field(kind: Kind[Any]) -> tuple[Any, Any]:
    if kind.singleton:
        if kind.default is not None:
            return kind.model, Field(default_factory=kind.default, description=kind.description)
        return kind.model | None, Field(None, description=kind.description)
    entries: Any = dict[Name, kind.model]  # type: ignore[name-defined]
    return entries, Field(default_factory=dict, description=kind.description)


SHARED: type[SharedScope] = create_model(  # type: ignore[call-overload]
    "SharedScope",
    __base__=SharedScope,
    __module__=__name__,
    __doc__=SharedScope.__doc__,
    **{kind.section: _field(kind) for kind in KINDS if kind.shareable},
)
"""The `shared` scope: its own fields and the sections of the kinds that may be shared."""

SHAREABLE = {kind.section: kind.share for kind in KINDS if kind.shareable}
"""The sections the `shared` scope may hold, with how each admits the environments."""

BLUEPRINT: type[Blueprint] = create_model(  # type: ignore[call-overload]
    "Blueprint",
    __base__=Blueprint,
    __module__=__name__,
    __doc__=Blueprint.__doc__,
    shared=(
        SHARED | None,
        Field(
            None,
            description="Components shared by every environment, deployed once as the "
            "environment `shared` in their own account and region.",
        ),
    ),
    **{kind.section: _field(kind) for kind in KINDS},
)
"""The root model: the common fields of `Blueprint` and one section per kind."""


def component_sections() -> list[str]:
    """Sections whose entries are named components (names are unique across them)."""
    return [k.section for k in KINDS if k.names_components and not k.singleton]


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """Every semantic check: what every blueprint gets, then each kind's own."""
    check_stack_tags(bp, c)
    check_unique_names(bp, c, component_sections())
    for kind in KINDS:
        for physical in kind.physical_names:
            for name in kind.entries(bp):
                check_physical_name(
                    bp, c, (kind.section, name), name, physical.limit, physical.suffix
                )
    for kind in KINDS:
        for kind_check in kind.checks:
            kind_check(bp, facts, c)


def check_across(
    env: str, bp: Blueprint, others: Callable[[], Mapping[str, Blueprint]], c: Checker
) -> None:
    """The checks across environments (things one account has once, say)."""
    for kind in KINDS:
        if kind.across is not None:
            kind.across(env, bp, others, c)


def plan(bp: Blueprint, facts: Facts, shared: bool = False) -> list[StackPlan[Any]]:
    """Every kind's stacks, in planning order (in the shared scope, only shareable kinds')."""
    return [p for kind in KINDS if kind.shareable or not shared for p in kind.plan(bp, facts)]
