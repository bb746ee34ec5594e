"""The kind contract: each component kind is one `Kind` record in its own module.

A record says, in one object, everything cfngen knows about a kind: its blueprint section and
model, how its components are named, what it plans and builds, what it offers the others
(connection targets, attributes to reference, security groups and the rules between them,
routes to load balancers, grants for `uses`) and its own semantic checks. `cfngen.registry`
lists the records; the blueprint model, the schema, the registries of the planning stage, the
name-length table and every lookup are derived from that list, so nothing else enumerates kinds
(`cfngen.kinds.index` is generated from it, and a test keeps it so).

What the kinds offer each other is collected once, in the planning stage (cfngen.planning), into
`Facts`, which validation and builders both read. A kind never asks another kind directly.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from msgspec import Struct, field

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.models.services import Route
from cfngen.blueprint.source import Path_
from cfngen.stacks import Output, component_key, logical_id, shard_key

if TYPE_CHECKING:
    from cfngen.blueprint.validate import Checker
    from cfngen.builders.base import StackPlan

M = TypeVar("M")


# --- what kinds offer each other ----------------------------------------------------------------


class Target(Struct, frozen=True):
    """A component others may `connects_to`: its security group and the ports that opens."""

    name: str  # the blueprint name, e.g. payload-db
    kind: str  # e.g. database, cache, service, file system
    group: str  # its security group name in the security stack (= its stack component key)
    ports: tuple[int, ...]  # ports a `connects_to` opens (protocol tcp)
    source: Path_  # where it is declared


class Attribute(Struct, frozen=True):
    """A value of a component that another stack may import (`payload-db.secret_arn`)."""

    output: Output  # the export to import
    kind: Literal["value", "secret_arn"]  # secret_arn: usable as an ECS secret's ValueFrom
    description: str


class ArnTail(Struct, frozen=True):
    """The part of an imported ARN after `marker` (a load balancer's `app/<name>/<id>`)."""

    output: Output
    marker: str


Dimension = str | Output | ArnTail
"""A metric dimension's value: text (`${EnvironmentName}` and `${AWS::...}` are filled in), an
output of the component's stack (imported), or the tail of an imported ARN."""


class MetricSource(Struct, frozen=True):
    """Where a component's CloudWatch metrics are: their namespace and the dimensions that
    select this component (`alarms: {x: {component: payload-db, metric: CPUUtilization}}`)."""

    namespace: str
    dimensions: Mapping[str, Dimension]
    examples: tuple[str, ...] = ()  # common metric names, for docs and did-you-mean hints


class Relation(Struct, frozen=True):
    """Traffic one group may send to another, derived from a blueprint relation.

    Becomes an ingress rule on `target` from `source`, and an egress rule on `source` to
    `target` when the source's outbound traffic is restricted (its `egress` is a list).
    """

    source: str
    target: str
    port: int | None  # None with protocol "all"
    description: str
    protocol: str = "tcp"
    to_port: int | None = None  # the end of a port range starting at `port`
    origin: Path_ = ()  # the blueprint entry that declares it (default: the source group's)


class Derived(Struct, frozen=True):
    """Groups and relations a kind contributes to the shared security stack."""

    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    sources: dict[str, Path_] = field(default_factory=dict)  # group -> where it was declared
    # groups a later provider named again (and lost to the first): group -> its source there
    shadowed: dict[str, Path_] = field(default_factory=dict)


class RouteTarget(Struct, frozen=True):
    """One route of a service to a load balancer, resolved against the load balancer."""

    service: str
    index: int  # position in the service's routes
    route: Route
    load_balancer: str
    container: str  # the container that receives it (the service's main one by default)
    listener: int  # listener port it attaches to
    container_port: int
    target_port: int  # port the load balancer sends to (host port in bridge mode)
    target_type: str  # ip | instance
    source: Path_
    dynamic: bool = False  # bridge mode without a host port: ECS picks one of 32768-65535

    @property
    def output(self) -> str:
        """The load balancer stack's output with this route's target group ARN."""
        return target_group_output(self.service, self.container_port)


def target_group_output(service: str, port: int) -> str:
    return logical_id(service, str(port), "target-group-arn")


class Link(Struct, frozen=True):
    """A relation the blueprint declares between two components that is not a route, a target
    or a grant (a REST API's VPC link to a load balancer, a host's listener rule on one)."""

    source: str  # the component that declares it
    target: str  # the component it reaches
    kind: str  # what kind of link (the target's kind module names them)
    source_path: Path_  # where it is declared
    detail: str | None = None  # e.g. a listener rule's priority


class AliasRecordRequest(Struct, frozen=True):
    """A DNS name that should alias a component (its `dns_name` and `hosted_zone_id`)."""

    fqdn: str
    target: str  # the component the name points at
    source: Path_  # where the name is written
    ipv6: bool = False  # also an AAAA record (CloudFront distributions)


class GrantRequest(Struct, frozen=True):
    """A component asks for access to another (`uses`, a volume mount): which, how, options."""

    component: str
    access: str  # one of the used kind's access levels (read, read-write, send, consume ...)
    options: Mapping[str, Any] = field(default_factory=dict)  # e.g. prefix, access_point


class GrantResource(Struct, frozen=True):
    """An IAM resource: another stack's exported ARN (imported), optionally with a suffix
    (`${Arn}/results/*`), or a literal (an ARN template for `Fn::Sub`)."""

    output: Output | None = None
    suffix: str = ""
    literal: str = ""


class GrantStatement(Struct, frozen=True):
    """One Allow statement of a grant; `condition` is (operator, key, values) where a value may
    be an Output to import (an access point ARN)."""

    actions: tuple[str, ...]
    resources: tuple[GrantResource, ...]
    # (awacs operator, key, value): a value, or a tuple of values written as a list
    condition: tuple[str, str, str | Output | tuple[str | Output, ...]] | None = None


class Grant(Struct, frozen=True):
    """What one access gives its user: IAM statements for its role, security group relations
    (user group -> `group`, on `ports`), the stacks it must deploy after, and the value an
    environment variable gets when the use asks for one (`env`)."""

    statements: tuple[GrantStatement, ...] = ()
    group: str | None = None  # the used component's security group, when traffic goes to it
    ports: tuple[int, ...] = ()
    address: Output | None = None  # what `env` receives: a queue URL, a topic or bucket name
    description: str = ""

    def relations(self, own: str, label: str) -> list[Relation]:
        """Security group rules from the user's group `own` to the used component's group."""
        if self.group is None or self.group == own:
            return []
        return [Relation(own, self.group, p, f"{label} {self.description}") for p in self.ports]

    @property
    def imports(self) -> tuple[Output, ...]:
        outs: list[Output] = []
        for st in self.statements:
            outs += [r.output for r in st.resources if r.output is not None]
            if st.condition is not None:
                value = st.condition[2]
                values = value if isinstance(value, tuple) else (value,)
                outs += [v for v in values if isinstance(v, Output)]
        if self.address is not None:
            outs.append(self.address)
        return tuple(dict.fromkeys(outs))


class GrantProblem(ValueError):
    """A request the used kind cannot grant (an option it does not take, say); the message and
    fix go to the blueprint line of the request."""

    def __init__(self, message: str, fix: str = "", option: str | None = None) -> None:
        super().__init__(message)
        self.message, self.fix, self.option = message, fix, option


GrantFn = Callable[[Blueprint, GrantRequest], Grant]


def only_options(request: GrantRequest, what: str, *allowed: str) -> None:
    """GrantProblem for an option the used kind does not take (`prefix` on a queue)."""
    for option in request.options:
        if option not in allowed:
            raise GrantProblem(
                f"`{option}` does not apply to {what} '{request.component}'",
                f"remove `{option}`",
                option,
            )


class Facts(Struct, frozen=True, dict=True):
    """What the kinds offer each other, computed once per environment (cfngen.planning)."""

    targets: Mapping[str, Target]
    attributes: Mapping[str, Mapping[str, Attribute]]
    routes: Mapping[str, Sequence[RouteTarget]]  # load balancer -> routes, in blueprint order
    priorities: Mapping[tuple[str, int], int]  # (service, route index) -> listener rule priority
    stacks: Mapping[str, str]  # component name -> the stack component key it lives in
    groups: Derived  # every security group of the environment, relations folded into rules
    alert_publishers: tuple[str, ...] = ()  # service principals that publish to the alerts topic
    records: tuple[AliasRecordRequest, ...] = ()  # DNS alias records, in blueprint order
    needs: Mapping[str, Path_] = field(default_factory=dict)  # shared infrastructure -> who asks
    links: tuple[Link, ...] = ()  # other declared relations, in blueprint order
    grantors: Mapping[str, Mapping[str, GrantFn]] = field(default_factory=dict)  # name -> access
    metrics: Mapping[str, MetricSource] = field(default_factory=dict)  # name -> its metrics
    # split shared stacks: kind prefix -> entry (a security group: its name) -> its shard
    shards: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def stack_of(self, name: str) -> str | None:
        return self.stacks.get(name)

    def shard(self, prefix: str, entry: str) -> str:
        """The stack component holding `entry` of a shared stack (`security-2`); the unsplit
        stack (`prefix`) when the kind does not split or does not know the entry."""
        return self.shards.get(prefix, {}).get(entry, prefix)

    def access_levels(self, name: str) -> list[str]:
        """How a component may be used (`uses: [{component, access}]`); [] when it cannot."""
        return sorted(self.grantors.get(name, {}))

    def grant(self, bp: Blueprint, request: GrantRequest) -> Grant:
        """What `request` gives; GrantProblem when the component or access does not exist."""
        levels = self.grantors.get(request.component)
        if levels is None:
            raise GrantProblem(
                f"'{request.component}' cannot be used",
                "name a queue, topic, bucket or file system",
            )
        fn = levels.get(request.access)
        if fn is None:
            close = difflib.get_close_matches(request.access, sorted(levels), n=1, cutoff=0.6)
            raise GrantProblem(
                f"'{request.component}' has no access '{request.access}'",
                f"did you mean '{close[0]}'?"
                if close
                else f"use one of {', '.join(sorted(levels))}",
                "access",
            )
        return fn(bp, request)

    def routes_of(self, service: str) -> list[RouteTarget]:
        """A service's routes, over every load balancer, in the order it declares them."""
        return sorted(self._routes_by_service.get(service, ()), key=lambda rt: rt.index)

    @functools.cached_property
    def _routes_by_service(self) -> dict[str, list[RouteTarget]]:
        """Routes by service, made once: a scan of every route per service is quadratic."""
        out: dict[str, list[RouteTarget]] = {}
        for routes in self.routes.values():
            for rt in routes:
                out.setdefault(rt.service, []).append(rt)
        return out


# --- the record ---------------------------------------------------------------------------------

Check = Callable[[Blueprint, Facts, "Checker"], None]
Across = Callable[[str, Blueprint, Callable[[], Mapping[str, Blueprint]], "Checker"], None]
"""A check across environments: (this environment, its blueprint, every environment's
blueprint by name in blueprint order with the shared scope first, computed on first call)."""
Planner = Callable[[Blueprint, Facts], Sequence["StackPlan[Any]"]]


class PhysicalName(Struct, frozen=True):
    """A name AWS limits: `<EnvironmentName>-<component name><suffix>` at most `limit` long."""

    what: str  # e.g. "DB instance identifier"
    limit: int
    suffix: str = ""


class Kind(Struct, Generic[M], frozen=True):
    """One component kind: its section of the blueprint and everything derived from it."""

    section: str  # root key of the blueprint, e.g. services
    model: Any  # type of one entry (or of a singleton's block): a model class or a union
    description: str  # the section's description in the schema
    prefix: str  # component key prefix: service -> stack component service-<name>
    plan: Planner
    singleton: bool = False  # one block (network, cluster, dns), not named entries
    shared_stack: bool = False  # every entry lives in one stack named `prefix` (ecr)
    # a shared stack's entries per shard: entries fill `prefix`, `prefix-2` ... in blueprint
    # order, this many of each section per shard (see `place`); None: one stack, never split
    shard_size: int | None = None
    # what fills the shards when not the kind's own entries: (section, entry, key) in order
    shard_entries: Callable[[Blueprint, Facts], Iterable[tuple[str, str, str]]] | None = None
    shareable: bool = False  # may be declared once in the blueprint's `shared` scope
    # a shared entry (raw mapping) -> the same entry admitting these environment accounts
    share: Callable[[dict[str, Any], list[str]], dict[str, Any]] | None = None
    default: Callable[[], M] | None = None  # a singleton's value when the blueprint has none
    targets: Callable[[Blueprint], Iterable[Target]] | None = None
    attributes: Callable[[Blueprint], Mapping[str, Mapping[str, Attribute]]] | None = None
    routes: Callable[[Blueprint], Iterable[RouteTarget]] | None = None
    groups: Callable[[Blueprint, Facts], Derived] | None = None
    grants: Mapping[str, GrantFn] = field(default_factory=dict)  # access level -> grant
    alert_publishers: Callable[[Blueprint], Iterable[str]] | None = None
    records: Callable[[Blueprint], Iterable[AliasRecordRequest]] | None = None
    needs: Callable[[Blueprint], Iterable[tuple[str, Path_]]] | None = None
    links: Callable[[Blueprint], Iterable[Link]] | None = None
    metrics: Callable[[Blueprint], Mapping[str, MetricSource]] | None = None
    checks: tuple[Check, ...] = ()
    across: Across | None = None  # what this environment's entries clash with in the others
    physical_names: tuple[PhysicalName, ...] = ()
    names_components: bool = True  # entries are components others may name (unique names)
    # plans, derives or offers something even when the blueprint has no section for it (the
    # network's default VPC, the derived security groups): loaded for every blueprint, where the
    # other kinds load only for blueprints that use their section (cfngen.kinds.index)
    implicit: bool = False
    order: int = 500  # planning order; among stacks ready to deploy, earlier kinds go first

    def key(self, name: str = "") -> str:
        """The stack component key of one entry (every entry's, for singleton stacks)."""
        if self.singleton or self.shared_stack:
            return self.prefix
        return component_key(self.prefix, name)

    def placement(self, bp: Blueprint, facts: Facts | None = None) -> dict[str, str]:
        """Each entry of a shared stack -> its shard's component key (see `place`)."""
        if self.shard_entries is not None:
            assert facts is not None, "shards of derived entries need the facts"
            items: Iterable[tuple[str, str, str]] = self.shard_entries(bp, facts)
        else:
            items = ((self.section, name, name) for name in self.entries(bp))
        return place(self.prefix, self.shard_size, items)

    def entries(self, bp: Blueprint) -> dict[str, M]:
        """The section's entries by name ({} when absent); a singleton's one block by section."""
        value = getattr(bp, self.section)
        if self.singleton:
            return {} if value is None else {self.section: value}
        return dict(value)

    def one(self, bp: Blueprint) -> M | None:
        """A singleton section's block (None when the blueprint has none)."""
        value: M | None = getattr(bp, self.section)
        return value


def place(prefix: str, size: int | None, items: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Shards of a split shared stack: key -> `prefix`, `prefix-2` ...

    `items` are (section, entry, key) in blueprint order; the n-th entry of each section
    (counting from 0) goes to shard n // size, with every key it holds. So the shard of an
    entry depends only on its position in its own section: a change to one entry, or an entry
    appended to any section, never moves another; inserting one in the middle of a section moves
    the entry before each later shard boundary of that section to the next shard.
    """
    if size is None:
        return {key: prefix for _, _, key in items}
    seen: dict[str, dict[str, int]] = {}
    out: dict[str, str] = {}
    for section, entry, key in items:
        positions = seen.setdefault(section, {})
        index = positions.setdefault(entry, len(positions))
        out[key] = shard_key(prefix, index // size)
    return out


def shard_index(component: str, prefix: str) -> int:
    """0 for `prefix`, n - 1 for `prefix-n` (the order shards depend on each other in)."""
    return 0 if component == prefix else int(component.rsplit("-", 1)[1]) - 1


def closed_groups(kind: Kind[Any], bp: Blueprint, describe: Callable[[str, Any], str]) -> Derived:
    """One security group per entry, named like its stack, without rules of its own: what may
    reach it comes from the relations others declare (`connects_to`, `uses`)."""
    entries = kind.entries(bp)
    return Derived(
        groups={
            kind.key(name): SecurityGroup(description=describe(name, model), ingress=[], egress=[])
            for name, model in entries.items()
        },
        sources={kind.key(name): (kind.section, name) for name in entries},
    )
