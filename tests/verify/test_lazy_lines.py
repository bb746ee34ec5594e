"""A compiled environment is verified on the data the compiler made (no second parse of every
template); a finding's template line comes from decoding only its own stack."""

from __future__ import annotations

from cfngen.compiler import compile_environment
from cfngen.lint import _line
from cfngen.verify import environment_of
from tests.reference import ROOT


def test_lines_come_from_the_template_text_of_a_compiled_stack() -> None:
    rendered = compile_environment(ROOT / "blueprints" / "legocity.yaml", "dev")
    env = environment_of(rendered)
    stack = env.stacks["service-payload"]
    compiled = next(s for s in rendered.stacks if s.component == "service-payload")
    assert stack.template is compiled.template and stack.body == compiled.body
    text = stack.body.splitlines()
    for logical in ("TaskDefinition", "Service"):
        line = _line(stack.lines(), "Resources", logical)
        assert text[line - 1] == f"  {logical}:", (logical, line)
    assert _line(stack.template, "Resources", "Service") == 1  # the data alone has no lines
