"""The `shared` scope: components deployed once for every environment, in their own account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import compile_text, errors_of

BLUEPRINT = """\
blueprint: city
region: eu-west-1
vars: {tools: "111111111111"}
shared:
  deploy: {account: "{{ vars.tools }}"}
  repositories:
    payload: {keep_last: 50}
network: {availability_zones: 2, nat: single}
cluster: {}
services:
  web:
    image: {repository: payload, tag: dev-abc123}
    port: 3000
environments:
  dev: {deploy: {account: "222222222222"}}
  prod:
    region: eu-central-1
    deploy: {account: "333333333333"}
    services: {web: {image: {repository: payload, tag: prod-abc123}}}
"""


def resources(env: Any, component: str) -> dict[str, Any]:
    from cfngen.render import load_template

    return load_template(env.stack(component).body)["Resources"]


def test_the_shared_scope_renders_only_its_components_and_admits_every_environment_account(
    tmp_path: Path,
) -> None:
    shared = compile_text(tmp_path, BLUEPRINT, env="shared")
    assert [s.name for s in shared.stacks] == ["city-shared-ecr"]
    assert shared.target == {"account": "111111111111"}
    repo = resources(shared, "ecr")["PayloadRepository"]["Properties"]
    assert repo["RepositoryName"] == {"Fn::Sub": "${EnvironmentName}-payload"}
    statement = repo["RepositoryPolicyText"]["Statement"][0]
    assert statement["Principal"]["AWS"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::222222222222:root"},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::333333333333:root"},
    ]
    assert statement["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:DescribeImages",
    ]


def test_environments_pull_from_the_shared_repository_by_its_known_uri(tmp_path: Path) -> None:
    prod = compile_text(tmp_path, BLUEPRINT, env="prod")
    assert "ecr" not in [s.component for s in prod.stacks]  # nothing of its own, no import
    assert set(prod.stack("service-web").depends_on) == {"network", "security", "cluster"}
    res = resources(prod, "service-web")
    container = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    # the shared scope stays in the blueprint's region when an environment moves
    assert container["Image"] == {
        "Fn::Sub": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/city-shared-payload:${ImageTag}"
    }
    statements = res["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    pulls = [s for s in statements if "ecr:BatchGetImage" in s["Action"]]
    assert pulls[0]["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:ecr:eu-west-1:111111111111:repository/"
            "city-shared-payload"
        }
    ]


def test_a_scope_without_an_account_is_the_environments_own(tmp_path: Path) -> None:
    text = BLUEPRINT.replace('  deploy: {account: "{{ vars.tools }}"}\n', "")
    shared = compile_text(tmp_path, text, env="shared")
    assert "RepositoryPolicyText" in resources(shared, "ecr")["PayloadRepository"]["Properties"]
    dev = compile_text(tmp_path, text, env="dev")
    image = resources(dev, "service-web")["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert image[0]["Image"]["Fn::Sub"].startswith("${AWS::AccountId}.dkr.ecr.eu-west-1.")


def test_shared_scope_mistakes_are_positioned_errors(tmp_path: Path) -> None:
    assert errors_of(
        tmp_path, BLUEPRINT.replace("  dev: {", "  shared: {}\n  dev: {"), "shared"
    ) == [
        "bp.yaml:15:3: environments.shared: 'shared' names the blueprint's shared scope, not "
        "an environment (rename the environment)"
    ]
    overlay = BLUEPRINT.replace('  dev: {deploy: {account: "222222222222"}}', "  dev: {shared: {}}")
    assert errors_of(tmp_path, overlay, "dev") == [
        "bp.yaml:15:9: environments.dev.shared: the shared scope is the same for every "
        "environment (declare shared components once, under the top-level `shared:`)"
    ]
    section = BLUEPRINT.replace("  repositories:\n", "  repository:\n")
    assert errors_of(tmp_path, section, "shared") == [
        "bp.yaml:6:3: shared.repository: 'repository' cannot be shared (did you mean "
        "'repositories'?)"
    ]
    twice = BLUEPRINT.replace("cluster: {}", "cluster: {}\nrepositories: {payload: {}}")
    assert errors_of(tmp_path, twice, "dev") == [
        "bp.yaml:10:25: repositories.payload: repository 'payload' is also declared in the "
        "shared scope (use the shared one (remove repositories.payload) or rename one of them)"
    ]
    typo = BLUEPRINT.replace("repository: payload, tag: dev", "repository: paylaod, tag: dev")
    assert any("did you mean 'payload'" in e for e in errors_of(tmp_path, typo, "dev"))


def test_verify_reads_the_shared_scope_beside_each_environment(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cfngen.cli import cli
    from tests.helpers import write

    text = BLUEPRINT.replace('dev: {deploy: {account: "222222222222"}}', "dev: {}")
    path = write(tmp_path, text)
    result = CliRunner().invoke(cli, ["verify", str(path), "--env", "dev"])
    assert result.exit_code == 1
    assert "CFG033" in result.output and "names no deploy.account" in result.output
    assert CliRunner().invoke(cli, ["verify", str(path), "--env", "prod"]).exit_code == 0
    out = tmp_path / "out"
    for env in ("shared", "dev"):
        assert (
            CliRunner().invoke(cli, ["render", str(path), "--env", env, "-o", str(out)]).exit_code
            == 0
        )
    folder = CliRunner().invoke(cli, ["verify", str(out / "dev")])  # the sibling out/shared
    assert folder.exit_code == 1 and "CFG033" in folder.output


def test_pull_accounts_the_blueprint_wrote_wrong_are_reported_not_replaced(tmp_path: Path) -> None:
    text = BLUEPRINT.replace(
        "payload: {keep_last: 50}", "payload: {keep_last: 50, pull_accounts: x}"
    )
    found = errors_of(tmp_path, text, "shared")
    assert len(found) == 1 and found[0].startswith("bp.yaml:7:")
    assert "repositories.payload.pull_accounts" in found[0]
