"""The app's own handlers win, except over a leak (issue 14, point 5).

In ``enforce`` and ``strict``, a 5xx response whose body carries the handled
exception's message or repr, a traceback or a source location, in any common
encoding, is replaced by the generic page with its error id and a
``prodguard.error.traceback_scrubbed`` event naming the handler that built it.
A custom page that carries none of that is served exactly as the app built
it. ``report`` changes no response and reports; ``off`` does nothing.

Three parts: the detector, :func:`flask_prodguard.wsgi.leaks.find_leak`, on bodies
(every leak shape, ordinary pages, hostile exceptions, worst-case bodies);
guarded apps in process (each way an app leaks, streams, the false-alarm
suite of ordinary custom pages); gunicorn serving a leaky app.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import re
import sys
import traceback
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import markupsafe
import pytest
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import jsonify
from flask import render_template_string
from flask import request
from flask import send_file
from flask import session
from flask import stream_with_context
from flask_prodguard import ProdGuard
from flask_prodguard.policy import Action
from flask_prodguard.policy import Condition
from flask_prodguard.policy import Strictness
from flask_prodguard.policy import action_for
from flask_prodguard.testing import event_validator
from flask_prodguard.wsgi import leaks
from flask_prodguard.wsgi.leaks import EXCEPTION_MESSAGE
from flask_prodguard.wsgi.leaks import JSON_FRAMES
from flask_prodguard.wsgi.leaks import SCAN_LIMIT
from flask_prodguard.wsgi.leaks import SOURCE_LOCATION
from flask_prodguard.wsgi.leaks import TRACEBACK
from flask_prodguard.wsgi.leaks import URL_CREDENTIALS
from flask_prodguard.wsgi.leaks import find_leak
from jinja2 import Environment
from werkzeug.debug.tbtools import DebugTraceback

from servers import Server
from servers import check_framing
from servers import gunicorn_extra_options
from servers import parse_head
from servers import send_and_receive
from servers import start_on_free_port

SCRUBBED = "prodguard.error.traceback_scrubbed"
UNHANDLED = "prodguard.error.unhandled"
DSN = "postgresql://shop:hunter2@db.internal:5432/orders"
MESSAGE = f"could not connect to {DSN}"
SQL = "SELECT id, email FROM customers WHERE api_token = 'hunter2'"
ERROR_ID = re.compile(r"[0-9a-f]{16}")
#: Nothing of the failure may reach the client of a scrubbed response.
LEAK_MARKERS = (b"hunter2", b"Traceback", b".py", b"db.internal", b"OperationalError")


class OperationalError(Exception):
    """Stands in for a database driver's error: its message holds the DSN."""


def _failure() -> BaseException:
    """A chained failure, raised and caught: it has a traceback and a cause."""
    try:
        try:
            raise OperationalError(MESSAGE)
        except OperationalError as cause:
            raise RuntimeError("order 12345 could not be saved") from cause
    except RuntimeError as error:
        return error


FAILURE = _failure()
TEXT = "".join(traceback.format_exception(FAILURE))
FRAMES = traceback.extract_tb(FAILURE.__traceback__)
TB_LINES = traceback.format_tb(FAILURE.__traceback__)


# -- the detector --------------------------------------------------------------------

LEAKY_BODIES = [
    pytest.param(TEXT, TRACEBACK, id="plain-traceback"),
    pytest.param(f"<pre>{html.escape(TEXT)}</pre>", TRACEBACK, id="html-escaped"),
    pytest.param(
        Environment(autoescape=True).from_string("<pre>{{ t }}</pre>").render(t=TEXT),
        TRACEBACK,
        id="jinja-autoescaped",
    ),
    pytest.param(json.dumps({"error": TEXT}), TRACEBACK, id="json-escaped"),
    pytest.param(
        json.dumps({"error": json.dumps({"trace": TEXT})}), TRACEBACK, id="json-in-json"
    ),
    pytest.param(
        json.dumps({"trace": traceback.format_tb(FAILURE.__traceback__)}),
        SOURCE_LOCATION,
        id="format-tb-as-json",
    ),
    pytest.param(
        Environment(autoescape=True)
        .from_string("<script>var trace = {{ t|tojson }};</script>")
        .render(t=traceback.format_tb(FAILURE.__traceback__)),
        SOURCE_LOCATION,
        id="jinja-tojson",
    ),
    pytest.param(
        f'<div data-trace="{html.escape(json.dumps(TB_LINES))}">',
        SOURCE_LOCATION,
        id="json-in-html-attribute",
    ),
    pytest.param(
        f'<a href="mailto:ops@example.com?subject=Error&amp;body={quote(TEXT)}">tell us</a>',
        TRACEBACK,
        id="percent-encoded-link",
    ),
    pytest.param(
        DebugTraceback(FAILURE).render_traceback_html(), TRACEBACK, id="werkzeug-debugger-html"
    ),
    pytest.param(
        '<h4>File <cite class="filename">"/srv/shop/app.py"</cite>,\n'
        '  line <em class="line">41</em>,\n  in <code class="function">checkout</code></h4>',
        SOURCE_LOCATION,
        id="frame-in-markup",
    ),
    pytest.param(
        json.dumps(
            {
                "frames": [
                    {"file": f.filename, "line": f.lineno, "code": f.line} for f in FRAMES
                ]
            },
            sort_keys=True,
        ),
        JSON_FRAMES,
        id="json-frames",
    ),
    pytest.param(
        json.dumps(
            [{"filename": f.filename, "lineno": f.lineno, "function": f.name} for f in FRAMES],
            sort_keys=True,
        ),
        JSON_FRAMES,
        id="json-frames-sentry-style",
    ),
    pytest.param(json.dumps([list(f) for f in FRAMES]), SOURCE_LOCATION, id="frame-lists"),
    pytest.param(str([tuple(f) for f in FRAMES]), SOURCE_LOCATION, id="frame-tuples"),
    pytest.param(repr(FRAMES[0]), SOURCE_LOCATION, id="frame-summary-repr"),
    pytest.param(
        # repr(sys.exc_info()) in a handler
        html.escape(repr((type(FAILURE), FAILURE, FAILURE.__traceback__))),
        TRACEBACK,
        id="traceback-object-repr",
    ),
    pytest.param(
        "failed at /srv/shop/views.py:41 in checkout", SOURCE_LOCATION, id="file-colon"
    ),
    pytest.param(f"<p>Sorry: {FAILURE.__cause__!r}</p>", EXCEPTION_MESSAGE, id="repr"),
    pytest.param(f"<p>Sorry: {FAILURE.__cause__}</p>", EXCEPTION_MESSAGE, id="cause-message"),
    pytest.param(
        f"<p>{markupsafe.escape(str(FAILURE.__cause__))}</p>",
        EXCEPTION_MESSAGE,
        id="message-escaped",
    ),
    pytest.param(json.dumps({"detail": str(FAILURE)}), EXCEPTION_MESSAGE, id="message-as-json"),
    pytest.param(
        "<p>RuntimeError: order 12345 could not be saved</p>", EXCEPTION_MESSAGE, id="last-line"
    ),
]


