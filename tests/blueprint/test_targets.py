"""Environment targets: the account, profile and role an environment deploys with, validated
and recorded in the manifest."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from cfngen.compiler import compile_environment
from cfngen.render import RenderedEnvironment, write_environment
from tests.helpers import errors_of, write

BASE = textwrap.dedent(
    """\
    blueprint: shop
    region: eu-west-1
    deploy: {account: "111122223333"}
    network: {}
    environments:
      dev: {}
      prod:
        deploy:
          account: "444455556666"
          role_arn: arn:aws:iam::444455556666:role/cfngen-deploy
          external_id: shop-ci
    """
)


def test_each_environment_records_its_target(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    dev = compile_environment(path, "dev")
    prod = compile_environment(path, "prod")
    assert dev.target == {"account": "111122223333"}
    assert prod.target == {
        "account": "444455556666",
        "role_arn": "arn:aws:iam::444455556666:role/cfngen-deploy",
        "external_id": "shop-ci",
        "session_name": "cfngen",
    }
    out = tmp_path / "out"
    write_environment(prod, out)
    manifest = json.loads((out / "prod" / "manifest.json").read_text())
    assert manifest["target"]["account"] == "444455556666"
    assert RenderedEnvironment.from_directory(out / "prod").target == prod.target


def test_target_errors(tmp_path: Path) -> None:
    text = BASE.replace('account: "444455556666"', 'account: "999999999999"')
    errors = errors_of(tmp_path, text, env="prod")
    assert errors == [
        "bp.yaml:9:7: deploy: the role is in account 444455556666, the environment in "
        "999999999999 (use a role of the environment's account)"
    ]


def test_external_id_needs_a_role(tmp_path: Path) -> None:
    text = BASE.replace("      role_arn: arn:aws:iam::444455556666:role/cfngen-deploy\n", "")
    errors = errors_of(tmp_path, text, env="prod")
    assert errors == [
        "bp.yaml:9:7: deploy: external_id applies to an assumed role (set role_arn, or remove it)"
    ]
