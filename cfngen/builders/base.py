"""What every builder gets and gives.

A planner looks at the typed blueprint and returns the stacks its component kind needs
(`StackPlan`), each with the components it depends on, derived from typed references. A builder
is a pure function `build(spec, ctx)` that adds troposphere resources and outputs to
`ctx.template`; it never calls AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from msgspec import Struct, field
from troposphere import AWSObject, Export, GetAtt, Parameter, Ref, Tags, Template
from troposphere import Output as CfnOutput

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.source import Path_
from cfngen.kinds.base import Facts
from cfngen.stacks import (
    ENV_PARAM,
    Output,
    export_name,
    import_value,
    physical_name,
    resolved_export_name,
)

S = TypeVar("S")


class StackPlan(Struct, Generic[S], frozen=True):
    """One stack to render: its component key, the typed spec, and what it depends on."""

    component: str
    title: str  # human description, e.g. "ECS service payload"
    build: Callable[[S, Context], None]
    spec: S
    depends_on: tuple[str, ...] = ()
    source: Path_ = ()  # where in the blueprint this component is declared
    capabilities: tuple[str, ...] = ()
    dependency_sources: dict[str, Path_] = field(default_factory=dict)  # dep -> field that made it
    region: str | None = None  # deploy region when not the blueprint's (CloudFront certificates)


class UnboundedTemplate(Template):
    """troposphere's Template without its per-stack quota checks (500 resources, 200 outputs,
    200 parameters): it raises a bare ValueError in the middle of a build, where cfngen.limits
    reports the same quotas afterwards with the blueprint entries that fill the stack."""

    def add_resource(self, resource: Any) -> Any:
        return self._update(self.resources, resource)

    def add_output(self, output: Any) -> Any:
        return self._update(self.outputs, output)

    def add_parameter(self, parameter: Any) -> Any:
        return self._update(self.parameters, parameter)


class UndeclaredDependency(AssertionError):
    """A builder imported from a stack its planner did not declare: a cfngen bug."""


class Context:
    """Everything a builder may use: the blueprint, the environment and the template."""

    def __init__(
        self,
        blueprint: Blueprint,
        env: str,
        env_name: str,
        component: str,
        depends_on: Sequence[str],
        description: str,
        facts: Facts,
    ) -> None:
        self.blueprint = blueprint
        self.facts = facts
        self.env = env
        self.env_name = env_name
        self.component = component
        self.depends_on = frozenset(depends_on)
        self.template = UnboundedTemplate(Description=description)
        self.template.set_version("2010-09-09")
        # more keys of the template's `Metadata.cfngen`, for readers of the rendered stacks
        self.template_metadata: dict[str, Any] = {}
        self.lint_ignores: dict[str, str] = {}  # cfn-lint rule -> why cfngen writes it so
        self.env_param = self.template.add_parameter(
            Parameter(
                ENV_PARAM,
                Type="String",
                Default=env_name,
                AllowedPattern="^[A-Za-z][A-Za-z0-9-]*$",
                Description="Names every resource and export of this environment.",
            )
        )
        self.imports: set[Output] = set()
        self.exports: set[Output] = set()
        self.sources: dict[str, Path_] = {}  # logical id -> blueprint entry, when finer
        self.accesses: list[dict[str, str]] = []  # what a role of this stack must be able to do

    # -- references --------------------------------------------------------------------

    def import_value(self, component: str, name: str) -> Any:
        """`Fn::ImportValue` of another stack's output; the edge must be in the plan."""
        if component not in self.depends_on:
            raise UndeclaredDependency(
                f"stack {self.component} imports {component}.{name} but its plan does not "
                f"depend on {component}"
            )
        out = Output(component, name)
        self.imports.add(out)
        return import_value(out)

    def export(self, name: str, value: Any, description: str) -> None:
        """An output exported as `${EnvironmentName}-<this component>-<name>`."""
        out = Output(self.component, name)
        self.exports.add(out)
        self.template.add_output(
            CfnOutput(name, Description=description, Value=value, Export=Export(export_name(out)))
        )

    def output(self, name: str, value: Any, description: str) -> None:
        """An output that is not exported (for people, `cfngen outputs`)."""
        self.template.add_output(CfnOutput(name, Description=description, Value=value))

    def access(self, role: str, need: str, resource: Any, source: Path_, **extra: str) -> None:
        """Record that role `role` (a logical id of this stack) needs `need` on `resource` (an
        Output of another stack, a resource of this stack by logical id as `ref:<id>`, or an
        ARN or name), as declared at `source`: `cfngen verify` derives the actions from the
        need and proves the rendered policies allow them (manifest.json `accesses`)."""
        if isinstance(resource, Output):
            resource = f"export:{resolved_export_name(self.env_name, resource)}"
        self.accesses.append(
            {
                "role": f"{self.component}/{role}",
                "need": need,
                "resource": str(resource),
                **{k: v for k, v in sorted(extra.items()) if v},
                "source": ".".join(map(str, source)),
            }
        )

    # -- helpers -----------------------------------------------------------------------

    def add(self, resource: AWSObject, source: Path_ | None = None) -> AWSObject:
        """Add a resource; `source` is the blueprint entry that produced it when that is finer
        than the stack's component (a route, an alarm, one security group)."""
        if source is not None:
            self.sources[resource.title] = source
        return self.template.add_resource(resource)

    def name(self, suffix: str) -> Any:
        return physical_name(suffix)

    def name_tag(self, suffix: str, **extra: str) -> Tags:
        return Tags(Name=physical_name(suffix), **extra)

    @property
    def env_ref(self) -> Ref:
        return Ref(self.env_param)


_ = GetAtt  # re-exported for builders
