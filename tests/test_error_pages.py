"""Generic error pages, error ids, the app's own handlers, the safety net (in process)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import render_template
from flask import stream_with_context
from flask_prodguard import ProdGuard
from flask_prodguard.testing import capture_events
from flask_prodguard.wsgi.streaming import StreamAborted
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import TooManyRequests
from werkzeug.exceptions import Unauthorized
from werkzeug.middleware.proxy_fix import ProxyFix

# Nothing of the failure may reach the client.
LEAKS = (
    b"Traceback",
    b".py",
    b"hunter2",
    b"RuntimeError",
    b"ValueError",
    b"KeyError",
    b"TemplateNotFound",
    b"OSError",
    b"internal detail",
)
ERROR_ID = re.compile(r"[0-9a-f]{16}")


def assert_generic(response: Any, status: int) -> str:
    """The response is generic, has the status and an error id; returns the id."""
    assert response.status_code == status
    body = response.get_data()
    for leak in LEAKS:
        assert leak not in body, (leak, body)
    error_id = response.headers["X-Error-ID"]
    assert ERROR_ID.fullmatch(error_id)
    assert error_id.encode() in body
    assert response.headers["Cache-Control"] == "no-store"
    return str(error_id)


@pytest.fixture
def failing_app(build_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Return ``failing_app(name="failing", **config)``: an app that fails in many ways,
    each with a planted secret (not guarded yet)."""

    def factory(name: str = "failing", **config: Any) -> Flask:
        config.setdefault("PRODGUARD_ENV", "production")
        app = build_app(name, **config)

        class Boom(Exception):
            pass

        @app.errorhandler(Boom)
        def on_boom(error: Exception) -> str:
            raise ValueError("handler hunter2")

        @app.get("/handler-fails")
        def handler_fails() -> str:
            raise Boom("hunter2")

        @app.get("/abort")
        def aborted() -> str:
            abort(403, description="internal detail hunter2")

        @app.get("/unauthorized")
        def unauthorized() -> str:
            raise Unauthorized(www_authenticate=None) from None

        @app.get("/limited")
        def limited() -> str:
            raise TooManyRequests(retry_after=30)

        @app.get("/after")
        def after() -> str:
            return "fine"

        @app.after_request
        def failing_after(response: Response) -> Response:
            from flask import request

            if request.path == "/after":
                raise RuntimeError("after hunter2")
            return response

        @app.get("/teardown")
        def teardown() -> str:
            return "fine"

        @app.teardown_request
        def failing_teardown(error: BaseException | None) -> None:
            from flask import request

            if request.path == "/teardown":
                raise KeyError("teardown hunter2")

        @app.get("/oserror")
        def oserror() -> str:
            raise FileNotFoundError("/etc/hunter2.conf")

        @app.get("/stream-early")
        def stream_early() -> Response:
            def generate() -> Iterator[bytes]:
                raise RuntimeError("stream hunter2")
                yield b""  # pragma: no cover

            return Response(stream_with_context(generate()))

        @app.get("/stream-late")
        def stream_late() -> Response:
            def generate() -> Iterator[bytes]:
                yield b"part1"
                raise RuntimeError("stream hunter2")

            return Response(generate())

        @app.post("/json")
        def takes_json() -> str:
            from flask import request

            return str(request.get_json())

        @app.get("/form")
        def form() -> str:
            from flask import request

            return request.args["missing"]

        return app

    return factory


@pytest.fixture
def client(failing_app: Callable[..., Flask]) -> Any:
    """A client of the failing app, guarded (it replaces the conftest ``client``)."""
    app = failing_app()
    ProdGuard(app)
    return app.test_client()


