"""Where a workflow's fleet-sized lists live: files in the stack's bucket, named in the payload."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from lifeboat.domain.models import CamelModel

# Entries of a fleet-sized list a payload still carries (skipped resources, refusals); the
# counts are always complete and the whole list is in the run's file.
LISTED = 20


class S3Location(CamelModel):
    bucket: str
    key: str


class ResultWriterDetails(CamelModel):
    bucket: str = Field(alias="Bucket")
    key: str = Field(alias="Key")


class MapResults(CamelModel):
    """What a Distributed Map with ``ResultWriter`` returns: where its manifest is."""

    model_config = ConfigDict(extra="ignore")

    result_writer_details: ResultWriterDetails = Field(alias="ResultWriterDetails")
