"""Shared model pieces: the strict base model, names, CIDRs, ports, log retention.

Validators raise `fail(message, fix)`, a PydanticCustomError whose context carries the fix, so
the error translator (cfngen.blueprint.validate) can print "field: message (fix)".
"""

import difflib
import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

COMPLETED: list[Callable[[type[BaseModel]], None]] = []
"""Called with each model pydantic makes ready to validate: the schema cache
(cfngen/blueprint/schema_cache.py) learns from it which models a run completes on their own."""


class Model(BaseModel):
    """Base of every blueprint model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        coerce_numbers_to_str=True,
        defer_build=True,
    )

    @classmethod
    def __pydantic_on_complete__(cls) -> None:
        """pydantic's hook: this model's validator is built."""
        for observer in COMPLETED:
            observer(cls)


def fail(message: str, fix: str = "") -> PydanticCustomError:
    return PydanticCustomError("cfngen", message, {"fix": fix})


_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        suggestion = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "my-name"
        if not suggestion[0].isalpha():
            suggestion = f"c-{suggestion}"
        raise fail(
            f"invalid name '{value}': use lowercase letters, digits and single hyphens, "
            "starting with a letter",
            f"e.g. '{suggestion}'",
        )
    if len(value) > 32:
        raise fail(
            f"name '{value}' is {len(value)} characters long; at most 32 are allowed "
            "(it becomes part of stack, export and resource names)",
            "use a shorter name",
        )
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""A component name: lowercase, digits, hyphens; part of stack and export names."""


def _check_cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=False)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise fail(f"invalid CIDR '{value}'", "write an IPv4 network like 10.0.0.0/16") from None
    if "/" not in value:
        raise fail(f"invalid CIDR '{value}': the prefix length is missing", f"e.g. {value}/24")
    if str(net) != value:
        raise fail(f"invalid CIDR '{value}': host bits are set", f"did you mean {net}?")
    return value


Cidr = Annotated[str, AfterValidator(_check_cidr)]
Port = Annotated[int, Field(ge=1, le=65535)]

LogRetention = Literal[
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
]
"""The values CloudWatch Logs accepts for RetentionInDays."""

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


def _check_region(value: str) -> str:
    if not _REGION.match(value):
        raise fail(f"invalid AWS region '{value}'", "e.g. eu-west-1 or us-east-1")
    return value


Region = Annotated[str, AfterValidator(_check_region)]


def model_fields_of(annotation: Any) -> list[str]:
    """Field names (as written in YAML) of a model annotation; [] when not a model."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items()]
    return []


_CFNGEN_ID = re.compile(r"^CFG\d{3}$")
_CHECKOV_ID = re.compile(r"^CKV2?_[A-Z0-9_]+$")
_CFN_LINT_ID = re.compile(r"^[EWI]\d{4}$")
CHECK_ID_PATTERN = r"^(CFG\d{3}|CKV2?_[A-Z0-9_]+|[EWI]\d{4})$"
WAIVERS_DESCRIPTION = (
    "Accepted findings of cfngen lint (cfngen, cfn-lint or checkov check IDs), each with its "
    "reason; written into the rendered resources' Metadata."
)


def check_kind(check_id: str) -> Literal["cfngen", "cfn-lint", "checkov"] | None:
    """Which tool a check ID belongs to, by its spelling; None when it is no check ID."""
    if _CFNGEN_ID.match(check_id):
        return "cfngen"
    if _CFN_LINT_ID.match(check_id):
        return "cfn-lint"
    if _CHECKOV_ID.match(check_id):
        return "checkov"
    return None


def _check_id(value: str) -> str:
    kind = check_kind(value)
    if kind is None:
        upper = value.strip().upper().replace("-", "_")
        hint = f"did you mean '{upper}'? " if check_kind(upper) else ""
        raise fail(
            f"'{value}' is not a check ID",
            f"{hint}write a cfngen ID (CFG002, see `cfngen checks`), a cfn-lint rule ID "
            "(E3002, W1020, I3011) or a checkov ID (CKV_AWS_123, CKV2_AWS_5)",
        )
    if kind == "cfngen":
        from cfngen.checks import CHECKS

        if value not in CHECKS:
            ids = sorted(CHECKS)
            close = difflib.get_close_matches(value, ids, n=1, cutoff=0.6)
            listed = f"`cfngen checks` lists {ids[0]}..{ids[-1]}" if ids else "see `cfngen checks`"
            fix = f"did you mean {close[0]} ({CHECKS[close[0]].title})? " if close else ""
            raise fail(f"unknown cfngen check '{value}'", fix + listed)
    return value


class Waiver(Model):
    """An accepted finding of `cfngen lint`: the check it silences and why.

    cfngen writes it into the Metadata of the resources this component renders (or of the one
    `resource`): cfngen and cfn-lint IDs under `cfngen.waivers` (cfn-lint IDs also under
    `cfn-lint.config.ignore_checks`), checkov IDs under `checkov.skip`.
    """

    check: Annotated[str, AfterValidator(_check_id)] = Field(
        description="The check the finding comes from: a cfngen ID (CFG001..., see "
        "`cfngen checks`), a cfn-lint rule ID (E3002, W1020, I3011) or a checkov ID "
        "(CKV_AWS_123, CKV2_AWS_5).",
        json_schema_extra={"pattern": CHECK_ID_PATTERN},
    )
    reason: str = Field(
        min_length=10,
        description="Why the finding is accepted here; shown beside the waived finding in "
        "`cfngen lint` and in the template.",
    )
    resource: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9]+$",
        description="Logical ID of one resource this component renders, e.g. Listener80 "
        "(default: every resource of the component). `cfngen render` shows the IDs.",
    )


_ENV_VAR = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Use(Model):
    """Access to another component: what the user's role may do with it (and, for file
    systems, the network path to it), granted by the used component's kind.

    Access levels by kind: buckets `read` or `read-write` (optionally under a `prefix`), queues
    `send` or `consume`, topics `publish`. File systems are used by mounting them (`volumes`).
    """

    component: Name = Field(description="The component used: a bucket, queue or topic.")
    access: str = Field(
        pattern=r"^[a-z][a-z-]*$",
        description="How: read or read-write (buckets), send or consume (queues), publish "
        "(topics).",
    )
    prefix: str | None = Field(
        None,
        pattern=r"^([A-Za-z0-9!_.*'()/-]+/)?$",
        description="Buckets: only keys under this prefix, e.g. results/.",
    )
    env: str | None = Field(
        None,
        pattern=_ENV_VAR,
        description="An environment variable that receives the component's address: a "
        "bucket's name, a queue's URL, a topic's ARN.",
    )

    def options(self) -> dict[str, str]:
        return {"prefix": self.prefix} if self.prefix is not None else {}


USES_DESCRIPTION = (
    "Components this one uses, and how: `{component: jobs, access: send}`. The used kind grants "
    "exactly that access (IAM statements on its own ARNs) and the stack deploys after it."
)
