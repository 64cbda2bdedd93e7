"""Attacks on passable() (a Werkzeug body handed over as its list) and the request-id echo."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from flask import Response
from flask import g
from flask_prodguard.wsgi.middleware import GuardMiddleware
from werkzeug.test import create_environ
from werkzeug.wrappers.response import _iter_encoded


def run(
    app: Any, path: str = "/", method: str = "GET", **kw: Any
) -> tuple[str, list[Any], bytes]:
    """Call the WSGI app as a server would: status, headers, joined and closed body."""
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        seen.setdefault("calls", []).append(status)
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    body = app(create_environ(path, method=method, **kw), start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return seen["status"], seen["headers"], data


def guard_of(app: Flask) -> GuardMiddleware:
    """The guard's middleware in the app's chain."""
    guard = app.wsgi_app
    assert isinstance(guard, GuardMiddleware)
    return guard


def test_teardown_set_data_is_not_sent_instead_of_the_counted_body(
    make_app: Callable[..., Flask],
) -> None:
    """HOLE: set_data() after the ClosingIterator is built must not change the bytes sent."""
    app = make_app()

    @app.after_request
    def keep(response: Response) -> Response:
        g.response = response
        return response

    @app.teardown_request
    def late(_exc: BaseException | None) -> None:
        g.response.set_data(b"replaced-later")

    bare = Flask("bare")
    bare.add_url_rule("/", "index", lambda: "hello")
    bare.after_request(keep)
    bare.teardown_request(late)
    _, bare_headers, bare_body = run(bare)
    status, headers, body = run(app)
    assert bare_body == b"hello"
    # Werkzeug's encoder captured the list when get_app_iter ran; the guard
    # must send what Content-Length (5) counts, as bare Flask does.
    assert dict(headers)["Content-Length"] == "5"
    assert body == bare_body


def test_partly_consumed_flask_body_is_not_resent_from_the_start(
    make_app: Callable[..., Flask],
) -> None:
    """HOLE: a Werkzeug body already advanced by inner middleware must not restart."""
    app = make_app()

    @app.get("/two")
    def two() -> Response:
        return Response([b"first-", b"second"])

    guard = guard_of(app)
    inner = guard.wsgi_app

    def peeking(environ: Any, start_response: Any) -> Iterable[bytes]:
        body = inner(environ, start_response)
        it = iter(body)
        environ["peeked"] = next(it)  # consumed, e.g. logged/sent via write()
        return body

    guard.wsgi_app = peeking
    _, _, body = run(app, "/two")
    assert body == b"second"  # what bare Flask's server would send


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [("HEAD", "/", b""), ("GET", "/nc", b""), ("GET", "/empty", b"")],
)
def test_empty_bodies_stay_empty(
    make_app: Callable[..., Flask], method: str, path: str, expected: bytes
) -> None:
    """HEAD, 304 and 204 keep Werkzeug's empty body (never the response's list)."""
    app = make_app()
    app.add_url_rule("/nc", "nc", lambda: Response(b"not-sent", status=304))
    app.add_url_rule("/empty", "empty", lambda: Response(b"not-sent", status=204))
    _, _, body = run(app, path, method=method)
    assert body == expected


def test_range_request_sends_only_the_range(make_app: Callable[..., Flask]) -> None:
    """A make_conditional Range answer sends the range, not the whole list."""
    app = make_app()

    @app.get("/r")
    def ranged() -> Response:
        from flask import request

        return Response(b"0123456789").make_conditional(
            request, accept_ranges=True, complete_length=10
        )

    status, _, body = run(app, "/r", headers={"Range": "bytes=2-4"})
    assert status.startswith("206")
    assert body == b"234"


def test_call_on_close_in_request_finished_still_runs(make_app: Callable[..., Flask]) -> None:
    """A call_on_close added by a request_finished receiver runs when the body closes."""
    from flask import request_finished

    app = make_app()
    closed: list[bool] = []

    def receiver(_sender: Flask, response: Response, **_kw: Any) -> None:
        response.call_on_close(lambda: closed.append(True))

    request_finished.connect(receiver, app)
    _, _, body = run(app)
    assert body == b"hello"
    assert closed == [True]


def test_subclass_iter_encoded_is_used(make_app: Callable[..., Flask]) -> None:
    """A response class overriding iter_encoded gets its own bytes sent."""

    class Upper(Response):
        def iter_encoded(self) -> Any:
            # Werkzeug's own encoder generator, over other bytes than response.response.
            return _iter_encoded([chunk.upper() for chunk in self.response])

    app = make_app()
    app.response_class = Upper
    _, _, body = run(app)
    assert body == b"HELLO"


def test_echo_header_replaces_hostile_incoming_id(make_app: Callable[..., Flask]) -> None:
    """A CRLF / odd-Unicode X-Request-ID is not echoed: a generated id is."""
    app = make_app(
        PRODGUARD_REQUEST_ID_HEADER="X-Request-ID",
        PRODGUARD_REQUEST_ID_RESPONSE_HEADER="X-Request-ID",
    )
    for hostile in ["abc\r\nSet-Cookie: a=b", "abc\u2028x", "\u0661\u0662", "a" * 129, "abc\n"]:
        # create_environ refuses newlines in headers: set the environ key directly.
        _, headers, _ = run(app, environ_overrides={"HTTP_X_REQUEST_ID": hostile})
        echoed = [v for k, v in headers if k.lower() == "x-request-id"]
        assert len(echoed) == 1
        assert echoed[0] != hostile and echoed[0].isascii() and echoed[0].isalnum()


def test_echo_on_net_500_and_second_start_response(make_app: Callable[..., Flask]) -> None:
    """The net's 500 and an app's exc_info restart both carry exactly one echoed id."""
    app = make_app(
        PRODGUARD_REQUEST_ID_HEADER="X-Request-ID",
        PRODGUARD_REQUEST_ID_RESPONSE_HEADER="X-Request-ID",
    )
    guard = guard_of(app)
    inner = guard.wsgi_app

    def twice(environ: Any, start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/twice":
            start_response("200 OK", [("X-Request-ID", "app-own")])
            try:
                raise ValueError("x")
            except ValueError:
                import sys

                start_response("500 X", [("X-Request-ID", "app-own")], sys.exc_info())
            return [b"ok"]
        if environ["PATH_INFO"] == "/gen":

            def gen() -> Iterable[bytes]:
                raise RuntimeError("mid")
                yield b""

            start_response("200 OK", [])
            return gen()
        return inner(environ, start_response)

    guard.wsgi_app = twice
    for path, want in [("/twice", "500"), ("/gen", "500"), ("/boom", "500")]:
        status, headers, _ = run(app, path, headers={"X-Request-ID": "good-id"})
        assert status.startswith(want)
        assert [v for k, v in headers if k.lower() == "x-request-id"] == ["good-id"]
