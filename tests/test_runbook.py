"""The runbook's shell blocks, run by bash with an `aws` that records its arguments.

What the AWS CLI would be asked to do, word by word after the shell's quoting and expansion:
every stack with its region, template, parameters, capabilities and every tag cfngen deploys it
with; termination protection where the manifest says so; large templates through the artifact
bucket (named as cfngen names it, per region); rollback with the previous image tag. The real
AWS CLI runs the same blocks against the emulator in tests/deploy/test_runbook_replay.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from cfngen.artifact_bucket import ENCRYPTION, LIFECYCLE, bucket_policy_document
from cfngen.builders.task_definition import IMAGE_TAG as BUILDERS_IMAGE_TAG
from cfngen.compiler import compile_environment
from cfngen.render import RenderedEnvironment
from cfngen.runbook import IMAGE_TAG, runbook
from tests.reference import ROOT

# a shell script (a Python one would start an interpreter per call): each call's words,
# NUL-separated, the program's name first; a call ends with NUL and a newline
RECORDER = """\
#!/bin/sh
{ printf '%s\\0' "${0##*/}" "$@"; printf '\\n'; } >> "$AWS_CALLS"
case "$1 $2" in
  "sts get-caller-identity") echo 123456789012 ;;
  "s3api head-bucket") exit 254 ;;  # no such bucket yet: the runbook creates it
