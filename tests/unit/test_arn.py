"""Resource ARNs split into what plugins need; anything else is refused with a clear message."""

from __future__ import annotations

import pytest
from lifeboat.domain.arn import ResourceRef


@pytest.mark.parametrize(
    ("arn", "service", "region", "kind", "name"),
    [
        ("arn:aws:rds:us-east-1:123456789012:db:orders-db", "rds", "us-east-1", "db", "orders-db"),
        ("arn:aws:rds:eu-west-1:123456789012:cluster:ledger", "rds", "eu-west-1", "cluster", "ledger"),
        (
            "arn:aws:ec2:us-west-2:123456789012:volume/vol-0123456789abcdef0",
            "ec2",
            "us-west-2",
            "volume",
            "vol-0123456789abcdef0",
        ),
        (
            "arn:aws:dynamodb:ap-southeast-2:123456789012:table/orders",
            "dynamodb",
            "ap-southeast-2",
            "table",
            "orders",
        ),
    ],
)
def test_valid_arns_are_split(arn: str, service: str, region: str, kind: str, name: str) -> None:
    # GIVEN a resource ARN WHEN it is parsed THEN its parts are available to plugins
    ref = ResourceRef.parse(arn)
    assert (ref.partition, ref.service, ref.region, ref.account_id, ref.kind, ref.name) == (
        "aws",
        service,
        region,
        "123456789012",
        kind,
        name,
    )
    assert str(ref) == arn


def test_other_partitions_are_understood() -> None:
    """GIVEN a GovCloud ARN WHEN parsed THEN partition and region are read correctly."""
    ref = ResourceRef.parse("arn:aws-us-gov:rds:us-gov-west-1:123456789012:db:orders-db")
    assert (ref.partition, ref.region) == ("aws-us-gov", "us-gov-west-1")


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "orders-db",
        "arn:aws:rds:us-east-1:12345:db:orders-db",  # short account
        "arn:aws:rds::123456789012:db:orders-db",  # no region
        "arn:aws:rds:us-east-1:123456789012:db",  # no name
        "arn:aws:rds:US-EAST-1:123456789012:db:orders-db",
        "arn:aws:rds:us-east-1:123456789012:db:orders db",
    ],
)
def test_malformed_arns_are_refused_with_the_expected_shape(arn: str) -> None:
    # GIVEN something that is not a resource ARN WHEN it is parsed
    # THEN the error says it is malformed, quotes it, and shows the expected shape
    with pytest.raises(ValueError, match="malformed ARN") as refused:
        ResourceRef.parse(arn)
    assert repr(arn) in str(refused.value)
    assert "arn:<partition>:<service>:<region>:<12-digit account>:<type>:<name>" in str(refused.value)


def test_a_non_string_is_refused() -> None:
    """GIVEN a number where an ARN belongs WHEN parsed THEN the error says an ARN string is expected."""
    with pytest.raises(ValueError, match="identified by its ARN string"):
        ResourceRef.model_validate({"arn": 42})


def test_refs_are_immutable_values() -> None:
    """GIVEN one ARN parsed twice THEN both refs are equal and hash alike (usable as keys)."""
    # Two parses of one ARN are equal and hashable (used as dict keys and set members).
    arn = "arn:aws:rds:us-east-1:123456789012:db:orders-db"
    assert ResourceRef.parse(arn) == ResourceRef.parse(arn)
    assert len({ResourceRef.parse(arn), ResourceRef.parse(arn)}) == 1
