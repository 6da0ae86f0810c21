"""moto's Distributed Map files (``ItemReader``, ``ResultWriter``): read and written as AWS does.

- moto writes the map run's ``manifest.json`` with empty ``ResultFiles`` and drops the children's
  outputs. AWS writes them to ``<Prefix>/<map run id>/SUCCEEDED_0.json`` (a JSON array with each
  child's ``Output`` as a JSON string and its ``Status``) and lists that file in the manifest.
  The cleanup workflow's report step reads them: local mode writes them the same way.
- moto's engine calls S3 for these files with retries off, so one injected 5xx (local/faults.py)
  failed a whole run. Step Functions retries its own service calls: local mode gives these calls
  botocore's standard retries.
- moto starts one worker thread per unit of a Distributed Map's concurrency, whatever the item
  count: a backup Map of concurrency 1,000 over 3 resources started 1,000 threads. Start no more
  workers than there are items (the same concurrency as far as the items can tell).
"""

from __future__ import annotations

import json
import threading
from contextlib import ExitStack
from typing import Any
from unittest import mock

import boto3
from botocore.config import Config

__all__ = ["patch_map_files"]

# Step Functions' own retries of its service calls, as botocore's standard mode gives them.
_ENGINE_S3 = Config(retries={"mode": "standard", "total_max_attempts": 5})


def _s3(resource_runtime_part: Any, state_credentials: Any = None) -> Any:
    return boto3.client("s3", region_name=resource_runtime_part.region, config=_ENGINE_S3)


def _handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    parameters = dict(env.stack.pop())
    outputs: list[Any] = env.stack.pop()
    s3 = _s3(resource_runtime_part)
    map_run_arn = env.map_run_record_pool_manager.get_all().pop().map_run_arn
    prefix = str(parameters.get("Prefix") or "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    run_prefix = f"{prefix}{map_run_arn.split(':')[-1]}/"
    bucket = parameters["Bucket"]
    results = [{"Output": json.dumps(output), "Status": "SUCCEEDED"} for output in outputs]
    body = json.dumps(results).encode()
    results_key = f"{run_prefix}SUCCEEDED_0.json"
    s3.put_object(Bucket=bucket, Key=results_key, Body=body)
    manifest = {
        "DestinationBucket": bucket,
        "MapRunArn": map_run_arn,
        "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": results_key, "Size": len(body)}]},
    }
    manifest_key = f"{run_prefix}manifest.json"
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    env.stack.append(
        {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}
    )


_launch_lock = threading.Lock()
_WORKERS = "_lifeboat_workers"


def _workers_for_items(launch: Any) -> Any:
    def launch_worker(self: Any, env: Any, eval_input: Any, job_pool: Any) -> Any:
        with _launch_lock:
            launched = getattr(job_pool, _WORKERS, 0)
            if launched >= job_pool._jobs_number:
                return None
            setattr(job_pool, _WORKERS, launched + 1)
        return launch(self, env, eval_input, job_pool)

    return launch_worker


def patch_map_files(stack: ExitStack) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
        resource_eval_s3 as item_reader,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3 as result_writer,
    )

    stack.enter_context(
        mock.patch.object(
            result_writer.ResourceEvalS3, "_handle_put_object", staticmethod(_handle_put_object)
        )
    )
    stack.enter_context(mock.patch.object(item_reader.ResourceEvalS3, "_get_s3_client", staticmethod(_s3)))
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as distributed,
    )

    DistributedIterationComponent = distributed.DistributedIterationComponent
    launch = DistributedIterationComponent._launch_worker
    stack.enter_context(
        mock.patch.object(DistributedIterationComponent, "_launch_worker", _workers_for_items(launch))
    )
