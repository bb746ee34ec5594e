"""`cfngen ci`: the generated files pass GitHub's and GitLab's published schemas, and say what
the blueprint's deploy roles trust: branches, role ARNs (checked against the rendered roles),
environment order, production gates, rollback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from cfngen.cli import cli
from cfngen.compiler import compile_environment
from cfngen.deploy.environment import with_image_tag
from cfngen.errors import UsageError
from cfngen.render import load_template
from tests.reference import ROOT

SCHEMAS = ROOT / "tests" / "fixtures" / "ci-schemas"

SHOP = """\
blueprint: shop
region: eu-west-1
network: {cidr: 10.0.0.0/16, availability_zones: 2, nat: single}
repositories:
  api-images: {}
services:
  api:
    image: {repository: api-images, tag: v1}
    port: 3000
deploy_roles:
  github: {provider: github, repository: acme/shop}
  gitlab: {provider: gitlab, project: acme/shop, branch: release, url: https://gitlab.example.com}
environments:
  prod:
    deploy: {account: "444455556666"}
    deploy_roles: {github: {environment: production}}
  dev: {}
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop.yaml").write_text(SHOP)
    return Path("shop.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["ci", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def generate(*args: str) -> dict[str, Any]:
    code, out, err = run(*args)
    assert code == 0, err
    return yaml.safe_load(out)


def validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def assert_valid(name: str, document: dict[str, Any]) -> None:
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def rendered_role_names(path: Path, env: str, component: str) -> set[str]:
    """The RoleName of every role in a rendered deploy-role stack, with EnvironmentName."""
    rendered = compile_environment(path, env)
    stack = rendered.stack(component)
    roles = load_template(stack.body)["Resources"].values()
    return {
        r["Properties"]["RoleName"]["Fn::Sub"].replace(
            "${EnvironmentName}", rendered.environment_name
        )
        for r in roles
        if r["Type"] == "AWS::IAM::Role"
    }


# -- the published schemas -----------------------------------------------------------------


def test_the_schemas_reject_a_broken_file() -> None:
    """The validators really validate: a job without runs-on, a job with an unknown key."""
    assert list(validator("github-workflows.json").iter_errors({"on": "push", "jobs": {"a": {}}}))
    assert list(validator("gitlab-ci.json").iter_errors({"a": {"script": 1, "when": "sometimes"}}))


def test_github_workflows_pass_githubs_schema(shop: Path) -> None:
    assert_valid("github-workflows.json", generate("github", str(shop)))


def test_production_lbs_github_workflow_passes_githubs_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    assert_valid("github-workflows.json", generate("github", "blueprints/production-lb.yaml"))


def test_gitlab_pipelines_pass_gitlabs_schema(shop: Path) -> None:
    assert_valid("gitlab-ci.json", generate("gitlab", str(shop)))


def test_connexings_gitlab_pipeline_passes_gitlabs_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert_valid("gitlab-ci.json", generate("gitlab", "blueprints/connexing.yaml"))


# -- what the GitHub workflow says ---------------------------------------------------------


def test_github_triggers_and_environment_order(shop: Path) -> None:
    wf = generate("github", str(shop))
    assert wf["on"]["pull_request"] == {"branches": ["main"]}
    assert wf["on"]["push"] == {"branches": ["main"]}
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == ["dev", "prod"]  # production last
    assert wf["env"] == {"BLUEPRINT": "shop.yaml", "CFNGEN_INSTALL": "${{ vars.CFNGEN_INSTALL }}"}
    jobs = wf["jobs"]
    assert list(jobs) == ["check", "deploy-dev", "deploy-prod", "rollback-dev", "rollback-prod"]
    assert jobs["check"]["if"] == "github.event_name == 'pull_request'"
    runs = [s.get("run", "") for s in jobs["check"]["steps"]]
    assert 'cfngen validate "$BLUEPRINT"' in runs and 'cfngen lint "$BLUEPRINT"' in runs
    plans = [r for r in runs if 'cfngen plan "$BLUEPRINT"' in r]
    assert ["--env dev --format markdown" in plans[0], "--env prod" in plans[1]] == [True, True]
    assert "gh pr comment" in runs[-1]
    assert "needs" not in jobs["deploy-dev"]
    assert jobs["deploy-dev"]["if"] == (
        "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    )
    assert jobs["deploy-prod"]["needs"] == ["deploy-dev"]
    assert jobs["deploy-prod"]["if"].startswith("!failure() && !cancelled() && ")


def test_github_deploys_assume_the_rendered_deploy_role(shop: Path) -> None:
    jobs = generate("github", str(shop))["jobs"]
    prod = jobs["deploy-prod"]
    assume = next(s for s in prod["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    deploy = prod["steps"][-1]
    names = rendered_role_names(shop, "prod", "deploy-role-github")
    assert names == {"shop-prod-github-deploy", "shop-prod-github-cfn"}
    assert assume["with"]["role-to-assume"] == (
        "arn:aws:iam::444455556666:role/shop-prod-github-deploy"
    )
    assert assume["with"]["aws-region"] == "eu-west-1"
    assert deploy["env"]["CFN_ROLE_ARN"] == "arn:aws:iam::444455556666:role/shop-prod-github-cfn"
    assert deploy["run"] == (
        'cfngen deploy "$BLUEPRINT" --env prod --yes --role-arn "$CFN_ROLE_ARN" '
        '--image-tag "$IMAGE_TAG"\n'
    )
    assert prod["permissions"] == {"contents": "read", "id-token": "write"}
    # prod's role trusts the GitHub environment `production`: the job runs in it, so the
    # token's sub is repo:acme/shop:environment:production, what the role pins
    assert prod["environment"] == "production"
    assert "environment" not in jobs["deploy-dev"]  # dev's trusts the branch: no environment
    # dev names no account: a repository variable gives it, checked before use
    dev_assume = next(
        s for s in jobs["deploy-dev"]["steps"] if "configure-aws-credentials" in s.get("uses", "")
    )
    assert dev_assume["with"]["role-to-assume"] == (
        "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID_DEV }}:role/shop-dev-github-deploy"
    )
    assert any(s.get("name") == "Check AWS_ACCOUNT_ID_DEV" for s in jobs["deploy-dev"]["steps"])


def test_github_rollback_deploys_an_earlier_image_tag(shop: Path) -> None:
    job = generate("github", str(shop))["jobs"]["rollback-prod"]
    assert job["if"] == (
        "github.event_name == 'workflow_dispatch' && inputs.environment == 'prod' && "
        "github.ref == 'refs/heads/main'"
    )
    step = job["steps"][-1]
    assert step["env"]["IMAGE_TAG"] == "${{ inputs.image_tag }}"  # never pasted into the shell
    assert step["run"].endswith('--image-tag "$IMAGE_TAG"\n')


def test_a_branch_trusted_production_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run("github", "blueprints/production-lb.yaml")
    assert code == 0
    assert "warning: prod deploys on every push to main without an approval" in err
    assert "environment" not in yaml.safe_load(out)["jobs"]["deploy-prod"]


# -- what the GitLab pipeline says ---------------------------------------------------------


def test_gitlab_deploys_on_the_trusted_branch_prod_by_hand(shop: Path) -> None:
    doc = generate("gitlab", str(shop))
    assert doc["stages"] == ["check", "deploy", "rollback"]
    assert {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"} in (
        doc["workflow"]["rules"]
    )  # no branch pipeline next to a merge request's
    dev, prod = doc["deploy:dev"], doc["deploy:prod"]
    on_release = '$CI_COMMIT_BRANCH == "release" && $CI_PIPELINE_SOURCE == "push"'
    assert dev["rules"] == [{"if": on_release}]
    assert prod["rules"] == [{"if": on_release, "when": "manual"}]
    assert prod["allow_failure"] is False
    assert prod["needs"] == [{"job": "deploy:dev", "optional": True}]
    assert prod["environment"] == {"name": "prod", "deployment_tier": "production"}
    assert dev["resource_group"] == "cfngen-shop-dev"
    assert prod["id_tokens"] == {"AWS_ID_TOKEN": {"aud": "https://gitlab.example.com"}}
    names = rendered_role_names(shop, "prod", "deploy-role-gitlab")
    assert prod["variables"]["DEPLOY_ROLE_ARN"].rsplit("/", 1)[1] in names
    assert prod["variables"]["DEPLOY_ROLE_ARN"] == (
        "arn:aws:iam::444455556666:role/shop-prod-gitlab-deploy"
    )
    assert (
        prod["variables"]["CFN_ROLE_ARN"] == "arn:aws:iam::444455556666:role/shop-prod-gitlab-cfn"
    )
    assert dev["variables"]["DEPLOY_ROLE_ARN"] == (
        "arn:aws:iam::${AWS_ACCOUNT_ID_DEV}:role/shop-dev-gitlab-deploy"
    )
    assert "assume-role-with-web-identity" in prod["script"][-2]
    assert prod["script"][-1] == (
        'cfngen deploy "$BLUEPRINT" --env prod --yes --role-arn "$CFN_ROLE_ARN"'
    )
    rollback = doc["rollback:prod"]
    assert rollback["rules"] == [{"if": '$CI_COMMIT_BRANCH == "release"', "when": "manual"}]
    assert rollback["script"][-1].endswith('--image-tag "$ROLLBACK_IMAGE_TAG"')
    assert doc["plan:dev"]["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "merge_request_event" && $CFNGEN_PLAN_ROLE_ARN_DEV'}
    ]
    assert "CFNGEN_INSTALL" in doc[".cfngen"]["before_script"][0]


# -- choices and errors --------------------------------------------------------------------


def test_env_option_picks_and_orders_environments(shop: Path) -> None:
    jobs = generate("github", str(shop), "--env", "prod")["jobs"]
    assert list(jobs) == ["check", "deploy-prod", "rollback-prod"]


def test_output_is_deterministic_and_written_with_o(shop: Path) -> None:
    code, first, _ = run("gitlab", str(shop))
    assert code == 0
    code, _, err = run("gitlab", str(shop), "-o", "ci/.gitlab-ci.yml")
    assert code == 0 and err == "wrote ci/.gitlab-ci.yml (dev, prod)\n"
    assert Path("ci/.gitlab-ci.yml").read_text() == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "nope"], "--role nope: no such deploy role (deploy roles: github, gitlab)\n"),
        (["--role", "gitlab"], "--role gitlab: the role is for gitlab, not github\n"),
    ],
)
def test_role_errors(shop: Path, args: list[str], message: str) -> None:
    code, _, err = run("github", str(shop), *args)
    assert (code, err) == (2, message)


def test_no_deploy_role_and_a_role_that_cannot_deploy(shop: Path) -> None:
    Path("bare.yaml").write_text(SHOP.split("deploy_roles:")[0] + "environments: {dev: {}}\n")
    code, _, err = run("gitlab", "bare.yaml")
    assert code == 2
    assert "dev: the blueprint has no `provider: gitlab` deploy role" in err
    Path("fixed.yaml").write_text(
        SHOP.replace("branch: release,", "deploy_stacks: false, branch: release,")
    )
    code, _, err = run("gitlab", "fixed.yaml")
    assert code == 2
    assert "deploy role gitlab has deploy_stacks: false, so it cannot run cfngen deploy" in err


def test_image_tag_sets_only_the_image_tag_parameters(shop: Path) -> None:
    env = compile_environment(shop, "dev")
    tagged = with_image_tag(env, "v41")
    changed = {s.component for s, o in zip(tagged.stacks, env.stacks, strict=True) if s != o}
    assert changed == {"service-api"}
    assert tagged.stack("service-api").parameters["ImageTag"] == "v41"
    assert with_image_tag(env, None) is env
    with pytest.raises(UsageError, match="is not a Docker tag"):
        with_image_tag(env, "-bad")


HOSTED = """\
blueprint: shop
region: eu-west-1
network: {cidr: 10.0.0.0/16, availability_zones: 2, nat: single}
repositories:
  api-images: {}
  web-images: {}
buckets:
  artifacts: {}
services:
  api:
    image: {repository: api-images, tag: v1}
    port: 3000
hosts:
  app:
    instance_type: t3.small
    compose: {bucket: artifacts, key: compose/docker-compose.yml, directory: /opt/shop}
deploy_roles:
  github: {provider: github, repository: acme/shop}
  gitlab:
    provider: gitlab
    project: acme/shop
    branch: main
    url: https://gitlab.example.com
    permissions: {repositories: [api-images, web-images], run_command_on: [app]}
environments:
  prod: {deploy: {account: "444455556666"}}
"""


def test_gitlab_builds_pushes_deploys_the_tag_and_restarts_compose_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop.yaml").write_text(HOSTED)
    doc = generate("gitlab", "shop.yaml", "--context", "web-images=frontend")
    assert_valid("gitlab-ci.json", doc)
    assert doc["stages"] == ["check", "build", "deploy", "rollback"]
    build, deploy = doc["build:prod"], doc["deploy:prod"]
    registry = "444455556666.dkr.ecr.eu-west-1.amazonaws.com"
    assert (
        build["variables"]["IMAGE_TAG"]
        == deploy["variables"]["IMAGE_TAG"]
        == ("prod-$CI_COMMIT_SHORT_SHA")
    )
    assert build["services"] == ["docker:27-dind"]
    assert build["script"][-4:] == [
        f'docker build --pull -t "{registry}/shop-prod-api-images:$IMAGE_TAG" api-images',
        f'docker push "{registry}/shop-prod-api-images:$IMAGE_TAG"',
        f'docker build --pull -t "{registry}/shop-prod-web-images:$IMAGE_TAG" frontend',
        f'docker push "{registry}/shop-prod-web-images:$IMAGE_TAG"',
    ]
    assert {"job": "build:prod"} in deploy["needs"]
    command = next(line for line in deploy["script"] if line.startswith("cfngen deploy"))
    assert command.endswith('--image-tag "$IMAGE_TAG"')
    restart = "\n".join(deploy["script"])
    assert "--stack-name shop-prod-host-app" in restart
    assert "echo IMAGE_TAG=$IMAGE_TAG > /opt/shop/deploy.env" in restart
    assert "systemctl restart compose-app" in restart
    assert "aws ssm wait command-executed" in restart
    rollback = "\n".join(doc["rollback:prod"]["script"])
    assert "echo IMAGE_TAG=$ROLLBACK_IMAGE_TAG > /opt/shop/deploy.env" in rollback
    # the deploy role may do each of these: CFG029 proves the rendered policy allows them
    code, _, err = run("gitlab", "shop.yaml", "--context", "nope=x")
    assert code == 2 and "--context nope: the deploy role pushes to no repository" in err


def test_github_builds_and_pushes_before_deploying_the_tag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop.yaml").write_text(HOSTED)
    doc = generate("github", "shop.yaml")
    assert_valid("github-workflows.json", doc)
    steps = doc["jobs"]["deploy-prod"]["steps"]
    login = next(s for s in steps if s.get("uses", "").startswith("aws-actions/amazon-ecr-login"))
    assert login["with"] == {"registries": "444455556666"}
    build = next(s for s in steps if s.get("name") == "Build and push the images of prod")
    assert build["env"]["IMAGE_TAG"] == "prod-${{ github.sha }}"
    assert 'shop-prod-api-images:$IMAGE_TAG" api-images' in build["run"]
    assert steps[-1]["env"]["IMAGE_TAG"] == "prod-${{ github.sha }}"
    assert steps.index(build) < len(steps) - 1


def test_image_tag_leaves_images_from_elsewhere_alone(tmp_path: Path) -> None:
    text = SHOP.replace(
        "    port: 3000\n",
        "    port: 3000\n  proxy:\n    image: {uri: public.ecr.aws/nginx/nginx, tag: '1.27'}\n"
        "    port: 80\n",
    )
    (tmp_path / "shop.yaml").write_text(text)
    env = compile_environment(tmp_path / "shop.yaml", "dev")
    tagged = with_image_tag(env, "v41")
    assert tagged.stack("service-api").parameters["ImageTag"] == "v41"
    assert tagged.stack("service-proxy").parameters.get("ImageTag") != "v41"
