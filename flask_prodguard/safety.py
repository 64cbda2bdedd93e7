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

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from . import catalogue
from .errors import REPORTED_KEY
from .errors import error_id_for
from .errors import exception_fields
from .errors import report_unhandled
from .policy import Action
from .policy import Condition

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

    def escaped(
        self, environ: WSGIEnvironment, response: HeldResponse, error: Exception
    ) -> Iterable[bytes] | None:
        """An exception escaped the app: the generic 500, or ``None`` to re-raise.

        Re-raised under ``report``, and when part of the response was already
        sent (the legacy ``write()`` callable), since nothing can replace it.
        """
        # If the view's exception was reported, this one came from handling it.
        stage = "error_handler" if environ.get(REPORTED_KEY) else "wsgi"
        report_unhandled(self.state, error, environ, stage)
        if not self.fix or response.sent:
            return None
        return self.generic_500(environ, response.server_start_response)

    def generic_500(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """The generic 500, sent through the server's own ``start_response``."""
        return self.pages.response(500, environ)(environ, start_response)


class HeldResponse:
    """The app's ``start_response``, held back until the body has something to send."""

    __slots__ = ("server_start_response", "status", "headers", "exc_info", "sent", "_write")

    def __init__(self, start_response: StartResponse) -> None:
        #: The server's own ``start_response``.
        self.server_start_response = start_response
        #: Status, headers and exc_info the app gave, ``None`` until it called.
        self.headers: list[tuple[str, str]] | None = None
        #: Whether the server has been given the status and headers.
        self.sent = False

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        """The ``start_response`` the app gets: it records, the server waits."""
        if exc_info is not None and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers, self.exc_info = status, headers, exc_info
        return self.write

    def release(self) -> None:
        """Pass the held status and headers to the server (once)."""
        if not self.sent and self.headers is not None:
            self.sent = True
            self._write = self.server_start_response(self.status, self.headers, self.exc_info)

    def write(self, data: bytes) -> object:
        # The legacy write() callable: headers go first.
        self.release()
        assert self._write is not None
        return self._write(data)


def guarded_body(
    body: Iterable[bytes],
    net: SafetyNet,
    environ: WSGIEnvironment,
    response: HeldResponse,
) -> Iterator[bytes]:
    """Iterate a response body; turn its failures into a generic 500 or an abort.

    A generator, because it is the cheapest wrapper Python has: the happy path
    pays for one generator and one resumption per chunk. Empty chunks before
    the first non-empty one are dropped: nothing was sent yet.
    """
    try:
        for chunk in body:
            if not response.sent:
                if not chunk:
                    continue
                response.release()
            yield chunk
        response.release()  # an empty body: the status and headers still go
    except Exception as error:  # noqa: BLE001 - the net catches everything
        if not response.sent:
            report_unhandled(net.state, error, environ, "body")
            if not net.fix:
                raise
            yield from net.generic_500(environ, response.server_start_response)
            return
        error_id = error_id_for(environ)
        net.state.emit(
            catalogue.ERROR_STREAM_ABORTED,
            environ,
            error_id=error_id,
            **exception_fields(error),
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
