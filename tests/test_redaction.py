"""Redaction and sanitising of event fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask_prodguard import ConfigurationError
from flask_prodguard import ProdGuard
from flask_prodguard.events.failures import traceback_frames
from flask_prodguard.events.processors import REDACTED
from flask_prodguard.events.processors import Redactor
from flask_prodguard.events.processors import sanitise_text
from flask_prodguard.testing import capture_events
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st


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


def test_extra_keys_and_patterns_from_config(build_app: Callable[..., Flask]) -> None:
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


def test_bad_redaction_pattern_is_a_configuration_error(
    build_app: Callable[..., Flask],
) -> None:
    """An invalid regular expression is named with the key and the regex error."""
    app = build_app(
        "redact-bad", PRODGUARD_ENV="production", PRODGUARD_REDACT_PATTERNS=["(unclosed"]
    )
    with pytest.raises(ConfigurationError, match="PRODGUARD_REDACT_PATTERNS") as info:
        ProdGuard(app)
    assert "(unclosed" in str(info.value)


def test_probe_query_secrets_never_logged(build_app: Callable[..., Flask]) -> None:
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


def test_unhandled_exception_event_redacts_message(build_app: Callable[..., Flask]) -> None:
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


# -- issue 14, point 6: quoted, spaced and percent-encoded forms ----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "DBConfig(password='hunter2')",
        'connect(host="db", password="hunter2", port=5432)',
        'password = "hunter2"',
        "password = 'hunter2'",
        'token: "hunter2"',
        "api_key='hunter2'",
        "secret_key='hunter2'",
        "{'passwd': 'hunter2'}",
        "{'passwd': 'correct horse hunter2'}",
        '{"password": "hunt\\"er2 hunter2"}',
        "password:\u00a0hunter2",
        "password\u2003=\u3000'hunter2'",
        "the password was 'hunter2'",
        "DBConfig(password='hunter2",  # cut before its closing quote
        "?pass%77ord=hunter2&next=/",
        "?api%5Fkey=hunter2",
        "?%70assword=hunter2",
        "?API%5fKEY=hunter2",
        "?user%5Bpass%77ord%5D=hunter2",
        "x=1&p%61ssword=hunter2&y=2",
    ],
)
def test_quoted_spaced_and_encoded_forms_are_redacted(text: str) -> None:
    """Each form of issue 14's point 6 loses its secret and keeps a [REDACTED] marker."""
    redacted = Redactor().clean_text(text)
    assert "hunter2" not in redacted and REDACTED in redacted, redacted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DBConfig(password='hunter2')", "DBConfig(password='[REDACTED]')"),
        ('connect(password="x", user="bob")', 'connect(password="[REDACTED]", user="bob")'),
        ("a=1&pass%77ord=hunter2&b=2", "a=1&pass%77ord=[REDACTED]&b=2"),
        ("{'passwd': 'a b', 'user': 'bob'}", "{'passwd': '[REDACTED]', 'user': 'bob'}"),
    ],
)
def test_redaction_keeps_the_text_around_the_secret(text: str, expected: str) -> None:
    """Only the value goes: the name, its quotes and the next parameters stay readable."""
    assert Redactor().clean_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["page=2&sort=%41", "/caf%C3%A9?q=%20x", "%41%42=%43", "user='bob'", "x = 'y'"],
)
def test_percent_escapes_without_a_secret_name_are_kept(text: str) -> None:
    """A decoded name that is not secret keeps its value."""
    assert Redactor().clean_text(text) == text


def test_encoded_extra_key_is_redacted() -> None:
    """PRODGUARD_REDACT_KEYS words are found in percent-encoded names too."""
    assert Redactor(["ssn"]).clean_text("?s%73n=123-45-6789") == "?s%73n=[REDACTED]"


