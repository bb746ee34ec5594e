"""Data checks: public bucket policies (CFG007), TLS-only buckets (CFG008), production databases
(CFG009), secrets in Outputs (CFG010)."""

from __future__ import annotations

from tests.checks.helpers import hits, line_of, lint, ours

# --- CFG007 / CFG008 buckets --------------------------------------------------------------------

BUCKET = """\
Resources:
  Data:
    Type: AWS::S3::Bucket
  DataPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Data
      PolicyDocument:
        Statement:
          - Sid: TlsOnly
            Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt Data.Arn, !Sub "${Data.Arn}/*"]
            Condition: {Bool: {aws:SecureTransport: false}}
          - Sid: Cdn
            Effect: Allow
            Principal: {Service: cloudfront.amazonaws.com}
            Action: s3:GetObject
            Resource: !Sub "${Data.Arn}/*"
"""


def test_cfg007_bad_allow_everyone() -> None:
    text = BUCKET.replace("Principal: {Service: cloudfront.amazonaws.com}", 'Principal: "*"')
    assert hits("CFG007", text) == [("DataPolicy", "statement 'Cdn' allows Principal '*'")]
    assert ours(lint(text), "CFG007") == [("DataPolicy", line_of(text, "DataPolicy"))]


def test_cfg007_bad_aws_star_in_a_list() -> None:
    text = BUCKET.replace(
        "Principal: {Service: cloudfront.amazonaws.com}",
        'Principal: {AWS: [arn:aws:iam::1:root, "*"]}',
    ).replace("          - Sid: Cdn\n", "          -\n")
    assert hits("CFG007", text) == [("DataPolicy", "a statement allows Principal '*'")]


def test_cfg007_good_named_principal_and_deny_everyone() -> None:
    # the TLS-only statement denies Principal '*': that is not a grant
    assert hits("CFG007", BUCKET) == []


def test_cfg008_bad_bucket_without_tls_policy() -> None:
    text = """\
    Resources:
      Logs:
        Type: AWS::S3::Bucket
      Data:
        Type: AWS::S3::Bucket
      DataPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Data
          PolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {Service: cloudfront.amazonaws.com}
                Action: s3:GetObject
                Resource: !Sub "${Data.Arn}/*"
    """
    msg = "no bucket policy in this template denies aws:SecureTransport false"
    assert hits("CFG008", text) == [("Logs", msg), ("Data", msg)]
    assert sorted(ours(lint(text), "CFG008")) == [
        ("Data", line_of(text, "Data")),
        ("Logs", line_of(text, "Logs")),
    ]


def test_cfg008_bad_secure_transport_condition_that_allows() -> None:
    text = BUCKET.replace("Bool: {aws:SecureTransport: false}", "Bool: {aws:SecureTransport: true}")
    assert [r for r, _ in hits("CFG008", text)] == ["Data"]


def test_cfg008_good_deny_plain_http() -> None:
    assert hits("CFG008", BUCKET) == []
    quoted = BUCKET.replace("aws:SecureTransport: false", 'aws:SecureTransport: "false"')
    assert hits("CFG008", quoted) == []


# --- CFG009 production databases ----------------------------------------------------------------

DATABASE = """\
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      AllocatedStorage: "20"
      MasterUsername: app
      ManageMasterUserPassword: true
"""


def test_cfg009_bad_production_database_without_protection() -> None:
    text = DATABASE + "      BackupRetentionPeriod: 3\n"
    assert hits("CFG009", text, production=True) == [
        ("Db", "backups are kept 3 day(s); keep 7 or more in production"),
        ("Db", "DeletionProtection is off"),
    ]
    assert ours(lint(text, production=True), "CFG009") == [("Db", line_of(text, "Db"))] * 2


def test_cfg009_bad_marked_production_in_template_metadata() -> None:
    text = "Metadata:\n  cfngen:\n    production: true\n" + DATABASE
    found = hits("CFG009", text)
    assert found == [
        ("Db", "backups are kept 1 day(s); keep 7 or more in production"),
        ("Db", "DeletionProtection is off"),
    ]
    assert ours(lint(text), "CFG009") == [("Db", line_of(text, "Db"))] * 2


def test_cfg009_bad_cluster() -> None:
    text = """\
    Resources:
      Cluster:
        Type: AWS::RDS::DBCluster
        Properties:
          Engine: aurora-postgresql
          BackupRetentionPeriod: 7
          DeletionProtection: false
      Writer:
        Type: AWS::RDS::DBInstance
        Properties:
          Engine: aurora-postgresql
          DBClusterIdentifier: !Ref Cluster
          DBInstanceClass: db.r6g.large
    """
    assert hits("CFG009", text, production=True) == [("Cluster", "DeletionProtection is off")]


def test_cfg009_good_not_production() -> None:
    assert hits("CFG009", DATABASE) == []
    assert ours(lint(DATABASE), "CFG009") == []


def test_cfg009_good_protected_production_database() -> None:
    text = DATABASE + "      BackupRetentionPeriod: 14\n      DeletionProtection: true\n"
    assert hits("CFG009", text, production=True) == []
    # a retention given as a parameter is not known here: only the protection is judged
    text = DATABASE + "      BackupRetentionPeriod: !Ref Days\n      DeletionProtection: 'true'\n"
    assert hits("CFG009", text, production=True) == []


# --- CFG010 secrets in Outputs ------------------------------------------------------------------

OUTPUTS = """\
Parameters:
  DbPassword:
    Type: String
    NoEcho: true
  Domain:
    Type: String
Resources:
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString: {PasswordLength: 32}
  User:
    Type: AWS::IAM::User
  Key:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: !Ref User
Outputs:
"""


def test_cfg010_bad_output_of_a_noecho_parameter() -> None:
    text = OUTPUTS + "  Db:\n    Value: !Ref DbPassword\n"
    assert hits("CFG010", text) == [("Db", "outputs the NoEcho parameter DbPassword")]
    found = [f for f in lint(text).findings if f.rule == "CFG010"]
    assert [(f.resource, f.line, f.message) for f in found] == [
        ("", line_of(text, "Db"), "output Db: outputs the NoEcho parameter DbPassword")
    ]


def test_cfg010_bad_dynamic_references_and_secret_values() -> None:
    text = OUTPUTS + (
        '  Resolved:\n    Value: "{{resolve:secretsmanager:db:SecretString:password}}"\n'
        "  KeySecret:\n    Value: !GetAtt Key.SecretAccessKey\n"
        "  ApiToken:\n    Value: abc\n"
    )
    assert hits("CFG010", text) == [
        ("Resolved", "outputs a dynamic reference to a secret"),
        ("KeySecret", "outputs a secret value"),
        ("ApiToken", "the output's name suggests a secret value; output the secret's ARN"),
    ]


def test_cfg010_good_secret_arn_and_plain_parameters() -> None:
    text = OUTPUTS + (
        "  SecretArn:\n    Value: !Ref Secret\n"
        "  Domain:\n    Value: !Ref Domain\n"
        "  AccessKeyId:\n    Value: !Ref Key\n"
        "  UserName:\n    Value: !Ref User\n"
        "  DbPasswordSecretARN:\n    Value: !Ref Secret\n"
        "  DbPasswordID:\n    Value: !Ref Secret\n"
    )
    assert hits("CFG010", text) == []
