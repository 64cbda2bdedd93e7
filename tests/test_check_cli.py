"""``flask prodguard check`` and ``python -m flask_prodguard check`` as real processes.

Each test writes small app modules to ``tmp_path`` and runs the command there,
the way a developer or a CI job would: exit status, text, JSON and SARIF
output, where each risky value came from (process environment, ``.flaskenv``,
``.env``, code, Flask's defaults), silencing and ``--list``.

The processes get the test process's environment without any ``FLASK_*``,
``PRODGUARD_*`` or ``WERKZEUG_*`` variable, and with ``FLASK_SKIP_DOTENV=1``
unless the test is about dotenv files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask_prodguard.checks import REGISTRY
from jsonschema import Draft4Validator

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json"
SARIF_LEVELS = {"critical": "error", "error": "error", "warning": "warning", "info": "note"}
FINDING_KEYS = {"id", "severity", "message", "hint", "source", "docs"}
TIMEOUT = 60

APP_TEMPLATE = '''\
"""App for tests/test_check_cli.py."""

from flask import Flask
from flask_prodguard import ProdGuard

app = Flask({name})
app.config.update({config!r})
{extra}
'''


@pytest.fixture
def write_app(safe_settings: dict[str, Any]) -> Callable[..., Path]:
    """Return ``write_app(folder, module="app", *, guard=True, safe=True, name=...,
    extra="", **config)``: write ``module`` (dotted for a package) in ``folder``;
    safe settings by default."""

    def write(
        folder: Path,
        module: str = "app",
        *,
        guard: bool = True,
        safe: bool = True,
        name: str = "__name__",
        extra: str = "",
        **config: Any,
    ) -> Path:
        settings = {**(safe_settings if safe else {}), **config}
        lines = [extra] if extra else []
        if guard:
            lines.append("ProdGuard(app)")
        path = folder.joinpath(*module.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in path.relative_to(folder).parents:
            if package != Path("."):
                (folder / package / "__init__.py").touch()
        path.write_text(APP_TEMPLATE.format(name=name, config=settings, extra="\n".join(lines)))
        return path

    return write


def environ(dotenv: bool = False, **extra: str) -> dict[str, str]:
    """The test process's environment without flask, guard and werkzeug variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "PRODGUARD_", "WERKZEUG_"))
    }
    if not dotenv:
        env["FLASK_SKIP_DOTENV"] = "1"
    env.update(extra)
    return env


