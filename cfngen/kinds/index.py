"""Which module holds each kind, known without importing any (generated, do not edit).

`cfngen.registry` loads only the kinds a blueprint uses; this says where each section's kind
lives, which kinds are implicit (loaded for every blueprint) and the sections' shapes, so the
kinds a blueprint does not use are never imported. Regenerate after adding or changing a kind:

    python -m cfngen.kinds.index

(tests/kinds/test_index.py fails, with this command, when the file is stale.)
"""

from __future__ import annotations

SECTIONS: dict[str, str] = {
    "network": "network",
    "security_groups": "security",
    "alerts": "alerts",
    "budget": "budget",
    "databases": "database",
    "caches": "cache",
    "search_domains": "search",
    "sites": "site",
    "certificates": "certificate",
    "dns": "dns",
    "repositories": "repository",
    "file_systems": "file_system",
    "buckets": "bucket",
    "queues": "queue",
    "topics": "topic",
    "oidc_providers": "oidc_provider",
    "cluster": "cluster",
    "load_balancers": "load_balancer",
    "services": "service",
    "tasks": "task",
    "apis": "api",
    "deploy_roles": "deploy_role",
    "hosts": "host",
    "alarms": "alarms",
}
"""Every kind's section, in planning order -> its module in cfngen.kinds."""

IMPLICIT: frozenset[str] = frozenset({"network", "security_groups", "alerts", "cluster"})
"""Sections whose kind plans or derives something even when a blueprint omits the section."""

SINGLETONS: frozenset[str] = frozenset({"network", "alerts", "budget", "dns", "cluster"})
"""Sections holding one block rather than named entries."""

SHAREABLE: tuple[str, ...] = ("dns", "repositories", "oidc_providers", "deploy_roles")
"""Sections the `shared` scope may hold, in planning order."""


def generate() -> str:
    """This module's text, from the kinds themselves."""
    from pathlib import Path

    from cfngen.registry import discover

    found = discover()
    kinds = [kind for _, kind in found]
    text = Path(__file__).read_text()
    head = text[: text.index("SECTIONS: dict[str, str] = {")]
    tail = text[text.index("\n\ndef generate() -> str:") :]

    def names(sections: list[str]) -> str:
        return ", ".join(f'"{s}"' for s in sections)

    body = "SECTIONS: dict[str, str] = {\n"
    for module, kind in found:
        body += f'    "{kind.section}": "{module}",\n'
    body += '}\n"""Every kind\'s section, in planning order -> its module in cfngen.kinds."""\n\n'
    implicit = [k.section for k in kinds if k.implicit]
    body += f"IMPLICIT: frozenset[str] = frozenset({{{names(implicit)}}})\n"
    body += (
        '"""Sections whose kind plans or derives something even when a blueprint omits the '
        'section."""\n\n'
    )
    singletons = [k.section for k in kinds if k.singleton]
    body += f"SINGLETONS: frozenset[str] = frozenset({{{names(singletons)}}})\n"
    body += '"""Sections holding one block rather than named entries."""\n\n'
    shareable = [k.section for k in kinds if k.shareable]
    comma = "," if len(shareable) == 1 else ""
    body += f"SHAREABLE: tuple[str, ...] = ({names(shareable)}{comma})\n"
    body += '"""Sections the `shared` scope may hold, in planning order."""\n'
    return head + body + tail


if __name__ == "__main__":
    from pathlib import Path

    Path(__file__).write_text(generate())
