"""The one place that says what MiniStack (1.5.33) cannot do, and so what emulator runs leave out.

cfngen renders templates for AWS and never bends them for the emulator. A deploy test that runs
a real blueprint on MiniStack filters the rendered environment through `emulator_environment`,
which drops (or reports) exactly what is listed here, so a reader of a test knows what was not
exercised and why. Behaviour no emulator enforces is tested with botocore's Stubber instead
(tests/deploy/test_stubbed.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from cfngen.deploy.template import parse_template, resources
from cfngen.render import RenderedEnvironment, RenderedStack

#: Resource types MiniStack rejects at CreateChangeSet (as AWS does for unknown types).
UNSUPPORTED_TYPES: frozenset[str] = frozenset(
    {
        "AWS::ApiGateway::VpcLink",
        "AWS::Budgets::Budget",
    }
)

#: Fn::GetAtt attributes MiniStack cannot resolve: the stack fails at execution.
UNSUPPORTED_GETATTS: frozenset[tuple[str, str]] = frozenset(
    {
        ("AWS::RDS::DBInstance", "MasterUserSecret.SecretArn"),  # no managed secret is created
        ("AWS::EC2::VPC", "CidrBlock"),
    }
)

#: Behaviour that differs without failing; tests must not assert on it against the emulator.
KNOWN_DIFFERENCES: tuple[str, ...] = (
    "a change set that only changes Outputs is reported as 'no changes' (AWS executes it)",
    "CreateChangeSet ignores IncludePropertyValues (no BeforeValue/AfterValue in Details)",
    "deleting a stack whose export is imported fails synchronously with 'Export X is imported "
    "by stack Y' (AWS: 'Export X cannot be deleted as it is in use by Y')",
)


@dataclass(frozen=True)
class Exclusion:
    stack: str
    why: str


def _getatts(value: object) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::GetAtt" and isinstance(inner, list) and len(inner) == 2:
                found.add((str(inner[0]), str(inner[1])))
            else:
                found |= _getatts(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _getatts(inner)
    return found


def unsupported(stack: RenderedStack) -> str | None:
    """Why MiniStack cannot deploy this stack, or None when it can."""
    template = parse_template(stack.body)
    res = resources(template)
    for lid, spec in res.items():
        if spec.get("Type") in UNSUPPORTED_TYPES:
            return f"{lid}: {spec.get('Type')} is rejected by MiniStack at CreateChangeSet"
    for lid, attribute in _getatts(template):
        rtype = str(res.get(lid, {}).get("Type", ""))
        if (rtype, attribute) in UNSUPPORTED_GETATTS:
            return f"Fn::GetAtt {lid}.{attribute} ({rtype}) fails on MiniStack"
    return None


def emulator_environment(env: RenderedEnvironment) -> tuple[RenderedEnvironment, list[Exclusion]]:
    """`env` without the stacks MiniStack cannot deploy, nor the stacks that import from them."""
    excluded: dict[str, str] = {}
    for stack in env.stacks:  # deploy order: dependencies are decided before their dependents
        why = unsupported(stack)
        if why is None:
            blocked = [d for d in stack.depends_on if d in excluded]
            if blocked:
                why = f"depends on excluded {', '.join(blocked)}"
        if why is not None:
            excluded[stack.component] = why
    kept = tuple(s for s in env.stacks if s.component not in excluded)
    reduced = RenderedEnvironment(
        blueprint=env.blueprint,
        environment=env.environment,
        environment_name=env.environment_name,
        region=env.region,
        source=env.source,
        stacks=kept,
    )
    return reduced, [Exclusion(c, w) for c, w in excluded.items()]
