"""Regenerate tests/golden/ on purpose: `make goldens`. Review `git diff tests/golden` after.

Golden files are the rendered output of every reference blueprint and environment; the tests
compare them by parsed content, so formatting-only changes do not fail them but any change in
meaning does.
"""

from __future__ import annotations

import shutil

from cfngen.compiler import compile_environment
from cfngen.render import write_environment
from tests.reference import GOLDEN, ROOT, reference_cases


def main() -> None:
    for path, env in reference_cases():
        rendered = compile_environment(path.relative_to(ROOT), env)
        target = GOLDEN / path.stem
        shutil.rmtree(target / env, ignore_errors=True)
        write_environment(rendered, target)
        print(f"wrote {target / env}")


if __name__ == "__main__":
    main()
