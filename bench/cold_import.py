"""Cold-start import cost of each handler module relative to importing boto3 alone.

Each sample is a fresh interpreter (as a Lambda cold start is). Runs alternate A/B to cancel
drift; the figure is the median of (handler import - bare interpreter) / (boto3 import - bare
interpreter). Target from the brief: <= 1.3.

    python bench/cold_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))


def _run(code: str, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True)
    return time.perf_counter() - started


def measure(handler: str, runs: int) -> float:
    folder = ROOT / "functions" / handler
    ratios = []
    for _ in range(runs):
        bare = _run("pass", folder)
        boto = _run("import boto3", folder)
        app = _run("import app", folder)
        ratios.append((app - bare) / (boto - bare))
    return statistics.median(ratios)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--handler", choices=HANDLERS, action="append")
    args = parser.parse_args()
    worst = 0.0
    for handler in args.handler or HANDLERS:
        ratio = measure(handler, args.runs)
        worst = max(worst, ratio)
        print(f"{handler:14} import / boto3 import = {ratio:.2f}x (median of {args.runs})")
    print(f"worst handler: {worst:.2f}x (target <= 1.30)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
