"""What a cfngen security check is, and the defensive view of a template every check reads.

A check is one small function with an ID (`CFG001` ...), a one-line title, why it matters, a link
to the AWS guidance it follows and a severity. It reads one parsed template through
`TemplateView` and yields `(logical id, message)` for each weakness it finds. Checks never see
the blueprint: they run the same on templates cfngen wrote and on templates it did not, so
every read goes through helpers that tolerate any shape (an intrinsic where a list was expected,
a parameter where a port was expected) instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]
Hit = tuple[str, str]  # (logical id of the resource or output, message)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    why: str
    source: str  # the AWS guidance the check follows
    severity: Severity
    section: Literal["Resources", "Outputs"]
    run: Callable[[Any], Iterator[Any]]
    # "template": run(TemplateView) yields Hit; "environment": run(verify Environment) yields
    # (component, logical id, message) and reads every stack of the environment together
    scope: Literal["template", "environment"] = "template"


CHECKS: dict[str, Check] = {}
_ID = re.compile(r"^CFG\d{3}$")


def check(
    id: str,
    title: str,
    *,
    why: str,
    source: str,
    severity: Severity = "error",
    section: Literal["Resources", "Outputs"] = "Resources",
    scope: Literal["template", "environment"] = "template",
) -> Callable[[Callable[[Any], Iterator[Any]]], Callable[[Any], Iterator[Any]]]:
    """Register a check function under `id`."""
    if not _ID.match(id) or id in CHECKS:
        raise ValueError(f"bad or duplicate check ID {id}")

    def register(fn: Callable[[Any], Iterator[Any]]) -> Callable[[Any], Iterator[Any]]:
        CHECKS[id] = Check(id, title, why, source, severity, section, fn, scope)
        return fn

    return register


# --- reading any template safely -------------------------------------------------------------


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A list as written; a single value (CloudFormation allows one for Action, Resource...) is
    a list of one; an intrinsic or nothing is an empty list."""
    if isinstance(value, list):
        return value
    if value is None or (isinstance(value, dict) and _intrinsic(value)):
        return []
    return [value]


def branches(value: Any) -> list[Any]:
    """The items of a list as any condition could make it: `Fn::If` (around the list or an
    item) contributes both branches; `AWS::NoValue` contributes nothing."""
    if isinstance(value, dict) and list(value) == ["Fn::If"]:
        args = value["Fn::If"]
        if isinstance(args, list) and len(args) == 3:
            return branches(args[1]) + branches(args[2])
        return []
    if isinstance(value, dict) and value.get("Ref") == "AWS::NoValue":
        return []
    out: list[Any] = []
    for item in as_list(value):
        if isinstance(item, dict) and list(item) == ["Fn::If"]:
            out.extend(branches(item))
        elif not (isinstance(item, dict) and item.get("Ref") == "AWS::NoValue"):
            out.append(item)
    return out


def _intrinsic(value: dict[str, Any]) -> bool:
    return (len(value) == 1 and next(iter(value)) in ("Ref", "Condition")) or any(
        str(k).startswith("Fn::") for k in value
    )


def as_int(value: Any) -> int | None:
    """A port or count written as a number or a numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


@dataclass(frozen=True)
class Resource:
    id: str
    type: str
    props: dict[str, Any]
    metadata: dict[str, Any]
    body: dict[str, Any]


class TemplateView:
    """One parsed template; `production` says whether the environment is marked production."""

    def __init__(
        self,
        template: Any,
        production: bool = False,
        public_groups: dict[str, set[int]] | None = None,
    ) -> None:
        self.template = as_dict(template)
        self.production = production or self._marked_production()
        # groups of this template that guard an internet-facing load balancer of another
        # template of the same environment -> its listener ports (cfngen.verify.balancers)
        self.public_groups: dict[str, set[int]] = public_groups or {}
        self.resources: dict[str, Resource] = {}
        for name, res in as_dict(self.template.get("Resources")).items():
            if isinstance(res, dict) and isinstance(res.get("Type"), str):
                self.resources[str(name)] = Resource(
                    str(name),
                    res["Type"],
                    as_dict(res.get("Properties")),
                    as_dict(res.get("Metadata")),
                    res,
                )
        self.outputs: dict[str, dict[str, Any]] = {
            str(k): v
            for k, v in as_dict(self.template.get("Outputs")).items()
            if isinstance(v, dict)
        }

    def resolved(self, value: Any) -> Any:
        """A `Ref` to a template parameter as that parameter's default (the value a deploy
        without overrides uses); anything else unchanged."""
        ref = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
        params = as_dict(self.template.get("Parameters"))
        if isinstance(ref, str) and ref in params:
            return as_dict(params[ref]).get("Default", value)
        return value

    def _marked_production(self) -> bool:
        meta = as_dict(as_dict(self.template.get("Metadata")).get("cfngen"))
        return meta.get("production") is True

    def of_type(self, *types: str) -> Iterator[Resource]:
        for res in self.resources.values():
            if res.type in types:
                yield res

    def target(self, value: Any, *types: str) -> Resource | None:
        """The resource of this template that `value` names by Ref or GetAtt, if of `types`."""
        value = as_dict(value)
        name: Any = None
        if "Ref" in value:
            name = value["Ref"]
        elif "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            name = att[0] if isinstance(att, list) and att else str(att).split(".")[0]
        res = self.resources.get(str(name)) if isinstance(name, str) else None
        return res if res is not None and (not types or res.type in types) else None


def statements(policy: Any) -> list[dict[str, Any]]:
    """The statements of a policy document that are plain mappings."""
    return [s for s in as_list(as_dict(policy).get("Statement")) if isinstance(s, dict)]


def policy_documents(res: Resource) -> Iterator[dict[str, Any]]:
    """Every identity policy document a resource carries (roles, users, groups, policies)."""
    if res.type in (
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::GroupPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::UserPolicy",
    ):
        yield as_dict(res.props.get("PolicyDocument"))
    if res.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for p in as_list(res.props.get("Policies")):
            yield as_dict(as_dict(p).get("PolicyDocument"))


IDENTITY_POLICY_TYPES = (
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
)


def strings(value: Any) -> Iterator[str]:
    """Every string inside a value, intrinsics included (for text searches)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
