"""Redaction and sanitising of event fields."""

from __future__ import annotations

from typing import Any

import pytest
from flask_prodguard import ConfigurationError
from flask_prodguard import ProdGuard
from flask_prodguard.errors import traceback_frames
from flask_prodguard.processors import REDACTED
from flask_prodguard.processors import Redactor
from flask_prodguard.processors import sanitise_text
from flask_prodguard.testing import capture_events

from conftest import build_app


@pytest.mark.parametrize(
    "key",
    [
        "authorization",
        "Proxy-Authorization",
        "COOKIE",
        "set_cookie",
        "password",
        "passwd",
        "db_password",
        "client_secret",
        "X-Api-Key",
        "apiKey",
        "api key",
        "access_token",
        "sessionid",
        "csrf_token",
        "X-CSRFToken",
        "private_key",
        "aws_access_key_id",
    ],
)
def test_secret_keys_redacted_whatever_case_and_separator(key: str) -> None:
    """Keys are compared case- and separator-insensitively, nested or not."""
    redactor = Redactor()
    out = redactor(None, "info", {"outer": {"inner": [{key: "hunter2"}]}, key: "hunter2"})
    assert out[key] == REDACTED
    assert out["outer"]["inner"][0][key] == REDACTED


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("/login?user=bob&password=hunter2&next=/", "hunter2"),
        ("a=1&token=abc123def&b=2", "abc123def"),
        ("?api_key=k3y-v4lue", "k3y-v4lue"),
        ("connect postgres://app:hunter2@db.internal:5432/prod failed", "hunter2"),
        ("https://user:pa55@example.com/x", "pa55"),
        ("login failed: password=hunter2", "hunter2"),
        ("Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("sessionid=abcdef0123456789; theme=dark", "abcdef0123456789"),
        ("bad payload {'password': 'hunter2'}", "hunter2"),
        ('{"api_key": "hunter2", "user": "bob"}', "hunter2"),
        ("passphrase=hunter2", "hunter2"),
        ("private_key=hunter2&x=1", "hunter2"),
        ("access_key=hunter2", "hunter2"),
        ("cookie=hunter2", "hunter2"),
        ("_xsrf=hunter2", "hunter2"),
        ("__debugger__=yes&user%5Bpassword%5D=hunter2", "hunter2"),
    ],
)
def test_secret_values_redacted_by_pattern(text: str, secret: str) -> None:
    """Bearer tokens, secret query parameters and URL credentials are replaced."""
    redacted = Redactor().redact_text(text)
    assert secret not in redacted
    assert REDACTED in redacted


def test_ordinary_values_kept() -> None:
    """Values with nothing secret in them pass unchanged."""
    redactor = Redactor()
    for text in ("/items?page=2&sort=name", "GET /", "https://example.com/a?b=c", "hello"):
        assert redactor.redact_text(text) == text


def test_extra_keys_and_patterns_from_config() -> None:
    """PRODGUARD_REDACT_KEYS and PRODGUARD_REDACT_PATTERNS extend the built-ins."""
    app = build_app(
        "redact-config",
        PRODGUARD_ENV="production",
        PRODGUARD_REDACT_KEYS=["user_agent"],
        PRODGUARD_REDACT_PATTERNS=[r"\b\d{4}-\d{4}-\d{4}-\d{4}\b"],
    )
    ProdGuard(app)
    with capture_events() as events:
        app.test_client().get(
            "/?__debugger__=yes&card=4111-1111-1111-1111",
            headers={"User-Agent": "secret-agent"},
        )
    probe = events[0]
    assert probe["user_agent"] == REDACTED
    assert "4111" not in probe["query"] and REDACTED in probe["query"]


def test_bad_redaction_pattern_is_a_configuration_error() -> None:
    """An invalid regular expression is named with the key and the regex error."""
    app = build_app(
        "redact-bad", PRODGUARD_ENV="production", PRODGUARD_REDACT_PATTERNS=["(unclosed"]
    )
    with pytest.raises(ConfigurationError, match="PRODGUARD_REDACT_PATTERNS") as info:
        ProdGuard(app)
    assert "(unclosed" in str(info.value)


