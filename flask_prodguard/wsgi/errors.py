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
- Everything the guard reads from an exception (type name, message, notes,
  traceback, cause and context) it reads as if the object were hostile: see
  :mod:`flask_prodguard.events.failures`. A ``__repr__`` that fails never
  costs the client its generic page or the event its error id.
- In ``strict``, a 5xx body from the app's own handler that looks like a
  traceback is replaced by the generic page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import cast

from flask import got_request_exception
from flask import request
from werkzeug.exceptions import HTTPException

from ..events import catalogue
from ..events.failures import STOPS
from ..events.failures import converted_text
from ..events.failures import exception_fields
from ..events.failures import exception_message
from ..events.failures import qualified_name
from ..keys import CONSOLE_KEY
from ..keys import ERROR_ID_KEY
from ..keys import HANDLED_EXCEPTION_KEY
from ..keys import PROBE_KEY
from ..keys import PROBE_STATUSES
from ..keys import REPORTED_KEY
from ..keys import error_id_for
from ..policy import Action
from ..policy import Condition
from .pages import error_response
from .pages import standard_description
from .pages import standard_title
from .streaming import StreamAborted
from .streaming import answer_then_stop
from .streaming import bare_stop
from .streaming import continuing_stop

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask
    from flask import Response as FlaskResponse
    from flask.typing import ErrorHandlerCallable
    from flask.typing import ResponseReturnValue
    from jinja2.sandbox import SandboxedEnvironment
    from werkzeug.wrappers import Response

    from ..state import GuardState
    from .streaming import HeldResponse


def report_unhandled(
    state: GuardState, error: BaseException, environ: WSGIEnvironment, stage: str
) -> str:
    """Emit ``prodguard.error.unhandled`` for ``error``; return the error id.

    Marks the request as reported, so that the error response made for it is
    not reported again (``prodguard.error.http``) and a later failure counts as
    one of handling it.

    :param state: The guard of the app that failed.
    :param error: The exception, read as hostile.
    :param environ: The request's WSGI environ; it holds the error id.
    :param stage: Where it was caught: ``view`` (Flask's handling) or
        ``body`` (a 5xx body that failed while the leak check read it ahead).
    """
    error_id = error_id_for(environ)
    environ[REPORTED_KEY] = True
    state.emitter.emit(
        catalogue.ERROR_UNHANDLED,
        environ,
        error_id=error_id,
        **exception_fields(error),
        stage=stage,
    )
    return error_id


class ErrorPages:
    """Builds the generic error responses of one app (its template, settings).

    :param app: The guarded app; a custom error template is loaded through
        its Jinja loader, in a sandbox that sees only the page's variables.
    :param state: The app's guard, for its settings and events.
    """

    def __init__(self, app: Flask, state: GuardState) -> None:
        settings = state.settings
        self.state = state
        self.json_prefixes = settings.json_path_prefixes
        self.error_id_header = settings.error_id_header
        self.passthrough = settings.http_descriptions == "passthrough"
        self.template_name = settings.error_template
        self._template_env: SandboxedEnvironment | None = None
        if self.template_name is not None:
            # A bare environment on the app's loader: the template sees only
            # the variables passed in, not Flask's config, request or session.
            from jinja2.sandbox import SandboxedEnvironment

            self._template_env = SandboxedEnvironment(
                loader=app.jinja_env.loader, autoescape=True
            )

    def _render_template(self, status: int, description: str, error_id: str) -> str | None:
        environment, name = self._template_env, self.template_name
        if environment is None or name is None:
            return None
        try:
            template = environment.get_template(name)
            return str(
                template.render(
                    status=status,
                    title=standard_title(status),
                    description=description,
                    error_id=error_id,
                )
            )
        except Exception as error:  # noqa: BLE001 - fall back to the built-in page
            self.state.emitter.emit(
                catalogue.ERROR_TEMPLATE_FAILED,
                template=str(self.template_name),
                exception_type=qualified_name(type(error)),
                exception_message=exception_message(error),
            )
            return None

    def response(
        self,
        status: int,
        environ: WSGIEnvironment,
        error: HTTPException | None = None,
    ) -> Response:
        """The generic response for ``status``, with this request's error id.

        A failing custom template, or none, gives the built-in page.

        :param status: The HTTP status code.
        :param environ: The request's WSGI environ.
        :param error: The HTTP error the response answers, if any: its
            ``Allow``, ``WWW-Authenticate`` and ``Retry-After`` headers are
            kept, and with ``PRODGUARD_HTTP_DESCRIPTIONS=passthrough`` its
            description is shown.
        """
        error_id = error_id_for(environ)
        description = standard_description(status)
        if self.passthrough and error is not None and error.description is not None:
            # The app's own text; an object whose str() fails gets the standard one.
            text = converted_text(error.description)
            if text:
                description = text
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


