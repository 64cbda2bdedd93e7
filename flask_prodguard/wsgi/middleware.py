"""The WSGI middleware the guard places around ``app.wsgi_app``.

On the happy path it does a few dictionary lookups and string tests and calls
the app. It runs the late checks on the first request of each process, answers
debugger requests with the app's own 404, and in ``strict`` turns requests
arriving through the development server away with a 503.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.exceptions import ServiceUnavailable

from .. import detect
from ..events.emitter import end_request
from ..keys import CONSOLE_KEY
from ..keys import PROBE_KEY
from ..keys import PROBE_STATUSES
from ..keys import REQUEST_ID_TOKENS_KEY
from ..policy import Action
from ..policy import Condition
from .streaming import HeldResponse
from .streaming import guarded_body
from .streaming import passable

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

    from ..state import GuardState
    from .errors import SafetyNet


_HEX_ESCAPE = re.compile("%[0-9a-f]{2}")

# Middleware that may sit outside the guard: it produces no bodies of its own
# and must run first (ProxyFix sets the client address the events show).
_HARMLESS_OUTSIDE = frozenset({"ProxyFix", "DebuggedApplication", "GuardMiddleware"})


class GuardMiddleware:
    """Wraps ``app.wsgi_app``; installed by :meth:`ProdGuard.init_app`."""

    def __init__(
        self,
        app: Flask,
        wsgi_app: WSGIApplication,
        state: GuardState,
        net: SafetyNet,
    ) -> None:
        self.app = app
        #: The safety net, or ``None`` when strictness leaves errors alone.
        self.net = net if net.active else None
        #: The WSGI callable this middleware wraps (Flask's own ``wsgi_app``).
        self.wsgi_app = wsgi_app
        self.state = state
        self._block_probes = state.action(Condition.DEBUGGER_PROBE) is Action.FIX
        self._echo_header = state.settings.request_id_response_header
        # Whether a request needs more than the probe checks (see _dispatch).
        self._special = True
        self._dispatch_unsuspected = functools.partial(self._dispatch, suspect=False)

    def _echoing(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> StartResponse:
        header = self._echo_header
        assert header is not None
        request_id = self.state.emitter.request_id(environ)

        def echoing_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != header.lower()]
            headers.append((header, request_id))
            return start_response(status, headers, exc_info)

        return echoing_start_response

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        # The one path of every request. The most common request pays for two
        # environ lookups and a few substring tests, one HeldResponse and the
        # passable() test of its body, and nothing else.
        query = environ.get("QUERY_STRING")
        path = environ.get("PATH_INFO")
        # What every debugger request passes: "__debugger__" in any case holds
        # "__", "console" in any case holds "onsol" once lowered, unless they
        # are percent-encoded. Only these requests get the exact tests.
        suspect = (query and ("__" in query or "%" in query)) or (
            path and ("onsol" in (lowered := path.lower()) or "%" in lowered)
        )
        target = self.wsgi_app
        if suspect:
            target = self._dispatch
        elif self._special:
            target = self._dispatch_unsuspected
        if self._echo_header is not None:
            # Before the hold: the net's own 500 carries the request id too.
            start_response = self._echoing(environ, start_response)
        net = self.net
        # The server's start_response is held back until the body has
        # something to send, so the net can still replace a failed response.
        held: Any = start_response if net is None else HeldResponse(start_response)
        try:
            body = target(environ, held)
        except BaseException as error:  # noqa: BLE001 - the net decides what goes on
            if net is None:
                raise
            return net.escaped(environ, held, error)
        finally:
            # Request ids are bound to contextvars only when made; undo that.
            if REQUEST_ID_TOKENS_KEY in environ:
                end_request(environ)
        if net is None:
            return body
        if held.headers is not None and not held.sent:
            # Bytes in a list, a file: nothing can fail half-way. Handed over
            # as they are, which keeps the server's sendfile path for files.
            as_is = passable(body, environ)
            if as_is is not None:
                held.sent = True  # held.release(), inlined
                start_response(held.status, held.headers, held.exc_info)
                return as_is
        return guarded_body(body, net, environ, held)

    def _dispatch(
        self, environ: WSGIEnvironment, start_response: StartResponse, suspect: bool = True
    ) -> Iterable[bytes]:
        if self._special:
            # Rare per-request work: the first request, strict's refusal of
            # the development server. Other threads keep coming here until
            # this is settled after the first request.
            state = self.state
            if state.first_request_pending:
                state.first_request(self.app, environ)
                self._check_outermost()
            self._special = state.block_dev_server or state.refuse_serving
            if state.refuse_serving:
                return ServiceUnavailable()(environ, start_response)
            if state.block_dev_server and detect.is_dev_server_environ(environ):
                return self._refuse_dev_server(environ, start_response)
        if suspect:
            # The exact tests, for the requests the pre-filter in __call__ let in.
            query = environ.get("QUERY_STRING")
            if query and detect.query_has_debugger_key(query):
                # A debugger in front of the app may have reported it already.
                if PROBE_KEY not in environ:
                    environ[PROBE_KEY] = "debugger_query"  # its 404 is not reported again
                    self.state.report_probe(environ, "debugger_query")
                if self._block_probes:
                    return serve_not_found(self.app, environ, start_response)
            path = environ.get("PATH_INFO")
            # Only "onsol", or a real %XX escape, can be the console's path: a
            # bare % (a literal one, sent as %25) cannot hide it.
            if (
                path
                and (
                    "onsol" in (lowered := path.lower())
                    or _HEX_ESCAPE.search(lowered) is not None
                )
                and detect.is_console_path(path)
            ):
                return self._watch_console(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _check_outermost(self) -> None:
        """Report middleware wrapped around the app after the guard, once."""
        outside = []
        for item in detect.iter_wsgi_chain(self.app.wsgi_app):
            if item is self:
                break
            name = type(item).__name__
            if callable(item) and getattr(item, "__self__", None) is not None:
                continue  # a bound method: look at its instance instead
            if name not in _HARMLESS_OUTSIDE:
                outside.append(f"{type(item).__module__}.{type(item).__qualname__}")
        else:
            return  # the guard is not in the chain at all: nothing to say
        if outside:
            self.state.report_middleware_outside(outside)

    def _watch_console(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        # An app may have its own /console route: a request that the app has
        # no route for (404) or no route for with this method (405, an app
        # with POST /console probed with GET) is a probe, and the app's own
        # answer is the right one. Marked now so that 404 or 405 is not
        # reported a second time as an HTTP error; any other answer (the
        # app's own 401, say) is the app's route at work.
        state = self.state
        environ[CONSOLE_KEY] = True

        def watching_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if status[:3] in PROBE_STATUSES and PROBE_KEY not in environ:
                environ[PROBE_KEY] = "console"
                state.report_probe(environ, "console")
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, watching_start_response)

    def _refuse_dev_server(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        self.state.report_dev_server([f"SERVER_SOFTWARE {environ.get('SERVER_SOFTWARE')}"])
        return ServiceUnavailable()(environ, start_response)


def serve_not_found(
    app: Flask, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """Answer a request exactly as the app answers a URL it has no route for.

    The request goes through the app's ``before_request`` functions, its 404
    handler and ``after_request`` functions, as an unknown URL would, so a
    debugger probe cannot be told apart from any other miss.
    """
    ctx = app.request_context(environ)
    error: BaseException | None = None
    try:
        try:
            ctx.push()
            request = ctx.request
            request.routing_exception = NotFound()
            request.url_rule = None
            request.view_args = None
            response = app.full_dispatch_request()
        except Exception as e:  # noqa: BLE001 - as Flask.wsgi_app does
            error = e
            response = app.handle_exception(e)
        except BaseException:
            error = sys.exc_info()[1]
            raise
        return response(environ, start_response)
    finally:
        ctx.pop(error)
