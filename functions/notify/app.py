"""State table stream -> human-readable SNS notifications, with partial batch failure reporting."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import notify
from lifeboat.service.deps import deps_from_env

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _record(record: DynamoDBRecord) -> None:
    notify.handle_record(record.raw_event, deps_from_env())


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parse(notify.StreamBatch, event)
    response = process_partial_response(
        event=event, record_handler=_record, processor=processor, context=context
    )
    return dict(response)
