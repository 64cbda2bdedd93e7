"""A bounded, coverage-guided fuzzer (atheris) over the guard's text handling.

Targets, each fed text of every kind (any code point, lone surrogates, latin-1
bytes as WSGI servers pass them, undecodable bytes), up to four times the
field cap:

- :func:`flask_prodguard.processors.sanitise_text` and
  :meth:`flask_prodguard.processors.Redactor.clean_text`;
- :func:`flask_prodguard.events.summarise` and
  :func:`flask_prodguard.output.render_line` (every preset) on an event
  cleaned the way the guard cleans it;
- the probe recognisers :func:`flask_prodguard.detect.query_has_debugger_key`,
  :func:`~flask_prodguard.detect.normalise_path` and
  :func:`~flask_prodguard.detect.is_console_path`.

Invariants: no exception; every result is a ``str`` (or a ``bool``) with no
Cc, Cf, Zl, Zp or Cs character where it is text for a log; bounded length;
bounded time per call; idempotence where it should hold (sanitising text
that needed no cut, normalising a path without escapes); a secret in a form
the guard redacts, at the start of a field, never shows; and the recognisers
see every request the Werkzeug debugger would act on (Werkzeug itself is the
oracle).

Usage (the exit status is non-zero on a violation; the input is saved under
the work directory and the command to replay it is printed)::

    .venv/bin/python benchmarks/fuzz_text.py --seconds 300
    .venv/bin/python benchmarks/fuzz_text.py --runs 200000 --seed 1
    .venv/bin/python benchmarks/fuzz_text.py WORKDIR/crash-<sha1>   # replay one input

Options not listed by ``--help`` go to libFuzzer (``-max_len=``, ``-jobs=``...).
``--plant-bug escape`` replaces ``sanitise_text`` by a function that escapes
nothing: the fuzzer must then fail within seconds (its self-test).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports(include=["flask_prodguard"]):
    from flask_prodguard import detect
    from flask_prodguard.events import emitter as events
    from flask_prodguard.events import output
    from flask_prodguard.events import processors

from werkzeug.wrappers import Request

#: Longest call allowed, in seconds (instrumented code is a few times slower).
CALL_SECONDS = 1.0
#: Longest text fed to a target: four times the field cap.
MAX_TEXT = 4 * processors.MAX_STRING_LENGTH
#: Longest escape of one character (``\\U000e0041``).
ESCAPE_FACTOR = 10
SECRET = "hunter2"
SECRET_FORMS = (
    "password=hunter2",
    "password: hunter2",
    "DBConfig(password='hunter2')",
    'connect(password="hunter2")',
    'password = "hunter2"',
    'token: "hunter2"',
    "api_key='hunter2'",
    "secret_key='hunter2'",
    "{'passwd': 'hunter2'}",
    '{"password": "hunter2"}',
    "postgresql://app:hunter2@db.internal/prod",
    "Authorization: Bearer hunter2",
)
#: Tokens libFuzzer splices into inputs: the shapes the patterns look for.
DICTIONARY = (
    "__debugger__",
    "__DEBUGGER__",
    "console",
    "%5f",
    "%5F",
    "%25",
    "%2e",
    "/..",
    "/./",
    ";",
    "&",
    "=",
    "+",
    "\\",
    "'token': '",
    '"password": "',
    "\\a",
    "password",
    "token",
    "secret",
    "Bearer ",
    "://",
    ":@",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
    "\U000e0041",
    "\u00a0",
    "\u2028",
    "\x85",
    "\x1b[",
    "\r\n",
)


def _forbidden_class() -> str:
    chars = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            chars.append(re.escape(chr(code)) if code >= 0x20 else f"\\x{code:02x}")
    return "[" + "".join(chars) + "]"


#: Control, format, line and paragraph separator characters, and surrogates.
FORBIDDEN = re.compile(_forbidden_class())
#: The redactor the guard's events use (the guard's own fields are trusted).
EVENT_REDACTOR = processors.Redactor(
    allowed_keys=events.TRUSTED_FIELDS, trusted_keys=events.TRUSTED_FIELDS | {"frames"}
)


class Violation(AssertionError):
    """An invariant does not hold."""


def check(condition: bool, what: str, *shown: Any) -> None:
    """Raise :exc:`Violation` with ``what`` and the values involved."""
    if not condition:
        details = "; ".join(repr(value)[:600] for value in shown)
        raise Violation(f"{what}: {details}")


def clean_log_text(text: Any, what: str, limit: int) -> None:
    """Text for a log: a ``str``, no forbidden character, at most ``limit`` long."""
    check(type(text) is str, f"{what} is not a str", type(text))
    match = FORBIDDEN.search(text)
    check(match is None, f"{what} holds a raw character", match and match.group(), text)
    check(len(text) <= limit, f"{what} is {len(text)} characters long", limit)


def timed(function: Any, *args: Any) -> Any:
    """Call ``function``; a call longer than :data:`CALL_SECONDS` is a violation."""
    started = time.perf_counter()
    result = function(*args)
    elapsed = time.perf_counter() - started
    check(elapsed <= CALL_SECONDS, f"{function.__name__} took {elapsed:.2f} s", args)
    return result


def consume_text(fdp: atheris.FuzzedDataProvider, most: int = MAX_TEXT) -> str:
    """Text of any kind: code points, latin-1 bytes, bytes that are not UTF-8."""
    kind = fdp.ConsumeIntInRange(0, 2)
    length = fdp.ConsumeIntInRange(0, most)
    if kind == 0:
        return str(fdp.ConsumeUnicode(length))
    data = bytes(fdp.ConsumeBytes(length))
    if kind == 1:
        return data.decode("latin-1")
    return data.decode("utf-8", "surrogateescape")


def consume_wire(fdp: atheris.FuzzedDataProvider, most: int = MAX_TEXT) -> str:
    """Latin-1 text, as a WSGI server puts request bytes in the environ."""
    return bytes(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, most))).decode("latin-1")


# -- targets ---------------------------------------------------------------------------


def fuzz_sanitise(fdp: atheris.FuzzedDataProvider) -> None:
    """sanitise_text: escaped, capped, idempotent on text that needed no cut."""
    limit = fdp.ConsumeIntInRange(1, 2 * processors.MAX_STRING_LENGTH)
    text = consume_text(fdp)
    result = timed(processors.sanitise_text, text, limit)
    clean_log_text(result, "sanitise_text", ESCAPE_FACTOR * limit + 64)
    if len(text) <= limit and len(result) <= limit:
        again = timed(processors.sanitise_text, result, limit)
        check(again == result, "sanitise_text is not idempotent", result, again)


def fuzz_redact(fdp: atheris.FuzzedDataProvider) -> None:
    """Redactor.clean_text: escaped, bounded, a leading secret redacted, idempotent.

    Idempotent on text without characters to escape: escaping changes what a
    pattern sees (a raw ``\\x1d`` ends a value, its escape does not).
    """
    form = (
        SECRET_FORMS[fdp.ConsumeIntInRange(0, len(SECRET_FORMS) - 1)]
        if fdp.ConsumeBool()
        else ""
    )
    text = consume_text(fdp).replace(SECRET, "hunter-two")
    if form:
        text = f"{form} ;\n{text}"
    redactor = processors.Redactor()
    result = timed(redactor.clean_text, text)
    bound = 4 * ESCAPE_FACTOR * processors.MAX_STRING_LENGTH
    clean_log_text(result, "Redactor.clean_text", bound)
    check(SECRET not in result, "a secret shows", text[:200], result[:400])
    if len(result) <= processors.MAX_STRING_LENGTH and FORBIDDEN.search(text) is None:
        # (Escaping changes what a pattern sees, so only text that needs none.)
        again = timed(redactor.clean_text, result)
        check(again == result, "clean_text is not idempotent", result, again)


def _event(fdp: atheris.FuzzedDataProvider) -> dict[str, Any]:
    """A request error event, cleaned the way the guard cleans its events."""
    most = MAX_TEXT // 4
    event: dict[str, Any] = {
        "event": "prodguard.error.unhandled",
        "level": "error",
        "app": consume_text(fdp, 64),
        "request_id": consume_wire(fdp, 64),
        "method": consume_wire(fdp, 32),
        "path": consume_wire(fdp, most),
        "query": consume_wire(fdp, most),
        "user_agent": consume_wire(fdp, most),
        "status": fdp.ConsumeIntInRange(0, 999),
        "exception_type": consume_text(fdp, 64),
        "exception_message": consume_text(fdp, most),
        "traceback": [
            {
                "exception_type": consume_text(fdp, 64),
                "exception_message": consume_text(fdp, most),
                "frames": [
                    {
                        "file": consume_text(fdp, 256),
                        "line": fdp.ConsumeIntInRange(0, 10**6),
                        "function": consume_text(fdp, 64),
                    }
                ],
            }
        ],
    }
    return dict(EVENT_REDACTOR(None, "error", event))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


def fuzz_summary(fdp: atheris.FuzzedDataProvider) -> None:
    """The cleaned event, its summary and every preset's line: escaped and bounded."""
    event = _event(fdp)
    for text in _strings(event):
        clean_log_text(
            text, "a cleaned field", ESCAPE_FACTOR * 4 * processors.MAX_STRING_LENGTH
        )
    summary = timed(events.summarise, event)
    clean_log_text(summary, "summarise", 1100)
    record = logging.makeLogRecord({**event, "msg": summary})
    for preset in output.PRESETS:
        line = timed(output.render_line, preset, record)
        clean_log_text(line, f"render_line({preset!r})", 1_000_000)
        json.loads(line)
        line.encode("utf-8")


