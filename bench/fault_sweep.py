"""The fault-injection sweep: daily backup runs of a mixed fleet under AWS faults, audited.

Each seed runs the real backup workflow on the local mode over encrypted prod RDS instances, an
Aurora cluster, an EBS volume and a DynamoDB table (2 DR regions each), with a seeded injector
between botocore and the emulated AWS (lifeboat/local/faults.py): throttles and 5xx, copy-quota
refusals, lost responses of mutating calls and Lambda tasks that time out after their work. With
faults off, the audit of tests/reliability/audit.py counts what was lost, duplicated, orphaned or
left stuck, and failures without a cause or a notification.

    python bench/fault_sweep.py [--seeds 20] [--first 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lifeboat.local.runtime import LocalCloud
from reliability.audit import audit, inventory, seed_mixed_fleet, standard_faults

SCHEDULED_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
COLUMNS = (
    "resources",
    "succeeded",
    "partial",
    "failed",
    "lost",
    "duplicates",
    "orphans",
    "stuck",
    "unexplained",
)


def run_seed(seed: int, log_dir: Path) -> dict[str, Any]:
    started = time.monotonic()
    with LocalCloud(time_scale=0.0001, log_file=log_dir / f"seed-{seed}.log") as cloud:
        fleet = seed_mixed_fleet(cloud)
        before = inventory(cloud, fleet)
        with cloud.faults(standard_faults(seed)) as injector:
            described = cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT), timeout=600)
        result = audit(cloud, fleet, before, cloud.notifications())
    return {
        "seed": seed,
        "execution": described["status"],
        "calls": injector.calls,
        "injected": dict(injector.injected),
        "escaped": dict(injector.escaped),
        "seconds": round(time.monotonic() - started, 1),
        **result.counts(),
        "problems": result.lost + result.duplicates + result.orphans + result.stuck + result.unexplained,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as logs:
        rows = [run_seed(seed, Path(logs)) for seed in range(args.first, args.first + args.seeds)]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(
            f"{'seed':>5} {'run':>9} {'calls':>6} {'faults':>6} {'escaped':>7} "
            + " ".join(f"{c:>11}" for c in COLUMNS)
        )
        for row in rows:
            faults, escaped_here = sum(row["injected"].values()), sum(row["escaped"].values())
            print(
                f"{row['seed']:>5} {row['execution']:>9} {row['calls']:>6} {faults:>6} {escaped_here:>7} "
                + " ".join(f"{row[c]:>11}" for c in COLUMNS)
            )
        injected: Counter[str] = sum((Counter(r["injected"]) for r in rows), Counter())
        escaped: Counter[str] = sum((Counter(r["escaped"]) for r in rows), Counter())
        print(f"faults injected by kind: {dict(sorted(injected.items()))}")
        print(f"escaped botocore's retries (reached Lifeboat's code): {dict(sorted(escaped.items()))}")
        print("totals: " + ", ".join(f"{c} {sum(r[c] for r in rows)}" for c in COLUMNS))
        for row in rows:
            for problem in row["problems"]:
                print(f"  seed {row['seed']}: {problem}")
    bad = any(r["execution"] != "SUCCEEDED" or r["problems"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
