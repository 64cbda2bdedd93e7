"""Acceptance audit of issue 19: the gaps found, each a strict xfail naming it.

Every case runs the real command line (``python -m flask_prodguard`` or a
script with its own ``FlaskGroup``) on a fresh directory, as the issue's
reporter would. Each test passes once the gap it names is closed, and then
fails as an xfail that no longer fails: remove its marker then.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PYTHON = sys.executable
TIMEOUT = 60
CORPUS = Path(__file__).resolve().parent / "scan_corpus"
BAD = "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n"


def environ(**variables: str) -> dict[str, str]:
    """This process's environment without flask, guard and werkzeug variables."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "PRODGUARD_", "WERKZEUG_"))
    }
    env.update(FLASK_SKIP_DOTENV="1", PYTHONDONTWRITEBYTECODE="1", **variables)
    return env


def prodguard(
    cwd: Path, *args: str, timeout: float = TIMEOUT, **variables: str
) -> subprocess.CompletedProcess[str]:
    """``python -m flask_prodguard ARGS`` in ``cwd``, output captured."""
    return subprocess.run(
        [PYTHON, "-m", "flask_prodguard", *args],
        cwd=cwd,
        env=environ(**variables),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- scan: ignore comments as the compiler counts lines ---------------------------------


# Closed: _ignored() read comments with io.StringIO(source).readline, which
# splits at \n only, while the compiler also ends a line at a lone \r.
@pytest.mark.parametrize(
    ("data", "line"),
    [
        (
            b'"""Entry point."""\rfrom flask import Flask\n\napp = Flask(__name__)\n'
            b"app.run(debug=True)\n# prodguard: ignore\n",
            5,
        ),
        (b"from flask import Flask; Flask('x').run(debug=True)\r# prodguard: ignore\r", 1),
    ],
    ids=["lone CR above, comment on its own line below", "CR-only file"],
)
def test_a_lone_cr_cannot_move_an_ignore_comment_onto_a_finding(
    tmp_path: Path, data: bytes, line: int
) -> None:
    """An ignore comment on its own line (as Python counts lines) silences nothing."""
    (tmp_path / "app.py").write_bytes(data)
    result = prodguard(tmp_path, "scan", ".")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"app.py:{line}:" in result.stdout


# -- scan: nothing in the tree is passed over in silence --------------------------------


# Closed: a symlinked directory inside the tree was neither followed nor listed
# as not analysed: its app was never read and the scan exited 0.
def test_a_symlinked_directory_in_the_tree_is_scanned_or_reported(tmp_path: Path) -> None:
    """A linked package with debug on: a finding or a file not analysed, never exit 0."""
    (tmp_path / "shared" / "web").mkdir(parents=True)
    (tmp_path / "shared" / "web" / "app.py").write_text(BAD)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "web").symlink_to(tmp_path / "shared" / "web")
    assert prodguard(tmp_path, "scan", "project").returncode != 0
    run = json.loads(prodguard(tmp_path, "scan", "project", "--format", "sarif").stdout)
    (invocation,) = run["runs"][0]["invocations"]
    assert run["runs"][0]["results"] or invocation["toolExecutionNotifications"]


# Closed: a module that does not parse and holds no sink word was never parsed,
# even when another module star-imports it (a name read from a star import of
# a top-level module was not followed at all).
def test_a_star_imported_module_that_does_not_parse_is_reported(tmp_path: Path) -> None:
    """``from legacy import *`` of a Python 2 module: listed as not analysed, exit 2."""
    (tmp_path / "legacy.py").write_text('print "legacy"\nVALUE = True\n')
    (tmp_path / "app.py").write_text(
        "from flask import Flask\nfrom legacy import *\napp = Flask(__name__)\n"
        "app.run(debug=VALUE)\n"
    )
    result = prodguard(tmp_path, "scan", ".")
    assert result.returncode == 2, result.stdout
    assert "legacy.py: not analysed" in result.stdout


# -- deploy-config: asks rather than guesses --------------------------------------------


