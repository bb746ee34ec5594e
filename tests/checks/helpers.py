"""What every check test does: run one check on a small template, or lint it whole."""

from __future__ import annotations

import textwrap

from cfnlint.decode.decode import decode_str

from cfngen.checks import CHECKS, Hit, TemplateView
from cfngen.lint import Report, Template, lint_template


def hits(rule: str, text: str, production: bool = False) -> list[Hit]:
    """What check `rule` reports on the template `text` (indented text is dedented)."""
    parsed, errors = decode_str(textwrap.dedent(text))
    assert not errors, errors
    return list(CHECKS[rule].run(TemplateView(parsed, production)))


def lint(text: str, production: bool = False) -> Report:
    """The whole lint pass (cfngen's checks and cfn-lint) over `text`."""
    tpl = Template("t", "t.yaml", textwrap.dedent(text), "us-east-1", production=production)
    report, parsed = lint_template(tpl)
    assert parsed is not None, report.findings
    return report


def line_of(text: str, logical_id: str) -> int:
    lines = textwrap.dedent(text).splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == f"{logical_id}:")


def ours(report: Report, rule: str) -> list[tuple[str, int]]:
    """(resource, line) of each finding of `rule`."""
    return [(f.resource, f.line) for f in report.findings if f.rule == rule]