@pytest.mark.parametrize(("body", "kind"), LEAKY_BODIES)
def test_every_common_encoding_of_a_leak_is_found(body: str, kind: str) -> None:
    """A traceback, source location, frames or the exception, as sent in real pages."""
    assert find_leak(body.encode(), FAILURE) == kind


@pytest.mark.parametrize(
    "message",
    [
        f"could not connect to {DSN}",
        f'(psycopg2.errors.UndefinedColumn) column "api_token" does not exist\n[SQL: {SQL}]',
        "Benutzer 'müller' hat kein Konto, token=hunter2",
        "planted secret hunter2",
    ],
)
@pytest.mark.parametrize(
    "encode",
    [
        lambda text: f"<p>{text}</p>",
        lambda text: str(markupsafe.escape(text)),
        lambda text: json.dumps({"error": text}),  # ensure_ascii: \u00fc
        lambda text: Environment(autoescape=True).from_string("{{ m|tojson }}").render(m=text),
        lambda text: f'<a href="/report?detail={quote(text)}">report</a>',
    ],
    ids=["plain", "html", "json", "tojson", "percent"],
)
def test_a_dsn_or_sql_in_the_message_is_found_in_any_encoding(
    message: str, encode: Callable[[str], str]
) -> None:
    """The exception's message (DSN, SQL, a secret) in a page, however encoded."""
    error = OperationalError(message)
    assert find_leak(encode(message).encode(), error) == EXCEPTION_MESSAGE


BENIGN_BODIES = [
    pytest.param(
        "<!doctype html><title>Something went wrong</title><h1>Sorry, something went"
        " wrong</h1><p>Our team has been notified. Please quote reference"
        " <code>5f2b9c0d1e3a4b6c</code>.</p>",
        id="friendly-page-with-error-id",
    ),
    pytest.param('{"error": "internal"}', id="json-internal"),
    pytest.param(
        "<p>An error occurred: an exception was raised in our Python code. We logged the"
        " traceback; nothing was lost.</p>",
        id="error-exception-python",
    ),
    pytest.param(
        '<p>Please <a href="https://support.example.com/new?topic=error&amp;code=500">contact'
        ' support</a> or write to <a href="mailto:help@example.com?subject=Error%20500%20on'
        '%20checkout">help@example.com</a>.</p>',
        id="support-links",
    ),
    pytest.param(
        '{"type": "https://example.com/probs/payment", "title": "Payment failed",'
        ' "status": 502, "detail": "The payment provider did not answer within 30 s.",'
        ' "instance": "/orders/12345"}',
        id="problem-json",
    ),
    pytest.param(
        '<p>Error 500 at 2026-01-01 12:00:03 UTC. Order #12345 ("blue mug", qty 2) was'
        " not charged. Press 'Retry' or wait 30 s; see file 7, line 3 of your receipt.</p>",
        id="numbers-and-quoted-words",
    ),
    pytest.param(
        "<h1>Down for maintenance</h1><p>We are back at 14:00 UTC (in about 1 hour).</p>",
        id="maintenance",
    ),
    pytest.param(
        "<p>Developers: run <code>python manage.py check --deploy</code>; see"
        " https://docs.python.org/3/library/traceback.html and setup.py.</p>",
        id="mentions-python-files",
    ),
    pytest.param(
        "<p>Please check line 3 of the file you uploaded (orders.csv).</p>"
        '<script>window.config = {"file": "app.js", "line": 3};</script>',
        id="file-and-line-words",
    ),
    pytest.param(
        "<p>The 'id' field matched 0 results (KeyError handled). division by zero: no."
        " invalid token</p>",
        id="words-of-short-messages",
    ),
]
#: Exceptions with short messages whose words the benign pages contain.
SHORT_MESSAGES = [KeyError("id"), ValueError("0"), ValueError("invalid token")]


@pytest.mark.parametrize("body", BENIGN_BODIES)
@pytest.mark.parametrize("error", [*SHORT_MESSAGES, FAILURE], ids=repr)
def test_ordinary_error_pages_are_not_leaks(body: str, error: BaseException) -> None:
    """Friendly pages, JSON, links, numbers, quotes, short messages: no false alarm."""
    assert find_leak(body.encode(), error) is None


