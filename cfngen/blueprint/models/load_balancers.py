"""Load balancers: application (HTTP/HTTPS, path and host rules) and network (TCP/TLS)."""

import difflib
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from cfngen.blueprint.aws_facts import TLS12_POLICIES, WEAK_POLICIES
from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Cidr, Model, Port, Waiver, fail

DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
_CERT = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$"
_CERT_OR_NAME = (
    r"^(arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+|[a-z][a-z0-9-]*)$"
)


def _check_ssl_policy(value: str) -> str:
    if value in WEAK_POLICIES:
        raise fail(
            f"TLS policy '{value}' is not a TLS 1.2+ policy",
            f"use {DEFAULT_SSL_POLICY} or another ELBSecurityPolicy-TLS13-1-2-* policy",
        )
    if value not in TLS12_POLICIES:
        close = difflib.get_close_matches(value, sorted(TLS12_POLICIES), n=1, cutoff=0.9)
        raise fail(
            f"'{value}' is not a predefined ELB security policy that allows only TLS 1.2+",
            f"did you mean {close[0]}?"
            if close
            else f"use {DEFAULT_SSL_POLICY} or another ELBSecurityPolicy-TLS13-1-2-* policy",
        )
    return value


SslPolicy = Annotated[str, AfterValidator(_check_ssl_policy)]


class NlbListener(Model):
    """A network load balancer listener; each forwards to the one service routed to it."""

    port: Port = Field(description="Listener port.")
    protocol: Literal["TCP", "TLS"] = Field("TCP", description="TCP or TLS (needs certificate).")
    certificate: str | None = Field(None, pattern=_CERT, description="ACM certificate ARN (TLS).")

    @model_validator(mode="after")
    def _tls(self) -> Self:
        if self.protocol == "TLS" and self.certificate is None:
            raise fail("a TLS listener needs `certificate`", "give an ACM certificate ARN")
        if self.protocol == "TCP" and self.certificate is not None:
            raise fail("a certificate needs protocol TLS", "set protocol: TLS")
        return self


class AccessLogs(Model):
    """Access logs to an existing S3 bucket that allows ELB log delivery."""

    bucket: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="Existing bucket name."
    )
    prefix: str = Field("", pattern=r"^[A-Za-z0-9/_.-]*$", description="Key prefix.")


class LoadBalancer(Model):
    """One load balancer in its own stack `lb-<name>`, with its own security group.

    Target groups, listeners and rules for every service routed to it live in this stack, so
    rule priorities are decided in one place (most specific first) and stay deterministic.
    """

    type: Literal["application", "network"] = Field(description="application or network.")
    scheme: Literal["internet-facing", "internal"] = Field(
        "internal", description="internet-facing (public subnets) or internal (private)."
    )
    certificate: str | None = Field(
        None,
        pattern=_CERT_OR_NAME,
        description="ALB: ACM certificate for the HTTPS listener: an ARN, or the name of one "
        "in `certificates` (cfngen creates and validates it).",
    )
    ssl_policy: SslPolicy = Field(
        DEFAULT_SSL_POLICY, description="TLS policy of HTTPS/TLS listeners (TLS 1.2+ only)."
    )
    redirect_http: bool = Field(
        True, description="ALB with certificate: port 80 redirects to HTTPS."
    )
    plain_http_reason: str | None = Field(
        None,
        min_length=10,
        description="ALB without certificate: why plain HTTP is acceptable (required then).",
    )
    listeners: list[NlbListener] = Field(
        default_factory=list, description="NLB listeners (ALB listeners are derived)."
    )
    ingress_cidrs: list[Cidr] | None = Field(
        None,
        min_length=1,
        description="Who may reach the listeners (default: 0.0.0.0/0 when internet-facing, "
        "nobody but declared relations when internal).",
    )
    idle_timeout: int = Field(60, ge=1, le=4000, description="ALB idle timeout in seconds.")

    @property
    def certificate_entry(self) -> str | None:
        """The `certificates` entry `certificate` names (None for an ARN, or no certificate)."""
        cert = self.certificate
        return None if cert is None or cert.startswith("arn:") else cert

    deletion_protection: bool = Field(False, description="Turn on in production.")
    access_logs: AccessLogs | None = Field(None, description="S3 access logs.")
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)
    elb_5xx_count: int | None = Field(
        10,
        ge=1,
        description="Application load balancer: alarm when the load balancer itself answers "
        "with more 5xx (HTTPCode_ELB_5XX_Count, e.g. no healthy target) per 5 minutes than "
        "this, twice in a row; needs `alerts` (null: off).",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.type == "application":
            if self.listeners:
                raise fail(
                    "`listeners` are for network load balancers; an ALB gets HTTPS (and an "
                    "HTTP redirect) from `certificate`",
                    "remove `listeners`",
                )
            if self.certificate is None and self.plain_http_reason is None:
                raise fail(
                    "an application load balancer without `certificate` serves plain HTTP; "
                    "say why with `plain_http_reason`",
                    "add certificate: arn:aws:acm:..., or plain_http_reason: <why>",
                )
            if self.certificate is not None and self.plain_http_reason is not None:
                raise fail("`plain_http_reason` applies only without a certificate", "remove it")
        else:
            if not self.listeners:
                raise fail(
                    "a network load balancer needs `listeners`", "e.g. listeners: [{port: 80}]"
                )
            ports = [lst.port for lst in self.listeners]
            dupes = sorted({p for p in ports if ports.count(p) > 1})
            if dupes:
                raise fail(f"listener port {dupes[0]} is declared twice", "remove one")
            if self.certificate is not None or self.plain_http_reason is not None:
                raise fail(
                    "`certificate` and `plain_http_reason` are for application load balancers",
                    "put the certificate on a TLS listener",
                )
        return self

    @property
    def https(self) -> bool:
        return self.type == "application" and self.certificate is not None

    def listener_ports(self) -> list[int]:
        if self.type == "network":
            return [lst.port for lst in self.listeners]
        if self.https:
            return [443, 80] if self.redirect_http else [443]
        return [80]

    @property
    def main_port(self) -> int:
        return self.listener_ports()[0]