def run(
    cwd: Path, *args: str, dotenv: bool = False, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd`` with a clean environment; output captured through pipes."""
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environ(dotenv, **extra),
        timeout=TIMEOUT,
    )


def check(
    cwd: Path, *args: str, app: str = "app", dotenv: bool = False, **extra: str
) -> subprocess.CompletedProcess[str]:
    """``flask --app <app> prodguard check <args>`` in ``cwd``."""
    return run(cwd, FLASK, "--app", app, "prodguard", "check", *args, dotenv=dotenv, **extra)


def check_json(
    cwd: Path, *args: str, app: str = "app", dotenv: bool = False, **extra: str
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """``check --format json``: the parsed report and the process."""
    result = check(cwd, "--format", "json", *args, app=app, dotenv=dotenv, **extra)
    assert result.stdout, f"no output (exit {result.returncode}): {result.stderr}"
    return json.loads(result.stdout), result


def finding(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    """The one finding of ``check_id`` in a JSON report."""
    found = [f for f in report["findings"] if f["id"] == check_id]
    assert len(found) == 1, f"{check_id} not reported once: {report['findings']}"
    return found[0]


def ids(report: dict[str, Any]) -> list[str]:
    """The ids of the findings of a JSON report, in order."""
    return [f["id"] for f in report["findings"]]


@pytest.fixture(scope="module")
def sarif_validator() -> Draft4Validator:
    """A validator for the vendored SARIF 2.1.0 schema."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


@pytest.fixture
def write_noisy_app(write_app: Callable[..., Path]) -> Callable[[Path], Path]:
    """Return ``write_noisy_app(folder)``: an app with a critical, an error and a
    warning finding."""

    def write(folder: Path) -> Path:
        return write_app(folder, DEBUG=True, TESTING=True, SESSION_COOKIE_SECURE=False)

    return write


# -- exit status -----------------------------------------------------------------------


def test_clean_app_passes(write_app: Callable[..., Path], tmp_path: Path) -> None:
    """A guarded, well-configured app has no findings and exits 0."""
    write_app(tmp_path)
    result = check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 finding(s)" in result.stdout
    assert "prodguard.startup" not in result.stderr, "inspection must not start the guard"


@pytest.mark.parametrize("flask_debug", [None, "0"], ids=["unset", "FLASK_DEBUG=0"])
def test_debug_in_code_is_critical(
    write_app: Callable[..., Path], tmp_path: Path, flask_debug: str | None
) -> None:
    """``app.config["DEBUG"] = True`` is seen, though flask resets app.debug after loading."""
    write_app(tmp_path, extra='app.config["DEBUG"] = True')
    extra = {} if flask_debug is None else {"FLASK_DEBUG": flask_debug}
    result = check(tmp_path, **extra)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PG101" in result.stdout
    assert "source: app.config DEBUG\n" in result.stdout


@pytest.mark.parametrize(
    ("level", "code"), [("info", 1), ("warning", 1), ("error", 0), ("critical", 0)]
)
def test_warnings_fail_only_at_warning_level(
    write_app: Callable[..., Path], tmp_path: Path, level: str, code: int
) -> None:
    """An app with only warnings fails at --fail-level warning or info, not above."""
    write_app(tmp_path, SESSION_COOKIE_SECURE=False)
    result = check(tmp_path, "--fail-level", level)
    assert result.returncode == code, result.stdout + result.stderr
    assert "PG305" in result.stdout


@pytest.mark.parametrize("level", ["info", "warning", "error", "critical"])
def test_critical_fails_at_every_level(
    write_app: Callable[..., Path], tmp_path: Path, level: str
) -> None:
    """A critical finding fails whatever the fail level."""
    write_app(tmp_path, DEBUG=True)
    result = check(tmp_path, "--fail-level", level)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"fail level {level}." in result.stdout


def test_unknown_fail_level_is_a_usage_error(
    write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """``--fail-level bogus`` is rejected by click with exit 2."""
    write_app(tmp_path)
    result = check(tmp_path, "--fail-level", "bogus")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Invalid value for '--fail-level'" in result.stderr
    assert result.stdout == ""


def test_app_that_cannot_be_imported(tmp_path: Path) -> None:
    """A missing module exits 2 and says that the app could not be loaded, and why."""
    result = check(tmp_path, app="nosuchmodule")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "could not load the app" in result.stderr
    assert "nosuchmodule" in result.stderr
    assert result.stdout == ""


def test_bad_setting_names_key_and_suggestion(
    write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """A misspelt PRODGUARD_ key exits 2 naming the key and the closest valid key."""
    write_app(tmp_path, PRODGUARD_STRICTNES="strict")
    result = check(tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "could not load the app" in result.stderr
    assert "PRODGUARD_STRICTNES " in result.stderr
    assert "Did you mean PRODGUARD_STRICTNESS?" in result.stderr


def test_misspelt_environment_variable_exits_2(
    write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """A misspelt PRODGUARD_ variable in the environment fails the gate, naming the key."""
    write_app(tmp_path)
    result = check(tmp_path, PRODGUARD_STRICTNES="strict")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PRODGUARD_STRICTNES." in result.stderr
    assert "Did you mean PRODGUARD_STRICTNESS?" in result.stderr


# -- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "code"),
    [({}, 0), ({"SESSION_COOKIE_SECURE": False}, 0), ({"DEBUG": True, "TESTING": True}, 1)],
    ids=["clean", "warning", "critical"],
)
def test_json_report(
    write_app: Callable[..., Path], tmp_path: Path, config: dict[str, Any], code: int
) -> None:
    """``--format json`` has the documented fields and the process's exit status."""
    write_app(tmp_path, **config)
    report, result = check_json(tmp_path)
    assert result.returncode == code, result.stderr
    assert set(report) == {"app", "env", "strictness", "fail_level", "findings", "exit_code"}
    assert report["exit_code"] == result.returncode
    assert report["app"] == "app"
    assert report["env"] == "production" and report["strictness"] == "enforce"
    assert report["fail_level"] == "error"
    assert bool(report["findings"]) == bool(config)
    for item in report["findings"]:
        assert set(item) == FINDING_KEYS, item
        assert item["id"] in REGISTRY
        assert item["severity"] in SARIF_LEVELS
        assert all(isinstance(item[key], str) and item[key] for key in FINDING_KEYS), item
        assert item["docs"].endswith("#" + item["id"].lower())


@pytest.mark.parametrize(
    ("module", "uri"), [("app", "app.py"), ("pkg.web", "pkg/web.py")], ids=["module", "package"]
)
def test_sarif_report(
    write_app: Callable[..., Path],
    tmp_path: Path,
    sarif_validator: Draft4Validator,
    module: str,
    uri: str,
) -> None:
    """``--format sarif`` validates and has one result per finding, at the app's file."""
    write_app(tmp_path, module, DEBUG=True, TESTING=True, SESSION_COOKIE_SECURE=False)
    result = check(tmp_path, "--format", "sarif", app=module)
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, errors[0].message
    report, _ = check_json(tmp_path, app=module)

    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(REGISTRY)
    # Rule names are PascalCase words of the title, as code-scanning UIs show them.
    assert rules[0]["name"] == "DebugModeIsOn"
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", rule["name"]) for rule in rules)
    results = run_["results"]
    assert [r["ruleId"] for r in results] == ids(report)
    for sarif_result, item in zip(results, report["findings"], strict=True):
        assert sarif_result["level"] == SARIF_LEVELS[item["severity"]]
        assert rules[sarif_result["ruleIndex"]]["id"] == sarif_result["ruleId"]
        (location,) = sarif_result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == uri
        assert (tmp_path / uri).is_file()
    assert {r["level"] for r in results} == {"error", "warning"}


def test_sarif_report_without_findings(
    write_app: Callable[..., Path], tmp_path: Path, sarif_validator: Draft4Validator
) -> None:
    """A clean app gives a valid SARIF log with an empty result list."""
    write_app(tmp_path)
    result = check(tmp_path, "--format", "sarif")
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, errors[0].message
    assert log["runs"][0]["results"] == []


def test_sarif_location_is_the_file_that_defines_the_app(
    write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """The SARIF location is the app's file even when Flask() is given a name of its own."""
    write_app(tmp_path, name='"shop"', DEBUG=True)
    result = check(tmp_path, "--format", "sarif")
    assert result.returncode == 1, result.stderr
    (sarif_result,) = json.loads(result.stdout)["runs"][0]["results"]
    uri = sarif_result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "app.py", (
        f"SARIF location of app.py (Flask('shop')) is {uri!r}: the URI is built from"
        " app.import_name, not from the module that was loaded"
    )


def test_text_report_groups_by_severity(
    write_noisy_app: Callable[[Path], Path], tmp_path: Path
) -> None:
    """Text output: severity headings, source/fix/docs for each finding, no ANSI codes."""
    write_noisy_app(tmp_path)
    result = check(tmp_path)
    assert result.returncode == 1, result.stderr
    assert "\x1b[" not in result.stdout + result.stderr
    report, _ = check_json(tmp_path)

    lines = result.stdout.splitlines()
    headings = [line for line in lines if line in ("CRITICAL", "ERROR", "WARNING", "INFO")]
    assert headings == ["CRITICAL", "ERROR", "WARNING"]
    seen: dict[str, str] = {}
    heading = ""
    for number, line in enumerate(lines):
        if line in headings:
            heading = line
        elif line.startswith("  PG"):
            check_id, message = line.split(maxsplit=1)
            item = finding(report, check_id)
            seen[check_id] = heading
            assert message == item["message"]
            assert lines[number + 1 : number + 4] == [
                f"         source: {item['source']}",
                f"         fix:    {item['hint']}",
                f"         docs:   {item['docs']}",
            ]
    assert seen == {f["id"]: f["severity"].upper() for f in report["findings"]}
    assert {"PG101", "PG201", "PG305"} <= set(seen)
    assert lines[-1].startswith(f"{len(seen)} finding(s): 1 critical, ")


# -- sources -------------------------------------------------------------------------------


def test_source_environment_variable(write_app: Callable[..., Path], tmp_path: Path) -> None:
    """FLASK_DEBUG=1 in the process environment is named as the source of PG101."""
    write_app(tmp_path)
    report, result = check_json(tmp_path, FLASK_DEBUG="1")
    assert result.returncode == 1
    assert "environment variable FLASK_DEBUG" in finding(report, "PG101")["source"]


def test_source_flaskenv(write_app: Callable[..., Path], tmp_path: Path) -> None:
    """FLASK_DEBUG=1 in .flaskenv, loaded by the flask command, is named as .flaskenv."""
    write_app(tmp_path)
    (tmp_path / ".flaskenv").write_text("FLASK_DEBUG=1\n")
    report, result = check_json(tmp_path, dotenv=True)
    assert result.returncode == 1
    assert ".flaskenv" in finding(report, "PG101")["source"]
    assert "FLASK_DEBUG" in finding(report, "PG602")["message"]

    skipped, _ = check_json(tmp_path, dotenv=True, FLASK_SKIP_DOTENV="1")
    assert "PG101" not in ids(skipped), "control: without the dotenv file debug is off"


def test_source_config(write_app: Callable[..., Path], tmp_path: Path) -> None:
    """DEBUG = True in a config object is named as app.config DEBUG."""
    extra = "class Config:\n    DEBUG = True\n\n\napp.config.from_object(Config)"
    write_app(tmp_path, extra=extra)
    report, _ = check_json(tmp_path)
    assert finding(report, "PG101")["source"] == "app.config DEBUG"


def test_source_flask_default(
    write_app: Callable[..., Path], safe_settings: dict[str, Any], tmp_path: Path
) -> None:
    """SESSION_COOKIE_SECURE left unset is blamed on Flask's default."""
    settings = {k: v for k, v in safe_settings.items() if k != "SESSION_COOKIE_SECURE"}
    write_app(tmp_path, safe=False, **settings)
    report, result = check_json(tmp_path)
    assert result.returncode == 0
    assert ids(report) == ["PG305"]
    assert "Flask default" in finding(report, "PG305")["source"]


def test_source_dotenv_settings(write_app: Callable[..., Path], tmp_path: Path) -> None:
    """PRODGUARD_ENV in .env is loaded by flask and reported as living only there (PG602)."""
    write_app(tmp_path, PRODGUARD_ENV="development")
    (tmp_path / ".env").write_text("PRODGUARD_ENV=production\n")
    report, result = check_json(tmp_path, dotenv=True)
    assert result.returncode == 0
    assert report["env"] == "production", "the .env value wins over app.config"
    item = finding(report, "PG602")
    assert item["severity"] == "warning"
    assert item["source"] == ".env"
    assert "PRODGUARD_ENV" in item["message"]


@pytest.mark.parametrize("where", ["environment", ".flaskenv"])
def test_debug_from_environment_is_not_blamed_on_code(
    write_app: Callable[..., Path], tmp_path: Path, where: str
) -> None:
    """FLASK_DEBUG alone is not reported as DEBUG set in app.config."""
    write_app(tmp_path)
    extra = {}
    if where == "environment":
        extra["FLASK_DEBUG"] = "1"
    else:
        (tmp_path / ".flaskenv").write_text("FLASK_DEBUG=1\n")
    report, _ = check_json(tmp_path, dotenv=where != "environment", **extra)
    source = finding(report, "PG101")["source"]
    assert "app.config" not in source, (
        f"PG101 source is {source!r} but no code sets DEBUG: Flask copies FLASK_DEBUG into"
        " app.config['DEBUG'] at Flask(), and config_source() compares with"
        " default_config (None), so the value is blamed on app.config"
    )


# -- options and settings --------------------------------------------------------------------


def test_env_option_checks_as_production(
    write_app: Callable[..., Path], tmp_path: Path
) -> None:
    """``--env production`` checks a development app as production."""
    write_app(tmp_path, PRODGUARD_ENV="development")
    as_configured, _ = check_json(tmp_path)
    assert as_configured["env"] == "development"
    report, _ = check_json(tmp_path, "--env", "production")
    assert report["env"] == "production"
    assert report["strictness"] == "enforce"


def test_unguarded_app(write_app: Callable[..., Path], tmp_path: Path) -> None:
    """An app that never calls ProdGuard(app) gets PG207 (error) and exits 1."""
    write_app(tmp_path, guard=False)
    report, result = check_json(tmp_path)
    assert result.returncode == 1
    assert ids(report) == ["PG207"]
    assert finding(report, "PG207")["severity"] == "error"
    assert report["env"] is None and report["strictness"] is None
    text = check(tmp_path)
    assert "(not guarded)" in text.stdout and text.returncode == 1


def test_silenced_checks(
    write_app: Callable[..., Path], safe_settings: dict[str, Any], tmp_path: Path
) -> None:
    """Silenced ids are not reported; an unknown silenced id is itself a finding (PG603)."""
    settings = {k: v for k, v in safe_settings.items() if k != "MAX_CONTENT_LENGTH"}
    write_app(tmp_path, safe=False, **settings)
    loud, _ = check_json(tmp_path)
    assert ids(loud) == ["PG308"], "control: PG308 is reported when not silenced"

    write_app(tmp_path, safe=False, PRODGUARD_SILENCED_CHECKS=["PG308", "PG999"], **settings)
    report, result = check_json(tmp_path)
    assert result.returncode == 0
    assert ids(report) == ["PG603"]
    assert "'PG999'" in finding(report, "PG603")["message"]


def test_python_m_matches_flask_command(
    write_noisy_app: Callable[[Path], Path], tmp_path: Path
) -> None:
    """``python -m flask_prodguard check`` reports what ``flask prodguard check`` does."""
    write_noisy_app(tmp_path)
    via_flask, flask_result = check_json(tmp_path)
    result = run(
        tmp_path, PYTHON, "-m", "flask_prodguard", "check", "--app", "app", "--format", "json"
    )
    assert result.returncode == flask_result.returncode == 1, result.stderr
    assert json.loads(result.stdout) == via_flask
    assert len(via_flask["findings"]) >= 3


def test_python_m_takes_the_app_from_flask_app(
    write_noisy_app: Callable[[Path], Path], tmp_path: Path
) -> None:
    """``python -m flask_prodguard`` finds the app through FLASK_APP, as ``flask`` does."""
    write_noisy_app(tmp_path)
    (tmp_path / "app.py").rename(tmp_path / "shop.py")  # not found without being named
    missing = run(tmp_path, PYTHON, "-m", "flask_prodguard", "check", "--format", "json")
    assert missing.returncode == 2, "control: without FLASK_APP there is no app"
    result = run(
        tmp_path, PYTHON, "-m", "flask_prodguard", "check", "--format", "json", FLASK_APP="shop"
    )
    assert result.returncode == 1, result.stderr
    assert len(json.loads(result.stdout)["findings"]) >= 3


def test_list_shows_every_check(write_app: Callable[..., Path], tmp_path: Path) -> None:
    """``--list`` prints every registered check with its severity and title."""
    write_app(tmp_path)
    result = check(tmp_path, "--list")
    assert result.returncode == 0, result.stderr
    rows = [line.split(maxsplit=2) for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == list(REGISTRY)
    for check_id, severity, title in rows:
        assert severity == str(REGISTRY[check_id].severity)
        assert title == REGISTRY[check_id].title
