"""Restores and drills, step by step: plan, start, wait, check, record.

A restore always creates a *new* resource: planning refuses a target that exists before any
mutation, and a retried start accepts only the resource its own operation created. Every step
records its time on the operation, so the measured RTO (request -> available and checked) and
its breakdown are in the state table.
"""

from __future__ import annotations

from lifeboat.service.restore.plan import EVIDENCE_DAYS, drill_operation_id, plan
from lifeboat.service.restore.record import record
from lifeboat.service.restore.steps import check, stamp, start, wait

__all__ = ["EVIDENCE_DAYS", "check", "drill_operation_id", "plan", "record", "stamp", "start", "wait"]
