"""cfngen's own checks for buckets and production databases (CG2xx)."""

from __future__ import annotations

from typing import Any

from cfngen.lint import check_bucket_policy_public, check_bucket_tls_only, check_rds_production

TLS_DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket_template(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Policy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": {"Statement": list(statements)},
                },
            },
        }
    }


def test_public_allow_in_a_bucket_policy_is_reported() -> None:
    public = {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*"}
    t = bucket_template(TLS_DENY, public)
    assert list(check_bucket_policy_public(t)) == [
        ("Policy", "Anyone allows Principal '*'; grant named principals instead")
    ]
    assert list(check_bucket_policy_public(bucket_template(TLS_DENY))) == []


def test_bucket_without_tls_only_policy_is_reported() -> None:
    assert list(check_bucket_tls_only(bucket_template(TLS_DENY))) == []
    allow_only = {"Effect": "Allow", "Principal": {"Service": "x"}, "Action": "s3:GetObject"}
    assert list(check_bucket_tls_only(bucket_template(allow_only))) == [
        ("Bucket", "bucket without a policy denying aws:SecureTransport false (TLS only)")
    ]
    alone = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}
    assert len(list(check_bucket_tls_only(alone))) == 1


def db_template(env: str, **props: Any) -> dict[str, Any]:
    return {
        "Metadata": {"cfngen": {"environment": env}},
        "Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": props}},
    }


def test_production_database_needs_backups_and_deletion_protection() -> None:
    assert list(check_rds_production(db_template("prod", BackupRetentionPeriod=1))) == [
        ("Db", "production database keeps backups 1 day(s); keep 7 or more"),
        ("Db", "production database without DeletionProtection"),
    ]
    good = db_template("prod", BackupRetentionPeriod=7, DeletionProtection=True)
    assert list(check_rds_production(good)) == []
    assert list(check_rds_production(db_template("dev", BackupRetentionPeriod=1))) == []
