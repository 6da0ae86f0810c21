"""DynamoDB tables: an on-demand backup in the table's region, an S3 export in each DR region.

AWS cannot copy an on-demand backup (``CreateBackup``) to another region, and such backups carry
no tags. So, per recovery point:

- in the table's region the point is an on-demand backup named with the recovery point id;
- in a DR region it is an export of the table (``ExportTableToPointInTime``, which needs
  point-in-time recovery on the table) into Lifeboat's bucket of that region, encrypted with
  that region's KMS key (``S3SseAlgorithm=KMS`` + ``S3SseKmsKeyId``). The export holds the table
  as of the copy step, at or after the backup: the backup's own time is usually not exportable
  yet (PITR trails by about five minutes) and the copy step does not wait. Restoring it is an
  ``ImportTable`` in that region;
- in every region Lifeboat writes a record ``s3://lifeboat-dynamodb-<account>-<region>/<id>/
  lifeboat-recovery-point.json``, tagged with the recovery point's tags: it names the backup or
  the export (AWS chooses their ARNs), keeps what an import needs (key schema, indexes, key) and
  carries the tags backups cannot. A point is found by reading that one object, never by
  listing the account's backups or exports.

Create and copy are idempotent: create writes the record before ``CreateBackup``, only where
none is (``If-None-Match``), so a step retried after a crash finds the backup the first attempt
started with one ``ListBackups`` of that table since the record was written; an export carries a
``ClientToken`` derived from the point and the region, so a retried copy gets back the export the
first attempt started (AWS keeps a token for 8 hours).

The calls of a daily cycle are counted by ``bench/backup_cycle.py --type dynamodb_table``: each
step reads only the objects it needs, and the tags only where a check needs them.
"""

from __future__ import annotations

__all__ = ["DynamoDbTablePlugin"]

from lifeboat.plugins.dynamodb.plugin import DynamoDbTablePlugin