@pytest.mark.parametrize(
    ("message", "page"),
    [
        ("0", "<p>0 items; error 500</p>"),
        ("'id'", "<p>The 'id' is missing</p>"),
        ("HTTP 503", "<p>HTTP 503: back soon</p>"),
        ("'user_id'", "<p>Check 'user_id' and try again</p>"),
        ("division by zero", "<p>No division by zero here</p>"),
        ("Service temporarily unavailable", "<h1>Service temporarily unavailable</h1>"),
    ],
)
def test_short_messages_are_not_searched_for(message: str, page: str) -> None:
    """A message too short or too plain to be told from ordinary text raises no alarm."""
    assert find_leak(page.encode(), ValueError(message)) is None


def test_the_type_and_repr_of_a_short_message_still_count() -> None:
    """KeyError('id') is not searched for as 'id', but its repr and last line are."""
    error = KeyError("id")
    assert find_leak(b"<p>KeyError('id')</p>", error) == EXCEPTION_MESSAGE
    assert find_leak(b"<p>KeyError: 'id'</p>", error) == EXCEPTION_MESSAGE


def test_an_http_errors_own_text_is_no_leak_but_its_cause_is() -> None:
    """abort(500)'s standard description is ordinary text; the error it hides is not."""
    try:
        try:
            raise OperationalError(MESSAGE)
        except OperationalError:
            abort(500)
    except Exception as error:  # noqa: BLE001 - the InternalServerError from abort
        http_error = error
    description = "<p>The server encountered an internal error and was unable to complete"
    assert find_leak(description.encode(), http_error) is None
    assert find_leak(f"<p>{MESSAGE}</p>".encode(), http_error) == EXCEPTION_MESSAGE


class _HostileText(str):
    """A str whose own methods all raise."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("hostile str")

    __getitem__ = __len__ = __iter__ = __contains__ = _fail
    splitlines = strip = encode = _fail


class _NoText(Exception):
    def __str__(self) -> str:
        raise RuntimeError("lazy load failed")

    def __repr__(self) -> str:
        raise RuntimeError("lazy load failed")


class _HostileTextError(Exception):
    def __str__(self) -> str:
        return _HostileText(MESSAGE)


class _NotAString(Exception):
    def __str__(self) -> Any:
        return 42


class _RaisesBaseException(Exception):
    def __str__(self) -> str:
        raise GeneratorExit


class _RaisingMeta(type):
    @property
    def __name__(cls) -> str:  # type: ignore[override]
        raise RuntimeError("no name")


class _NamelessError(Exception, metaclass=_RaisingMeta):
    pass


class _PropertyChain(Exception):
    @property  # type: ignore[misc]
    def args(self) -> Any:
        raise RuntimeError("no args")

    @property  # type: ignore[misc]
    def __cause__(self) -> Any:
        raise RuntimeError("no cause")


def _cyclic() -> BaseException:
    first, second = ValueError("first"), ValueError(MESSAGE)
    first.__context__, second.__context__ = second, first
    return first


# An exception whose text cannot be read matches no message; the page still
# leaks: MESSAGE holds a DSN with its password, found whatever raised it.
HOSTILE = [
    pytest.param(_NoText, URL_CREDENTIALS, id="str-and-repr-raise"),
    pytest.param(_HostileTextError, EXCEPTION_MESSAGE, id="str-subclass-with-raising-methods"),
    pytest.param(_NotAString, URL_CREDENTIALS, id="str-returns-int"),
    pytest.param(_RaisesBaseException, URL_CREDENTIALS, id="str-raises-generator-exit"),
    pytest.param(
        lambda: _NamelessError(MESSAGE), EXCEPTION_MESSAGE, id="metaclass-name-raises"
    ),
    pytest.param(
        lambda: _PropertyChain(MESSAGE), EXCEPTION_MESSAGE, id="args-and-cause-properties"
    ),
    pytest.param(
        lambda: ValueError("x" * 10_000_000 + MESSAGE), URL_CREDENTIALS, id="huge-message"
    ),
    pytest.param(_cyclic, EXCEPTION_MESSAGE, id="cyclic-chain"),
]


@pytest.mark.parametrize(("make_error", "kind"), HOSTILE)
def test_hostile_exceptions_never_break_the_check(
    make_error: Callable[[], BaseException], kind: str | None
) -> None:
    """str/repr that raise or lie, odd metaclasses, huge or cyclic chains: a plain answer."""
    error = make_error()
    found = find_leak(f"<p>{MESSAGE}</p>".encode(), error), find_leak(TEXT.encode(), error)
    del error  # not shown in a failure report: the report would have to print it
    assert found == (kind, TRACEBACK)


def test_only_the_first_scan_limit_bytes_are_read() -> None:
    """The check is bounded: what lies past SCAN_LIMIT bytes is not looked at."""
    padding = b"<!-- " + b"x" * SCAN_LIMIT + b" -->"
    assert find_leak(TEXT.encode() + padding) == TRACEBACK
    assert find_leak(padding + TEXT.encode()) is None


#: Units that, repeated, make a backtracking engine or a naive decoder work hard.
WORST_UNITS = [
    b'File "',
    b'File "a.py", line 1, in <',
    b"a.py",
    b".py:",
    b"aaaa",
    b"<a ",
    b"Traceback (",
    b'{"file": "a.py" ',
    b'"line": 1 ',
    b"&amp;",
    b"&#1",
    b"&#x1",
    b"&#" + b"1" * 5000,  # html.unescape raises ValueError on this
    b"\\",
    b"\\u00",
    b"%2",
    b"%",
    b"'\"",
    "é\ud800".encode("utf-8", "surrogatepass"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("unit", WORST_UNITS)
def test_worst_case_bodies_take_linear_time(unit: bytes) -> None:
    """Bodies of repeated worst-case units, 4x the limit: the check completes.

    The former pattern, ``[\\w./\\\\-]+\\.py...`` on backtracking ``re``, took
    about 13 s on 64 KiB of letters and minutes on this size: the timeout
    fails the test if a super-linear pattern comes back.
    """
    body = unit * (4 * SCAN_LIMIT // len(unit) + 1)
    # A message that almost matches everywhere: the substring search works hardest.
    error = ValueError((unit.decode("utf-8", "replace") * 48)[:47] + "\x01")
    for _ in range(3):
        assert find_leak(body, error) in (None, TRACEBACK, SOURCE_LOCATION, JSON_FRAMES)


def test_policy_enforce_and_strict_fix_report_reports() -> None:
    """The policy row: off ignores, report reports, enforce and strict replace."""
    row = [action_for(Condition.LEAKY_ERROR_PAGE, level) for level in Strictness]
    assert row == [Action.IGNORE, Action.EVENT, Action.FIX, Action.FIX]


# -- guarded apps --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LeakCase:
    """One way an app's own code puts the failure in a 5xx body."""

    name: str
    #: Registers the routes and handlers on the app.
    setup: Callable[[Flask], None]
    path: str
    leak: str
    #: The end of the qualified name the event gives as handler.
    handler: str
    status: int = 500

    def __str__(self) -> str:
        return self.name


