"""Red-team reproducers for the issue-14 hardening: error responses and events.

Each test here is a hole found by attacking guarded apps in process
(``enforce``, the production default, and ``strict``). Closed holes are
ordinary tests. A hole still open is kept as a strict ``xfail``: it starts
passing (so the suite fails on the xfail) when the hole is closed at its
cause; then drop the marker.

The marker text below is planted in the exception (or the secret) and must
not reach the client (a, response tests) or an event (c, event tests).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask import abort
from flask import jsonify
from flask import render_template_string
from flask import request
from flask_prodguard import ProdGuard
from flask_prodguard.events.emitter import summarise

#: A secret no page or event may carry.
MARKER = "hunter2xyz"
#: A message as a database driver writes it, carrying the marker.
DSN_MESSAGE = f"could not connect to postgresql://app:{MARKER}@db.internal:5432/prod"


@pytest.fixture(params=["enforce", "strict"])
def guarded(
    safe_settings: dict[str, Any], request: pytest.FixtureRequest
) -> Callable[..., Flask]:
    """Return ``guarded(setup, **settings)``: an app built by ``setup``, guarded."""

    def factory(setup: Callable[[Flask], None], **settings: Any) -> Flask:
        app = Flask("redteam")
        app.config.update(safe_settings)
        setup(app)
        ProdGuard(app, env="production", strictness=request.param, **settings)
        return app

    return factory


def _leaks(response: Any) -> bool:
    """Whether the marker reaches the client: status line, headers or body."""
    seen = [response.status, response.get_data(as_text=True)]
    seen += [f"{name}: {value}" for name, value in response.headers.items()]
    return any(MARKER in text for text in seen)


# -- (a) a 5xx response carries the handled exception -----------------------------------


def test_an_emoji_from_the_request_hides_the_message_from_the_leak_check(
    guarded: Callable[..., Flask],
) -> None:
    """An attacker's emoji early in a message lets jsonify(error=str(e)) pass the leak check."""

    def setup(app: Flask) -> None:
        @app.errorhandler(500)
        def failed(error: Any) -> Any:
            return jsonify(error=str(error.original_exception)), 500

        @app.get("/user")
        def user() -> str:
            name = request.args["name"]
            raise LookupError(
                f"user {name!r} not in ldap://svc:{MARKER}@ldap.internal/ou=people"
            )

    app = guarded(setup)
    response = app.test_client().get("/user", query_string={"name": "\U0001f600"})
    assert response.status_code == 500
    assert not _leaks(response)


def test_a_lone_surrogate_from_a_json_body_hides_the_message_from_the_leak_check(
    guarded: Callable[..., Flask],
) -> None:
    """A JSON body's "\\ud800" in a message makes jsonify(error=str(e)) pass the leak check."""

    def setup(app: Flask) -> None:
        @app.errorhandler(500)
        def failed(error: Any) -> Any:
            return jsonify(error=str(error.original_exception)), 500

        @app.post("/user")
        def user() -> str:
            name = request.get_json()["name"]
            raise LookupError(f"user {name} not in ldap://svc:{MARKER}@ldap.internal/ou=people")

    app = guarded(setup)
    response = app.test_client().post(
        "/user", data='{"name": "\\ud800"}', content_type="application/json"
    )
    assert response.status_code == 500
    assert not _leaks(response)


def test_the_message_in_a_header_of_an_error_response_is_a_leak(
    guarded: Callable[..., Flask],
) -> None:
    """An errorhandler(Exception) putting str(e) in an X-Error header leaks it."""

    def setup(app: Flask) -> None:
        @app.errorhandler(Exception)
        def failed(error: Exception) -> Any:
            return "Internal error", 500, {"X-Error": str(error)}

        @app.get("/x")
        def view() -> str:
            raise RuntimeError(DSN_MESSAGE)

    response = guarded(setup).test_client().get("/x")
    assert response.status_code == 500
    assert not _leaks(response)


def test_the_message_in_the_reason_phrase_is_a_leak(guarded: Callable[..., Flask]) -> None:
    """A handler returning (text, f"500 {e}") sends the message in the status line."""

    def setup(app: Flask) -> None:
        @app.errorhandler(Exception)
        def failed(error: Exception) -> Any:
            return "Internal error", f"500 {error}"

        @app.get("/x")
        def view() -> str:
            raise RuntimeError(DSN_MESSAGE)

    response = guarded(setup).test_client().get("/x")
    assert response.status_code == 500
    assert not _leaks(response)


