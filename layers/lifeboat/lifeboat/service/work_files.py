"""The stack's bucket of work files: what a workflow's payload would otherwise carry per resource.

Step Functions fails a state whose input or output exceeds 256 KiB. A list that grows with the
fleet (a run's plan, its deletions, its children's results) is written here and named in the
payload by its location; Distributed Maps read it with ``ItemReader``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from lifeboat.aws.errors import translated
from lifeboat.contracts.work_files import S3Location
from lifeboat.errors import ConfigError, InvalidInput
from lifeboat.service.deps import Deps

BUCKET_ENV = "LIFEBOAT_BUCKET"
# A file that is not there was named wrong: every reader runs after its writer.
_MISSING: dict[str, type[Exception]] = {"NoSuchKey": InvalidInput, "NoSuchBucket": InvalidInput}


def work_bucket() -> str:
    bucket = os.environ.get(BUCKET_ENV)
    if not bucket:
        raise ConfigError(f"{BUCKET_ENV} is not set: the stack's bucket holds the workflows' work files")
    return bucket


def run_prefix(workflow: str, run_id: str, execution_name: str | None) -> str:
    """One folder per execution: two manual runs in the same minute share a run id, not files."""
    return f"{workflow}/{run_id}/" + (f"{execution_name}/" if execution_name else "")


def put_json(deps: Deps, key: str, document: Any) -> S3Location:
    location = S3Location(bucket=work_bucket(), key=key)
    body = json.dumps(document).encode()
    with translated({}, f"writing s3://{location.bucket}/{key}"):
        deps.clients("s3", deps.region).put_object(
            Bucket=location.bucket, Key=key, Body=body, ContentType="application/json"
        )
    return location


def get_json(s3: Any, location: S3Location) -> Any:
    with translated(_MISSING, f"reading s3://{location.bucket}/{location.key}"):
        return json.loads(s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read())


def map_outputs(s3: Any, manifest: S3Location) -> Iterator[str]:
    """Each succeeded child's output (a JSON string) of a Distributed Map that wrote its results
    with ``ResultWriter``, one result file at a time (a failed child fails the Map)."""
    written = get_json(s3, manifest)
    for result_file in written.get("ResultFiles", {}).get("SUCCEEDED", []):
        results = S3Location(bucket=written.get("DestinationBucket", manifest.bucket), key=result_file["Key"])
        for child in get_json(s3, results):
            yield str(child["Output"])


def put_plan(deps: Deps, folder: str, document: dict[str, Any], items: str) -> tuple[S3Location, S3Location]:
    """A run's plan files: ``document[items]`` as the Distributed Map's items, and the whole plan."""
    return put_json(deps, folder + "items.json", document[items]), put_json(
        deps, folder + "plan.json", document
    )
