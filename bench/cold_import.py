"""Cold-start import cost of each handler module relative to importing boto3 alone.

Each sample is a fresh interpreter (as a Lambda cold start is) that times its own import with
``time.perf_counter`` (interpreter start-up, which varies more than the imports themselves on
a shared machine, is left out). Runs alternate boto3 / handler to cancel drift; the figure is
the median of handler import / boto3 import. ``--parts`` also says where a handler's time goes
beyond boto3: pydantic, then Powertools, then Lifeboat's own modules, imported cumulatively.
Target from the brief: <= 1.3.

    python bench/cold_import.py [--runs 15] [--handler snapshot] [--parts]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def _seconds(module: str, cwd: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(module=module)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def measure(handler: str, runs: int) -> tuple[float, float, float]:
    """(median ratio, median boto3 seconds, median handler seconds)."""
    folder = ROOT / "functions" / handler
    boto, app = [], []
    for _ in range(runs):
        boto.append(_seconds("boto3", folder))
        app.append(_seconds("app", folder))
    ratios = [a / b for a, b in zip(app, boto, strict=True)]
    return statistics.median(ratios), statistics.median(boto), statistics.median(app)


# What every handler imports besides boto3, added one layer at a time (--parts).
LAYERS = (
    ("boto3", "boto3"),
    ("+ pydantic", "boto3, pydantic"),
    ("+ powertools", "boto3, pydantic, aws_lambda_powertools.logging, aws_lambda_powertools.metrics"),
)


def parts(handler: str, runs: int) -> list[tuple[str, float]]:
    """Median seconds of each cumulative layer, then of the handler itself."""
    folder = ROOT / "functions" / handler
    found = [
        (name, statistics.median(_seconds(modules, folder) for _ in range(runs))) for name, modules in LAYERS
    ]
    return [
        *found,
        ("+ lifeboat (the handler)", statistics.median(_seconds("app", folder) for _ in range(runs))),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--handler", choices=HANDLERS, action="append")
    parser.add_argument("--parts", action="store_true", help="also show where the time goes")
    args = parser.parse_args()
    worst = 0.0
    for handler in args.handler or HANDLERS:
        ratio, boto, app = measure(handler, args.runs)
        worst = max(worst, ratio)
        line = f"{handler:14} import / boto3 import = {ratio:.2f}x  ({app:.3f} s vs {boto:.3f} s)"
        print(line)
        if args.parts:
            for name, seconds in parts(handler, args.runs):
                print(f"    {name:26} {seconds:.3f} s")
    print(f"worst handler: {worst:.2f}x (target <= 1.30), median of {args.runs} runs each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
