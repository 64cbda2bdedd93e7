"""Unhandled exceptions: the structured event that replaces Flask's log record.

Flask logs an unhandled exception as ``Exception on <path> [<method>]`` through
``app.logger``, with the decoded path written raw (a ``%0d%0a`` in a URL forges
a log line) and the frame-by-frame traceback as text. The guard emits
``prodguard.error.unhandled`` instead: an error id, the exception type and
message (redacted, escaped), structured frames without local variables, and
the request fields. Flask's record is dropped by a filter on ``app.logger``
(``PRODGUARD_REPLACE_EXCEPTION_LOG``, on by default).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING
from typing import Any

from flask import got_request_exception
from flask import request

from . import catalogue
from .processors import qualified_name
from .processors import traceback_frames

if TYPE_CHECKING:
    from flask import Flask

    from .state import GuardState

#: Environ key holding the error id of a failed request.
ERROR_ID_KEY = "prodguard.error_id"


def error_id_for(environ: dict[str, Any]) -> str:
    """The error id of this request, made on first use."""
    error_id = environ.get(ERROR_ID_KEY)
    if error_id is None:
        error_id = environ[ERROR_ID_KEY] = uuid.uuid4().hex[:16]
    return str(error_id)


def report_unhandled(state: GuardState, error: BaseException, environ: dict[str, Any]) -> str:
    """Emit ``prodguard.error.unhandled`` for ``error``; return the error id."""
    error_id = error_id_for(environ)
    state.emit(
        catalogue.ERROR_UNHANDLED,
        environ,
        error_id=error_id,
        exception_type=qualified_name(type(error)),
        exception_message=str(error),
        traceback=traceback_frames(error),
    )
    return error_id


class _DropFlaskExceptionRecord(logging.Filter):
    """Drops the record of ``Flask.log_exception``; the guard's event replaces it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.funcName == "log_exception"
            and record.exc_info is not None
            and isinstance(record.msg, str)
            and record.msg.startswith("Exception on ")
        )


def install_error_events(app: Flask, state: GuardState) -> None:
    """Emit the structured event for unhandled exceptions of ``app``."""

    def on_exception(sender: Flask, exception: BaseException, **extra: Any) -> None:
        report_unhandled(state, exception, request.environ)

    # Keep a reference on the state: blinker holds receivers weakly.
    state.exception_receiver = on_exception
    got_request_exception.connect(on_exception, app)
    if state.settings.replace_exception_log:
        app.logger.addFilter(_DropFlaskExceptionRecord())