def _later_app_handler(app: Flask, error: HTTPException) -> ErrorHandlerCallable | None:
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
    """Wire error pages, the error event and leak scrubbing into ``app``.

    Registers the ``HTTPException`` handler (unless the app registered one
    first), connects to ``got_request_exception``, filters Flask's own
    exception log record (``PRODGUARD_REPLACE_EXCEPTION_LOG``) and installs
    the leak check, each as the policy says.

    :param app: The app being guarded.
    :param state: Its guard.
    :return: The app's error pages, for the safety net.
    """
    pages = ErrorPages(app, state)
    action = state.action(Condition.ERROR_RESPONSE)

    def on_exception(sender: Flask, exception: BaseException, **extra: object) -> None:
        """``got_request_exception`` receiver: note the exception, emit the event."""
        # The exception the 500 page is made for: the leak check compares with it.
        request.environ[HANDLED_EXCEPTION_KEY] = exception
        # Never raises an Exception: one from here would end Flask's handling
        # before its 500 (the safety net would still answer, without this
        # event's stage).
        try:
            report_unhandled(state, exception, request.environ, "view")
        except Exception:  # noqa: BLE001, S110 - nothing here may break Flask's handling
            pass

    # Keep a reference on the state: blinker holds receivers weakly.
    state.exception_receiver = on_exception
    got_request_exception.connect(on_exception, app)
    if state.settings.replace_exception_log:
        app.logger.addFilter(_DropFlaskExceptionRecord())

    def generic_http_error(error: HTTPException) -> ResponseReturnValue:
        """The guard's ``HTTPException`` handler: an app handler registered for a
        class further up wins; else the error event, then the generic page (under
        ``report``, the error as Flask would send it)."""
        status = error.code
        if status is None or status < 400:
            return error
        later = _later_app_handler(app, error)
        if later is not None:
            return app.ensure_sync(later)(error)  # type: ignore[no-any-return]
        environ = request.environ
        if (
            not environ.get(REPORTED_KEY)
            and PROBE_KEY not in environ
            and not (CONSOLE_KEY in environ and str(status) in PROBE_STATUSES)
        ):
            state.emitter.emit(
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
        _install_leak_check(app, state, pages, fix=scrub is Action.FIX)
    return pages


def _install_leak_check(app: Flask, state: GuardState, pages: ErrorPages, fix: bool) -> None:
    """The app's own handlers win, except over a leak.

    A 5xx response whose body carries the handled exception (its message or
    repr), a traceback or a source location is replaced by the generic page
    (``fix``: enforce, strict) or only reported (report), with a
    ``prodguard.error.traceback_scrubbed`` event naming the handler that built
    it (see :mod:`flask_prodguard.wsgi.leaks`). A streamed body is read ahead by at
    most ``leaks.SCAN_LIMIT`` bytes, then sent on unchanged if clean.

    The check wraps ``app.process_response`` (which Flask documents as meant
    to be overridden) instead of registering an ``after_request`` function:
    Flask passes those through ``ensure_sync`` on every request, while this
    costs a request that is not a 5xx one comparison. It runs before the
    app's ``after_request`` functions and the session, which then apply to
    the generic page as well. ``app.handle_user_exception`` is wrapped to note
    the exception an app's own handler takes (``errorhandler(Exception)``
    returning ``str(e), 500``): Flask sends no signal for it.
    """
    from werkzeug.exceptions import InternalServerError

    from .leaks import HeldStream
    from .leaks import body_prefix
    from .leaks import callable_name
    from .leaks import find_leak

    def handler_name(environ: WSGIEnvironment, exception: BaseException | None) -> str:
        """The app's error handler that built the response, else the view."""
        handler: object = None
        # type(), not isinstance(): a hostile exception's __class__ is not read.
        # (mypy does not narrow on type(), hence the casts.)
        http_error = issubclass(type(exception), HTTPException)
        try:
            if http_error and cast(HTTPException, exception).code is None:
                return "flask.abort"  # abort(Response(...)): the app's own response
            if issubclass(type(exception), Exception):
                lookup = cast(Exception, exception)
                if environ.get(REPORTED_KEY) and not http_error:
                    # Unhandled: Flask looked for a 500 handler instead.
                    lookup = InternalServerError(original_exception=exception)
                handler = app._find_error_handler(lookup, request.blueprints)
                if getattr(handler, "prodguard", False) and isinstance(lookup, HTTPException):
                    handler = _later_app_handler(app, lookup) or handler
            if handler is None and request.endpoint is not None:
                handler = app.view_functions.get(request.endpoint)
        except Exception:  # noqa: BLE001 - a name must not break the check
            handler = None
        return "unknown" if handler is None else callable_name(handler)

    def scrub_leaky_error_page(response: FlaskResponse) -> FlaskResponse:
        environ = request.environ
        # Taken out: the environ need not keep the traceback's frames alive.
        exception = environ.pop(HANDLED_EXCEPTION_KEY, None)
        if not pages.passthrough:
            error_id = environ.get(ERROR_ID_KEY)
            if error_id is not None and response.headers.get(pages.error_id_header) == error_id:
                # The guard's own page: standard text and the error id only.
                return response
        held = None
        if response.is_streamed:
            held = HeldStream(response.response)
            response.response = held  # type: ignore[assignment]
            prefix = held.prefix()
        else:
            prefix = body_prefix(response.response)
        leak = find_leak(prefix, exception)
        if leak is None:
            # The headers and the reason phrase are sent too: an app may put
            # the message in an "X-Error" header or in the status line.
            head = "\n".join(
                [str(response.status), *(f"{k}: {v}" for k, v in response.headers.items())]
            )
            leak = find_leak(head.encode("utf-8", "replace"), exception)
        if leak is None:
            return response
        status = response.status_code
        state.emitter.emit(
            catalogue.ERROR_TRACEBACK_SCRUBBED,
            environ,
            error_id=error_id_for(environ),
            status=status,
            action="fixed" if fix else "reported",
            handler=handler_name(environ, exception),
            leak=leak,
        )
        if not fix:
            return response
        if held is not None and held.failure is not None:
            # The body failed while it was read ahead; it is not sent now.
            report_unhandled(state, held.failure, environ, "body")
        body_close = getattr(response.response, "close", None)
        if body_close is not None:
            body_close()
        generic = pages.response(status, environ)
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            generic.headers["Retry-After"] = retry_after
        # Rewritten in place, not swapped for the generic response: when an
        # after_request function fails on this error response, Flask logs it
        # and sends the response object it had, which must be this one.
        response.response = generic.response
        response.headers = generic.headers
        response.status = generic.status
        response.direct_passthrough = False
        return response

    process_response = app.process_response
    handle_user_exception = app.handle_user_exception

    def process_checked_response(response: FlaskResponse) -> FlaskResponse:
        # All a request that is not a 5xx pays for the leak check: one
        # attribute read (the value behind Werkzeug's status_code property,
        # without the property call); a response class that keeps its status
        # elsewhere uses the property.
        try:
            status = response._status_code
        except AttributeError:
            status = response.status_code
        if status >= 500:
            response = scrub_leaky_error_page(response)
        return process_response(response)

    def handle_noted_user_exception(error: Exception) -> HTTPException | ResponseReturnValue:
        # Not a 4xx HTTP error (a probe, a missing URL): nothing to compare.
        if not isinstance(error, HTTPException) or not 400 <= (error.code or 500) < 500:
            request.environ[HANDLED_EXCEPTION_KEY] = error
        return handle_user_exception(error)

    app.process_response = process_checked_response  # type: ignore[method-assign]
    app.handle_user_exception = handle_noted_user_exception  # type: ignore[method-assign, assignment]


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


class SafetyNet:
    """Turns failures outside Flask's own handling into generic responses.

    What escapes ``app.wsgi_app`` (a middleware, an error handler that
    fails), a streamed body that fails, a body whose ``close()`` fails: the
    guard's middleware and :func:`~flask_prodguard.wsgi.streaming.guarded_body`
    hand each to the net, which reports it and answers with the generic 500
    while nothing was sent yet. Under ``report`` it reports and raises the
    failure again unchanged.

    :param state: The app's guard: its policy for error responses, its emitter.
    :param pages: The app's error pages, for the generic 500.
    """

    def __init__(self, state: GuardState, pages: ErrorPages) -> None:
        self.state = state
        self.pages = pages
        action = state.action(Condition.ERROR_RESPONSE)
        #: Whether the net acts (report only reports).
        self.active = action is not Action.IGNORE
        self.fix = action is Action.FIX

    def escaped(
        self, environ: WSGIEnvironment, response: HeldResponse, error: BaseException
    ) -> Iterable[bytes]:
        """``error`` escaped the app: the generic 500 (or ``error`` raised again).

        Raised again unchanged under ``report``. When part of the response was
        already sent (through the legacy ``write()`` callable) nothing can
        replace it: :exc:`StreamAborted` is raised instead. A stop that must
        go on is raised once the page is handed over.

        :param environ: The request's WSGI environ.
        :param response: The ``start_response`` the app was given, which holds
            the server's back until the body has something to send.
        :param error: What the app raised.
        """
        # If the view's exception was reported, this one came from handling it.
        stage = "error_handler" if environ.get(REPORTED_KEY) else "wsgi"
        stop = self.report(error, environ, stage)
        self.pass_on_unchanged(error, stop)
        if response.sent:
            if stop is not None:
                raise bare_stop(stop) from None
            raise StreamAborted.for_request(environ) from None
        page = self.generic_500(environ, response.server_start_response)
        return page if stop is None else answer_then_stop(page, bare_stop(stop))

    def pass_on_unchanged(self, error: BaseException, stop: BaseException | None) -> None:
        """Under ``report``, raise ``error`` as it came; return when the net acts.

        A stop that arrived while ``error`` was read goes on instead.

        :param error: The failure that was reported.
        :param stop: What :meth:`report` or :meth:`aborted` returned for it.
        """
        if self.fix:
            return
        if stop is not None and stop is not error:
            raise bare_stop(stop) from None
        raise error

    def report(
        self, error: BaseException, environ: WSGIEnvironment, stage: str
    ) -> BaseException | None:
        """Emit ``prodguard.error.unhandled``; return the stop that must go on, if any.

        The stop is ``error`` or one that arrived while it was read (see
        :func:`~flask_prodguard.wsgi.streaming.continuing_stop`).

        :param error: The failure, read as hostile.
        :param environ: The request's WSGI environ, marked as reported.
        :param stage: Where it was caught, for the event: ``wsgi``,
            ``error_handler`` (while an earlier failure was being handled),
            ``body`` or ``close``.
        """
        environ[REPORTED_KEY] = True
        return self._emit(catalogue.ERROR_UNHANDLED, error, environ, stage=stage)

    def aborted(self, error: BaseException, environ: WSGIEnvironment) -> BaseException | None:
        """Emit ``prodguard.error.stream_aborted``; return the stop that must go on, if any.

        For a body that fails after part of it was sent: nothing can replace it.

        :param error: The failure, read as hostile.
        :param environ: The request's WSGI environ.
        """
        return self._emit(catalogue.ERROR_STREAM_ABORTED, error, environ)

    def _emit(
        self,
        spec: catalogue.EventSpec,
        error: BaseException,
        environ: WSGIEnvironment,
        **extra: object,
    ) -> BaseException | None:
        arrived: BaseException | None = None
        try:
            fields = exception_fields(error)
        except STOPS as interrupt:
            # A signal while the exception was read, or a __repr__ raising one:
            # the event still goes out, with what can be read without code.
            arrived = interrupt
            fields = {
                "exception_type": qualified_name(type(error)),
                "exception_message": "<not read: interrupted>",
                "traceback": [],
            }
        try:
            self.state.emitter.emit(
                spec, environ, error_id=error_id_for(environ), **fields, **extra
            )
        except Exception:  # noqa: BLE001, S110 - emit() must not raise; if it does, the net holds
            pass
        stop = continuing_stop(error, environ)
        if stop is None and arrived is not None:
            stop = continuing_stop(arrived, environ)
        return stop

    def generic_500(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """The generic 500, sent through the server's own ``start_response``.

        :param environ: The request's WSGI environ (its error id, HTML or JSON).
        :param start_response: The server's ``start_response``, not the held one.
        """
        return self.pages.response(500, environ)(environ, start_response)
