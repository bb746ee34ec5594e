"""Every case of the hostile corpus (tests/blueprint/hostile.py) through the real CLI, in its own
process: exit 2, the file (and line:col where the fault has one) named, no traceback, nothing
written, under 2 s of CPU and 300 MB.

The whole corpus is `slow` (make test); every fortieth case also runs in make test-fast. CPU and
memory come from the process's own rusage (os.wait4), not wall time, so a busy machine does not
make the test flaky.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.blueprint.hostile import CASES, Case

CPU_LIMIT_S = 2.0
RSS_LIMIT_MB = 300
WALL_LIMIT_S = 30  # only a guard against a hang (a FIFO read); the limits are CPU and memory


def _blueprint(case: Case, tmp: Path) -> Path:
    path = tmp / "bp.yaml"
    if case.special is None:
        data = case.text.encode() if isinstance(case.text, str) else (case.text or b"")
        path.write_bytes(data)
    elif case.special == "fifo":
        os.mkfifo(path)
    elif case.special == "dir":
        path.mkdir()
    elif case.special == "missing":
        pass
    elif case.special == "symlink-loop":
        path.symlink_to(tmp / "bp2.yaml")
        (tmp / "bp2.yaml").symlink_to(path)
    elif case.special == "devzero":
        path = Path("/dev/zero")
    elif case.special == "big":
        with path.open("wb") as f:
            f.write(b"blueprint: shop\nregion: eu-west-1\ndescription: ")
            f.truncate(50 * 1024 * 1024)
    else:
        raise AssertionError(f"unknown special file {case.special}")
    return path


def _run(cmd: list[str], cwd: Path) -> tuple[int, str, float, float]:
    """(exit code, stdout+stderr, CPU seconds, max RSS in MB) of one process."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),  # no ~/.aws, no user configuration
        # the user's cache folder (the schema and RDS data caches) is not the working folder
        "XDG_CACHE_HOME": str(cwd.parent / "user-cache"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env
        )
        timer = threading.Timer(WALL_LIMIT_S, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    text = out_path.read_text(errors="replace") + err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    return code, text, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def check(case: Case, tmp: Path) -> None:
    work = tmp / "work"
    work.mkdir()
    path = _blueprint(case, work)
    before = sorted(p.name for p in work.iterdir())
    cmd = [sys.executable, "-m", "cfngen", *case.args, str(path), *case.extra]
    code, output, cpu, rss = _run(cmd, work)
    assert "Traceback" not in output, output
    assert code == 2, f"exit {code}: {output}"
    named = case.names or str(path)
    assert named in output, f"the message does not name {named}: {output}"
    if case.positioned:
        assert re.search(re.escape(str(path)) + r":\d+:\d+", output), output
    assert sorted(p.name for p in work.iterdir()) == before, "something was written"
    assert cpu < CPU_LIMIT_S, f"{cpu:.2f} s of CPU"
    assert rss < RSS_LIMIT_MB, f"{rss:.0f} MB"


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_case(case: Case, tmp_path: Path) -> None:
    check(case, tmp_path)


@pytest.mark.parametrize("case", CASES[::40], ids=lambda c: c.id)
def test_hostile_sample(case: Case, tmp_path: Path) -> None:
    check(case, tmp_path)


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    from cfngen import registry

    assert len(CASES) >= 150
    for kind in registry.KINDS:
        assert any(c.id.startswith(f"kind-{kind.section}-") for c in CASES), kind.section