def _raise_dsn() -> None:
    raise OperationalError(MESSAGE)


def _repr_in_500_handler(app: Flask) -> None:
    @app.errorhandler(500)
    def repr_page(error: Any) -> Any:
        return f"<p>Sorry: {error.original_exception!r}</p>", 500

    app.get("/fail")(_raise_dsn)


def _str_in_exception_handler(app: Flask) -> None:
    @app.errorhandler(Exception)
    def error_json(error: Exception) -> Any:
        return jsonify(error=str(error)), 500

    app.get("/fail")(_raise_dsn)


def _plain_words_message(app: Flask) -> None:
    @app.errorhandler(500)
    def message_page(error: Any) -> Any:
        return (
            f"<p>Sorry: {error.original_exception}</p>",
            500,
        )  # /boom: "planted secret hunter2"


def _format_tb_as_json(app: Flask) -> None:
    @app.errorhandler(500)
    def trace_json(error: Any) -> Any:
        return jsonify(trace=traceback.format_tb(error.original_exception.__traceback__)), 500

    app.get("/fail")(_raise_dsn)


def _html_escaped_traceback(app: Flask) -> None:
    @app.errorhandler(500)
    def escaped(error: Any) -> Any:
        return f"<pre>{html.escape(traceback.format_exc())}</pre>", 500

    app.get("/fail")(_raise_dsn)


def _jinja_autoescaped_traceback(app: Flask) -> None:
    @app.errorhandler(500)
    def rendered(error: Any) -> Any:
        trace = "".join(traceback.format_exception(error.original_exception))
        return render_template_string("<h1>Oops</h1><pre>{{ trace }}</pre>", trace=trace), 500

    app.get("/fail")(_raise_dsn)


def _json_frames(app: Flask) -> None:
    @app.errorhandler(500)
    def frames(error: Any) -> Any:
        summary = traceback.extract_tb(error.original_exception.__traceback__)
        return jsonify(
            frames=[{"file": f.filename, "line": f.lineno, "code": f.line} for f in summary]
        ), 500

    app.get("/fail")(_raise_dsn)


def _streamed_traceback(app: Flask) -> None:
    @app.errorhandler(500)
    def streamed(error: Any) -> Any:
        lines = traceback.format_exception(error.original_exception)
        return Response((line for line in lines), 500)

    app.get("/fail")(_raise_dsn)


def _abort_with_response(app: Flask) -> None:
    @app.get("/fail")
    def aborting() -> Any:
        abort(Response('Traceback (most recent call last):\n  File "/srv/app.py", line 3', 500))


def _view_returns_5xx(app: Flask) -> None:
    @app.get("/fail")
    def debug_view() -> Any:
        try:
            _raise_dsn()
        except OperationalError:
            return f"<pre>{traceback.format_exc()}</pre>", 500
        return "unreachable"


def _blueprint_handler(app: Flask) -> None:
    shop = Blueprint("shop", __name__)

    @shop.errorhandler(500)
    def shop_page(error: Any) -> Any:
        return f"<p>Shop failed: {error.original_exception!r}</p>", 500

    shop.get("/fail")(_raise_dsn)
    app.register_blueprint(shop, url_prefix="/shop")


def _description_from_the_cause(app: Flask) -> None:
    @app.errorhandler(500)
    def described(error: Any) -> Any:
        return f"<p>{error.description}</p>", 500

    @app.get("/fail")
    def save() -> Any:
        try:
            _raise_dsn()
        except OperationalError as error:
            abort(500, description=str(error))
        return "unreachable"


def _handler_by_class_with_503(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError) -> Any:
        return f"<p>Database down: {error}</p>", 503, {"Retry-After": "120"}

    app.get("/fail")(_raise_dsn)


def _debugger_page(app: Flask) -> None:
    @app.errorhandler(500)
    def debugger_html(error: Any) -> Any:
        return DebugTraceback(error.original_exception).render_traceback_html(), 500

    app.get("/fail")(_raise_dsn)


