"""Bad input for static sites, DNS records and certificates.

Exact messages with file:line:col, field and fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import errors_of

HEAD = "blueprint: shop\nregion: eu-west-1\n"
TAIL = "environments: {dev: {}}\n"

CASES = {
    "site_price": (
        "sites:\n  web: {price_class: PriceClass_50}\n",
        [
            (
                "bp.yaml:4:22: sites.web.price_class: invalid value 'PriceClass_50' "
                "(expected 'PriceClass_100', 'PriceClass_200' or 'PriceClass_All')"
            ),
        ],
    ),
    "site_behaviour_path": (
        "sites:\n  web:\n    behaviours: [{path: api/*, load_balancer: public}]\n",
        [
            (
                "bp.yaml:5:25: sites.web.behaviours[0].path: invalid path pattern 'api/*' "
                "(e.g. /api/*)"
            ),
        ],
    ),
    "site_behaviour_dup": (
        (
            "sites:\n  web:\n    behaviours:\n      - {path: /api/*, load_balancer: "
            "public}\n      - {path: /api/*, load_balancer: public}\n"
        ),
        [
            ("bp.yaml:5:5: sites.web: path '/api/*' is listed twice in behaviours (keep one)"),
        ],
    ),
    "site_root_object": (
        "sites:\n  web: {default_root_object: /index.html}\n",
        [
            (
                "bp.yaml:4:30: sites.web.default_root_object: invalid object name "
                "'/index.html' (e.g. index.html)"
            ),
        ],
    ),
    "site_waf": (
        (
            "sites:\n  web: {web_acl_arn: "
            "'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/y'}\n"
        ),
        [
            (
                "bp.yaml:4:22: sites.web.web_acl_arn: invalid CloudFront web ACL ARN "
                "'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/y' (e.g. "
                "arn:aws:wafv2:us-east-1:123456789012:global/webacl/<name>/<id>)"
            ),
        ],
    ),
    "dns_record_upper": (
        (
            "dns:\n  zone: example.com\n  zone_id: Z123\n  records:\n    Www.example.com: "
            "{target: web}\nsites:\n  web: {}\n"
        ),
        [
            (
                "bp.yaml:7:5: dns.records.Www.example.com: domain 'Www.example.com' has "
                "upper-case letters (write 'www.example.com')"
            ),
        ],
    ),
    "cert_alt_out_of_zone": (
        (
            "dns: {zone: example.com, zone_id: Z123}\ncertificates:\n  api: {domain: "
            "api.example.com, alternative_names: [api.example.org]}\n"
        ),
        [
            (
                "bp.yaml:5:54: certificates.api.alternative_names[0]: 'api.example.org' is "
                "not in the hosted zone example.com (use a name ending in .example.com)"
            ),
        ],
    ),
    "site_domain_no_dns": (
        "sites:\n  web: {domain: www.example.com}\n",
        [
            (
                "bp.yaml:4:17: sites.web.domain: a site with a custom domain needs `dns`: "
                "the hosted zone that validates the certificate (add `dns: {zone: "
                "example.com, zone_id: Z...}`, or declare the zone once in `shared: {dns: "
                "{zone: example.com}}`)"
            ),
        ],
    ),
    "site_domain_case": (
        "sites:\n  web: {domain: WWW.example.com}\n",
        [
            (
                "bp.yaml:4:17: sites.web.domain: domain 'WWW.example.com' has upper-case "
                "letters (write 'www.example.com')"
            ),
        ],
    ),
    "site_out_of_zone": (
        ("dns: {zone: example.com, zone_id: Z123}\nsites:\n  web: {domain: www.other.org}\n"),
        [
            (
                "bp.yaml:5:17: sites.web.domain: 'www.other.org' is not in the hosted zone "
                "example.com (use a name ending in .example.com)"
            ),
        ],
    ),
    "site_aliases_no_domain": (
        "sites:\n  web: {aliases: [a.example.com]}\n",
        [
            ("bp.yaml:4:8: sites.web: `aliases` needs `domain` (set the main name in `domain`)"),
        ],
    ),
    "site_unknown_lb": (
        (
            "sites:\n  web:\n    behaviours: [{path: /api/*, load_balancer: "
            "pubic}]\nload_balancers:\n  public: {type: application, scheme: "
            "internet-facing, plain_http_reason: testing only here}\n"
        ),
        [
            (
                "bp.yaml:5:48: sites.web.behaviours[0].load_balancer: unknown load "
                "balancer 'pubic' (did you mean 'public'?)"
            ),
        ],
    ),
    "site_lb_no_domain": (
        (
            "sites:\n  web:\n    behaviours: [{path: /api/*, load_balancer: "
            "public}]\nload_balancers:\n  public: {type: application, scheme: "
            "internet-facing, plain_http_reason: testing only here}\n"
        ),
        [
            (
                "bp.yaml:5:48: sites.web.behaviours[0].load_balancer: CloudFront needs a "
                "host name for load balancer 'public' that its certificate covers (add a "
                "dns record `api.example.com: {target: public}` or set origin_domain)"
            ),
        ],
    ),
    "dns_zone_id": (
        "dns: {zone: example.com, zone_id: abc}\n",
        [
            (
                "bp.yaml:3:35: dns.zone_id: invalid hosted zone ID 'abc' (e.g. "
                "Z0123456789ABCDEFGHIJ)"
            ),
        ],
    ),
    "dns_bad_target": (
        (
            "dns:\n  zone: example.com\n  zone_id: Z123\n  records:\n    www.example.com: "
            "{target: nothing}\n"
        ),
        [
            (
                "bp.yaml:7:31: dns.records.www.example.com.target: unknown alias target "
                "'nothing' (declare the alias target first)"
            ),
        ],
    ),
    "dns_dup": (
        (
            "dns:\n  zone: example.com\n  zone_id: Z123\n  records:\n    www.example.com: "
            "{target: web}\nsites:\n  web: {domain: www.example.com}\n"
        ),
        [
            (
                "bp.yaml:7:31: dns.records.www.example.com.target: the name "
                "www.example.com already has a record (sites.web.domain) (keep one record "
                "per name)"
            ),
        ],
    ),
    "cert_no_dns": (
        "certificates:\n  api: {domain: api.example.com}\n",
        [
            (
                "bp.yaml:4:8: certificates.api: a certificate needs `dns`: the hosted zone "
                "that validates the certificate (add `dns: {zone: example.com, zone_id: "
                "Z...}`, or declare the zone once in `shared: {dns: {zone: example.com}}`)"
            ),
        ],
    ),
    "lb_cert_unknown": (
        (
            "dns: {zone: example.com, zone_id: Z123}\ncertificates:\n  api: {domain: "
            "api.example.com}\nload_balancers:\n  public: {type: application, certificate: "
            "apx}\n"
        ),
        [
            (
                "bp.yaml:7:44: load_balancers.public.certificate: unknown certificate "
                "'apx' (did you mean 'api'?)"
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(tmp_path: Path, case: str) -> None:
    body, expected = CASES[case]
    assert errors_of(tmp_path, HEAD + body + TAIL) == expected
