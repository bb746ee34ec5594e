"""Lint survives templates it did not write: a template a tool fails on is one finding for that
file, the rest of the folder is still linted, and the exit code (3) says "could not lint"
rather than "findings" (1). The whole public corpus runs under the `slow` marker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cfngen.cli.lint import _from_files
from cfngen.lint import canonical_message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cfn"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "cfn-corpus"
GOOD = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: alias/aws/sns
"""


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cfngen", "lint", str(path), "--region", "eu-west-1"],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_template_cfn_lint_fails_on_is_one_finding_and_the_rest_is_linted(
    tmp_path: Path,
) -> None:
    shutil.copy(FIXTURES / "macro-list-resources.template", tmp_path / "macro.template")
    (tmp_path / "topic.yaml").write_text(GOOD)
    result = _lint(tmp_path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode == 3, output
    assert "macro.template:1: error LINT" in output
    assert "cfn-lint could not lint this template (AttributeError" in output
    assert "2 templates" in output  # the good one was linted too
    assert "1 template(s) could not be linted" in output


@pytest.mark.slow
@pytest.mark.parametrize(
    "folder",
    sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else [],
)
def test_lint_never_crashes_on_the_public_corpus(folder: str) -> None:
    result = _lint(CORPUS / folder)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output, output[-2000:]
    assert result.returncode in (0, 1, 3), output[-2000:]
    assert " templates (" in output  # the folder's report is there


@pytest.mark.parametrize(
    "text",
    [  # each a cfngen process: the indented one in make test-fast, all in make test
        pytest.param(
            '  AWSTemplateFormatVersion: "2010-09-09"\n'
            "  Resources:\n    T:\n      Type: AWS::SNS::Topic\n",
            id="indented-yaml",
        ),
        pytest.param(
            "# a template\nResources:\n  T:\n    Type: AWS::SNS::Topic\n",
            id="yaml",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}', id="json", marks=pytest.mark.slow
        ),
    ],
)
def test_a_single_template_file_is_linted_as_a_template(tmp_path: Path, text: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    result = _lint(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 template (cfngen checks, cfn-lint): no findings" in result.stdout


def test_checkov_is_found_in_the_checkouts_venv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cfngen.checkov_runner import checkov_binary

    monkeypatch.delenv("CHECKOV_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # not on PATH
    monkeypatch.chdir(tmp_path)
    venv = tmp_path / ".checkov-venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "checkov").write_text("#!/bin/sh\n")
    found = checkov_binary()
    assert found is not None and found.resolve() == (venv / "checkov").resolve()
    monkeypatch.setenv("CHECKOV_BIN", str(tmp_path / "nope"))
    assert checkov_binary() is None  # a configured binary that is missing is not replaced


def _cfn_lint_cli(files: list[Path], region: str) -> set[tuple[str, int, str, str]]:
    """(file, line, rule, message) of every finding of cfn-lint's own CLI (a process of its
    own: its rules loaded the way cfn-lint loads them) over `files`."""
    cli = Path(sys.executable).parent / "cfn-lint"
    command = [str(cli), "--format", "json", "--include-checks", "I", "--regions", region]
    result = subprocess.run(
        [*command, "--", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return {  # cfngen names a scenario's conditions in order, cfn-lint in the order of a set
        (
            m["Filename"],
            m["Location"]["Start"]["LineNumber"],
            m["Rule"]["Id"],
            canonical_message(m["Message"]),
        )
        for m in json.loads(result.stdout)
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "folder",
    [
        name
        for name in ("widdix", "copilot", "ecsrefarch", "nathanpeck")
        if (CORPUS / name).is_dir()
    ],
)
def test_cfn_lint_findings_are_those_of_cfn_lints_own_cli(folder: str) -> None:
    """Workers share one rule set across regions and some of cfn-lint's data between rules:
    over public templates, what `cfngen lint` reports from cfn-lint (waived or not) is
    exactly what cfn-lint's own CLI reports on the same files."""
    region = "eu-west-1"
    lint = [sys.executable, "-m", "cfngen", "lint", str(CORPUS / folder), "--region", region]
    result = subprocess.run(
        [*lint, "--format", "json", "--no-cache"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    (report,) = json.loads(result.stdout)["reports"]
    ours = {
        (f["file"], f["line"], f["rule"], f["message"])
        for f in [*report["findings"], *(w for w in report["waived"])]
        if f["tool"] == "cfn-lint" and not f["message"].startswith("skipped by cfn-lint")
    }
    templates, _ = _from_files(CORPUS / folder, region, production=False)
    assert ours  # every folder has some
    assert ours == _cfn_lint_cli([Path(t.file) for t in templates], region)
