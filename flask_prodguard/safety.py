"""The safety net around the WSGI app: nothing escapes, nothing leaks.

Flask's own handling covers exceptions in views. What escapes it (an exception
in an error handler, in the 500 handler, in ``after_request`` or teardown, in
middleware inside the guard, an ``OSError`` that gunicorn would turn into a
dropped connection) reaches the server, which answers with its own page,
logs its own raw traceback, or drops the connection. The net catches it:

- before the body started, the client gets the complete generic 500 (the
  server's ``start_response`` is called again with ``exc_info``, as WSGI
  allows while nothing has been sent);
- once part of a streamed body was sent, the response is aborted (an
  exception the server turns into a closed connection, so a chunked response
  lacks its terminator and the client can tell), with a
  ``prodguard.error.stream_aborted`` event; the exception the server logs
  carries only the error id.

Under ``report`` the net reports and re-raises: responses do not change.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from . import catalogue
from .errors import REPORTED_KEY
from .errors import error_id_for
from .errors import report_unhandled
from .policy import Action
from .policy import Condition
from .processors import qualified_name
from .processors import traceback_frames

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

    from .errors import ErrorPages
    from .state import GuardState


class StreamAborted(Exception):
    """Raised to make the server abort a response that failed mid-stream.

    Its message holds only the error id; the details are in the
    ``prodguard.error.stream_aborted`` event.
    """


class SafetyNet:
    """Turns failures outside Flask's own handling into generic responses."""

    def __init__(self, state: GuardState, pages: ErrorPages) -> None:
        self.state = state
        self.pages = pages
        action = state.action(Condition.ERROR_RESPONSE)
        #: Whether the net acts (report only reports).
        self.active = action is not Action.IGNORE
        self.fix = action is Action.FIX

    def generic_500(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer with the generic 500, replacing any headers not sent yet."""
        response = self.pages.response(500, environ)
        exc_info = sys.exc_info()

        def restart(status: str, headers: list[tuple[str, str]], _: Any = None) -> Any:
            # Servers accept a first call without exc_info; once the app has
            # called start_response, a second call needs exc_info, which
            # replaces the headers as long as none were sent.
            try:
                return start_response(status, headers)
            except Exception:  # noqa: BLE001 - "headers already set"
                if exc_info[0] is None:
                    raise
                return start_response(status, headers, exc_info)

        return response(environ, restart)

    def escaped(
        self, environ: WSGIEnvironment, start_response: StartResponse, error: Exception
    ) -> Iterable[bytes] | None:
        """An exception escaped the app. ``None`` means: re-raise it (report)."""
        # If the view's exception was reported, this one came from handling it.
        stage = "error_handler" if environ.get(REPORTED_KEY) else "wsgi"
        report_unhandled(self.state, error, environ, stage)
        if not self.fix:
            return None
        return self.generic_500(environ, start_response)

    def wrap(
        self, body: Iterable[bytes], environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Guard the iteration of a response body (unless it cannot fail)."""
        if isinstance(body, (list, tuple)):
            return body
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            return body  # keep the server's sendfile path
        return guarded_body(body, self, environ, start_response)


def guarded_body(
    body: Iterable[bytes],
    net: SafetyNet,
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> Iterator[bytes]:
    """Iterate a response body; turn its failures into a generic 500 or an abort.

    A generator, because it is the cheapest wrapper Python has: the happy path
    pays for one generator and one resumption per chunk.
    """
    sent = False
    try:
        for chunk in body:
            sent = True
            yield chunk
    except Exception as error:  # noqa: BLE001 - the net catches everything
        if not sent:
            report_unhandled(net.state, error, environ, "body")
            if not net.fix:
                raise
            yield from net.generic_500(environ, start_response)
            return
        error_id = error_id_for(environ)
        net.state.emit(
            catalogue.ERROR_STREAM_ABORTED,
            environ,
            error_id=error_id,
            exception_type=qualified_name(type(error)),
            exception_message=str(error),
            traceback=traceback_frames(error),
        )
        if not net.fix:
            raise
        raise StreamAborted(
            f"response aborted after its headers were sent; error id {error_id}"
        ) from None
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            try:
                close()
            except Exception as error:  # noqa: BLE001 - nothing can be sent any more
                report_unhandled(net.state, error, environ, "close")
                if not net.fix:
                    raise
