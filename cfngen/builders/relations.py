"""How components find each other: connection targets and referenceable values.

Relations in a blueprint name components (`connects_to: [payload-db]`, a secret taken from a
database, a URL taken from a cache). Each component kind publishes:

- `Target`s: things other components may connect to, with the security group cfngen derives for
  them and their ports. `connects_to` turns into security group rules through these.
- `Attribute`s: values other stacks may import by a typed reference (`payload-db.secret_arn`,
  `redis.url`). Consumers get the `Output` to import and, from it, the graph edge.

Component names are unique across kinds (checked in validation), so a name alone resolves.
The group of a component is named like its stack component key (`database-payload-db`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.source import Path_
from cfngen.stacks import Output


@dataclass(frozen=True)
class Target:
    """A component others may connect to."""

    name: str  # the blueprint name, e.g. payload-db
    kind: str  # e.g. database, cache, service, file system
    group: str  # its security group name in the security stack (= its stack component key)
    ports: tuple[int, ...]  # ports a `connects_to` opens (protocol tcp)
    source: Path_  # where it is declared


@dataclass(frozen=True)
class Attribute:
    """A value of a component that another stack may import."""

    output: Output  # the export to import
    kind: Literal["value", "secret_arn"]  # secret_arn: usable as an ECS secret's ValueFrom
    description: str


TargetProvider = Callable[[Blueprint], list[Target]]
AttributeProvider = Callable[[Blueprint], dict[str, dict[str, Attribute]]]
"""name -> attribute -> Attribute, e.g. {"payload-db": {"secret_arn": ..., "endpoint": ...}}."""


def targets(bp: Blueprint) -> dict[str, Target]:
    from cfngen.builders import TARGET_PROVIDERS

    out: dict[str, Target] = {}
    for provider in TARGET_PROVIDERS:
        for t in provider(bp):
            out.setdefault(t.name, t)
    return out


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    from cfngen.builders import ATTRIBUTE_PROVIDERS

    out: dict[str, dict[str, Attribute]] = {}
    for provider in ATTRIBUTE_PROVIDERS:
        for name, attrs in provider(bp).items():
            out.setdefault(name, {}).update(attrs)
    return out
