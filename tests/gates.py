"""checkov as the tests run it (offline, JSON out): one function for every test that needs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def checkov_binary() -> Path:
    """checkov lives in its own venv (`make checkov`): it pins a boto3 older than cfngen needs."""
    return Path(os.environ.get("CHECKOV_BIN", ROOT / ".checkov-venv" / "bin" / "checkov"))


def run_checkov(directory: Path) -> tuple[list[str], int]:
    """Failed checks (`ID resource file`) and the number of passed checks under `directory`."""
    checkov = checkov_binary()
    if not checkov.is_file():
        raise AssertionError(
            f"checkov not found at {checkov}: run `make checkov` (or set CHECKOV_BIN)"
        )
    proc = subprocess.run(
        [
            str(checkov),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
            "-d",
            str(directory),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"},
        timeout=600,
    )
    data = json.loads(proc.stdout) if proc.stdout.strip() else {}
    reports = data if isinstance(data, list) else [data]
    failed = [
        f"{c['check_id']} {c['resource']} {c['file_path']}"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    if not passed and not failed:
        raise AssertionError(f"checkov checked nothing: {proc.stderr[-2000:]}")
    return failed, passed
