"""Service discovery by name: Cloud Map registration as <service>.<namespace> and the `host`,
`port` and `url` attributes other components import instead of hand-typed addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import load_template
from tests.builders.containers_sample import imp
from tests.helpers import compile_text

BP = """\
blueprint: placeos
region: ap-southeast-2
network: {nat: none}
cluster:
  service_connect: {namespace: "{{ env.environment_name }}"}
services:
  rethinkdb:
    image: {uri: docker.io/library/rethinkdb, tag: "2.4"}
    port: 28015
    discovery: true
  auth:
    image: {uri: docker.io/placeos/auth}
    ports: [{container: 8080}, {container: 9090}]
    discovery: true
    environment:
      RETHINKDB_HOST: {from: rethinkdb, attribute: host}
      RETHINKDB_PORT: {from: rethinkdb, attribute: port}
    connects_to: [rethinkdb]
  server:
    image: {uri: ghcr.io/acme/server}
    port: 3000
    service_connect: {aliases: [{port: 3000, dns_name: api, client_port: 80}]}
  client:
    image: {uri: ghcr.io/acme/client}
    service_connect: {}
    environment:
      SERVER: {from: server, attribute: url}
      AUTH: {from: auth, attribute: url}
environments: {prod: {}}
"""


def outputs(t: dict[str, Any]) -> dict[str, Any]:
    return {k: v["Value"] for k, v in t["Outputs"].items() if k in ("Host", "Port", "Url")}


def test_discovery_registers_under_the_environment_name_namespace(tmp_path: Path) -> None:
    env = compile_text(tmp_path, BP, "prod")
    cluster = load_template(env.stack("cluster").body)["Resources"]
    assert cluster["Namespace"]["Properties"]["Name"] == "placeos-prod"
    db = load_template(env.stack("service-rethinkdb").body)
    registry = db["Resources"]["DiscoveryService"]["Properties"]
    assert registry["Name"] == "rethinkdb"
    assert registry["NamespaceId"] == imp("cluster", "NamespaceId")
    assert registry["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 10}]
    assert outputs(db) == {
        "Host": "rethinkdb.placeos-prod",
        "Port": "28015",
        "Url": "http://rethinkdb.placeos-prod:28015",
    }
    assert db["Outputs"]["Host"]["Export"] == {
        "Name": {"Fn::Sub": "${EnvironmentName}-service-rethinkdb-Host"}
    }


def test_default_namespace_is_the_blueprints_internal_zone(tmp_path: Path) -> None:
    text = BP.replace(
        'cluster:\n  service_connect: {namespace: "{{ env.environment_name }}"}\n', ""
    )
    env = compile_text(tmp_path, text, "prod")
    db = load_template(env.stack("service-rethinkdb").body)
    assert outputs(db)["Host"] == "rethinkdb.placeos.internal"


def test_consumers_import_the_address_and_deploy_after_the_service(tmp_path: Path) -> None:
    env = compile_text(tmp_path, BP, "prod")
    auth = env.stack("service-auth")
    assert "service-rethinkdb" in auth.depends_on
    assert "placeos-prod-service-rethinkdb-Host" in auth.imports
    container = load_template(auth.body)["Resources"]["TaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ][0]
    assert container["Environment"] == [
        {"Name": "RETHINKDB_HOST", "Value": imp("service-rethinkdb", "Host")},
        {"Name": "RETHINKDB_PORT", "Value": imp("service-rethinkdb", "Port")},
    ]
    order = [s.component for s in env.stacks]
    assert order.index("service-rethinkdb") < order.index("service-auth")


def test_the_first_port_is_the_address_and_service_connect_aliases_have_one_too(
    tmp_path: Path,
) -> None:
    env = compile_text(tmp_path, BP, "prod")
    assert outputs(load_template(env.stack("service-auth").body))["Url"] == (
        "http://auth.placeos-prod:8080"
    )
    assert outputs(load_template(env.stack("service-server").body)) == {
        "Host": "api",
        "Port": "80",
        "Url": "http://api:80",
    }
    client = env.stack("service-client")
    assert {"service-server", "service-auth"} <= set(client.depends_on)
    assert outputs(load_template(client.body)) == {}


def test_a_service_without_an_address_exports_none(tmp_path: Path) -> None:
    text = BP.replace("    port: 28015\n    discovery: true\n", "    port: 28015\n")
    text = text.replace(
        "    environment:\n      RETHINKDB_HOST: {from: rethinkdb, attribute: host}\n"
        "      RETHINKDB_PORT: {from: rethinkdb, attribute: port}\n",
        "",
    )
    env = compile_text(tmp_path, text, "prod")
    assert outputs(load_template(env.stack("service-rethinkdb").body)) == {}
