"""Break one wire of a reference environment at a time: the verifier must name it.

The mutations are generated from the rendered reference environments (tests/golden/), never
hand-picked, and what each one must break is derived without the verifier: from the text the
renderer wrote (a rule's description names the load balancer and the service it serves), from
which stack holds which resource, and from counting the other wires that would still serve the
same relation (a target group forwarded to by two listeners survives losing one).
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cfngen.blueprint.environments import environment_names
from cfngen.blueprint.source import load_file
from cfngen.compiler import compile_environment
from cfngen.render import RenderedEnvironment
from cfngen.verify import Environment, Stack, environment_of, run_checks
from tests.builders.containers_sample import rendered as sample_rendered
from tests.reference import GOLDEN, ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
# the reference environments as rendered (tests/golden/<blueprint>/<env>), then each example's
# environments compiled in memory (examples/<name>.yaml/<env>: a path that only names them)
SAMPLE = ROOT / "tests" / "builders" / "containers_sample.py"  # every kind, HTTP API included
ENVS = (
    sorted(p for p in GOLDEN.glob("*/*") if (p / "manifest.json").is_file())
    + [example / env for example in EXAMPLES for env in environment_names(load_file(example))]
    + [SAMPLE / "dev"]
)
_MARK = re.compile(
    r"^(?:[\w./-]+/)?[\w.-]+\.yaml:\d+:\d+ \("
)  # "legocity.yaml:88:3 (services.payload)"


@cache
def _loaded(path: Path) -> tuple[RenderedEnvironment, Environment]:
    if path.parent == SAMPLE:
        rendered = sample_rendered(Path(tempfile.mkdtemp()), path.name)
    elif path.parent.suffix == ".yaml":
        rendered = compile_environment(path.parent, path.name)
    else:
        rendered = RenderedEnvironment.from_directory(path)
    return rendered, environment_of(rendered)


@dataclass(frozen=True)
class Mutation:
    env: Path
    what: str
    component: str  # the stack the finding must be in
    rule: str
    source: str  # the blueprint entry (Metadata.cfngen.source) the finding must name
    apply: Any  # callable(templates: dict[component, template]) -> None
    others: tuple[str, ...] = ()  # further entries, any one of which the finding may name


def _source(template: Any, logical_id: str) -> str:
    return str(
        template["Resources"][logical_id].get("Metadata", {}).get("cfngen", {}).get("source")
    )


def _imports(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        if set(value) == {"Fn::ImportValue"}:
            yield path
            return
        for k, v in value.items():
            yield from _imports(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _imports(v, (*path, i))


def _misspell(node: dict[str, Any]) -> None:
    sub = node["Fn::ImportValue"]
    if isinstance(sub, dict) and isinstance(sub.get("Fn::Sub"), str):
        sub["Fn::Sub"] += "Typo"
    else:
        node["Fn::ImportValue"] = {"Fn::Sub": "${EnvironmentName}-nosuch-Export"}


def _at(tree: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        tree = tree[k]
    return tree


def import_mutations(path: Path) -> Iterator[Mutation]:
    """Every import of a reference environment; in an example, one per stack and export (the
    examples repeat the references' shapes, and each import costs a full verification)."""
    _, env = _loaded(path)
    seen: set[tuple[str, str]] = set()
    for comp, stack in env.stacks.items():
        for name in stack.template.get("Resources", {}):
            for where in _imports(stack.template["Resources"][name]):
                full = ("Resources", name, *where)
                export = str(_at(stack.template, full))
                if path.parent.suffix in (".yaml", ".py") and (comp, export) in seen:
                    continue
                seen.add((comp, export))
                yield Mutation(
                    path,
                    f"misspell the import at {comp}:{'.'.join(map(str, full))}",
                    comp,
                    "CFG020",
                    _source(stack.template, name),
                    lambda t, c=comp, p=full: _misspell(_at(t[c], p)),
                )


_LB_RULE = re.compile(r"^Load balancer (\S+) to service (\S+)$")


def _rule_sites(template: Any) -> Iterator[tuple[str, Any, Any]]:
    """(description, container, key) of every security group rule of a template."""
    for name, res in template.get("Resources", {}).items():
        if res["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            yield res["Properties"].get("Description", ""), template["Resources"], name
        if res["Type"] == "AWS::EC2::SecurityGroup":
            for key in ("SecurityGroupIngress", "SecurityGroupEgress"):
                rules = res["Properties"].get(key, [])
                for i, rule in enumerate(rules):
                    yield rule.get("Description", ""), rules, i


def rule_mutations(path: Path) -> Iterator[Mutation]:
    """Every group-to-group rule the renderer wrote for a relation of the manifest carries it
    (CFG023, at the relation's blueprint entry); one for 'load balancer X to service Y' also
    carries the load balancer's path to the service (CFG022)."""
    rendered, env = _loaded(path)
    sources: dict[str, set[str]] = {}
    for rel in rendered.relations:
        sources.setdefault(rel["description"], set()).add(rel["source"])
    services = {
        c
        for c, s in env.stacks.items()
        if any(r["Type"] == "AWS::ECS::Service" for r in s.template.get("Resources", {}).values())
    }

    def same(holder: Any, rule: dict[str, Any]) -> str:
        """What a rule permits, without its description (two relations may write one rule)."""
        where = id(holder) if isinstance(holder, list) else ""
        kept = {k: v for k, v in rule.items() if k != "Description"}
        return f"{where}{json.dumps(kept, sort_keys=True)}"

    copies: dict[str, int] = {}
    for stack in env.stacks.values():
        for _, holder, key in _rule_sites(stack.template):
            rule = holder[key].get("Properties", holder[key])
            copies[same(holder, rule)] = copies.get(same(holder, rule), 0) + 1
    for comp, stack in env.stacks.items():
        for n, (desc, holder, key) in enumerate(_rule_sites(stack.template)):
            rule = holder[key]
            rule = rule.get("Properties", rule)
            if not any(k in rule for k in ("SourceSecurityGroupId", "DestinationSecurityGroupId")):
                continue
            if copies[same(holder, rule)] > 1:
                continue  # another relation's rule permits the same: nothing breaks
            group = rule.get("GroupId", {}).get("Fn::GetAtt", [None])[0]
            inline = holder if isinstance(holder, list) else []
            if "SourceSecurityGroupId" in rule and any(
                other.get("CidrIp") == "0.0.0.0/0" and other.get("FromPort") == rule.get("FromPort")
                for other in inline
                + stack.template["Resources"]
                .get(group, {})
                .get("Properties", {})
                .get("SecurityGroupIngress", [])
            ):
                continue  # an internet-facing listener's port admits everyone anyway

            def cut(t: dict[str, Any], c: str = comp, index: int = n) -> None:
                _, holder, k = list(_rule_sites(t[c]))[index]
                del holder[k]

            if len(sources.get(str(desc), ())) == 1:
                (source,) = sources[str(desc)]
                yield Mutation(
                    path, f"remove rule #{n} '{desc}' of {comp}", comp, "CFG023", source, cut
                )
            m = _LB_RULE.match(str(desc))
            if m and f"service-{m[2]}" in services:
                yield Mutation(
                    path,
                    f"remove rule #{n} '{desc}' of {comp} (target path)",
                    f"service-{m[2]}",
                    "CFG022",
                    f"services.{m[2]}",
                    cut,
                )


def _forwards(res: dict[str, Any]) -> list[Any]:
    actions = res["Properties"].get("DefaultActions") or res["Properties"].get("Actions") or []
    return [a for a in actions if a.get("Type") == "forward"]


def listener_mutations(path: Path) -> Iterator[Mutation]:
    """Drop one listener's or rule's forward; a target group nothing else forwards to breaks."""
    _, env = _loaded(path)
    count: dict[str, int] = {}
    sites = []
    for comp, stack in env.stacks.items():
        for name, res in stack.template.get("Resources", {}).items():
            if res["Type"].endswith(("::Listener", "::ListenerRule")):
                for a in _forwards(res):
                    tg = str(a.get("TargetGroupArn", {}).get("Ref", ""))
                    count[f"{comp}/{tg}"] = count.get(f"{comp}/{tg}", 0) + 1
                    sites.append((comp, name, tg))
    for comp, name, tg in sites:
        if count[f"{comp}/{tg}"] != 1:
            continue

        def cut(t: dict[str, Any], c: str = comp, n: str = name) -> None:
            props = t[c]["Resources"][n]["Properties"]
            key = "DefaultActions" if "DefaultActions" in props else "Actions"
            props[key] = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]

        yield Mutation(
            path,
            f"{comp}:{name} stops forwarding to {tg}",
            comp,
            "CFG021",
            _source(env.stacks[comp].template, tg),
            cut,
        )


def registration_mutations(path: Path) -> Iterator[Mutation]:
    """Drop one service's registration in a target group."""
    _, env = _loaded(path)
    for comp, stack in env.stacks.items():
        for name, res in stack.template.get("Resources", {}).items():
            if res["Type"] != "AWS::ECS::Service":
                continue
            for i, entry in enumerate(res["Properties"].get("LoadBalancers", [])):
                export = entry["TargetGroupArn"]["Fn::ImportValue"]["Fn::Sub"]
                lb_comp, tg = re.fullmatch(r"\$\{EnvironmentName\}-(.+)-(\w+)Arn", export).groups()

                def cut(t: dict[str, Any], c: str = comp, n: str = name, k: int = i) -> None:
                    del t[c]["Resources"][n]["Properties"]["LoadBalancers"][k]

                yield Mutation(
                    path,
                    f"{comp}:{name} leaves {tg}",
                    lb_comp,
                    "CFG021",
                    _source(env.stacks[lb_comp].template, tg),
                    cut,
                )


_EXEC = {
    "ecr:BatchGetImage": "CFG025",
    "ecr:GetDownloadUrlForLayer": "CFG025",
    "ecr:GetAuthorizationToken": "CFG025",
    "logs:CreateLogStream": "CFG027",
    "logs:PutLogEvents": "CFG027",
    "secretsmanager:GetSecretValue": "CFG026",
    "ssm:GetParameters": "CFG026",
}


def mount_mutations(path: Path) -> Iterator[Mutation]:
    """Remove an EFS action from a task role (its volumes use IAM authorization): the finding
    names a mount the manifest records for that role (its volume's line)."""
    rendered, env = _loaded(path)
    for comp, stack in env.stacks.items():
        resources = stack.template.get("Resources", {})
        tasks = [n for n, r in resources.items() if r["Type"] == "AWS::ECS::TaskDefinition"]
        role = resources.get("TaskRole")
        if role is None or not tasks:
            continue
        for p, pol in enumerate(role["Properties"].get("Policies", [])):
            for s, st in enumerate(pol["PolicyDocument"]["Statement"]):
                for action in st["Action"]:
                    if action not in (
                        "elasticfilesystem:ClientMount",
                        "elasticfilesystem:ClientWrite",
                    ):
                        continue

                    def cut(
                        t: dict[str, Any], c: str = comp, pp: int = p, ss: int = s, a: str = action
                    ) -> None:
                        pol = t[c]["Resources"]["TaskRole"]["Properties"]["Policies"][pp]
                        pol["PolicyDocument"]["Statement"][ss]["Action"].remove(a)

                    writes = action.endswith("ClientWrite")
                    sources = [
                        a["source"]
                        for a in rendered.accesses
                        if a["role"] == f"{comp}/TaskRole"
                        and "access_point" in a
                        and (a["need"] == "uses:read-write" or not writes)
                    ] or [_source(stack.template, tasks[0])]
                    yield Mutation(
                        path,
                        f"{comp}:TaskRole loses {action}",
                        comp,
                        "CFG028",
                        sources[0],
                        cut,
                        tuple(sources[1:]),
                    )


def role_mutations(path: Path) -> Iterator[Mutation]:
    """Remove one action from an execution role's statement."""
    _, env = _loaded(path)
    for comp, stack in env.stacks.items():
        for name, res in stack.template.get("Resources", {}).items():
            if res["Type"] != "AWS::IAM::Role" or not name.endswith("ExecutionRole"):
                continue
            for p, pol in enumerate(res["Properties"].get("Policies", [])):
                for s, st in enumerate(pol["PolicyDocument"]["Statement"]):
                    for action in st["Action"]:
                        if action not in _EXEC:
                            continue

                        def cut(
                            t: dict[str, Any],
                            c: str = comp,
                            n: str = name,
                            pp: int = p,
                            ss: int = s,
                            a: str = action,
                        ) -> None:
                            pol = t[c]["Resources"][n]["Properties"]["Policies"][pp]
                            pol["PolicyDocument"]["Statement"][ss]["Action"].remove(a)

                        yield Mutation(
                            path,
                            f"{comp}:{name} loses {action}",
                            comp,
                            _EXEC[action],
                            _source(stack.template, name),
                            cut,
                        )


def _fargate_services(env: Environment) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(component, logical id, AwsvpcConfiguration) of every Fargate service, from the text."""
    for comp, stack in env.stacks.items():
        for name, res in stack.template.get("Resources", {}).items():
            props = res.get("Properties", {})
            providers = [
                p.get("CapacityProvider") for p in props.get("CapacityProviderStrategy", [])
            ]
            fargate = props.get("LaunchType") == "FARGATE" or "FARGATE" in providers
            net = props.get("NetworkConfiguration", {}).get("AwsvpcConfiguration")
            if res["Type"] == "AWS::ECS::Service" and fargate and net:
                yield comp, name, net


def egress_mutations(path: Path) -> Iterator[Mutation]:
    """Drop a NAT route: every Fargate service in private subnets loses its way out; turn off a
    public-subnet service's public IP: it loses its way out too."""
    _, env = _loaded(path)
    services = list(_fargate_services(env))
    if "network" not in env.stacks:  # a shared scope: no network, no services
        return
    net = env.stacks["network"].template["Resources"]
    for name, res in net.items():
        if res["Type"] != "AWS::EC2::Route" or "NatGatewayId" not in res["Properties"]:
            continue
        for comp, service, cfg in services:
            export = str(cfg["Subnets"]["Fn::Split"][1]["Fn::ImportValue"]["Fn::Sub"])
            if export.endswith("-PrivateSubnetIds") and cfg["AssignPublicIp"] == "DISABLED":

                def cut(t: dict[str, Any], n: str = name) -> None:
                    del t["network"]["Resources"][n]

                yield Mutation(
                    path,
                    f"network:{name} removed ({comp} loses NAT)",
                    comp,
                    "CFG024",
                    _source(env.stacks[comp].template, service),
                    cut,
                )
    nat = [
        n
        for n, r in net.items()
        if r["Type"] == "AWS::EC2::Route" and "NatGatewayId" in r["Properties"]
    ]
    for comp, stack in env.stacks.items():  # container instances in private subnets
        for name, res in stack.template.get("Resources", {}).items():
            zones = res.get("Properties", {}).get("VPCZoneIdentifier", {})
            if res["Type"] != "AWS::AutoScaling::AutoScalingGroup" or "PrivateSubnet" not in str(
                zones
            ):
                continue
            for route in nat:

                def cut_nat(t: dict[str, Any], n: str = route) -> None:
                    del t["network"]["Resources"][n]

                yield Mutation(
                    path,
                    f"network:{route} removed ({comp}:{name} instances lose NAT)",
                    comp,
                    "CFG024",
                    _source(stack.template, name),
                    cut_nat,
                )
    for comp, service, cfg in services:
        if cfg["AssignPublicIp"] == "ENABLED":

            def off(t: dict[str, Any], c: str = comp, n: str = service) -> None:
                props = t[c]["Resources"][n]["Properties"]
                props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] = "DISABLED"

            yield Mutation(
                path,
                f"{comp}:{service} without a public IP",
                comp,
                "CFG024",
                _source(env.stacks[comp].template, service),
                off,
            )


