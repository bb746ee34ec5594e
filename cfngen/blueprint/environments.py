"""Environment selection: the base document deep-merged with `environments.<env>`.

Mappings merge key by key; lists and scalars replace. Positions follow the data: a value taken
from the overlay keeps the overlay's file:line:col, so prod-only mistakes point at prod's lines.
"""

from __future__ import annotations

from typing import Any

from cfngen.blueprint.source import Document, Positions
from cfngen.errors import BlueprintError, Diagnostic


def deep_merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return overlay


def select_environment(doc: Document, env: str) -> Document:
    """The document as environment `env` sees it; an unknown environment is a BlueprintError."""
    data = doc.data if isinstance(doc.data, dict) else {}
    envs = data.get("environments")
    if not isinstance(envs, dict) or env not in envs:
        known = sorted(envs) if isinstance(envs, dict) else []
        where = doc.positions.key(("environments",)) or doc.positions.value(())
        fix = (
            f"use one of: {', '.join(known)}"
            if known
            else f"add `environments: {{{env}: {{}}}}` to the blueprint"
        )
        raise BlueprintError(
            [Diagnostic(where, "environments", f"unknown environment '{env}'", fix)]
        )
    overlay = envs[env]
    if overlay is None:
        overlay = {}
    if not isinstance(overlay, dict):
        raise BlueprintError(
            [
                Diagnostic(
                    doc.positions.value(("environments", env)),
                    f"environments.{env}",
                    f"expected a mapping of overrides, got {type(overlay).__name__}",
                    "write the overrides as `key: value` lines, or `{}` for none",
                )
            ]
        )
    base = {k: v for k, v in data.items() if k != "environments"}
    merged = deep_merge(base, overlay)
    merged["environments"] = envs
    base_pos = Positions(
        values={p: m for p, m in doc.positions.values.items()},
        keys={p: m for p, m in doc.positions.keys.items()},
    )
    positions = base_pos.overlay(doc.positions.subtree(("environments", env)))
    return Document(data=merged, positions=positions, file=doc.file)


def environment_names(doc: Document) -> list[str]:
    envs = doc.data.get("environments") if isinstance(doc.data, dict) else None
    return list(envs) if isinstance(envs, dict) else []
