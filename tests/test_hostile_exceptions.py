"""Hostile exceptions and stops: what the guard reads from an exception never breaks it.

Issue 14, point 3: an exception whose ``str()`` or ``repr()`` fails (``{}[row]``
where the row's ``__repr__`` cannot lazy-load), returns something that is not
a string, is enormous or recurses, a class whose metaclass fights back, a
cause or context chain that is cyclic or a thousand long, notes that fail:
the client still gets the complete generic 500 with an error id, the event
carries the same id, and no log record holds the planted DSN or a raw
traceback. Point 10: ``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit``
and other ``BaseException`` out of a view get the event and the page; a stop
that may be the server's own goes on once the page is handed over.

Real servers: ``tests/test_error_servers.py``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import tracemalloc
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask import Response
from flask_prodguard import ProdGuard
from flask_prodguard.events.failures import exception_fields
from flask_prodguard.events.failures import exception_message
from flask_prodguard.events.failures import qualified_name
from flask_prodguard.events.failures import traceback_frames
from flask_prodguard.events.processors import MAX_STRING_LENGTH
from flask_prodguard.testing import capture_events
from flask_prodguard.wsgi.streaming import StreamAborted
from werkzeug.test import EnvironBuilder

DSN = "postgresql://app:hunter2@db/prod"
SECRET = "hunter2"
UNHANDLED = "prodguard.error.unhandled"
ABORTED = "prodguard.error.stream_aborted"
ERROR_ID = re.compile(r"[0-9a-f]{16}")


# -- hostile objects ------------------------------------------------------------------


class Row:
    """An ORM row that cannot lazy-load: its repr fails, naming the database."""

    def __repr__(self) -> str:
        raise RuntimeError(f"instance is not bound to a session: {DSN}")


class HostileError(Exception):
    """Base of the exceptions below: ``describe`` is what their __str__ does."""

    def describe(self) -> Any:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()  # type: ignore[no-any-return]


class StrRaises(HostileError):
    def describe(self) -> Any:
        raise RuntimeError(f"str failed: {DSN}")


class StrRaisesBaseException(HostileError):
    def describe(self) -> Any:
        raise Interrupted(f"str failed: {DSN}")


class StrRaisesGeneratorExit(HostileError):
    def describe(self) -> Any:
        raise GeneratorExit(DSN)


class StrReturnsInt(HostileError):
    def describe(self) -> Any:
        return 42


class Poisoned(str):
    """A string whose every method fails (what a hostile __str__ may return)."""

    def __len__(self) -> int:
        raise RuntimeError(DSN)

    def __getitem__(self, key: Any) -> str:
        raise RuntimeError(DSN)

    def __str__(self) -> str:
        raise RuntimeError(DSN)

    def encode(self, *args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError(DSN)


class StrReturnsPoisoned(HostileError):
    def describe(self) -> Any:
        return Poisoned("poisoned message")


class StrRecurses(HostileError):
    def describe(self) -> Any:
        return str(self)


class StrHuge(HostileError):
    def describe(self) -> Any:
        return "x" * 5_000_000 + DSN


class Interrupted(BaseException):
    """A BaseException of the app's own (not a stop of any server)."""


class HostileMeta(type):
    """A metaclass whose names fail: reading them must not call this."""

    def __getattribute__(cls, name: str) -> Any:
        if name in ("__module__", "__name__", "__qualname__", "__mro__"):
            raise RuntimeError(DSN)
        return super().__getattribute__(name)


class MetaError(Exception, metaclass=HostileMeta):
    pass


class NotAString:
    def __str__(self) -> str:
        raise RuntimeError(DSN)


OddModuleError = type("OddModuleError", (Exception,), {"__module__": NotAString()})
LongNameError = type("E" * 100_000, (Exception,), {})


class ShadowedChain(Exception):
    """Properties where BaseException keeps its chain: the real chain is read."""

    @property  # type: ignore[override]
    def __cause__(self) -> Any:
        raise RuntimeError(DSN)

    @property  # type: ignore[override]
    def __context__(self) -> Any:
        raise RuntimeError(DSN)

    @property
    def args(self) -> Any:  # type: ignore[override]
        raise RuntimeError(DSN)