def api_mutations(path: Path) -> Iterator[Mutation]:
    """A REST method's VPC-link integration sent to a port no listener has, or a VPC link that
    targets nothing."""
    _, env = _loaded(path)
    for comp, stack in env.stacks.items():
        for name, res in stack.template.get("Resources", {}).items():
            integration = res.get("Properties", {}).get("Integration", {})
            if res["Type"] != "AWS::ApiGateway::Method" or integration.get("ConnectionType") != (
                "VPC_LINK"
            ):
                continue

            def port(t: dict[str, Any], c: str = comp, n: str = name) -> None:
                uri = t[c]["Resources"][n]["Properties"]["Integration"]["Uri"]["Fn::Sub"]
                uri[0] = re.sub(r"^(http://\$\{Dns\})(:\d+)?", r"\1:65000", uri[0])

            yield Mutation(
                path,
                f"{comp}:{name} integration to port 65000",
                comp,
                "CFG030",
                _source(stack.template, name),
                port,
            )

            def unlink(t: dict[str, Any], c: str = comp) -> None:
                t[c]["Resources"]["VpcLink"]["Properties"]["TargetArns"] = []

            yield Mutation(
                path,
                f"{comp}:VpcLink targets nothing ({name})",
                comp,
                "CFG030",
                _source(stack.template, name),
                unlink,
            )


