"""Builders: one module per component kind.

`PLANNERS` lists every kind's planner in declaration order (the order only breaks ties in the
deploy order, see cfngen.stacks.deploy_order). `GROUP_PROVIDERS` lists the kinds that
contribute security groups and relations to the shared security stack. Each new kind adds
its planner (and providers) here, its model to cfngen.blueprint.models, and its semantic checks
to cfngen.blueprint.validate.SEMANTIC_CHECKS.
"""

from __future__ import annotations

from cfngen.builders import network, security
from cfngen.builders.base import Planner
from cfngen.builders.relations import AttributeProvider, TargetProvider
from cfngen.builders.security import GroupProvider

PLANNERS: tuple[Planner, ...] = (
    network.plan,
    security.plan,
)

GROUP_PROVIDERS: tuple[GroupProvider, ...] = ()

# Components others may `connects_to` (see cfngen.builders.relations).
TARGET_PROVIDERS: tuple[TargetProvider, ...] = ()

# Values of components other stacks may import by typed reference (e.g. payload-db.secret_arn).
ATTRIBUTE_PROVIDERS: tuple[AttributeProvider, ...] = ()
