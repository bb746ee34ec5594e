"""CloudFormation's per-stack quotas, checked when an environment is built (so at validate).

A stack over a quota renders fine and is refused by CreateChangeSet; the error names the stack
and the blueprint entries that fill it (through each resource's source stamp), so the user sees
which part of the blueprint to move or split.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cfngen.blueprint.source import Document, undotted
from cfngen.errors import Diagnostic

MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200
MAX_BODY_BYTES = 1_000_000
"""A template in S3 (TemplateURL); inline bodies are limited to 51,200 bytes, which cfngen's
deploy handles by uploading the template to its artifact bucket first."""


def _sources(section: dict[str, Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in section.values():
        source = (
            item.get("Metadata", {}).get("cfngen", {}).get("source")
            if isinstance(item, dict)
            else None
        )
        counts[str(source) if source else "(cfngen)"] += 1
    return counts


def check_stack_limits(
    component: str, body: dict[str, Any], text: str, doc: Document
) -> list[Diagnostic]:
    """Diagnostics for each quota the stack passes, at the entry that adds the most to it."""
    out: list[Diagnostic] = []
    resources = body.get("Resources", {})
    by_entry = _sources(resources)
    top = [entry for entry, _ in by_entry.most_common(5)]
    listed = ", ".join(f"{entry} ({n})" for entry, n in by_entry.most_common(5))
    where = doc.positions.key(undotted(top[0])) if top else doc.positions.value(())
    field = top[0] if top else ""
    checks = (
        (len(resources), MAX_RESOURCES, "resources", f"its resources come from {listed}"),
        (len(body.get("Outputs", {})), MAX_OUTPUTS, "outputs", ""),
        (len(body.get("Parameters", {})), MAX_PARAMETERS, "parameters", ""),
        (len(text.encode("utf-8")), MAX_BODY_BYTES, "bytes of template", f"from {listed}"),
    )
    for count, limit, what, detail in checks:
        if count > limit:
            out.append(
                Diagnostic(
                    where,
                    field,
                    f"stack {component} would have {count:,} {what}; CloudFormation allows "
                    f"{limit:,} per stack" + (f" ({detail})" if detail else ""),
                    "move components out of this stack or split the environment",
                )
            )
    return out
