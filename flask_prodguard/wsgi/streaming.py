"""Passing a response on under the safety net: held headers, guarded bodies.

The server's ``start_response`` is called only once the body has something
to send (:class:`HeldResponse`), so a failure before the first byte can still
be answered with the complete generic 500. A body that fails once part of it
was sent is aborted (:exc:`StreamAborted`: the server closes the connection,
so a chunked response lacks its terminator and the client can tell), with a
``prodguard.error.stream_aborted`` event; the exception the server logs carries
only the error id.

Only a body that cannot fail half-way skips the body wrapper
(:func:`passable`): bytes in a list or tuple (what Werkzeug builds for
``return "text"``), and the server's own file wrapper, whose ``sendfile``
path must stay. A generator never does, whatever headers it comes with.

``SystemExit``, ``KeyboardInterrupt`` and ``GeneratorExit`` get the rules of
:func:`continuing_stop`: where a stop may be the server's own, it goes on once
the answer is handed over. A ``GeneratorExit`` that the server throws into the
net's own body wrapper when it closes it early (the client went away) is
normal, and passes through untouched.

What a failure is answered with, and the event it gets, is
:class:`flask_prodguard.wsgi.errors.SafetyNet`'s business.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from werkzeug.wrappers import Response
from werkzeug.wsgi import ClosingIterator

from ..events.failures import STOPS
from ..events.failures import detach
from ..keys import error_id_for

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

    from .errors import SafetyNet

_RESPONSE_CLOSE = Response.close
#: The code of the generator ``Response.iter_encoded`` returns (``None`` if it
#: stops being a generator: then no Werkzeug body is handed over as a list).
_ENCODER_CODE = getattr(Response([b""]).iter_encoded(), "gi_code", None)
_SYSTEM_EXIT_CODE = SystemExit.__dict__["code"]

#: The longest sequence of chunks :func:`passable` looks through.
_MAX_CHECKED_CHUNKS = 64


class StreamAborted(Exception):
    """Raised to make the server abort a response that failed mid-stream.

    Its message holds only the error id; the details are in the
    ``prodguard.error.stream_aborted`` event.
    """

    @classmethod
    def for_request(cls, environ: WSGIEnvironment) -> StreamAborted:
        """The exception for the request of ``environ``, with its error id."""
        return cls(
            f"response aborted after its headers were sent; error id {error_id_for(environ)}"
        )


def passable(body: Iterable[bytes], environ: WSGIEnvironment) -> Iterable[bytes] | None:
    """What to hand the server as it is, when iterating and closing ``body``
    cannot raise; ``None`` when ``body`` must go under the net.

    - Bytes in a list or tuple: ``body`` itself.
    - A Werkzeug response over such a list (the ``ClosingIterator`` that
      ``Response.get_app_iter`` returns, of a response class that keeps
      Werkzeug's ``get_app_iter`` and ``iter_encoded``, with no
      ``call_on_close`` function): the list itself. Werkzeug's encoder would
      yield the same bytes, and closing does nothing without callbacks, so the
      server is spared Werkzeug's per-response iterator (this makes the
      happy path cheaper than bare Flask's). By the time the middleware sees
      the body, Flask is done with the response: ``after_request`` functions,
      ``request_finished`` receivers and teardown have run.
    - The server's own file wrapper (``wsgi.file_wrapper``, from
      ``send_file``), whose ``sendfile`` path must stay: ``body``.

    Everything else, a generator above all, is iterated under the net,
    whatever its ``Content-Length``. A ``HEAD`` request or a 204/304 status
    gets an empty body from Werkzeug, which this never replaces.

    The test is on the structure that Werkzeug builds, so that the most
    common response pays a few attribute lookups; it guards against an app's
    mistakes, not against an app bent on fooling it.

    :param body: The iterable the app returned.
    :param environ: The request's environ (for its ``wsgi.file_wrapper``).
    """
    kind = type(body)
    try:
        if kind is ClosingIterator:
            # [encoder.close, response.close]: the callbacks get_app_iter makes
            # around iter_encoded(); an empty body (HEAD, 204, 304) has one.
            encoder_close, close = body._callbacks  # type: ignore[attr-defined]
            if close.__func__ is not _RESPONSE_CLOSE:
                return None
            encoder = encoder_close.__self__
            # Werkzeug's encoder, not started: what it would yield is the list
            # it took when the body was built, whatever response.response is
            # now (a teardown may have replaced it) and however much of it a
            # middleware inside the guard may have read (then: the net).
            if encoder.gi_code is not _ENCODER_CODE or encoder.gi_suspended:
                return None
            response = close.__self__
            if response._on_close:
                return None
            # The class cache read inline: a call less on the happy path.
            standard = _standard_classes.get(type(response))
            if not (standard or (standard is None and standard_response_class(type(response)))):
                return None
            data = encoder.gi_frame.f_locals["iterable"]
        elif kind is list or kind is tuple:
            data = body
        else:
            # Only the server's own file wrapper, for its sendfile path; Werkzeug's
            # FileWrapper (no server wrapper to keep) reads under the net.
            wrapper = environ.get("wsgi.file_wrapper")
            return body if wrapper is not None and kind is wrapper else None
        kind = type(data)
        if kind is list or kind is tuple:
            if len(data) == 1:  # what set_data() makes
                return data if type(data[0]) is bytes else None
            if len(data) <= _MAX_CHECKED_CHUNKS:
                for chunk in data:
                    if type(chunk) is not bytes:
                        return None
                return data  # type: ignore[no-any-return]
        return None
    except Exception:  # noqa: BLE001 - not the structure looked for (or Werkzeug changed)
        return None


_standard_classes: dict[type, bool] = {}


def standard_response_class(cls: type) -> bool:
    """Whether ``cls`` builds its body as Werkzeug's ``Response`` does.

    A class of the app's own that overrides ``get_app_iter`` or
    ``iter_encoded`` (to compress, say) is not: its body takes the net's path.
    Cached per class (at most 64 classes).

    :param cls: A response class.
    """
    standard = _standard_classes.get(cls)
    if standard is None:
        standard = (
            cls.get_app_iter is Response.get_app_iter  # type: ignore[attr-defined]
            and cls.iter_encoded is Response.iter_encoded  # type: ignore[attr-defined]
        )
        if len(_standard_classes) < 64:
            _standard_classes[cls] = standard
    return standard


def continuing_stop(error: BaseException, environ: WSGIEnvironment) -> BaseException | None:
    """``error`` if it is a stop that must go on once the client has its answer.

    - An ``Exception``: no, it is answered.
    - ``GeneratorExit`` out of the app: no. It belongs to generators being
      closed; given to a server, it would end one of its threads or workers.
    - ``SystemExit`` and ``KeyboardInterrupt``: a signal's stop arrives only in
      the main thread (Python runs signal handlers there), and a gunicorn
      worker stops on the flag its signal handlers set before they raise
      ``SystemExit`` (``worker.alive``; gunicorn's own handling of one that
      escapes would log a traceback, or write its own page after ours). In
      another thread, or under gunicorn, it is the app's own (argparse in a
      view) and ends with the answer. In the main thread of any other server
      it goes on: the development server without threads stops on Ctrl-C.
    - Any other ``BaseException`` (a greenlet kill, a cancellation): yes.

    What is raised is :func:`bare_stop` of it.
    """
    if isinstance(error, (Exception, GeneratorExit)):
        return None
    if isinstance(error, STOPS) and (
        threading.current_thread() is not threading.main_thread()
        or "gunicorn.socket" in environ
    ):
        return None
    return error


def bare_stop(stop: BaseException) -> BaseException:
    """A stop to raise again that carries nothing of the app.

    A new ``SystemExit`` (an integer code kept, any other code becomes 1, as
    Python's own exit status for it) or ``KeyboardInterrupt``; another class
    is the same object with its arguments, traceback, cause and context
    cleared (a greenlet kill must stay the same kill). A server that logs it
    logs no secret.
    """
    if isinstance(stop, SystemExit):
        code = _SYSTEM_EXIT_CODE.__get__(stop)
        return SystemExit(code if code is None or type(code) is int else 1)
    if isinstance(stop, KeyboardInterrupt):
        return KeyboardInterrupt()
    return detach(stop)


def answer_then_stop(page: Iterable[bytes], stop: BaseException) -> Iterator[bytes]:
    """Hand ``page`` over, then raise ``stop``, also if the server closes it early."""
    try:
        yield from page
    except GeneratorExit:
        pass  # the server stopped reading; the stop goes on all the same
    finally:
        close_own_body(page)
    raise stop from None


def close_own_body(body: Iterable[bytes]) -> None:
    """Close one of the guard's own bodies (the generic page)."""
    close = getattr(body, "close", None)
    if close is not None:
        close()


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
    # Whether we are suspended at our own yield: what arrives there was thrown
    # in by the server (GeneratorExit when it closes us early), not raised by
    # the body.
    yielding = False
    page: Iterable[bytes] | None = None
    stop: BaseException | None = None
    try:
        for chunk in body:
            if not response.sent:
                if not chunk:
                    continue
                response.release()
            yielding = True
            yield chunk
            yielding = False
        response.release()  # an empty body: the status and headers still go
    except BaseException as error:  # noqa: BLE001 - the net catches everything
        if yielding:
            raise
        if response.sent:
            stop = net.aborted(error, environ)
            net.pass_on_unchanged(error, stop)
            if stop is not None:
                raise bare_stop(stop) from None
            raise StreamAborted.for_request(environ) from None
        stop = net.report(error, environ, "body")
        net.pass_on_unchanged(error, stop)
        page = net.generic_500(environ, response.server_start_response)
    finally:
        _close_body(body, net, environ)
    if page is not None:
        # Outside the except clause: a GeneratorExit from the server while the
        # page is sent must not look like the body's failure.
        try:
            yield from page
        except GeneratorExit:
            if stop is None:
                raise
        finally:
            close_own_body(page)
        if stop is not None:
            raise bare_stop(stop) from None


def _close_body(body: Iterable[bytes], net: SafetyNet, environ: WSGIEnvironment) -> None:
    """Close the app's body as WSGI requires; a failure is reported, not passed on."""
    try:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    except BaseException as error:  # noqa: BLE001 - nothing can be sent any more
        stop = net.report(error, environ, "close")
        net.pass_on_unchanged(error, stop)
        if stop is not None:
            raise bare_stop(stop) from None
