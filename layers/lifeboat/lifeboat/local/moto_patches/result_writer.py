"""moto's Distributed Map ``ResultWriter``: write the child results as AWS does.

moto writes the map run's ``manifest.json`` with empty ``ResultFiles`` and drops the children's
outputs. AWS writes them to ``<Prefix>/<map run id>/SUCCEEDED_0.json`` (a JSON array with each
child's ``Output`` as a JSON string and its ``Status``) and lists that file in the manifest. The
cleanup workflow's report step reads them: local mode writes them the same way.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["patch_result_writer"]


def _handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    parameters = dict(env.stack.pop())
    outputs: list[Any] = env.stack.pop()
    s3 = boto_client_for(
        service="s3", region=resource_runtime_part.region, state_credentials=state_credentials
    )
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


def patch_result_writer(stack: ExitStack) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3,
    )

    stack.enter_context(
        mock.patch.object(
            resource_eval_s3.ResourceEvalS3, "_handle_put_object", staticmethod(_handle_put_object)
        )
    )
