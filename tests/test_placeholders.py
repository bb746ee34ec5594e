"""Example values copied from documentation are warned about at their blueprint line (render
and lint, stderr, exit unchanged)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from cfngen.cli import cli
from cfngen.placeholders import warnings
from tests.helpers import write

TEXT = textwrap.dedent(
    """\
    blueprint: shop
    region: eu-west-1
    vars:
      zone_id: Z0EXAMPLE0SHOP0001
    description: "{{ vars.zone_id }}"
    alerts: {emails: [ops@shop.example.net]}
    load_balancers:
      web:
        type: application
        certificate: arn:aws:acm:eu-west-1:123456789012:certificate/abc
    dns: {zone: shop.example, zone_id: "{{ vars.zone_id }}"}
    certificates:
      site: {domain: shop.example}
    environments: {dev: {}}
    """
)


def test_each_placeholder_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT)
    assert [w.replace(str(path), "bp.yaml") for w in warnings(path)] == [
        "bp.yaml:4:12: vars.zone_id: Z0EXAMPLE0SHOP0001 is an example hosted zone ID (replace "
        "it before deploying)",
        "bp.yaml:6:19: alerts.emails[0]: ops@shop.example.net is an example domain (replace it "
        "before deploying)",
        "bp.yaml:10:18: load_balancers.web.certificate: 123456789012 is an example account ID "
        "(replace it before deploying)",
        "bp.yaml:11:13: dns.zone: shop.example is an example domain (replace it before deploying)",
        "bp.yaml:13:18: certificates.site.domain: shop.example is an example domain (replace it "
        "before deploying)",
    ]


def test_render_warns_on_stderr_and_still_succeeds(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT)
    result = CliRunner().invoke(
        cli, ["render", str(path), "--env", "dev", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "example hosted zone ID" in result.stderr
    assert "warning" not in result.stdout