LEAK_CASES = [
    LeakCase(
        "repr-in-500-handler", _repr_in_500_handler, "/fail", EXCEPTION_MESSAGE, ".repr_page"
    ),
    LeakCase(
        "str-in-exception-handler",
        _str_in_exception_handler,
        "/fail",
        EXCEPTION_MESSAGE,
        ".error_json",
    ),
    LeakCase(
        "plain-words-message", _plain_words_message, "/boom", EXCEPTION_MESSAGE, ".message_page"
    ),
    LeakCase("format-tb-as-json", _format_tb_as_json, "/fail", SOURCE_LOCATION, ".trace_json"),
    LeakCase("html-escaped-traceback", _html_escaped_traceback, "/fail", TRACEBACK, ".escaped"),
    LeakCase(
        "jinja-autoescaped", _jinja_autoescaped_traceback, "/fail", TRACEBACK, ".rendered"
    ),
    LeakCase("json-frames", _json_frames, "/fail", JSON_FRAMES, ".frames"),
    LeakCase("streamed-traceback", _streamed_traceback, "/fail", TRACEBACK, ".streamed"),
    LeakCase("abort-with-response", _abort_with_response, "/fail", TRACEBACK, "flask.abort"),
    LeakCase("view-returns-5xx", _view_returns_5xx, "/fail", TRACEBACK, ".debug_view"),
    LeakCase(
        "blueprint-handler", _blueprint_handler, "/shop/fail", EXCEPTION_MESSAGE, ".shop_page"
    ),
    LeakCase(
        "description-from-the-cause",
        _description_from_the_cause,
        "/fail",
        EXCEPTION_MESSAGE,
        ".described",
    ),
    LeakCase(
        "handler-by-class-503",
        _handler_by_class_with_503,
        "/fail",
        EXCEPTION_MESSAGE,
        ".database_down",
        status=503,
    ),
    LeakCase("debugger-html", _debugger_page, "/fail", TRACEBACK, ".debugger_html"),
]


