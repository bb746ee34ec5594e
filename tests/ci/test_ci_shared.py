"""`cfngen ci` with a shared scope: the tools account's own deploy role deploys the shared
stacks and pushes the shared repositories' images, once per environment that runs them
(`<env>-<commit>`); each environment then deploys that tag with its own account's role."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cfngen.cli import cli
from tests.ci.test_ci import assert_valid, rendered_role_names
from tests.reference import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "shared-tools.yaml"


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copy(FIXTURE, tmp_path / "city.yaml")
    return Path("city.yaml")


def generate(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["ci", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = yaml.safe_load(result.stdout)
    return document


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("name") == name)


def test_github_deploys_the_shared_scope_first_with_its_own_role(tools: Path) -> None:
    workflow = generate("github", str(tools))
    assert_valid("github-workflows.json", workflow)
    jobs = workflow["jobs"]
    assert [j for j in jobs if j.startswith("deploy-")] == [
        "deploy-shared",
        "deploy-dev",
        "deploy-prod",
    ]
    assert jobs["deploy-dev"]["needs"] == ["deploy-shared"]
    shared = jobs["deploy-shared"]
    credentials = next(s for s in shared["steps"] if "role-to-assume" in s.get("with", {}))
    role = credentials["with"]["role-to-assume"]
    assert role == "arn:aws:iam::111111111111:role/city-shared-images-deploy"
    # the ARNs are the roles the shared scope's deploy-role stack creates
    names = rendered_role_names(tools, "shared", "deploy-role-images")
    assert role.rsplit("/", 1)[1] in names
    build = step(shared, "Build and push the images of shared")
    registry = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/city-shared-web"
    assert build["env"] == {"COMMIT": "${{ github.sha }}"}
    assert build["run"].splitlines() == [
        f'docker build --pull -t "{registry}:dev-$COMMIT" .',
        f'docker tag "{registry}:dev-$COMMIT" "{registry}:prod-$COMMIT"',
        f'docker push "{registry}:dev-$COMMIT"',
        f'docker push "{registry}:prod-$COMMIT"',
    ]
    deploy = step(shared, "cfngen deploy shared")
    assert deploy["env"] == {
        "CFN_ROLE_ARN": "arn:aws:iam::111111111111:role/city-shared-images-cfn"
    }
    assert "--image-tag" not in deploy["run"]
    # each environment assumes its own account's role and deploys its own tag, building nothing
    for env, account in (("dev", "111111111111"), ("prod", "333333333333")):
        job = jobs[f"deploy-{env}"]
        creds = next(s for s in job["steps"] if "role-to-assume" in s.get("with", {}))
        assert (
            creds["with"]["role-to-assume"]
            == f"arn:aws:iam::{account}:role/city-{env}-github-deploy"
        )
        assert not [s for s in job["steps"] if "amazon-ecr-login" in s.get("uses", "")]
        run = step(job, f"cfngen deploy {env}")
        assert run["env"]["IMAGE_TAG"] == f"{env}-${{{{ github.sha }}}}"
        assert run["run"].endswith('--image-tag "$IMAGE_TAG"\n')
    # nothing of the shared scope's runs images: no rollback of it
    assert "rollback-shared" not in jobs
    options = workflow["on"]["workflow_dispatch"]["inputs"]["environment"]["options"]
    assert options == ["dev", "prod"]


def test_gitlab_builds_for_the_shared_scope_and_each_environment_deploys_its_tag(
    tools: Path,
) -> None:
    text = tools.read_text()
    text = text.replace(
        "    images: {provider: github, repository: acme/city}",
        "    images: {provider: gitlab, project: acme/city, branch: main, "
        "permissions: {repositories: [web]}}",
    )
    text = text.replace("    github: {provider: github}", "    gitlab: {provider: gitlab}")
    text = text.replace(
        "  github: {provider: github, repository: acme/city}",
        "  gitlab: {provider: gitlab, project: acme/city, branch: main}",
    )
    tools.write_text(text)
    pipeline = generate("gitlab", str(tools))
    assert_valid("gitlab-ci.json", pipeline)
    build = pipeline["build:shared"]
    registry = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/city-shared-web"
    assert build["variables"]["DEPLOY_ROLE_ARN"] == (
        "arn:aws:iam::111111111111:role/city-shared-images-deploy"
    )
    assert build["script"][-4:] == [
        f'docker build --pull -t "{registry}:dev-$CI_COMMIT_SHORT_SHA" .',
        f'docker tag "{registry}:dev-$CI_COMMIT_SHORT_SHA" "{registry}:prod-$CI_COMMIT_SHORT_SHA"',
        f'docker push "{registry}:dev-$CI_COMMIT_SHORT_SHA"',
        f'docker push "{registry}:prod-$CI_COMMIT_SHORT_SHA"',
    ]
    assert pipeline["deploy:shared"]["needs"] == [{"job": "build:shared"}]
    assert pipeline["deploy:dev"]["needs"] == [{"job": "deploy:shared", "optional": True}]
    for env, account in (("dev", "111111111111"), ("prod", "333333333333")):
        job = pipeline[f"deploy:{env}"]
        assert job["variables"]["DEPLOY_ROLE_ARN"] == (
            f"arn:aws:iam::{account}:role/city-{env}-gitlab-deploy"
        )
        assert job["variables"]["IMAGE_TAG"] == f"{env}-$CI_COMMIT_SHORT_SHA"
        assert job["script"][-1].endswith('--image-tag "$IMAGE_TAG"')
    assert "rollback:shared" not in pipeline and "build:dev" not in pipeline


def test_a_shared_scope_without_a_deploy_role_is_left_to_an_administrator(tools: Path) -> None:
    text = tools.read_text().replace(
        "  deploy_roles:\n    images: {provider: github, repository: acme/city}\n", ""
    )
    tools.write_text(text)
    jobs = generate("github", str(tools))["jobs"]
    assert "deploy-shared" not in jobs
    run = next(s for s in jobs["deploy-dev"]["steps"] if s.get("name") == "cfngen deploy dev")
    assert "--image-tag" not in run["run"]  # nothing in the pipeline pushes the shared images
