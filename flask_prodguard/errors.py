"""Error responses: generic pages, the structured error event, leak scrubbing.

- Every HTTP error and unhandled exception gets a generic page (or
  problem+json) with an error id, through one handler registered for
  ``HTTPException``. The app's own handlers always win: Flask looks up
  status-code and blueprint handlers first, a handler the app registers for
  ``HTTPException`` later replaces the guard's, one registered earlier is kept,
  and the guard's handler hands over to an app handler for ``Exception``. The
  guard never registers ``errorhandler(Exception)``, so Flask still sends
  ``got_request_exception`` (Sentry captures from it) and calls the app's 500
  handler.
- Flask logs an unhandled exception as ``Exception on <path> [<method>]``
  through ``app.logger``, with the decoded path written raw (a ``%0d%0a`` in a
  URL forges a log line) and a text traceback. The guard emits
  ``prodguard.error.unhandled`` instead and drops Flask's record
  (``PRODGUARD_REPLACE_EXCEPTION_LOG``).
- In ``strict``, a 5xx body from the app's own handler that looks like a
  traceback is replaced by the generic page.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from flask import got_request_exception
from flask import request
from werkzeug.exceptions import HTTPException

from . import catalogue
from .pages import error_response
from .pages import standard_description
from .pages import standard_title
from .policy import Action
from .policy import Condition

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.wrappers import Response

    from .state import GuardState

#: Environ key holding the error id of a failed request.
ERROR_ID_KEY = "prodguard.error_id"
#: Environ key set when the request was reported as a debugger probe.
PROBE_KEY = "prodguard.probe"
#: Environ key set once an unhandled exception of the request was reported.
REPORTED_KEY = "prodguard.error_reported"

# What a leaked traceback looks like in a response body.
_LEAK = re.compile(
    rb"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|"
    rb"[\w./\\-]+\.py(?:\"|')?(?:, line |:)\d+"
)


def error_id_for(environ: dict[str, Any]) -> str:
    """The error id of this request, made on first use."""
    error_id = environ.get(ERROR_ID_KEY)
    if error_id is None:
        error_id = environ[ERROR_ID_KEY] = uuid.uuid4().hex[:16]
    return str(error_id)


def exception_fields(error: BaseException) -> dict[str, Any]:
    """The fields an error event gives an exception: type, message, traceback."""
    return {
        "exception_type": qualified_name(type(error)),
        "exception_message": str(error),
        "traceback": traceback_frames(error),
    }


def report_unhandled(
    state: GuardState, error: BaseException, environ: dict[str, Any], stage: str
) -> str:
    """Emit ``prodguard.error.unhandled`` for ``error``; return the error id."""
    error_id = error_id_for(environ)
    environ[REPORTED_KEY] = True
    state.emit(
        catalogue.ERROR_UNHANDLED,
        environ,
        error_id=error_id,
        **exception_fields(error),
        stage=stage,
    )
    return error_id


class ErrorPages:
    """Builds the generic error responses of one app (its template, settings)."""

    def __init__(self, app: Flask, state: GuardState) -> None:
        settings = state.settings
        self.state = state
        self.json_prefixes = settings.json_path_prefixes
        self.error_id_header = settings.error_id_header
        self.passthrough = settings.http_descriptions == "passthrough"
        self.template_name = settings.error_template
        self._template_env: Any = None
        if self.template_name is not None:
            # A bare environment on the app's loader: the template sees only
            # the variables passed in, not Flask's config, request or session.
            from jinja2.sandbox import SandboxedEnvironment

            self._template_env = SandboxedEnvironment(
                loader=app.jinja_env.loader, autoescape=True
            )

    def _render_template(self, status: int, description: str, error_id: str) -> str | None:
        if self._template_env is None:
            return None
        try:
            template = self._template_env.get_template(self.template_name)
            return str(
                template.render(
                    status=status,
                    title=standard_title(status),
                    description=description,
                    error_id=error_id,
                )
            )
        except Exception as error:  # noqa: BLE001 - fall back to the built-in page
            self.state.emit(
                catalogue.ERROR_TEMPLATE_FAILED,
                template=str(self.template_name),
                exception_type=qualified_name(type(error)),
                exception_message=str(error),
            )
            return None

    def response(
        self,
        status: int,
        environ: dict[str, Any],
        error: HTTPException | None = None,
    ) -> Response:
        """The generic response for ``status``, with this request's error id."""
        error_id = error_id_for(environ)
        description = standard_description(status)
        if self.passthrough and error is not None and error.description:
            description = str(error.description)
        headers: list[tuple[str, str]] = []
        if error is not None:
            try:
                headers = error.get_headers(environ)
            except Exception:  # noqa: BLE001 - the headers are a nicety
                headers = []
        return error_response(
            status,
            error_id,
            environ,
            json_prefixes=self.json_prefixes,
            description=description,
            headers=headers,
            error_id_header=self.error_id_header,
            html=self._render_template(status, description, error_id),
        )


