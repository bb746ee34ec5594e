"""Checks across scopes: an environment and the blueprint's `shared` scope it uses.

The environment's stacks name what they use of the shared scope by known names: repositories by
URI (CFG033: the repository policy admits the environment's account), the scope's OIDC provider
by ARN (CFG034: it exists and accepts the role's audience), the scope's stack outputs through
Fn::GetStackOutput (CFG035: the output exists and the change sets' role may read it). The
verifier reads both scopes (`Environment.peers`)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import as_dict, as_list, check
from cfngen.checks.wiring import ECR_IMAGE_URI, PULL
from cfngen.verify.iam import allowed
from cfngen.verify.model import Environment, Stack, partition
from cfngen.verify.model import Ref as IamRef


def _repositories(peer: Environment) -> dict[str, tuple[Stack, Any]]:
    """The peer's repositories by physical name, with their policy."""
    found: dict[str, tuple[Stack, Any]] = {}
    for stack, repo in peer.of_type("AWS::ECR::Repository"):
        name = peer.text(stack, repo.props.get("RepositoryName"))
        if name:
            found[name] = (stack, repo.props.get("RepositoryPolicyText"))
    return found


def _admits(peer: Environment, stack: Stack, policy: Any, account: str) -> list[str]:
    """The pull actions the policy does not give `account` (all of them when it names none)."""
    given: set[str] = set()
    for statement in as_list(as_dict(policy).get("Statement")):
        st = as_dict(statement)
        if st.get("Effect") != "Allow":
            continue
        principals = as_list(as_dict(st.get("Principal")).get("AWS"))
        texts = {peer.text(stack, p) for p in principals}
        if not any(t and re.fullmatch(rf"arn:aws[a-z-]*:iam::{account}:root", t) for t in texts):
            continue
        for action in as_list(st.get("Action")):
            if isinstance(action, str):
                given |= {a for a in PULL if fnmatch.fnmatchcase(a.lower(), action.lower())}
    return [a for a in PULL if a not in given]


@check(
    "CFG033",
    "Shared repository does not let this environment's account pull",
    why="An image in another account's ECR repository is pulled only when both sides allow "
    "it: the execution role's policy, and the repository's policy naming the pulling account. "
    "Without the repository policy the task stops with CannotPullContainerError.",
    source="https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html",
    scope="environment",
)
def shared_repository_pull(env: Environment) -> Iterator[tuple[str, str, str]]:
    peer = env.peers.get("shared")
    if peer is None:
        return
    owner = peer.account
    repositories = _repositories(peer)
    for stack, task in env.of_type("AWS::ECS::TaskDefinition"):
        for container in as_list(task.props.get("ContainerDefinitions")):
            c = as_dict(container)
            m = ECR_IMAGE_URI.match(env.text(stack, c.get("Image")) or "")
            if m is None or m["repo"] not in repositories or m["account"] == "*":
                continue  # not a shared repository, or one in the deploying account
            if owner is not None and m["account"] != owner:
                continue  # a repository of that name in another account: not the shared one
            if env.account is None:
                if owner is not None:
                    yield (
                        stack.component,
                        task.id,
                        f"container {c.get('Name')} pulls from the shared repository "
                        f"{m['repo']} in account {owner}, but this environment names no "
                        "deploy.account, so the repository cannot admit it",
                    )
                continue
            if env.account == m["account"]:
                continue  # same account: the execution role's own policy is enough (CFG025)
            repo_stack, policy = repositories[m["repo"]]
            lacking = _admits(peer, repo_stack, policy, env.account)
            if lacking:
                yield (
                    stack.component,
                    task.id,
                    f"container {c.get('Name')} pulls from {m['repo']} in account "
                    f"{m['account']}, whose repository policy does not give account "
                    f"{env.account} {', '.join(lacking)}",
                )


# --- OIDC providers of the shared scope ----------------------------------------------------------

_OIDC_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}|\*):oidc-provider/(?P<host>.+)$")


def _providers(env: Environment) -> dict[str, list[str]]:
    """The OIDC providers an environment creates: host -> client IDs."""
    found: dict[str, list[str]] = {}
    for stack, provider in env.of_type("AWS::IAM::OIDCProvider"):
        url = env.text(stack, provider.props.get("Url")) or ""
        ids = [env.text(stack, c) for c in as_list(provider.props.get("ClientIdList"))]
        found[url.removeprefix("https://")] = [c for c in ids if c is not None]
    return found


def _audience(env: Environment, stack: Stack, statement: dict[str, Any], host: str) -> str | None:
    for values in as_dict(statement.get("Condition")).values():
        got = as_dict(values).get(f"{host}:aud")
        if got is not None:
            return env.text(stack, got)
    return None