@pytest.fixture
def guarded(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """``guarded(setup, strictness)``: an app set up by ``setup``, then guarded."""

    def factory(setup: Callable[[Flask], None], strictness: str | None = None) -> Flask:
        app = make_app(strictness=strictness, guard=False)
        setup(app)
        if strictness != "unguarded":
            ProdGuard(app)
        return app

    return factory


def scrubbed_events(captured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The traceback_scrubbed events."""
    return [event for event in captured if event["event"] == SCRUBBED]


def assert_generic(response: Any, status: int) -> str:
    """The guard's generic page with the status and an error id; returns the id."""
    assert response.status_code == status
    body = response.get_data()
    for marker in LEAK_MARKERS:
        assert marker not in body, (marker, body)
    error_id = response.headers["X-Error-ID"]
    assert ERROR_ID.fullmatch(error_id)
    assert error_id.encode() in body
    return str(error_id)


@pytest.mark.parametrize("strictness", ["enforce", "strict"])
@pytest.mark.parametrize("case", LEAK_CASES, ids=str)
def test_leaky_5xx_is_replaced_by_the_generic_page(
    guarded: Callable[..., Flask],
    events: list[dict[str, Any]],
    case: LeakCase,
    strictness: str,
) -> None:
    """enforce and strict: the generic page, its error id in the event, the handler named."""
    app = guarded(case.setup, strictness)
    response = app.test_client().get(case.path)
    error_id = assert_generic(response, case.status)
    scrubbed = scrubbed_events(events)
    assert len(scrubbed) == 1, events
    assert scrubbed[0]["action"] == "fixed"
    assert scrubbed[0]["error_id"] == error_id
    assert scrubbed[0]["status"] == case.status
    assert scrubbed[0]["leak"] == case.leak
    assert scrubbed[0]["handler"].endswith(case.handler), scrubbed[0]["handler"]
    for event in events:
        if event["event"] == UNHANDLED:
            assert event["error_id"] == error_id


@pytest.mark.parametrize("case", LEAK_CASES, ids=str)
def test_report_changes_no_response_and_reports(
    guarded: Callable[..., Flask], events: list[dict[str, Any]], case: LeakCase
) -> None:
    """report: the app's page goes out as built; the event says what it carries."""
    reported = guarded(case.setup, "report").test_client().get(case.path)
    assert reported.status_code == case.status
    assert "X-Error-ID" not in reported.headers
    assert (
        b"hunter2" in reported.get_data()
        or b"Traceback" in reported.get_data()
        or (b".py" in reported.get_data())
    )
    scrubbed = scrubbed_events(events)
    assert [(e["action"], e["leak"]) for e in scrubbed] == [("reported", case.leak)]


@pytest.mark.parametrize("case", LEAK_CASES[:3], ids=str)
def test_off_does_nothing(
    guarded: Callable[..., Flask], events: list[dict[str, Any]], case: LeakCase
) -> None:
    """off: no check, no event."""
    response = guarded(case.setup, "off").test_client().get(case.path)
    assert b"hunter2" in response.get_data()
    assert scrubbed_events(events) == []


def test_replaced_page_keeps_retry_after_and_gets_after_request_and_session(
    guarded: Callable[..., Flask],
) -> None:
    """The generic page keeps Retry-After; the app's after_request and session apply to it."""

    def setup(app: Flask) -> None:
        _handler_by_class_with_503(app)

        @app.after_request
        def frame_options(response: Response) -> Response:
            response.headers["X-Frame-Options"] = "DENY"
            return response

        @app.before_request
        def remember() -> None:
            session["visited"] = True

    response = guarded(setup, "enforce").test_client().get("/fail")
    assert_generic(response, 503)
    assert response.headers["Retry-After"] == "120"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "session=" in response.headers["Set-Cookie"]


def test_after_request_failing_again_cannot_bring_the_leak_back(
    guarded: Callable[..., Flask], events: list[dict[str, Any]]
) -> None:
    """An after_request failing on the 500 too: Flask sends the response it had, scrubbed."""

    def setup(app: Flask) -> None:
        _repr_in_500_handler(app)

        @app.after_request
        def failing(response: Response) -> Response:
            raise OperationalError(MESSAGE)

    error_id = assert_generic(guarded(setup, "enforce").test_client().get("/"), 500)
    assert [e["error_id"] for e in scrubbed_events(events)] == [error_id]


def test_leak_split_into_one_character_chunks_is_found(
    guarded: Callable[..., Flask], events: list[dict[str, Any]]
) -> None:
    """A streamed body is read ahead as a whole prefix, not chunk by chunk."""
    closed = []

    def setup(app: Flask) -> None:
        @app.get("/fail")
        def trickle() -> Any:
            def generate() -> Iterator[str]:
                try:
                    yield from TEXT
                finally:
                    closed.append(True)

            return Response(generate(), 500)

    assert_generic(guarded(setup, "strict").test_client().get("/fail"), 500)
    assert [e["leak"] for e in scrubbed_events(events)] == [TRACEBACK]
    assert closed == [True]  # the app's generator was closed, not left hanging


def _long_stream(app: Flask) -> None:
    torn_down = app.config.setdefault("TORN_DOWN", [])

    @app.teardown_request
    def count(error: BaseException | None) -> None:
        torn_down.append(request.path)

    @app.get("/maintenance")
    def maintenance() -> Any:
        @stream_with_context
        def generate() -> Iterator[str]:
            for number in range(12_000):  # about 3 x SCAN_LIMIT
                yield f"{number:05d} {request.path} is down for maintenance\n"

        return Response(generate(), 503, {"Retry-After": "600"})


@pytest.mark.parametrize("strictness", ["enforce", "strict"])
def test_clean_stream_is_sent_unchanged_past_the_held_prefix(
    guarded: Callable[..., Flask], events: list[dict[str, Any]], strictness: str
) -> None:
    """A clean 5xx stream goes out byte for byte, headers as built, contexts torn down."""
    expected = guarded(_long_stream, "unguarded").test_client().get("/maintenance")
    app = guarded(_long_stream, strictness)
    response = app.test_client().get("/maintenance")
    assert response.status_code == expected.status_code == 503
    assert response.get_data() == expected.get_data()
    assert len(response.get_data()) > 3 * SCAN_LIMIT
    assert sorted(response.headers.items()) == sorted(expected.headers.items())
    assert "Content-Length" not in response.headers
    # Torn down, without "Popped wrong request context": once when the body
    # was read ahead inside the request (twice in bare Flask 3.1.3, which
    # also tears down when the view returns).
    assert set(app.config["TORN_DOWN"]) == {"/maintenance"}
    assert scrubbed_events(events) == []


def test_leaky_stream_with_context_is_replaced_and_torn_down_once(
    guarded: Callable[..., Flask], events: list[dict[str, Any]]
) -> None:
    """stream_with_context: read ahead inside the request, replaced, contexts torn down."""

    def setup(app: Flask) -> None:
        _long_stream(app)

        @app.get("/fail")
        def leaky() -> Any:
            @stream_with_context
            def generate() -> Iterator[str]:
                yield f"<pre>{request.path}\n"
                yield TEXT

            return Response(generate(), 500)

    app = guarded(setup, "enforce")
    assert_generic(app.test_client().get("/fail"), 500)
    assert set(app.config["TORN_DOWN"]) == {"/fail"}
    assert [e["leak"] for e in scrubbed_events(events)] == [TRACEBACK]


def test_stream_failing_while_read_ahead_still_gets_the_safety_net(
    guarded: Callable[..., Flask], events: list[dict[str, Any]]
) -> None:
    """A 5xx stream failing before its first chunk: the generic 500, as without look-ahead."""

    def setup(app: Flask) -> None:
        @app.get("/fail")
        def failing() -> Any:
            def generate() -> Iterator[str]:
                _raise_dsn()
                yield "never"

            return Response(generate(), 500)

    error_id = assert_generic(guarded(setup, "enforce").test_client().get("/fail"), 500)
    unhandled = [e for e in events if e["event"] == UNHANDLED]
    assert [(e["stage"], e["error_id"]) for e in unhandled] == [("body", error_id)]
    assert scrubbed_events(events) == []


def test_leaky_stream_that_then_fails_is_replaced_and_both_are_reported(
    guarded: Callable[..., Flask], events: list[dict[str, Any]]
) -> None:
    """Leak then failure inside the held prefix: replaced; the failure still reported."""

    def setup(app: Flask) -> None:
        @app.get("/fail")
        def failing() -> Any:
            def generate() -> Iterator[str]:
                yield TEXT
                _raise_dsn()

            return Response(generate(), 500)

    error_id = assert_generic(guarded(setup, "strict").test_client().get("/fail"), 500)
    assert [
        (e["event"], e["error_id"]) for e in events if e["event"] != "prodguard.startup.posture"
    ] == [
        (SCRUBBED, error_id),
        (UNHANDLED, error_id),
    ]


# -- the false-alarm suite -----------------------------------------------------------

FRIENDLY_LAYOUT = (
    "<!doctype html><html lang='en'><head><title>{{ title }}</title><style>"
    "body{font-family:system-ui}.card{border:1px solid #ddd;padding:2rem}</style></head>"
    "<body><main class='card'>{% block body %}{% endblock %}</main></body></html>"
)


def _friendly_template(error: Any) -> Any:
    template = FRIENDLY_LAYOUT.replace(
        "{% block body %}{% endblock %}",
        "<h1>Sorry, something went wrong</h1><p>Our team has been notified. If you contact"
        " support, please quote this reference: <code>{{ ref }}</code>.</p>",
    )
    ref = request.headers.get("X-Ref", "5f2b9c0d1e3a4b6c")
    return render_template_string(template, title="Something went wrong", ref=ref), 500


def _json_internal(error: Any) -> Any:
    return jsonify({"error": "internal"}), 500


def _words_page(error: Any) -> Any:
    return (
        "<p>An error occurred: an exception was raised in our Python code. We logged the"
        " traceback; please try again.</p>",
        500,
    )


def _support_link(error: Any) -> Any:
    return (
        '<p>Please <a href="https://support.example.com/new?topic=error&amp;code=500">contact'
        ' support</a> or write to <a href="mailto:help@example.com?subject=Error%20500%20on'
        '%20checkout">help@example.com</a>.</p>',
        500,
    )


def _problem_json(error: Any) -> Any:
    problem = {
        "type": "https://example.com/probs/payment",
        "title": "Payment failed",
        "status": 502,
        "detail": "The payment provider did not answer within 30 s.",
        "instance": "/orders/12345",
    }
    return Response(json.dumps(problem), 502, mimetype="application/problem+json")


def _numbers_and_quotes(error: Any) -> Any:
    return (
        '<p>Error 500 at 2026-01-01 12:00:03 UTC. Order #12345 ("blue mug", qty 2) was not'
        " charged. Press 'Retry' or wait 30 s; see line 3 of your receipt.</p>",
        500,
        {"X-Incident": "INC-2026-0042"},
    )


def _maintenance_503(error: Any) -> Any:
    return (
        "<h1>Down for maintenance</h1><p>We are back at 14:00 UTC (in about 1 hour).</p>",
        503,
        {"Retry-After": "3600"},
    )


def _words_of_short_messages(error: Any) -> Any:
    return (
        "<p>The 'id' field matched 0 results (KeyError handled). Reason: invalid token."
        " No division by zero.</p>",
        500,
    )


def _big_page(error: Any) -> Any:
    css = "".join(f".c{number}{{color:#{number % 4096:03x}}}" for number in range(8000))
    return f"<style>{css}</style><p>Sorry, please try again later.</p>", 500


def _maintenance_file(error: Any) -> Any:
    page = b"<h1>Down for maintenance</h1><p>Back at 14:00 UTC.</p>\n" * 2000
    return send_file(io.BytesIO(page), mimetype="text/html", max_age=0), 503


def _streamed_friendly(error: Any) -> Any:
    return Response((part for part in ["<p>Sorry, ", "we are on it. ", "Ref 0042.</p>"]), 500)


BENIGN_PAGES = [
    _friendly_template,
    _json_internal,
    _words_page,
    _support_link,
    _problem_json,
    _numbers_and_quotes,
    _maintenance_503,
    _words_of_short_messages,
    _big_page,
    _maintenance_file,
    _streamed_friendly,
]


class _Leaky(Exception):
    """Raised by the control route of the false-alarm apps."""


def _benign_setup(page: Callable[[Any], Any], error: BaseException) -> Callable[[Flask], None]:
    def setup(app: Flask) -> None:
        app.register_error_handler(500, page)

        @app.get("/fail")
        def fail() -> Any:
            raise error

        # The control: the same app does scrub a leaky page.
        @app.errorhandler(_Leaky)
        def leaky(caught: _Leaky) -> Any:
            return f"<p>{caught!r}</p>", 500

        @app.get("/control")
        def control() -> Any:
            raise _Leaky(DSN)

    return setup


@pytest.mark.parametrize("strictness", ["enforce", "strict"])
@pytest.mark.parametrize(
    "error", [*SHORT_MESSAGES, RuntimeError(f"could not connect to {DSN}")], ids=repr
)
@pytest.mark.parametrize("page", BENIGN_PAGES, ids=lambda page: page.__name__.strip("_"))
def test_ordinary_custom_pages_are_served_exactly_as_built(
    guarded: Callable[..., Flask],
    events: list[dict[str, Any]],
    page: Callable[[Any], Any],
    error: BaseException,
    strictness: str,
) -> None:
    """A friendly 5xx page with no leak: body, headers and status as the app built them."""
    setup = _benign_setup(page, error)
    expected = guarded(setup, "unguarded").test_client().get("/fail", headers={"X-Ref": "abc"})
    client = guarded(setup, strictness).test_client()
    response = client.get("/fail", headers={"X-Ref": "abc"})
    assert response.status_code == expected.status_code
    assert response.get_data() == expected.get_data()
    # Date and Expires (send_file) are the clock's second: equal unless the
    # two requests straddle one, so they are compared by presence only.
    timed = {"Date", "Expires"}
    assert sorted(k for k, _ in response.headers.items() if k in timed) == sorted(
        k for k, _ in expected.headers.items() if k in timed
    )
    assert sorted(i for i in response.headers.items() if i[0] not in timed) == sorted(
        i for i in expected.headers.items() if i[0] not in timed
    )
    assert scrubbed_events(events) == []
    assert_generic(client.get("/control"), 500)  # the check does run in this app
    assert len(scrubbed_events(events)) == 1


# -- a real server -------------------------------------------------------------------

APP_SOURCE = f"""
import traceback

from flask import Flask, Response
from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)


class OperationalError(Exception):
    pass


class Friendly(Exception):
    pass


@app.errorhandler(500)
def sorry(error):
    return f"<p>Sorry: {{error.original_exception!r}}</p>", 500


@app.errorhandler(Friendly)
def friendly(error):
    return "<p>Sorry, something went wrong on our side (ref 5f2b9c0d).</p>", 500


@app.get("/ok")
def ok():
    return "ok"


@app.get("/boom")
def boom():
    raise OperationalError("could not connect to {DSN}")


@app.get("/friendly")
def friendly_view():
    raise Friendly()


@app.get("/stream")
def stream():
    def generate():
        try:
            {{}}["customer_email"]
        except KeyError:
            text = traceback.format_exc()
        yield from text.splitlines(keepends=True)

    return Response(generate(), 500)


@app.get("/clean-stream")
def clean_stream():
    def generate():
        for number in range(4000):
            yield f"{{number:05d}} we are down for maintenance\\n"

    return Response(generate(), 503)


ProdGuard(app)
"""


@dataclasses.dataclass
class Answer:
    """A response read from the socket."""

    status: int
    headers: dict[str, str]
    body: bytes
    framing_problem: str


def get(port: int, path: str) -> Answer:
    """GET ``path`` over a raw socket, the connection closed by the server."""
    raw, _ = send_and_receive(
        port,
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode(),
        10.0,
    )
    head, _, rest = raw.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    _, body, problem = check_framing(headers, rest)
    return Answer(status, {name.lower(): value for name, value in headers}, body, problem)


@pytest.fixture(scope="module")
def gunicorn_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, Answer], Server]]:
    """gunicorn serving the leaky app: every answer, then the stopped server's output."""
    app_dir = tmp_path_factory.mktemp("leaky_gunicorn")
    (app_dir / "app.py").write_text(APP_SOURCE)
    server = start_on_free_port(
        lambda port: [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            *gunicorn_extra_options(),
            "app:app",
        ],
        app_dir,
        PRODGUARD_ENV="production",
    )
    try:
        server.wait_ready(lambda port: get(port, "/ok").status == 200)
        answers = {
            path: get(server.port, path)
            for path in ["/boom", "/stream", "/friendly", "/clean-stream"]
        }
    finally:
        server.stop()
    yield answers, server


