"""``check`` fails closed: a gate that cannot be fooled into green (issue 19).

Through the real command line (``flask --app ... prodguard check`` and
``python -m flask_prodguard check``) in every format:

- whatever the app raises while it loads (``sys.exit(0)``, ``KeyboardInterrupt``,
  ``GeneratorExit``, any ``BaseException``) or while the checks read its
  configuration is a failure, status 2, with a one-line reason, a JSON report
  that says so and a valid SARIF log with a failed invocation;
- that reason is redacted like the security events (the app's exception
  message, a mistyped key's value);
- ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` of any type are findings, never a
  traceback, and a placeholder is graded the same in ``str`` and ``bytes``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask_prodguard.checks import PLACEHOLDER_SECRETS
from flask_prodguard.checks import REGISTRY
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

FLASK = str(Path(sys.executable).with_name("flask"))
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json"
FORMATS = ("text", "json", "sarif")
TIMEOUT = 60

#: Classes the test apps build hostile values from.
HOSTILE = '''
import sys


class Exits:
    """A value whose every reading ends the process with status 0."""

    def __bool__(self, *args):
        sys.exit(0)

    __str__ = __repr__ = __len__ = __iter__ = __eq__ = __hash__ = __bool__


class Raises:
    """A value that cannot be read: truth, text, length and iteration raise."""

    def __bool__(self, *args):
        raise ValueError("no truth value")

    __str__ = __repr__ = __len__ = __iter__ = __eq__ = __bool__
    __hash__ = None


class Shadow(str):
    """A str whose own methods lie or raise."""

    def __str__(self):
        raise RuntimeError("no str")

    def lower(self):
        return "random-looking"

    def strip(self):
        raise RuntimeError("no strip")

    def __len__(self):
        return 64


class Unreadable(list):
    """A list that raises when it is iterated."""

    def __iter__(self):
        raise RuntimeError("no iteration")
'''

APP = '''\
"""App for tests/test_check_fails_closed.py."""
{hostile}
from flask import Flask
from flask_prodguard import ProdGuard

{before}
app = Flask(__name__)
app.config.update({settings!r})
{config}
ProdGuard(app)
'''


@pytest.fixture
def write_app(safe_settings: dict[str, Any]) -> Callable[..., Path]:
    """Return ``write_app(folder, before="", config="", **settings)``: write a
    guarded ``app.py`` with safe settings, ``before`` above the app and ``config``
    (source lines) after its settings; the hostile classes are in scope."""

    def write(folder: Path, before: str = "", config: str = "", **settings: Any) -> Path:
        path = folder / "app.py"
        path.write_text(
            APP.format(
                hostile=HOSTILE,
                before=before,
                settings={**safe_settings, **settings},
                config=config,
            ),
            encoding="utf-8",
        )
        return path

    return write


def clean_environ() -> dict[str, str]:
    """The test process's environment without flask, guard and werkzeug variables,
    no dotenv file, and no stale bytecode when a test rewrites app.py quickly."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "PRODGUARD_", "WERKZEUG_"))
    }
    env.update(FLASK_SKIP_DOTENV="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def run_check(
    cwd: Path, *args: str, via: str = "flask", app: str = "app"
) -> subprocess.CompletedProcess[str]:
    """``check`` as a CI job runs it, in ``cwd``: through ``flask`` or ``python -m
    flask_prodguard``."""
    if via == "flask":
        argv = [FLASK, "--app", app, "prodguard", "check", *args]
    else:
        argv = [sys.executable, "-m", "flask_prodguard", "check", "--app", app, *args]
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, env=clean_environ(), timeout=TIMEOUT
    )


