"""The bad-input corpus, counted: every handler's malformed events and every CLI command's bad
arguments, and what each did (issue 12).

Handlers run on an emulated account holding a day's recovery points of an RDS instance, an EBS
volume and a DynamoDB table; their mutating AWS calls are counted by a botocore hook and the
account's recovery points are compared before and after. CLI runs have every AWS call refused
and counted, and ``--local`` recorded.

    python bench/bad_input_counts.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lifeboat.local.runtime import LocalCloud
from reliability.audit import inventory, seed_three_types
from reliability.bad_input import feed
from reliability.cli_corpus import invocations, run_guarded
from reliability.corpus import HANDLER_EVENTS


def handler_counts() -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    with (
        tempfile.TemporaryDirectory() as log_dir,
        LocalCloud(time_scale=0.0001, log_file=Path(log_dir) / "local.log") as cloud,
    ):
        fleet = seed_three_types(cloud)
        cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime(2026, 11, 22, 3, 0, tzinfo=UTC)))
        for handler in sorted(HANDLER_EVENTS):
            before = inventory(cloud, fleet)
            outcomes = feed(cloud, handler)
            row: Counter[str] = Counter(o.kind for o in outcomes)
            row["inputs"] = len(outcomes)
            row["mutations"] = sum(len(o.mutations) for o in outcomes)
            row["points changed"] = len(set(inventory(cloud, fleet).items()) ^ set(before.items()))
            counts[handler] = row
    return counts


def cli_counts() -> Counter[str]:
    row: Counter[str] = Counter()
    for _, arguments, names in invocations():
        run = run_guarded(arguments)
        row["runs"] += 1
        one_clear_line = run.exit_code == 2 and len(run.lines) == 1 and names in run.lines[0]
        row["one line naming the field, exit 2"] += one_clear_line
        row["tracebacks"] += run.traceback
        row["AWS calls"] += len(run.aws_calls)
        row["local-mode calls"] += len(run.local_calls)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    handlers, cli = handler_counts(), cli_counts()
    if args.json:
        print(json.dumps({"handlers": handlers, "cli": cli}, indent=2))
        return
    columns = ("inputs", "clear error", "accepted", "raw crash", "mutations", "points changed")
    print(f"{'handler':<24}" + "".join(f"{c:>16}" for c in columns))
    for handler, row in handlers.items():
        print(f"{handler:<24}" + "".join(f"{row[c]:>16}" for c in columns))
    total = sum(handlers.values(), Counter())
    print(f"{'total':<24}" + "".join(f"{total[c]:>16}" for c in columns))
    print()
    print("CLI: " + ", ".join(f"{key} {value}" for key, value in cli.items()))


if __name__ == "__main__":
    main()