def test_unhandled_exception_gets_generic_page_with_error_id(client: Any) -> None:
    """A view that raises: generic 500 page; the event carries the same error id."""
    with capture_events() as events:
        response = client.get("/boom")
    error_id = assert_generic(response, 500)
    assert response.mimetype == "text/html"
    assert (
        b'<html lang="en">' in response.data
        and b"<title>500 Internal Server Error" in response.data
    )
    (event,) = [e for e in events if e["event"] == "prodguard.error.unhandled"]
    assert event["error_id"] == error_id
    assert event["exception_type"] == "RuntimeError" and event["stage"] == "view"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/no-such-page", 404), ("/abort", 403), ("/form", 400), ("/unauthorized", 401)],
)
def test_http_errors_get_generic_pages(client: Any, path: str, status: int) -> None:
    """HTTP errors get the generic page with the standard text and an event with the id."""
    with capture_events() as events:
        response = client.get(path)
    error_id = assert_generic(response, status)
    (event,) = [e for e in events if e["event"] == "prodguard.error.http"]
    assert event["error_id"] == error_id and event["status"] == status


def test_abort_description_replaced_unless_passthrough(
    failing_app: Callable[..., Flask],
) -> None:
    """abort(403, description=...) text is replaced; passthrough keeps it."""
    app = failing_app("passthrough", PRODGUARD_HTTP_DESCRIPTIONS="passthrough")
    ProdGuard(app)
    response = app.test_client().get("/abort")
    assert response.status_code == 403 and b"internal detail" in response.data


def test_standard_headers_kept(client: Any) -> None:
    """Allow (405), WWW-Authenticate (401) and Retry-After (429) survive."""
    not_allowed = client.post("/")
    assert_generic(not_allowed, 405)
    assert "GET" in not_allowed.headers["Allow"]
    limited = client.get("/limited")
    assert_generic(limited, 429)
    assert limited.headers["Retry-After"] == "30"


@pytest.mark.parametrize(
    "request_options",
    [
        {"headers": {"Accept": "application/json"}},
        {"headers": {"Accept": "application/problem+json, text/html;q=0.5"}},
        {"path": "/api/missing"},
        {
            "method": "POST",
            "path": "/json",
            "data": "{not json",
            "content_type": "application/json",
        },
    ],
)
def test_problem_json_by_negotiation(
    failing_app: Callable[..., Flask], request_options: dict[str, Any]
) -> None:
    """Accept, JSON request bodies and configured prefixes get RFC 9457 problem+json."""
    app = failing_app("problem", PRODGUARD_JSON_PATH_PREFIXES=["/api/"])
    ProdGuard(app)
    options = dict(request_options)
    path = options.pop("path", "/boom")
    response = app.test_client().open(path, **options)
    assert response.mimetype == "application/problem+json"
    problem = json.loads(response.data)
    assert set(problem) == {"type", "title", "status", "detail", "instance", "error_id"}
    assert problem["status"] == response.status_code
    assert problem["error_id"] == response.headers["X-Error-ID"]
    assert problem["instance"].endswith(problem["error_id"])
    assert b"Expecting" not in response.data and b"hunter2" not in response.data


