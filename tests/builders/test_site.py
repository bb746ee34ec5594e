"""Static sites, DNS records and certificates, asserted by what the stacks render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import RenderedEnvironment, load_template
from tests.helpers import compile_text

BP = """\
blueprint: shop
region: eu-west-1
dns:
  zone: example.com
  zone_id: Z0123456789ABC
  records:
    api.example.com: {target: public}
certificates:
  api: {domain: api.example.com}
load_balancers:
  public: {type: application, scheme: internet-facing, certificate: api}
sites:
  web:
    domain: www.example.com
    aliases: [example.com]
    spa: true
    behaviours: [{path: /api/*, load_balancer: public}]
  docs: {}
environments: {prod: {}}
"""


def env(tmp_path: Path) -> RenderedEnvironment:
    return compile_text(tmp_path, BP, "prod")


def stack(tmp_path: Path, component: str) -> dict[str, Any]:
    return load_template(env(tmp_path).stack(component).body)


def test_bucket_is_private_encrypted_and_tls_only(tmp_path: Path) -> None:
    res = stack(tmp_path, "site-docs")["Resources"]
    b = res["Bucket"]["Properties"]
    assert b["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert b["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    deny, allow = res["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Principal"]) == ("Deny", "*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == ["s3:GetObject"]
    assert allow["Condition"]["StringEquals"]["AWS:SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:"
        "distribution/${Distribution}"
    }


def test_distribution_uses_oac_root_object_and_redirects_to_https(tmp_path: Path) -> None:
    res = stack(tmp_path, "site-docs")["Resources"]
    cfg = res["Distribution"]["Properties"]["DistributionConfig"]
    assert cfg["DefaultRootObject"] == "index.html"
    assert cfg["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    (origin,) = cfg["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}
    assert (
        res["OriginAccessControl"]["Properties"]["OriginAccessControlConfig"]["SigningBehavior"]
        == "always"
    )
    assert cfg["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "Aliases" not in cfg


def test_custom_domain_reads_the_us_east_1_certificate_with_get_stack_output(
    tmp_path: Path,
) -> None:
    rendered = env(tmp_path)
    cert_stack = rendered.stack("site-web-certificate")
    assert cert_stack.region == "us-east-1"
    assert rendered.stack("site-web").region is None
    manifest = {s["component"]: s for s in rendered.manifest()["stacks"]}
    assert manifest["site-web-certificate"]["region"] == "us-east-1"
    assert "region" not in manifest["site-web"]
    order = [s.component for s in rendered.stacks]
    assert order.index("site-web-certificate") < order.index("site-web")

    cert = load_template(cert_stack.body)["Resources"]["Certificate"]["Properties"]
    assert cert["DomainName"] == "www.example.com"
    assert cert["SubjectAlternativeNames"] == ["example.com"]
    assert cert["DomainValidationOptions"] == [
        {"DomainName": "www.example.com", "HostedZoneId": "Z0123456789ABC"},
        {"DomainName": "example.com", "HostedZoneId": "Z0123456789ABC"},
    ]
    cfg = load_template(rendered.stack("site-web").body)["Resources"]["Distribution"]["Properties"][
        "DistributionConfig"
    ]
    assert cfg["Aliases"] == ["www.example.com", "example.com"]
    assert cfg["ViewerCertificate"] == {
        "AcmCertificateArn": {
            "Fn::GetStackOutput": {
                "StackName": "shop-prod-site-web-certificate",
                "OutputName": "CertificateArn",
                "Region": "us-east-1",
            }
        },
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert [r["ErrorCode"] for r in cfg["CustomErrorResponses"]] == [403, 404]


def test_api_behaviour_goes_to_the_load_balancer_by_its_dns_name(tmp_path: Path) -> None:
    cfg = stack(tmp_path, "site-web")["Resources"]["Distribution"]["Properties"][
        "DistributionConfig"
    ]
    lb = cfg["Origins"][1]
    assert lb["Id"] == "load-balancer-public" and lb["DomainName"] == "api.example.com"
    assert lb["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    (behaviour,) = cfg["CacheBehaviors"]
    assert behaviour["PathPattern"] == "/api/*"
    assert behaviour["TargetOriginId"] == "load-balancer-public"
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"


def test_alias_records_for_sites_and_load_balancers(tmp_path: Path) -> None:
    rendered = env(tmp_path)
    dns = rendered.stack("dns")
    assert set(dns.depends_on) == {"site-web", "lb-public"}
    res = load_template(dns.body)["Resources"]
    assert sorted(res) == [
        "ApiExampleComA",
        "ExampleComA",
        "ExampleComAAAA",
        "WwwExampleComA",
        "WwwExampleComAAAA",
    ]
    www = res["WwwExampleComA"]["Properties"]
    assert www["HostedZoneId"] == "Z0123456789ABC" and www["Name"] == "www.example.com"
    assert www["AliasTarget"]["DNSName"] == {
        "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-site-web-DistributionDomainName"}
    }
    api = res["ApiExampleComA"]["Properties"]["AliasTarget"]
    assert api["HostedZoneId"] == {
        "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-lb-public-CanonicalHostedZoneId"}
    }


def test_load_balancer_takes_a_certificate_by_name(tmp_path: Path) -> None:
    rendered = env(tmp_path)
    assert "certificate-api" in rendered.stack("lb-public").depends_on
    listener = load_template(rendered.stack("lb-public").body)["Resources"]["Listener443"]
    assert listener["Properties"]["Certificates"] == [
        {
            "CertificateArn": {
                "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-certificate-api-CertificateArn"}
            }
        }
    ]
