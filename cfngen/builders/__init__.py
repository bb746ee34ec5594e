"""Builders: one module per component kind.

`PLANNERS` lists every kind's planner in declaration order (the order only breaks ties in the
deploy order, see cfngen.stacks.deploy_order). `GROUP_PROVIDERS` lists the kinds that
contribute security groups and relations to the shared security stack. Each new kind adds
its planner (and providers) here, its model to cfngen.blueprint.models, and its semantic checks
to cfngen.blueprint.validate.SEMANTIC_CHECKS.
"""

from __future__ import annotations

from cfngen.builders import (
    apigateway,
    cache,
    cluster,
    deploy_roles,
    deploy_roles_gitlab,
    dns,
    ecr,
    host,
    load_balancer,
    network,
    ops,
    rds,
    search,
    security,
    service,
    site,
    storage,
    task,
)
from cfngen.builders.base import Planner
from cfngen.builders.relations import AttributeProvider, TargetProvider
from cfngen.builders.security import GroupProvider

PLANNERS: tuple[Planner, ...] = (
    network.plan,
    security.plan,
    # data, edge and operations
    ops.plan,
    rds.plan,
    cache.plan,
    search.plan,
    site.plan,
    dns.plan,
    # containers and traffic
    ecr.plan,
    storage.plan,
    cluster.plan,
    load_balancer.plan,
    service.plan,
    task.plan,
    apigateway.plan,
    deploy_roles.plan,
    # after the containers: hosts add listener rules to load balancers
    host.plan,
    deploy_roles_gitlab.plan,
)

GROUP_PROVIDERS: tuple[GroupProvider, ...] = (
    rds.groups,
    cache.groups,
    search.groups,
    host.groups,
    cluster.groups,
    load_balancer.groups,
    service.groups,
    task.groups,
    storage.groups,
    apigateway.groups,
)

# Components others may `connects_to` (see cfngen.builders.relations).
TARGET_PROVIDERS: tuple[TargetProvider, ...] = (
    rds.targets,
    cache.targets,
    search.targets,
    service.service_targets,
    load_balancer.targets,
    storage.targets,
)

# Values of components other stacks may import by typed reference (e.g. payload-db.secret_arn).
ATTRIBUTE_PROVIDERS: tuple[AttributeProvider, ...] = (
    rds.attributes,
    cache.attributes,
    search.attributes,
    site.attributes,
    dns.certificate_attributes,
    host.attributes,
    ecr.attributes,
    storage.attributes,
    load_balancer.attributes,
    apigateway.attributes,
    service.service_attributes,
)
