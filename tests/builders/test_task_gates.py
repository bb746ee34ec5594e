"""Tasks, discovery addresses and service alarms with their options on: cfn-lint (I rules
included), cfngen's own checks and checkov find nothing. placeos.yaml covers the common shape
through the reference tests; this covers what it leaves out (schedules, public placement, NLB
route alarms, alarms without a topic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfngen.compiler import compile_environment
from tests.builders import test_alarms, test_task
from tests.gates import lint_findings
from tests.helpers import write

pytestmark = pytest.mark.checkov

PUBLIC_TASK = """\
blueprint: pub
region: eu-west-1
network: {nat: none}
tasks:
  sync:
    image: {uri: ghcr.io/acme/sync}
    schedule: rate(1 hour)
    enabled: false
    placement:
      subnets: public
      assign_public_ip: true
      reason: no NAT gateway in this environment; the task pulls its image directly
environments: {dev: {}}
"""


def test_every_option_passes_the_gates(tmp_path: Path) -> None:
    quiet = test_alarms.BP.replace("alerts: {emails: [ops@example.com]}\n", "")
    cases = {
        "task": (test_task.BP, "prod"),
        "alarms": (test_alarms.BP, "dev"),
        "quiet": (quiet, "dev"),
        "public": (PUBLIC_TASK, "dev"),
    }
    envs = [
        compile_environment(write(tmp_path, text, f"{k}.yaml"), e) for k, (text, e) in cases.items()
    ]
    assert lint_findings(envs) == []
