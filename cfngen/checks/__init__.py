"""cfngen's own security checks: what its security baseline asks for and checkov and cfn-lint miss.

`CHECKS` maps each ID to its `Check` (title, why, AWS guidance, severity, function), in ID order.
"""

from __future__ import annotations

from cfngen.checks import (
    apis,
    capabilities,
    data,
    ecs,
    egress,
    grants,
    iam,
    network,
    relations,
    scopes,
    wiring,
)
from cfngen.checks.base import CHECKS as _REGISTERED
from cfngen.checks.base import Check, Hit, Resource, TemplateView

CHECKS: dict[str, Check] = dict(sorted(_REGISTERED.items()))

__all__ = [
    "CHECKS",
    "Check",
    "Hit",
    "Resource",
    "TemplateView",
    "apis",
    "capabilities",
    "data",
    "ecs",
    "egress",
    "grants",
    "iam",
    "markdown_table",
    "network",
    "relations",
    "scopes",
    "wiring",
]


def markdown_table() -> str:
    """The catalog as docs/lint.md prints it (a test keeps the two equal)."""
    rows = ["| ID | severity | finding | why | AWS guidance |", "|---|---|---|---|---|"]
    for c in CHECKS.values():
        why = c.why.replace("|", "\\|")
        rows.append(f"| {c.id} | {c.severity} | {c.title} | {why} | <{c.source}> |")
    return "\n".join(rows)