def test_encoded_names_redacted_in_a_probe_query(build_app: Callable[..., Flask]) -> None:
    """A probe whose query names its secrets with percent escapes logs them redacted."""
    app = build_app("redact-encoded", PRODGUARD_ENV="production")
    ProdGuard(app)
    with capture_events() as events:
        app.test_client().get("/?__debugger__=yes&pass%77ord=hunter2&api%5Fkey=k3y-v4lue")
    (probe,) = [e for e in events if e["event"] == "prodguard.debugger.probe"]
    assert probe["query"] == "__debugger__=yes&pass%77ord=[REDACTED]&api%5Fkey=[REDACTED]"


def test_quoted_secrets_redacted_in_an_error_event(build_app: Callable[..., Flask]) -> None:
    """An exception message with a repr'd config object loses its password."""
    app = build_app("redact-repr", PRODGUARD_ENV="production")

    @app.get("/db")
    def db() -> str:
        raise ConnectionError("cannot connect with DBConfig(user='app', password='hunter2')")

    ProdGuard(app)
    with capture_events() as events:
        app.test_client().get("/db")
    (error,) = [e for e in events if e["event"] == "prodguard.error.unhandled"]
    assert "hunter2" not in str(error)
    assert "DBConfig(user='app', password='[REDACTED]')" in error["exception_message"]


_NAMES = ["password", "passwd", "token", "api_key", "secret_key", "apiKey", "client_secret"]
_SPACES = ["", " ", "\u00a0", "\u2003", "\u3000", "\t"]


def _percent_encoded(name: str, positions: list[bool]) -> str:
    """``name`` with the characters at the true positions percent-encoded."""
    return (
        "".join(
            f"%{ord(ch):02X}" if encode else ch
            for ch, encode in zip(name, positions, strict=False)
        )
        + name[len(positions) :]
    )


@st.composite
def _planted(draw: st.DrawFn) -> tuple[str, str]:
    """A text with a secret in one of the forms of point 6, and the secret."""
    name = draw(st.sampled_from(_NAMES))
    secret = "S3cr" + draw(st.text(alphabet="abcXYZ0123456789-_.!@$~", min_size=4, max_size=16))
    before, after = draw(st.sampled_from(_SPACES)), draw(st.sampled_from(_SPACES))
    quote = draw(st.sampled_from(["'", '"']))
    inner = secret + draw(st.sampled_from(["", " and more", "\\" + quote + "x"]))
    encoded = _percent_encoded(name, draw(st.lists(st.booleans(), max_size=len(name))))
    form = draw(
        st.sampled_from(
            [
                f"Cls({name}{before}={after}{quote}{inner}{quote})",
                f"{name}{before}={after}{quote}{inner}{quote}",
                f"{name}{before}:{after}{quote}{inner}{quote}",
                f"{{{quote}{name}{quote}{before}:{after}{quote}{inner}{quote}}}",
                f"{name}{before}={after}{quote}{inner}",  # unterminated
                f"?a=1&{encoded}={secret}&b=2",
                f"{encoded}={secret}",
            ]
        )
    )
    prefix = draw(st.sampled_from(["", "error: ", "x ", "(", "{", "&", "call "]))
    return prefix + form, secret


@settings(max_examples=300, deadline=None)
@given(planted=_planted())
def test_planted_secret_never_survives_redaction(planted: tuple[str, str]) -> None:
    """Whatever the form, spacing, quoting and encoding, the planted secret is gone."""
    text, secret = planted
    assert secret not in Redactor().clean_text(text), text


# -- RE2 patterns from the configuration -----------------------------------------------------


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?<=x)y", r"x(?!y)", r"\d{4}\Z"])
def test_python_only_pattern_is_a_configuration_error(
    build_app: Callable[..., Flask], pattern: str
) -> None:
    """A pattern RE2 cannot run names the key, the pattern and the RE2 requirement."""
    app = build_app(
        "redact-re2", PRODGUARD_ENV="production", PRODGUARD_REDACT_PATTERNS=[pattern]
    )
    with pytest.raises(ConfigurationError) as info:
        ProdGuard(app)
    message = str(info.value)
    assert info.value.key == "PRODGUARD_REDACT_PATTERNS"
    assert repr(pattern) in message and "RE2 syntax" in message
    assert "Python's re accepts it" in message


