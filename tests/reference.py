"""The reference blueprints and their environments, found on disk (shared by tests and tools)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"
GOLDEN = ROOT / "tests" / "golden"


def reference_cases() -> list[tuple[Path, str]]:
    """(blueprint path, environment) for every reference blueprint and environment."""
    cases = []
    for path in sorted(BLUEPRINTS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        shared = ["shared"] if isinstance(data.get("shared"), dict) else []
        for env in [*shared, *data.get("environments", {})]:
            cases.append((path, env))
    return cases


def case_id(case: tuple[Path, str]) -> str:
    return f"{case[0].stem}-{case[1]}"
