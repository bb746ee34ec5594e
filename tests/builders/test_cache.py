"""ElastiCache Redis and OpenSearch, asserted by what the stacks render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import load_template
from tests.helpers import compile_text

BP = """\
blueprint: shop
region: eu-west-1
network: {availability_zones: 3}
caches:
  redis: {node_type: cache.t4g.small, replicas: 2}
  solo: {replicas: 0, multi_az: false}
search_domains:
  search: {instance_count: 3, access: vpc}
  small: {instance_count: 1, service_linked_role: true}
environments: {prod: {}}
"""


def stack(tmp_path: Path, component: str) -> dict[str, Any]:
    return load_template(compile_text(tmp_path, BP, "prod").stack(component).body)


def test_redis_is_encrypted_multi_az_with_a_generated_auth_token(tmp_path: Path) -> None:
    t = stack(tmp_path, "cache-redis")
    rg = t["Resources"]["ReplicationGroup"]
    assert rg["DeletionPolicy"] == rg["UpdateReplacePolicy"] == "Snapshot"
    p = rg["Properties"]
    assert p["AtRestEncryptionEnabled"] is True and p["TransitEncryptionEnabled"] is True
    assert p["MultiAZEnabled"] is True and p["AutomaticFailoverEnabled"] is True
    assert p["NumCacheClusters"] == 3 and p["CacheNodeType"] == "cache.t4g.small"
    assert p["AuthToken"] == {"Fn::Sub": "{{resolve:secretsmanager:${AuthToken}:SecretString}}"}
    assert t["Resources"]["AuthToken"]["Type"] == "AWS::SecretsManager::Secret"
    assert p["SnapshotRetentionLimit"] == 7


def test_redis_url_is_exported_for_services(tmp_path: Path) -> None:
    outputs = stack(tmp_path, "cache-redis")["Outputs"]
    assert outputs["Url"]["Value"] == {
        "Fn::Sub": "rediss://${ReplicationGroup.PrimaryEndPoint.Address}:"
        "${ReplicationGroup.PrimaryEndPoint.Port}"
    }
    assert outputs["AuthSecretArn"]["Value"] == {"Ref": "AuthToken"}


def test_single_node_cache_has_no_failover(tmp_path: Path) -> None:
    p = stack(tmp_path, "cache-solo")["Resources"]["ReplicationGroup"]["Properties"]
    assert (p["NumCacheClusters"], p["MultiAZEnabled"], p["AutomaticFailoverEnabled"]) == (
        1,
        False,
        False,
    )


def test_search_domain_in_vpc_with_encryption_and_https_only(tmp_path: Path) -> None:
    t = stack(tmp_path, "search-search")
    d = t["Resources"]["Domain"]["Properties"]
    assert d["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert d["EncryptionAtRestOptions"] == {"Enabled": True}
    assert d["DomainEndpointOptions"] == {
        "EnforceHTTPS": True,
        "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10",
    }
    assert d["ClusterConfig"] == {
        "InstanceCount": 3,
        "InstanceType": "t3.small.search",
        "ZoneAwarenessEnabled": True,
        "ZoneAwarenessConfig": {"AvailabilityZoneCount": 3},
    }
    assert len(d["VPCOptions"]["SubnetIds"]) == 3
    assert d["AccessPolicies"]["Statement"][0]["Principal"] == {"AWS": "*"}
    assert t["Outputs"]["Url"]["Value"] == {"Fn::Sub": "https://${Domain.DomainEndpoint}"}
    assert d["LogPublishingOptions"]["ES_APPLICATION_LOGS"]["Enabled"] is True


def test_single_node_domain_uses_one_subnet_and_account_access(tmp_path: Path) -> None:
    res = stack(tmp_path, "search-small")["Resources"]
    assert res["ServiceLinkedRole"]["Properties"]["AWSServiceName"] == (
        "opensearchservice.amazonaws.com"
    )
    assert res["Domain"]["DependsOn"] == ["LogsResourcePolicy", "ServiceLinkedRole"]
    assert "ServiceLinkedRole" not in stack(tmp_path, "search-search")["Resources"]
    d = res["Domain"]["Properties"]
    assert d["ClusterConfig"]["ZoneAwarenessEnabled"] is False
    assert len(d["VPCOptions"]["SubnetIds"]) == 1
    assert d["AccessPolicies"]["Statement"][0]["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }


def test_data_stores_get_closed_groups_in_the_security_stack(tmp_path: Path) -> None:
    res = stack(tmp_path, "security")["Resources"]
    for title in ("CacheRedisSecurityGroup", "SearchSearchSecurityGroup"):
        group = res[title]["Properties"]
        assert "SecurityGroupIngress" not in group
        assert [r["Description"] for r in group["SecurityGroupEgress"]] == [
            "Disallow all traffic (removes the default allow-all egress)"
        ]
