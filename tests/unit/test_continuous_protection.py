"""Continuous protection: the policy's schema, the gaps health reports, and Lifeboat's
StartDBInstanceAutomatedBackupsReplication request held to botocore's service model (local
mode adds the API to moto: local/moto_patches/rds_backups.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from lifeboat.aws import automated_backups
from lifeboat.domain.continuous import ContinuousFacts, continuous_gaps
from lifeboat.domain.policy import Policy
from pydantic import ValidationError

INSTANCE = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/carts"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _policy(**continuous: Any) -> Policy:
    return Policy.model_validate(
        {
            "name": "prod",
            "environment": "prod",
            "drRegions": [{"region": "us-west-2", "kmsKeyId": "alias/dr"}, {"region": "eu-west-1"}],
            "continuousProtection": continuous,
        }
    )


def test_a_recovery_period_aws_does_not_offer_is_refused() -> None:
    # GIVEN retention of 36 days (AWS allows 1 to 35) THEN the policy is refused naming the field
    with pytest.raises(ValidationError, match="retentionDays"):
        _policy(retentionDays=36)
    # AND replication goes to the first DR region only (AWS allows one per instance)
    target = _policy().automated_backups_region
    assert target is not None and target.region == "us-west-2"
    assert _policy(replicateToDrRegion=False).automated_backups_region is None


def test_gaps_name_what_is_missing_and_how_it_closes() -> None:
    policy = _policy(retentionDays=7)
    # GIVEN an instance keeping 1 day, replicating nowhere THEN both gaps are named
    gaps = continuous_gaps(policy, INSTANCE, ContinuousFacts(1, (), {"us-east-1": NOW}), None)
    assert gaps == [
        "automated backups kept 1 days, policy asks 7 (the next backup run raises it)",
        "automated backups not replicated to us-west-2 (the next backup run starts it)",
    ]
    # GIVEN replication started but no window there yet THEN that is a gap too
    started = ContinuousFacts(7, ("us-west-2",), {"us-east-1": NOW})
    assert continuous_gaps(policy, INSTANCE, started, None) == [
        "automated backups replicating to us-west-2, no restore window there yet"
    ]
    # GIVEN all in place THEN no gap
    done = ContinuousFacts(7, ("us-west-2",), {"us-east-1": NOW, "us-west-2": NOW})
    assert continuous_gaps(policy, INSTANCE, done, None) == []
    # GIVEN a table with PITR off THEN the source region has no point-in-time restore
    assert continuous_gaps(policy, TABLE, ContinuousFacts(), None) == [
        "no point-in-time restore possible in the source region (the next backup run turns it on)"
    ]
    # GIVEN a policy that does not ask THEN nothing is a gap
    plain = Policy.model_validate({"name": "dev", "environment": "dev"})
    assert continuous_gaps(plain, TABLE, ContinuousFacts(), "no such thing here at all") == []


def test_the_replication_request_holds_to_botocores_model() -> None:
    # GIVEN a stubbed RDS client in the DR region (Stubber validates every parameter)
    client = boto3.client(
        "rds", region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    stubber.add_response(
        "start_db_instance_automated_backups_replication",
        {"DBInstanceAutomatedBackup": {"DBInstanceArn": INSTANCE}},
        {
            "SourceDBInstanceArn": INSTANCE,
            "BackupRetentionPeriod": 7,
            "KmsKeyId": "alias/dr",
            # botocore turns SourceRegion into the PreSignedUrl before the call is made
            "SourceRegion": "us-east-1",
        },
    )
    # WHEN Lifeboat starts replication THEN the request is the model's, with the DR key
    with stubber:
        automated_backups.start_replication(
            lambda service, region: client, INSTANCE, "us-west-2", 7, "alias/dr"
        )
    stubber.assert_no_pending_responses()


def test_replicated_to_reads_the_regions_from_the_instance() -> None:
    instance = {
        "DBInstanceAutomatedBackupsReplications": [
            {"DBInstanceAutomatedBackupsArn": "arn:aws:rds:us-west-2:123456789012:auto-backup:ab-1"}
        ]
    }
    assert automated_backups.replicated_to(instance) == ("us-west-2",)
    assert automated_backups.replicated_to({}) == ()
