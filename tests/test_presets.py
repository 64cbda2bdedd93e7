"""Every output preset writes hostile requests as safe, redacted JSON lines.

For each ``PRODGUARD_LOG_FORMAT`` the guard writes to a file destination while
the test client sends what an attacker would: CR, LF and ANSI escapes in the
path, a header and an exception message, 10 kB values, invalid UTF-8, and
secrets in the query string and in exception messages. The file is checked
as a log shipper would read it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_prodguard import ConfigurationError
from flask_prodguard import ProdGuard
from flask_prodguard.events.processors import MAX_STRING_LENGTH
from flask_prodguard.testing import capture_events
from werkzeug.test import Client

PRESETS = ("json", "ecs", "gcp", "datadog", "otel")
SECRETS = ("hunter2", "s3cr3t", "abcdefghijklmnop")
HUGE = 10_000
#: Longest a capped string can be: the cap and its "...[N more characters]" mark.
LONGEST_STRING = MAX_STRING_LENGTH + len(f"...[{2 * HUGE} more characters]")

CRLF_PATH = "/%0d%0aforged%1b[31m?__debugger__=yes"
HOSTILE_AGENT = 'x\r\n{"event": "forged"}\x1b[2J'
BAD_MESSAGE = "bad\r\nline\x1b[31m password=hunter2 Bearer abcdefghijklmnop"
DB_MESSAGE = "cannot reach postgres://user:hunter2@db/x"
#: Invalid UTF-8, then U+2028 and U+0085 (NEL), as WSGI gives bytes: latin-1 text.
BYTES_PATH = "/\xff\xfe" + "\u2028\u0085".encode().decode("latin-1")
SECRET_QUERY = "/?__debugger__=yes&token=s3cr3t&password=hunter2"

PROBE = "prodguard.debugger.probe"
ERROR = "prodguard.error.unhandled"
POSTURE = "prodguard.startup.posture"
#: What the requests below produce, after the start-up posture.
EXPECTED_EVENTS = [POSTURE, PROBE, PROBE, ERROR, ERROR, PROBE, PROBE, PROBE]
EXPECTED_STATUSES = [404, 404, 500, 500, 404, 404, 404]

#: Where each preset puts a field, as a path of keys (None: not rendered).
WHERE: dict[str, dict[str, tuple[str, ...] | None]] = {
    "json": {
        "event": ("event",),
        "level": ("level",),
        "path": ("path",),
        "query": ("query",),
        "user_agent": ("user_agent",),
        "exception_message": ("exception_message",),
    },
    "ecs": {
        "event": ("event", "action"),
        "level": ("log.level",),
        "path": ("url", "path"),
        "query": ("url", "query"),
        "user_agent": ("user_agent", "original"),
        "exception_message": ("prodguard", "exception_message"),
    },
    "gcp": {
        "event": ("event",),
        "level": ("severity",),
        "path": ("httpRequest", "requestUrl"),
        # Google's httpRequest has no query field; the query is only in the message.
        "query": ("query",),
        "user_agent": ("httpRequest", "userAgent"),
        "exception_message": ("exception_message",),
    },
    "datadog": {
        "event": ("evt", "name"),
        "level": ("status",),
        "path": ("http", "url_details", "path"),
        "query": ("http", "url_details", "queryString"),
        "user_agent": ("http", "useragent"),
        "exception_message": ("exception_message",),
    },
    "otel": {
        "event": ("EventName",),
        "level": ("SeverityText",),
        "path": ("Attributes", "url.path"),
        "query": ("Attributes", "url.query"),
        "user_agent": ("Attributes", "user_agent.original"),
        "exception_message": ("Attributes", "prodguard.exception_message"),
    },
}
UPPER_CASE_LEVELS = {"gcp", "otel"}

_app_numbers = itertools.count()


@pytest.fixture
def hostile_app(build_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Return ``hostile_app(name, **config)``: the test app plus routes whose exceptions
    carry control characters and secrets."""

    def factory(name: str, **config: Any) -> Flask:
        app = build_app(name=name, PRODGUARD_ENV="production", **config)

        @app.get("/bad")
        def bad() -> str:
            raise ValueError(BAD_MESSAGE)

        @app.get("/db")
        def db() -> str:
            raise ConnectionError(DB_MESSAGE)

        return app

    return factory