def _later_app_handler(app: Flask, error: HTTPException) -> Callable[..., Any] | None:
    """An app-level handler Flask would have used after the guard's one.

    Flask found the guard's handler (app level, registered for
    ``HTTPException``); handlers the app registered for classes further up
    the exception's MRO (``Exception``, ``BaseException``) come after it.
    """
    handlers = app.error_handler_spec[None][None]
    mro = type(error).__mro__
    for cls in mro[mro.index(HTTPException) + 1 :]:
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return None


def install_error_handling(app: Flask, state: GuardState) -> ErrorPages:
    """Wire error pages, the error event and leak scrubbing into ``app``."""
    pages = ErrorPages(app, state)
    action = state.action(Condition.ERROR_RESPONSE)

    def on_exception(sender: Flask, exception: BaseException, **extra: Any) -> None:
        report_unhandled(state, exception, request.environ, "view")

    # Keep a reference on the state: blinker holds receivers weakly.
    state.exception_receiver = on_exception
    got_request_exception.connect(on_exception, app)
    if state.settings.replace_exception_log:
        app.logger.addFilter(_DropFlaskExceptionRecord())

    def generic_http_error(error: HTTPException) -> Any:
        status = error.code
        if status is None or status < 400:
            return error
        later = _later_app_handler(app, error)
        if later is not None:
            return app.ensure_sync(later)(error)
        environ = request.environ
        if not environ.get(REPORTED_KEY) and PROBE_KEY not in environ:
            state.emit(
                catalogue.ERROR_HTTP,
                environ,
                error_id=error_id_for(environ),
                status=status,
                exception_type=qualified_name(type(error)),
            )
        if action is not Action.FIX:
            return error  # report: the response stays as Flask makes it
        return pages.response(status, environ, error)

    generic_http_error.prodguard = True  # type: ignore[attr-defined]
    if app.error_handler_spec[None][None].get(HTTPException) is None:
        # An HTTPException handler the app registered first is the app's choice.
        app.register_error_handler(HTTPException, generic_http_error)

    scrub = state.action(Condition.LEAKY_ERROR_PAGE)
    if scrub is not Action.IGNORE:

        def scrub_leaky_error_page(response: Response) -> Response:
            if response.status_code < 500 or response.is_streamed:
                return response
            if _LEAK.search(response.get_data()) is None:
                return response
            environ = request.environ
            fixed = scrub is Action.FIX
            state.emit(
                catalogue.ERROR_TRACEBACK_SCRUBBED,
                environ,
                error_id=error_id_for(environ),
                status=response.status_code,
                action="fixed" if fixed else "reported",
            )
            if not fixed:
                return response
            return pages.response(response.status_code, environ)

        app.after_request(scrub_leaky_error_page)
    return pages


class _DropFlaskExceptionRecord(logging.Filter):
    """Drops Flask's own exception records; the guard's events replace them.

    ``Flask.log_exception`` writes ``Exception on <path>`` (raw path, text
    traceback with the message); ``Flask.finalize_request`` writes ``Request
    finalizing failed ...`` with the text traceback of an ``after_request``
    function that failed again while the error response was being made.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is None or not isinstance(record.msg, str):
            return True
        if record.funcName == "log_exception":
            return not record.msg.startswith("Exception on ")
        if record.funcName == "finalize_request":
            return not record.msg.startswith("Request finalizing failed")
        return True


def traceback_frames(error: BaseException, max_frames: int = 50) -> list[dict[str, Any]]:
    """The exception chain as structured frames: file, line, function. No locals.

    Frame locals hold request objects, environs and secrets; they are never
    read. Exception values are included and go through redaction and
    sanitising like every other field.
    """
    chain: list[dict[str, Any]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(chain) < 10:
        seen.add(id(current))
        frames = []
        tb = current.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            frames.append(
                {"file": code.co_filename, "line": tb.tb_lineno, "function": code.co_name}
            )
            tb = tb.tb_next
        if len(frames) > max_frames:
            frames = frames[: max_frames // 2] + frames[-max_frames // 2 :]
        chain.append(
            {
                "exception_type": qualified_name(type(current)),
                "exception_message": str(current),
                "frames": frames,
            }
        )
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return chain


def qualified_name(cls: type) -> str:
    """``module.Class``, or just ``Class`` for built-ins."""
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
