"""`make demo`, deploy half: legocity dev on a local MiniStack, as a user runs it.

Starts MiniStack on 127.0.0.1, then runs the commands a user types with `--emulator`: deploy,
outputs, a second deploy (a no-op: the blueprint's hosted zone is reused, nothing changed),
plan, destroy. `--emulator` uses dummy credentials (never the user's profile), leaves out what
MiniStack cannot create (cfngen/deploy/emulator_gaps.py, printed on stderr) and creates the
hosted zone the blueprint expects to exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cfngen.deploy.emulator import MiniStack

ROOT = Path(__file__).resolve().parent.parent
CFNGEN = str(Path(sys.executable).parent / "cfngen")
BLUEPRINT = ROOT / "blueprints" / "legocity.yaml"


def _step(title: str, args: list[str], env: dict[str, str]) -> None:
    print(f"\n$ cfngen {' '.join(args)}    # {title}", flush=True)
    proc = subprocess.run([CFNGEN, *args], cwd=ROOT, env=env)
    if proc.returncode != 0:
        sys.exit(proc.returncode)


def main() -> None:
    run(BLUEPRINT, "dev")


def run(blueprint: Path, environment: str) -> None:
    """Deploy, redeploy, plan and destroy `blueprint`/`environment` on a fresh MiniStack."""
    with (
        tempfile.TemporaryDirectory(prefix="cfngen-demo-") as tmp,
        MiniStack(Path(tmp) / "ministack.log") as endpoint,
    ):
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_ENDPOINT_URL")}
        target = [
            str(blueprint.relative_to(ROOT)) if blueprint.is_relative_to(ROOT) else str(blueprint),
            "--env",
            environment,
            "--emulator",
            "--endpoint-url",
            endpoint,
        ]
        fast = ["--poll-interval", "0.1"]
        shared = _shared_scope(blueprint, environment)
        if shared:
            scope = [*target[:2], "shared", *target[3:]]
            _step(
                "the shared scope first: the ECR repositories every environment pulls from",
                ["deploy", *scope, "--yes", *fast],
                env,
            )
        create_prerequisites(blueprint, environment, endpoint)
        _step(
            "deploy every stack, in parallel along the graph",
            ["deploy", *target, "--yes", *fast],
            env,
        )
        _step("stack outputs", ["outputs", *target], env)
        _step("again: nothing changed, so no change set", ["deploy", *target, "--yes", *fast], env)
        _step("what a deploy would change now: nothing", ["plan", *target], env)
        _step("delete every stack, dependents first", ["destroy", *target, "--yes", *fast], env)
        if shared:
            _step("and the shared scope", ["destroy", *scope, "--yes", *fast], env)


def _shared_scope(blueprint: Path, environment: str) -> bool:
    from cfngen.blueprint.environments import SHARED, environment_names
    from cfngen.blueprint.source import load_file

    return environment != SHARED and SHARED in environment_names(load_file(blueprint))


def create_prerequisites(blueprint: Path, environment: str, endpoint: str) -> None:
    """What the environment's owner creates by hand before the first deploy (its SSM parameters
    and secrets, its images in the shared repositories; --emulator makes the hosted zone), with
    demo values, printed as the commands a user would type."""
    from cfngen.compiler import compile_environment
    from cfngen.deploy.emulator import create_stand_ins

    for command in create_stand_ins(compile_environment(blueprint, environment), endpoint):
        print(f"\n$ {command}", flush=True)


if __name__ == "__main__":
    main()