def send_hostile_requests(client: Client) -> list[int]:
    """Send every hostile request; return the status codes."""
    responses = [
        client.get(CRLF_PATH),
        client.get("/?__debugger__=yes", environ_base={"HTTP_USER_AGENT": HOSTILE_AGENT}),
        client.get("/bad"),
        client.get("/db"),
        client.get(
            "/?__debugger__=yes&pad=" + "q" * HUGE,
            environ_base={"HTTP_USER_AGENT": "u" * HUGE},
        ),
        # environ_overrides: the test client would rebuild PATH_INFO from the URL.
        client.get("/?__debugger__=yes", environ_overrides={"PATH_INFO": BYTES_PATH}),
        client.get(SECRET_QUERY),
    ]
    return [response.status_code for response in responses]


def field(preset: str, line: dict[str, Any], name: str) -> Any:
    """The value of field ``name`` in one rendered line of ``preset``."""
    keys = WHERE[preset][name]
    assert keys is not None, f"{preset} does not render {name}"
    value: Any = line
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    if preset == "gcp" and name == "path" and isinstance(value, str):
        value = value.split("?", 1)[0]  # httpRequest.requestUrl carries the query too
    return value


def raw_control_characters(text: str) -> list[tuple[int, str]]:
    """Positions and code points of characters that may forge or hide a log line."""
    return [
        (position, f"U+{ord(char):04X}")
        for position, char in enumerate(text)
        if (ord(char) < 0x20 and char != "\n")
        or 0x7F <= ord(char) <= 0x9F
        or char in "\u2028\u2029"
    ]


