"""`cfngen lint` with its cache, as a user sees it: the same findings, a summary that says how
many templates were unchanged, blueprint lines that follow the blueprint, --no-cache, a cache
that cannot be written, two lints at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfngen.cli import cli
from tests.helpers import write

# Worker processes and real lint runs: seconds each, so in `make test`, not `make test-fast`
pytestmark = pytest.mark.slow

BLUEPRINT = """\
blueprint: shop
region: eu-west-1
security_groups:
  app:
    description: app
    ingress:
      - {port: 22, cidr: 0.0.0.0/0, description: ssh}
environments:
  dev: {}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def cache_dir() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "cfngen"


def test_a_second_lint_reports_the_same_from_the_cache_and_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    code, first, _ = run("lint", str(path))
    assert code == 1
    assert first.splitlines()[-1] == "shop-dev: 2 templates (cfngen checks, cfn-lint): 1 error"
    assert (cache_dir() / ".gitignore").read_text().endswith("*\n")
    code, second, _ = run("lint", str(path))
    assert code == 1
    assert second.splitlines()[:-1] == first.splitlines()[:-1]
    assert second.splitlines()[-1] == (
        "shop-dev: 2 templates (cfngen checks, cfn-lint, 2 unchanged from the cache): 1 error"
    )
    data = json.loads(run("lint", str(path), "--format", "json")[1])
    assert [(r["templates"], r["cached"]) for r in data["reports"]] == [(2, 2)]


def test_blueprint_lines_follow_an_edit_that_leaves_the_templates_alone(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    before = run("lint", str(path))[1]
    assert f"from {path}:4:3 (security_groups.app)" in before
    path.write_text("# a comment moves every entry one line down\n" + BLUEPRINT)
    after = run("lint", str(path))[1]
    assert "2 unchanged from the cache" in after
    assert f"from {path}:5:3 (security_groups.app)" in after


def test_no_cache_neither_reads_nor_writes_it(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    code, out, _ = run("lint", str(path), "--no-cache")
    assert code == 1 and "unchanged" not in out
    assert not cache_dir().exists()
    run("lint", str(path))
    assert "unchanged" not in run("lint", str(path), "--no-cache")[1]


def test_without_xdg_cache_home_the_cache_is_the_users_never_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request controls the checkout CI lints: entries committed there (a forged
    "no findings") must never be read, so the cache is in the user's home, not the folder."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    path = write(checkout, BLUEPRINT)
    home = tmp_path / "home"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(checkout)
    run("lint", str(path))
    assert sorted(p.name for p in checkout.iterdir()) == [path.name]  # nothing written here
    assert (home / ".cache" / "cfngen" / ".gitignore").is_file()
    assert "2 unchanged from the cache" in run("lint", str(path))[1]


def test_a_cache_that_cannot_be_written_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, BLUEPRINT)
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    code, out, err = run("lint", str(path))
    assert code == 1 and "error CFG006" in out
    assert f"warning: cannot write the lint cache in {tmp_path / 'not-a-folder' / 'cfngen'}" in err
    assert "Traceback" not in out + err


def test_two_lints_at_once_share_the_cache(tmp_path: Path) -> None:
    path = write(tmp_path, BLUEPRINT)
    cmd = [sys.executable, "-m", "cfngen", "lint", str(path)]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [1, 1], outs
    assert outs[0][0].splitlines()[:-1] == outs[1][0].splitlines()[:-1]
    assert "Traceback" not in "".join(o + e for o, e in outs)
    assert not list(cache_dir().rglob(".tmp-*"))  # no half-written entry left behind
    assert "2 unchanged from the cache" in run("lint", str(path))[1]
