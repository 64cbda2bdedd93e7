"""The deployment check registry: each check on and off, sources, silencing."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard import UnsafeDeploymentError
from flask_prodguard import advisories
from flask_prodguard.checks import PLACEHOLDER_SECRETS
from flask_prodguard.checks import REGISTRY
from flask_prodguard.checks import CheckContext
from flask_prodguard.checks import Severity
from flask_prodguard.checks import checks_reference
from flask_prodguard.checks import read_dotenv
from flask_prodguard.checks import run_checks
from flask_prodguard.config import load_settings
from flask_prodguard.testing import capture_events
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.debug import DebuggedApplication

DOCS = Path(__file__).resolve().parent.parent / "docs" / "checks.rst"


def ids(app: Flask, environ: dict[str, str] | None = None, **context: Any) -> list[str]:
    ctx = CheckContext(app, environ or {}, cli=True, **context)
    return [f.check_id for f in run_checks(ctx)]


@pytest.fixture
def clean_app(build_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Return ``clean_app(**config)``: the test app, counted as guarded, not guarded."""

    def factory(**config: Any) -> Flask:
        app = build_app("checks", **config)
        app.extensions["prodguard"] = object()  # counts as guarded for PG207
        return app

    return factory


def test_clean_app_has_no_findings(clean_app: Callable[..., Flask]) -> None:
    """Control: a well-configured app passes every check."""
    assert ids(clean_app()) == []


@pytest.mark.parametrize(
    ("check_id", "config", "environ"),
    [
        ("PG101", {"DEBUG": True}, {}),
        ("PG101", {}, {"FLASK_DEBUG": "1"}),
        ("PG103", {}, {"WERKZEUG_DEBUG_PIN": "off"}),
        ("PG104", {"DEBUG_TB_ENABLED": True}, {}),
        ("PG201", {"TESTING": True}, {}),
        ("PG202", {"PROPAGATE_EXCEPTIONS": True}, {}),
        ("PG203", {"TRAP_HTTP_EXCEPTIONS": True}, {}),
        ("PG204", {"TRAP_BAD_REQUEST_ERRORS": True}, {}),
        ("PG205", {"EXPLAIN_TEMPLATE_LOADING": True}, {}),
        ("PG206", {"TEMPLATES_AUTO_RELOAD": True}, {}),
        ("PG301", {"SECRET_KEY": None}, {}),
        ("PG302", {"SECRET_KEY": "k8#Lq2!vZ"}, {}),
        ("PG303", {"SECRET_KEY": "ab" * 20}, {}),
        ("PG304", {"SECRET_KEY": "you-will-never-guess"}, {}),
        ("PG304", {"SECRET_KEY_FALLBACKS": ["changeme"]}, {}),
        ("PG305", {"SESSION_COOKIE_SECURE": False}, {}),
        ("PG306", {"SESSION_COOKIE_HTTPONLY": False}, {}),
        ("PG307", {"SESSION_COOKIE_SAMESITE": None}, {}),
        ("PG308", {"MAX_CONTENT_LENGTH": None}, {}),
    ],
)
def test_each_config_check_on_and_off(
    clean_app: Callable[..., Flask],
    check_id: str,
    config: dict[str, Any],
    environ: dict[str, str],
) -> None:
    """Each check fires for its condition and is silent on the clean app."""
    assert check_id not in ids(clean_app())
    found = ids(clean_app(**config), environ)
    assert check_id in found


def test_debugger_in_chain_pg102(clean_app: Callable[..., Flask]) -> None:
    """PG102: a DebuggedApplication inside app.wsgi_app."""
    app = clean_app()
    assert "PG102" not in ids(app)
    app.wsgi_app = DebuggedApplication(app.wsgi_app)  # type: ignore[method-assign]
    assert "PG102" in ids(app)