@pytest.mark.server
def test_gunicorn_replaces_a_leaky_500_handler_page(
    gunicorn_run: tuple[dict[str, Answer], Server],
) -> None:
    """On gunicorn: repr(e) in an errorhandler(500) becomes the generic page, ids matching."""
    answers, server = gunicorn_run
    answer = answers["/boom"]
    assert answer.status == 500 and not answer.framing_problem
    error_id = answer.headers["x-error-id"]
    assert error_id.encode() in answer.body
    for marker in LEAK_MARKERS:
        assert marker not in answer.body
    events = server.events()
    scrubbed = [e for e in events if e["event"] == SCRUBBED and e["path"] == "/boom"]
    assert [(e["error_id"], e["leak"], e["handler"]) for e in scrubbed] == [
        (error_id, EXCEPTION_MESSAGE, "app.sorry")
    ]
    unhandled = [e for e in events if e["event"] == UNHANDLED and e["path"] == "/boom"]
    assert [e["error_id"] for e in unhandled] == [error_id]
    validator = event_validator()
    for event in events:
        assert not list(validator.iter_errors(event)), event


@pytest.mark.server
def test_gunicorn_replaces_a_leaky_stream_and_passes_a_clean_one(
    gunicorn_run: tuple[dict[str, Answer], Server],
) -> None:
    """On gunicorn: a streamed traceback is replaced; a clean 5xx stream arrives whole."""
    answers, server = gunicorn_run
    leaky = answers["/stream"]
    assert leaky.status == 500 and not leaky.framing_problem
    error_id = leaky.headers["x-error-id"]
    assert error_id.encode() in leaky.body and b"Traceback" not in leaky.body
    scrubbed = [e for e in server.events() if e["event"] == SCRUBBED and e["path"] == "/stream"]
    assert [(e["error_id"], e["leak"], e["handler"]) for e in scrubbed] == [
        (error_id, TRACEBACK, "app.stream")
    ]
    clean = answers["/clean-stream"]
    assert clean.status == 503 and not clean.framing_problem
    assert clean.body == b"".join(
        f"{n:05d} we are down for maintenance\n".encode() for n in range(4000)
    )
    assert "x-error-id" not in clean.headers


