"""Generated systems of hundreds of services render, within every CloudFormation quota, and
adding a service moves nothing (issue 16). Slow: each render takes seconds; the timings are
`make bench`'s, not asserted here."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfngen.compiler import compile_environment
from cfngen.limits import MAX_BODY_BYTES, MAX_OUTPUTS, MAX_PARAMETERS, MAX_RESOURCES
from cfngen.render import RenderedEnvironment
from tests.scale import generated_blueprint

pytestmark = pytest.mark.slow


def _render(tmp_path: Path, services: int) -> RenderedEnvironment:
    path = tmp_path / f"scale-{services}.yaml"
    path.write_text(generated_blueprint(services))
    return compile_environment(path, "dev")


def _placement(env: RenderedEnvironment) -> dict[str, set[str]]:
    return {s.component: set(s.template.get("Resources", {})) for s in env.stacks}


def test_500_services_render_within_every_stack_quota(tmp_path: Path) -> None:
    env = _render(tmp_path, 500)
    assert len([s for s in env.stacks if s.component.startswith("service-")]) == 500
    for stack in env.stacks:
        body = stack.template
        assert len(body.get("Resources", {})) <= MAX_RESOURCES, stack.component
        assert len(body.get("Outputs", {})) <= MAX_OUTPUTS, stack.component
        assert len(body.get("Parameters", {})) <= MAX_PARAMETERS, stack.component
        assert len(stack.body.encode()) <= MAX_BODY_BYTES, stack.component
    components = {s.component for s in env.stacks}
    # 500 services: 10 shards of security groups, 13 of repositories, 5 of alarms
    assert {"security-10", "ecr-13", "alarms-5"} <= components
    assert not {"security-11", "ecr-14", "alarms-6"} & components


def test_adding_a_service_to_300_moves_no_logical_id_between_stacks(tmp_path: Path) -> None:
    before = _placement(_render(tmp_path, 300))
    after = _placement(_render(tmp_path, 301))
    # every resource stays in the stack it was in (so none moved), and the new service's own
    # resources only join stacks
    left = {stack: sorted(ids - after.get(stack, set())) for stack, ids in before.items()}
    assert {stack: ids for stack, ids in left.items() if ids} == {}
    assert len(after) > len(before)
