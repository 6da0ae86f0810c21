"""Lifeboat's exception types.

The class name of each exception is the error name Step Functions sees (Lambda reports it as
``errorType``), and ``Retry``/``Catch`` blocks in ``statemachines/*.asl.json`` match on it.
Renaming a class is therefore a breaking change to every deployed workflow.
"""

from __future__ import annotations


class LifeboatError(Exception):
    """Root of every error Lifeboat raises on purpose."""


class InvalidInput(LifeboatError):
    """An event or request failed validation; nothing was changed in AWS."""


class ConfigError(LifeboatError):
    """The policy configuration document is missing or invalid."""


class PolicyViolation(LifeboatError):
    """A policy breaks the environment rules (e.g. backups disabled in prod)."""


class ResourceNotFound(LifeboatError):
    """The protected resource no longer exists."""


class ResourceNotReady(LifeboatError):
    """The resource or recovery point is busy (creating, copying, modifying); retry later."""


class RecoveryPointNotFound(LifeboatError):
    """No recovery point with that id exists in that region."""


class RecoveryPointConflict(LifeboatError):
    """A snapshot with our deterministic id exists but was not made by Lifeboat."""


class SnapshotQuotaExceeded(LifeboatError):
    """A snapshot or concurrent-copy quota is exhausted; schedule around it, do not page."""


class KmsKeyNotUsable(LifeboatError):
    """A KMS key is missing, disabled, pending deletion, or in the wrong region."""


class ValidationFailed(LifeboatError):
    """A recovery point exists but does not meet the level-1 validation rules."""


class OperationNotFound(LifeboatError):
    """The state table has no operation with that id."""


class IllegalStatusTransition(LifeboatError):
    """An operation's status would move backwards or skip the status graph."""


class TransientAwsError(LifeboatError):
    """Throttling or a 5xx from AWS that survived the SDK's own retries."""


class RegionUnreachable(LifeboatError):
    """A DR region gave connection errors or 503s past the SDK's retries: its breaker is open, and
    its copies are recorded FAILED without calling it until a probe succeeds. Not retried by the
    copy steps: the next cycle (or a catch-up) copies the missed point."""


class UnsupportedOperation(LifeboatError):
    """The resource plugin does not implement this operation."""


class OperationAlreadyFinished(LifeboatError):
    """A duplicate delivery of a run found the operation already SUCCEEDED or FAILED.

    The first delivery's result stands; the workflow ends the duplicate quietly.
    """


class TargetExists(LifeboatError):
    """The restore target already exists and was not created by this restore: never overwritten."""


class RestoreFailed(LifeboatError):
    """AWS reports the restore itself failed (e.g. ``incompatible-restore``); retrying will not help."""


class ChecksFailed(LifeboatError):
    """A restored resource came up but failed its post-restore checks (named in the message)."""


class TeardownRefused(LifeboatError):
    """A teardown was asked for a resource that is not that drill's own temporary resource."""


class DatabaseUnreachable(LifeboatError):
    """The database of a source or a restore refused or timed out the data checks' connection."""


class ExperimentStopped(LifeboatError):
    """A failover experiment's stop alarm went into ALARM, or an operator stopped every experiment:
    the workflow rolls it back where it can and records it STOPPED."""


class ApprovalDenied(LifeboatError):
    """An operator refused a critical experiment (``lifeboat experiment approve ID --deny``)."""