def http_api_mutations(path: Path) -> Iterator[Mutation]:
    """An HTTP API's VPC link loses its security groups: no integration through it arrives."""
    _, env = _loaded(path)
    for comp, stack in env.stacks.items():
        resources = stack.template.get("Resources", {})
        for name, res in resources.items():
            props = res.get("Properties", {})
            if res["Type"] != "AWS::ApiGatewayV2::Integration" or props.get("ConnectionType") != (
                "VPC_LINK"
            ):
                continue
            link = props["ConnectionId"]["Ref"]

            def ungroup(t: dict[str, Any], c: str = comp, n: str = link) -> None:
                t[c]["Resources"][n]["Properties"]["SecurityGroupIds"] = []

            yield Mutation(
                path,
                f"{comp}:{link} without security groups ({name})",
                comp,
                "CFG030",
                _source(stack.template, name),
                ungroup,
            )


def cloudfront_mutations(path: Path) -> Iterator[Mutation]:
    """Drop the bucket policy statement for CloudFront, or point its condition elsewhere."""
    _, env = _loaded(path)
    for comp, stack in env.stacks.items():
        resources = stack.template.get("Resources", {})
        dists = [n for n, r in resources.items() if r["Type"] == "AWS::CloudFront::Distribution"]
        for name, res in resources.items():
            if res["Type"] != "AWS::S3::BucketPolicy" or not dists:
                continue
            for i, st in enumerate(res["Properties"]["PolicyDocument"]["Statement"]):
                principal = st.get("Principal")
                if not isinstance(principal, dict) or principal.get("Service") != (
                    "cloudfront.amazonaws.com"
                ):
                    continue

                def drop(t: dict[str, Any], c: str = comp, n: str = name, k: int = i) -> None:
                    del t[c]["Resources"][n]["Properties"]["PolicyDocument"]["Statement"][k]

                def other(t: dict[str, Any], c: str = comp, n: str = name, k: int = i) -> None:
                    doc = t[c]["Resources"][n]["Properties"]["PolicyDocument"]
                    doc["Statement"][k]["Condition"] = {"StringEquals": {"AWS:SourceArn": "x"}}

                for how, fn in (("loses", drop), ("retargets", other)):
                    yield Mutation(
                        path,
                        f"{comp}:{name} {how} CloudFront's statement",
                        comp,
                        "CFG031",
                        _source(stack.template, dists[0]),
                        fn,
                    )


