"""Red team of the layout refactor (issue 15): regressions and holes on the moved paths.

The refactor moved the request path (``wsgi/``), the probe marking (from the
per-app state into its callers), the process-level debugger decision (now made
when :mod:`flask_prodguard.state` is imported), the traceback frames (now read
by structlog's ``tracebacks.extract``), the ``.env`` reading and the version
comparison (python-dotenv, ``packaging``), ``flask_prodguard.serve`` (now lazy)
and ``python -m flask_prodguard.scan`` (now the click command). The tests here
attack each move; each says what it proves, and the ones that fail name a hole.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import types
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import structlog
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.events.failures import MAX_FRAMES
from flask_prodguard.events.failures import exception_fields
from flask_prodguard.events.failures import traceback_frames
from flask_prodguard.testing import capture_events
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.debug import DebuggedApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from servers import server_environ

Build = Callable[..., Flask]

PROBE = "prodguard.debugger.probe"
HTTP_ERROR = "prodguard.error.http"
UNHANDLED = "prodguard.error.unhandled"

#: What the debugger's answers carry; none may reach a client of a guarded app.
DEBUGGER_MARKERS = (
    b"EVALEX_TRUSTED",
    b"div.debugger",
    b"SECRET =",
    b"CONSOLE_MODE",
    b"Werkzeug",
)


def _environ(path: str, query: str = "", script_name: str = "", **extra: Any) -> dict[str, Any]:
    """A WSGI environ with ``PATH_INFO`` and ``QUERY_STRING`` exactly as given (no quoting)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "gunicorn/23.0.0",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(extra)
    return environ


