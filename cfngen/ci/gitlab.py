"""The `.gitlab-ci.yml` of `cfngen ci gitlab`.

- merge requests: `validate` (validate + lint) and, per environment whose read-only plan role
  is in the CI/CD variable CFNGEN_PLAN_ROLE_ARN_<ENV>, `plan:<env>`: the markdown plan as an
  artifact, posted as a merge-request note when CFNGEN_GITLAB_TOKEN (a project access token
  with `api` scope) is set;
- pipelines of the branch (or tag) the deploy role trusts: `deploy:<env>` per environment, in
  order (`needs`), one at a time per environment (`resource_group`); production environments
  are manual jobs in a GitLab environment of tier production (protect it so only maintainers
  can run it);
- `rollback:<env>`: manual, deploys the image tag in the variable ROLLBACK_IMAGE_TAG (given
  when the job is run) with `cfngen deploy --image-tag`.

Credentials: an `id_tokens` ID token with the deploy role's audience, exchanged with
`aws sts assume-role-with-web-identity` for the job's AWS credentials.
"""

from __future__ import annotations

import shlex
from typing import Any

from cfngen.ci import (
    INSTALL_HELP,
    INSTALL_VARIABLE,
    Pipeline,
    Target,
    branch,
    dump,
    header,
)

IMAGE = "python:3.12"
DOCKER = "docker:27"
TOKEN = "AWS_ID_TOKEN"

_INSTALL = [
    f'if [ -z "${{{INSTALL_VARIABLE}:-}}" ]; then '
    f'echo "{INSTALL_HELP.format(kind="CI/CD variable")}"; '
    "exit 1; fi",
    f'python -m pip install --quiet "${INSTALL_VARIABLE}" awscli',
]


def _assume(role_variable: str, session: str) -> list[str]:
    """Shell lines that turn the job's ID token into AWS credentials for `$<role_variable>`."""
    return [
        f'if [ -z "${{{role_variable}:-}}" ]; then echo "{role_variable} is not set"; exit 1; fi',
        "export $(printf 'AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s' "
        f'$(aws sts assume-role-with-web-identity --role-arn "${role_variable}" '
        f'--role-session-name "{session}-$CI_PIPELINE_ID" --web-identity-token "${TOKEN}" '
        "--duration-seconds 3600 "
        "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text))",
    ]


def _on_branch(t: Target) -> str:
    ref = branch(t.role)
    if t.role.ref_type == "tag":
        return f'$CI_COMMIT_TAG == "{ref}"'
    return f'$CI_COMMIT_BRANCH == "{ref}" && $CI_PIPELINE_SOURCE == "push"'


def _account(t: Target) -> tuple[str, list[str]]:
    if t.account:
        return t.account, []
    check = (
        f'if [ -z "${{{t.account_variable}:-}}" ]; then echo "set the CI/CD variable '
        f"{t.account_variable} to the AWS account of {t.env} (or deploy.account in the "
        'blueprint)"; exit 1; fi'
    )
    return f"${{{t.account_variable}}}", [check]


def _tag(t: Target) -> str:
    """The tag a pipeline gives the images it builds: <env>-<short commit>, e.g. dev-1a2b3c4d."""
    return f"{t.env}-$CI_COMMIT_SHORT_SHA"


