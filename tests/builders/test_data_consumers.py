"""Services take data stores' values by typed reference: no endpoint is ever copied by hand."""

from __future__ import annotations

from pathlib import Path

from cfngen.render import load_template
from tests.helpers import compile_text

BP = """\
blueprint: place
region: eu-west-1
cluster: {}
databases:
  db: {engine: postgres}
caches:
  redis: {}
search_domains:
  search: {access: vpc}
services:
  api:
    image: {uri: public.ecr.aws/nginx/nginx, tag: "1.27"}
    port: 8080
    cpu: 256
    memory: 512
    connects_to: [db, redis, search]
    secrets:
      DB_PASSWORD: {from: db, attribute: secret_arn, key: password}
      REDIS_AUTH: {from: redis, attribute: auth_secret_arn}
    environment:
      REDIS_URL: {from: redis, attribute: url}
      ES_URI: {from: search, attribute: url}
environments: {prod: {}}
"""


def imported(name: str) -> dict[str, object]:
    return {"Fn::ImportValue": {"Fn::Sub": f"${{EnvironmentName}}-{name}"}}


def test_service_imports_urls_and_secrets_and_gets_the_ports_opened(tmp_path: Path) -> None:
    rendered = compile_text(tmp_path, BP, "prod")
    service = rendered.stack("service-api")
    assert {"database-db", "cache-redis", "search-search"} <= set(service.depends_on)
    t = load_template(service.body)
    (container,) = t["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["REDIS_URL"] == imported("cache-redis-Url")
    assert env["ES_URI"] == imported("search-search-Url")
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert secrets["REDIS_AUTH"] == imported("cache-redis-AuthSecretArn")
    assert "database-db-SecretArn" in str(secrets["DB_PASSWORD"])

    security = load_template(rendered.stack("security").body)["Resources"]
    opened = sorted(
        (r["Properties"]["FromPort"], r["Properties"]["GroupId"]["Fn::GetAtt"][0])
        for r in security.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
    )
    assert opened == [
        (443, "SearchSearchSecurityGroup"),
        (5432, "DatabaseDbSecurityGroup"),
        (6379, "CacheRedisSecurityGroup"),
    ]