def test_extra_patterns_use_re2_syntax() -> None:
    """RE2 syntax (\\z, \\p{...}) works in extra patterns."""
    # tests/test_redos.py runs one that backtracks exponentially on Python's re.
    redactor = Redactor(extra_patterns=[r"acct-\d+\z", r"\p{Greek}+"])
    assert redactor.clean_text("id acct-12345") == "id " + REDACTED
    assert redactor.clean_text("x \u03b1\u03b2\u03b3 y") == f"x {REDACTED} y"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # gunicorn's access log escapes quotes in its atoms.
        ('/nope/password = \\"hunter2\\"', '/nope/password = \\"[REDACTED]\\"'),
        ('token: \\"hunter2\\"', 'token: \\"[REDACTED]\\"'),
        # JSON inside a message.
        (
            '{\\"api_key\\": \\"hun ter2\\", \\"a\\": 1}',
            '{\\"api_key\\": \\"[REDACTED]\\", \\"a\\": 1}',
        ),
        # Separators and quotes percent-encoded in a query value.
        ("q=password%3D%22hunter2%22&b=1", "q=password%3D[REDACTED]&b=1"),
        ("q=token%3A+%27hunter2%27", "q=token%3A+[REDACTED]"),
        ("/nope/password%20=%20%22hunter2%22", "/nope/password%20=%20[REDACTED]"),
    ],
)
def test_escaped_quotes_and_encoded_separators_are_redacted(text: str, expected: str) -> None:
    """Backslash-escaped quotes and percent-encoded separators hide no secret."""
    assert Redactor().clean_text(text) == expected


# -- every pattern on the same text; secrets across the cap ---------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("token password: hunter2", "token [REDACTED]: [REDACTED]"),
        (
            '"password": " x\n; connect(password="hunter2")',
            '"password": "[REDACTED]"[REDACTED]")',
        ),
        ('password=token:"hunter 2"', 'password=[REDACTED]"[REDACTED]"'),
        ("Bearer token abcd1234", "Bearer [REDACTED] [REDACTED]"),
        ("Authorization: Bearer abc123", "Authorization: [REDACTED] [REDACTED]"),
    ],
)
def test_one_pattern_never_hides_a_secret_from_another(text: str, expected: str) -> None:
    """A secret's name taken as an earlier pair's value or credential is still found."""
    assert Redactor().clean_text(text) == expected


def test_extra_pattern_reads_the_original_text() -> None:
    """An extra pattern finds its secret even where a built-in one redacts around it."""
    redactor = Redactor(extra_patterns=[r"card=\d{4}"])
    assert "4111" not in redactor.clean_text("password=x,card=4111")


def test_secret_straddling_the_cap_is_redacted() -> None:
    """A URL whose ``@`` falls past the cap still loses its password."""
    text = "x" * 2023 + " postgresql://app:hunter2@db.internal/prod"
    cleaned = Redactor().clean_text(text)
    assert "hunter2" not in cleaned and "hunt" not in cleaned[2000:]
    assert cleaned.endswith("more characters]") and len(cleaned) < 2100


_ATTACKER_ALPHABET = st.sampled_from(
    [
        "'",
        '"',
        "\\",
        " ",
        ":",
        "=",
        "\n",
        "password",
        "token",
        "secret",
        "bearer",
        "api_key",
        "x",
    ]
)
_FORMS = [
    "password: {}",
    "password={}",
    '"password": "{}"',
    "api_key='{}'",
    "Bearer {}",
    "scheme://u:{}@host",
]


@settings(max_examples=500, deadline=None)
@given(
    prefix=st.lists(_ATTACKER_ALPHABET, max_size=12).map("".join),
    form=st.sampled_from(_FORMS),
    secret=st.text(alphabet="abcXYZ0123456789", min_size=6, max_size=12).map(
        lambda text: "Q9" + text
    ),
)
def test_attacker_text_before_a_secret_never_reveals_it(
    prefix: str, form: str, secret: str
) -> None:
    """No text an attacker puts before a planted secret, in any known form, makes it show."""
    text = prefix + form.format(secret)
    assert secret not in Redactor().clean_text(text), text