def fuzz_query(fdp: atheris.FuzzedDataProvider) -> None:
    """query_has_debugger_key sees every query Werkzeug's debugger would act on."""
    query = consume_wire(fdp)
    found = timed(detect.query_has_debugger_key, query)
    check(type(found) is bool, "query_has_debugger_key is not a bool", found)
    if not found:
        try:
            args = Request({"QUERY_STRING": query, "REQUEST_METHOD": "GET"}).args
        except UnicodeDecodeError:
            return  # Werkzeug cannot parse it: the debugger fails before acting
        check("__debugger__" not in args, "a debugger query is not recognised", query)


def fuzz_path(fdp: atheris.FuzzedDataProvider) -> None:
    """normalise_path is canonical; is_console_path sees what the debugger serves."""
    path = consume_wire(fdp)
    normal = timed(detect.normalise_path, path)
    check(type(normal) is str and normal.startswith("/"), "not a path", path, normal)
    segments = normal.split("/")[1:]
    check(
        normal == "/" or all(s not in ("", ".", "..") for s in segments),
        "normalise_path left an empty, . or .. segment",
        path,
        normal,
    )
    check(";" not in normal, "normalise_path left a ; parameter", path, normal)
    if "%" not in path and "+" not in path:
        again = timed(detect.normalise_path, normal)
        check(again == normal, "normalise_path is not idempotent", path, normal, again)
    console = timed(detect.is_console_path, path)
    expected = normal == detect.normalise_path(detect.DEFAULT_CONSOLE_PATH)
    check(console == expected, "is_console_path disagrees with normalise_path", path)
    if not console:
        served = Request({"PATH_INFO": path, "REQUEST_METHOD": "GET"}).path
        check(served != detect.DEFAULT_CONSOLE_PATH, "a console path is not recognised", path)


