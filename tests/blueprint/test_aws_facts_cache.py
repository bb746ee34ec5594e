"""cfn-lint's RDS data (5 MB of JSON) is read once; the answers a blueprint needs are kept in
the cache folder by the data file's identity, and a bad entry is only a miss."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cfngen.blueprint import aws_facts

QUERY = ("postgres", "17.5", "db.t4g.micro")


def _entries() -> list[Path]:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "cfngen" / "aws-facts"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_the_answer_is_kept_and_read_back() -> None:
    first = aws_facts.rds_instance_classes(*QUERY)
    assert first is not None and "db.t4g.micro" in first
    assert first == aws_facts._enum_from_data(
        "db_instance_class",
        {"Engine": QUERY[0], "EngineVersion": QUERY[1], "DBInstanceClass": QUERY[2]},
        "DBInstanceClass",
    )
    (entry,) = _entries()
    data = json.loads(entry.read_text())
    data["value"]["enum"] = ["db.kept.answer"]  # what a later run reads, not the 5 MB file
    entry.write_text(json.dumps(data))
    assert aws_facts.rds_instance_classes(*QUERY) == ["db.kept.answer"]


def test_a_bad_entry_is_a_miss_and_is_rewritten() -> None:
    expected = aws_facts.rds_instance_classes(*QUERY)
    (entry,) = _entries()
    for bad in ("{", json.dumps({"key": "other", "value": {"enum": ["x"]}}), '{"key": 1}'):
        entry.write_text(bad)
        assert aws_facts.rds_instance_classes(*QUERY) == expected
    data = json.loads(entry.read_text())
    entry.write_text(json.dumps({**data, "value": {"enum": [1, 2]}}))
    assert aws_facts.rds_instance_classes(*QUERY) == expected
    assert json.loads(entry.read_text())["value"]["enum"] == expected


def test_no_data_is_an_answer_too() -> None:
    assert aws_facts.rds_engine_versions("no-such-engine") is None
    assert aws_facts.rds_engine_versions("no-such-engine") is None
    assert len(_entries()) == 1
