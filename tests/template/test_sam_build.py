"""`sam build` packs an arm64 layer: the same code that runs locally deploys to Lambda."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sam_build_packs_arm64_wheels_into_the_layer(tmp_path: Path) -> None:
    # GIVEN the SAM CLI of this venv and the repository's template
    sam = Path(sys.prefix) / "bin" / "sam"
    assert sam.exists(), "aws-sam-cli is a dev dependency: `make install` installs it"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}

    # WHEN it builds the application into a scratch folder
    result = subprocess.run(
        [
            str(sam),
            "build",
            "--template",
            str(ROOT / "template.yaml"),
            "--build-dir",
            str(tmp_path / "build"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-cached",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # THEN it succeeds, every function is built, and the layer carries linux/aarch64 pydantic_core
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    layer = tmp_path / "build" / "LifeboatLayer" / "python"
    assert (layer / "lifeboat" / "service" / "backup.py").is_file()
    native = list(layer.glob("pydantic_core/*.so"))
    assert native and all("aarch64" in so.name for so in native), native
    # AND the data checks' PostgreSQL driver is there, built for arm64 too
    psycopg_native = list(layer.glob("psycopg_binary/*.so"))
    assert psycopg_native and all("aarch64" in so.name for so in psycopg_native), psycopg_native
    for function in (
        "PlanFunction",
        "HealthCheckFunction",
        "SnapshotFunction",
        "ValidateFunction",
        "ReplicateFunction",
        "UpdateStateFunction",
        "RestorePlanFunction",
        "RestoreCheckFunction",
        "TeardownFunction",
    ):
        assert (tmp_path / "build" / function / "app.py").is_file(), function
