"""Shell completion: environment names from the blueprint (or rendered folder) given before
`--env`, and check IDs with their titles. Completion never fails: a file that cannot be read
completes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem


def _rendered_environments(path: Path) -> list[str]:
    found: list[str] = []
    for manifest in (path / "manifest.json", *sorted(path.glob("*/manifest.json"))):
        try:
            found.append(str(json.loads(manifest.read_text(encoding="utf-8"))["environment"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def environments_of(path: Path) -> list[str]:
    """The environment names a blueprint file or a rendered folder offers."""
    if path.is_dir():
        return _rendered_environments(path)
    try:
        from cfngen.blueprint.environments import environment_names
        from cfngen.blueprint.source import load_file

        return [str(n) for n in environment_names(load_file(path))]
    except Exception:
        return []


def complete_env(ctx: click.Context, _param: Any, incomplete: str) -> list[CompletionItem]:
    given = ctx.params.get("blueprint") or ctx.params.get("path")
    # with `--env` last and still without its value, click leaves the words unparsed in ctx.args
    candidates = [given] if given else [a for a in ctx.args if not a.startswith("-")]
    for source in candidates:
        names = environments_of(Path(source))
        if names:
            return [CompletionItem(name) for name in names if name.startswith(incomplete)]
    return []


def complete_check(_ctx: click.Context, _param: Any, incomplete: str) -> list[CompletionItem]:
    from cfngen.checks import CHECKS

    return [
        CompletionItem(check.id, help=check.title)
        for check in CHECKS.values()
        if check.id.lower().startswith(incomplete.lower())
    ]
