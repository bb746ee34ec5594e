"""OIDC providers and deploy roles in the shared scope: one provider per account and issuer.

An account has at most one IAM OIDC provider per URL; the shared scope declares it once, the
deploy roles of environments in the scope's account trust it by its known ARN, and two
environments of one account that would each create it are a positioned error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.compiler import Inputs, validate_blueprint
from cfngen.errors import BlueprintError
from tests.helpers import compile_text, errors_of, write

BLUEPRINT = """\
blueprint: city
region: eu-west-1
shared:
  deploy: {account: "111111111111"}
  oidc_providers:
    github: {provider: github}
    gitlab: {provider: gitlab, url: https://gitlab.example.com}
  repositories:
    payload: {}
  deploy_roles:
    images: {provider: github, repository: acme/city}
network: {availability_zones: 2, nat: single}
cluster: {}
services:
  web:
    image: {repository: payload, tag: dev-abc123}
    port: 3000
deploy_roles:
  github: {provider: github, repository: acme/city}
environments:
  dev: {deploy: {account: "111111111111"}}
  prod: {deploy: {account: "333333333333"}}
"""


def resources(env: Any, component: str) -> dict[str, Any]:
    from cfngen.render import load_template

    return load_template(env.stack(component).body)["Resources"]


def federated(env: Any, component: str) -> Any:
    role = resources(env, component)["DeployRole"]["Properties"]
    return role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Federated"]


def test_the_shared_scope_creates_each_provider_once(tmp_path: Path) -> None:
    shared = compile_text(tmp_path, BLUEPRINT, env="shared")
    assert [s.component for s in shared.stacks] == ["ecr", "oidc", "deploy-role-images"]
    res = resources(shared, "oidc")
    assert (
        res["GithubProvider"]["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    )
    assert res["GithubProvider"]["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    assert res["GitlabProvider"]["Properties"]["Url"] == "https://gitlab.example.com"
    assert res["GitlabProvider"]["Properties"]["ClientIdList"] == ["https://gitlab.example.com"]
    # the scope's own deploy role trusts it and waits for it; it pushes to the scope's repository
    assert "oidc" in shared.stack("deploy-role-images").depends_on
    assert "OidcProvider" not in resources(shared, "deploy-role-images")
    assert federated(shared, "deploy-role-images") == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::111111111111:oidc-provider/"
        "token.actions.githubusercontent.com"
    }


def deny(env: Any, component: str) -> list[Any]:
    role = resources(env, component)["DeployRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    return next(s for s in statements if s["Sid"] == "NotTheDeployRoleStacks")["Resource"]


def test_the_pipeline_may_not_change_the_provider_stack(tmp_path: Path) -> None:
    """Providers decide who may assume the deploy roles: an administrator deploys them."""
    shared = compile_text(tmp_path, BLUEPRINT, env="shared")
    assert deny(shared, "deploy-role-images") == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:"
            "stack/${EnvironmentName}-deploy-role-*/*"
        },
        {
            "Fn::Sub": "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:"
            "stack/${EnvironmentName}-oidc/*"
        },
    ]
    dev = compile_text(tmp_path, BLUEPRINT, env="dev")
    assert len(deny(dev, "deploy-role-github")) == 1


def test_a_role_in_the_scopes_account_trusts_the_shared_provider_others_create_their_own(
    tmp_path: Path,
) -> None:
    dev = compile_text(tmp_path, BLUEPRINT, env="dev")
    assert "OidcProvider" not in resources(dev, "deploy-role-github")
    assert federated(dev, "deploy-role-github") == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::111111111111:oidc-provider/"
        "token.actions.githubusercontent.com"
    }
    assert "oidc" not in dev.stack("deploy-role-github").depends_on  # another scope: no edge
    prod = compile_text(tmp_path, BLUEPRINT, env="prod")
    assert "OidcProvider" in resources(prod, "deploy-role-github")
    assert federated(prod, "deploy-role-github") == {"Fn::GetAtt": ["OidcProvider", "Arn"]}


def test_two_environments_of_one_account_creating_the_provider_is_an_error(
    tmp_path: Path,
) -> None:
    text = BLUEPRINT.replace(
        '  prod: {deploy: {account: "333333333333"}}',
        '  test: {deploy: {account: "333333333333"}}\n  prod: {deploy: {account: "333333333333"}}',
    )
    assert compile_text(tmp_path, text, env="test").stack("deploy-role-github")  # the first
    assert errors_of(tmp_path, text, "prod") == [
        "bp.yaml:19:3: deploy_roles.github: environment test and environment prod are both in "
        "account 333333333333 and each creates the OIDC provider for "
        "token.actions.githubusercontent.com (deploy roles github and github); an account has "
        "one provider per URL, so prod's deploy would fail (set "
        "`environments.prod.deploy_roles.github.oidc_provider_arn: "
        "arn:aws:iam::333333333333:oidc-provider/token.actions.githubusercontent.com`)"
    ]
    # validate reports it too; naming the provider in prod is the way out
    with_arn = text.replace(
        '  prod: {deploy: {account: "333333333333"}}',
        '  prod:\n    deploy: {account: "333333333333"}\n    deploy_roles:\n'
        "      github: {oidc_provider_arn: "
        '"arn:aws:iam::333333333333:oidc-provider/token.actions.githubusercontent.com"}',
    )
    try:
        validate_blueprint(Inputs(write(tmp_path, text)))
    except BlueprintError as err:
        assert "prod's deploy would fail" in err.render()
    else:
        raise AssertionError("validate accepted the collision")
    assert len(validate_blueprint(Inputs(write(tmp_path, with_arn)))) == 4


def test_without_a_shared_scope_the_fix_is_to_declare_one(tmp_path: Path) -> None:
    text = """\
blueprint: city
region: eu-west-1
deploy_roles:
  github: {provider: github, repository: acme/city, deploy_stacks: false}
environments:
  dev: {deploy: {account: "111111111111"}}
  prod: {deploy: {account: "111111111111"}}
"""
    assert errors_of(tmp_path, text, "prod") == [
        "bp.yaml:4:3: deploy_roles.github: environment dev and environment prod are both in "
        "account 111111111111 and each creates the OIDC provider for "
        "token.actions.githubusercontent.com (deploy roles github and github); an account has "
        "one provider per URL, so prod's deploy would fail (declare it once: `shared: {deploy: "
        '{account: "111111111111"}, oidc_providers: {ci: {provider: github}}}` (the roles in '
        "that account then use it), or set "
        "`environments.prod.deploy_roles.github.oidc_provider_arn: "
        "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com`)"
    ]
    # without accounts cfngen cannot tell: no error (docs/ci.md says what to do)
    assert compile_text(tmp_path, text.replace('{deploy: {account: "111111111111"}}', "{}"), "prod")


def test_shared_provider_mistakes_are_positioned_errors(tmp_path: Path) -> None:
    two = BLUEPRINT.replace(
        "  github: {provider: github, repository: acme/city}",
        "  github: {provider: github, repository: acme/city, deploy_stacks: false}\n"
        "  more: {provider: github, repository: acme/other, deploy_stacks: false}",
    )
    assert errors_of(tmp_path, two, "prod") == [
        "bp.yaml:20:3: deploy_roles.more: deploy roles github and more both create the OIDC "
        "provider for token.actions.githubusercontent.com; an account has one provider per URL "
        "(set `oidc_provider_arn: "
        "arn:aws:iam::333333333333:oidc-provider/token.actions.githubusercontent.com` on deploy "
        "role more)"
    ]
    audience = BLUEPRINT.replace(
        "  github: {provider: github, repository: acme/city}",
        "  github: {provider: github, repository: acme/city}\n"
        "  lab: {provider: gitlab, url: https://gitlab.example.com, audience: ci, "
        "project: acme/city, branch: main}",
    )
    assert errors_of(tmp_path, audience, "dev") == [
        "bp.yaml:20:3: deploy_roles.lab: the role pins the audience ci, which the shared OIDC "
        "provider 'gitlab' does not accept (https://gitlab.example.com) (add it to "
        "shared.oidc_providers.gitlab.audiences)"
    ]
    unknown = BLUEPRINT.replace('  dev: {deploy: {account: "111111111111"}}', "  dev: {}")
    assert errors_of(tmp_path, unknown, "dev") == [
        "bp.yaml:19:3: deploy_roles.github: the shared scope's OIDC provider for "
        "token.actions.githubusercontent.com is in account 111111111111, and this environment "
        "names no deploy.account, so cfngen cannot tell whether the role may use it (set "
        "deploy.account (the role uses the shared provider in that account and creates its own "
        "elsewhere), or set oidc_provider_arn)"
    ]
    outside = BLUEPRINT.replace(
        "cluster: {}", "cluster: {}\noidc_providers: {ci: {provider: github}}"
    )
    assert errors_of(tmp_path, outside, "dev") == [
        "bp.yaml:14:18: oidc_providers.ci: OIDC providers are declared in the shared scope (an "
        "account has one per URL) (move them under `shared: {oidc_providers: ...}`, or let each "
        "deploy role create its own (the default))"
    ]
    twice = BLUEPRINT.replace(
        "    github: {provider: github}",
        "    github: {provider: github}\n    gh: {provider: github}",
    )
    assert errors_of(tmp_path, twice, "shared") == [
        "bp.yaml:7:5: oidc_providers.gh: 'github' is already the provider for "
        "token.actions.githubusercontent.com (an account has one provider per URL) (remove one, "
        "and list every audience under shared.oidc_providers.github)"
    ]
    url = BLUEPRINT.replace(
        "    github: {provider: github}", "    github: {provider: github, url: https://x.example}"
    )
    assert errors_of(tmp_path, url, "shared")[0].startswith(
        "bp.yaml:6:13: oidc_providers.github: GitHub's issuer is fixed"
    )


def test_the_shared_scopes_own_role_counts_as_the_first_of_its_account(tmp_path: Path) -> None:
    """Without a shared provider, the scope's role creates one in the tools account: an
    environment there whose role creates one too would fail."""
    text = BLUEPRINT.replace(
        "  oidc_providers:\n    github: {provider: github}\n"
        "    gitlab: {provider: gitlab, url: https://gitlab.example.com}\n",
        "",
    )
    errors = errors_of(tmp_path, text, "dev")
    assert len(errors) == 1
    assert errors[0].startswith(
        "bp.yaml:16:3: deploy_roles.github: the shared scope and environment dev are both in "
        "account 111111111111 and each creates the OIDC provider for "
        "token.actions.githubusercontent.com (deploy roles images and github)"
    )