def test_dev_server_pg105_only_in_process(clean_app: Callable[..., Flask]) -> None:
    """PG105: the reloader child is a finding in the serving process, not in the CLI."""
    app = clean_app()
    ctx = CheckContext(app, {"WERKZEUG_RUN_MAIN": "true"}, cli=False)
    assert "PG105" in [f.check_id for f in run_checks(ctx)]
    assert "PG105" not in ids(app, {"WERKZEUG_RUN_MAIN": "true"})


def test_not_guarded_pg207(
    clean_app: Callable[..., Flask], build_app: Callable[..., Flask]
) -> None:
    """PG207: an app that never called ProdGuard(app)."""
    assert "PG207" in ids(build_app("bare"))
    assert "PG207" not in ids(clean_app())


def test_weak_strictness_pg208(clean_app: Callable[..., Flask]) -> None:
    """PG208: report or off in production is itself a finding."""
    weak = load_settings(
        {"PRODGUARD_ENV": "production", "PRODGUARD_STRICTNESS": "report"}, {}, {}
    )
    strong = load_settings({"PRODGUARD_ENV": "production"}, {}, {})
    assert "PG208" in ids(clean_app(), settings=weak)
    assert "PG208" not in ids(clean_app(), settings=strong)


@pytest.mark.parametrize(
    ("package", "version", "ghsa"),
    [
        ("werkzeug", "3.0.1", "GHSA-2g68-c3qc-8985"),
        ("werkzeug", "3.1.5", "GHSA-29vq-49wr-vm6x"),
        ("flask", "3.1.0", "GHSA-4grg-w6v8-c28g"),
        ("flask", "2.3.1", "GHSA-m2qf-hxjv-5gpq"),
    ],
)
def test_advisories_pg401_pg402(
    clean_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    package: str,
    version: str,
    ghsa: str,
) -> None:
    """PG401/PG402: an installed version with a known advisory is an error."""
    from flask_prodguard import checks

    assert not [i for i in ids(clean_app()) if i in ("PG401", "PG402")]
    real = checks.installed_version
    monkeypatch.setattr(
        checks, "installed_version", lambda name: version if name == package else real(name)
    )
    ctx = CheckContext(clean_app(), {}, cli=True)
    found = [f for f in run_checks(ctx) if f.check_id in ("PG401", "PG402")]
    assert any(ghsa in f.message for f in found)
    assert {f.severity for f in found} == {Severity.ERROR}


def test_advisory_ranges() -> None:
    """Versions inside a fixed range's gap are not flagged (2.3.2 has the 2.2.5 fix)."""
    assert not [a for a in advisories.affecting("flask", "2.3.2") if a.cve == "CVE-2023-30861"]
    assert [a for a in advisories.affecting("flask", "2.3.1") if a.cve == "CVE-2023-30861"]


def test_events_unheard_pg501(clean_app: Callable[..., Flask]) -> None:
    """PG501: the security logger silenced above WARNING."""
    import logging

    logger = logging.getLogger("flask_prodguard.security")
    level = logger.level
    try:
        assert "PG501" not in ids(clean_app())
        logger.setLevel(logging.CRITICAL)
        assert "PG501" in ids(clean_app())
    finally:
        logger.setLevel(level)


def test_structlog_locals_pg502(clean_app: Callable[..., Flask]) -> None:
    """PG502: structlog configured to log tracebacks with local variables."""
    import structlog

    try:
        assert "PG502" not in ids(clean_app())
        structlog.configure(processors=[structlog.processors.dict_tracebacks])
        assert "PG502" in ids(clean_app())
        transformer = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        structlog.configure(processors=[structlog.processors.ExceptionRenderer(transformer)])
        assert "PG502" not in ids(clean_app())
    finally:
        structlog.reset_defaults()


def test_development_under_server_pg601(clean_app: Callable[..., Flask]) -> None:
    """PG601: PRODGUARD_ENV=development while gunicorn serves."""
    dev = load_settings({"PRODGUARD_ENV": "development"}, {}, {})
    gunicorn = {"SERVER_SOFTWARE": "gunicorn/27.0.1"}
    assert "PG601" in ids(clean_app(), gunicorn, settings=dev)
    assert "PG601" not in ids(clean_app(), {}, settings=dev)


