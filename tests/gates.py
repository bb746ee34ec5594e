"""The gates every rendered template must pass, as the tests run them: `cfngen lint` in one
pass (cfngen's checks, cfn-lint with informational rules, checkov offline)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cfngen.lint import Group, Template, lint_groups
from cfngen.render import RenderedEnvironment

ROOT = Path(__file__).resolve().parent.parent


def use_project_checkov() -> None:
    """checkov lives in its own venv (`make checkov`): it pins a boto3 older than cfngen needs."""
    os.environ.setdefault("CHECKOV_BIN", str(ROOT / ".checkov-venv" / "bin" / "checkov"))


def groups_of(envs: Sequence[RenderedEnvironment]) -> list[Group]:
    return [
        Group(
            f"{env.blueprint}-{env.environment}",
            [
                Template(
                    name=s.name,
                    file=f"{env.blueprint}/{env.environment}/{s.file}",
                    body=s.body,
                    region=s.region or env.region,
                )
                for s in env.stacks
            ],
            env.origin,
        )
        for env in envs
    ]


def lint_findings(envs: Sequence[RenderedEnvironment], checkov: bool = True) -> list[str]:
    """Every finding of `cfngen lint` (with checkov: one process for all) over `envs`."""
    if checkov:
        use_project_checkov()
    reports = lint_groups(groups_of(envs), checkov=checkov)
    return [f"{f.render()} <- {f.origin}" for r in reports for f in r.findings]
