"""pre-commit hooks (`.pre-commit-hooks.yaml`): `cfngen validate` or `cfngen lint` on each
changed blueprint.

pre-commit passes every changed YAML file at once; cfngen's commands take one blueprint, so
this runs the command once per file and exits with the worst exit code. A YAML file without a
top-level `blueprint:` key (a workflow, a compose file) is not a blueprint and is skipped.

    python -m cfngen.cli.hooks validate blueprints/shop.yaml .github/workflows/ci.yml
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

COMMANDS = ("validate", "lint")
_BLUEPRINT_KEY = re.compile(r"^blueprint\s*:", re.MULTILINE)


def is_blueprint(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            head = f.read(64 * 1024)
    except OSError:
        return True  # let cfngen say what is wrong with it
    return _BLUEPRINT_KEY.search(head) is not None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        print(
            f"usage: python -m cfngen.cli.hooks {{{'|'.join(COMMANDS)}}} FILE...", file=sys.stderr
        )
        return 2
    command, *files = args
    worst = 0
    for name in files:
        if not is_blueprint(Path(name)):
            continue
        code = subprocess.call([sys.executable, "-m", "cfngen", command, name])
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