TARGETS = (fuzz_sanitise, fuzz_redact, fuzz_summary, fuzz_query, fuzz_path)


def test_one_input(data: bytes) -> None:
    """libFuzzer's entry point: one input, one target."""
    fdp = atheris.FuzzedDataProvider(data)
    TARGETS[fdp.ConsumeIntInRange(0, len(TARGETS) - 1)](fdp)


def plant_bug(name: str) -> None:
    """Break the package on purpose, for the fuzzer's self-test."""
    if name == "escape":
        processors.sanitise_text = lambda value, limit=processors.MAX_STRING_LENGTH: value[
            :limit
        ]
    else:
        raise SystemExit(f"unknown --plant-bug {name!r}")


def main() -> None:
    """Parse the options, set libFuzzer up and fuzz (libFuzzer ends the process)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, help="time budget (libFuzzer -max_total_time)")
    parser.add_argument("--runs", type=int, help="number of inputs (libFuzzer -runs)")
    parser.add_argument("--seed", type=int, help="random seed, for a reproducible run")
    parser.add_argument("--workdir", type=Path, help="where crash inputs and the dictionary go")
    parser.add_argument("--plant-bug", choices=["escape"], help="self-test: break on purpose")
    args, rest = parser.parse_known_args()
    if args.plant_bug:
        plant_bug(args.plant_bug)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="prodguard-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    dictionary = workdir / "tokens.dict"
    dictionary.write_text(
        "".join(
            '"' + "".join(f"\\x{b:02x}" for b in token.encode("utf-8")) + '"\n'
            for token in DICTIONARY
        )
    )
    libfuzzer = [
        sys.argv[0],
        f"-dict={dictionary}",
        f"-artifact_prefix={workdir}/",
        "-timeout=20",
        f"-max_len={2 * MAX_TEXT}",
        "-len_control=0",  # long inputs from the start: the caps are the point
        "-print_final_stats=1",
    ]
    if args.seconds is not None:
        libfuzzer.append(f"-max_total_time={args.seconds}")
    if args.runs is not None:
        libfuzzer.append(f"-runs={args.runs}")
    if args.seed is not None:
        libfuzzer.append(f"-seed={args.seed}")
    print(f"fuzz_text: work directory {workdir}", file=sys.stderr, flush=True)
    atheris.enabled_hooks.add("RegEx")
    atheris.enabled_hooks.add("str")
    atheris.Setup(libfuzzer + rest, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
