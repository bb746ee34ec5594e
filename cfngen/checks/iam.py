"""IAM: who may assume a role, which roles may be passed on, admin rights, hard-coded partitions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import (
    IDENTITY_POLICY_TYPES,
    Hit,
    TemplateView,
    as_dict,
    as_list,
    check,
    policy_documents,
    statements,
    strings,
)


def _actions(st: dict[str, Any]) -> list[str]:
    return [a for a in as_list(st.get("Action")) if isinstance(a, str)]


def _wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def _condition_values(cond: dict[str, Any], operator: str, suffix: str) -> list[Any]:
    found: list[Any] = []
    for key, value in as_dict(cond.get(operator)).items():
        if str(key).endswith(suffix):
            found.extend(as_list(value) or [value])
    return found


@check(
    "CFG001",
    "OIDC trust without a pinned audience and subject",
    why="A web-identity trust that does not pin `sub` lets any repository or branch of the "
    "identity provider (every GitHub or GitLab project) assume the role.",
    source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html",
)
def oidc_trust(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type("AWS::IAM::Role"):
        for st in statements(res.props.get("AssumeRolePolicyDocument")):
            federated = as_dict(st.get("Principal")).get("Federated")
            web_identity = "sts:AssumeRoleWithWebIdentity" in _actions(st)
            if not web_identity or st.get("Effect") != "Allow":
                continue
            if federated == "cognito-identity.amazonaws.com":
                continue  # Cognito identity pools pin `aud` and `amr`, not `sub`
            cond = as_dict(st.get("Condition"))
            aud = _condition_values(cond, "StringEquals", ":aud")
            sub = _condition_values(cond, "StringEquals", ":sub")
            like = _condition_values(cond, "StringLike", ":sub")
            if not aud or any(isinstance(v, str) and _wildcard(v) for v in aud):
                yield (
                    res.id,
                    "the web-identity trust does not pin the audience (aud) with StringEquals",
                )
            wild = [v for v in sub + like if isinstance(v, str) and _wildcard(v)]
            if wild:
                yield (
                    res.id,
                    f"the web-identity trust accepts a wildcard subject {wild[0]!r}; "
                    "pin sub to one repository and branch or environment",
                )
            elif not sub and not like:
                yield (
                    res.id,
                    "the web-identity trust does not pin the subject (sub); any "
                    "project of the identity provider can assume the role",
                )


def _passes_roles(st: dict[str, Any]) -> bool:
    return any(a.lower() in ("iam:passrole", "iam:pass*", "iam:*", "*") for a in _actions(st))


def _role_of_this_template(t: TemplateView, value: Any) -> bool:
    """A role ARN that names a role this template creates, or that another stack exports."""
    if t.target(value, "AWS::IAM::Role") is not None:
        return True
    value = as_dict(value)
    if "Fn::ImportValue" in value or "Fn::GetStackOutput" in value:
        return True  # a role another stack of the system created and exported
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str):
            names = re.findall(r"\$\{([^}.!]+)(?:\.Arn)?\}", text)
            return any(n in t.resources and t.resources[n].type == "AWS::IAM::Role" for n in names)
    return False


@check(
    "CFG015",
    "iam:PassRole on roles the template does not create",
    why="Passing a role hands its permissions to a service; a principal that may pass any role, "
    "or roles created elsewhere, can run code with rights it was never given.",
    source="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
)
def pass_role(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type(*IDENTITY_POLICY_TYPES):
        for doc in policy_documents(res):
            for st in statements(doc):
                if st.get("Effect") != "Allow" or not _passes_roles(st):
                    continue
                resources = st.get("Resource")
                listed = resources if isinstance(resources, list) else [resources]
                if "NotResource" in st or "*" in listed:
                    yield res.id, "iam:PassRole on every role ('*'); name the roles it may pass"
                    continue
                foreign = [r for r in listed if not _role_of_this_template(t, r)]
                # one hit per distinct role, shown by its ARN text rather than "Fn::Sub"
                for shown in dict.fromkeys(_shown(r) for r in foreign):
                    yield res.id, f"iam:PassRole on a role this template does not create ({shown})"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return next((s for s in strings(value) if s != "Ref" and not s.startswith("Fn::")), "?")


_ADMIN_POLICY = re.compile(r":iam::aws:policy/AdministratorAccess$")


@check(
    "CFG017",
    "IAM policy with full administrative rights",
    why="`Action: '*'` on `Resource: '*'` (or AdministratorAccess) turns any weakness of the "
    "principal, such as a loose OIDC trust, into control of the whole account.",
    source="https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-1",
)
def admin_rights(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type(*IDENTITY_POLICY_TYPES):
        for doc in policy_documents(res):
            for st in statements(doc):
                actions = _actions(st)
                resources = as_list(st.get("Resource"))
                if (
                    st.get("Effect") == "Allow"
                    and ("*" in actions or "*:*" in actions)
                    and ("*" in resources)
                ):
                    yield res.id, "a statement allows every action on every resource"
        for arn in as_list(res.props.get("ManagedPolicyArns")):
            if any(_ADMIN_POLICY.search(s) for s in strings(arn)):
                yield res.id, "the AdministratorAccess managed policy is attached"


_HARD_CODED = re.compile(r"arn:aws:")


def _constructed_arns(value: Any, intrinsic: str = "") -> Iterator[str]:
    """Hard-coded `arn:aws:` that cfn-lint's I3042 does not report (it reads Fn::Sub strings
    only): ARNs joined with Fn::Join, and AWS-managed policy ARNs written out."""
    if isinstance(value, str):
        if (
            _HARD_CODED.search(value)
            and intrinsic != "Fn::Sub"
            and (intrinsic == "Fn::Join" or ":iam::aws:policy/" in value)
        ):
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _constructed_arns(v, k if k in ("Fn::Sub", "Fn::Join") else intrinsic)
    elif isinstance(value, list):
        for v in value:
            yield from _constructed_arns(v, intrinsic)


@check(
    "CFG019",
    "ARN built with a hard-coded aws partition",
    why="An ARN built as `arn:aws:...` breaks in GovCloud and the China regions; "
    "`arn:${AWS::Partition}:...` works everywhere. cfn-lint (I3042) reports it in Fn::Sub "
    "strings; this check covers ARNs joined with Fn::Join and AWS-managed policy ARNs.",
    source="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
    "pseudo-parameter-reference.html#cfn-pseudo-param-partition",
    severity="warning",
)
def hard_coded_partition(t: TemplateView) -> Iterator[Hit]:
    for res in t.resources.values():
        # a function's inline source is program text: an ARN in it is data, not the template's
        props = {k: v for k, v in res.props.items() if k not in ("Code", "InlineCode")}
        arns = sorted(set(_constructed_arns(props)))
        if arns:
            more = f" and {len(arns) - 1} more" if len(arns) > 1 else ""
            yield res.id, f"{arns[0]!r}{more} hard-code the aws partition; use ${{AWS::Partition}}"
