"""Route 53 for a failover: point CNAMEs at the new primaries and wait until every name server
answers with them (``INSYNC``)."""

from __future__ import annotations

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.domain.failover import DnsRecord
from lifeboat.errors import ResourceNotFound

_ZONE_ERRORS = {"NoSuchHostedZone": ResourceNotFound, "NoSuchChange": ResourceNotFound}
# Route 53 is a global service served from us-east-1.
ROUTE53_REGION = "us-east-1"


def hosted_zone_exists(clients: ClientProvider, zone_id: str) -> bool:
    try:
        with translated(_ZONE_ERRORS, f"hosted zone {zone_id}"):
            clients("route53", ROUTE53_REGION).get_hosted_zone(Id=zone_id)
    except ResourceNotFound:
        return False
    return True


def upsert_cnames(
    clients: ClientProvider, zone_id: str, records: list[tuple[DnsRecord, str]], why: str
) -> str:
    """One change batch per zone (atomic: every record of the zone moves, or none); UPSERT, so a
    retried step writes the same values again. Returns the change id."""
    batch = {
        "Comment": why[:256],
        "Changes": [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": record.fqdn,
                    "Type": "CNAME",
                    "TTL": record.ttl,
                    "ResourceRecords": [{"Value": value}],
                },
            }
            for record, value in records
        ],
    }
    with translated(_ZONE_ERRORS, f"changing records of hosted zone {zone_id}"):
        answer = clients("route53", ROUTE53_REGION).change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch=batch
        )
    return str(answer["ChangeInfo"]["Id"])


def change_in_sync(clients: ClientProvider, change_id: str) -> bool:
    with translated(_ZONE_ERRORS, f"Route 53 change {change_id}"):
        status = clients("route53", ROUTE53_REGION).get_change(Id=change_id)["ChangeInfo"]["Status"]
    return bool(status == "INSYNC")