@pytest.fixture(scope="module")
def sarif_validator() -> Draft4Validator:
    """A validator for the vendored SARIF 2.1.0 schema."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return Draft4Validator(schema)


@pytest.fixture
def assert_failed(sarif_validator: Draft4Validator) -> Callable[..., str]:
    """Return ``assert_failed(result, output_format)``: assert that ``check``
    exited 2 with one ``Error:`` line and, in json and sarif, a report of the
    failure; return the reason."""

    def check_failed(result: subprocess.CompletedProcess[str], output_format: str) -> str:
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        reason = line.removeprefix("Error: ")
        if output_format == "text":
            assert result.stdout == ""
        elif output_format == "json":
            assert json.loads(result.stdout) == {"error": reason, "exit_code": 2}
        else:
            log = json.loads(result.stdout)
            errors = sorted(sarif_validator.iter_errors(log), key=str)
            assert not errors, errors[0].message
            (run_,) = log["runs"]
            assert run_["results"] == []
            assert [rule["id"] for rule in run_["tool"]["driver"]["rules"]] == list(REGISTRY)
            (invocation,) = run_["invocations"]
            assert invocation["executionSuccessful"] is False
            notifications = invocation["toolExecutionNotifications"]
            assert notifications == [{"level": "error", "message": {"text": reason}}]
        return reason

    return check_failed


# -- any BaseException while loading is a load failure ------------------------------


#: What the app does while it loads, the ``--app`` value, and the reason given.
STOPS = [
    pytest.param(
        "def create_app():\n    sys.exit(0)",
        "app:create_app",
        "it exited while loading (SystemExit: 0)",
        id="sys.exit(0)-in-factory",
    ),
    pytest.param(
        "sys.exit()", "app", "it exited while loading (SystemExit)", id="sys.exit()-at-import"
    ),
    pytest.param(
        "import argparse\nargparse.ArgumentParser().parse_args(['--help'])",
        "app",
        "it exited while loading (SystemExit: 0)",
        id="argparse-at-import",
    ),
    pytest.param(
        "raise KeyboardInterrupt",
        "app",
        "it was interrupted while loading (KeyboardInterrupt)",
        id="KeyboardInterrupt",
    ),
    pytest.param(
        "raise GeneratorExit('closed')", "app", "GeneratorExit: closed", id="GeneratorExit"
    ),
    pytest.param(
        "class Cancelled(BaseException):\n    pass\n\nraise Cancelled('by the loop')",
        "app",
        "Cancelled: by the loop",
        id="BaseException-subclass",
    ),
    pytest.param(
        "class Odd(Exception):\n    def __str__(self):\n        sys.exit(0)\n\nraise Odd()",
        "app",
        "Odd: <unprintable Odd>",
        id="__str__-exits",
    ),
]


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize(("source", "app", "why"), STOPS)
def test_anything_raised_while_loading_fails_the_check(
    write_app: Callable[..., Path],
    assert_failed: Callable[..., str],
    tmp_path: Path,
    source: str,
    app: str,
    why: str,
    output_format: str,
) -> None:
    """sys.exit(0), KeyboardInterrupt, GeneratorExit... while loading: status 2, a
    one-line reason, and a JSON or SARIF report of the failure, never an empty pass."""
    write_app(tmp_path, before=source)
    result = run_check(tmp_path, "--format", output_format, app=app)
    reason = assert_failed(result, output_format)
    assert reason == f"could not load the app: {why}"


@pytest.mark.parametrize("output_format", FORMATS)
def test_python_m_fails_closed_too(
    write_app: Callable[..., Path],
    assert_failed: Callable[..., str],
    tmp_path: Path,
    output_format: str,
) -> None:
    """``python -m flask_prodguard check`` on a factory that calls sys.exit(0): status 2."""
    write_app(tmp_path, before="def create_app():\n    sys.exit(0)")
    result = run_check(tmp_path, "--format", output_format, via="python", app="app:create_app")
    reason = assert_failed(result, output_format)
    assert reason == "could not load the app: it exited while loading (SystemExit: 0)"


@pytest.mark.parametrize("output_format", FORMATS)
def test_exit_while_the_checks_read_the_config_fails_the_check(
    write_app: Callable[..., Path],
    assert_failed: Callable[..., str],
    tmp_path: Path,
    output_format: str,
) -> None:
    """A config value whose __str__ calls sys.exit(0) stops the checks: status 2, not 0."""
    write_app(tmp_path, config='app.config["SESSION_COOKIE_SAMESITE"] = Exits()')
    result = run_check(tmp_path, "--format", output_format)
    reason = assert_failed(result, output_format)
    assert reason == "the checks were stopped: SystemExit: 0"


def test_what_the_app_prints_while_loading_stays_out_of_the_report(
    write_app: Callable[..., Path], sarif_validator: Draft4Validator, tmp_path: Path
) -> None:
    """An app that prints at import: the SARIF on standard output is still valid,
    the print goes to standard error."""
    write_app(tmp_path, before='print("loading settings from /etc/shop")', DEBUG=True)
    result = run_check(tmp_path, "--format", "sarif")
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    assert not list(sarif_validator.iter_errors(log))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["PG101"]
    assert "loading settings from /etc/shop" in result.stderr


# -- load errors are redacted -------------------------------------------------------------


@pytest.mark.parametrize("via", ["flask", "python"])
@pytest.mark.parametrize("output_format", FORMATS)
def test_the_apps_exception_message_is_redacted(
    write_app: Callable[..., Path],
    assert_failed: Callable[..., str],
    tmp_path: Path,
    output_format: str,
    via: str,
) -> None:
    """A factory raising RuntimeError("password=hunter2 token=abc"): no secret in any output."""
    raising = 'def create_app():\n    raise RuntimeError("password=hunter2 token=abc")'
    write_app(tmp_path, before=raising)
    result = run_check(tmp_path, "--format", output_format, via=via, app="app:create_app")
    reason = assert_failed(result, output_format)
    output = result.stdout + result.stderr
    assert "hunter2" not in output and "abc" not in output, output
    assert reason == (
        "could not load the app: RuntimeError: password=[REDACTED] token=[REDACTED]"
    )


def test_a_harmless_message_is_shown_whole_on_one_line(
    write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """Control: a message without secrets is shown as it is, its newlines escaped."""
    write_app(tmp_path, before='raise RuntimeError("the database\\nis not there")')
    result = run_check(tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "Error: could not load the app: RuntimeError: the database\\x0ais not there\n"
    )


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("PRODGUARD_SECRET_TOKN", "hunter2", "PRODGUARD_SECRET_TOKN = '[REDACTED]'"),
        (
            "PRODGUARD_DATABASE_URL",
            "postgres://shop:hunter2@db.internal/shop",
            "'postgres://shop:[REDACTED]@db.internal/shop'",
        ),
    ],
    ids=["secret-name", "url-credentials"],
)
@pytest.mark.parametrize("output_format", FORMATS)
def test_a_mistyped_keys_secret_value_is_redacted(
    write_app: Callable[..., Path],
    assert_failed: Callable[..., str],
    tmp_path: Path,
    output_format: str,
    key: str,
    value: str,
    shown: str,
) -> None:
    """An unknown PRODGUARD_* key is named, its secret-looking value is not printed."""
    write_app(tmp_path, **{key: value})
    result = run_check(tmp_path, "--format", output_format)
    reason = assert_failed(result, output_format)
    assert "hunter2" not in result.stdout + result.stderr
    assert reason.startswith(
        f"could not load the app: ConfigurationError: Unknown configuration key {key} "
    )
    assert shown in reason


def test_serve_redacts_a_mistyped_keys_value(
    write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """``serve`` with a mistyped secret key: status 2, the key named, the value not printed."""
    write_app(tmp_path, PRODGUARD_SECRET_TOKN="hunter2")
    result = subprocess.run(
        [FLASK, "--app", "app", "prodguard", "serve", "--bind", "127.0.0.1:1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_environ(),
        timeout=TIMEOUT,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PRODGUARD_SECRET_TOKN = '[REDACTED]'" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


# -- SECRET_KEY and SECRET_KEY_FALLBACKS of any type ----------------------------------------


def report_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON report of a ``check`` that ran to the end without a traceback."""
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["exit_code"] == result.returncode
    return report


