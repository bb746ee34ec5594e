"""`make demo`, deploy half: legocity dev on a local MiniStack, outputs, then a no-op redeploy.

Stacks MiniStack cannot deploy (tests/deploy/emulator_gaps.py, the one list of its gaps) are
left out and named; the templates themselves are never changed for the emulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cfngen.compiler import compile_environment
from cfngen.deploy.emulator import MiniStack
from cfngen.deploy.emulator_gaps import emulator_environment
from cfngen.render import RenderedEnvironment, write_environment

ROOT = Path(__file__).resolve().parent.parent
CFNGEN = str(Path(sys.executable).parent / "cfngen")
BLUEPRINT = ROOT / "blueprints" / "legocity.yaml"


def _step(title: str, args: list[str], env: dict[str, str]) -> None:
    print(f"\n$ cfngen {' '.join(args)}    # {title}", flush=True)
    proc = subprocess.run([CFNGEN, *args], cwd=ROOT, env=env)
    if proc.returncode != 0:
        sys.exit(proc.returncode)


def main() -> None:
    run(compile_environment(BLUEPRINT, "dev"))


def run(rendered: RenderedEnvironment) -> None:
    """Deploy `rendered` (less the emulator's gaps) on a fresh MiniStack, twice."""
    env, excluded = emulator_environment(rendered)
    for item in excluded:
        print(f"not on the emulator: {item.stack} ({item.why})")
    if not env.stacks:
        print(f"\nMiniStack cannot deploy any stack of {rendered.environment_name} (see above).")
        return
    with tempfile.TemporaryDirectory(prefix="cfngen-demo-") as tmp:
        directory = write_environment(env, Path(tmp) / "out")
        with MiniStack(Path(tmp) / "ministack.log") as endpoint:
            aws = {
                **os.environ,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_REGION": env.region,
                "AWS_ENDPOINT_URL": endpoint,
            }
            aws.pop("AWS_PROFILE", None)
            target = [str(directory), "--env", env.environment, "--poll-interval", "0.2"]
            _step(
                "deploy every stack, in parallel along the graph", ["deploy", *target, "--yes"], aws
            )
            _step("stack outputs", ["outputs", *target[:3]], aws)
            _step("again: nothing changed, so no change set", ["deploy", *target, "--yes"], aws)


if __name__ == "__main__":
    main()
