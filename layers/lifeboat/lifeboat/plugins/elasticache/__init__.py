"""ElastiCache for Redis replication groups: manual snapshots, copied to DR regions through S3.

A recovery point is a manual snapshot named with the recovery point id (``CreateSnapshot``),
tagged at creation and found by name with one ``DescribeSnapshots``. ElastiCache copies no
snapshot across regions, so a DR copy takes the path AWS documents:

1. ``CopySnapshot`` with ``TargetBucket`` exports the snapshot into Lifeboat's bucket of the
   group's region (``lifeboat-elasticache-<account>-<region>``; AWS requires the snapshot's
   region), one ``<point>-0001.rdb`` file per shard. The export is asynchronous (the snapshot is
   ``exporting``): the copy step raises ResourceNotReady until the files are there, and the
   workflow retries it. One export serves every DR region.
2. Each ``.rdb`` file is copied by S3 into Lifeboat's bucket of the DR region, as
   ``<point>/<point>-0001.rdb``, encrypted (SSE-KMS) with that region's key, tagged with the
   point's Lifeboat tags and carrying what a restore needs (engine, version, node type, shard
   count, the export's size) as object metadata. A file above 256 MiB is copied in parts
   (``UploadPartCopy``): CopyObject stops at 5 GB.
3. A restore in the DR region creates a replication group seeded from the files' S3 ARNs
   (``SnapshotArns``).

Copies are idempotent: a point is found by its deterministic keys, a finished file is never
copied again, and a file interrupted mid-copy is started over (its unfinished upload aborted).
The export stays in the group's region as long as the snapshot and is deleted with it.

moto (on which Lifeboat's local mode and tests run) has no ``CopySnapshot``: the export call is
tested only against botocore's model of the request; everything after the export runs on moto.

Encryption at rest: ElastiCache names a snapshot's key (``KmsKeyId``) only for a customer
managed key, which Lifeboat passes explicitly (the source's key). A snapshot of a group under
ElastiCache's service-managed key, or of an unencrypted group, names none, and nothing else in
``DescribeSnapshots`` tells the two apart: Lifeboat records the source's encryption at rest on
the snapshot (``lifeboat:at-rest-encryption`` tag) so that a restore is encrypted like its source.
ElastiCache exports under S3-managed encryption only (no customer key); the DR copy is
re-encrypted with the DR region's key.
"""

from __future__ import annotations

__all__ = ["ElastiCacheRedisPlugin"]

from lifeboat.plugins.elasticache.plugin import ElastiCacheRedisPlugin
