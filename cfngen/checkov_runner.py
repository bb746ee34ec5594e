"""checkov as `cfngen lint --checkov` and the tests run it: offline, JSON out, one process.

checkov is not a dependency of cfngen (it pins an older boto3): it is found through
`CHECKOV_BIN`, on PATH or in a `.checkov-venv` (`make checkov`), and runs in a subprocess
over a directory of templates.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfngen.errors import OperationError, UsageError


@dataclass(frozen=True)
class CheckovResult:
    check_id: str
    title: str
    file: str  # path relative to the scanned directory, without a leading slash
    line: int
    resource: str  # logical id
    guideline: str
    skipped: bool
    comment: str = ""  # the skip's reason


def checkov_binary() -> Path | None:
    """`CHECKOV_BIN` when set, else `checkov` on PATH, else the `.checkov-venv` that `make
    checkov` creates, in the current directory or in the checkout cfngen runs from."""
    configured = os.environ.get("CHECKOV_BIN")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    found = shutil.which("checkov")
    if found:
        return Path(found)
    checkout = Path(__file__).resolve().parent.parent
    for base in (Path.cwd(), checkout):
        candidate = base / ".checkov-venv" / "bin" / "checkov"
        if candidate.is_file():
            return candidate
    return None


def checkov_version(binary: Path) -> str:
    """checkov's version, for the lint cache: from the package metadata of the virtual
    environment `binary` is in (no process), else what `checkov --version` prints (seconds)."""
    venv = binary.resolve().parent.parent
    for info in sorted(venv.glob("lib/python*/site-packages/checkov-*.dist-info")):
        return info.name
    try:
        proc = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise OperationError(f"checkov cannot run ({binary}): {err}") from None
    return f"{binary} {proc.stdout.strip()}"


def _result(raw: dict[str, Any], skipped: bool) -> CheckovResult:
    lines = raw.get("file_line_range") or [1, 1]
    resource = str(raw.get("resource", ""))
    return CheckovResult(
        check_id=str(raw.get("check_id", "")),
        title=str(raw.get("check_name", "")),
        file=str(raw.get("file_path", "")).lstrip("/"),
        line=int(lines[0]) if lines and isinstance(lines[0], int) else 1,
        resource=resource.split(".", 1)[1] if "." in resource else resource,
        guideline=str(raw.get("guideline") or ""),
        skipped=skipped,
        comment=str(
            raw.get("suppress_comment")
            or (raw.get("check_result") or {}).get("suppress_comment")  # where checkov 3 puts it
            or ""
        ),
    )


def run_checkov(directory: Path, binary: Path | None = None) -> list[CheckovResult]:
    """Failed and skipped checks of every CloudFormation template under `directory`."""
    checkov = binary or checkov_binary()
    if checkov is None:
        raise UsageError(
            "checkov is not installed: install it (pip install checkov, ideally in its own "
            "virtual environment) and put it on PATH or set CHECKOV_BIN; `make checkov` does "
            "this for a checkout of cfngen"
        )
    proc = subprocess.run(
        [
            str(checkov),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--compact",
            "-o",
            "json",
            "-d",
            str(directory),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"},
        timeout=900,
        check=False,
    )
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if data is None or proc.returncode not in (0, 1):
        raise OperationError(f"checkov failed (exit {proc.returncode}): {proc.stderr[-1500:]}")
    reports = [r for r in (data if isinstance(data, list) else [data]) if isinstance(r, dict)]
    results, passed = [], 0
    for report in reports:
        found = report.get("results", {})
        results += [_result(r, False) for r in found.get("failed_checks", [])]
        results += [_result(r, True) for r in found.get("skipped_checks", [])]
        passed += int(report.get("summary", {}).get("passed", 0))
    if not results and not passed:
        # checkov prints an empty report when it recognises no template: never a silent pass
        raise OperationError(f"checkov checked nothing under {directory}: {proc.stderr[-1500:]}")
    return results
