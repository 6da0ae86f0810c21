"""Turn botocore errors into Lifeboat exceptions, inside adapters only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from lifeboat.errors import TransientAwsError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "InternalFailure",
        "ServiceUnavailable",
    }
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated(codes: Mapping[str, type[Exception]], context: str) -> Iterator[None]:
    """Re-raise AWS errors whose code is in ``codes`` (or is a throttle) as Lifeboat errors, or as
    a plugin's internal signal (e.g. an id already taken, which its base class decides about).

    Anything else propagates unchanged: an unexpected AWS error should be seen as itself.
    """
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "")
        if code in codes:
            raise codes[code](f"{context}: {code}: {message}") from exc
        if code in THROTTLING_CODES:
            raise TransientAwsError(f"{context}: {code}: {message}") from exc
        raise
    except BotoCoreError as exc:
        raise TransientAwsError(f"{context}: {exc}") from exc
