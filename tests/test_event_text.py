"""Request text in events: it can lose no event and forge no field (issue 14, points 7-9).

- Lone surrogates (a JSON ``"\\ud800"`` in an exception message) are escaped
  as text, so a file or stdout destination can write the event; a record the
  guard did not clean is still written, with JSON escapes.
- The plain-text summary quotes any value with whitespace of any kind, ``=``,
  a quote or non-ASCII, and escapes quotes and backslashes inside: no request
  can add a ``key=value`` field of its own.
- Unicode format characters (bidi overrides and isolates, zero-width
  characters, BOM, soft hyphen, tag characters) are escaped like control
  characters, in every string the sanitiser escapes.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask import request
from flask_prodguard import ProdGuard
from flask_prodguard.events.catalogue import COMMON_FIELDS
from flask_prodguard.events.emitter import summarise
from flask_prodguard.events.output import PRESETS
from flask_prodguard.events.output import SECURITY_LOGGER_NAME
from flask_prodguard.events.output import DefaultHandler
from flask_prodguard.events.output import Output
from flask_prodguard.events.output import render_line
from flask_prodguard.events.processors import Redactor
from flask_prodguard.events.processors import sanitise_text
from flask_prodguard.testing import capture_events
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Categories no output line may hold raw.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})

#: The format characters the issue names, and the soft hyphen.
FORMAT_CHARACTERS = {
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "right-to-left isolate": "\u2067",
    "first strong isolate": "\u2068",
    "pop directional isolate": "\u2069",
    "zero width space": "\u200b",
    "byte order mark": "\ufeff",
    "tag latin small letter a": "\U000e0061",
    "language tag": "\U000e0001",
    "cancel tag": "\U000e007f",
    "soft hyphen": "\u00ad",
    "arabic letter mark": "\u061c",
}

#: Whitespace that is not an ASCII space.
UNICODE_SPACES = {
    "no-break space": "\u00a0",
    "em space": "\u2003",
    "ideographic space": "\u3000",
    "ogham space mark": "\u1680",
    "narrow no-break space": "\u202f",
    "thin space": "\u2009",
}


def unsafe_characters(text: str) -> list[str]:
    """The characters of ``text`` in a category no output may hold raw."""
    return [ch for ch in text if unicodedata.category(ch) in UNSAFE_CATEGORIES]


@pytest.fixture
def json_app(build_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """``json_app(name, **config)``: a guarded app whose view raises the JSON body's value."""

    def factory(name: str, **config: Any) -> Flask:
        app = build_app(name, PRODGUARD_ENV="production", **config)

        @app.post("/json")
        def from_json() -> str:
            value = request.get_json()["value"]
            raise ValueError(f"bad value {value}")

        ProdGuard(app)
        return app

    return factory


# -- point 7: lone surrogates ------------------------------------------------------------


@pytest.mark.parametrize("surrogate", ["\ud800", "\udbff", "\udc00", "\udfff", "\udc80"])
def test_sanitiser_escapes_lone_surrogates(surrogate: str) -> None:
    """A lone surrogate becomes \\udXXX text that UTF-8 can encode."""
    result = sanitise_text(f"a{surrogate}b")
    assert result == f"a\\u{ord(surrogate):04x}b"
    result.encode("utf-8")


def test_redactor_escapes_surrogates_and_still_redacts() -> None:
    """Text with a lone surrogate is still searched for secrets (RE2 reads UTF-8)."""
    result = Redactor().clean_text("x\ud800 password=hunter2 \udfff")
    assert result == "x\\ud800 password=[REDACTED] \\udfff"


def test_extra_patterns_run_on_text_with_surrogates() -> None:
    """PRODGUARD_REDACT_PATTERNS also work on text with a lone surrogate."""
    redactor = Redactor(extra_patterns=[r"\d{3}-\d{2}-\d{4}"])
    assert redactor.clean_text("\ud800 123-45-6789") == "\\ud800 [REDACTED]"