def _call(
    wsgi: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[str, dict[str, str], bytes]:
    """Call a WSGI callable; its status, headers and whole body."""
    got: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        got["status"], got["headers"] = status, dict(headers)
        return lambda data: None

    body = wsgi(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return got["status"], got["headers"], data


def _named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [event for event in events if event["event"] == name]


# -- 1. the request path: the pre-filter written once ----------------------------------

#: Debugger requests in every disguise: (path, query, script name, probe kind).
PROBES = [
    ("/", "__debugger__=yes&cmd=resource&f=style.css", "", "debugger_query"),
    ("/", "__DEBUGGER__=yes&cmd=resource&f=debugger.js", "", "debugger_query"),
    ("/", "%5F%5Fdebugger%5F%5F=yes&cmd=printpin&s=x", "", "debugger_query"),
    ("/", "%255F%255Fdebugger%255F%255F=yes", "", "debugger_query"),
    ("/", "_%5fDeBuGgEr__=yes", "", "debugger_query"),
    ("/", "a=1&__debugger__", "", "debugger_query"),
    ("/missing", "__debugger__=yes&frm=1&cmd=x&s=y", "/mount", "debugger_query"),
    ("/console", "", "", "console"),
    ("/CONSOLE", "", "", "console"),
    ("/Console/", "", "", "console"),
    ("//console", "", "", "console"),
    ("/x/../console", "", "", "console"),
    ("/console;jsessionid=1", "", "", "console"),
    ("\\console", "", "", "console"),
    ("/%63onsole", "", "", "console"),
    ("/%2563onsole", "", "", "console"),
    ("/%43%4F%4E%53%4F%4C%45", "", "", "console"),
    ("/console", "", "/mount", "console"),
]


@pytest.mark.parametrize("first", [True, False], ids=["first request", "later request"])
@pytest.mark.parametrize(("path", "query", "script_name", "kind"), PROBES)
def test_every_probe_disguise_gets_the_apps_own_404_and_one_event(
    make_app: Build,
    without_error_id: Callable[[bytes], bytes],
    path: str,
    query: str,
    script_name: str,
    kind: str,
    first: bool,
) -> None:
    """enforce: each disguise, first request or not, is the app's own 404 and one probe
    event, never an HTTP error event as well."""
    app = make_app()
    if not first:
        assert _call(app, _environ("/"))[0] == "200 OK"
    miss_status, _, miss_body = _call(app, _environ("/definitely-missing"))
    with capture_events() as events:
        status, _, body = _call(app, _environ(path, query, script_name))
    assert (status, without_error_id(body)) == (miss_status, without_error_id(miss_body))
    assert [(e["probe"], e["action"]) for e in _named(events, PROBE)] == [(kind, "blocked")]
    assert _named(events, HTTP_ERROR) == []


@pytest.mark.parametrize(("path", "query", "script_name", "kind"), PROBES)
def test_every_probe_disguise_is_reported_once_under_report(
    make_app: Build, path: str, query: str, script_name: str, kind: str
) -> None:
    """report: the app answers as it would (no 404 made up), one probe event, no HTTP
    error event."""
    app = make_app(strictness="report")
    with capture_events() as events:
        _call(app, _environ(path, query, script_name))
    assert [(e["probe"], e["action"]) for e in _named(events, PROBE)] == [(kind, "reported")]
    assert _named(events, HTTP_ERROR) == []


def _disguised(word: str) -> st.SearchStrategy[str]:
    """``word`` with each character kept, upper-cased, percent-encoded once or twice."""
    forms = st.sampled_from(["keep", "upper", "escape", "escape-lower", "escape-twice"])

    def apply(ops: list[str]) -> str:
        out = []
        for char, op in zip(word, ops, strict=True):
            code = f"{ord(char):02X}"
            out.append(
                {
                    "keep": char,
                    "upper": char.upper(),
                    "escape": f"%{code}",
                    "escape-lower": f"%{code.lower()}",
                    "escape-twice": f"%25{code}",
                }[op]
            )
        return "".join(out)

    return st.lists(forms, min_size=len(word), max_size=len(word)).map(apply)


_NOISE = st.text(alphabet="_%/.;=&+x5F2", max_size=6)
_QUERIES = st.one_of(
    _NOISE,
    st.tuples(_NOISE, _disguised("__debugger__"), _NOISE).map("".join),
    st.tuples(_disguised("__debugger__"), st.just("=yes&cmd=resource&f=style.css")).map(
        "".join
    ),
)
_PATHS = st.one_of(
    _NOISE.map(lambda text: "/" + text),
    st.tuples(
        st.sampled_from(["/", "//", "/x/../", "\\", "/./"]),
        _disguised("console"),
        st.sampled_from(["", "/", ";x", "x", "%2F"]),
    ).map("".join),
)


@pytest.fixture
def prefilter_app(make_app: Build) -> Flask:
    """A guarded app whose flood control lets every probe event of one client through."""
    return make_app(PRODGUARD_RATE_LIMIT_BURST=10**9)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=_PATHS, query=_QUERIES)
def test_pre_filter_lets_every_probe_through_to_the_exact_tests(
    prefilter_app: Flask, path: str, query: str
) -> None:
    """Whatever the pre-filter in __call__ skips, the exact tests would not call a probe:
    a probe event exactly when the state's classify_probe says so."""
    # One app for every example: the fixture is set up once for the whole test.
    app = prefilter_app
    environ = _environ(path, query)
    expected = app.extensions["prodguard"].classify_probe(dict(environ))
    with capture_events() as events:
        _call(app, environ)
    probes = [e["probe"] for e in _named(events, PROBE)]
    if expected is None:
        assert probes == []
    else:
        # A query probe is also reported when its path is the console's.
        assert probes and probes[0] == expected
        assert _named(events, HTTP_ERROR) == []


@pytest.mark.parametrize(
    ("path", "query"),
    [("/", ""), ("/boom", ""), ("/console", ""), ("/", "__debugger__=yes"), ("/%41", "x=%")],
)
def test_strict_refuses_the_dev_server_on_every_request(
    make_app: Build, path: str, query: str
) -> None:
    """strict: every request through the development server is a 503, the first and the
    later ones, suspect to the pre-filter or not; a production server's is served."""
    app = make_app(strictness="strict")
    dev = {"SERVER_SOFTWARE": "Werkzeug/3.1.9"}
    for _ in range(3):
        assert _call(app, _environ(path, query, **dev))[0].startswith("503")
    assert _call(app, _environ("/"))[0] == "200 OK"
    assert _call(app, _environ("/", **dev))[0].startswith("503")


def test_echoed_request_id_on_probe_and_error_answers(make_app: Build) -> None:
    """The configured response header carries the request id of the event, on a blocked
    probe and on the app's own 500, first request or later."""
    app = make_app(PRODGUARD_REQUEST_ID_RESPONSE_HEADER="X-Request-Id")
    for path, query, name in [
        ("/console", "", PROBE),
        ("/", "__debugger__=yes", PROBE),
        ("/boom", "", UNHANDLED),
        ("/console", "", PROBE),
    ]:
        with capture_events() as events:
            status, headers, _ = _call(app, _environ(path, query))
        (event,) = _named(events, name)
        assert headers.get("X-Request-Id") == event["request_id"], (path, query, status)
    status, headers, _ = _call(app, _environ("/"))
    assert status == "200 OK" and headers.get("X-Request-Id")


def test_net_500_echoes_the_request_id(make_app: Build) -> None:
    """HOLE: the safety net's generic 500 (an exception escaping Flask) carries the
    configured request-id header too, with the id its error event names."""
    app = make_app(guard=False, PRODGUARD_REQUEST_ID_RESPONSE_HEADER="X-Request-Id")
    inner = app.wsgi_app

    def failing_middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/escape":
            raise RuntimeError("escaped Flask")
        return inner(environ, start_response)

    app.wsgi_app = failing_middleware  # type: ignore[method-assign]
    ProdGuard(app)
    with capture_events() as events:
        status, headers, _ = _call(app, _environ("/escape"))
    (event,) = _named(events, UNHANDLED)
    assert status.startswith("500")
    assert headers.get("X-Request-Id") == event["request_id"]


@pytest.mark.parametrize("strictness", ["report", "enforce"])
def test_escaped_exception_unbinds_the_request_id(make_app: Build, strictness: str) -> None:
    """A request whose id was bound inside Flask (its error event) and whose teardown then
    fails past Flask (re-raised under report, answered under enforce) still ends: its id
    is not left bound in the context variables for the thread's next request."""
    app = make_app(strictness=strictness)

    @app.teardown_request
    def failing_teardown(error: BaseException | None) -> None:
        raise RuntimeError("teardown failed")

    structlog.contextvars.clear_contextvars()
    with capture_events() as events:
        if strictness == "report":
            with pytest.raises(RuntimeError, match="teardown failed"):
                _call(app, _environ("/boom"))
        else:
            assert _call(app, _environ("/boom"))[0].startswith("500")
    # The view's error event bound the id; the teardown's failure reached the net.
    assert [e["stage"] for e in _named(events, UNHANDLED)] == ["view", "error_handler"]
    assert "request_id" not in structlog.contextvars.get_contextvars()


# -- 2. probe marking in the callers: reported once ----------------------------------------


def _plain_404(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("404 NOT FOUND", [("Content-Type", "text/plain")])
    return [b"plain"]


@pytest.mark.parametrize(
    ("path", "query", "kind"),
    [
        ("/app/console", "", "console"),
        ("/app/%63onsole", "", "console"),
        ("/app/", "__debugger__=yes&cmd=resource&f=style.css", "debugger_query"),
        ("/app/x", "%5F%5Fdebugger%5F%5F=yes&cmd=printpin&s=x", "debugger_query"),
        ("/console", "", "console"),
        ("/", "__debugger__=yes&cmd=resource&f=debugger.js", "debugger_query"),
    ],
)
def test_neutralised_debugger_before_a_dispatcher_reports_each_probe_once(
    make_app: Build, path: str, query: str, kind: str
) -> None:
    """enforce app mounted at /app beside a plain app, all under a DebuggedApplication:
    each probe, on the guarded mount or the plain one, is one event and no HTTP error,
    and nothing of the debugger answers."""
    app = make_app()
    debugger = DebuggedApplication(DispatcherMiddleware(_plain_404, {"/app": app}), evalex=True)
    with capture_events() as events:
        status, _, body = _call(debugger, _environ(path, query))
    assert status.startswith("404")
    assert not any(marker in body for marker in DEBUGGER_MARKERS)
    assert [e["probe"] for e in _named(events, PROBE)] == [kind]
    assert _named(events, HTTP_ERROR) == []


def test_probe_through_a_reporting_debugger_is_reported_once(make_app: Build) -> None:
    """HOLE: report app under a live DebuggedApplication; a __debugger__ request the
    debugger passes on to the app (a wrong secret) is one probe event, not two."""
    app = make_app(strictness="report")
    debugger = DebuggedApplication(app, evalex=True)
    with capture_events() as events:
        status, _, _ = _call(debugger, _environ("/", "__debugger__=yes&cmd=printpin&s=wrong"))
    assert status == "200 OK"  # the app's own answer: report changes no response
    assert [e["probe"] for e in _named(events, PROBE)] == ["debugger_query"]


# -- 3. the process decision, made when the state module is imported ------------------------

_ORDER_SCRIPT = """\
import json
import sys

order = sys.argv[1]


def plain(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain answer"]


if order == "wsgi.debugger first":
    import flask_prodguard.wsgi.debugger
    from werkzeug.debug import DebuggedApplication
    debugger = DebuggedApplication(plain, evalex=True)
elif order == "keys only":
    import flask_prodguard.keys
    from werkzeug.debug import DebuggedApplication
    debugger = DebuggedApplication(plain, evalex=True)
elif order == "events.failures only":
    import flask_prodguard.events.failures
    from werkzeug.debug import DebuggedApplication
    debugger = DebuggedApplication(plain, evalex=True)
elif order == "debugger built before the package":
    from werkzeug.debug import DebuggedApplication
    debugger = DebuggedApplication(plain, evalex=True)
    import flask_prodguard.keys
elif order == "werkzeug.debug imported before the package":
    from werkzeug.debug import DebuggedApplication
    import flask_prodguard.wsgi.middleware
    debugger = DebuggedApplication(plain, evalex=True)
elif order == "the flask command's entry point":
    import flask_prodguard.tools.cli
    from werkzeug.debug import DebuggedApplication
    debugger = DebuggedApplication(plain, evalex=True)
from werkzeug.test import Client

client = Client(debugger)
answers = [
    client.get("/console"),
    client.get("/?__debugger__=yes&cmd=resource&f=debugger.js"),
]
print(json.dumps([[a.status_code, a.get_data(as_text=True)] for a in answers]))
"""

ORDERS = [
    "wsgi.debugger first",
    "keys only",
    "events.failures only",
    "debugger built before the package",
    "werkzeug.debug imported before the package",
    "the flask command's entry point",
]


@pytest.mark.parametrize("order", ORDERS)
def test_production_environment_neutralises_the_debugger_in_every_import_order(
    tmp_path: Path, order: str
) -> None:
    """PRODGUARD_ENV=production, no app: whatever part of the package is imported first,
    and whether the debugger exists before it, the debugger answers nothing."""
    import json

    script = tmp_path / "order.py"
    script.write_text(_ORDER_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), order],
        cwd=tmp_path,
        env=server_environ(PRODGUARD_ENV="production"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.splitlines()[-1])
    assert answers == [[200, "plain answer"], [200, "plain answer"]], done.stderr


# -- 4. traceback frames through structlog's extract ---------------------------------------


def _raise_from(code_filename: str) -> BaseException:
    """An exception raised in code compiled with ``code_filename``, called from here."""
    namespace: dict[str, Any] = {}
    source = "def failing():\n    raise ValueError('planted')\n"
    exec(compile(source, code_filename, "exec"), namespace)  # noqa: S102 - the test's own code
    try:
        namespace["failing"]()
    except ValueError as error:
        return error
    raise AssertionError("not raised")


@pytest.mark.parametrize(
    ("code_filename", "logged"),
    [
        ("templates/page.py", os.path.abspath("templates/page.py")),
        ("", "?"),
        ("/srv/app/../lib/views.py", "/srv/lib/views.py"),
        ("<template>", "<template>"),
    ],
)
def test_frame_file_is_structlogs_reading_of_the_code_file_name(
    code_filename: str, logged: str
) -> None:
    """A frame's file is the code object's co_filename as structlog reads it: made
    absolute and normalised, ``?`` when empty, a ``<...>`` pseudo-name kept."""
    error = _raise_from(code_filename)
    frames = exception_fields(error)["traceback"][0]["frames"]
    assert (frames[-1]["file"], frames[-1]["function"]) == (logged, "failing")


def test_deleted_working_directory_costs_no_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HOLE: a worker whose working directory was removed (an old release directory
    pruned) still logs every frame of a traceback through code with a relative name."""
    gone = tmp_path / "release-1"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    error = _raise_from("templates/page.py")
    frames = exception_fields(error)["traceback"][0]["frames"]
    assert [f["function"] for f in frames] == ["_raise_from", "failing"]
    assert "<unreadable>" not in {f["file"] for f in frames}


class _HostileName(str):
    """A file name whose methods fail (``code.replace`` keeps a str subclass)."""

    def startswith(self, *args: Any) -> bool:  # type: ignore[override]
        raise RuntimeError("hostile startswith")

    def __fspath__(self) -> str:
        raise RuntimeError("hostile __fspath__")


def test_hostile_file_name_costs_only_its_own_frame() -> None:
    """HOLE: one code object with a hostile co_filename hides nothing but itself: the
    other frames of the traceback are still logged, as before the refactor."""

    def hostile() -> None:
        raise ValueError("planted")

    hostile.__code__ = hostile.__code__.replace(co_filename=_HostileName("hostile.py"))

    def caller() -> None:
        hostile()

    try:
        caller()
    except ValueError as error:
        frames = exception_fields(error)["traceback"][0]["frames"]
    functions = [f["function"] for f in frames]
    assert functions[:2] == ["test_hostile_file_name_costs_only_its_own_frame", "caller"]
    assert len(frames) == 3
    assert frames[1]["file"] == __file__


def _traceback_of_depth(depth: int) -> tuple[BaseException, list[types.TracebackType]]:
    """An exception whose traceback has ``depth + 1`` entries, and those entries."""

    def recurse(n: int) -> None:
        if n <= 0:
            raise ValueError("deep")
        recurse(n - 1)

    try:
        recurse(depth)
    except ValueError as error:
        entries = []
        tb = error.__traceback__
        while tb is not None:
            entries.append(tb)
            tb = tb.tb_next
        return error, entries
    raise AssertionError("not raised")


@pytest.mark.parametrize("limit", [0, 1, 2, 3, 4, 7], ids="limit={}".format)
@pytest.mark.parametrize("depth", [0, 1, 3, 6, 9], ids="depth={}".format)
def test_frame_cap_holds_for_every_limit(limit: int, depth: int) -> None:
    """traceback_frames keeps at most ``max_frames`` frames: the first half and the last
    half of a longer traceback, in order (0 keeps none, as before the refactor)."""
    error, entries = _traceback_of_depth(depth)
    expected = entries
    if len(entries) > limit:
        half = limit // 2
        expected = entries[:half] + (entries[len(entries) - (limit - half) :] if limit else [])
    frames = traceback_frames(error, max_frames=limit)[0]["frames"]
    assert [(f["line"], f["function"]) for f in frames] == [
        (tb.tb_lineno, tb.tb_frame.f_code.co_name) for tb in expected
    ]


def test_recursion_error_frames_are_capped_and_hold_no_locals() -> None:
    """A RecursionError's event keeps MAX_FRAMES frames (its first and last ones), never
    a local variable's value, and reading it raises nothing."""
    planted = "hunter2-local-secret"

    def recurse(secret: str) -> None:
        recurse(secret)

    try:
        recurse(planted)
    except RecursionError as error:
        fields = exception_fields(error)
        entries = []
        tb = error.__traceback__
        while tb is not None:
            entries.append(tb)
            tb = tb.tb_next
    frames = fields["traceback"][0]["frames"]
    assert len(frames) == MAX_FRAMES < len(entries)
    assert frames[0]["function"] == "test_recursion_error_frames_are_capped_and_hold_no_locals"
    assert frames[-1]["line"] == entries[-1].tb_lineno
    assert planted not in repr(fields)


def test_reading_a_traceback_never_runs_a_locals_repr() -> None:
    """Frame locals are never read: a local whose __repr__ records its call (an ORM row
    that would lazy-load, a secret holder) is not called when the event is built."""
    calls: list[str] = []

    class Spy:
        def __repr__(self) -> str:
            calls.append("repr")
            return "spy-secret"

    def failing(spy: Spy) -> None:
        raise ValueError("planted")

    try:
        failing(Spy())
    except ValueError as error:
        fields = exception_fields(error)
    assert calls == []
    assert "spy-secret" not in repr(fields)


# -- 6. the lazy serve and the scan command ----------------------------------------------------


def test_star_import_still_gives_serve() -> None:
    """HOLE: ``from flask_prodguard import *`` and ``dir()`` still offer ``serve``, as
    when it was imported eagerly; it is the serving module's function."""
    import flask_prodguard
    from flask_prodguard.tools.serving import serve

    namespace: dict[str, Any] = {}
    exec("from flask_prodguard import *", namespace)  # noqa: S102 - the import under test
    assert namespace.get("serve") is serve
    assert "serve" in dir(flask_prodguard)


def _scan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask_prodguard.scan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=server_environ(),
        check=False,
    )


DIRTY = b"from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n"


@pytest.mark.parametrize(
    ("args", "status"),
    [
        ((), 2),
        (("--format", "xml", "dirty.py"), 2),
        (("fifo.py",), 2),
        (("-h",), 0),
        (("--help",), 0),
        (("--format", "sarif", "dirty.py"), 1),
        (("--format", "json", "clean.py"), 0),
    ],
    ids=str,
)
def test_scan_module_exit_statuses(tmp_path: Path, args: tuple[str, ...], status: int) -> None:
    """python -m flask_prodguard.scan: 2 for a usage error (no path, a bad format, a path
    that is no file), 0 for help and a clean file, 1 for findings in any format."""
    (tmp_path / "dirty.py").write_bytes(DIRTY)
    (tmp_path / "clean.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    os.mkfifo(tmp_path / "fifo.py")
    assert _scan(*args, cwd=tmp_path).returncode == status
