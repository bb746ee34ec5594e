"""Generated blueprints of N services, for the scale tests and `make bench` (issue 16).

Every service is what a real one of a large system looks like: its own ECR repository, a path
rule on a shared application load balancer, a connection to one of the system's databases
(with the database's managed secret and an SSM parameter as secrets) and a CPU alarm. Plain
text, independent of cfngen's models, so the same blueprint can be fed to any version.

Shapes kept realistic rather than literal: one database per 20 services, and one load balancer
per 50 services (an ALB allows 100 listener rules by default, and its stack holds a target
group, a rule and an exported target group ARN per route, so one ALB for 1000 services would
be neither deployable nor a fair benchmark).
"""

from __future__ import annotations

SERVICES_PER_DATABASE = 20
SERVICES_PER_LOAD_BALANCER = 50
TLS = "TLS ends in the services' sidecars"


def _count(services: int, per: int) -> int:
    return max(1, -(-services // per))


def service_lines(i: int) -> list[str]:
    """One service, `svc<i>`, as blueprint lines under `services:`."""
    db = i // SERVICES_PER_DATABASE
    lb = i // SERVICES_PER_LOAD_BALANCER
    return [
        f"  svc{i}:",
        f"    image: {{repository: svc{i}-images, tag: '{{{{ vars.image_tag }}}}'}}",
        "    port: 8080",
        "    cpu: 256",
        "    memory: 512",
        "    routes:",
        f"      - {{load_balancer: lb{lb}, path: '/svc{i}/*'}}",
        "    secrets:",
        f"      API_KEY: 'ssm:/scale/{{{{ env.name }}}}/svc{i}/api-key'",
        f"      DB_PASSWORD: {{from: db{db}, attribute: secret_arn, key: password}}",
        "    environment:",
        f"      DB_HOST: {{from: db{db}, attribute: endpoint}}",
        f"    connects_to: [db{db}]",
    ]


def generated_blueprint(services: int) -> str:
    """A blueprint of `services` services (see the module docstring for its shape)."""
    lines = [
        "blueprint: scale",
        "region: eu-west-1",
        "vars: {image_tag: v1}",
        "network: {cidr: 10.0.0.0/16, availability_zones: 2, nat: single}",
        "cluster: {}",
        "alerts: {emails: [ops@example.com]}",
        "load_balancers:",
    ]
    for lb in range(_count(services, SERVICES_PER_LOAD_BALANCER)):
        lines.append(f"  lb{lb}: {{type: application, scheme: internal, plain_http_reason: {TLS}}}")
    lines.append("databases:")
    for db in range(_count(services, SERVICES_PER_DATABASE)):
        lines.append(f"  db{db}: {{engine: postgres, instance_class: db.t4g.micro}}")
    lines.append("repositories:")
    lines += [f"  svc{i}-images: {{}}" for i in range(services)]
    lines.append("services:")
    for i in range(services):
        lines += service_lines(i)
    lines.append("alarms:")
    for i in range(services):
        lines.append(f"  svc{i}-cpu: {{component: svc{i}, metric: CPUUtilization, threshold: 80}}")
    lines.append("environments: {dev: {}}")
    return "\n".join(lines) + "\n"
