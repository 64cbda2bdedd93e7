"""Rough edges a new user hit (issue 16), each shown fixed the way the user met it.

- The development hint and ``.flaskenv``: python-dotenv is needed for the file,
  and the hint says so instead of suggesting a line that is already there.
- ``--behind-proxy``, which ``deploy-config`` names, is documented.
- PG207 names the real source: a module-level app is not an app factory.
- ``python app.py`` (``app.run()``) and ``flask run`` tell the developer the
  same findings in the same words.

The README's examples, the ``capture_events`` one included, are run by
``tests/test_readme.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.state import development_hint

from servers import Server
from servers import server_environ
from servers import start_on_free_port

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DEPLOYMENT = (ROOT / "docs" / "deployment.rst").read_text()
FLASK = str(Path(sys.executable).with_name("flask"))

INSTALL_DOTENV = "install python-dotenv: Flask reads .flaskenv only with it"
SUGGESTS_LINE = "PRODGUARD_ENV=development line in .flaskenv also works"

# -- the development hint and .flaskenv --------------------------------------------------


@pytest.fixture
def without_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-dotenv cannot be imported (as on a machine without it)."""
    monkeypatch.setitem(sys.modules, "dotenv", None)


@pytest.fixture
def production_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default environment is production, as outside pytest."""
    from flask_prodguard import config

    monkeypatch.setattr(config, "_under_pytest", False)


def test_hint_says_to_install_python_dotenv_when_the_line_is_there(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    without_dotenv: None,
    production_by_default: None,
    build_app: Callable[..., Flask],
    events: list[dict[str, Any]],
) -> None:
    """.flaskenv has the line, python-dotenv is missing: every hint says to install it."""
    (tmp_path / ".flaskenv").write_text("FLASK_APP=app\nPRODGUARD_ENV=development\n")
    monkeypatch.chdir(tmp_path)
    ProdGuard(build_app(DEBUG=True))
    hints = {e["event"]: e["hint"] for e in events if e.get("hint")}
    assert set(hints) >= {"prodguard.debug.blocked", "prodguard.startup.posture"}
    for hint in hints.values():
        assert INSTALL_DOTENV in hint
        assert SUGGESTS_LINE not in hint
        assert "export PRODGUARD_ENV=development" in hint


@pytest.mark.parametrize(
    "flaskenv",
    [
        None,
        "FLASK_APP=app\n",
        "# PRODGUARD_ENV=development\n",
        "PRODGUARD_ENVIRONMENT=development\n",
    ],
)
def test_hint_suggests_the_line_and_names_python_dotenv_when_there_is_none(
    tmp_path: Path, without_dotenv: None, flaskenv: str | None
) -> None:
    """No PRODGUARD_ENV line (no file, other lines, a comment): the hint suggests
    one, and says it needs python-dotenv."""
    if flaskenv is not None:
        (tmp_path / ".flaskenv").write_text(flaskenv)
    hint = development_hint(tmp_path)
    assert SUGGESTS_LINE in hint
    assert "python-dotenv installed" in hint


@pytest.mark.parametrize(
    "line",
    [
        "PRODGUARD_ENV=development",
        "export PRODGUARD_ENV=development",
        "  PRODGUARD_ENV = 'development'  # on my laptop",
    ],
)
def test_hint_finds_the_line_as_dotenv_would_read_it(
    tmp_path: Path, without_dotenv: None, line: str
) -> None:
    """The line is found in any form python-dotenv accepts, also from a subdirectory."""
    (tmp_path / ".flaskenv").write_text(f"FLASK_APP=app\n{line}\n")
    below = tmp_path / "src" / "app"
    below.mkdir(parents=True)
    assert INSTALL_DOTENV in development_hint(below)


def test_hint_reads_only_the_nearest_flaskenv(tmp_path: Path, without_dotenv: None) -> None:
    """Flask reads the nearest .flaskenv only: a line in one further up does not count."""
    (tmp_path / ".flaskenv").write_text("PRODGUARD_ENV=development\n")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".flaskenv").write_text("FLASK_APP=app\n")
    assert SUGGESTS_LINE in development_hint(tmp_path / "project")


def test_hint_with_python_dotenv_and_the_line_says_it_was_read_too_late(
    tmp_path: Path,
) -> None:
    """python-dotenv is there, the line too, yet the app ran as production (python
    app.py, gunicorn): the hint says to export the variable, not to add the line."""
    pytest.importorskip("dotenv")  # a test dependency; installed with .[test]
    (tmp_path / ".flaskenv").write_text("PRODGUARD_ENV=development\n")
    hint = development_hint(tmp_path)
    assert SUGGESTS_LINE not in hint and INSTALL_DOTENV not in hint
    assert "export PRODGUARD_ENV=development" in hint
    assert "not read before the app was created" in hint


def test_hint_survives_a_removed_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A working directory that no longer exists gives the plain hint, not an error."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert SUGGESTS_LINE in development_hint()


#: Runs the flask command in a process where python-dotenv cannot be imported.
FLASK_WITHOUT_DOTENV = (
    "import sys\n"
    "sys.modules['dotenv'] = None\n"
    "from flask.cli import main\n"
    "sys.argv[0] = 'flask'\n"
    "main()\n"
)


@pytest.mark.server
def test_flask_run_without_python_dotenv_says_so(tmp_path: Path) -> None:
    """`flask run` with the .flaskenv line but no python-dotenv: the terminal says
    to install python-dotenv, and does not suggest the line again."""
    (tmp_path / "app.py").write_text(APP_SOURCE.format(run="app.run()"))
    (tmp_path / ".flaskenv").write_text("PRODGUARD_ENV=development\n")
    server = start_on_free_port(
        lambda port: [
            sys.executable,
            "-c",
            FLASK_WITHOUT_DOTENV,
            "--app",
            "app",
            "run",
            "--port",
            str(port),
        ],
        tmp_path,
    )
    banner, hint = banner_of(server)
    assert banner, server.logs()
    assert INSTALL_DOTENV in hint and SUGGESTS_LINE not in hint


# -- deploy-config --behind-proxy ---------------------------------------------------------


def command_environ() -> dict[str, str]:
    """No stray Flask or guard settings; this venv's programs first on PATH."""
    env = server_environ()
    env["PATH"] = f"{Path(FLASK).parent}:{env.get('PATH', '')}"
    return env