def test_a_view_that_returns_str_e_with_500_itself_leaks(guarded: Callable[..., Flask]) -> None:
    """The commonest leak: try/except in the view, then jsonify(error=str(e)), 500."""

    def setup(app: Flask) -> None:
        @app.get("/x")
        def view() -> Any:
            try:
                raise ConnectionError(DSN_MESSAGE)
            except ConnectionError as error:
                return jsonify(error=str(error)), 500

    response = guarded(setup).test_client().get("/x")
    assert response.status_code == 500
    assert not _leaks(response)


def test_a_sub_exception_of_an_exception_group_is_a_leak(guarded: Callable[..., Flask]) -> None:
    """A handler showing the first exception of an ExceptionGroup leaks its message."""

    def setup(app: Flask) -> None:
        @app.errorhandler(Exception)
        def failed(error: Exception) -> Any:
            inner = error.exceptions[0] if isinstance(error, ExceptionGroup) else error
            return jsonify(error=str(inner)), 500

        @app.get("/x")
        def view() -> str:
            raise ExceptionGroup(
                "unhandled errors in a TaskGroup", [ConnectionError(DSN_MESSAGE)]
            )

    response = guarded(setup).test_client().get("/x")
    assert response.status_code == 500
    assert not _leaks(response)


def test_a_passthrough_description_carrying_a_message_is_a_leak(
    guarded: Callable[..., Flask],
) -> None:
    """abort(500, description=err) after the except block puts it on the guard's page."""

    def setup(app: Flask) -> None:
        @app.get("/x")
        def view() -> str:
            failure = None
            try:
                raise ConnectionError(DSN_MESSAGE)
            except ConnectionError as error:
                failure = str(error)
            abort(500, description=failure)

    response = guarded(setup, http_descriptions="passthrough").test_client().get("/x")
    assert response.status_code == 500
    assert not _leaks(response)


def test_a_message_wrapped_across_lines_is_a_leak(guarded: Callable[..., Flask]) -> None:
    """A handler that wraps the message to 30 columns in a <pre> leaks it unseen."""

    def setup(app: Flask) -> None:
        @app.errorhandler(Exception)
        def failed(error: Exception) -> Any:
            return "<pre>" + textwrap.fill(str(error), 30) + "</pre>", 500

        @app.get("/x")
        def view() -> str:
            raise RuntimeError(f"connection refused; dsn={DSN_MESSAGE.split()[-1]}")

    response = guarded(setup).test_client().get("/x")
    assert response.status_code == 500
    assert not _leaks(response)


def test_a_message_truncated_below_the_needle_length_is_a_leak(
    guarded: Callable[..., Flask],
) -> None:
    """{{ error|truncate(40) }} shows the DSN with its password, unseen by the check."""

    def setup(app: Flask) -> None:
        @app.errorhandler(Exception)
        def failed(error: Exception) -> Any:
            page = "<p>Error: {{ error|truncate(40) }}</p>"
            return render_template_string(page, error=str(error)), 500

        @app.get("/x")
        def view() -> str:
            raise RuntimeError(f"postgresql://app:{MARKER}@db/prod is unreachable right now")

    response = guarded(setup).test_client().get("/x")
    assert response.status_code == 500
    assert not _leaks(response)


# -- (c) an unredacted secret of a documented form in an event --------------------------


@pytest.mark.parametrize(
    "message",
    [
        # A generated password with "/" (base64) in an unencoded DSN: SQLAlchemy's
        # make_url and libpq accept it; processors._URL_CREDENTIALS stops at "/".
        f"could not connect to postgresql://app:ab/{MARKER}+q=@db.internal/prod",
        # A password with "@": the pattern stops at the first "@", the rest is shown.
        f"could not connect to postgresql://app:p@{MARKER}@db.internal/prod",
    ],
    ids=["slash-in-password", "at-in-password"],
)
def test_url_credentials_with_slash_or_at_are_redacted(
    guarded: Callable[..., Flask], events: list[dict[str, Any]], message: str
) -> None:
    """scheme://user:password@host is redacted whatever the password holds but whitespace."""

    def setup(app: Flask) -> None:
        @app.get("/x")
        def view() -> str:
            raise ConnectionError(message)

    response = guarded(setup).test_client().get("/x")
    assert response.status_code == 500
    unhandled = [e for e in events if e["event"] == "prodguard.error.unhandled"]
    assert unhandled
    assert MARKER not in json.dumps(events)
    assert all(MARKER not in summarise(event) for event in events)
