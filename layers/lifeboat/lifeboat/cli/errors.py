"""Every CLI failure as one line: what went wrong, why, and what to do; never a traceback.

The root command group runs each command inside :class:`OneLineErrors`. An error Lifeboat raises
on purpose, an AWS refusal, missing credentials or a pydantic refusal becomes one red line and an
exit code (2: the arguments, the credentials or the stack named are wrong; 1: the command ran
into trouble). ``lifeboat --debug ...`` re-raises instead, with the traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from pydantic import ValidationError
from typer.core import TyperGroup

from lifeboat.cli.console import console, problems
from lifeboat.errors import ConfigError, InvalidInput, LifeboatError

__all__ = ["TROUBLE", "USAGE", "OneLineErrors", "explain"]

TROUBLE = 1
USAGE = 2
_CREDENTIALS = (
    "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run `aws sso login`), or add --local"
)
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId"})
_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


def explain(exc: Exception) -> tuple[str, int]:
    """The one line an operator reads for ``exc``, and the exit code."""
    if isinstance(exc, ClientError):
        return _refused(exc)
    if isinstance(exc, BotoCoreError):
        return _unreachable(exc)
    if isinstance(exc, ValidationError):
        return f"invalid {exc.title}: {problems(exc)}", USAGE
    if isinstance(exc, LifeboatError):
        usage = isinstance(exc, InvalidInput | ConfigError)
        return f"{type(exc).__name__}: {exc}", USAGE if usage else TROUBLE
    return f"unexpected {type(exc).__name__}: {exc} (lifeboat --debug ... shows the traceback)", TROUBLE


def _unreachable(exc: BotoCoreError) -> tuple[str, int]:
    """botocore could not make the call: credentials, profile, region or network."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return f"no usable AWS credentials ({exc}): {_CREDENTIALS}", USAGE
    if isinstance(exc, ProfileNotFound | NoRegionError):
        return f"{exc}: pass --region, or set AWS_PROFILE / AWS_REGION", USAGE
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach AWS ({exc}): check the network and --region", TROUBLE
    return f"AWS call failed: {exc}", TROUBLE


def _refused(exc: ClientError) -> tuple[str, int]:
    """AWS answered no: expired credentials and denied calls are the operator's to fix."""
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    if code in _EXPIRED:
        return f"AWS refused the credentials ({code}: {message}): {_CREDENTIALS}", USAGE
    if code in _DENIED:
        return f"AWS denied {exc.operation_name} ({message}): use a role allowed to run Lifeboat", USAGE
    return f"AWS refused {exc.operation_name} ({code}: {message})", TROUBLE


class OneLineErrors(TyperGroup):
    """The root group: a command that raises ends in one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:  # typer's (possibly vendored) click.Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _is_usage_error(exc):
                where = getattr(getattr(exc, "ctx", None), "command_path", None) or ctx.command_path
                line = f"{exc.format_message()} (see {where} --help)"  # type: ignore[attr-defined]
                code = USAGE
            elif hasattr(exc, "format_message") or ctx.params.get("debug"):
                raise  # click's other errors report themselves; --debug wants the traceback
            else:
                line, code = explain(exc)
            console.print(f"[red]error:[/] {line}", soft_wrap=True, highlight=False)
            ctx.exit(code)


def _is_usage_error(exc: Exception) -> bool:
    """click's UsageError (a bad option value, an unknown option or command), told by its shape:
    typer vendors click in some versions. Not the one that asks for the help page."""
    return (
        hasattr(exc, "format_message")
        and getattr(exc, "exit_code", None) == USAGE
        and type(exc).__name__ != "NoArgsIsHelpError"
    )
