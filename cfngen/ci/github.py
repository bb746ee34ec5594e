"""The GitHub Actions workflow of `cfngen ci github`.

- pull requests into a deploying branch: validate, lint, and per environment a markdown plan
  (with the read-only role in the repository variable CFNGEN_PLAN_ROLE_ARN_<ENV>, when set),
  posted as one pull-request comment that later pushes edit;
- pushes to the branch the deploy role trusts: `cfngen deploy` per environment, in order,
  with aws-actions/configure-aws-credentials (`role-to-assume`, OIDC) and the change sets'
  service role (`--role-arn`); a role that trusts a GitHub environment deploys in that
  environment (its protection rules, such as required reviewers, gate the job);
- workflow_dispatch (environment, image_tag): roll one environment back to an earlier image
  tag (`cfngen deploy --image-tag`).

A job that declares a GitHub `environment` gets a token whose `sub` names the environment,
not the branch, so a job declares one only when the role trusts exactly that environment.
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

CHECKOUT = "actions/checkout@v4"
SETUP_PYTHON = "actions/setup-python@v5"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@v4"
ECR_LOGIN = "aws-actions/amazon-ecr-login@v2"
PYTHON = "3.12"
SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"


def _var(name: str) -> str:
    return f"${{{{ vars.{name} }}}}"


def _setup() -> list[dict[str, Any]]:
    return [
        {"uses": CHECKOUT},
        {"uses": SETUP_PYTHON, "with": {"python-version": PYTHON}},
        {
            "name": "Install cfngen",
            "run": f'if [ -z "${INSTALL_VARIABLE}" ]; then\n'
            f'  echo "::error::{INSTALL_HELP.format(kind="repository variable")}"\n'
            "  exit 1\n"
            "fi\n"
            f'python -m pip install "${INSTALL_VARIABLE}"\n',
        },
    ]


def _account(t: Target) -> tuple[str, list[dict[str, Any]]]:
    """The account as the workflow writes it, and a step that fails clearly when a variable
    that should give it is unset."""
    if t.account:
        return t.account, []
    check = {
        "name": f"Check {t.account_variable}",
        "env": {"ACCOUNT": _var(t.account_variable)},
        "run": 'if [ -z "$ACCOUNT" ]; then\n'
        f'  echo "::error::set the repository variable {t.account_variable} to the AWS '
        f'account of {t.env} (or deploy.account in the blueprint)"\n'
        "  exit 1\n"
        "fi\n",
    }
    return _var(t.account_variable), [check]


def _deploy_job(t: Target, extra: str, condition: str, needs: str | None = None) -> dict[str, Any]:
    account, checks = _account(t)
    job: dict[str, Any] = {
        "name": f"{'roll back' if extra else 'deploy'} {t.env}",
        **({"needs": [needs]} if needs else {}),
        "if": condition,
        "runs-on": "ubuntu-latest",
    }
    if t.role.environment is not None:
        job["environment"] = t.role.environment
    job["concurrency"] = {"group": f"cfngen-{t.environment_name}", "cancel-in-progress": False}
    job["permissions"] = {"contents": "read", "id-token": "write"}
    build = t.images and not extra
    tagged = (build and t.image_stacks) or (t.shared_images and not extra)
    if tagged:
        extra = ' --image-tag "$IMAGE_TAG"'
    deploy = f'cfngen deploy "$BLUEPRINT" --env {t.env} --yes --role-arn "$CFN_ROLE_ARN"{extra}\n'
    env = {"CFN_ROLE_ARN": t.role_arn(account, service=True)}
    if (build and not t.push_for) or tagged:
        env["IMAGE_TAG"] = _tag(t)
    elif extra:
        env["IMAGE_TAG"] = "${{ inputs.image_tag }}"
    job["steps"] = [
        *_setup(),
        *checks,
        {
            "uses": AWS_CREDENTIALS,
            "with": {
                "role-to-assume": t.role_arn(account),
                "aws-region": t.region,
                "role-session-name": f"cfngen-{t.env}",
                "role-duration-seconds": t.role.max_session_hours * 3600,
            },
        },
        *(_build_steps(t, account) if build else []),
        {"name": f"cfngen deploy {t.env}", "env": env, "run": deploy},
    ]
    return job


def _tag(t: Target) -> str:
    """The tag a workflow gives the images it builds: <env>-<commit>, e.g. dev-1a2b3c..."""
    return f"{t.env}-${{{{ github.sha }}}}"


def _build_steps(t: Target, account: str) -> list[dict[str, Any]]:
    """Log in to the environment's registry, build each image the deploy role pushes, tag it
    IMAGE_TAG and push it, before the deploy. The shared scope's job tags each image once per
    environment that runs it (<env>-<commit>), so each environment deploys its own tag."""
    registry = t.registry(account)
    if not t.push_for:
        run = "".join(
            f'docker build --pull -t "{registry}/{i.name}:$IMAGE_TAG" {shlex.quote(i.context)}\n'
            f'docker push "{registry}/{i.name}:$IMAGE_TAG"\n'
            for i in t.images
        )
        env = {"IMAGE_TAG": _tag(t)}
    else:
        run = ""
        for i in t.images:
            ref = f"{registry}/{i.name}"
            first = f'"{ref}:{t.push_for[0]}-$COMMIT"'
            run += f"docker build --pull -t {first} {shlex.quote(i.context)}\n"
            for e in t.push_for[1:]:
                run += f'docker tag {first} "{ref}:{e}-$COMMIT"\n'
            run += "".join(f'docker push "{ref}:{e}-$COMMIT"\n' for e in t.push_for)
        env = {"COMMIT": "${{ github.sha }}"}
    return [
        {"uses": ECR_LOGIN, "with": {"registries": account}},
        {"name": f"Build and push the images of {t.env}", "env": env, "run": run},
    ]


def _plan_steps(t: Target) -> list[dict[str, Any]]:
    role = _var(t.plan_role_variable)
    return [
        {
            "name": f"Plan credentials for {t.env}",
            "if": f"vars.{t.plan_role_variable} != '' && {SAME_REPOSITORY}",
            "uses": AWS_CREDENTIALS,
            "with": {
                "role-to-assume": role,
                "aws-region": t.region,
                "role-session-name": f"cfngen-plan-{t.env}",
            },
        },
        {
            "name": f"cfngen plan {t.env}",
            "env": {"PLAN_ROLE": role, "SAME_REPOSITORY": f"${{{{ {SAME_REPOSITORY} }}}}"},
            "run": "{\n"
            f'  echo "### {t.env}"\n'
            '  if [ -z "$PLAN_ROLE" ] || [ "$SAME_REPOSITORY" != "true" ]; then\n'
            f'    echo "Not planned: set the repository variable {t.plan_role_variable} to a '
            'read-only role (see docs/ci.md); pull requests from forks get no AWS credentials."\n'
            "  else\n"
            f'    cfngen plan "$BLUEPRINT" --env {t.env} --format markdown\n'
            "  fi\n"
            "} >> plan.md\n",
        },
    ]


def _check_job(p: Pipeline) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        *_setup(),
        {"run": 'cfngen validate "$BLUEPRINT"'},
        {"run": 'cfngen lint "$BLUEPRINT"'},
        {"run": 'echo "## cfngen plan: $BLUEPRINT" > plan.md'},
    ]
    for t in p.targets:
        steps += _plan_steps(t)
    steps.append(
        {
            "name": "Comment the plan",
            "if": f"always() && hashFiles('plan.md') != '' && {SAME_REPOSITORY}",
            "env": {
                "GH_TOKEN": "${{ github.token }}",
                "PR": "${{ github.event.pull_request.number }}",
            },
            "run": 'gh pr comment "$PR" --edit-last --body-file plan.md '
            '|| gh pr comment "$PR" --body-file plan.md\n',
        }
    )
    return {
        "name": "validate, lint, plan",
        "if": "github.event_name == 'pull_request'",
        "runs-on": "ubuntu-latest",
        "permissions": {"contents": "read", "id-token": "write", "pull-requests": "write"},
        "steps": steps,
    }


def workflow(p: Pipeline) -> str:
    envs = [t.env for t in p.environments]
    jobs: dict[str, Any] = {"check": _check_job(p)}
    previous: str | None = None
    for t in p.targets:
        on_branch = f"github.event_name == 'push' && github.ref == 'refs/heads/{branch(t.role)}'"
        job_id = f"deploy-{t.env}"
        if previous is None:
            jobs[job_id] = _deploy_job(t, "", on_branch)
        else:
            # after the previous environment, unless it failed; it may be skipped (other branch)
            condition = f"!failure() && !cancelled() && {on_branch}"
            jobs[job_id] = _deploy_job(t, "", condition, previous)
        previous = job_id
    for t in p.environments:
        condition = (
            "github.event_name == 'workflow_dispatch' && "
            f"inputs.environment == '{t.env}' && github.ref == 'refs/heads/{branch(t.role)}'"
        )
        jobs[f"rollback-{t.env}"] = _deploy_job(t, ' --image-tag "$IMAGE_TAG"', condition)
    document = {
        "name": f"cfngen {p.blueprint}",
        "on": {
            "pull_request": {"branches": p.branches},
            "push": {"branches": p.branches},
            "workflow_dispatch": {
                "inputs": {
                    "environment": {
                        "description": "Environment to roll back",
                        "required": True,
                        "type": "choice",
                        "options": envs,
                    },
                    "image_tag": {
                        "description": "Image tag to roll back to (one pushed before)",
                        "required": True,
                        "type": "string",
                    },
                }
            },
        },
        "permissions": {"contents": "read"},
        "env": {"BLUEPRINT": p.blueprint, INSTALL_VARIABLE: _var(INSTALL_VARIABLE)},
        "jobs": jobs,
    }
    text = header(
        p,
        "pull requests get a plan comment",
        "Repository variables",
        "CFNGEN_PLAN_ROLE_ARN_<ENV> (optional)",
    )
    return dump(text, document)


def warnings(p: Pipeline) -> list[str]:
    """What the workflow cannot enforce with this blueprint's trust."""
    out = []
    for t in p.targets:
        if t.production and t.role.environment is None:
            out.append(
                f"{t.env} deploys on every push to {branch(t.role)} without an approval: its "
                f"deploy role trusts a branch, and a job in a protected GitHub environment "
                f"gets a token the role refuses; set deploy_roles.{p.role_name}.environment "
                f"in environments.{t.env} to gate it with the environment's reviewers"
            )
    return out