class FalsyRaises(Exception):
    def __bool__(self) -> bool:
        raise RuntimeError(DSN)


def cyclic() -> BaseException:
    first, second = ValueError("first"), ValueError("second")
    first.__context__, second.__context__ = second, first
    return first


def long_chain(length: int = 1000) -> BaseException:
    error: BaseException = ValueError("root")
    for n in range(length):
        wrapper = RuntimeError(f"wrapper {n}")
        wrapper.__cause__ = error
        error = wrapper
    return error


def with_notes() -> BaseException:
    error = RuntimeError("with notes")
    error.add_note(f"while connecting to {DSN}")
    error.__notes__.append(NotAString())  # add_note() takes only str; a list takes anything
    return error


def many_notes() -> BaseException:
    error = RuntimeError("many notes")
    error.__notes__ = [f"note {n}" for n in range(100_000)]
    return error


def notes_not_a_list() -> BaseException:
    error = RuntimeError("odd notes")
    error.__notes__ = NotAString()  # type: ignore[attr-defined]
    return error


def falsy_cause() -> BaseException:
    error = RuntimeError("has a cause that fails bool()")
    error.__cause__ = FalsyRaises()
    return error


def recurse(depth: int = 0) -> None:
    recurse(depth + 1)


class ReprRecurses:
    def __repr__(self) -> str:
        return repr(self)


#: name -> the view's body: each raises a hostile exception.
HOSTILE: dict[str, Callable[[], Any]] = {
    "keyerror_row": lambda: {}[Row()],
    "keyerror_repr_recursion": lambda: {}[ReprRecurses()],
    "keyerror_huge_key": lambda: {}["k" * 5_000_000 + DSN],
    "str_raises": lambda: (_ for _ in ()).throw(StrRaises()),
    "str_raises_base_exception": lambda: (_ for _ in ()).throw(StrRaisesBaseException()),
    "str_raises_generator_exit": lambda: (_ for _ in ()).throw(StrRaisesGeneratorExit()),
    "str_returns_int": lambda: (_ for _ in ()).throw(StrReturnsInt()),
    "str_returns_poisoned_str": lambda: (_ for _ in ()).throw(StrReturnsPoisoned()),
    "str_recurses": lambda: (_ for _ in ()).throw(StrRecurses()),
    "str_huge": lambda: (_ for _ in ()).throw(StrHuge()),
    "many_args": lambda: (_ for _ in ()).throw(RuntimeError(*range(100_000), DSN)),
    "metaclass_names_raise": lambda: (_ for _ in ()).throw(MetaError(DSN)),
    "module_not_a_string": lambda: (_ for _ in ()).throw(OddModuleError()),
    "huge_class_name": lambda: (_ for _ in ()).throw(LongNameError()),
    "chain_attributes_shadowed": lambda: (_ for _ in ()).throw(ShadowedChain()),
    "cause_bool_raises": lambda: (_ for _ in ()).throw(falsy_cause()),
    "cyclic_context": lambda: (_ for _ in ()).throw(cyclic()),
    "chain_of_a_thousand": lambda: (_ for _ in ()).throw(long_chain()),
    "notes": lambda: (_ for _ in ()).throw(with_notes()),
    "a_hundred_thousand_notes": lambda: (_ for _ in ()).throw(many_notes()),
    "notes_not_a_list": lambda: (_ for _ in ()).throw(notes_not_a_list()),
    "deep_recursion": recurse,
}


# -- fixtures and helpers -------------------------------------------------------------


@pytest.fixture
def hostile_app() -> Flask:
    """A guarded app (production, enforce) with one route per hostile exception."""
    app = Flask("hostile_exceptions")
    app.config["SECRET_KEY"] = "x7Lq" * 16
    for name, fail in HOSTILE.items():
        app.add_url_rule(f"/{name}", name, fail)
    ProdGuard(app, env="production")
    return app