# What each declared access needs, written from the AWS documentation for these tests (the
# verifier has its own table): losing one of these actions breaks every access that needs it.
_NEEDED = {
    "uses:read": ("s3:GetObject", "s3:ListBucket"),
    "uses:read-write": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"),
    "uses:send": ("sqs:SendMessage",),
    "uses:consume": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"),
    "uses:publish": ("sns:Publish",),
    "log-group": ("logs:CreateLogStream", "logs:PutLogEvents"),
    "secret": ("secretsmanager:GetSecretValue",),
    "parameter": ("ssm:GetParameter",),
    "object": ("s3:GetObject",),
    "deploy:repository": (
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
    ),
    "deploy:host": ("ssm:SendCommand", "ssm:GetCommandInvocation"),
    "deploy:site": (
        "s3:ListBucket",
        "s3:PutObject",
        "s3:DeleteObject",
        "cloudfront:CreateInvalidation",
    ),
    "deploy:service": (
        "ecs:RegisterTaskDefinition",
        "ecs:DescribeServices",
        "ecs:UpdateService",
        "iam:PassRole",
    ),
}


def _strip(template: dict[str, Any], role: str, action: str) -> None:
    """Remove `action` from every statement of the role's inline policies."""
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            st["Action"] = [a for a in actions if a != action] or ["none:NoSuchAction"]


