"""Cut one cross-scope wire at a time: the verifier must name it in the environment.

The shared scope grants the environments what they use across scopes: a repository policy
admitting an account (CFG033), an OIDC provider accepting a role's audience (CFG034), a stack
output read with Fn::GetStackOutput and the right to read it (CFG035). The mutations are
generated from the rendered environments (what the environment's templates name in the shared
scope), never hand-picked: every blueprint with a shared scope among the examples, the
reference systems and tests/fixtures/shared-tools.yaml (a tools account hosting dev too).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cfngen.blueprint.environments import SHARED, environment_names
from cfngen.blueprint.source import load_file
from cfngen.compiler import compile_environment
from cfngen.render import RenderedEnvironment
from cfngen.verify import Environment, Stack, environment_of, run_checks
from tests.reference import ROOT

BLUEPRINTS = [
    p
    for p in sorted(
        [
            *(ROOT / "examples").glob("*.yaml"),
            *(ROOT / "blueprints").glob("*.yaml"),
            ROOT / "tests" / "fixtures" / "shared-tools.yaml",
        ]
    )
    if SHARED in environment_names(load_file(p))
]
ENVS = [(bp, env) for bp in BLUEPRINTS for env in environment_names(load_file(bp))]
_OIDC = re.compile(r"oidc-provider/(?P<host>.+)$")

Templates = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Mutation:
    blueprint: Path
    env: str
    what: str
    component: str  # the environment's stack the finding must be in
    rule: str
    source: str  # the blueprint entry the finding must name
    apply: Callable[[Templates, Templates], None]  # (environment's, shared scope's templates)


@cache
def _shared(blueprint: Path) -> RenderedEnvironment:
    return compile_environment(blueprint, SHARED)


@cache
def _compiled(blueprint: Path, env: str) -> tuple[RenderedEnvironment, Environment]:
    rendered = compile_environment(blueprint, env)
    return rendered, environment_of(rendered, shared=_shared(blueprint))


def _source(template: dict[str, Any], logical_id: str) -> str:
    meta = template["Resources"][logical_id].get("Metadata", {})
    return str(meta.get("cfngen", {}).get("source"))


def _resources(env: Environment, type_: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stack in env.stacks.values():
        for rid, res in stack.template.get("Resources", {}).items():
            if res.get("Type") == type_:
                yield stack.component, rid, res


def repository_mutations(blueprint: Path, env: str) -> Iterator[Mutation]:
    """Each account a shared repository's policy admits loses its place there, when this
    environment pulls from that repository in that account."""
    _, model = _compiled(blueprint, env)
    peer = model.peers[SHARED]
    if model.account is None or model.account == peer.account:
        return
    pulled = set()
    for comp, rid, task in _resources(model, "AWS::ECS::TaskDefinition"):
        for c in task["Properties"]["ContainerDefinitions"]:
            image = model.text(model.stacks[comp], c["Image"]) or ""
            if image.startswith(f"{peer.account}.dkr.ecr."):
                name = image.split("/", 1)[1].split(":")[0]
                pulled.add(name)
                source = _source(model.stacks[comp].template, rid)
                for pcomp, prid, repo in _resources(peer, "AWS::ECR::Repository"):
                    if model.text(peer.stacks[pcomp], repo["Properties"]["RepositoryName"]) != name:
                        continue

                    def cut(e: Templates, s: Templates, c: str = pcomp, r: str = prid) -> None:
                        policy = s[c]["Resources"][r]["Properties"]["RepositoryPolicyText"]
                        for st in policy["Statement"]:
                            st["Principal"]["AWS"] = [
                                p for p in st["Principal"]["AWS"] if model.account not in str(p)
                            ] or ["arn:aws:iam::999999999999:root"]

                    yield Mutation(
                        blueprint,
                        env,
                        f"{name} no longer admits {model.account}",
                        comp,
                        "CFG033",
                        source,
                        cut,
                    )


def provider_mutations(blueprint: Path, env: str) -> Iterator[Mutation]:
    """A role of the environment that trusts the shared scope's provider by ARN: the provider
    is removed, or stops accepting the audience the role pins."""
    _, model = _compiled(blueprint, env)
    own = env == SHARED  # the scope's own roles trust its own provider
    peer = model if own else model.peers[SHARED]
    providers = {
        (res["Properties"]["Url"].removeprefix("https://")): (comp, rid)
        for comp, rid, res in _resources(peer, "AWS::IAM::OIDCProvider")
    }
    for comp, rid, role in _resources(model, "AWS::IAM::Role"):
        for st in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            federated = st.get("Principal", {}).get("Federated")
            if not isinstance(federated, dict) or "Fn::Sub" not in federated:
                continue
            m = _OIDC.search(federated["Fn::Sub"])
            if m is None or m["host"] not in providers:
                continue
            pcomp, prid = providers[m["host"]]
            audience = st["Condition"]["StringEquals"][f"{m['host']}:aud"]
            source = _source(model.stacks[comp].template, rid)

            def drop(
                e: Templates, s: Templates, c: str = pcomp, r: str = prid, o: bool = own
            ) -> None:
                del (e if o else s)[c]["Resources"][r]

            def deaf(
                e: Templates,
                s: Templates,
                c: str = pcomp,
                r: str = prid,
                a: str = audience,
                o: bool = own,
            ) -> None:
                props = (e if o else s)[c]["Resources"][r]["Properties"]
                props["ClientIdList"] = [x for x in props["ClientIdList"] if x != a] or ["other"]

            yield Mutation(
                blueprint,
                env,
                f"{rid} loses its provider {m['host']}",
                comp,
                "CFG034",
                source,
                drop,
            )
            yield Mutation(
                blueprint,
                env,
                f"{m['host']} stops accepting {audience}",
                comp,
                "CFG034",
                source,
                deaf,
            )


def _reads(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if set(value) == {"Fn::GetStackOutput"}:
            yield value["Fn::GetStackOutput"]
            return
        for v in value.values():
            yield from _reads(v)
    elif isinstance(value, list):
        for v in value:
            yield from _reads(v)


def output_mutations(blueprint: Path, env: str) -> Iterator[Mutation]:
    """Each output the environment reads with Fn::GetStackOutput disappears from the shared
    scope's stack; each CloudFormation service role loses cloudformation:DescribeStacks."""
    _, model = _compiled(blueprint, env)
    peer = model.peers[SHARED]
    by_name = {s.name: s.component for s in peer.stacks.values()}
    seen: set[tuple[str, str]] = set()
    reads = False
    for stack in model.stacks.values():
        for rid, res in stack.template.get("Resources", {}).items():
            for ref in _reads(res.get("Properties", {})):
                reads = True
                key = (ref["StackName"], ref["OutputName"])
                if key in seen:
                    continue
                seen.add(key)
                target = by_name[ref["StackName"]]

                def lose(e: Templates, s: Templates, c: str = target, o: str = key[1]) -> None:
                    del s[c]["Outputs"][o]

                yield Mutation(
                    blueprint,
                    env,
                    f"{key[0]} loses output {key[1]}",
                    stack.component,
                    "CFG035",
                    _source(stack.template, rid),
                    lose,
                )
    if not reads:
        return
    for comp, rid, role in _resources(model, "AWS::IAM::Role"):
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if not any(
            st.get("Principal", {}).get("Service") == "cloudformation.amazonaws.com" for st in trust
        ):
            continue

        def unread(e: Templates, s: Templates, c: str = comp, r: str = rid) -> None:
            for policy in e[c]["Resources"][r]["Properties"]["Policies"]:
                for st in policy["PolicyDocument"]["Statement"]:
                    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                    st["Action"] = [a for a in actions if a != "cloudformation:DescribeStacks"] or [
                        "none:NoSuchAction"
                    ]

        yield Mutation(
            blueprint,
            env,
            f"{comp}:{rid} loses cloudformation:DescribeStacks",
            comp,
            "CFG035",
            _source(model.stacks[comp].template, rid),
            unread,
        )