def test_probe_query_secrets_never_logged() -> None:
    """A probe carrying a token in its query is logged with the token replaced."""
    app = build_app("redact-probe", PRODGUARD_ENV="production")
    ProdGuard(app)
    with capture_events() as events:
        app.test_client().get("/?__debugger__=yes&token=s3cr3t-t0ken&password=hunter2")
    assert "s3cr3t-t0ken" not in str(events) and "hunter2" not in str(events)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a\r\nb", "a\\x0d\\x0ab"),
        ("\x1b[31m", "\\x1b[31m"),
        ("nul\x00", "nul\\x00"),
        ("del\x7f", "del\\x7f"),
        ("c1\x85", "c1\\x85"),
        ("ls\u2028", "ls\\u2028"),
    ],
)
def test_control_characters_escaped(raw: str, escaped: str) -> None:
    """CR, LF, NUL, ESC, DEL, C1 and Unicode line separators are escaped."""
    assert sanitise_text(raw) == escaped


def test_traceback_frames_have_no_locals() -> None:
    """Structured tracebacks hold file, line and function, never local variables."""

    def fail(password: str) -> None:
        secret_local = password * 2
        raise ValueError(f"bad {len(secret_local)}")

    try:
        try:
            fail("hunter2")
        except ValueError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as error:
        chain = traceback_frames(error)
    assert [c["exception_type"] for c in chain] == ["RuntimeError", "ValueError"]
    frame: dict[str, Any] = chain[1]["frames"][-1]
    assert set(frame) == {"file", "line", "function"} and frame["function"] == "fail"
    assert "hunter2" not in str(chain)


def test_unhandled_exception_event_redacts_message() -> None:
    """An exception message with credentials is redacted in the error event."""
    app = build_app("redact-error", PRODGUARD_ENV="production")

    @app.get("/db")
    def db() -> str:
        raise ConnectionError("cannot reach postgres://app:hunter2@db/prod\r\nforged")

    ProdGuard(app)
    with capture_events() as events:
        response = app.test_client().get("/db")
    assert response.status_code == 500
    (error,) = [e for e in events if e["event"] == "prodguard.error.unhandled"]
    assert "hunter2" not in str(error)
    assert "\r" not in error["exception_message"] and "\\x0d\\x0a" in error["exception_message"]
    assert error["exception_type"] == "ConnectionError"
    assert len(error["error_id"]) == 16


def test_long_values_capped_before_patterns_run() -> None:
    """Redaction cuts a value to the cap first, so no pattern sees unbounded input."""
    redactor = Redactor()
    text = redactor.redact_text("a." * 50_000 + "password=hunter2")
    assert len(text) < 2100 and text.endswith("more characters]")
    assert redactor.redact_text("x://" + "a" * 3000 + ":pw@host").count("pw@") == 0


def test_traceback_frames_kept_verbatim_but_escaped() -> None:
    """Frames come from code: their file names are not searched for secrets."""
    redactor = Redactor()
    frames = [{"file": "/srv/app/auth/token_store.py", "line": 3, "function": "get_token"}]
    out = redactor(None, "error", {"traceback": [{"frames": frames}]})
    assert out["traceback"][0]["frames"] == frames


def test_check_hints_are_not_redacted() -> None:
    """A check's fixed hint reaches the log intact, though it names a session setting."""
    from flask import Flask

    app = Flask("hints")
    app.config.update(SECRET_KEY="x7Lq" * 16, SESSION_COOKIE_SECURE=False)
    with capture_events() as events:
        ProdGuard(app, env="production", strictness="enforce")
    hints = {e["check_id"]: e["hint"] for e in events if e["event"] == "prodguard.check.failed"}
    assert hints["PG305"] == "Set SESSION_COOKIE_SECURE = True (serve over HTTPS)."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("database password hunter2 rejected", "database password [REDACTED] rejected"),
        ("the secret is s3cr3t!", "the secret is [REDACTED]"),
        ("PASSWORD   longvalue12", "PASSWORD   [REDACTED]"),
        # Words about a password, not the password: kept, so the message stays useful.
        ("password authentication failed for user bob", None),
        ("Secret key must be set", None),
        ("bypass mode on", None),
    ],
)
def test_free_text_passwords_are_redacted(text: str, expected: str | None) -> None:
    """Exception messages that put a password after the word are redacted; prose is not."""
    assert Redactor().redact_text(text) == (text if expected is None else expected)


def test_extra_redact_keys_cover_query_parameters() -> None:
    """PRODGUARD_REDACT_KEYS words also redact ?name=value in a probe's query."""
    from flask import Flask

    app = Flask("extra-keys")
    ProdGuard(app, env="production", redact_keys=["ssn"])
    with capture_events() as events:
        app.test_client().get("/console?ssn=123-45-6789&lesson=3")
    (probe,) = [e for e in events if e["event"] == "prodguard.debugger.probe"]
    assert probe["query"] == "ssn=[REDACTED]&lesson=3"
