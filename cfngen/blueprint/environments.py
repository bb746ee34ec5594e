"""Environment selection: the base document deep-merged with `environments.<env>`.

Mappings merge key by key; lists and scalars replace. Positions follow the data: a value taken
from the overlay keeps the overlay's file:line:col, so prod-only mistakes point at prod's lines.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from cfngen.blueprint.source import Document, Positions
from cfngen.errors import BlueprintError, Diagnostic

SHARED = "shared"
"""The environment name of the blueprint's `shared` scope."""

_KEPT_IN_SHARED = ("blueprint", "description", "tags", "vars")
"""What the shared scope takes from the top level; components come from `shared:` itself."""


def deep_merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return overlay


Share = Callable[[dict[str, Any], list[str]], dict[str, Any]]
"""How a section's shared entry admits the environments' accounts (a kind's `share`)."""


def select_environment(
    doc: Document, env: str, shareable: Mapping[str, Share | None] | None = None
) -> Document:
    """The document as environment `env` sees it; an unknown environment is a BlueprintError.

    `shareable`: the sections the `shared` scope may hold, each with how its entries admit the
    environments' accounts (the compiler passes the kinds' answer; this layer knows no kind)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    envs = data.get("environments")
    if env == SHARED and isinstance(data.get(SHARED), dict):
        if isinstance(envs, dict) and SHARED in envs:
            raise BlueprintError(
                [
                    Diagnostic(
                        doc.positions.key(("environments", SHARED)),
                        f"environments.{SHARED}",
                        f"'{SHARED}' names the blueprint's shared scope, not an environment",
                        "rename the environment",
                    )
                ]
            )
        return _shared_document(doc, data, shareable or {})
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
    if SHARED in overlay:
        raise BlueprintError(
            [
                Diagnostic(
                    doc.positions.key(("environments", env, SHARED)),
                    f"environments.{env}.{SHARED}",
                    "the shared scope is the same for every environment",
                    "declare shared components once, under the top-level `shared:`",
                )
            ]
        )
    base = {k: v for k, v in data.items() if k != "environments"}
    if isinstance(base.get(SHARED), dict) and "region" not in base[SHARED]:
        # environments may change `region`; the shared scope stays where the blueprint is
        base[SHARED] = {**base[SHARED], "region": data.get("region")}
    merged = deep_merge(base, overlay)
    merged["environments"] = envs
    base_pos = Positions(
        values={p: m for p, m in doc.positions.values.items()},
        keys={p: m for p, m in doc.positions.keys.items()},
    )
    positions = base_pos.overlay(doc.positions.subtree(("environments", env)))
    return Document(data=merged, positions=positions, file=doc.file)


def _environment_accounts(data: dict[str, Any]) -> list[str]:
    """Every environment's `deploy.account` (the top level's where an environment sets none)."""
    base = data.get("deploy")
    default = base.get("account") if isinstance(base, dict) else None
    found: list[str] = []
    envs = data.get("environments")
    for overlay in envs.values() if isinstance(envs, dict) else ():
        deploy = overlay.get("deploy") if isinstance(overlay, dict) else None
        account = deploy.get("account", default) if isinstance(deploy, dict) else default
        if isinstance(account, str | int) and str(account) not in found:
            found.append(str(account))
    return found


def _shared_document(
    doc: Document, data: dict[str, Any], shareable: Mapping[str, Share | None]
) -> Document:
    """The `shared` scope as a document of its own: the top level's name, tags and vars, the
    scope's region and deploy target, and its components. Repositories admit every
    environment's account (the scope's own account is left out when the stacks are built)."""
    scope = data[SHARED]
    out: dict[str, Any] = {k: data[k] for k in _KEPT_IN_SHARED if k in data}
    out["region"] = scope.get("region", data.get("region"))
    out["deploy"] = scope.get("deploy") or {}
    for section, value in scope.items():
        if section in shareable:
            out[section] = copy.deepcopy(value)
        elif section not in ("region", "deploy"):
            import difflib

            close = difflib.get_close_matches(str(section), sorted(shareable), n=1)
            raise BlueprintError(
                [
                    Diagnostic(
                        doc.positions.key((SHARED, section)),
                        f"{SHARED}.{section}",
                        f"'{section}' cannot be shared",
                        f"did you mean '{close[0]}'?"
                        if close
                        else "the shared scope holds region, deploy and "
                        + ", ".join(sorted(shareable)),
                    )
                ]
            )
    accounts = _environment_accounts(data)
    for section, share in shareable.items():  # each kind admits the accounts its own way
        entries = out.get(section)
        if share is not None and isinstance(entries, dict):
            out[section] = {
                name: share(entry, accounts) if isinstance(entry, dict) else entry
                for name, entry in entries.items()
            }
    out["environments"] = {SHARED: None}
    positions = Positions(values=dict(doc.positions.values), keys=dict(doc.positions.keys))
    positions = positions.overlay(doc.positions.subtree((SHARED,)))
    return Document(data=out, positions=positions, file=doc.file)


def environment_names(doc: Document) -> list[str]:
    """The blueprint's environments, and `shared` first when it declares a shared scope."""
    data = doc.data if isinstance(doc.data, dict) else {}
    envs = data.get("environments")
    names = list(envs) if isinstance(envs, dict) else []
    if isinstance(data.get(SHARED), dict) and SHARED not in names:
        names.insert(0, SHARED)
    return names
