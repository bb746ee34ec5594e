"""Shell completion through the real entry point, as bash and zsh ask for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import write

BLUEPRINT = """\
blueprint: shop
region: eu-west-1
security_groups: {app: {description: app}}
environments: {dev: {}, prod: {}, preview: {}}
"""


def complete(words: str, shell: str = "bash") -> list[str]:
    parts = words.split(" ")
    env = {
        **os.environ,
        "_CFNGEN_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    code = "import sys\nsys.argv = ['cfngen']\nfrom cfngen.cli import main\nmain()\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def test_env_completes_the_blueprints_environment_names(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    assert complete(f"cfngen render {path} --env p") == ["plain,prod", "plain,preview"]
    assert complete(f"cfngen plan {path} -e ") == ["plain,dev", "plain,prod", "plain,preview"]
    assert complete(f"cfngen lint {path} --env d") == ["plain,dev"]
    assert complete(f"cfngen ci gitlab {path} --env p") == ["plain,prod", "plain,preview"]


def test_env_completes_from_a_rendered_folder(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    out = tmp_path / "out"
    for env in ("dev", "prod"):
        subprocess.run(
            [sys.executable, "-m", "cfngen", "render", str(path), "--env", env, "-o", str(out)],
            check=True,
            capture_output=True,
        )
    assert complete(f"cfngen status {out} --env ") == ["plain,dev", "plain,prod"]
    assert complete(f"cfngen status {out / 'prod'} --env ") == ["plain,prod"]


def test_an_unreadable_blueprint_completes_nothing_and_never_fails(tmp_path: Path) -> None:
    path = write(tmp_path, "blueprint: [")
    assert complete(f"cfngen render {path} --env ") == []
    assert complete(f"cfngen render {tmp_path / 'missing.yaml'} --env ") == []


def test_checks_complete_their_ids_with_titles() -> None:
    lines = complete("cfngen checks cfg00", shell="zsh")
    assert lines[:3] == ["plain", "CFG001", "OIDC trust without a pinned audience and subject"]
    ids = lines[1::3]
    assert ids == sorted(ids) and all(i.startswith("CFG00") for i in ids) and len(ids) == 9