GENERATORS = (repository_mutations, provider_mutations, output_mutations)
MUTATIONS = [m for bp, env in ENVS for gen in GENERATORS for m in gen(bp, env)]


def test_every_cross_scope_wire_is_generated() -> None:
    assert {m.rule for m in MUTATIONS} == {"CFG033", "CFG034", "CFG035"}
    whats = " | ".join(f"{m.env}: {m.what}" for m in MUTATIONS)
    for wire in (
        "no longer admits 333333333333",
        "DeployRole loses its provider token.actions.githubusercontent.com",
        "shared: DeployRole loses its provider",
        "token.actions.githubusercontent.com stops accepting sts.amazonaws.com",
        "city-shared-dns loses output ZoneId",
        "deploy-role-github:CloudFormationServiceRole loses cloudformation:DescribeStacks",
    ):
        assert wire in whats, wire


def test_environments_with_a_shared_scope_verify_clean() -> None:
    for bp, env in ENVS:
        rendered, model = _compiled(bp, env)
        report = run_checks(model, rendered.origin)
        assert not report.findings, (bp, env, [f.render() for f in report.findings])


def _id(m: Mutation) -> str:
    return f"{m.blueprint.stem}-{m.env}: {m.what}"


@pytest.mark.parametrize("mutation", MUTATIONS, ids=_id)
def test_the_verifier_names_each_cut_grant(mutation: Mutation) -> None:
    rendered, model = _compiled(mutation.blueprint, mutation.env)
    peer = model.peers[SHARED]
    mine = {c: copy.deepcopy(s.template) for c, s in model.stacks.items()}
    theirs = {c: copy.deepcopy(s.template) for c, s in peer.stacks.items()}
    mutation.apply(mine, theirs)

    def rebuild(env: Environment, templates: Templates) -> Environment:
        out = Environment(
            [
                Stack(s.component, s.name, s.file, templates[s.component], dict(s.parameters))
                for s in env.stacks.values()
            ],
            env.region,
            env.name,
            env.relations,
            env.accesses,
        )
        out.account, out.scope = env.account, env.scope
        return out

    mutated = rebuild(model, mine)
    mutated.peers = {SHARED: rebuild(peer, theirs)}
    report = run_checks(mutated, rendered.origin)
    named = [
        f
        for f in report.findings
        if f.rule == mutation.rule and f.stack == model.stacks[mutation.component].name
    ]
    assert named, f"{mutation.what}: not caught; {[f.render() for f in report.findings]}"
    assert any(f.origin.endswith(f"({mutation.source})") for f in named), (
        [f.origin for f in named],
        mutation.source,
    )