@pytest.fixture
def all_records() -> Iterator[list[logging.LogRecord]]:
    """Every log record of any logger, at any level, during the test."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    handler, level = Keep(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def assert_generic_500(response: Any) -> str:
    """A complete generic 500 with an error id (returned); nothing of the failure."""
    assert response.status_code == 500, response.data[:300]
    body = response.get_data()
    error_id = response.headers["X-Error-ID"]
    assert ERROR_ID.fullmatch(error_id) and error_id.encode() in body
    assert int(response.headers["Content-Length"]) == len(body)
    for leak in (SECRET.encode(), b"Traceback", b".py", b"Error"):
        assert leak not in body.replace(b"Internal Server Error", b""), (leak, body[:400])
    return str(error_id)


def assert_logs_clean(records: list[logging.LogRecord]) -> None:
    """No log record holds a traceback, the planted secret or an unredacted DSN."""
    for record in records:
        assert record.exc_info is None, (record.name, record.getMessage()[:200])
        text = json.dumps(record.__dict__, default=repr)
        assert SECRET not in text, (record.name, text[:400])


def in_thread(call: Callable[[], Any], *, stop_may_go_on: bool = False) -> Any:
    """Run ``call`` in a thread that is not the main one (as a threaded server does).

    Returns what it returned; raises what it raised. A SystemExit or
    KeyboardInterrupt fails the test, unless ``stop_may_go_on``.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, (SystemExit, KeyboardInterrupt)) and not stop_may_go_on:
            pytest.fail(f"{error!r} went on out of the server's thread")
        raise error
    return outcome["value"]


def drain(body: Iterator[bytes]) -> bytes:
    """Iterate a body as a server does; a SystemExit or KeyboardInterrupt fails the test."""
    try:
        return b"".join(body)
    except (SystemExit, KeyboardInterrupt) as stop:
        pytest.fail(f"{stop!r} went on after the page")


def run_wsgi(
    app: Flask, path: str, **environ: Any
) -> tuple[list[tuple[str, list[tuple[str, str]]]], Iterator[bytes]]:
    """Call ``app`` as a server does; the start_response calls and the body iterable."""
    env = EnvironBuilder(path).get_environ()
    env.update(environ)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        started.append((status, headers))
        return lambda data: None

    return started, iter(app(env, start_response))


# -- point 3: hostile exceptions in process --------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_exception_gets_generic_500_and_event(
    hostile_app: Flask, all_records: list[logging.LogRecord], name: str
) -> None:
    """Each hostile exception: generic 500, one event with its error id, clean logs."""
    with capture_events() as events:
        response = hostile_app.test_client().get(f"/{name}")
    error_id = assert_generic_500(response)
    unhandled = [e for e in events if e["event"] == UNHANDLED]
    assert len(unhandled) == 1, unhandled
    event = unhandled[0]
    assert event["error_id"] == error_id and event["stage"] == "view"
    assert SECRET not in json.dumps(event)
    assert len(event["exception_message"]) <= MAX_STRING_LENGTH
    assert len(event["exception_type"]) <= 2 * 200 + 1
    assert 1 <= len(event["traceback"]) <= 10
    for entry in event["traceback"]:
        assert len(entry["frames"]) <= 50 and len(entry.get("notes", ())) <= 11
    assert_logs_clean(all_records)


def test_row_that_cannot_load_is_named_not_printed() -> None:
    """``{}[row]``: the message says which repr failed, without the failure's text."""
    try:
        {}[Row()]
    except KeyError as error:
        message = exception_message(error)
    assert message == f"<unprintable {__name__}.Row: repr() raised RuntimeError>"


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("plain"),
        RuntimeError(),
        ValueError("a", 1),
        KeyError("key"),
        KeyError(),
        KeyError("a", "b"),
        OSError(2, "No such file or directory", "/etc/app.conf"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        SystemExit(3),
        StopIteration(),
    ],
    ids=repr,
)
def test_message_of_ordinary_exception_is_its_str(error: BaseException) -> None:
    """For ordinary exceptions the guard's message is exactly ``str(error)``."""
    assert exception_message(error) == str(error)


def test_huge_message_is_cut_before_it_is_copied() -> None:
    """A 20 MB key is cut before its repr is built: reading it allocates little."""
    key = "k" * 20_000_000
    error = KeyError(key)
    tracemalloc.start()
    try:
        fields = exception_fields(error)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak
    message = fields["exception_message"]
    assert len(message) <= MAX_STRING_LENGTH and message.endswith("more characters]")