# Closed: for a bare --app MODULE, an app bound by 'import *' or by 'global app'
# in a function was not seen: the gunicorn file called create_app() while Flask
# would serve the other app.
@pytest.mark.parametrize(
    "binding",
    [
        "from other_pg19 import *\n",
        "def _setup():\n    global app\n    app = Flask('other')\n\n_setup()\n",
    ],
    ids=["star import", "global in a function"],
)
def test_gunicorn_asks_when_a_bare_module_may_bind_app_unseen(
    tmp_path: Path, binding: str
) -> None:
    """A module with create_app() and an app bound where the source cannot tell: exit 2."""
    (tmp_path / "other_pg19.py").write_text("from flask import Flask\napp = Flask('other')\n")
    (tmp_path / "web.py").write_text(
        "from flask import Flask\n\ndef create_app():\n    return Flask('made')\n\n" + binding
    )
    result = prodguard(
        tmp_path, "deploy-config", "--target", "gunicorn", "--app", "web",
        "--directory", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout
    assert "--app" in result.stderr


# -- check: secrets and the in-process fallback -------------------------------------------


def write_guarded_app(directory: Path, config: str) -> None:
    """``app.py``: a guarded app, safe but for the ``config`` lines (Python source)."""
    (directory / "app.py").write_text(
        "from flask import Flask\nfrom flask_prodguard import ProdGuard\n"
        "app = Flask(__name__)\n"
        f"app.config['SECRET_KEY'] = {secrets.token_hex()!r}\n"
        "app.config['SESSION_COOKIE_SECURE'] = True\n"
        "app.config['SESSION_COOKIE_SAMESITE'] = 'Lax'\n"
        "app.config['MAX_CONTENT_LENGTH'] = 1024\n" + config + "ProdGuard(app)\n"
    )


# Closed: Flask takes a dict's keys as fallback keys ({'changeme': 1} signs with
# 'changeme'); check graded it PG309 error only, not a critical placeholder.
def test_a_dict_of_fallbacks_holding_a_placeholder_is_critical(tmp_path: Path) -> None:
    """SECRET_KEY_FALLBACKS = {"changeme": 1}: critical, so --fail-level critical exits 1."""
    write_guarded_app(tmp_path, "app.config['SECRET_KEY_FALLBACKS'] = {'changeme': 1}\n")
    result = prodguard(
        tmp_path, "check", "--app", "app", "--fail-level", "critical", "--format", "json",
        PRODGUARD_ENV="production",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr


# Closed: a mistyped secret-named key's value was redacted by a text pattern over
# the message, which stopped at b'...', [...] and {...}: the secret was printed.
@pytest.mark.parametrize(
    "value", ["b'hunter2'", "['hunter2']", "{'k': 'hunter2'}"], ids=["bytes", "list", "dict"]
)
def test_a_mistyped_secret_keys_value_of_any_type_is_redacted(
    tmp_path: Path, value: str
) -> None:
    """PRODGUARD_SECRET_TOKN = b"hunter2" (or a list, a dict): exit 2, no secret shown."""
    write_guarded_app(tmp_path, f"app.config['PRODGUARD_SECRET_TOKN'] = {value}\n")
    result = prodguard(tmp_path, "check", "--app", "app")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PRODGUARD_SECRET_TOKN" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


#: A script with its own FlaskGroup whose factory lives in the script (``__main__``):
#: ``check`` loads it in its own process (docs/cli.rst).
MANAGE = """\
import os
from flask import Flask
from flask.cli import FlaskGroup

def create_app():
    app = Flask("managed")
    app.config["DEBUG"] = True
    if os.environ.get("PG19_HOSTILE") == "atexit":
        import atexit
        atexit.register(os._exit, 0)
    if os.environ.get("PG19_HOSTILE") == "hang":
        import time
        time.sleep(3600)
    return app

cli = FlaskGroup(create_app=create_app)

if __name__ == "__main__":
    cli()
"""


def run_manage(
    directory: Path, hostile: str, *args: str, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """``python manage.py prodguard check ARGS`` with the factory's hostile behaviour."""
    (directory / "manage.py").write_text(MANAGE)
    return subprocess.run(
        [PYTHON, "manage.py", "prodguard", "check", *args],
        cwd=directory,
        env=environ(PG19_HOSTILE=hostile),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.xfail(
    strict=True,
    reason="GAP: the in-process fallback (a FlaskGroup factory of the script) lets an "
    "atexit os._exit(0) replace the exit status after a report with critical findings",
)
def test_the_in_process_check_cannot_end_green_from_atexit(tmp_path: Path) -> None:
    """A factory in manage.py registering os._exit(0) at exit: the findings still exit 1."""
    result = run_manage(tmp_path, "atexit", "--format", "json")
    report = json.loads(result.stdout)
    assert any(f["severity"] == "critical" for f in report["findings"])
    assert result.returncode == report["exit_code"] == 1


@pytest.mark.xfail(
    strict=True,
    reason="GAP: the in-process fallback ignores --timeout: an app that hangs while it "
    "loads hangs the gate",
)
def test_the_in_process_check_honours_the_timeout(tmp_path: Path) -> None:
    """A factory in manage.py that never returns: exit 2 at --timeout 1."""
    try:
        result = run_manage(tmp_path, "hang", "--timeout", "1", timeout=8)
    except subprocess.TimeoutExpired:
        pytest.fail("the check was still running 8 s after its 1 s --timeout")
    assert result.returncode == 2, result.stderr


# -- how it is shown ---------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="GAP: the issue asks for a hostile-files directory in the scan corpus (BOM, "
    "coding lines, Python 2, newer syntax, deep nesting, FIFO, symlinks) with the "
    "expected notifications; the cases exist only as tmp_path tests",
)
def test_the_scan_corpus_has_a_hostile_files_directory() -> None:
    """tests/scan_corpus holds a directory of hostile files and their notifications."""
    assert any(p.is_dir() and "hostile" in p.name for p in CORPUS.iterdir())
