"""CloudWatch alarm state change (EventBridge) -> on-demand backup of the breached resource or incident."""

from __future__ import annotations

from typing import Any

from lifeboat.handler import lambda_handler, parse
from lifeboat.service import alarm_trigger
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    alarm = parse(alarm_trigger.AlarmEvent, event)
    return alarm_trigger.handle_alarm(alarm, deps_from_env()).model_dump(mode="json", by_alias=True)
