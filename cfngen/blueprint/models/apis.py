"""API Gateway in front of a private load balancer through a VPC link."""

import re
from typing import Literal, Self

from pydantic import Field, model_validator

from cfngen.blueprint.models.common import (
    WAIVERS_DESCRIPTION,
    LogRetention,
    Model,
    Name,
    Port,
    Waiver,
    fail,
)

_PARAM = re.compile(r"\{([A-Za-z0-9_]+)\+?\}")
Method = Literal["ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class ApiRoute(Model):
    """One path proxied to a load balancer listener (HTTP_PROXY).

    `target` is the path on the load balancer side; path parameters (`{proxy+}`, `{id}`) are
    mapped from the request by name, e.g. path `/backend/{proxy+}` with target `/{proxy}`.
    """

    path: str = Field(
        pattern=r"^/([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\+?\})?(/([A-Za-z0-9._-]+|\{[A-Za-z0-9_]+\+?\}))*$",
        description="Request path, e.g. /, /frontend, /backend/{proxy+}.",
    )
    method: Method = Field("ANY", description="HTTP method.")
    listener: Port | None = Field(
        None, description="Listener port on the load balancer (default: its first)."
    )
    target: str | None = Field(
        None,
        pattern=r"^/[A-Za-z0-9._/{}-]*$",
        description="Path on the load balancer (default: the request path).",
    )

    @model_validator(mode="after")
    def _params(self) -> Self:
        params = _PARAM.findall(self.path)
        for i, seg in enumerate(self.path.split("/")):
            if seg.endswith("+}") and i != len(self.path.split("/")) - 1:
                raise fail("a greedy {param+} must be the last path segment", "move it to the end")
        for used in _PARAM.findall(self.target or ""):
            if used not in params:
                raise fail(
                    f"target uses {{{used}}}, which the path does not define",
                    f"path parameters: {', '.join(params) or 'none'}",
                )
        return self

    def path_parameters(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def target_path(self) -> str:
        return self.target if self.target is not None else self.path.replace("+}", "}")


class Api(Model):
    """An API Gateway API in its own stack `api-<name>`.

    `rest` (API Gateway v1, regional) reaches a network load balancer through an
    AWS::ApiGateway::VpcLink; `http` (v2) reaches an ALB or NLB listener through a v2 VPC link
    with its own security group.
    """

    type: Literal["rest", "http"] = Field(description="rest (v1) or http (v2).")
    load_balancer: Name = Field(description="The private load balancer behind the API.")
    routes: list[ApiRoute] = Field(min_length=1, description="Paths proxied to it.")
    stage: str = Field(
        "live", pattern=r"^[A-Za-z0-9_]{1,64}$", description="Stage name (REST; part of the URL)."
    )
    public_reason: str = Field(
        min_length=10,
        description="Why the methods take no authorisation (the API is a public entry point).",
    )
    server_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9*.-]+$",
        description="HTTP API to an HTTPS listener: the name on the load balancer's "
        "certificate, verified by API Gateway (TLS all the way to the load balancer).",
    )
    throttle_rate: float = Field(100, gt=0, description="Steady-state requests per second.")
    throttle_burst: int = Field(200, ge=1, description="Burst requests.")
    log_retention_days: LogRetention = Field(90, description="Access log retention.")
    log_kms_key_arn: str | None = Field(None, description="KMS key for the access log group.")
    tracing: bool = Field(True, description="X-Ray tracing (REST).")
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen = [(r.path, r.method) for r in self.routes]
        dupes = sorted({s for s in seen if seen.count(s) > 1})
        if dupes:
            raise fail(f"route {dupes[0][1]} {dupes[0][0]} is declared twice", "remove one")
        return self