def _build_job(t: Target) -> dict[str, Any]:
    """Build each image the deploy role pushes, tag it IMAGE_TAG and push it (Docker in
    Docker), before the environment's deploy."""
    account, checks = _account(t)
    registry = t.registry(account)
    script = [
        *checks,
        *_assume("DEPLOY_ROLE_ARN", f"cfngen-build-{t.env}"),
        f"aws ecr get-login-password --region {t.region} | "
        f"docker login --username AWS --password-stdin {registry}",
    ]
    for image in t.images:
        if not t.push_for:
            ref = f"{registry}/{image.name}:$IMAGE_TAG"
            script += [f'docker build --pull -t "{ref}" {shlex.quote(image.context)}']
            script += [f'docker push "{ref}"']
            continue
        # the shared scope: one tag per environment that runs the image (<env>-<commit>)
        refs = [f'"{registry}/{image.name}:{e}-$CI_COMMIT_SHORT_SHA"' for e in t.push_for]
        script += [f"docker build --pull -t {refs[0]} {shlex.quote(image.context)}"]
        script += [f"docker tag {refs[0]} {r}" for r in refs[1:]]
        script += [f"docker push {r}" for r in refs]
    return {
        "stage": "build",
        "image": DOCKER,
        "services": [f"{DOCKER}-dind"],
        "rules": [{"if": _on_branch(t)}],
        "id_tokens": {TOKEN: {"aud": t.role.aud}},
        "variables": {
            "AWS_DEFAULT_REGION": t.region,
            "DEPLOY_ROLE_ARN": t.role_arn(account),
            "DOCKER_TLS_CERTDIR": "/certs",
            **({} if t.push_for else {"IMAGE_TAG": _tag(t)}),
        },
        "before_script": ["apk add --no-cache aws-cli"],
        "script": script,
    }


def _restart_hosts(t: Target, tag: str) -> list[str]:
    """Shell lines that restart each Compose host on `tag`: it is written to the project's
    deploy.env, which the host's compose-app unit reads (compose files use ${IMAGE_TAG})."""
    lines: list[str] = []
    for host in t.hosts:
        outputs = "Stacks[0].Outputs[?OutputKey=='InstanceId'].OutputValue"
        commands = (
            f'[\\"echo IMAGE_TAG={tag} > {host.directory}/deploy.env\\",'
            '\\"systemctl restart compose-app\\"]'
        )
        lines += [
            f"INSTANCE=$(aws cloudformation describe-stacks --stack-name {host.stack} "
            f'--query "{outputs}" --output text)',
            'COMMAND=$(aws ssm send-command --instance-ids "$INSTANCE" '
            f'--document-name AWS-RunShellScript --comment "cfngen {t.env} {tag}" '
            f'--parameters "commands={commands}" --query Command.CommandId --output text)',
            'aws ssm wait command-executed --command-id "$COMMAND" --instance-id "$INSTANCE"',
        ]
    return lines


def _deploy_job(t: Target, rollback: bool, needs: str | None) -> dict[str, Any]:
    account, checks = _account(t)
    script = [*checks, *_assume("DEPLOY_ROLE_ARN", f"cfngen-{t.env}")]
    command = f'cfngen deploy "$BLUEPRINT" --env {t.env} --yes --role-arn "$CFN_ROLE_ARN"'
    tag = "$ROLLBACK_IMAGE_TAG" if rollback else "$IMAGE_TAG"
    if rollback:
        script.insert(
            0,
            'if [ -z "${ROLLBACK_IMAGE_TAG:-}" ]; then echo "run this job with the variable '
            'ROLLBACK_IMAGE_TAG set to the image tag to roll back to"; exit 1; fi',
        )
        if t.image_stacks or not t.hosts:
            command += ' --image-tag "$ROLLBACK_IMAGE_TAG"'
    elif t.image_stacks or t.shared_images:
        command += ' --image-tag "$IMAGE_TAG"'
    manual = rollback or t.production
    on_branch = _on_branch(t)
    if rollback:  # from any pipeline of the branch: a push's, or one run by hand
        on_branch = on_branch.removesuffix(' && $CI_PIPELINE_SOURCE == "push"')
    rule: dict[str, Any] = {"if": on_branch}
    if manual:
        rule["when"] = "manual"
    job: dict[str, Any] = {
        "stage": "rollback" if rollback else "deploy",
        "extends": ".cfngen",
        "rules": [rule],
    }
    after: list[dict[str, Any]] = []
    if needs is not None:  # optional: the previous one may deploy from another branch
        after.append({"job": needs, "optional": True})
    if t.images and not rollback:
        after.append({"job": f"build:{t.env}"})
    if after:
        job["needs"] = after
    if rollback:
        job["allow_failure"] = True  # a manual rollback does not hold the pipeline up
    elif t.production:
        job["allow_failure"] = False  # the pipeline waits for a person to run it
    job.update(
        {
            "environment": {
                "name": t.env,
                "deployment_tier": "production" if t.production else "development",
            },
            "resource_group": f"cfngen-{t.environment_name}",
            "id_tokens": {TOKEN: {"aud": t.role.aud}},
            "variables": {
                "AWS_DEFAULT_REGION": t.region,
                "DEPLOY_ROLE_ARN": t.role_arn(account),
                "CFN_ROLE_ARN": t.role_arn(account, service=True),
                **(
                    {"IMAGE_TAG": _tag(t)}
                    if ((t.images and not t.push_for) or t.shared_images) and not rollback
                    else {}
                ),
            },
            "script": [*script, command, *_restart_hosts(t, tag)],
        }
    )
    return job


