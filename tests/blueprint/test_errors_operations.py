"""Bad input for alerts, budget and GitLab deploy roles.

Exact messages with file:line:col, field and fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import errors_of

HEAD = "blueprint: shop\nregion: eu-west-1\n"
TAIL = "environments: {dev: {}}\n"

CASES = {
    "budget_email": (
        "budget: {monthly_limit_usd: 10, emails: [finance]}\n",
        [
            (
                "bp.yaml:3:42: budget.emails[0]: invalid e-mail address 'finance' (e.g. "
                "ops@example.com)"
            ),
        ],
    ),
    "budget_type": (
        (
            "budget:\n  monthly_limit_usd: 10\n  emails: [a@example.com]\n  thresholds: "
            "[{percent: 80, type: planned}]\n"
        ),
        [
            (
                "bp.yaml:6:36: budget.thresholds[0].type: invalid value 'planned' "
                "(expected 'actual' or 'forecasted')"
            ),
        ],
    ),
    "gitlab_url": (
        (
            "deploy_roles:\n  deploy: {provider: gitlab, project: acme/app, branch: main, url: "
            "'http://gitlab.example.com'}\n"
        ),
        [
            (
                "bp.yaml:4:68: deploy_roles.deploy.url: invalid GitLab URL "
                "'http://gitlab.example.com' (e.g. https://gitlab.example.com)"
            ),
        ],
    ),
    "gitlab_ref_type": (
        (
            "deploy_roles:\n  deploy: {provider: gitlab, project: acme/app, branch: main, "
            "ref_type: environment}\n"
        ),
        [
            (
                "bp.yaml:4:73: deploy_roles.deploy.ref_type: invalid value "
                "'environment' (expected 'branch' or 'tag')"
            ),
        ],
    ),
    "gitlab_provider": (
        (
            "deploy_roles:\n  deploy: {provider: gitlab, project: acme/app, branch: main, "
            "oidc_provider_arn: 'arn:aws:iam::1:oidc-provider/x'}\n"
        ),
        [
            (
                "bp.yaml:4:82: deploy_roles.deploy.oidc_provider_arn: invalid OIDC "
                "provider ARN 'arn:aws:iam::1:oidc-provider/x' (e.g. "
                "arn:aws:iam::123456789012:oidc-provider/gitlab.com)"
            ),
        ],
    ),
    "alerts_unknown_key": (
        "alerts: {email: [ops@example.com]}\n",
        [
            "bp.yaml:3:9: alerts.emails: required field is missing (add `emails:` here)",
            "bp.yaml:3:10: alerts.email: unknown key 'email' (did you mean 'emails'?)",
        ],
    ),
    "budget_nobody": (
        "budget: {monthly_limit_usd: 100}\n",
        [
            (
                "bp.yaml:3:9: budget: the budget notifies nobody (add `emails:` to the "
                "budget, or an `alerts` topic)"
            ),
        ],
    ),
    "budget_limit": (
        "budget: {monthly_limit_usd: 0, emails: [a@example.com]}\n",
        [
            "bp.yaml:3:29: budget.monthly_limit_usd: input should be greater than 0",
        ],
    ),
    "budget_dup": (
        (
            "budget:\n  monthly_limit_usd: 10\n  emails: [a@example.com]\n  thresholds: "
            "[{percent: 80}, {percent: 80}]\n"
        ),
        [
            "bp.yaml:4:3: budget: threshold 80% actual is listed twice (keep one)",
        ],
    ),
    "alerts_email": (
        "alerts: {emails: [not-an-email]}\n",
        [
            (
                "bp.yaml:3:19: alerts.emails[0]: invalid e-mail address 'not-an-email' "
                "(e.g. ops@example.com)"
            ),
        ],
    ),
    "gitlab_no_branch": (
        "deploy_roles:\n  deploy: {provider: gitlab, project: acme/app}\n",
        [
            (
                "bp.yaml:4:11: deploy_roles.deploy.branch: required field is "
                "missing (add `branch:` here)"
            ),
        ],
    ),
    "gitlab_project": (
        "deploy_roles:\n  deploy: {provider: gitlab, project: app, branch: main}\n",
        [
            (
                "bp.yaml:4:39: deploy_roles.deploy.project: invalid GitLab project "
                "path 'app' (e.g. acme/platform)"
            ),
        ],
    ),
    "gitlab_refs": (
        (
            "deploy_roles:\n  deploy:\n    provider: gitlab\n    project: acme/app\n"
            "    branch: main\n    permissions: {run_command_on: [ap], publish_sites: [web], "
            "repositories: [gw]}\nhosts:\n  app: {instance_type: t4g.small}\n"
        ),
        [
            (
                "bp.yaml:8:36: deploy_roles.deploy.permissions.run_command_on[0]: "
                "unknown host 'ap' (did you mean 'app'?)"
            ),
            (
                "bp.yaml:8:57: deploy_roles.deploy.permissions.publish_sites[0]: "
                "unknown site 'web' (declare the site first)"
            ),
            (
                "bp.yaml:8:78: deploy_roles.deploy.permissions.repositories[0]: "
                "unknown repository 'gw' (declare the repository first)"
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(tmp_path: Path, case: str) -> None:
    body, expected = CASES[case]
    assert errors_of(tmp_path, HEAD + body + TAIL) == expected
