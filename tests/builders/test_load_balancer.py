"""Application and network load balancers, asserted by what their stacks render."""

from __future__ import annotations

from pathlib import Path

from cfngen.render import load_template
from tests.builders.containers_sample import of_type, rendered, template


def test_alb_https_tls13_redirect_drop_headers_and_rule_priorities(tmp_path: Path) -> None:
    t = template(tmp_path, "lb-public")
    res = t["Resources"]
    lb = res["LoadBalancer"]["Properties"]
    attrs = {a["Key"]: a["Value"] for a in lb["LoadBalancerAttributes"]}
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attrs["deletion_protection.enabled"] == "false"
    assert lb["Scheme"] == "internet-facing" and lb["Type"] == "application"
    https = res["Listener443"]["Properties"]
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Protocol"] == "HTTPS"
    assert https["DefaultActions"] == [
        {"TargetGroupArn": {"Ref": "Web80TargetGroup"}, "Type": "forward"}
    ]  # the route without path or host is the default
    redirect = res["Listener80"]["Properties"]["DefaultActions"][0]
    assert redirect["RedirectConfig"] == {
        "Port": "443",
        "Protocol": "HTTPS",
        "StatusCode": "HTTP_301",
    }
    rules = of_type(t, "AWS::ElasticLoadBalancingV2::ListenerRule")
    by_priority = {
        r["Properties"]["Priority"]: [c["Field"] for c in r["Properties"]["Conditions"]]
        for r in rules.values()
    }
    assert by_priority == {10: ["host-header", "path-pattern"], 20: ["path-pattern"]}
    tg = res["Api3000TargetGroup"]["Properties"]
    assert (tg["TargetType"], tg["Protocol"], tg["HealthCheckPath"]) == ("ip", "HTTP", "/")
    assert tg["Matcher"] == {"HttpCode": "200-399"}
    assert t["Outputs"]["Api3000TargetGroupArn"]["Export"]["Name"] == {
        "Fn::Sub": "${EnvironmentName}-lb-public-Api3000TargetGroupArn"
    }


def test_deletion_protection_per_environment(tmp_path: Path) -> None:
    dev = template(tmp_path, "lb-public", "dev")["Resources"]["LoadBalancer"]
    prod = template(tmp_path, "lb-public", "prod")["Resources"]["LoadBalancer"]

    def flag(res: dict) -> str:  # type: ignore[type-arg]
        attrs = res["Properties"]["LoadBalancerAttributes"]
        return next(a["Value"] for a in attrs if a["Key"] == "deletion_protection.enabled")

    assert (flag(dev), flag(prod)) == ("false", "true")
    assert "CKV_AWS_150" in [s["id"] for s in dev["Metadata"]["checkov"]["skip"]]
    assert "CKV_AWS_150" not in [s["id"] for s in prod["Metadata"]["checkov"]["skip"]]


def test_nlb_tcp_listeners_each_forward_to_one_target_group_with_http_checks(
    tmp_path: Path,
) -> None:
    t = template(tmp_path, "lb-private")
    res = t["Resources"]
    lb = res["LoadBalancer"]["Properties"]
    assert (lb["Type"], lb["Scheme"]) == ("network", "internal")
    assert lb["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"  # REST VPC link
    assert len(lb["SecurityGroups"]) == 1
    for port in (80, 8000):
        listener = res[f"Listener{port}"]["Properties"]
        assert (listener["Port"], listener["Protocol"]) == (port, "TCP")
        assert listener["DefaultActions"] == [
            {"TargetGroupArn": {"Ref": f"Legacy{port}TargetGroup"}, "Type": "forward"}
        ]
        tg = res[f"Legacy{port}TargetGroup"]["Properties"]
        assert (tg["Protocol"], tg["TargetType"], tg["HealthCheckProtocol"]) == (
            "TCP",
            "instance",
            "HTTP",
        )
    assert res["Legacy8000TargetGroup"]["Properties"]["HealthCheckPath"] == "/status"


def test_plain_http_alb_carries_its_reason(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        load_balancers:
          web: {type: application, plain_http_reason: internal tools behind the office VPN}
        services:
          api: {image: {uri: nginx}, port: 80, routes: [{load_balancer: web, path: /api/*}]}
        environments: {dev: {}}
        """
    res = load_template(rendered(tmp_path, "dev", text).stack("lb-web").body)["Resources"]
    listener = res["Listener80"]
    assert listener["Properties"]["Protocol"] == "HTTP"
    reason = "plain HTTP by choice: internal tools behind the office VPN"
    assert listener["Metadata"]["cfngen"]["waivers"] == {"CFG016": reason}
    assert listener["Metadata"]["checkov"]["skip"] == [
        {"id": "CKV_AWS_103", "comment": reason},
        {"id": "CKV_AWS_2", "comment": reason},
    ]
    assert listener["Properties"]["DefaultActions"][0]["Type"] == "fixed-response"


def test_rule_priorities_most_specific_first_and_stable(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        load_balancers:
          web: {type: application, plain_http_reason: internal tools behind the office VPN}
        services:
          a: {image: {uri: nginx}, port: 80, routes: [{load_balancer: web, path: /api/v12/x}]}
          b: {image: {uri: nginx}, port: 80, routes: [{load_balancer: web, path: /api/v15/yy}]}
          c: {image: {uri: nginx}, port: 80, routes: [{load_balancer: web, path: /api/*}]}
          d: {image: {uri: nginx}, port: 80, routes: [{load_balancer: web, host: d.example.com}]}
          e: {image: {uri: nginx}, port: 80, routes: [{load_balancer: web, path: /e, priority: 20}]}
        environments: {dev: {}}
        """
    t = load_template(rendered(tmp_path, "dev", text).stack("lb-web").body)
    rules = of_type(t, "AWS::ElasticLoadBalancingV2::ListenerRule")
    priorities = {name: r["Properties"]["Priority"] for name, r in rules.items()}
    assert priorities == {
        "DRoute1Rule": 10,  # host only
        "BRoute1Rule": 30,  # longest exact path (20 is taken by e)
        "ARoute1Rule": 40,
        "ERoute1Rule": 20,
        "CRoute1Rule": 50,  # wildcard last
    }