def deploy_config(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLASK, "prodguard", "deploy-config", *args],
        cwd=cwd,
        env=command_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_option_deploy_config_names_is_documented(tmp_path: Path) -> None:
    """The options the generated files and warnings name (--behind-proxy, ...) are
    explained in the README and in the deployment docs."""
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    said = ""
    for args in (
        ["--target", "nginx"],
        ["--target", "gunicorn", "--app", "app:app"],
        ["--target", "supervisor", "--app", "app:app", "--bind", "0.0.0.0:8000"],
    ):
        result = deploy_config(tmp_path, *args)
        assert result.returncode == 0, result.stderr
        said += result.stdout + result.stderr
    from flask_prodguard.tools.cli import deploy_config_command

    own = {name for param in deploy_config_command.params for name in param.opts}
    own |= {name for param in deploy_config_command.params for name in param.secondary_opts}
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", said)) & own
    assert "--behind-proxy" in options and "--no-behind-proxy" in options
    for option in options:
        assert f"`{option}`" in README or f"{option} " in README, option
        assert f"``{option}``" in DEPLOYMENT or f"{option} " in DEPLOYMENT, option


def test_readme_behind_proxy_example_does_what_it_says(tmp_path: Path) -> None:
    """The README's deploy-config lines: the default trusts one proxy hop, and
    --no-behind-proxy trusts none."""
    [block] = [
        b
        for b in re.findall(r"```sh\n(.*?)```", README, re.S)
        if "--no-behind-proxy" in b and "deploy-config" in b
    ]
    (tmp_path / "myapp.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    for line in block.splitlines():
        result = subprocess.run(
            line,
            shell=True,
            cwd=tmp_path,
            env=command_environ(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, line + result.stderr
    unit = (tmp_path / "deploy" / "myapp.service").read_text()
    assert "Environment=PRODGUARD_TRUSTED_PROXIES=1" in unit
    gunicorn_conf = (tmp_path / "deploy" / "gunicorn.conf.py").read_text()
    assert "PRODGUARD_TRUSTED_PROXIES" not in gunicorn_conf
    assert '"PRODGUARD_ENV=production"' in gunicorn_conf


# -- PG207: the source of an unguarded app --------------------------------------------------


def pg207_source(cwd: Path, app: str) -> str:
    """The source of PG207 in `flask --app APP prodguard check --format json`."""
    result = subprocess.run(
        [FLASK, "--app", app, "prodguard", "check", "--format", "json"],
        cwd=cwd,
        env=server_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["id"] == "PG207"]
    # The fix fits both: a module-level app and a factory.
    assert "app = Flask(__name__)" in finding["hint"] and "app factory" in finding["hint"]
    return str(finding["source"])


@pytest.mark.parametrize(
    ("source", "app", "expected"),
    [
        ("from flask import Flask\napp = Flask(__name__)\n", "aut", "module-level app aut:app"),
        (
            "from flask import Flask\napplication = Flask('renamed')\n",
            "aut:application",
            "module-level app aut:application",
        ),
        (
            "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n",
            "aut",
            "app factory aut:create_app()",
        ),
        (
            "from flask import Flask\ndef build():\n    return Flask(__name__)\n",
            "aut:build()",
            "app 'aut', made inside a function",
        ),
    ],
    ids=["module-level", "module-level-renamed", "factory", "other-function"],
)
def test_pg207_names_where_the_app_is_made(
    tmp_path: Path, source: str, app: str, expected: str
) -> None:
    """PG207's source is the module-level app, or the factory, that made the app:
    "app factory" only when a factory did."""
    (tmp_path / "aut.py").write_text(source)
    assert pg207_source(tmp_path, app) == expected


# -- the developer's banner: app.run() and flask run --------------------------------------

#: An app as a new user writes it; {run} is its last line.
APP_SOURCE = """\
import os

from flask import Flask
from flask_prodguard import ProdGuard

app = Flask(__name__)
ProdGuard(app)


@app.get("/")
def index():
    return "hello"


if __name__ == "__main__":
    {run}
"""


def answers(port: int) -> bool:
    """Whether the development server answers on ``port`` (any status)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True


def banner_of(server: Server) -> tuple[list[tuple[str, str, str]], str]:
    """Wait until the server answers, stop it, and return its Flask-ProdGuard
    banner: the (id, message, source) of each finding, and the hint line."""
    try:
        server.wait_ready(answers)
    finally:
        server.stop()
    lines = [line for line in server.stderr().splitlines() if not line.startswith("{")]
    prefix = " * Flask-ProdGuard: treating this as production ("
    starts = [n for n, line in enumerate(lines) if line.startswith(prefix)]
    assert len(starts) == 1, server.logs()
    start = starts[0]
    described = lines[start][len(prefix) : -len(").")]
    findings = []
    for item in re.split(r"; (?=PG\d{3} )", described):
        check_id, _, rest = item.partition(" ")
        message, _, source = rest.rpartition(" (from ")
        findings.append((check_id, message, source[:-1]))
    return findings, lines[start + 1]


@pytest.mark.server
@pytest.mark.parametrize(
    ("run", "flask_args", "sources"),
    [
        (
            "app.run(debug=True, port=int(os.environ['APP_PORT']))",
            ["--debug"],
            {"PG101": "app.run(debug=True)", "PG105": "app.run()"},
        ),
        ("app.run(port=int(os.environ['APP_PORT']))", [], {"PG105": "app.run()"}),
    ],
    ids=["debug", "no-debug"],
)
def test_app_run_and_flask_run_tell_the_same(
    tmp_path: Path, run: str, flask_args: list[str], sources: dict[str, str]
) -> None:
    """`python app.py` and `flask run` list the same findings in the same words,
    with the same hint; only where each came from differs."""
    (tmp_path / "app.py").write_text(APP_SOURCE.format(run=run))
    script = start_on_free_port(lambda port: [sys.executable, "app.py"], tmp_path)
    script_findings, script_hint = banner_of(script)

    flask_dir = tmp_path / "flask"
    flask_dir.mkdir()
    (flask_dir / "app.py").write_text(APP_SOURCE.format(run=run))
    command = start_on_free_port(
        lambda port: [FLASK, "--app", "app", "run", *flask_args, "--port", str(port)],
        flask_dir,
    )
    command_findings, command_hint = banner_of(command)

    def words(findings: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
        return [(check_id, message) for check_id, message, _ in findings]

    assert words(script_findings) == words(command_findings)
    assert {"PG105", "PG301"} <= {check_id for check_id, _ in words(script_findings)}
    assert script_hint == command_hint
    assert "PRODGUARD_ENV=development" in script_hint
    script_sources = {check_id: source for check_id, _, source in script_findings}
    for check_id, source in sources.items():
        assert script_sources[check_id] == source
