"""The DR regions' KMS keys, checked once per run by the plan instead of once per copy.

A copy needs its region's key enabled and by its ARN (the copy's validation compares ARNs).
Looked up by each copy step, that is one KMS call per copy, two per resource a day with two DR
regions; looked up by the plan, it is one per region and key a run, whatever the fleet size.
A key the plan cannot check (disabled, missing, its region down) is left out: the copy step
then looks it up itself and records why it cannot copy, on that region's copy alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from lifeboat.aws.clients import fail_fast
from lifeboat.aws.kms import resolve_usable_key
from lifeboat.contracts.backup import CheckedKey
from lifeboat.domain.policy import DrTarget, Policy
from lifeboat.errors import LifeboatError, RegionUnreachable, TransientAwsError
from lifeboat.observability import logger
from lifeboat.service.deps import Deps
from lifeboat.service.regions import reaching
from lifeboat.state import breakers


def checked_keys(deps: Deps, policies: Iterable[Policy], run_id: str) -> list[CheckedKey]:
    """The enabled keys of the policies' DR regions. Regions whose breaker is open are not
    called, and the others get the copy steps' tight retry budget, behind the region's breaker:
    a DR region that is down costs the plan one retry chain (counted on its breaker), not one
    per key, and must not hold the plan, and so every other resource's backup."""
    wanted = sorted({(t.region, t.kms_key_id) for p in policies for t in p.dr_regions if t.kms_key_id})
    if not wanted:
        return []
    down = set(breakers.open_breakers(deps.store))
    clients = fail_fast(deps.clients)
    checked = []
    for region, key_id in wanted:
        if region in down:
            continue
        try:
            with reaching(deps, region, run_id):
                arn = resolve_usable_key(clients, region, key_id)
        except (TransientAwsError, RegionUnreachable) as exc:
            down.add(region)  # its copies meet the breaker, or try the region themselves
            logger.warning("DR region not reached by the plan", extra={"region": region, "reason": str(exc)})
            continue
        except LifeboatError as exc:
            logger.warning("DR key not checked by the plan", extra={"region": region, "reason": str(exc)})
            continue
        checked.append(CheckedKey(region=region, key_id=key_id, arn=arn))
    return checked


def copy_target(target: DrTarget, encrypted: bool, keys: Iterable[CheckedKey]) -> DrTarget:
    """Copies of encrypted sources are re-encrypted with the region's key (by its ARN where the
    plan checked it; else as the policy names it, for the copy step to check in its region);
    unencrypted sources copy as they are."""
    if not encrypted or target.kms_key_id is None:
        return DrTarget(region=target.region)
    arn = next((k.arn for k in keys if (k.region, k.key_id) == (target.region, target.kms_key_id)), None)
    return DrTarget(region=target.region, kms_key_id=arn or target.kms_key_id)