def test_surrogate_from_a_json_body_reaches_a_file_destination(
    json_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """A JSON "\\ud800" in an exception message: the error event is written to the file."""
    target = tmp_path / "events.log"
    app = json_app("surrogate-file", PRODGUARD_LOG_DESTINATION=str(target))
    response = app.test_client().post(
        "/json", data='{"value": "\\ud800 and \\udfff"}', content_type="application/json"
    )
    assert response.status_code == 500
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    (error,) = [line for line in lines if line["event"] == "prodguard.error.unhandled"]
    assert error["error_id"] == response.headers["X-Error-ID"]
    assert "\\ud800 and \\udfff" in error["exception_message"]


def test_surrogate_reaches_stdout_destination(
    json_app: Callable[..., Flask], capsys: pytest.CaptureFixture[str]
) -> None:
    """The stdout destination (strict UTF-8 here) writes the event too."""
    app = json_app("surrogate-stdout", PRODGUARD_LOG_DESTINATION="stdout")
    capsys.readouterr()
    app.test_client().post("/json", json={"value": "\ud800"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (error,) = [line for line in lines if line["event"] == "prodguard.error.unhandled"]
    assert "bad value \\ud800" in error["exception_message"]


def test_uncleaned_record_with_a_surrogate_is_written_with_json_escapes(
    tmp_path: Path,
) -> None:
    """A record the guard did not clean still becomes a line, ASCII-escaped, not nothing."""
    target = tmp_path / "foreign.log"
    handler = DefaultHandler()
    handler.outputs["foreign"] = Output("json", str(target))
    record = logging.LogRecord(
        SECURITY_LOGGER_NAME, logging.WARNING, __file__, 1, "x", (), None
    )
    record.__dict__.update({"event": "app.note", "app": "foreign", "note": "caf\u00e9 \ud800"})
    handler.emit(record)
    (line,) = target.read_text(encoding="utf-8").splitlines()
    assert line.isascii() and '"note": "caf\\u00e9 \\ud800"' in line


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_encodes_a_cleaned_surrogate(preset: str) -> None:
    """Every preset's line of a cleaned event encodes as UTF-8."""
    event = Redactor()(
        None, "warning", {"event": "e", "path": "/\ud800", "user_agent": "\udfff"}
    )
    record = logging.LogRecord(
        SECURITY_LOGGER_NAME, logging.WARNING, __file__, 1, summarise(event), (), None
    )
    record.__dict__.update(event)
    render_line(preset, record).encode("utf-8")


# -- point 8: the plain-text summary ---------------------------------------------------------


def parse_summary(text: str) -> list[tuple[str, str]]:
    """Read a summary as a logfmt parser would: the event name, then key=value fields.

    Fields are separated by any Unicode whitespace; a value starting with a
    double quote runs to the next unescaped double quote, ``\\\\`` and ``\\"``
    being escapes.
    """
    fields: list[tuple[str, str]] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return fields
        start = position
        while position < len(text) and not text[position].isspace() and text[position] != "=":
            position += 1
        key = text[start:position]
        if position == len(text) or text[position] != "=":
            fields.append(("", key))  # a bare word: the event name
            continue
        position += 1
        if position < len(text) and text[position] == '"':
            value = []
            position += 1
            while position < len(text) and text[position] != '"':
                if text[position] == "\\" and position + 1 < len(text):
                    position += 1
                value.append(text[position])
                position += 1
            position += 1
            fields.append((key, "".join(value)))
        else:
            start = position
            while position < len(text) and not text[position].isspace():
                position += 1
            fields.append((key, text[start:position]))


@pytest.mark.parametrize(
    "value",
    [
        *(f"/x{space}action=allowed" for space in UNICODE_SPACES.values()),
        "/x status=200",
        "/x\u2003error_id=0123456789abcdef",
        'x" action=allowed "',
        'x\\" action=allowed',
        "x\\",
        "x'y",
        "a=b",
        "",
        "\u3164action=allowed",
    ],
)
def test_summary_value_cannot_add_a_field(value: str) -> None:
    """Any whitespace, '=', a quote or a backslash stays inside one quoted value."""
    text = summarise({"event": "prodguard.debugger.probe", "path": value, "status": 404})
    assert parse_summary(text) == [
        ("", "prodguard.debugger.probe"),
        ("path", sanitise_text(value)),
        ("status", "404"),
    ], text


def test_plain_values_stay_unquoted() -> None:
    """Printable ASCII without spaces, '=' or quotes is written as it is."""
    text = summarise({"event": "e", "path": "/items/42", "method": "GET", "findings": ["PG1"]})
    assert text == "e path=/items/42 method=GET findings=[PG1]"


def test_list_and_dict_values_cannot_add_a_field() -> None:
    """A list or dict value holding a space and '=' is quoted as a whole."""
    text = summarise({"event": "e", "sources": ["a b=c"], "by_event": {"k": "v w=x"}})
    assert [key for key, _ in parse_summary(text)] == ["", "sources", "by_event"]


def test_basic_config_line_of_a_probe_has_no_forged_field(
    build_app: Callable[..., Flask],
    no_logging_configured: Callable[[], AbstractContextManager[None]],
) -> None:
    """waitress's basicConfig format shows the probe with the request's text in quotes."""
    app = build_app("summary-basic", PRODGUARD_ENV="production")
    ProdGuard(app)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    agent = "x\u00a0action=allowed\u2003status=200"
    with no_logging_configured(), capture_events() as events:
        logging.getLogger().addHandler(handler)
        try:
            app.test_client().get("/?__debugger__=yes", headers={"User-Agent": agent})
        finally:
            logging.getLogger().removeHandler(handler)
    (probe,) = [e for e in events if e["event"] == "prodguard.debugger.probe"]
    (line,) = [line for line in stream.getvalue().splitlines() if "debugger.probe" in line]
    fields = parse_summary(line.split(":", 2)[2])  # LEVEL:name:message
    common = {field.name for field in COMMON_FIELDS}
    own = [key for key, value in probe.items() if key not in common and value is not None]
    assert [key for key, _ in fields] == ["", *own]
    assert dict(fields)["user_agent"] == agent


_hostile = st.text(
    alphabet=st.one_of(
        st.sampled_from(['"', "'", "\\", "=", " ", "a", *UNICODE_SPACES.values()]),
        st.characters(categories=["Zs", "Cc", "Cf", "Zl", "Zp", "Cs", "Lo", "Po"]),
    ),
    max_size=25,  # three values, escaped, stay within the summary's 1000 characters
)


@PROPERTY_SETTINGS
@given(path=_hostile, agent=_hostile, reason=_hostile)
def test_summary_never_parses_into_a_forged_field(path: str, agent: str, reason: str) -> None:
    """Whatever the values, a parser reads exactly the event's own fields, values intact."""
    event = {"event": "prodguard.debugger.probe", "path": path, "user_agent": agent}
    event["reason"] = reason
    parsed = parse_summary(summarise(event))
    assert parsed == [
        ("", "prodguard.debugger.probe"),
        ("path", sanitise_text(path)),
        ("user_agent", sanitise_text(agent)),
        ("reason", sanitise_text(reason)),
    ]
    cleaned = Redactor()(None, "warning", dict(event))
    assert [key for key, _ in parse_summary(summarise(cleaned))] == [
        "",
        "path",
        "user_agent",
        "reason",
    ]


# -- point 9: format characters ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FORMAT_CHARACTERS))
def test_format_characters_are_escaped(name: str) -> None:
    """Each format character becomes escape text, in the sanitiser and the redactor."""
    char = FORMAT_CHARACTERS[name]
    code = ord(char)
    if code < 0x100:
        escaped = f"\\x{code:02x}"
    else:
        escaped = f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    assert sanitise_text(f"a{char}b") == f"a{escaped}b"
    assert Redactor().clean_text(f"a{char}b") == f"a{escaped}b"


def test_every_unsafe_code_point_is_escaped() -> None:
    """All of Cc, Cf, Zl, Zp and Cs in this Python's Unicode database are escaped."""
    unsafe = "".join(
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in UNSAFE_CATEGORIES
    )
    assert len(unsafe) > 2000
    assert unsafe_characters(sanitise_text(unsafe, len(unsafe))) == []


def test_format_characters_never_reach_a_json_line(
    build_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """A probe whose path and User-Agent carry bidi and tag characters: none raw in the line."""
    target = tmp_path / "events.log"
    app = build_app(
        "format-file", PRODGUARD_ENV="production", PRODGUARD_LOG_DESTINATION=str(target)
    )
    ProdGuard(app)
    agent = "Mozilla \u202egnp.exe\u2066\u200b\ufeff\U000e0041\u00ad"
    app.test_client().get(
        "/x\u202e\u2067?__debugger__=yes",
        headers={"User-Agent": agent.encode().decode("latin-1")},  # as a server passes it
    )
    text = target.read_text(encoding="utf-8")
    assert "prodguard.debugger.probe" in text
    assert unsafe_characters(text.replace("\n", "")) == []
    (probe,) = [json.loads(line) for line in text.splitlines() if "debugger.probe" in line]
    assert probe["user_agent"] == "Mozilla \\u202egnp.exe\\u2066\\u200b\\ufeff\\U000e0041\\xad"


_any_unsafe = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Cs", "Zs", "Ll", "Nd", "Po"]),
    max_size=200,
)


@PROPERTY_SETTINGS
@given(text=_any_unsafe)
def test_escaping_leaves_no_unsafe_character(text: str) -> None:
    """sanitise_text, clean_text and summarise leave no Cc, Cf, Zl, Zp or Cs character."""
    assert unsafe_characters(sanitise_text(text)) == []
    assert unsafe_characters(Redactor().clean_text(text)) == []
    assert unsafe_characters(summarise({"event": "e", "path": text})) == []
