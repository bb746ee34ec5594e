"""Explicit security groups; rules name other groups, never group IDs."""

from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from cfngen.blueprint.models.common import (
    WAIVERS_DESCRIPTION,
    Cidr,
    Model,
    Name,
    Port,
    Waiver,
    fail,
)
from cfngen.blueprint.models.network import FromExport, FromParameter, existing_ids

Protocol = Literal["tcp", "udp", "icmp", "all"]


class _Rule(Model):
    description: str = Field(
        min_length=1, max_length=255, description="Why this rule exists (required)."
    )
    protocol: Protocol = Field("tcp", description="tcp, udp, icmp or all.")
    port: Port | None = Field(None, description="A single port.")
    ports: str | None = Field(None, description="A port range 'FROM-TO', e.g. '8000-8100'.")
    cidr: Cidr | None = Field(None, description="An IPv4 CIDR peer.")
    prefix_list: str | None = Field(None, description="A managed prefix list ID peer.")

    def port_range(self) -> tuple[int, int]:
        if self.protocol == "all":
            return (-1, -1)
        if self.port is not None:
            return (self.port, self.port)
        if self.ports is not None:
            low, high = self.ports.split("-")
            return (int(low), int(high))
        return (-1, -1)

    def _check_ports(self) -> None:
        if self.port is not None and self.ports is not None:
            raise fail("give either `port` or `ports`, not both", "remove one of them")
        if self.protocol in ("tcp", "udp") and self.port is None and self.ports is None:
            raise fail(
                f"a {self.protocol} rule needs `port` or `ports`",
                "add e.g. `port: 443`, or use `protocol: all`",
            )
        if self.ports is not None:
            low, sep, high = self.ports.partition("-")
            if not (sep and low.isdigit() and high.isdigit()):
                raise fail(
                    f"invalid port range '{self.ports}'", "write it as FROM-TO, e.g. 8000-8100"
                )
            if not 1 <= int(low) <= int(high) <= 65535:
                raise fail(
                    f"invalid port range '{self.ports}'",
                    "ports are 1-65535 and FROM must not exceed TO",
                )


class IngressRule(_Rule):
    """Inbound traffic from another group (`from`), a CIDR or a prefix list."""

    from_: Name | None = Field(None, alias="from", description="Source security group name.")

    @model_validator(mode="after")
    def _one_peer(self) -> Self:
        self._check_ports()
        peers = [p for p in (self.from_, self.cidr, self.prefix_list) if p is not None]
        if len(peers) != 1:
            raise fail(
                "an ingress rule needs exactly one of `from`, `cidr` or `prefix_list`",
                "e.g. `from: alb` or `cidr: 10.0.0.0/8`",
            )
        return self


class EgressRule(_Rule):
    """Outbound traffic to another group (`to`), a CIDR or a prefix list."""

    to: Name | None = Field(None, description="Destination security group name.")

    @model_validator(mode="after")
    def _one_peer(self) -> Self:
        self._check_ports()
        peers = [p for p in (self.to, self.cidr, self.prefix_list) if p is not None]
        if len(peers) != 1:
            raise fail(
                "an egress rule needs exactly one of `to`, `cidr` or `prefix_list`",
                "e.g. `to: db` or `cidr: 0.0.0.0/0`",
            )
        return self


class ExistingGroup(Model):
    """A security group that already exists (a platform team's, a shared database's): cfngen
    writes rules on it as separate resources and never creates, changes or deletes the group."""

    id: str | FromExport | FromParameter = Field(
        description="sg-..., {import: export}, or {ssm: /parameter}."
    )
    ports: list[Port] = Field(
        default_factory=list,
        description="TCP ports a `connects_to` naming this group opens on it (default: none, "
        "and then it is no connection target).",
    )

    @field_validator("id")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return existing_ids(value, "sg")


class SecurityGroup(Model):
    """A security group in the shared `security` stack.

    `egress` omitted keeps AWS's default (all outbound traffic), written out as a described rule;
    `egress: []` allows no outbound traffic at all. An `existing` group is not created: its
    `ingress` (and the rules relations add) become separate rule resources on it.
    """

    description: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="What the group is for (required unless `existing`).",
    )
    ingress: list[IngressRule] = Field(default_factory=list, description="Inbound rules.")
    egress: list[EgressRule] | None = Field(None, description="Outbound rules (default: all).")
    existing: ExistingGroup | None = Field(
        None,
        description="Write rules on a group that already exists instead of creating one.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _owned_or_existing(self) -> Self:
        if self.existing is None:
            if self.description is None:
                raise fail("a security group needs a `description`", "say what the group is for")
            return self
        for owned in ("description", "egress"):
            if owned in self.model_fields_set:
                raise fail(
                    f"`{owned}` belongs to the group's owner; this group exists",
                    f"remove `{owned}` (cfngen only adds rules to an existing group)",
                )
        return self