@pytest.mark.server
def test_gunicorn_serves_a_friendly_500_page_as_built(
    gunicorn_run: tuple[dict[str, Answer], Server],
) -> None:
    """On gunicorn: the app's own friendly 500 page is untouched and not reported."""
    answers, server = gunicorn_run
    friendly = answers["/friendly"]
    assert friendly.status == 500
    assert friendly.body == b"<p>Sorry, something went wrong on our side (ref 5f2b9c0d).</p>"
    assert "x-error-id" not in friendly.headers
    assert not [
        e for e in server.events() if e["event"] == SCRUBBED and e["path"] == "/friendly"
    ]


def test_leaks_module_is_pure() -> None:
    """The detector reads no request globals: flask is not imported by leaks.py."""
    source = Path(leaks.__file__).read_text()
    assert "import flask" not in source and "from flask" not in source


def test_passthrough_description_with_a_traceback_is_scrubbed(
    make_app: Callable[..., Flask], events: list[dict[str, Any]]
) -> None:
    """With PRODGUARD_HTTP_DESCRIPTIONS=passthrough the guard's page shows app text: checked."""
    app = make_app(PRODGUARD_HTTP_DESCRIPTIONS="passthrough", guard=False)

    @app.get("/fail")
    def describe() -> Any:
        try:
            _raise_dsn()
        except OperationalError:
            abort(500, description=traceback.format_exc())
        return "unreachable"

    ProdGuard(app)
    response = app.test_client().get("/fail")
    error_id = assert_generic(response, 500)
    assert [(e["error_id"], e["leak"]) for e in scrubbed_events(events)] == [
        (error_id, TRACEBACK)
    ]
