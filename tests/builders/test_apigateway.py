"""API Gateway REST (v1) and HTTP (v2) APIs with VPC links, asserted by what they render."""

from __future__ import annotations

from pathlib import Path

from tests.builders.containers_sample import SAMPLE, imp, of_type, template


def test_rest_api_vpc_link_to_the_nlb_with_resources_methods_and_path_mapping(
    tmp_path: Path,
) -> None:
    t = template(tmp_path, "api-rest")
    res = t["Resources"]
    assert res["VpcLink"]["Properties"]["TargetArns"] == [imp("lb-private", "LoadBalancerArn")]
    assert res["RestApi"]["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    resources = of_type(t, "AWS::ApiGateway::Resource")
    assert sorted(r["Properties"]["PathPart"] for r in resources.values()) == [
        "backend",
        "{proxy+}",
    ]
    root = res["MethodGetRoot"]["Properties"]
    assert root["ResourceId"] == {"Fn::GetAtt": ["RestApi", "RootResourceId"]}
    assert root["Integration"]["Uri"] == {
        "Fn::Sub": ["http://${Dns}:80/", {"Dns": imp("lb-private", "DnsName")}]
    }
    proxy = res["MethodAnyBackendProxyGreedy"]["Properties"]
    assert proxy["RequestParameters"] == {"method.request.path.proxy": True}
    integration = proxy["Integration"]
    assert (integration["Type"], integration["ConnectionType"]) == ("HTTP_PROXY", "VPC_LINK")
    assert integration["Uri"] == {
        "Fn::Sub": ["http://${Dns}:8000/{proxy}", {"Dns": imp("lb-private", "DnsName")}]
    }
    assert integration["RequestParameters"] == {
        "integration.request.path.proxy": "method.request.path.proxy"
    }


def test_rest_stage_logs_and_deployment_follows_the_routes(tmp_path: Path) -> None:
    t = template(tmp_path, "api-rest")
    deployments = of_type(t, "AWS::ApiGateway::Deployment")
    (deployment_id,) = deployments
    assert sorted(deployments[deployment_id]["DependsOn"]) == [
        "MethodAnyBackendProxyGreedy",
        "MethodGetRoot",
    ]
    stage = t["Resources"]["Stage"]["Properties"]
    assert stage["DeploymentId"] == {"Ref": deployment_id}
    assert stage["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["AccessLogGroup", "Arn"]}
    assert stage["TracingEnabled"] is True
    changed = SAMPLE.replace("{path: /, method: GET, listener: 80}", "{path: /, listener: 80}")
    other = template(tmp_path, "api-rest", text=changed)
    assert set(of_type(other, "AWS::ApiGateway::Deployment")) != {deployment_id}


def test_http_api_vpc_link_with_security_group_to_the_alb_listener(tmp_path: Path) -> None:
    t = template(tmp_path, "api-edge")
    res = t["Resources"]
    link = res["VpcLink"]["Properties"]
    assert link["SecurityGroupIds"] == [imp("security", "ApiEdgeSecurityGroupId")]
    integration = res["AnyShopProxyGreedyIntegration"]["Properties"]
    assert integration["IntegrationUri"] == imp("lb-public", "Listener443Arn")
    assert integration["RequestParameters"] == {"overwrite:path": "/api/$request.path.proxy"}
    assert integration["TlsConfig"] == {"ServerNameToVerify": "api.example.com"}
    assert res["AnyShopProxyGreedyRoute"]["Properties"]["RouteKey"] == "ANY /shop/{proxy+}"
    security = template(tmp_path, "security")["Resources"]
    rule = security["LbPublicIngressTcp443FromApiEdge"]["Properties"]
    assert rule["Description"] == "API edge to its load balancer"