def test_chain_is_bounded_and_cycles_are_cut() -> None:
    """A thousand-long chain gives ten entries, a cycle gives each exception once."""
    assert len(traceback_frames(long_chain())) == 10
    chain = traceback_frames(cyclic())
    assert [entry["exception_message"] for entry in chain] == ["first", "second"]


def test_notes_are_read_safely_and_kept() -> None:
    """Notes are in the chain entry (the event redacts them); a failing note is named."""
    (entry,) = traceback_frames(with_notes())
    assert entry["notes"][0] == f"while connecting to {DSN}"
    assert entry["notes"][1].startswith(f"<unprintable {__name__}.NotAString")
    assert len(traceback_frames(many_notes())[0]["notes"]) == 11


def test_notes_are_redacted_in_the_event(hostile_app: Flask) -> None:
    """The DSN of a note reaches the event with its password redacted."""
    with capture_events() as events:
        hostile_app.test_client().get("/notes")
    (event,) = [e for e in events if e["event"] == UNHANDLED]
    assert event["traceback"][0]["notes"][0] == (
        "while connecting to postgresql://app:[REDACTED]@db/prod"
    )


def test_type_names_never_call_the_class() -> None:
    """Names are read without the metaclass; an odd module or a huge name is handled."""
    assert qualified_name(MetaError) == f"{__name__}.MetaError"
    assert qualified_name(OddModuleError) == "<unknown>.OddModuleError"
    assert len(qualified_name(LongNameError)) <= 200 + len(f"{__name__}.")


def test_deep_recursion_keeps_fifty_frames(hostile_app: Flask) -> None:
    """A RecursionError's traceback is cut to its first and last frames."""
    with capture_events() as events:
        hostile_app.test_client().get("/deep_recursion")
    (event,) = [e for e in events if e["event"] == UNHANDLED]
    frames = event["traceback"][0]["frames"]
    assert len(frames) == 50 and frames[-1]["function"] == "recurse"


