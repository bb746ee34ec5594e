"""Checks across scopes: an environment and the blueprint's `shared` scope it uses.

The environment's stacks name the shared repositories by URI; the shared scope's stacks must
admit the environment's account. The verifier reads both (`Environment.peers`)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import as_dict, as_list, check
from cfngen.checks.wiring import ECR_IMAGE_URI, PULL
from cfngen.verify.model import Environment, Stack


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
