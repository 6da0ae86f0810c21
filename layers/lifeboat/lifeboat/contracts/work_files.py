"""Where a workflow's fleet-sized lists live: files in the stack's bucket, named in the payload."""

from __future__ import annotations

from lifeboat.domain.models import CamelModel

# Entries of a fleet-sized list a payload still carries (skipped resources, refusals); the
# counts are always complete and the whole list is in the run's file.
LISTED = 20


class S3Location(CamelModel):
    bucket: str
    key: str