def test_browser_gets_html(client: Any) -> None:
    """A browser's Accept header gets the HTML page."""
    response = client.get(
        "/boom", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("when", ["before", "after"])
def test_app_handlers_win(failing_app: Callable[..., Flask], when: str) -> None:
    """The app's 404, 500 and HTTPException handlers win, before or after init_app."""
    app = failing_app(f"own-{when}")

    def register() -> None:
        app.register_error_handler(404, lambda e: ("own 404", 404))
        app.register_error_handler(500, lambda e: ("own 500", 500))
        app.register_error_handler(HTTPException, lambda e: (f"own {e.code}", e.code))

    if when == "before":
        register()
        ProdGuard(app)
    else:
        ProdGuard(app)
        register()
    client = app.test_client()
    assert client.get("/missing").data == b"own 404"
    assert client.get("/boom").data == b"own 500"
    assert client.get("/abort").data == b"own 403"


@pytest.mark.parametrize("when", ["before", "after"])
def test_app_exception_handler_wins(failing_app: Callable[..., Flask], when: str) -> None:
    """An app handler for Exception answers HTTP errors too, as without the guard."""
    app = failing_app(f"exc-{when}")

    def register() -> None:
        app.register_error_handler(Exception, lambda e: ("own handler", 418))

    if when == "before":
        register()
        ProdGuard(app)
    else:
        ProdGuard(app)
        register()
    client = app.test_client()
    assert client.get("/missing").data == b"own handler"
    assert client.get("/boom").data == b"own handler"


def test_blueprint_handlers_win(failing_app: Callable[..., Flask]) -> None:
    """A blueprint's own error handler answers its routes."""
    app = failing_app("bp")
    bp = Blueprint("shop", __name__)

    @bp.get("/shop/fail")
    def fail() -> str:
        abort(409)

    bp.register_error_handler(409, lambda e: ("shop conflict", 409))
    app.register_blueprint(bp)
    ProdGuard(app)
    assert app.test_client().get("/shop/fail").data == b"shop conflict"


def test_guard_never_registers_exception_handler(failing_app: Callable[..., Flask]) -> None:
    """Only HTTPException gets a guard handler; errorhandler(Exception) stays free."""
    app = failing_app("spec")
    ProdGuard(app)
    handlers = app.error_handler_spec[None][None]
    assert Exception not in handlers and HTTPException in handlers


@pytest.mark.parametrize(
    ("path", "stage"),
    [
        ("/handler-fails", "view"),
        ("/after", "view"),
        ("/teardown", "wsgi"),
        ("/oserror", "view"),
    ],
)
def test_safety_net_catches_what_escapes_flask(client: Any, path: str, stage: str) -> None:
    """Exceptions in error handlers, after_request, teardown, OSErrors: a generic 500."""
    with capture_events() as events:
        response = client.get(path)
    error_id = assert_generic(response, 500)
    unhandled = [e for e in events if e["event"] == "prodguard.error.unhandled"]
    assert unhandled and {e["error_id"] for e in unhandled} == {error_id}
    assert unhandled[-1]["stage"] == stage


def test_failing_500_handler_and_template_not_found(failing_app: Callable[..., Flask]) -> None:
    """A 500 handler that renders a missing template still yields a generic 500."""
    app = failing_app("tnf")

    @app.errorhandler(500)
    def broken_500(error: Exception) -> str:
        return render_template("missing-hunter2.html")

    ProdGuard(app)
    assert_generic(app.test_client().get("/boom"), 500)


def test_failing_middleware_inside_the_guard(failing_app: Callable[..., Flask]) -> None:
    """Middleware placed inside the guard that raises gets the generic 500."""
    app = failing_app("inner-mw")
    inner = app.wsgi_app

    def failing_middleware(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/mw":
            raise RuntimeError("mw hunter2")
        return inner(environ, start_response)

    app.wsgi_app = failing_middleware  # type: ignore[method-assign]
    ProdGuard(app)
    assert_generic(app.test_client().get("/mw"), 500)


def test_stream_failing_before_first_chunk_gets_generic_500(client: Any) -> None:
    """A stream that fails before sending anything becomes a complete generic 500."""
    response = client.get("/stream-early")
    assert_generic(response, 500)


def test_stream_failing_after_first_chunk_is_aborted(client: Any) -> None:
    """A stream that fails mid-way is aborted (the client can tell) and reported."""
    with capture_events() as events:
        response = client.get("/stream-late", buffered=False)
        assert response.status_code == 200
        with pytest.raises(StreamAborted) as info:
            b"".join(response.response)
    assert "hunter2" not in str(info.value)
    (aborted,) = [e for e in events if e["event"] == "prodguard.error.stream_aborted"]
    assert aborted["error_id"] in str(info.value)


def test_report_changes_no_response_but_reports(
    failing_app: Callable[..., Flask], event_names: Callable[[list[dict[str, Any]]], list[str]]
) -> None:
    """report: Flask's own pages and exceptions, unchanged; every case still reported."""
    app = failing_app("report", PRODGUARD_STRICTNESS="report")
    ProdGuard(app)
    client = app.test_client()
    with capture_events() as events:
        missing = client.get("/missing")
        boom = client.get("/boom")
        with pytest.raises(KeyError, match="teardown hunter2"):
            client.get("/teardown")
    assert missing.status_code == 404 and "X-Error-ID" not in missing.headers
    assert boom.status_code == 500 and "X-Error-ID" not in boom.headers
    assert {"prodguard.error.http", "prodguard.error.unhandled"} <= set(event_names(events))


def test_custom_template_sees_only_safe_variables(tmp_path: Path) -> None:
    """PRODGUARD_ERROR_TEMPLATE renders with status, title and error id; no config."""
    (tmp_path / "error.html").write_text(
        "<p>custom {{ status }} {{ title }} ref={{ error_id }} [{{ config }}{{ request }}]</p>"
    )
    app = Flask("tpl", template_folder=str(tmp_path))
    app.config.update(
        PRODGUARD_ENV="production",
        PRODGUARD_ERROR_TEMPLATE="error.html",
        SECRET_KEY="hunter2-secret-key",
    )
    ProdGuard(app)
    response = app.test_client().get("/missing")
    error_id = response.headers["X-Error-ID"]
    assert response.data == f"<p>custom 404 Not Found ref={error_id} []</p>".encode()


@pytest.mark.parametrize(
    "template", ["{{ config.SECRET_KEY }}", "{% if %}broken", "{{ 1 // 0 }}"]
)
def test_failing_template_falls_back_with_event(
    event_names: Callable[[list[dict[str, Any]]], list[str]], tmp_path: Path, template: str
) -> None:
    """A template that fails (or reaches for config) gives the built-in page and an event."""
    (tmp_path / "error.html").write_text(template)
    app = Flask("tpl-bad", template_folder=str(tmp_path))
    app.config.update(
        PRODGUARD_ENV="production",
        PRODGUARD_ERROR_TEMPLATE="error.html",
        SECRET_KEY="hunter2-secret-key",
    )
    ProdGuard(app)
    with capture_events() as events:
        response = app.test_client().get("/missing")
    assert_generic(response, 404)
    assert b"hunter2-secret-key" not in response.data
    assert "prodguard.error.template_failed" in event_names(events)


@pytest.mark.parametrize("strictness", ["enforce", "strict"])
def test_leaky_app_error_page_is_scrubbed(
    failing_app: Callable[..., Flask], strictness: str
) -> None:
    """enforce and strict: an app's 5xx page showing a traceback is replaced and reported."""

    def leaky_app(name: str, strictness: str) -> Flask:
        app = failing_app(name, PRODGUARD_STRICTNESS=strictness)

        @app.errorhandler(500)
        def leaky(error: Any) -> tuple[str, int]:
            return 'Traceback (most recent call last):\n  File "/srv/app.py", line 3', 500

        ProdGuard(app)
        return app

    with capture_events() as events:
        response = leaky_app(f"leaky-{strictness}", strictness).test_client().get("/boom")
    error_id = assert_generic(response, 500)
    scrubbed = [e for e in events if e["event"] == "prodguard.error.traceback_scrubbed"]
    assert len(scrubbed) == 1 and scrubbed[0]["action"] == "fixed"
    assert scrubbed[0]["error_id"] == error_id
    assert scrubbed[0]["leak"] == "traceback"
    assert scrubbed[0]["handler"].endswith("leaky_app.<locals>.leaky")
    with capture_events() as events:
        report = leaky_app(f"leaky-report-{strictness}", "report").test_client().get("/boom")
    assert b"Traceback" in report.data  # report changes no response
    scrubbed = [e for e in events if e["event"] == "prodguard.error.traceback_scrubbed"]
    assert len(scrubbed) == 1 and scrubbed[0]["action"] == "reported"


def test_middleware_outside_reported_once_proxyfix_is_fine(
    failing_app: Callable[..., Flask], event_names: Callable[[list[dict[str, Any]]], list[str]]
) -> None:
    """Middleware wrapped after init_app is reported once with the fix; ProxyFix is not."""
    app = failing_app("outside")
    ProdGuard(app)
    inner = app.wsgi_app

    class Timing:
        def __init__(self, wsgi: Any) -> None:
            self.app = wsgi

        def __call__(self, environ: Any, start_response: Any) -> Any:
            return self.app(environ, start_response)

    app.wsgi_app = Timing(inner)  # type: ignore[method-assign]
    with capture_events() as events:
        for _ in range(3):
            app.test_client().get("/")
    outside = [e for e in events if e["event"] == "prodguard.setup.middleware_outside"]
    assert len(outside) == 1 and outside[0]["middleware"][0].endswith("Timing")
    assert "before calling ProdGuard" in outside[0]["hint"]

    fine = failing_app("proxyfix")
    ProdGuard(fine)
    fine.wsgi_app = ProxyFix(fine.wsgi_app)  # type: ignore[method-assign]
    with capture_events() as events:
        fine.test_client().get("/")
    assert "prodguard.setup.middleware_outside" not in event_names(events)


def test_sentry_still_captures_exceptions(tmp_path: Path) -> None:
    """Sentry's Flask integration still captures the exception behind the generic page."""
    script = tmp_path / "sentry_app.py"
    script.write_text(
        textwrap.dedent(
            """
            import json
            import sentry_sdk
            from sentry_sdk.integrations.flask import FlaskIntegration
            from sentry_sdk.transport import Transport
            from flask import Flask
            from flask_prodguard import ProdGuard

            captured = []

            class Dropping(Transport):
                def capture_envelope(self, envelope):
                    for item in envelope.items:
                        if item.type == "event":
                            captured.append(item.payload.json)

            sentry_sdk.init(
                dsn="http://key@127.0.0.1:9/1",
                transport=Dropping,
                integrations=[FlaskIntegration()],
                default_integrations=False,
            )
            app = Flask("sentry")
            app.config["PRODGUARD_ENV"] = "production"

            @app.get("/boom")
            def boom():
                raise RuntimeError("captured by sentry")

            ProdGuard(app)
            response = app.test_client().get("/boom")
            sentry_sdk.flush()
            exceptions = [v["type"] for e in captured for v in e["exception"]["values"]]
            print(json.dumps({"status": response.status_code, "types": exceptions,
                              "error_id": response.headers.get("X-Error-ID")}))
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 500 and outcome["error_id"]
    assert outcome["types"] == ["RuntimeError"]


# -- issue 14, point 4: a body that can fail half-way never skips the net ----------------


@pytest.fixture
def length_app(build_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Return ``length_app(name="content_length")``: a guarded app whose streamed bodies
    announce a Content-Length and then fail."""

    def factory(name: str = "content_length") -> Flask:
        app = build_app(name, PRODGUARD_ENV="production")

        @app.get("/early")
        def early() -> Response:
            def generate() -> Iterator[bytes]:
                raise RuntimeError("early hunter2")
                yield b""  # pragma: no cover

            return Response(generate(), headers={"Content-Length": "10"})

        @app.get("/late")
        def late() -> Response:
            def generate() -> Iterator[bytes]:
                yield b"part1"
                raise RuntimeError("late hunter2")

            return Response(generate(), headers={"Content-Length": "10"})

        @app.get("/file")
        def file() -> Response:
            import io

            from flask import send_file

            return send_file(io.BytesIO(b"file body"), mimetype="text/plain")

        @app.get("/closing")
        def closing() -> Response:
            response = Response("closing")

            @response.call_on_close
            def fail() -> None:
                raise RuntimeError("close hunter2")

            return response

        ProdGuard(app)
        return app

    return factory


def call_wsgi(app: Flask, path: str, **environ: Any) -> tuple[list[str], Any]:
    """Call ``app`` as a server does: the statuses it started, and its body iterable."""
    from werkzeug.test import EnvironBuilder

    env = EnvironBuilder(path).get_environ()
    env.update(environ)
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    return statuses, app(env, start_response)


def test_generator_with_content_length_failing_first_gets_generic_500(
    length_app: Callable[..., Flask],
) -> None:
    """A generator with a Content-Length that fails before its first chunk: the 500."""
    with capture_events() as events:
        response = length_app().test_client().get("/early")
    error_id = assert_generic(response, 500)
    (event,) = [e for e in events if e["event"] == "prodguard.error.unhandled"]
    assert event["error_id"] == error_id and event["stage"] == "body"


def test_generator_with_content_length_failing_midway_is_aborted(
    length_app: Callable[..., Flask],
) -> None:
    """The same failing after its first chunk: stream_aborted, and an abort for the server."""
    with capture_events() as events:
        response = length_app().test_client().get("/late", buffered=False)
        with pytest.raises(StreamAborted) as info:
            b"".join(response.response)
    assert "hunter2" not in str(info.value)
    (aborted,) = [e for e in events if e["event"] == "prodguard.error.stream_aborted"]
    assert aborted["error_id"] in str(info.value)


def test_plain_response_reaches_the_server_as_its_list_of_bytes(
    length_app: Callable[..., Flask],
) -> None:
    """``return "hello"`` skips every wrapper, Werkzeug's too: the server gets the list."""
    statuses, body = call_wsgi(length_app(), "/")
    assert type(body) is list and statuses == ["200 OK"]
    assert body == [b"hello"]


def test_pass_through_keeps_head_and_empty_statuses_empty(
    length_app: Callable[..., Flask],
) -> None:
    """HEAD and 204 still get Werkzeug's empty body when the response is passed through."""
    app = length_app()

    @app.get("/empty")
    def empty() -> tuple[str, int]:
        return "not sent", 204

    statuses, body = call_wsgi(app, "/", REQUEST_METHOD="HEAD")
    assert b"".join(body) == b"" and statuses == ["200 OK"]
    statuses, body = call_wsgi(app, "/empty")
    assert b"".join(body) == b"" and statuses == ["204 NO CONTENT"]


def test_a_close_callback_added_by_a_request_finished_receiver_still_runs(
    length_app: Callable[..., Flask],
) -> None:
    """A ``request_finished`` receiver runs after every after_request function; a
    callback it adds with ``call_on_close`` runs when the server closes the body."""
    from flask import request_finished

    app = length_app()
    closed: list[str] = []

    def add_callback(sender: Flask, response: Response, **extra: object) -> None:
        response.call_on_close(lambda: closed.append("closed"))

    request_finished.connect(add_callback, app)
    statuses, body = call_wsgi(app, "/")
    assert b"".join(body) == b"hello" and statuses == ["200 OK"]
    body.close()
    assert closed == ["closed"]


def test_pass_through_leaves_other_bodies_on_werkzeugs_path(
    length_app: Callable[..., Flask],
) -> None:
    """A close callback, text chunks set by hand, or a class that encodes its own way keep
    Werkzeug's path (under the net), so what they do still happens."""
    app = length_app()
    closed: list[str] = []

    class Shouting(Response):
        def iter_encoded(self) -> Iterator[bytes]:
            for chunk in super().iter_encoded():
                yield chunk.upper()

    @app.get("/callback")
    def callback() -> Response:
        response = Response("quiet")
        response.call_on_close(lambda: closed.append("closed"))
        return response

    @app.get("/text-chunks")
    def text_chunks() -> Response:
        response = Response()
        response.response = ["caf\u00e9"]  # type: ignore[list-item]
        return response

    @app.get("/shouting")
    def shouting() -> Response:
        return Shouting("quiet")

    statuses, body = call_wsgi(app, "/callback")
    assert type(body) is not list and b"".join(body) == b"quiet"
    body.close()
    assert closed == ["closed"]
    statuses, body = call_wsgi(app, "/text-chunks")
    assert b"".join(body) == "caf\u00e9".encode()
    statuses, body = call_wsgi(app, "/shouting")
    assert b"".join(body) == b"QUIET"


def test_send_file_keeps_the_servers_file_wrapper(length_app: Callable[..., Flask]) -> None:
    """send_file's body reaches the server as its own wsgi.file_wrapper (sendfile path)."""

    class ServerFileWrapper:
        def __init__(self, file: Any, block_size: int = 8192) -> None:
            self.file = file

        def __iter__(self) -> Iterator[bytes]:
            yield self.file.read()

        def close(self) -> None:
            self.file.close()

    statuses, body = call_wsgi(
        length_app(), "/file", **{"wsgi.file_wrapper": ServerFileWrapper}
    )
    assert type(body) is ServerFileWrapper and statuses == ["200 OK"]
    assert b"".join(body) == b"file body"


def test_failing_call_on_close_is_reported_not_raised(length_app: Callable[..., Flask]) -> None:
    """A call_on_close function that raises is reported; the server sees nothing fail."""
    with capture_events() as events:
        statuses, body = call_wsgi(length_app(), "/closing")
        assert b"".join(body) == b"closing"
        body.close()
    (event,) = [e for e in events if e["event"] == "prodguard.error.unhandled"]
    assert event["stage"] == "close" and event["exception_message"] == "close hunter2"


# -- issue 14, point 11: a console path the app has no route for, for that method ---------


@pytest.fixture
def console_app(build_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Return ``console_app(name, **routes)``: a guarded app with its own /console route
    for the given methods."""

    def factory(name: str, **routes: Any) -> Flask:
        app = build_app(name, PRODGUARD_ENV="production")
        for method, view in routes.items():
            app.add_url_rule("/console", f"console_{method}", view, methods=[method.upper()])
        ProdGuard(app)
        return app

    return factory


def test_console_with_a_method_the_app_has_no_route_for_is_a_probe(
    console_app: Callable[..., Flask],
) -> None:
    """POST /console is the app's; GET /console gets the app's 405 and is reported once."""
    app = console_app("console_post", post=lambda: "posted")
    client = app.test_client()
    with capture_events() as events:
        response = client.get("/console")
    assert_generic(response, 405)
    assert "POST" in response.headers["Allow"]
    reported = [e["event"] for e in events if e["event"].startswith("prodguard.")]
    assert reported == ["prodguard.debugger.probe"]
    (probe,) = [e for e in events if e["event"] == "prodguard.debugger.probe"]
    assert probe["probe"] == "console" and probe["method"] == "GET"
    with capture_events() as events:
        assert client.post("/console").data == b"posted"
    assert not [e for e in events if e["event"] == "prodguard.debugger.probe"]


def test_console_route_refusing_a_user_is_the_apps_answer(
    console_app: Callable[..., Flask],
) -> None:
    """The app's own /console answering 401 is its route at work: an HTTP error, no probe."""
    from flask import abort as flask_abort

    app = console_app("console_auth", get=lambda: flask_abort(401))
    with capture_events() as events:
        response = app.test_client().get("/console")
    assert response.status_code == 401
    assert [e["event"] for e in events if e["event"].startswith("prodguard.")] == [
        "prodguard.error.http"
    ]


def test_failure_after_legacy_write_is_aborted_without_the_secret(
    build_app: Callable[..., Flask],
) -> None:
    """A WSGI app that wrote through write() and then failed: an abort with only the id."""
    app = build_app("legacy_write", PRODGUARD_ENV="production")
    inner = app.wsgi_app

    def writing(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] != "/write":
            return inner(environ, start_response)
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial")
        raise RuntimeError("after write hunter2")

    app.wsgi_app = writing  # type: ignore[method-assign]
    ProdGuard(app)
    with capture_events() as events, pytest.raises(StreamAborted) as info:
        call_wsgi(app, "/write")
    assert "hunter2" not in str(info.value) and info.value.__suppress_context__
    (event,) = [e for e in events if e["event"] == "prodguard.error.unhandled"]
    assert event["error_id"] in str(info.value)