esac
"""


@pytest.fixture(scope="module")
def legocity_prod() -> RenderedEnvironment:
    return compile_environment(Path("blueprints/legocity.yaml"), "prod")


def _blocks(text: str) -> list[str]:
    return re.findall(r"^ *```sh\n(.*?)^ *```$", text, flags=re.S | re.M)


def _deploy_blocks(text: str) -> str:
    section = text.split("\n## Deploy with the AWS CLI\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(_blocks(section.split("\nOr with cfngen", 1)[0]))


def _run(script: str, tmp_path: Path, program: str | None = "aws") -> list[list[str]]:
    """The `aws` calls the script makes, in order (with `program=None`: the `aws` and
    `docker` calls, each led by the program's name)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("aws", "docker"):
        fake = bin_dir / name
        fake.write_text(RECORDER)
        fake.chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    calls.write_text("")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "AWS_CALLS": str(calls)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    made = [record.split("\0") for record in calls.read_text().split("\0\n") if record]
    return [c[1:] for c in made if c[0] == program] if program else made


def _option(argv: list[str], name: str) -> list[str]:
    """The words after `name` up to the next option ([] when it is not given)."""
    if name not in argv:
        return []
    i = argv.index(name) + 1
    words = []
    while i < len(argv) and not argv[i].startswith("--"):
        words.append(argv[i])
        i += 1
    return words


def _stack_calls(calls: list[list[str]]) -> list[list[str]]:
    """Deploys and termination protection (not the image step's registry login)."""
    return [c for c in calls if c[1] in ("deploy", "update-termination-protection")]


def test_image_tag_is_the_builders_parameter() -> None:
    assert IMAGE_TAG == BUILDERS_IMAGE_TAG


def test_deploy_block_deploys_every_stack_as_cfngen_does(
    legocity_prod: RenderedEnvironment, tmp_path: Path
) -> None:
    calls = _stack_calls(_run(_deploy_blocks(runbook(legocity_prod)), tmp_path))
    expected: list[list[str]] = []
    for s in legocity_prod.stacks:
        expected.append(["cloudformation", "deploy", s.name])
        expected.append(["cloudformation", "update-termination-protection", s.name])
    assert [[*c[:2], _option(c, "--stack-name")[0]] for c in calls] == expected
    for stack, call in zip(legocity_prod.stacks, calls[::2], strict=True):
        assert _option(call, "--region") == ["eu-west-1"]
        assert _option(call, "--template-file") == [stack.file]
        assert _option(call, "--parameter-overrides") == [f"file://{stack.params_file}"]
        assert _option(call, "--capabilities") == list(stack.capabilities)
        assert "--no-fail-on-empty-changeset" in call
        assert "--s3-bucket" not in call  # every legocity template is under 51,200 bytes
        tags = dict(word.split("=", 1) for word in _option(call, "--tags"))
        assert tags == {
            **stack.tags,
            "cfngen:blueprint": "legocity",
            "cfngen:environment": "prod",
        }
    for call in calls[1::2]:
        assert "--enable-termination-protection" in call


def test_termination_protection_only_where_the_manifest_asks(tmp_path: Path) -> None:
    dev = compile_environment(Path("blueprints/legocity.yaml"), "dev")
    assert not any(s.termination_protection for s in dev.stacks)
    calls = _stack_calls(_run(_deploy_blocks(runbook(dev)), tmp_path))
    assert {c[1] for c in calls} == {"deploy"}


def test_large_templates_go_through_the_artifact_bucket_of_their_region(
    legocity_prod: RenderedEnvironment, tmp_path: Path
) -> None:
    big = "# " + "x" * 52_000 + "\n"  # a comment: over 51,200 bytes, same template
    network, security = legocity_prod.stack("network"), legocity_prod.stack("security")
    env = replace(
        legocity_prod,
        stacks=(
            replace(network, body=network.body + big),
            replace(security, body=security.body + big, region="us-east-1"),
        ),
    )
    text = runbook(env)
    assert "`network.yaml`, `security.yaml` are over 51,200 bytes" in text
    calls = _run(_deploy_blocks(text), tmp_path)
    made = [c for c in calls if c[0] == "s3api"]
    bucket = {"eu-west-1": "cfngen-artifacts-123456789012-eu-west-1"}
    bucket["us-east-1"] = "cfngen-artifacts-123456789012-us-east-1"
    for region in ("eu-west-1", "us-east-1"):
        here = [c for c in made if _option(c, "--region") == [region]]
        assert [c[1] for c in here] == [
            "head-bucket",
            "create-bucket",
            "put-public-access-block",
            "put-bucket-encryption",
            "put-bucket-policy",
            "put-bucket-lifecycle-configuration",
        ]
        assert {_option(c, "--bucket")[0] for c in here} == {bucket[region]}
        create = here[1]
        assert _option(create, "--object-ownership") == ["BucketOwnerEnforced"]
        location = ["LocationConstraint=eu-west-1"] if region == "eu-west-1" else []
        assert _option(create, "--create-bucket-configuration") == location
        policy = json.loads(_option(here[4], "--policy")[0])
        assert policy == bucket_policy_document(bucket[region])
        encryption = json.loads(_option(here[3], "--server-side-encryption-configuration")[0])
        assert encryption == ENCRYPTION
        assert json.loads(_option(here[5], "--lifecycle-configuration")[0]) == LIFECYCLE
    deploys = [c for c in calls if c[:2] == ["cloudformation", "deploy"]]
    assert _option(deploys[0], "--s3-bucket") == [bucket["eu-west-1"]]
    assert _option(deploys[0], "--s3-prefix") == ["legocity-prod/network"]
    assert _option(deploys[1], "--s3-bucket") == [bucket["us-east-1"]]
    assert _option(deploys[1], "--region") == ["us-east-1"]


def test_a_known_account_names_the_bucket_without_asking_sts(
    legocity_prod: RenderedEnvironment, tmp_path: Path
) -> None:
    network = legocity_prod.stack("network")
    env = replace(
        legocity_prod,
        stacks=(replace(network, body=network.body + "# " + "x" * 52_000 + "\n"),),
        target={"account": "444455556666", "role_arn": "arn:aws:iam::444455556666:role/ci"},
    )
    text = runbook(env)
    assert "It belongs to AWS account `444455556666`" in text
    assert "as `arn:aws:iam::444455556666:role/ci`, the role cfngen assumes" in text
    calls = _run(_deploy_blocks(text), tmp_path)
    assert not [c for c in calls if c[0] == "sts"]
    deploy = next(c for c in calls if c[:2] == ["cloudformation", "deploy"])
    assert _option(deploy, "--s3-bucket") == ["cfngen-artifacts-444455556666-eu-west-1"]


def test_tag_values_are_quoted_for_the_shell(
    legocity_prod: RenderedEnvironment, tmp_path: Path
) -> None:
    network = legocity_prod.stack("network")
    odd = {**network.tags, "owner": "Platform team's $HOME", "note": "a;b"}
    env = replace(legocity_prod, stacks=(replace(network, tags=odd),))
    call, _protect = _run(_deploy_blocks(runbook(env)), tmp_path)
    tags = dict(word.split("=", 1) for word in _option(call, "--tags"))
    assert tags["owner"] == "Platform team's $HOME"
    assert tags["note"] == "a;b"


def test_an_image_step_deploys_the_tag_it_is_given(
    legocity_prod: RenderedEnvironment, tmp_path: Path
) -> None:
    text = runbook(legocity_prod)
    section = text.split("\n## Roll out or roll back an image\n", 1)[1].split("\n## ", 1)[0]
    blocks = _blocks(section)
    with_tag = [s for s in legocity_prod.stacks if IMAGE_TAG in s.parameters]
    assert len(blocks) == len(with_tag) == 5
    assert "--family-prefix legocity-prod-payload " in section
    assert "containerDefinitions[?name=='payload'].image" in section
    unset = subprocess.run(["bash", "-euc", blocks[0]], capture_output=True, text=True)
    assert unset.returncode != 0 and "set TAG" in unset.stderr  # nothing deployed
    for stack, block in zip(with_tag, blocks, strict=True):
        script = block.replace("TAG=  #", "TAG='v41 rc' #")
        (call,) = _run(script, tmp_path)
        assert _option(call, "--stack-name") == [stack.name]
        assert _option(call, "--parameter-overrides") == [
            *(f"{k}={v}" for k, v in sorted({**stack.parameters, IMAGE_TAG: "v41 rc"}.items()))
        ]
        assert _option(call, "--capabilities") == list(stack.capabilities)
        assert "--no-fail-on-empty-changeset" in call


def test_the_runbook_names_no_file_outside_the_folder(
    legocity_prod: RenderedEnvironment,
) -> None:
    text = runbook(legocity_prod)
    assert "Rendered by cfngen from `legocity.yaml` for region `eu-west-1`" in text
    assert str(ROOT) not in text
    files = {s.file for s in legocity_prod.stacks} | {s.params_file for s in legocity_prod.stacks}
    named = set(re.findall(r"[\w.-]+\.(?:yaml|params\.json)\b", text)) - {"legocity.yaml"}
    assert named <= files


def test_images_are_pushed_after_their_repositories_before_their_users(tmp_path: Path) -> None:
    env = compile_environment(Path("blueprints/production-lb.yaml"), "prod")  # its own ECR
    text = runbook(env)
    calls = _run(_deploy_blocks(text), tmp_path, program=None)
    deploys = [
        _option(c, "--stack-name")[0] for c in calls if c[1:3] == ["cloudformation", "deploy"]
    ]
    steps = [
        _option(c, "--stack-name")[0] if c[1:3] == ["cloudformation", "deploy"] else " ".join(c[:2])
        for c in calls
        if c[1:3] == ["cloudformation", "deploy"] or c[:2] in (["aws", "ecr"], ["docker", "login"])
    ]
    ecr = steps.index("production-lb-prod-ecr")
    # the login's two sides run together (a pipeline): either order
    assert sorted(steps[ecr + 1 : ecr + 3]) == ["aws ecr", "docker login"]
    assert steps[ecr + 3] == deploys[deploys.index("production-lb-prod-ecr") + 1]
    assert deploys.index("production-lb-prod-service-web") > deploys.index("production-lb-prod-ecr")
    login = next(c for c in calls if c[:2] == ["docker", "login"])
    assert login[2:5] == ["--username", "AWS", "--password-stdin"]
    section = text.split("\n## Deploy with the AWS CLI\n", 1)[1].split("\nOr with cfngen", 1)[0]
    pushes = re.findall(
        r"^- ([\w, -]+): `URI=.*OutputKey=='(\w+)'.*`docker tag <your image> "
        r'"\$URI:([\w.-]+)" && docker push "\$URI:\3"`$',
        section,
        flags=re.M,
    )
    assert pushes == [("service-web", "AppRepositoryUri", "latest")]


def test_images_of_repositories_made_elsewhere_are_prerequisites_not_pushes(
    legocity_prod: RenderedEnvironment,
) -> None:
    text = runbook(legocity_prod)  # its repositories are the shared scope's
    assert 'docker push "$URI' not in text
    before = text.split("\n## Before the first deploy\n", 1)[1].split("\n## ", 1)[0]
    assert "- image `legocity-shared-payload-images:prod-latest`" in before


def test_images_from_other_registries_are_not_pushed() -> None:
    placeos = compile_environment(Path("blueprints/placeos.yaml"), "prod")  # docker.io images
    assert "docker push" not in runbook(placeos)