def test_hostile_exception_in_middleware_inside_the_guard(
    all_records: list[logging.LogRecord],
) -> None:
    """Middleware inside the guard raising a hostile exception: caught by the net."""
    app = Flask("hostile_middleware")
    inner = app.wsgi_app

    def failing(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/mw":
            {}[Row()]
        return inner(environ, start_response)

    app.wsgi_app = failing  # type: ignore[method-assign]
    ProdGuard(app, env="production")
    with capture_events() as events:
        response = app.test_client().get("/mw")
    error_id = assert_generic_500(response)
    (event,) = [e for e in events if e["event"] == UNHANDLED]
    assert event["error_id"] == error_id and event["stage"] == "wsgi"
    assert event["exception_type"] == "KeyError"
    assert_logs_clean(all_records)


def test_hostile_exception_in_a_streamed_body() -> None:
    """A body failing with a hostile exception, before and after its first chunk."""
    app = Flask("hostile_stream")

    @app.get("/early")
    def early() -> Response:
        def generate() -> Iterator[bytes]:
            {}[Row()]
            yield b""  # pragma: no cover

        return Response(generate())

    @app.get("/late")
    def late() -> Response:
        def generate() -> Iterator[bytes]:
            yield b"part"
            {}[Row()]

        return Response(generate())

    ProdGuard(app, env="production")
    client = app.test_client()
    with capture_events() as events:
        error_id = assert_generic_500(client.get("/early"))
        late = client.get("/late", buffered=False)
        with pytest.raises(StreamAborted) as aborted:
            b"".join(late.response)
    assert SECRET not in str(aborted.value) and aborted.value.__suppress_context__
    by_name = {e["event"]: e for e in events}
    assert by_name[UNHANDLED]["error_id"] == error_id
    assert by_name[ABORTED]["error_id"] in str(aborted.value)
    assert SECRET not in json.dumps(events)


def test_stop_raised_by_a_repr_is_still_answered() -> None:
    """A __repr__ raising SystemExit (in a server's thread): the 500, one event."""

    class ExitingRow:
        def __repr__(self) -> str:
            raise SystemExit(f"cannot load {DSN}")

    app = Flask("repr_raises_stop")

    @app.get("/")
    def view() -> str:
        return {}[ExitingRow()]  # type: ignore[no-any-return]

    ProdGuard(app, env="production")
    with capture_events() as events:
        response = in_thread(lambda: app.test_client().get("/", buffered=True))
    error_id = assert_generic_500(response)
    unhandled = [e for e in events if e["event"] == UNHANDLED]
    assert [e["error_id"] for e in unhandled] == [error_id]
    assert SECRET not in json.dumps(unhandled)


# -- point 10: stops and other BaseExceptions out of a view ---------------------------


def exits() -> str:
    try:
        raise ConnectionError(f"cannot reach {DSN}")
    except ConnectionError:
        sys.exit(f"giving up: {DSN}")  # the context holds the DSN too


def interrupts() -> str:
    raise KeyboardInterrupt


def generator_exits() -> str:
    raise GeneratorExit


def app_interrupt() -> str:
    raise Interrupted(DSN)


BASE_EXCEPTIONS = {
    "system_exit": (exits, "SystemExit"),
    "keyboard_interrupt": (interrupts, "KeyboardInterrupt"),
    "generator_exit": (generator_exits, "GeneratorExit"),
    "base_exception": (app_interrupt, f"{__name__}.Interrupted"),
}


@pytest.fixture
def stopping_app() -> Flask:
    """A guarded app whose views raise BaseExceptions that are not Exceptions."""
    app = Flask("stopping")
    for name, (view, _) in BASE_EXCEPTIONS.items():
        app.add_url_rule(f"/{name}", name, view)

    @app.get("/ok")
    def ok() -> str:
        return "fine"

    ProdGuard(app, env="production")
    return app


@pytest.mark.parametrize("name", ["system_exit", "keyboard_interrupt", "generator_exit"])
def test_base_exception_in_a_server_thread_is_answered_and_ends(
    stopping_app: Flask, name: str
) -> None:
    """In a server's thread: the generic 500 and the event; nothing goes on."""
    with capture_events() as events:
        response = in_thread(lambda: stopping_app.test_client().get(f"/{name}", buffered=True))
        assert (
            in_thread(lambda: stopping_app.test_client().get("/ok", buffered=True)).data
            == b"fine"
        )
    error_id = assert_generic_500(response)
    (event,) = [e for e in events if e["event"] == UNHANDLED]
    assert event["error_id"] == error_id
    assert event["exception_type"] == BASE_EXCEPTIONS[name][1]
    assert SECRET not in json.dumps(event)


@pytest.mark.parametrize(("name", "code"), [("system_exit", 1), ("keyboard_interrupt", None)])
def test_stop_in_the_main_thread_goes_on_after_the_page(
    stopping_app: Flask, name: str, code: int | None
) -> None:
    """In the main thread (where signals land): the whole page first, then the stop.

    What goes on carries nothing of the app: a new exception, a string exit
    code replaced by 1, no traceback of the view, no context shown.
    """
    with capture_events() as events:
        started, body = run_wsgi(stopping_app, f"/{name}")
        chunks = []
        with pytest.raises((SystemExit, KeyboardInterrupt)) as stop:
            for chunk in body:
                chunks.append(chunk)
    ((status, headers),) = started
    page = b"".join(chunks)
    assert status.startswith("500") and int(dict(headers)["Content-Length"]) == len(page)
    error_id = dict(headers)["X-Error-ID"]
    assert error_id.encode() in page
    assert [e["error_id"] for e in events if e["event"] == UNHANDLED] == [error_id]
    if code is not None:
        assert isinstance(stop.value, SystemExit) and stop.value.code == code
    assert SECRET not in repr(stop.value.args)
    assert stop.value.__suppress_context__ and stop.value.__cause__ is None
    tb = stop.value.__traceback__
    while tb is not None:
        assert tb.tb_frame.f_code.co_name not in ("exits", "interrupts")
        tb = tb.tb_next


def test_stop_under_gunicorn_ends_with_the_answer(stopping_app: Flask) -> None:
    """gunicorn stops its worker on its own flag: there the page is the end."""
    started, body = run_wsgi(stopping_app, "/system_exit", **{"gunicorn.socket": object()})
    page = drain(body)
    assert started[0][0].startswith("500") and started[0][1][-2][1].encode() in page


def test_generator_exit_from_a_view_ends_with_the_answer(stopping_app: Flask) -> None:
    """GeneratorExit out of a view is no stop: answered, even in the main thread."""
    started, body = run_wsgi(stopping_app, "/generator_exit")
    assert drain(body) and started[0][0].startswith("500")


def test_other_base_exception_goes_on_everywhere(stopping_app: Flask) -> None:
    """A BaseException of another kind (a greenlet kill): page, then it goes on, bare."""
    with capture_events() as events:

        def iterate() -> list[bytes]:
            started, body = run_wsgi(stopping_app, "/base_exception")
            chunks: list[bytes] = []
            try:
                for chunk in body:
                    chunks.append(chunk)
            except Interrupted as error:
                assert error.args == () and error.__traceback__ is not None
                assert error.__context__ is None and error.__cause__ is None
                return chunks
            raise AssertionError("the BaseException did not go on")

        chunks = in_thread(iterate)
    assert b"".join(chunks).startswith(b"<!doctype html>")
    (event,) = [e for e in events if e["event"] == UNHANDLED]
    assert event["exception_type"] == f"{__name__}.Interrupted"


def test_report_leaves_a_stop_unchanged() -> None:
    """report: the stop is reported and goes on as it was raised, page unchanged."""
    app = Flask("stopping_report")
    raised = SystemExit(4)

    @app.get("/")
    def view() -> str:
        raise raised

    ProdGuard(app, env="production", strictness="report")
    with capture_events() as events, pytest.raises(SystemExit) as stop:
        in_thread(lambda: app.test_client().get("/", buffered=True), stop_may_go_on=True)
    assert stop.value is raised
    assert [e["exception_type"] for e in events if e["event"] == UNHANDLED] == ["SystemExit"]


def test_stop_mid_stream_aborts_in_a_thread() -> None:
    """A SystemExit after the first chunk (in a thread): stream_aborted and an abort."""
    app = Flask("stopping_stream")

    @app.get("/")
    def view() -> Response:
        def generate() -> Iterator[bytes]:
            yield b"part"
            sys.exit(f"mid-stream {DSN}")

        return Response(generate())

    ProdGuard(app, env="production")

    def consume() -> list[bytes]:
        _, body = run_wsgi(app, "/")
        return list(body)

    with capture_events() as events, pytest.raises(StreamAborted):
        in_thread(consume)
    (event,) = [e for e in events if e["event"] == ABORTED]
    assert event["exception_type"] == "SystemExit" and SECRET not in json.dumps(event)


def test_client_going_away_is_not_reported() -> None:
    """The server closing the body early (GeneratorExit into the net) is no failure."""
    app = Flask("client_gone")
    closed = []

    @app.get("/")
    def view() -> Response:
        def generate() -> Iterator[bytes]:
            try:
                yield b"one"
                yield b"two"
            finally:
                closed.append(True)

        return Response(generate())

    ProdGuard(app, env="production")
    with capture_events() as events:
        _, body = run_wsgi(app, "/")
        assert next(body) == b"one"
        body.close()  # type: ignore[attr-defined]
    assert closed == [True]
    assert [e["event"] for e in events if e["event"].startswith("prodguard.error")] == []


def test_stop_in_close_is_reported() -> None:
    """A call_on_close function that raises SystemExit (in a thread): reported, ended."""
    app = Flask("stopping_close")

    @app.get("/")
    def view() -> Response:
        response = Response("fine")
        response.call_on_close(lambda: sys.exit(DSN))
        return response

    ProdGuard(app, env="production")

    def consume() -> bytes:
        _, body = run_wsgi(app, "/")
        data = b"".join(body)
        body.close()  # type: ignore[attr-defined]
        return data

    with capture_events() as events:
        assert in_thread(consume) == b"fine"
    (event,) = [e for e in events if e["event"] == UNHANDLED]
    assert event["stage"] == "close" and event["exception_type"] == "SystemExit"
