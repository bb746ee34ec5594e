"""What AWS accepts, for the values a blueprint sets that CloudFormation would reject at deploy.

Where cfn-lint ships the data (RDS engine versions and instance classes per engine version),
it is read from cfn-lint's files, so the two agree and the data is as current as the installed
cfn-lint; the file is located without importing cfn-lint (validate stays fast). The rest are
AWS's published limits, each with the page it comes from.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from cfngen.blueprint.schema_cache import directory as user_cache_directory
from cfngen.lint_cache import Cache

# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
# The predefined ELBv2 security policies that allow TLS 1.2 or newer only.
TLS12_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        "ELBSecurityPolicy-FS-1-2-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    }
)

# Predefined policies that still allow TLS 1.0 or 1.1: they exist, but the baseline refuses them.
WEAK_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-2016-08",
        "ELBSecurityPolicy-2015-05",
        "ELBSecurityPolicy-TLS-1-0-2015-04",
        "ELBSecurityPolicy-TLS-1-1-2017-01",
        "ELBSecurityPolicy-FS-2018-06",
        "ELBSecurityPolicy-FS-1-1-2019-08",
        "ELBSecurityPolicy-TLS13-1-0-2021-06",
        "ELBSecurityPolicy-TLS13-1-1-2021-06",
        "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-1-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-1-FIPS-PQ-2025-09",
    }
)

# RDS refuses a master user name that is a reserved word of the engine or one of its own
# accounts ("MasterUsername ... cannot be used as it is a reserved word used by the engine").
# https://www.postgresql.org/docs/current/sql-keywords-appendix.html (reserved column)
_PG_RESERVED = """
all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time current_timestamp
current_user default deferrable desc distinct do else end except false fetch for foreign from
grant group having in initially intersect into lateral leading limit localtime localtimestamp not
null offset on only or order placing primary references returning select session_user some
symmetric table then to trailing true union unique user using variadic when where window with
authorization binary collation concurrently cross current_schema freeze full ilike inner is
isnull join left like natural notnull outer overlaps right similar tablesample verbose
public admin
"""
# https://dev.mysql.com/doc/refman/8.4/en/keywords.html (reserved words, the common ones)
_MYSQL_RESERVED = """
accessible add all alter analyze and as asc before between bigint binary blob both by call
cascade case change char character check collate column condition constraint continue convert
create cross cube current_date current_time current_timestamp current_user cursor database
databases default delete desc describe distinct div double drop each else elseif enclosed
escaped except exists exit explain false fetch float for force foreign from fulltext function
generated get grant group grouping groups having if ignore in index inner inout insert int
integer interval into is iterate join key keys kill lag lead leading leave left like limit
lines load lock long loop match merge mod natural not null numeric of on option or order out
outer over partition precision primary procedure purge range read real recursive references
regexp release rename repeat replace require restrict return revoke right rlike row rows schema
schemas select separator set show signal smallint spatial sql ssl starting stored table
terminated then to trailing trigger true union unique unlock unsigned update usage use using
values varchar when where while window with write xor zerofill
"""
_RDS_ACCOUNTS = {"rdsadmin", "rdsrepladmin", "rds_superuser", "rdsproxyadmin", "rdstopmgr"}


def reserved_master_username(engine: str, name: str) -> bool:
    words = _PG_RESERVED if engine == "postgres" else _MYSQL_RESERVED
    lowered = name.lower()
    return (
        lowered in set(words.split())
        or lowered in _RDS_ACCOUNTS
        or (engine == "postgres" and lowered.startswith("pg_"))
    )


# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Tag.html and
# API_CreateStack (Tags: at most 50).
STACK_TAGS_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_CHARACTERS = re.compile(r"^[\w\s+\-=.:/@]*$")


def tag_problem(key: str, value: str) -> tuple[str, str] | None:
    """(problem, fix) when a stack tag would be refused, or None."""
    if not key:
        return "a tag key cannot be empty", "give the tag a name"
    if key.lower().startswith("aws:"):
        return f"tag key '{key}' uses the prefix aws:, which AWS reserves", "drop the prefix"
    if len(key) > TAG_KEY_MAX:
        return f"tag key is {len(key)} characters long; AWS allows {TAG_KEY_MAX}", "shorten it"
    if len(value) > TAG_VALUE_MAX:
        return (
            f"tag value is {len(value)} characters long; AWS allows {TAG_VALUE_MAX}",
            "shorten it",
        )
    for text, what in ((key, "key"), (value, "value")):
        if not TAG_CHARACTERS.match(text):
            return (
                f"tag {what} {text!r} has characters AWS does not allow in tags",
                "use letters, digits, spaces and + - = . _ : / @",
            )
    return None


# --- RDS data that cfn-lint ships -------------------------------------------------------------


@functools.cache
def _rds_path(name: str) -> Path | None:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    return base / "data" / "schemas" / "extensions" / "aws_rds_dbinstance" / f"{name}.json"


@functools.cache
def _rds_schema(name: str) -> dict[str, Any]:
    path = _rds_path(name)
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _matches(condition: dict[str, Any], values: dict[str, str]) -> bool:
    props = condition.get("properties", {})
    for key in condition.get("required", []):
        if key not in values:
            return False
    for key, rule in props.items():
        if key not in values:
            continue
        value = values[key]
        if "const" in rule and rule["const"] != value:
            return False
        if "enum" in rule and value not in rule["enum"]:
            return False
        if "pattern" in rule and not re.search(rule["pattern"], value):
            return False
    return True


def _cached_answer(data: Any) -> tuple[list[str] | None]:
    enum = data["enum"]
    if enum is not None and not (isinstance(enum, list) and all(isinstance(v, str) for v in enum)):
        raise ValueError("not a list of names")
    return (enum,)


def _enum_for(schema: str, values: dict[str, str], prop: str) -> list[str] | None:
    """The enum cfn-lint's data gives `prop` for these values, kept in the user's cache folder
    by the data file's identity: the instance class file is 5 MB of JSON, ~25 ms to read on every
    validate and render of a blueprint with a database; the answer is a few hundred bytes."""
    path = _rds_path(schema)
    try:
        info = path.stat() if path is not None else None
    except OSError:
        info = None
    folder = user_cache_directory()  # never the working directory, as for the schema
    if info is None or folder is None:
        return _enum_from_data(schema, values, prop)
    cache = Cache(folder)
    text = json.dumps([str(path), info.st_size, info.st_mtime_ns, values, prop], sort_keys=True)
    key = hashlib.sha256(text.encode()).hexdigest()
    hit = cache.get("aws-facts", key, _cached_answer)
    if hit is not None:
        return hit[0]
    enum = _enum_from_data(schema, values, prop)
    cache.put("aws-facts", key, {"enum": enum})
    return enum


def _enum_from_data(schema: str, values: dict[str, str], prop: str) -> list[str] | None:
    for clause in _rds_schema(schema).get("allOf", []):
        if not isinstance(clause, dict) or not _matches(clause.get("if", {}), values):
            continue
        enum = clause.get("then", {}).get("properties", {}).get(prop, {}).get("enum")
        if isinstance(enum, list):
            return [str(v) for v in enum]
    return None


def rds_engine_versions(engine: str) -> list[str] | None:
    """The engine versions CloudFormation accepts for `engine` (None: unknown to cfn-lint)."""
    return _enum_for("engine_version", {"Engine": engine, "EngineVersion": ""}, "EngineVersion")


def rds_instance_classes(engine: str, version: str, instance_class: str) -> list[str] | None:
    """The instance classes `engine` `version` runs on (None: no data)."""
    values = {"Engine": engine, "EngineVersion": version, "DBInstanceClass": instance_class}
    return _enum_for("db_instance_class", values, "DBInstanceClass")


# https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html (registry URL) and
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
# (repository ARN): aws_account_id.dkr.ecr.region.amazonaws.com/name -> arn:...:repository/name
_ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<name>[a-z0-9._/-]+)$"
)


def ecr_repository_arn(uri: str) -> str | None:
    """The repository ARN (for `Fn::Sub`) of a private ECR image URI without its tag, or None
    for an image from any other registry."""
    m = _ECR_URI.match(uri)
    if m is None:
        return None
    return f"arn:${{AWS::Partition}}:ecr:{m['region']}:{m['account']}:repository/{m['name']}"
