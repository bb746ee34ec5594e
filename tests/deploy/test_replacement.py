"""Replacements that cannot work are explained and refused even with --allow-replace."""

from __future__ import annotations

from typing import Any

from cfngen.deploy.diff import ResourceChange, StackPlan
from cfngen.deploy.replacement import custom_name, impossible
from cfngen.deploy.safety import refusals


def db(identifier: Any = None, engine_version: str = "16.1") -> dict[str, Any]:
    props: dict[str, Any] = {"Engine": "postgres", "EngineVersion": engine_version}
    if identifier is not None:
        props["DBInstanceIdentifier"] = identifier
    return {"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": props}}}


def replaced(
    lid: str = "Db", kind: str = "AWS::RDS::DBInstance", how: str = "True"
) -> ResourceChange:
    return ResourceChange(lid, kind, "Modify", replacement=how)


def plan_of(*changes: ResourceChange, blocked: dict[str, list[str]] | None = None) -> StackPlan:
    return StackPlan(
        "app-data", "data", "update", resources=list(changes), blocked_exports=blocked or {}
    )


def test_an_unchanged_custom_name_makes_replacement_impossible() -> None:
    old, new = db({"Fn::Sub": "${EnvironmentName}-db"}), db({"Fn::Sub": "${EnvironmentName}-db"})
    why = custom_name(replaced(), old, new)
    assert why is not None
    assert "its custom name DBInstanceIdentifier stays '${EnvironmentName}-db'" in why
    assert "--allow-replace cannot help" in why
    assert "Give it a new DBInstanceIdentifier, or remove DBInstanceIdentifier" in why


def test_the_custom_name_refusal_holds_even_with_allow_replace() -> None:
    old = new = db("orders-db")
    cannot, _ = impossible([replaced()], "app-data", old, new, {}, {})
    for allow in (False, True):
        reasons = refusals(plan_of(replaced()), allow_replace=allow, impossible=cannot)
        assert len(reasons) == 1
        assert "cannot replace a custom-named resource" in reasons[0]
        assert "re-run with --allow-replace" not in reasons[0]


def test_a_new_name_or_no_name_lets_allow_replace_work() -> None:
    for old, new in ((db("orders-db"), db("orders-db-2")), (db(), db())):
        cannot, _ = impossible([replaced()], "app-data", old, new, {}, {})
        assert cannot == {}
        reasons = refusals(plan_of(replaced()), allow_replace=False, impossible=cannot)
        assert reasons == [
            "Db (AWS::RDS::DBInstance) would be replaced (a new, empty resource); "
            "re-run with --allow-replace if that is intended"
        ]
        assert refusals(plan_of(replaced()), allow_replace=True, impossible=cannot) == []


def test_a_conditional_replacement_with_a_fixed_name_is_explained_too() -> None:
    old = new = db("orders-db")
    assert custom_name(replaced(how="Conditional"), old, new) is not None
    assert custom_name(replaced(how="False"), old, new) is None


def test_a_type_without_a_name_property_is_never_blocked_by_its_name() -> None:
    change = replaced("Fs", "AWS::EFS::FileSystem")
    fs = {"Resources": {"Fs": {"Type": "AWS::EFS::FileSystem", "Properties": {}}}}
    assert custom_name(change, fs, fs) is None


def efs(encrypted: bool) -> dict[str, Any]:
    return {
        "Resources": {
            "Fs": {"Type": "AWS::EFS::FileSystem", "Properties": {"Encrypted": encrypted}}
        },
        "Outputs": {
            "FileSystemId": {
                "Value": {"Ref": "Fs"},
                "Export": {"Name": {"Fn::Sub": "${EnvironmentName}-files-FileSystemId"}},
            }
        },
    }


def test_an_export_in_use_blocks_a_replacement_and_the_order_that_works_is_named() -> None:
    change = replaced("Fs", "AWS::EFS::FileSystem")
    blocked = {"dev-files-FileSystemId": ["dev-api", "dev-worker"]}
    exports = {"dev-files-FileSystemId": "FileSystemId"}
    cannot, explained = impossible([change], "dev-files", efs(False), efs(True), exports, blocked)
    assert explained == {"dev-files-FileSystemId"}
    why = cannot["Fs"]
    assert "changes export dev-files-FileSystemId that dev-api, dev-worker import" in why
    assert "--allow-replace cannot help" in why
    assert (
        "deploy dev-api, dev-worker without the import, then dev-files, then dev-api, "
        "dev-worker with the import again" in why
    )
    reasons = refusals(
        plan_of(change, blocked=blocked), allow_replace=True, impossible=cannot, explained=explained
    )
    assert reasons == [why]  # one explanation, not a second generic export refusal


def test_an_export_not_in_use_does_not_block() -> None:
    change = replaced("Fs", "AWS::EFS::FileSystem")
    exports = {"dev-files-FileSystemId": "FileSystemId"}
    cannot, explained = impossible([change], "dev-files", efs(False), efs(True), exports, {})
    assert cannot == {} and explained == set()


def test_a_removed_resource_is_not_an_impossible_replacement() -> None:
    change = ResourceChange("Fs", "AWS::EFS::FileSystem", "Remove")
    blocked = {"dev-files-FileSystemId": ["dev-api"]}
    exports = {"dev-files-FileSystemId": "FileSystemId"}
    cannot, _ = impossible([change], "dev-files", efs(False), efs(False), exports, blocked)
    assert cannot == {}