def access_mutations(path: Path) -> Iterator[Mutation]:
    """A role the manifest says needs an access (a `uses` entry, a host's secret or logs, a
    deploy role's repository or service) loses one action that access needs."""
    rendered, _ = _loaded(path)
    by_role: dict[tuple[str, str], dict[str, list[str]]] = {}
    for access in rendered.accesses:
        if "access_point" in access:
            continue  # an EFS mount: mount_mutations cut those
        comp, _, role = access["role"].partition("/")
        for action in _NEEDED.get(access["need"], ()):
            by_role.setdefault((comp, role), {}).setdefault(action, []).append(access["source"])
    for (comp, role), actions in sorted(by_role.items()):
        for action, sources in sorted(actions.items()):
            rule = "CFG029" if sources[0].startswith("deploy_roles.") else "CFG028"
            yield Mutation(
                path,
                f"{comp}:{role} loses {action}",
                comp,
                rule,
                sources[0],
                lambda t, c=comp, r=role, a=action: _strip(t[c], r, a),
                tuple(sources[1:]),
            )


GENERATORS = (
    import_mutations,
    rule_mutations,
    listener_mutations,
    registration_mutations,
    role_mutations,
    egress_mutations,
    api_mutations,
    http_api_mutations,
    cloudfront_mutations,
    mount_mutations,
    access_mutations,
)
MUTATIONS = [m for path in ENVS for gen in GENERATORS for m in gen(path)]


