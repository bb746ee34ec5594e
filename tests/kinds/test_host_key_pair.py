"""A host's EC2 key pair for SSH from allowlisted networks."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build


def test_key_pair_is_the_instances_key_name() -> None:
    bp = blueprint(
        hosts={
            "app": {
                "instance_type": "t3.small",
                "ssh_cidrs": ["198.51.100.0/24"],
                "key_pair": "ops",
            }
        }
    )
    props = build(bp, "host-app")["Resources"]["Instance"]["Properties"]
    assert props["KeyName"] == "ops"
    without = blueprint(hosts={"app": {"instance_type": "t3.small"}})
    assert "KeyName" not in build(without, "host-app")["Resources"]["Instance"]["Properties"]


def test_key_pair_needs_ssh_cidrs(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        hosts:
          app: {instance_type: t3.small, key_pair: ops}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:8: hosts.app: a key pair without ssh_cidrs cannot be used: port 22 stays "
        "closed (add ssh_cidrs (your office networks), or remove key_pair and use Session "
        "Manager)"
    ]