def secret_findings(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, severity, message) of the secret key findings (PG301-PG304, PG309)."""
    return [
        (f["id"], f["severity"], f["message"])
        for f in report["findings"]
        if f["id"] in ("PG301", "PG302", "PG303", "PG304", "PG309")
    ]


@pytest.mark.parametrize("output_format", FORMATS)
def test_an_int_secret_key_is_a_finding_not_a_traceback(
    write_app: Callable[..., Path],
    sarif_validator: Draft4Validator,
    tmp_path: Path,
    output_format: str,
) -> None:
    """``SECRET_KEY = 12345``: PG309 (error), status 1, in every format."""
    write_app(tmp_path, SECRET_KEY=12345)
    result = run_check(tmp_path, "--format", output_format)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    if output_format == "text":
        assert "  PG309  SECRET_KEY is of type int, not str or bytes" in result.stdout
    elif output_format == "json":
        assert secret_findings(json.loads(result.stdout)) == [
            (
                "PG309",
                "error",
                "SECRET_KEY is of type int, not str or bytes: Flask fails (TypeError) on"
                " the session cookies it must sign or check with it",
            )
        ]
    else:
        log = json.loads(result.stdout)
        assert not list(sarif_validator.iter_errors(log))
        assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["PG309"]
    assert "12345" not in result.stdout, "a finding never shows the key"


@pytest.mark.parametrize("placeholder", ["changeme", "you-will-never-guess", " Dev "])
def test_a_placeholder_is_critical_as_text_and_as_bytes(
    write_app: Callable[..., Path], tmp_path: Path, placeholder: str
) -> None:
    """``b"changeme"`` is graded as ``"changeme"`` is: PG304, critical."""
    write_app(tmp_path, SECRET_KEY=placeholder)
    as_text = secret_findings(report_of(run_check(tmp_path, "--format", "json")))
    write_app(tmp_path, SECRET_KEY=placeholder.encode())
    as_bytes = secret_findings(report_of(run_check(tmp_path, "--format", "json")))
    expected = [("PG304", "critical", "SECRET_KEY is a well-known placeholder value")]
    assert as_text == as_bytes == expected


def test_a_string_of_fallbacks_is_one_key_and_a_critical_finding(
    write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """A str ``SECRET_KEY_FALLBACKS`` gives one PG302 for the whole value and a
    critical PG309, not one finding per character."""
    write_app(tmp_path, SECRET_KEY_FALLBACKS="abcdefgh")
    report = report_of(run_check(tmp_path, "--format", "json"))
    assert secret_findings(report) == [
        ("PG302", "error", "SECRET_KEY_FALLBACKS has only 8 characters"),
        (
            "PG309",
            "critical",
            "SECRET_KEY_FALLBACKS is a str, not a list: Flask takes each of its 8"
            " characters as a key, so a session cookie signed with any one character is"
            " accepted",
        ),
    ]


def test_fallback_entries_of_every_kind(write_app: Callable[..., Path], tmp_path: Path) -> None:
    """A list of fallbacks: None skipped, an empty key critical, bytes and text graded
    alike, another type PG309; each entry named by its index."""
    strong = "6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c"
    write_app(
        tmp_path, SECRET_KEY_FALLBACKS=[None, "", b"changeme", "changeme", 7, strong.encode()]
    )
    report = report_of(run_check(tmp_path, "--format", "json", via="python"))
    assert secret_findings(report) == [
        (
            "PG302",
            "critical",
            "SECRET_KEY_FALLBACKS[1] is empty: anyone can sign a session cookie that Flask"
            " accepts",
        ),
        ("PG304", "critical", "SECRET_KEY_FALLBACKS[2] is a well-known placeholder value"),
        ("PG304", "critical", "SECRET_KEY_FALLBACKS[3] is a well-known placeholder value"),
        (
            "PG309",
            "error",
            "SECRET_KEY_FALLBACKS[4] is of type int, not str or bytes: Flask fails"
            " (TypeError) on the session cookies it must sign or check with it",
        ),
    ]


def _source(value: object) -> str:
    """Python source that builds a scalar (floats and complex numbers from their text)."""
    if isinstance(value, float | complex):
        return f"{type(value).__name__}({str(value)!r})"
    return repr(value)


_placeholders = st.sampled_from(sorted(PLACEHOLDER_SECRETS))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.complex_numbers(),
    st.text(),
    st.binary(),
    _placeholders,
    _placeholders.map(str.encode),
).map(_source)
_hostile = st.sampled_from(
    [
        "Exits()",
        "Raises()",
        "Shadow('changeme')",
        "bytearray(b'dev')",
        "memoryview(b'x' * 40)",
        "iter(['changeme'])",
        "Unreadable(['changeme'])",
        "object()",
        "{'changeme'}",
    ]
)
#: Python source of a value of any type: scalars, hostile objects, and lists,
#: tuples, frozensets and dicts of them.
_values = st.recursive(
    st.one_of(_scalars, _hostile),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(inner, max_size=4).map(
            lambda items: "(" + "".join(i + ", " for i in items) + ")"
        ),
        st.dictionaries(_scalars, inner, max_size=3).map(
            lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"
        ),
    ),
    max_leaves=6,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    secret_key=_values,
    fallbacks=_values,
    via=st.sampled_from(["flask", "python"]),
)
def test_any_secret_key_value_gives_a_report_never_a_traceback(
    write_app: Callable[..., Path],
    tmp_path: Path,
    secret_key: str,
    fallbacks: str,
    via: str,
) -> None:
    """Property: any SECRET_KEY and SECRET_KEY_FALLBACKS, through the real command:
    status 0, 1 or 2, parseable JSON that agrees with it, no traceback."""
    config = (
        f'app.config["SECRET_KEY"] = {secret_key}\n'
        f'app.config["SECRET_KEY_FALLBACKS"] = {fallbacks}'
    )
    write_app(tmp_path, config=config)
    result = run_check(tmp_path, "--format", "json", via=via)
    assert result.returncode in (0, 1, 2), result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.returncode
    if result.returncode == 2:
        # Only a value that ends the process while it is read stops the checks.
        assert "Exits()" in config, result.stderr
        assert report["error"] == "the checks were stopped: SystemExit: 0"
    else:
        ids = [f["id"] for f in report["findings"]]
        assert set(ids) <= set(REGISTRY), ids
