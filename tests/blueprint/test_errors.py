"""Every kind of bad input: exact messages with file:line:col, field and fix."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import errors_of


def test_yaml_syntax_error(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "blueprint: shop\nnetwork: {cidr: 10.0.0.0/16\nregion: x\n") == [
        "bp.yaml:3:7: YAML syntax error: expected ',' or '}', but got ':' (while parsing a flow "
        "mapping) (check indentation and quoting on this line or the one before)"
    ]


def test_duplicate_key(tmp_path: Path) -> None:
    text = "blueprint: shop\nregion: eu-west-1\nregion: eu-west-2\nenvironments: {dev: {}}\n"
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:1: region: duplicate key (first defined at line 2) "
        "(remove one of the two entries or merge them)"
    ]


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        network:
          cidr: 10.0.0.0/16
          availabilty_zones: 2
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:3: network.availabilty_zones: unknown key 'availabilty_zones' "
        "(did you mean 'availability_zones'?)"
    ]


def test_unknown_key_without_close_match_lists_known_keys(tmp_path: Path) -> None:
    text = "blueprint: shop\nregion: eu-west-1\nnetwork: {zzz: 1}\nenvironments: {dev: {}}\n"
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:11: network.zzz: unknown key 'zzz' (known keys: availability_zones, cidr, "
        "existing, flow_logs, nat, private_subnets, public_subnets, waivers)"
    ]


def test_wrong_type(tmp_path: Path) -> None:
    text = (
        "blueprint: shop\nregion: eu-west-1\nnetwork: {availability_zones: two}\n"
        "environments: {dev: {}}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:31: network.availability_zones: wrong type: expected an integer, "
        "got str 'two' (write an integer here)"
    ]


def test_wrong_choice(tmp_path: Path) -> None:
    text = "blueprint: shop\nregion: eu-west-1\nnetwork: {nat: double}\nenvironments: {dev: {}}\n"
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:16: network.nat: invalid value 'double' (expected 'single', 'per-az' or 'none')"
    ]


def test_invalid_cidr(tmp_path: Path) -> None:
    text = (
        "blueprint: shop\nregion: eu-west-1\nnetwork: {cidr: 10.0.0.1/16}\n"
        "environments: {dev: {}}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:17: network.cidr: invalid CIDR '10.0.0.1/16': host bits are set "
        "(did you mean 10.0.0.0/16?)"
    ]


def test_not_a_cidr(tmp_path: Path) -> None:
    text = (
        "blueprint: shop\nregion: eu-west-1\nnetwork: {cidr: 10.0.0/33}\nenvironments: {dev: {}}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:17: network.cidr: invalid CIDR '10.0.0/33' "
        "(write an IPv4 network like 10.0.0.0/16)"
    ]


def test_subnet_outside_vpc_and_overlapping(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        network:
          cidr: 10.0.0.0/16
          availability_zones: 2
          public_subnets: [10.0.0.0/24, 10.1.0.0/24]
          private_subnets: [10.0.0.0/25, 10.0.2.0/24]
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:33: network.public_subnets[1]: subnet 10.1.0.0/24 is not inside the VPC "
        "10.0.0.0/16 (pick a range inside 10.0.0.0/16)",
        "bp.yaml:7:21: network.private_subnets[0]: subnet 10.0.0.0/25 overlaps 10.0.0.0/24 "
        "(network.public_subnets[0]) (give each subnet its own range)",
    ]


def test_subnet_count_must_match_zones(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        network:
          availability_zones: 3
          public_subnets: [10.0.0.0/24, 10.0.1.0/24]
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text)[0] == (
        "bp.yaml:5:19: network.public_subnets: 2 subnet(s) given for 3 availability zone(s) "
        "(give exactly 3 CIDRs, one per AZ, or set availability_zones: 2)"
    )


def test_reference_to_unknown_security_group(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        security_groups:
          alb: {description: lb}
          app:
            description: app
            ingress:
              - {port: 80, from: abl, description: from the lb}
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:8:26: security_groups.app.ingress[0].from: unknown security group 'abl' "
        "(did you mean 'alb'?)"
    ]


def test_undefined_template_variable(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        tags: {owner: "{{ vars.owner }}"}
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:15: tags.owner: undefined template variable 'vars.owner' (define it with "
        "--var NAME=VALUE, --var-file or the blueprint's `vars:`; "
        "available: env.name, env.environment_name, blueprint.name, blueprint.region, vars.NAME)"
    ]


def test_unknown_environment(tmp_path: Path) -> None:
    text = "blueprint: shop\nregion: eu-west-1\nenvironments:\n  dev: {}\n  prod: {}\n"
    assert errors_of(tmp_path, text, env="staging") == [
        "bp.yaml:3:1: environments: unknown environment 'staging' (use one of: dev, prod)"
    ]


def test_environment_override_errors_point_at_the_override(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        network: {nat: single}
        environments:
          dev: {}
          prod:
            network: {nat: sometimes}
        """
    assert errors_of(tmp_path, text, env="prod") == [
        "bp.yaml:7:20: network.nat: invalid value 'sometimes' "
        "(expected 'single', 'per-az' or 'none')"
    ]


def test_missing_required_field(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "blueprint: shop\nenvironments: {dev: {}}\n") == [
        "bp.yaml:1:1: region: required field is missing (add `region:` here)"
    ]


def test_several_errors_are_reported_together_in_file_order(tmp_path: Path) -> None:
    text = """\
        blueprint: Shop
        region: eu-west-1
        network:
          cidr: 10.0.0.0/33
          nat: double
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:1:12: blueprint: invalid name 'Shop': use lowercase letters, digits and "
        "single hyphens, starting with a letter (e.g. 'shop')",
        "bp.yaml:4:9: network.cidr: invalid CIDR '10.0.0.0/33' "
        "(write an IPv4 network like 10.0.0.0/16)",
        "bp.yaml:5:8: network.nat: invalid value 'double' (expected 'single', 'per-az' or 'none')",
    ]


def test_rule_needs_exactly_one_peer(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        security_groups:
          app:
            description: app
            ingress:
              - {port: 80, cidr: 10.0.0.0/8, from: app, description: both}
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:9: security_groups.app.ingress[0]: an ingress rule needs exactly one of "
        "`from`, `cidr` or `prefix_list` (e.g. `from: alb` or `cidr: 10.0.0.0/8`)"
    ]


def test_override_of_unknown_stack(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        overrides:
          netwrk: {resources: {}}
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:3: overrides.netwrk: no stack component 'netwrk' in this environment "
        "(did you mean 'network'?)"
    ]


def test_deploy_role_provider_is_checked_by_name(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        deploy_roles:
          a: {provider: gitlub, project: acme/app}
          b: {project: acme/app}
          c: {provider: github, repository: acme/app, branchh: main}
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:17: deploy_roles.a.provider: invalid value 'gitlub' "
        "(expected one of 'github', 'gitlab')",
        "bp.yaml:5:6: deploy_roles.b: `provider` is missing (add `provider:`, one of 'github', "
        "'gitlab')",
        "bp.yaml:6:47: deploy_roles.c.branchh: unknown key 'branchh' (did you mean 'branch'?)",
    ]
