"""Many regions: `regions` validated, and which stacks go to every region (stack sets) or stay
in the home region, decided from the rendered templates and recorded in the manifest."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from cfngen.compiler import compile_environment
from cfngen.regions import assign_regions, global_reason
from cfngen.render import RenderedEnvironment, RenderedStack, write_environment
from tests.helpers import errors_of, write
from tests.reference import ROOT

BASE = textwrap.dedent(
    """\
    blueprint: shop
    region: eu-west-1
    network: {}
    queues: {jobs: {}}
    environments:
      dev: {}
      prod:
        regions: [eu-west-1, eu-central-1]
    """
)


def test_a_multi_region_environment_records_its_regions(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    dev = compile_environment(path, "dev")
    prod = compile_environment(path, "prod")
    assert (dev.regions, dev.stack_sets, {s.regions for s in dev.stacks}) == ((), {}, {()})
    assert prod.regions == ("eu-west-1", "eu-central-1")
    assert [(s.component, s.regions) for s in prod.stacks] == [
        ("network", ("eu-west-1", "eu-central-1")),
        ("queue-jobs", ("eu-west-1", "eu-central-1")),
    ]
    out = tmp_path / "out"
    write_environment(prod, out)
    manifest = json.loads((out / "prod" / "manifest.json").read_text())
    assert manifest["regions"] == ["eu-west-1", "eu-central-1"]
    assert manifest["stack_sets"] == {
        "execution_role": "AWSCloudFormationStackSetExecutionRole",
        "failure_tolerance": 0,
        "region_concurrency": "sequential",
    }
    assert manifest["stacks"][0]["regions"] == ["eu-west-1", "eu-central-1"]
    back = RenderedEnvironment.from_directory(out / "prod")
    assert (back.regions, back.stack_sets) == (prod.regions, prod.stack_sets)
    assert [(s.regions, s.home_only) for s in back.stacks] == [
        (s.regions, s.home_only) for s in prod.stacks
    ]
    # one region: the manifest is as it always was (goldens unchanged)
    write_environment(dev, out)
    dev_manifest = json.loads((out / "dev" / "manifest.json").read_text())
    assert "regions" not in dev_manifest and "regions" not in dev_manifest["stacks"][0]


def test_regions_errors(tmp_path: Path) -> None:
    wrong_first = BASE.replace("[eu-west-1, eu-central-1]", "[eu-central-1, eu-west-1]")
    assert errors_of(tmp_path, wrong_first, env="prod") == [
        "bp.yaml:8:14: regions: the first of `regions` must be `region` (eu-west-1), not "
        "eu-central-1 (put eu-west-1 first: [eu-west-1, eu-central-1])"
    ]
    twice = BASE.replace("[eu-west-1, eu-central-1]", "[eu-west-1, eu-central-1, eu-central-1]")
    assert errors_of(tmp_path, twice, env="prod") == [
        "bp.yaml:8:14: regions: eu-central-1 is listed more than once (name each region once)"
    ]
    tolerant = BASE + "    deploy: {stack_sets: {failure_tolerance: 1}}\n"
    assert errors_of(tmp_path, tolerant, env="prod") == [
        "bp.yaml:9:46: deploy.stack_sets.failure_tolerance: a production environment's stack "
        "sets stop at the first failed region (remove failure_tolerance (0), or set "
        "`production: false`)"
    ]
    name = BASE + "    deploy: {stack_sets: {execution_role: exec role}}\n"
    assert errors_of(tmp_path, name, env="prod") == [
        "bp.yaml:9:43: deploy.stack_sets.execution_role: 'exec role' is not an IAM role name "
        "(letters, digits and +=,.@_- only, at most 64, e.g. "
        "AWSCloudFormationStackSetExecutionRole)"
    ]
    role = BASE + "    deploy: {stack_sets: {administration_role: admin}}\n"
    assert errors_of(tmp_path, role, env="prod") == [
        "bp.yaml:9:48: deploy.stack_sets.administration_role: 'admin' is not an IAM role ARN "
        "(e.g. arn:aws:iam::111122223333:role/AWSCloudFormationStackSetAdministrationRole)"
    ]


def _body(resources: dict[str, object], **extra: object) -> dict[str, object]:
    return {"Resources": resources, **extra}


def test_global_resources_and_one_region_names_stay_home() -> None:
    named = {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Fn::Sub": "${Env}-deploy"}}}
    per_region = {
        "Type": "AWS::IAM::Role",
        "Properties": {"RoleName": {"Fn::Sub": "${Env}-deploy-${AWS::Region}"}},
    }
    assert global_reason(_body({"Role": named})) == (
        "Role (AWS::IAM::Role): its RoleName is the same in every region, and the name is global"
    )
    assert global_reason(_body({"Role": per_region})) == ""
    assert global_reason(_body({"Zone": {"Type": "AWS::Route53::HostedZone"}})) == (
        "Zone (AWS::Route53::HostedZone): a hosted zone is global"
    )
    assert global_reason(_body({"Cdn": {"Type": "AWS::CloudFront::Distribution"}})) == (
        "Cdn (AWS::CloudFront::Distribution): CloudFront is global"
    )
    cert = "arn:aws:acm:eu-west-1:111122223333:certificate/0f1e"
    listener = {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {"C": [cert]}}
    assert global_reason(_body({"Https": listener})) == (
        f"Https: names {cert}, a resource of eu-west-1 only"
    )
    # a policy may name another region's ARN, and images are pulled across regions
    policy = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Policies": [{"PolicyDocument": {"Resource": "arn:aws:sqs:us-east-1:1:q"}}],
            "Image": "arn:aws:ecr:eu-west-1:111122223333:repository/app",
        },
    }
    assert global_reason(_body({"Role": policy})) == ""
    vpc = {"Parameters": {"VpcId": {"Type": "String", "Default": "vpc-0a1b2c3d4e5f60718"}}}
    assert global_reason(_body({}, **vpc)) == (
        "parameter VpcId names vpc-0a1b2c3d4e5f60718, of one region only"
    )


def _stack(component: str, *depends: str, region: str | None = None) -> RenderedStack:
    return RenderedStack(
        name=f"shop-prod-{component}",
        component=component,
        file=f"{component}.yaml",
        body="",
        parameters={},
        depends_on=depends,
        exports=(),
        imports=(),
        region=region,
    )


def test_a_stack_importing_from_a_home_only_stack_stays_home_too() -> None:
    stacks = [
        _stack("network"),
        _stack("dns"),
        _stack("cert", region="us-east-1"),
        _stack("site", "cert"),
        _stack("reader", "dns"),
        _stack("service", "network"),
    ]
    bodies = [
        _body({}),
        _body({"Record": {"Type": "AWS::Route53::RecordSet"}}),
        _body({}),
        _body({}),
        _body({}),
        _body({}),
    ]
    regions = ("eu-west-1", "eu-central-1")
    placed = assign_regions(stacks, bodies, regions)
    assert [(s.component, s.regions, s.home_only) for s in placed] == [
        ("network", regions, ""),
        ("dns", (), "Record (AWS::Route53::RecordSet): DNS records of a hosted zone are global"),
        ("cert", (), "lives in us-east-1, its own region"),
        ("site", (), "imports from cert, which stays in the home region (exports are regional)"),
        ("reader", (), "imports from dns, which stays in the home region (exports are regional)"),
        ("service", regions, ""),
    ]
    assert assign_regions(stacks, bodies, ("eu-west-1",)) == stacks


def test_legocity_with_a_second_region_keeps_its_dns_records_home(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "legocity-accounts.yaml").read_text()
    text = text.replace("\n  prod:\n", "\n  prod:\n    regions: [eu-west-1, eu-central-1]\n", 1)
    path = tmp_path / "legocity.yaml"
    path.write_text(text)
    prod = compile_environment(path, "prod")
    home = {s.component: s.home_only for s in prod.stacks if s.home_only}
    assert home == {
        "dns": "AdminAppCityExampleA (AWS::Route53::RecordSet): DNS records of a hosted zone "
        "are global",
        # the pipeline's CloudFormation service role has one name in every region
        "deploy-role-github": "CloudFormationServiceRole (AWS::IAM::Role): its RoleName is the "
        "same in every region, and the name is global",
    }
    assert all(s.regions == prod.regions for s in prod.stacks if not s.home_only)


def test_a_stack_set_needs_its_parameters_in_every_region(tmp_path: Path) -> None:
    from cfngen.prerequisites import find

    text = BASE.replace(
        "queues: {jobs: {}}\n",
        "services:\n  api:\n    image: {uri: public.ecr.aws/nginx/nginx, tag: '1.27'}\n"
        "    port: 8080\n    secrets: {TOKEN: 'ssm:/shop/token'}\n",
    )
    prod = compile_environment(write(tmp_path, text), "prod")
    needed = [(p.kind, p.name, p.region) for p in find(prod)]
    assert needed == [
        ("ssm-parameter", "/shop/token", None),
        ("ssm-parameter", "/shop/token", "eu-central-1"),
    ]


def test_lint_runs_cfn_lint_in_a_stack_sets_other_regions_too(tmp_path: Path) -> None:
    """An instance type of eu-west-1 that ap-southeast-3 does not offer: reported once, for the
    region that lacks it; what every region reports is not repeated."""
    from cfngen.lint import Group, Template
    from cfngen.lint_run import run

    body = textwrap.dedent(
        """\
        AWSTemplateFormatVersion: '2010-09-09'
        Resources:
          Box:
            Type: AWS::EC2::Instance
            Properties:
              ImageId: ami-12345678
              InstanceType: p4de.24xlarge
        """
    )
    home = Template(name="shop-prod-box", file="prod/box.yaml", body=body, region="us-east-1")
    both = Template(
        name="shop-prod-box",
        file="prod/box.yaml",
        body=body,
        region="us-east-1",
        also_in=("ap-southeast-3",),
    )
    (alone,), _ = run([Group("shop-prod", [home], None)])
    (spread,), _ = run([Group("shop-prod", [both], None)])
    extra = [f for f in spread.findings if f not in alone.findings]
    assert [(f.rule, f.line, f.message.endswith("in 'ap-southeast-3'")) for f in extra] == [
        ("E3628", 7, True)
    ]
    assert len(spread.findings) == len(alone.findings) + 1
    assert spread.templates == alone.templates == 1


def test_a_rendered_stack_set_is_linted_in_each_region(tmp_path: Path) -> None:
    from cfngen.cli.lint import _from_blueprint, _from_rendered

    path = write(tmp_path, BASE)
    groups = {name: templates for name, templates, _ in _from_blueprint(path, (), (), ())}
    assert {t.also_in for t in groups["shop-prod"]} == {("eu-central-1",)}
    assert {t.also_in for t in groups["shop-dev"]} == {()}
    folder = write_environment(compile_environment(path, "prod"), tmp_path / "out")
    _, templates, _ = _from_rendered(folder)
    assert {t.also_in for t in templates} == {("eu-central-1",)}
