"""Builders: one module per component kind.

`PLANNERS` lists every kind's planner in declaration order (the order only breaks ties in the
deploy order, see cfngen.stacks.deploy_order). `GROUP_PROVIDERS` lists the kinds that
contribute security groups and relations to the shared security stack.
"""

from __future__ import annotations

from cfngen.builders import network, security
from cfngen.builders.base import Planner
from cfngen.builders.security import GroupProvider

PLANNERS: tuple[Planner, ...] = (
    network.plan,
    security.plan,
)

GROUP_PROVIDERS: tuple[GroupProvider, ...] = ()
