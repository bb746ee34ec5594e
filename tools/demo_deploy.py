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


def create_prerequisites(blueprint: Path, environment: str, endpoint: str) -> None:
    """What the environment's owner creates by hand before the first deploy (its SSM parameters
    and secrets; --emulator makes the hosted zone), with demo values, printed as the commands a
    user would type."""
    import boto3

    from cfngen.compiler import compile_environment
    from cfngen.prerequisites import find

    rendered = compile_environment(blueprint, environment)
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=rendered.region
    )
    for item in find(rendered):
        if item.kind == "ssm-parameter":
            print(f"\n$ {item.create().replace('...', 'demo-value')}", flush=True)
            session.client("ssm", endpoint_url=endpoint).put_parameter(
                Name=item.name, Type="SecureString", Value="demo-value", Overwrite=True
            )
        elif item.kind == "secret":
            print(f"\n$ {item.create().replace('...', 'demo-value')}", flush=True)
            session.client("secretsmanager", endpoint_url=endpoint).create_secret(
                Name=item.name, SecretString="demo-value"
            )


if __name__ == "__main__":
    main()
