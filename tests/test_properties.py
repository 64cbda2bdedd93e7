"""Property tests: random environs, strings, settings and view errors never break the guard."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.config import KEYS
from flask_prodguard.config import load_settings
from flask_prodguard.events.processors import MAX_STRING_LENGTH
from flask_prodguard.events.processors import Redactor
from flask_prodguard.events.processors import sanitise_text
from flask_prodguard.exceptions import ConfigurationError
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_STATUS_LINE = re.compile(r"[1-5][0-9]{2} [^\r\n]*")
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LEAKS = (b"Traceback", b"hunter2", b".py", b"RuntimeError")

# Text as a WSGI server passes it: every code point below 256 (bytes as latin-1).
_latin1 = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=60)
_paths = st.one_of(
    _latin1.map(lambda text: "/" + text),
    st.sampled_from(["/", "/boom", "/console", "/%63onsole", "/x/console", "/boom/"]),
    _latin1,
)
_queries = st.one_of(
    _latin1,
    st.sampled_from(["__debugger__=yes&cmd=resource&f=style.css", "%5F%5Fdebugger%5F%5F=1"]),
)
_header_names = st.from_regex(r"\AHTTP_[A-Z][A-Z0-9_]{0,20}\Z")
_methods = st.one_of(
    st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"]),
    st.from_regex(r"\A[A-Za-z!#$%&'*+.^_`|~0-9-]{1,12}\Z"),
)


@pytest.fixture(scope="module")
def guarded(build_app: Callable[..., Flask]) -> Flask:
    """One guarded production app, shared by the WSGI properties."""
    app = build_app(name="properties", PRODGUARD_ENV="production")
    ProdGuard(app)
    return app


def _environ(path: str, query: str, method: str, headers: dict[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": __import__("io").BytesIO(b""),
        "wsgi.errors": __import__("io").StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(headers)
    return environ


def _call(app: Flask, environ: dict[str, Any]) -> tuple[list[tuple[str, list[Any]]], bytes]:
    calls: list[tuple[str, list[Any]]] = []

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        calls.append((status, list(headers)))
        return lambda data: None

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return calls, data


@PROPERTY_SETTINGS
@given(
    path=_paths,
    query=_queries,
    method=_methods,
    headers=st.dictionaries(_header_names, _latin1, max_size=5),
)
def test_random_environs_get_one_complete_response(
    guarded: Flask, path: str, query: str, method: str, headers: dict[str, str]
) -> None:
    """Any environ gets exactly one valid status line and a body that leaks nothing."""
    calls, data = _call(guarded, _environ(path, query, method, headers))
    assert len(calls) == 1, calls
    status, response_headers = calls[0]
    assert _STATUS_LINE.fullmatch(status), status
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in response_headers)
    for leak in _LEAKS:
        assert leak not in data, (leak, data[:300])


_any_text = st.text(max_size=3000)


@PROPERTY_SETTINGS
@given(text=_any_text, limit=st.integers(min_value=1, max_value=4096))
def test_sanitise_text_escapes_and_bounds(text: str, limit: int) -> None:
    """sanitise_text leaves no control or separator character and stays bounded."""
    result = sanitise_text(text, limit)
    assert _FORBIDDEN.search(result) is None, result
    assert len(result) <= 10 * limit + 40


@PROPERTY_SETTINGS
@given(
    text=st.one_of(
        _any_text, st.text(alphabet="pwd=token bearer\x00\u2028&:@/ab", max_size=3000)
    )
)
def test_redactor_clean_text_escapes_and_bounds(text: str) -> None:
    """Redactor.clean_text leaves no control or separator character and stays bounded."""
    result = Redactor().clean_text(text)
    assert _FORBIDDEN.search(result) is None, result
    assert len(result) <= 20 * (MAX_STRING_LENGTH + 40)


_config_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.lists(st.text(max_size=10), max_size=4),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.binary(max_size=10),
    st.tuples(st.integers()),
    st.builds(object),
)


@PROPERTY_SETTINGS
@given(key=st.sampled_from(sorted(KEYS)), value=_config_values)
def test_load_settings_accepts_or_names_the_key(key: str, value: Any) -> None:
    """Any value of one key gives settings or a ConfigurationError naming that key."""
    try:
        result = load_settings({key: value}, {}, {})
    except ConfigurationError as error:
        assert key in str(error), str(error)
    else:
        # Accepted: a value given was read from app.config, not dropped for a default.
        assert (result.sources[key] == "app.config") is (value is not None), result.sources


_exception_types = st.sampled_from(
    [
        RuntimeError,
        ValueError,
        KeyError,
        TypeError,
        OSError,
        ZeroDivisionError,
        LookupError,
        AttributeError,
        UnicodeError,
        type("PlantedError", (Exception,), {}),
    ]
)
_messages = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=12, max_size=80
).filter(lambda m: m.strip() == m and len(set(m)) > 6)


@pytest.fixture(scope="module")
def failing_app(build_app: Callable[..., Flask]) -> Flask:
    """A guarded production app whose view raises whatever the test planted."""
    app = build_app(name="properties_failing", PRODGUARD_ENV="production")
    app.config["PLANTED"] = None

    @app.get("/planted")
    def planted() -> str:
        raise app.config["PLANTED"]

    ProdGuard(app)
    return app


@PROPERTY_SETTINGS
@given(kind=_exception_types, message=_messages)
def test_view_exceptions_become_generic_500(
    failing_app: Flask, kind: type[Exception], message: str
) -> None:
    """A view raising any exception gives a generic 500 with an error id, no message."""
    failing_app.config["PLANTED"] = kind(message)
    response = failing_app.test_client().get("/planted")
    assert response.status_code == 500
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers.get("X-Error-ID", ""))
    body = response.get_data(as_text=True)
    # The page's own text is the same for every error: a generated message that
    # happens to be part of it ("quote this r...") is no leak.
    failing_app.config["PLANTED"] = RuntimeError("-")
    page = failing_app.test_client().get("/planted").get_data(as_text=True)
    assert message not in body or message in page
    assert kind.__name__ not in body or kind.__name__ in page
