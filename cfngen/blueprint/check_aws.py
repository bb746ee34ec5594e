"""Checks of values CloudFormation would accept at render time and reject at deploy time.

A blueprint that validates must deploy: an engine version RDS does not offer, a reserved master
user name or a stack tag over AWS's limits would otherwise pass validate, render and lint and
fail in the middle of a deploy. The facts come from cfngen.blueprint.aws_facts.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from cfngen.blueprint import aws_facts
from cfngen.blueprint.models import Blueprint

if TYPE_CHECKING:
    from cfngen.blueprint.validate import Checker

OWN_TAGS = ("cfngen:blueprint", "cfngen:environment")
"""Tags cfngen puts on every stack besides the blueprint's own."""


def check_databases(bp: Blueprint, c: Checker) -> None:
    for name, db in bp.databases.items():
        path = ("databases", name)
        versions = aws_facts.rds_engine_versions(db.engine)
        if versions and db.version not in versions:
            close = difflib.get_close_matches(db.version, versions, n=1, cutoff=0.8)
            newest = [v for v in versions if v.split(".")[0] == db.version.split(".")[0]]
            c.error(
                (*path, "engine_version"),
                f"RDS does not offer {db.engine} {db.version}",
                f"did you mean {close[0]}?"
                if close
                else (
                    "e.g. " + newest[-1]
                    if newest
                    else f"see `aws rds describe-db-engine-versions --engine {db.engine}`"
                ),
            )
        else:
            classes = aws_facts.rds_instance_classes(db.engine, db.version, db.instance_class)
            if classes and db.instance_class not in classes:
                family = db.instance_class.rsplit(".", 1)[0]
                same = [k for k in classes if k.startswith(family + ".")]
                c.error(
                    (*path, "instance_class"),
                    f"{db.engine} {db.version} does not run on {db.instance_class}",
                    f"use one of {', '.join(same[:6])}" if same else "pick another instance class",
                )
        if aws_facts.reserved_master_username(db.engine, db.master_username):
            c.error(
                (*path, "master_username"),
                f"'{db.master_username}' is a reserved word of {db.engine} or an RDS account; "
                "RDS refuses it as master user name",
                "e.g. dbadmin",
            )


def check_stack_tags(bp: Blueprint, c: Checker) -> None:
    """Stack tags (the blueprint's `tags` plus cfngen's own) within CloudFormation's limits."""
    room = aws_facts.STACK_TAGS_MAX - len(OWN_TAGS)
    if len(bp.tags) > room:
        c.error(
            ("tags",),
            f"{len(bp.tags)} tags; a stack takes at most {aws_facts.STACK_TAGS_MAX}, and cfngen "
            f"adds {len(OWN_TAGS)} of its own ({', '.join(OWN_TAGS)})",
            f"keep at most {room}",
        )
    for key, value in bp.tags.items():
        if key in OWN_TAGS or key.startswith("cfngen:"):
            c.error(
                ("tags", key), f"tag key '{key}' is cfngen's own", "use another key", at_key=True
            )
            continue
        problem = aws_facts.tag_problem(key, value)
        if problem:
            c.error(("tags", key), problem[0], problem[1], at_key="key" in problem[0])


AWS_CHECKS = (check_databases, check_stack_tags)
