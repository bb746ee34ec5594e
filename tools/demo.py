"""`make demo`: the main job end to end on this machine.

1. validate, render and lint (cfngen checks + cfn-lint) blueprints/legocity.yaml for dev and
   prod (out/<env>/);
2. start MiniStack on 127.0.0.1, deploy legocity dev with --yes, print the stack outputs,
   deploy again to show it is a no-op, and stop the emulator.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CFNGEN = str(Path(sys.executable).parent / "cfngen")
BLUEPRINT = "blueprints/legocity.yaml"


def step(title: str, *args: str, env: dict[str, str] | None = None) -> None:
    print(f"\n$ cfngen {' '.join(args)}    # {title}", flush=True)
    proc = subprocess.run([CFNGEN, *args], cwd=ROOT, env=env)
    if proc.returncode != 0:
        sys.exit(proc.returncode)


def main() -> None:
    step("every environment, every check before any file is written", "validate", BLUEPRINT)
    for env in ("dev", "prod"):
        step(f"templates for {env}", "render", BLUEPRINT, "--env", env)
        step(
            f"cfngen's security checks and cfn-lint (informational rules too) for {env}",
            "lint",
            BLUEPRINT,
            "--env",
            env,
        )
    print(f"\nTemplates, parameter files, manifest and runbook: {ROOT / 'out'}/<env>/")
    try:
        from tools.demo_deploy import main as deploy_demo
    except ImportError:
        return
    deploy_demo()


if __name__ == "__main__":
    main()
