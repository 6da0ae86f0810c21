"""The manual-snapshot quota as Lifeboat watches it: how many slots it keeps free, the headroom
of every region the fleet writes recovery points to (health reports it), and whether a backup
run's points fit (its plan reads it once per region, not each resource's preflight)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping, Set

from lifeboat.aws.clients import ClientProvider, fail_fast
from lifeboat.contracts.backup import QuotaRoom
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.health import SnapshotHeadroom
from lifeboat.domain.policy import Policy
from lifeboat.errors import LifeboatError
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.plugins.base import QuotaUsage
from lifeboat.service.deps import Deps

QUOTA_RESERVE_ENV = "LIFEBOAT_SNAPSHOT_QUOTA_RESERVE"
DEFAULT_QUOTA_RESERVE = 5


def quota_reserve() -> int:
    """Free manual-snapshot slots below which a backup first cleans up its own resource."""
    return int(os.environ.get(QUOTA_RESERVE_ENV, DEFAULT_QUOTA_RESERVE))


def snapshot_headroom(
    deps: Deps, monitored: Mapping[str, Policy], skip: Set[str] = frozenset()
) -> list[SnapshotHeadroom]:
    """One reading per resource type and region the fleet keeps points in (its source regions and
    DR regions): one call each per run, whatever the fleet size. Regions in ``skip`` (breaker
    open) are not called, and the others get the copy steps' tight retry budget: a DR region
    that is down must not hold the monitor past its timeout. One that does not answer is left
    out and logged."""
    samples: dict[tuple[str, str], ResourceRef] = {}
    for arn, policy in monitored.items():
        ref = ResourceRef.parse(arn)
        for region in (ref.region, *(t.region for t in policy.dr_regions)):
            if region not in skip:
                samples.setdefault((quota_group(ref), region), ref)
    reserve = quota_reserve()
    return [
        SnapshotHeadroom(
            resource_type=resource_type,
            region=region,
            used=usage.used,
            max=usage.max,
            headroom=usage.headroom,
            low=usage.headroom < reserve,
        )
        for resource_type, region, usage in _readings(fail_fast(deps.clients), samples)
    ]


def planned_room(deps: Deps, planned: Mapping[str, Policy]) -> list[QuotaRoom]:
    """The quota of each resource type in each source region of the run, read once, against the
    points the run adds there: one snapshot per resource in its region, one copy per DR region
    (a source region may be another resource's DR region). A reading that fails is left out:
    those resources' preflights read the quota themselves."""
    adding: Counter[tuple[str, str]] = Counter()
    samples: dict[tuple[str, str], ResourceRef] = {}
    for arn, policy in planned.items():
        ref = ResourceRef.parse(arn)
        samples.setdefault((quota_group(ref), ref.region), ref)
        adding[(quota_group(ref), ref.region)] += 1
        for target in policy.dr_regions:
            adding[(quota_group(ref), target.region)] += 1
    reserve = quota_reserve()
    rooms = []
    for resource_type, region, usage in _readings(deps.clients, samples):
        adds = adding[(resource_type, region)]
        room = QuotaRoom(
            resource_type=resource_type,
            region=region,
            headroom=usage.headroom,
            planned=adds,
            enough=adds + reserve <= usage.headroom,
        )
        if not room.enough:
            metrics.add_metric(name="SnapshotQuotaTight", unit=MetricUnit.Count, value=1)
            logger.warning(
                "snapshot quota tight: each backup checks it and makes room",
                extra={"region": region, "type": resource_type, "free": usage.headroom, "adding": adds},
            )
        rooms.append(room)
    return rooms


def room_for(rooms: list[QuotaRoom], ref: ResourceRef) -> QuotaRoom | None:
    """The plan's quota reading of the resource's type and region, if the run's points fit it."""
    group = (quota_group(ref), ref.region)
    return next((r for r in rooms if (r.resource_type, r.region) == group and r.enough), None)


def quota_group(ref: ResourceRef) -> str:
    """What a quota is counted per, beside the region: ``rds:db`` (DB snapshots), ``rds:cluster``."""
    return f"{ref.service}:{ref.kind}"


def _readings(
    clients: ClientProvider, samples: Mapping[tuple[str, str], ResourceRef]
) -> Iterator[tuple[str, str, QuotaUsage]]:
    """The quota of each (resource type, region), one call each through a sample resource of
    the type; a type with no such quota gives none, a reading that fails is logged and left out."""
    for (resource_type, region), ref in sorted(samples.items()):
        try:
            usage = plugin_for(ref, clients).snapshot_quota(region)
        except LifeboatError as exc:
            logger.warning("snapshot quota unknown", extra={"region": region, "reason": str(exc)})
            continue
        if usage is not None:
            yield resource_type, region, usage
