"""The list of component kinds, and everything derived from it.

Every module (or package) in cfngen.kinds that defines a `KIND` record is a kind. From that one
list come the blueprint model (and so the JSON Schema), the planners, the semantic checks, the
name-length table and the planning stage's registries. Nothing else enumerates kinds: adding a
kind is adding its module (and regenerating `cfngen.kinds.index`, which a test asks for).

A blueprint loads only the kinds it uses: those of the sections it declares (at the top, in an
environment or in the shared scope) and the implicit ones, which plan or derive something for
every blueprint (`Kind.implicit`). The others' modules, models and troposphere resources are
never imported; their sections stay in the model as fields that are always empty, so every
blueprint keeps the same attributes and unknown-key hints. A kind left out contributes
nothing: it has no entries, and tests/kinds/test_index.py checks that a kind that is not
implicit offers nothing without its section. `full()` is every kind (the JSON Schema, tests).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from msgspec import Struct
from pydantic import Field, create_model

import cfngen.kinds
from cfngen.blueprint.environments import Share
from cfngen.blueprint.models import Blueprint, SharedScope
from cfngen.blueprint.models.common import Name
from cfngen.blueprint.validate import (
    Checker,
    check_physical_name,
    check_stack_tags,
    check_unique_names,
)
from cfngen.builders.base import StackPlan
from cfngen.kinds import index
from cfngen.kinds.base import Facts, Kind

_NOT_KINDS = ("base", "index")


def discover() -> tuple[tuple[str, Kind[Any]], ...]:
    """Every kind with its module in cfngen.kinds, found by importing them all, in planning
    order (what cfngen.kinds.index is generated from)."""
    import pkgutil  # only for regenerating the index

    found: list[tuple[str, Kind[Any]]] = []
    for info in pkgutil.iter_modules(cfngen.kinds.__path__):
        if info.name in _NOT_KINDS:
            continue
        kind = getattr(importlib.import_module(f"cfngen.kinds.{info.name}"), "KIND", None)
        if isinstance(kind, Kind):
            found.append((info.name, kind))
    return tuple(sorted(found, key=lambda mk: (mk[1].order, mk[1].section)))


def _ordered(kinds: Iterable[Kind[Any]]) -> tuple[Kind[Any], ...]:
    return tuple(sorted(kinds, key=lambda k: (k.order, k.section)))


def _load(section: str) -> Kind[Any]:
    kind = getattr(importlib.import_module(f"cfngen.kinds.{index.SECTIONS[section]}"), "KIND", None)
    if not isinstance(kind, Kind) or kind.section != section:  # a kind moved, the index did not
        raise RuntimeError(
            f"cfngen.kinds.index is stale ({section}): run `python -m cfngen.kinds.index`"
        )
    return kind


def _field(kind: Kind[Any]) -> tuple[Any, Any]:
    if kind.singleton:
        if kind.default is not None:
            return kind.model, Field(default_factory=kind.default, description=kind.description)
        return kind.model | None, Field(None, description=kind.description)
    entries: Any = dict[Name, kind.model]  # type: ignore[name-defined]
    return entries, Field(default_factory=dict, description=kind.description)


def _absent(section: str) -> tuple[Any, Any]:
    """The field of a kind the blueprint does not use: always empty (the section is absent, or
    the kind would have been loaded)."""
    if section in index.SINGLETONS:
        return None, Field(None)
    return dict[str, None], Field(default_factory=dict, max_length=0)


class Registry(Struct, frozen=True):
    """The kinds one blueprint uses, and the model and stages derived from them."""

    kinds: tuple[Kind[Any], ...]
    blueprint: type[Blueprint]
    shared: type[SharedScope]
    shareable: Mapping[str, Share | None]
    """The sections the `shared` scope may hold, with how each admits the environments (None
    for a kind not loaded: the scope does not use it)."""

    def component_sections(self) -> list[str]:
        """Sections whose entries are named components (names are unique across them)."""
        return [k.section for k in self.kinds if k.names_components and not k.singleton]

    def check(self, bp: Blueprint, facts: Facts, c: Checker) -> None:
        """Every semantic check: what every blueprint gets, then each kind's own."""
        check_stack_tags(bp, c)
        check_unique_names(bp, c, self.component_sections())
        for kind in self.kinds:
            for physical in kind.physical_names:
                for name in kind.entries(bp):
                    check_physical_name(
                        bp, c, (kind.section, name), name, physical.limit, physical.suffix
                    )
        for kind in self.kinds:
            for kind_check in kind.checks:
                kind_check(bp, facts, c)

    def check_across(
        self,
        env: str,
        bp: Blueprint,
        others: Callable[[], Mapping[str, Blueprint]],
        c: Checker,
    ) -> None:
        """The checks across environments (things one account has once, say)."""
        for kind in self.kinds:
            if kind.across is not None:
                kind.across(env, bp, others, c)

    def plan(self, bp: Blueprint, facts: Facts, shared: bool = False) -> list[StackPlan[Any]]:
        """Every kind's stacks, in planning order (in the shared scope, only shareable kinds')."""
        return [
            p for kind in self.kinds if kind.shareable or not shared for p in kind.plan(bp, facts)
        ]