def test_reference_environments_verify_clean() -> None:
    for path in ENVS:
        rendered, env = _loaded(path)
        report = run_checks(env, rendered.origin)
        assert not report.findings and not report.waived, (path, report.findings)


def test_enough_generated_mutations_of_every_kind() -> None:
    assert len(MUTATIONS) >= 40
    assert {m.rule for m in MUTATIONS} >= {
        "CFG020",
        "CFG021",
        "CFG022",
        "CFG023",
        "CFG024",
        "CFG025",
        "CFG026",
        "CFG027",
        "CFG028",
        "CFG029",
        "CFG030",
        "CFG031",
    }
    # each new wire is cut at least once: uses grants, host roles, deploy steps, HTTP VPC
    # links, container instances' NAT
    whats = " ".join(m.what for m in MUTATIONS)
    for wire in (
        "TaskRole loses s3:PutObject",
        "TaskRole loses sqs:ReceiveMessage",
        "TaskRole loses sns:Publish",
        "Role loses secretsmanager:GetSecretValue",
        "Role loses logs:PutLogEvents",
        "DeployRole loses iam:PassRole",
        "DeployRole loses ecs:UpdateService",
        "deploy-role-deploy:Role loses ssm:SendCommand",
        "deploy-role-deploy:Role loses cloudfront:CreateInvalidation",
        "without security groups",
        "instances lose NAT",
    ):
        assert wire in whats, wire


def _mutation_id(m: Mutation) -> str:
    return f"{m.env.parent.name}-{m.env.name}: {m.what}"


@pytest.mark.slow
@pytest.mark.parametrize("mutation", MUTATIONS, ids=_mutation_id)
def test_the_verifier_names_each_broken_wire(mutation: Mutation) -> None:
    check_mutation(mutation)


_FIRST_OF_EACH_CHECK = {m.rule: i for i, m in reversed(list(enumerate(MUTATIONS)))}
FAST_SAMPLE = [
    m for i, m in enumerate(MUTATIONS) if i % 24 == 0 or i in _FIRST_OF_EACH_CHECK.values()
]


@pytest.mark.parametrize("mutation", FAST_SAMPLE, ids=_mutation_id)
def test_a_sample_of_broken_wires_in_the_fast_suite(mutation: Mutation) -> None:
    """Every 24th mutation and the first of each check in make test-fast; all of them in
    make test."""
    check_mutation(mutation)


def check_mutation(mutation: Mutation) -> None:
    rendered, env = _loaded(mutation.env)
    templates = {c: copy.deepcopy(s.template) for c, s in env.stacks.items()}
    mutation.apply(templates)
    mutated = Environment(
        [
            Stack(
                s.component,
                s.name,
                s.file,
                templates[s.component],
                dict(s.parameters),
                s.depends_on,
            )
            for s in env.stacks.values()
        ],
        env.region,
        env.name,
        env.relations,
        env.accesses,
    )
    report = run_checks(mutated, rendered.origin)
    named = [
        f
        for f in report.findings
        if f.rule == mutation.rule and f.stack == env.stacks[mutation.component].name
    ]
    assert named, f"{mutation.what}: not caught; findings: {[f.render() for f in report.findings]}"
    origins = {f.origin for f in named}
    wanted = (mutation.source, *mutation.others)
    assert any(_MARK.match(o) and o.endswith(tuple(f"({w})" for w in wanted)) for o in origins), (
        origins,
        wanted,
    )