@check(
    "CFG034",
    "Deploy role trusts an OIDC provider the shared scope does not provide",
    why="A role that trusts the shared scope's OIDC provider by its ARN can be assumed only "
    "when that provider exists in the account and accepts the audience the trust pins; "
    "otherwise AssumeRoleWithWebIdentity fails (No OpenIDConnect provider found, or "
    "Incorrect token audience) and the pipeline cannot deploy.",
    source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html",
    scope="environment",
)
def shared_oidc_provider(env: Environment) -> Iterator[tuple[str, str, str]]:
    peer = env.peers.get("shared")
    if env.scope == "shared":
        owner = env  # the scope's own roles trust its own provider
    elif peer is not None:
        owner = peer
    else:
        return  # without the shared scope's templates there is nothing to compare with
    providers = _providers(owner)
    for stack, role in env.of_type("AWS::IAM::Role"):
        trust = as_dict(role.props.get("AssumeRolePolicyDocument"))
        for statement in as_list(trust.get("Statement")):
            st = as_dict(statement)
            federated = as_dict(st.get("Principal")).get("Federated")
            if "Fn::Sub" not in as_dict(federated):
                continue  # its own stack's provider (GetAtt/Ref), or one named by ARN
            m = _OIDC_ARN.match(env.text(stack, federated) or "")
            if m is None:
                continue
            if owner.account not in (None, m["account"]) and m["account"] != "*":
                continue  # a provider in another account: not the shared scope's
            host, audience = m["host"], _audience(env, stack, st, m["host"])
            ids = providers.get(host)
            if ids is None:
                yield (
                    stack.component,
                    role.id,
                    f"{role.id} trusts the shared scope's OIDC provider for {host}, which the "
                    "shared scope does not create",
                )
            elif audience is not None and audience not in ids:
                yield (
                    stack.component,
                    role.id,
                    f"{role.id} pins the audience {audience}, which the shared scope's OIDC "
                    f"provider for {host} does not accept ({', '.join(ids) or 'no client IDs'})",
                )


# --- outputs of the shared scope read with Fn::GetStackOutput ------------------------------------


def _stack_outputs_read(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "Fn::GetStackOutput" in value and len(value) == 1:
            yield as_dict(value["Fn::GetStackOutput"])
            return
        for v in value.values():
            yield from _stack_outputs_read(v)
    elif isinstance(value, list):
        for v in value:
            yield from _stack_outputs_read(v)


def _service_roles(env: Environment) -> Iterator[tuple[Stack, Any]]:
    """Roles only CloudFormation assumes: the change sets' execution roles."""
    for stack, role in env.of_type("AWS::IAM::Role"):
        trust = as_dict(role.props.get("AssumeRolePolicyDocument"))
        for statement in as_list(trust.get("Statement")):
            services = as_list(as_dict(as_dict(statement).get("Principal")).get("Service"))
            if "cloudformation.amazonaws.com" in services:
                yield stack, role
                break


@check(
    "CFG035",
    "Output of the shared scope read with Fn::GetStackOutput is not there or not readable",
    why="Fn::GetStackOutput resolves when the stack is created or updated: the shared scope's "
    "stack must have that output in the region named, and the role CloudFormation runs the "
    "change set with (the deploy role's service role) must be allowed "
    "cloudformation:DescribeStacks on that stack, or the change set fails.",
    source="https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
    "intrinsic-function-reference-getstackoutput.html",
    scope="environment",
)
def shared_stack_outputs(env: Environment) -> Iterator[tuple[str, str, str]]:
    peer = env.peers.get("shared")
    if peer is None:
        return
    by_name = {s.name: s for s in peer.stacks.values()}
    read: dict[str, tuple[str, str]] = {}  # stack ARN pattern -> (stack, a resource reading it)
    for stack in env.stacks.values():
        for res_id, res in stack.view.resources.items():
            for ref in _stack_outputs_read(res.props):
                name = env.text(stack, ref.get("StackName")) or ""
                if not name.startswith(f"{peer.name}-"):
                    continue  # a stack of the environment itself (a site's certificate)
                output = env.text(stack, ref.get("OutputName")) or ""
                region = env.text(stack, ref.get("Region")) or env.region
                target = by_name.get(name)
                if target is None:
                    yield (
                        stack.component,
                        res_id,
                        f"reads output {output} of stack {name}, which the shared scope does "
                        "not have",
                    )
                elif output not in target.view.outputs:
                    yield (
                        stack.component,
                        res_id,
                        f"reads output {output} of {name}, which has no such output",
                    )
                elif region != peer.region:
                    yield (
                        stack.component,
                        res_id,
                        f"reads {name} in region {region}; the shared scope is in {peer.region}",
                    )
                arn = (
                    f"arn:{partition(region)}:cloudformation:{region}:{peer.account or '*'}:"
                    f"stack/{name}/*"
                )
                read.setdefault(arn, (stack.name, res_id))
    for arn, (where, res_id) in read.items():
        for stack, role in _service_roles(env):
            if not allowed(
                env, IamRef(stack.component, role.id), "cloudformation:DescribeStacks", arn
            ):
                yield (
                    stack.component,
                    role.id,
                    f"{role.id} runs this environment's change sets, and {where} ({res_id}) "
                    f"reads {arn.split(':stack/')[1].split('/')[0]}'s outputs with "
                    "Fn::GetStackOutput, but the role may not cloudformation:DescribeStacks it",
                )
