"""`make demo`, deploy half: legocity dev on a local MiniStack, outputs, then a no-op redeploy.

What MiniStack cannot run (cfngen/deploy/emulator_gaps.py, the one list of its gaps) is left out
and named; the templates are otherwise the ones rendered for AWS. The hosted zone the blueprint
expects to exist is created on the emulator first and passed as `--var zone_id`, as a user
passes theirs. The commands run are the ones a user types, on the rendered directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cfngen.compiler import compile_environment
from cfngen.deploy.emulator import MiniStack, emulator_variables
from cfngen.deploy.emulator_gaps import emulator_environment
from cfngen.render import write_environment

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
    """Deploy `blueprint`/`environment` (less the emulator's gaps) on a fresh MiniStack, twice."""
    with (
        tempfile.TemporaryDirectory(prefix="cfngen-demo-") as tmp,
        MiniStack(Path(tmp) / "ministack.log") as endpoint,
    ):
        variables = emulator_variables(endpoint, blueprint)
        for name, value in variables.items():
            print(f"made on the emulator, as a user does by hand: --var {name}={value}")
        rendered = compile_environment(blueprint, environment, variables)
        env, excluded = emulator_environment(rendered)
        for item in excluded:
            print(f"not on the emulator: {item.stack}: {item.why}")
        if not env.stacks:
            print(f"\nMiniStack cannot deploy any stack of {rendered.environment_name}.")
            return
        directory = write_environment(env, Path(tmp) / "out")
        aws = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": env.region,
            "AWS_ENDPOINT_URL": endpoint,
        }
        aws.pop("AWS_PROFILE", None)
        target = [str(directory), "--env", env.environment]
        fast = ["--poll-interval", "0.1"]
        _step(
            "deploy every stack, in parallel along the graph",
            ["deploy", *target, "--yes", *fast],
            aws,
        )
        _step("stack outputs", ["outputs", *target], aws)
        _step("again: nothing changed, so no change set", ["deploy", *target, "--yes"], aws)


if __name__ == "__main__":
    main()