def strings(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@dataclasses.dataclass
class Rendered:
    """What one preset wrote for the hostile requests."""

    preset: str
    #: The whole file, decoded as strict UTF-8.
    text: str
    #: Each line, parsed.
    lines: list[dict[str, Any]]
    #: The events of the app, as capture_events() saw them.
    events: list[dict[str, Any]]
    statuses: list[int]


@pytest.fixture(params=PRESETS)
def rendered(
    hostile_app: Callable[..., Flask], request: pytest.FixtureRequest, tmp_path: Path
) -> Rendered:
    """Guard an app writing ``preset`` lines to a file and send the hostile requests."""
    preset: str = request.param
    destination = tmp_path / f"{preset}.log"
    app = hostile_app(
        f"presets_{preset}_{next(_app_numbers)}",
        PRODGUARD_LOG_FORMAT=preset,
        PRODGUARD_LOG_DESTINATION=str(destination),
    )
    with capture_events() as captured:
        ProdGuard(app)
        statuses = send_hostile_requests(app.test_client())
    text = destination.read_bytes().decode("utf-8")
    return Rendered(
        preset=preset,
        text=text,
        lines=[json.loads(line) for line in text.split("\n")[:-1]],
        events=[event for event in captured if event.get("app") == app.name],
        statuses=statuses,
    )


def test_one_event_per_line(rendered: Rendered) -> None:
    """Every line is one JSON object, one per event, and requests get their usual answer."""
    assert rendered.statuses == EXPECTED_STATUSES
    assert rendered.text.endswith("\n")
    assert [event["event"] for event in rendered.events] == EXPECTED_EVENTS
    assert len(rendered.text.splitlines()) == len(rendered.lines) == len(rendered.events)
    assert all(isinstance(line, dict) for line in rendered.lines)


def test_event_name_and_level_where_the_preset_puts_them(rendered: Rendered) -> None:
    """Each preset puts the event name and level in its own fields, in event order."""
    preset = rendered.preset
    names = [field(preset, line, "event") for line in rendered.lines]
    assert names == [event["event"] for event in rendered.events]
    levels = [field(preset, line, "level") for line in rendered.lines]
    expected = [event["level"] for event in rendered.events]
    if preset in UPPER_CASE_LEVELS:
        expected = [level.upper() for level in expected]
    assert levels == expected
    first = rendered.lines[0]
    if preset == "ecs":
        assert first["event"]["action"] == POSTURE and "event.action" not in first
    if preset == "gcp":
        assert first["severity"] == "INFO" and "level" in first
    if preset == "datadog":
        assert first["evt"] == {"name": POSTURE} and first["status"] == "info"
    if preset == "otel":
        assert first["EventName"] == POSTURE and first["SeverityNumber"] == 9


def test_no_raw_control_character_in_the_file(rendered: Rendered) -> None:
    """CR, LF, ESC, C1 controls and U+2028/U+2029 only ever appear escaped."""
    assert raw_control_characters(rendered.text) == []
    preset = rendered.preset
    paths = [field(preset, line, "path") for line in rendered.lines]
    assert "/\\x0d\\x0aforged\\x1b[31m" in paths
    agents = [field(preset, line, "user_agent") for line in rendered.lines]
    assert 'x\\x0d\\x0a{"event": "forged"}\\x1b[2J' in agents
    messages = [field(preset, line, "exception_message") for line in rendered.lines]
    assert "bad\\x0d\\x0aline\\x1b[31m password=[REDACTED] Bearer [REDACTED]" in messages


def test_invalid_utf8_in_the_path_is_escaped(rendered: Rendered) -> None:
    """Undecodable bytes become \\x escapes; the file stays valid UTF-8."""
    paths = [field(rendered.preset, line, "path") for line in rendered.lines]
    assert "/\\xff\\xfe\\u2028\\x85" in paths


def test_secrets_are_redacted(rendered: Rendered) -> None:
    """Secrets in the query and in exception messages are replaced by [REDACTED]."""
    for secret in SECRETS:
        assert secret not in rendered.text
    preset = rendered.preset
    messages = [field(preset, line, "exception_message") for line in rendered.lines]
    assert "cannot reach postgres://user:[REDACTED]@db/x" in messages
    if WHERE[preset]["query"] is not None:
        queries = [field(preset, line, "query") for line in rendered.lines]
        assert "__debugger__=yes&token=[REDACTED]&password=[REDACTED]" in queries
    assert "token=[REDACTED]&password=[REDACTED]" in rendered.text


def test_ten_kilobyte_values_are_capped(rendered: Rendered) -> None:
    """A 10 kB query and User-Agent are cut to the cap and marked; no string runs on."""
    preset = rendered.preset
    for line, raw in zip(rendered.lines, rendered.text.splitlines(), strict=True):
        assert len(raw) < HUGE
        assert max(len(text) for text in strings(line)) <= LONGEST_STRING
    agents = [field(preset, line, "user_agent") or "" for line in rendered.lines]
    (agent,) = [a for a in agents if a.startswith("uuu")]
    assert agent == "u" * MAX_STRING_LENGTH + f"...[{HUGE - MAX_STRING_LENGTH} more characters]"
    if WHERE[preset]["query"] is not None:
        queries = [field(preset, line, "query") or "" for line in rendered.lines]
        (query,) = [q for q in queries if "pad=" in q]
        assert len(query) <= LONGEST_STRING and query.endswith(" more characters]")


def test_unknown_log_format_is_a_configuration_error(build_app: Callable[..., Flask]) -> None:
    """PRODGUARD_LOG_FORMAT="xml" is refused with the key and the allowed values."""
    app = build_app(name="presets_xml", PRODGUARD_ENV="production", PRODGUARD_LOG_FORMAT="xml")
    with pytest.raises(ConfigurationError) as caught:
        ProdGuard(app)
    error = caught.value
    assert error.key == "PRODGUARD_LOG_FORMAT"
    assert error.value == "xml"
    assert set(error.allowed) == set(PRESETS)
    message = str(error)
    assert "PRODGUARD_LOG_FORMAT" in message and "'xml'" in message
    for preset in PRESETS:
        assert repr(preset) in message
    assert "prodguard" not in app.extensions


def test_full_destination_never_breaks_a_request(
    build_app: Callable[..., Flask],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Writing to /dev/full fails: requests are answered as usual, stderr says so once."""
    app = build_app(
        name="presets_dev_full",
        PRODGUARD_ENV="production",
        PRODGUARD_LOG_DESTINATION="/dev/full",
    )
    with capture_events() as captured:
        ProdGuard(app)
        client = app.test_client()
        for _ in range(3):
            ok = client.get("/")
            assert ok.status_code == 200 and ok.data == b"hello"
            assert client.get("/?__debugger__=yes").status_code == 404
            assert client.get("/boom").status_code == 500
    err = capfd.readouterr().err
    report = "flask_prodguard: cannot write security events to /dev/full: OSError"
    assert err.count(report) == 1, err
    assert err.count("flask_prodguard:") == 1, err
    assert "reported once" in err
    # Other handlers still get every event: only the broken destination loses them.
    names = [event["event"] for event in captured if event.get("app") == app.name]
    assert names == [POSTURE] + [PROBE, ERROR] * 3


def test_two_apps_with_one_name_keep_their_own_destinations(tmp_path: Path) -> None:
    """Events go where their own guard was told, even when two apps share a name."""
    from flask import Flask

    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    apps = []
    for destination in (first, second):
        app = Flask("same-name")
        ProdGuard(app, env="production", log_destination=str(destination))
        apps.append(app)
    apps[0].test_client().get("/console?from=first")
    apps[1].test_client().get("/console?from=second")
    queries = {
        path.name: [json.loads(line).get("query") for line in path.read_text().splitlines()]
        for path in (first, second)
    }
    assert "from=first" in queries["first.jsonl"]
    assert "from=second" not in queries["first.jsonl"]
    assert "from=second" in queries["second.jsonl"]
    assert "from=first" not in queries["second.jsonl"]