def _plan_job(t: Target) -> dict[str, Any]:
    report = f"plan-{t.env}.md"
    return {
        "stage": "check",
        "extends": ".cfngen",
        "rules": [
            {"if": f'$CI_PIPELINE_SOURCE == "merge_request_event" && ${t.plan_role_variable}'}
        ],
        "id_tokens": {TOKEN: {"aud": t.role.aud}},
        "variables": {"AWS_DEFAULT_REGION": t.region},
        "script": [
            *_assume(t.plan_role_variable, f"cfngen-plan-{t.env}"),
            f'echo "### cfngen plan: {t.env}" > {report}',
            f'cfngen plan "$BLUEPRINT" --env {t.env} --format markdown >> {report}',
            'if [ -n "${CFNGEN_GITLAB_TOKEN:-}" ]; then curl --fail --silent --show-error '
            '--request POST --header "PRIVATE-TOKEN: $CFNGEN_GITLAB_TOKEN" '
            f'--data-urlencode "body@{report}" '
            '"$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"'
            " > /dev/null; fi",
        ],
        "artifacts": {"expose_as": f"cfngen plan {t.env}", "paths": [report], "when": "always"},
    }


def pipeline(p: Pipeline) -> str:
    document: dict[str, Any] = {
        # merge-request pipelines, else branch and tag pipelines: never both for one push
        "workflow": {
            "rules": [
                {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
                {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
                {"if": "$CI_COMMIT_BRANCH"},
                {"if": "$CI_COMMIT_TAG"},
            ]
        },
        "stages": [
            "check",
            *(["build"] if any(t.images for t in p.targets) else []),
            "deploy",
            "rollback",
        ],
        "variables": {"BLUEPRINT": p.blueprint, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        ".cfngen": {"image": IMAGE, "before_script": list(_INSTALL)},
        "validate": {
            "stage": "check",
            "extends": ".cfngen",
            "rules": [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}],
            "script": ['cfngen validate "$BLUEPRINT"', 'cfngen lint "$BLUEPRINT"'],
        },
    }
    for t in p.targets:
        document[f"plan:{t.env}"] = _plan_job(t)
    for t in p.targets:
        if t.images:
            document[f"build:{t.env}"] = _build_job(t)
    previous: str | None = None
    for t in p.targets:
        document[f"deploy:{t.env}"] = _deploy_job(t, False, previous)
        previous = f"deploy:{t.env}"
    for t in p.environments:
        document[f"rollback:{t.env}"] = _deploy_job(t, True, None)
    text = header(
        p,
        "merge requests get a plan",
        "CI/CD variables",
        "CFNGEN_PLAN_ROLE_ARN_<ENV> and CFNGEN_GITLAB_TOKEN (optional)",
    )
    return dump(text, document)


def warnings(p: Pipeline) -> list[str]:
    return []