def test_dotenv_pg602(clean_app: Callable[..., Flask], tmp_path: Path) -> None:
    """PG602: settings that live only in .env/.flaskenv."""
    (tmp_path / ".flaskenv").write_text("FLASK_APP=app\nPRODGUARD_ENV=production\n# c\n")
    (tmp_path / ".env").write_text('export SECRET_KEY="abc"\nOTHER=1\n')
    dotenv = read_dotenv(tmp_path)
    assert dotenv["PRODGUARD_ENV"] == (".flaskenv", "production")
    assert dotenv["SECRET_KEY"] == (".env", "abc")
    found = run_checks(CheckContext(clean_app(), {}, dotenv=dotenv, cli=True))
    (finding,) = [f for f in found if f.check_id == "PG602"]
    assert "PRODGUARD_ENV" in finding.message and ".flaskenv" in finding.source


def test_sources_env_var_dotenv_config_default(
    clean_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """Each finding says where the value came from."""
    (tmp_path / ".flaskenv").write_text("FLASK_DEBUG=1\n")
    dotenv = read_dotenv(tmp_path)
    by_env = run_checks(CheckContext(clean_app(), {"FLASK_DEBUG": "1"}, cli=True))
    assert by_env[0].source == "environment variable FLASK_DEBUG"
    by_dotenv = run_checks(
        CheckContext(clean_app(), {"FLASK_DEBUG": "1"}, dotenv=dotenv, cli=True)
    )
    assert by_dotenv[0].source == ".flaskenv (FLASK_DEBUG)"
    by_config = run_checks(CheckContext(clean_app(DEBUG=True), {}, cli=True))
    assert by_config[0].source == "app.config DEBUG"
    app = clean_app()
    app.config["SESSION_COOKIE_SECURE"] = False
    (insecure,) = run_checks(CheckContext(app, {}, cli=True))
    assert insecure.source == "Flask default (SESSION_COOKIE_SECURE)"


def test_every_check_has_id_severity_hint_and_anchor() -> None:
    """Each registered check has a stable id in its family, a hint and a docs anchor."""
    for check_id, info in REGISTRY.items():
        assert check_id[:2] == "PG" and check_id[2] in "123456" and len(check_id) == 5
        assert info.hint and info.title
        assert isinstance(info.severity, Severity)


def test_init_app_reports_checks_as_events(build_app: Callable[..., Flask]) -> None:
    """enforce: check findings become prodguard.check.failed events; nothing refused."""
    with capture_events() as events:
        ProdGuard(build_app("check-events", PRODGUARD_ENV="production", SECRET_KEY="changeme"))
    (failed,) = [e for e in events if e["event"] == "prodguard.check.failed"]
    assert failed["check_id"] == "PG304" and failed["severity"] == "critical"
    assert failed["source"] == "app.config SECRET_KEY" and failed["action"] == "reported"


def test_strict_refuses_error_findings_not_warnings(build_app: Callable[..., Flask]) -> None:
    """strict: error-level check findings refuse; warnings do not."""
    app = build_app(
        "strict-warn",
        PRODGUARD_ENV="production",
        PRODGUARD_STRICTNESS="strict",
        SESSION_COOKIE_SECURE=False,
    )
    ProdGuard(app)
    refused = build_app(
        "strict-err",
        PRODGUARD_ENV="production",
        PRODGUARD_STRICTNESS="strict",
        SECRET_KEY="dev",
    )
    with pytest.raises(UnsafeDeploymentError, match="PG304"):
        ProdGuard(refused)


def test_silenced_checks_skip_and_unknown_ids_are_findings(
    build_app: Callable[..., Flask], event_names: Callable[[list[dict[str, Any]]], list[str]]
) -> None:
    """PRODGUARD_SILENCED_CHECKS silences by id; an unknown id is PG603."""
    with capture_events() as events:
        ProdGuard(
            build_app(
                "silenced",
                PRODGUARD_ENV="production",
                MAX_CONTENT_LENGTH=None,
                PRODGUARD_SILENCED_CHECKS=["PG308", "pg999"],
            )
        )
    failed = [e["check_id"] for e in events if e["event"] == "prodguard.check.failed"]
    assert failed == ["PG603"]
    assert "prodguard.startup.posture" in event_names(events)


def test_docs_reference_lists_every_check_with_its_anchor() -> None:
    """The checks reference names each check under the anchor its finding links to."""
    reference = checks_reference()
    for check_id, info in REGISTRY.items():
        assert f".. _{check_id.lower()}:" in reference
        assert f"{check_id}: {info.title}" in reference
    # The docs page is that reference, rendered at build time (tests/test_docs.py
    # builds it and checks the anchors in the HTML).
    assert ".. prodguard-checks::" in DOCS.read_text(encoding="utf-8")


def test_safe_settings_really_are_safe(
    clean_app: Callable[..., Flask], safe_settings: dict[str, Any]
) -> None:
    """The test suite's safe settings pass every config check (guards the other tests)."""
    assert ids(clean_app(**safe_settings)) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"error.html": "<h1>{{ status }} {{ title }}</h1><p>{{ error_id }}</p>"}, []),
        ({}, ["PG604"]),  # not found
        ({"error.html": "{% if status %}unclosed"}, ["PG604"]),  # does not compile
    ],
    ids=["loads", "missing", "syntax-error"],
)
def test_error_template_is_checked_at_start(
    build_app: Callable[..., Flask], tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    """PRODGUARD_ERROR_TEMPLATE that cannot load is a warning at start, not a surprise later."""
    (tmp_path / "templates").mkdir()
    for name, text in files.items():
        (tmp_path / "templates" / name).write_text(text)
    app = build_app("template-check", PRODGUARD_ERROR_TEMPLATE="error.html")
    app.root_path = str(tmp_path)
    with capture_events() as events:
        ProdGuard(app, env="production")
    found = [e for e in events if e["event"] == "prodguard.check.failed"]
    assert [e["check_id"] for e in found] == expected
    if expected:
        assert found[0]["severity"] == "warning"
        assert "error.html" in found[0]["finding"]


def test_flags_switched_on_after_init_app_keep_their_own_check_ids(
    clean_app: Callable[..., Flask],
) -> None:
    """A flag turned on after ProdGuard(app) is found at the first request under its own id."""
    from flask_prodguard.checks import late_findings

    app = clean_app()
    app.config.update(TRAP_HTTP_EXCEPTIONS=True, TEMPLATES_AUTO_RELOAD=True)
    settings = load_settings({"PRODGUARD_ENV": "production"}, {}, {})
    late = late_findings(app, {}, settings, debugger_hook_active=False)
    found = {f.check_id: f for f in late}
    assert set(found) == {"PG203", "PG206"}
    assert found["PG206"].severity is Severity.WARNING
    assert found["PG203"].hint == REGISTRY["PG203"].hint


# -- SECRET_KEY and SECRET_KEY_FALLBACKS of any type (issue 19) ------------------------


class _Unreadable:
    """An app's object that cannot be read: truth, text, length and iteration raise."""

    def __bool__(self) -> bool:
        raise ValueError("the truth value is ambiguous")

    def __str__(self) -> str:
        raise ValueError("no text")

    __repr__ = __str__

    def __len__(self) -> int:
        raise ValueError("no length")


class _EmptyUncomparable:
    """An empty app object that cannot be compared (an empty array, say)."""

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        raise ValueError("compared element by element")

    __hash__ = object.__hash__


class _Shadow(str):
    """A str whose own methods lie or raise: the checks must read the text itself."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def lower(self) -> str:  # type: ignore[override]
        return "not-a-placeholder"

    def strip(self, chars: str | None = None) -> str:
        raise RuntimeError("no strip")

    def __len__(self) -> int:
        return 64


class _UnreadableList(list[str]):
    """A list that raises when it is iterated."""

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("no iteration")


def _value_id(value: object) -> str:
    """A test id for a value, short, even for one whose repr raises."""
    try:
        return repr(value)[:30]
    except ValueError:
        return type(value).__name__


_STRONG = "6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c"


def secret_findings(app: Flask) -> list[tuple[str, str, str]]:
    """(id, severity, message) of the secret key findings of ``app`` (PG301-PG304, PG309)."""
    return [
        (f.check_id, str(f.severity), f.message)
        for f in run_checks(CheckContext(app, {}, cli=True))
        if f.check_id in ("PG301", "PG302", "PG303", "PG304", "PG309")
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (_STRONG, []),
        (_STRONG.encode(), []),
        (bytearray(_STRONG.encode()), []),
        (bytes(range(256)), []),  # random bytes: not UTF-8, read as latin-1
        ("changeme", [("PG304", "critical")]),
        (b"changeme", [("PG304", "critical")]),
        (b" ChangeMe ", [("PG304", "critical")]),
        (bytearray(b"dev"), [("PG304", "critical")]),
        (_Shadow("changeme"), [("PG304", "critical")]),
        ("k8#Lq2!vZ", [("PG302", "error")]),
        (b"k8#Lq2!vZ", [("PG302", "error")]),
        (b"ab" * 20, [("PG303", "warning")]),
        (None, [("PG301", "warning")]),
        ("", [("PG301", "warning")]),
        (b"", [("PG301", "warning")]),
        (0, [("PG301", "warning")]),  # Flask counts a false key as no key
        (_EmptyUncomparable(), [("PG301", "warning")]),
        (12345, [("PG309", "error")]),
        (1.5, [("PG309", "error")]),
        (True, [("PG309", "error")]),
        (["changeme"], [("PG309", "error")]),
        (memoryview(b"x" * 40), [("PG309", "error")]),
        (_Unreadable(), [("PG309", "error")]),
    ],
    ids=_value_id,
)
def test_secret_key_of_every_type(
    clean_app: Callable[..., Flask], value: object, expected: list[tuple[str, str]]
) -> None:
    """SECRET_KEY of any type: str and bytes graded alike, any other type PG309, no crash."""
    found = secret_findings(clean_app(SECRET_KEY=value))
    assert [(check_id, severity) for check_id, severity, _ in found] == expected


@pytest.mark.parametrize(
    ("fallbacks", "expected"),
    [
        (None, []),
        ([], []),
        ("", []),
        ([None, _STRONG, _STRONG.encode()], []),
        ([b"changeme", "changeme"], [("PG304", "[0]"), ("PG304", "[1]")]),
        ([""], [("PG302", "[0]")]),
        ("abcdefgh", [("PG302", ""), ("PG309", "")]),
        (b"changeme", [("PG304", ""), ("PG309", "")]),
        ([_STRONG, 7], [("PG309", "[1]")]),
        (7, [("PG309", "")]),
        # Flask takes a dict's keys (keys.extend(fallbacks)): graded as keys.
        ({"changeme": 1}, [("PG304", "[0]"), ("PG309", "")]),
        (iter(["changeme"]), [("PG309", "")]),
        (_Unreadable(), [("PG309", "")]),
        (_UnreadableList(["changeme"]), [("PG309", "")]),
    ],
    ids=_value_id,
)
def test_secret_key_fallbacks_of_every_type(
    clean_app: Callable[..., Flask], fallbacks: object, expected: list[tuple[str, str]]
) -> None:
    """SECRET_KEY_FALLBACKS of any type: a list (or a dict's keys) is read entry by
    entry, a str or bytes is one key (and PG309), anything else PG309, never a crash."""
    found = secret_findings(clean_app(SECRET_KEY_FALLBACKS=fallbacks))
    named = [(check_id, message.split(" ")[0]) for check_id, _, message in found]
    assert named == [(i, f"SECRET_KEY_FALLBACKS{where}") for i, where in expected]


def test_severities_of_fallback_shapes(clean_app: Callable[..., Flask]) -> None:
    """A str of fallbacks (every character signs) and an empty fallback (anyone signs)
    are critical; bytes of fallbacks (each byte an int) an error."""
    as_text = secret_findings(clean_app(SECRET_KEY_FALLBACKS="abcdefgh"))
    as_bytes = secret_findings(clean_app(SECRET_KEY_FALLBACKS=b"\xff" * 30))
    empty = secret_findings(clean_app(SECRET_KEY_FALLBACKS=[""]))
    assert [(i, s) for i, s, _ in as_text] == [("PG302", "error"), ("PG309", "critical")]
    assert [(i, s) for i, s, _ in as_bytes] == [("PG303", "warning"), ("PG309", "error")]
    assert [(i, s) for i, s, _ in empty] == [("PG302", "critical")]
    assert "each of its 8 characters as a key" in as_text[1][2]


def test_a_set_of_fallbacks_is_named_in_sorted_order(clean_app: Callable[..., Flask]) -> None:
    """A set's entries are numbered by text, then type, whatever the hash seed: the
    report names the same entry [0] in every process."""
    fallbacks = {"k8#Lq2!vZ", "changeme", "b" * 30, "", 7}
    found = secret_findings(clean_app(SECRET_KEY_FALLBACKS=fallbacks))
    assert [(i, m.split(" ")[0]) for i, _, m in found] == [
        ("PG302", "SECRET_KEY_FALLBACKS[1]"),  # "" (critical)
        ("PG302", "SECRET_KEY_FALLBACKS[4]"),  # "k8#Lq2!vZ"
        ("PG303", "SECRET_KEY_FALLBACKS[2]"),  # "bbb..."
        ("PG304", "SECRET_KEY_FALLBACKS[3]"),  # "changeme"
        ("PG309", "SECRET_KEY_FALLBACKS[0]"),  # 7: no text, and "int" < "str"
    ]


def test_the_checks_do_not_use_up_an_iterator_of_fallbacks(
    clean_app: Callable[..., Flask],
) -> None:
    """An iterator of fallbacks is reported, not read: Flask still sees its keys."""
    keys = iter([_STRONG])
    app = clean_app(SECRET_KEY_FALLBACKS=keys)
    assert [i for i, _, _ in secret_findings(app)] == ["PG309"]
    assert list(keys) == [_STRONG]


_secret_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.complex_numbers(),
        st.text(),
        st.binary(),
        st.binary().map(bytearray),
        st.sampled_from(sorted(PLACEHOLDER_SECRETS)),
        st.sampled_from(sorted(PLACEHOLDER_SECRETS)).map(str.encode),
        st.builds(_Unreadable),
        st.text().map(_Shadow),
        st.lists(st.text()).map(_UnreadableList),
        st.lists(st.text()).map(iter),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.frozensets(st.one_of(st.text(), st.binary(), st.none()), max_size=5),
        st.dictionaries(st.text(), inner, max_size=3),
    ),
    max_leaves=8,
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(secret_key=_secret_values, fallbacks=_secret_values)
def test_any_secret_key_value_never_breaks_the_checks_or_init_app(
    build_app: Callable[..., Flask], secret_key: object, fallbacks: object
) -> None:
    """Property: any SECRET_KEY and SECRET_KEY_FALLBACKS: the checks never raise, and
    a production guard starts (enforce) and reports what they find as events."""
    app = build_app("any-secret", SECRET_KEY=secret_key, SECRET_KEY_FALLBACKS=fallbacks)
    found = {check_id for check_id, _, _ in secret_findings(app)}
    with capture_events() as events:
        ProdGuard(app, env="production")
    reported = {e["check_id"] for e in events if e["event"] == "prodguard.check.failed"}
    assert reported == found