@functools.cache
def _registry(sections: frozenset[str]) -> Registry:
    kinds = _ordered(_load(s) for s in sorted(sections))
    loaded = {k.section: k for k in kinds}
    # every section, in planning order (the index lists them so): the model's field order
    fields = {s: _field(loaded[s]) if s in loaded else _absent(s) for s in index.SECTIONS}
    shared = create_model(  # type: ignore[call-overload]
        "SharedScope",
        __base__=SharedScope,
        __module__=__name__,
        __doc__=SharedScope.__doc__,
        **{s: fields[s] for s in index.SHAREABLE},
    )
    blueprint = create_model(  # type: ignore[call-overload]
        "Blueprint",
        __base__=Blueprint,
        __module__=__name__,
        __doc__=Blueprint.__doc__,
        shared=(
            shared | None,
            Field(
                None,
                description="Components shared by every environment, deployed once as the "
                "environment `shared` in their own account and region.",
            ),
        ),
        **fields,
    )
    share = {s: loaded[s].share if s in loaded else None for s in index.SHAREABLE}
    # module attributes, named after the set of kinds: the schema cache names a model by
    # where it is found, and finds the same model of the same kinds in the next run
    mask = sum(1 << i for i, s in enumerate(index.SECTIONS) if s in loaded)
    globals()[f"_blueprint_{mask:x}"] = blueprint
    globals()[f"_shared_{mask:x}"] = shared
    return Registry(kinds, blueprint, shared, share)


def full() -> Registry:
    """Every kind (the JSON Schema, and where no blueprint decides)."""
    return _registry(frozenset(index.SECTIONS))


def used_sections(data: Any) -> frozenset[str]:
    """The kinds' sections a blueprint document declares anywhere: at the top, in an
    environment's overlay, in the shared scope."""
    if not isinstance(data, dict):
        return frozenset()
    keys: set[Any] = set(data)
    envs = data.get("environments")
    for overlay in envs.values() if isinstance(envs, dict) else ():
        if isinstance(overlay, dict):
            keys.update(overlay)
    shared = data.get("shared")
    if isinstance(shared, dict):
        keys.update(shared)
    return frozenset(k for k in keys if isinstance(k, str) and k in index.SECTIONS)


def for_document(data: Any) -> Registry:
    """The kinds a blueprint document uses (see the module docstring)."""
    return _registry(used_sections(data) | index.IMPLICIT)


def __getattr__(name: str) -> Any:
    """`KINDS`, `BLUEPRINT`, `SHARED`, `SHAREABLE`: those of every kind."""
    every = full()
    attrs = {
        "KINDS": every.kinds,
        "BLUEPRINT": every.blueprint,
        "SHARED": every.shared,
        "SHAREABLE": every.shareable,
    }
    if name in attrs:
        return attrs[name]
    raise AttributeError(name)
