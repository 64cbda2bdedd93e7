"""``check`` loads the app in a child process that sees what the command sees.

:mod:`flask_prodguard.tools.check_child` runs the loading and the checks in a
new interpreter: these tests run the real command line and show that the app
there still gets the command's interpreter flags, ``sys.argv`` and ``sys.path``;
that a custom ``FlaskGroup``'s factory is loaded in the child when it can be
imported by name, and in the command's own process (with descriptor 1 kept
out of the report) when it cannot; that a check the app's import runs again
does not start children of children; and that ``--timeout`` is validated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask_prodguard.tools import check_child
from flask_prodguard.tools import cli

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))
TIMEOUT = 60

APP = """\
import os
import sys

from flask import Flask
from flask_prodguard import ProdGuard

app = Flask("shop")
app.config.update(
    SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=16777216,
    DEBUG=True,
)
ProdGuard(app)
"""

#: A factory with a critical finding (DEBUG), for the custom group tests.
FACTORY = """\
import os

from flask import Flask
from flask_prodguard import ProdGuard


def create_app():
    {first}
    app = Flask("wiki")
    app.config["DEBUG"] = True
    ProdGuard(app)
    return app
"""

GROUP = """\
from flask.cli import FlaskGroup
{factory}
cli = FlaskGroup(create_app=create_app)

if __name__ == "__main__":
    cli()
"""


def run(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``folder`` with no FLASK_*/PRODGUARD_* variable and no dotenv."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "PRODGUARD_", "WERKZEUG_"))
    }
    env.update(FLASK_SKIP_DOTENV="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        list(argv), cwd=folder, capture_output=True, text=True, env=env, timeout=TIMEOUT
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    """Both streams, for assertion messages."""
    return f"status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def check_json(folder: Path, *argv: str) -> tuple[dict[str, object], int]:
    """Run ``argv`` (a check with ``--format json``): the report and the status."""
    result = run(folder, *argv)
    assert result.stdout, output_of(result)
    return json.loads(result.stdout), result.returncode


def test_the_child_takes_the_interpreter_flags(tmp_path: Path) -> None:
    """python -O: the app's asserts are off in the child as in the command (status 1, not 2)."""
    (tmp_path / "app.py").write_text("assert False, 'asserts are on'\n" + APP)
    argv = ["-m", "flask_prodguard", "check", "--app", "app", "--format", "json"]
    report, status = check_json(tmp_path, PYTHON, "-O", *argv)
    assert (status, report["app"]) == (1, "shop"), report
    report, status = check_json(tmp_path, PYTHON, *argv)
    assert status == 2
    assert report["error"] == "could not load the app: AssertionError: asserts are on"


@pytest.mark.parametrize("entry", ["python -m", "flask"])
def test_the_app_sees_the_commands_argv(tmp_path: Path, entry: str) -> None:
    """sys.argv[1:] at import is the command's arguments, as when the app loaded in-process."""
    (tmp_path / "app.py").write_text(APP + "print('rt argv', sys.argv[1:], file=sys.stderr)\n")
    command = (
        [PYTHON, "-m", "flask_prodguard"] if entry == "python -m" else [FLASK, "prodguard"]
    )
    arguments = ["check", "--app", "app", "--format", "json"]
    result = run(tmp_path, *command, *arguments)
    assert result.returncode == 1, output_of(result)
    shown = ["prodguard", *arguments] if entry == "flask" else arguments
    assert f"rt argv {shown}" in result.stderr


def test_the_child_imports_from_the_commands_sys_path(tmp_path: Path) -> None:
    """A script that runs the command group puts its directory on sys.path; the app,
    loaded in the child, imports a module from there as it did in-process."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "shop_settings.py").write_text("DEBUG = True\n")
    (tmp_path / "tools" / "gate.py").write_text(
        "from flask_prodguard.__main__ import cli\n\ncli(prog_name='gate')\n"
    )
    (tmp_path / "app.py").write_text(APP + "import shop_settings\n")
    report, status = check_json(
        tmp_path, PYTHON, "tools/gate.py", "check", "--app", "app", "--format", "json"
    )
    assert (status, report["app"]) == (1, "shop"), report


@pytest.mark.parametrize("first", ["pass", "os._exit(0)"])
def test_a_custom_groups_importable_factory_is_loaded_in_the_child(
    tmp_path: Path, first: str
) -> None:
    """FlaskGroup(create_app=wiki.create_app): the factory runs in the child (os._exit: 2)."""
    (tmp_path / "wiki").mkdir()
    (tmp_path / "wiki" / "__init__.py").write_text(FACTORY.format(first=first))
    (tmp_path / "manage.py").write_text(GROUP.format(factory="from wiki import create_app\n"))
    report, status = check_json(
        tmp_path, PYTHON, "manage.py", "prodguard", "check", "--format", "json"
    )
    if first == "pass":
        assert (status, report["app"]) == (1, "wiki"), report
    else:
        assert status == 2, report
        assert "exited with status 0 before it wrote the report" in str(report["error"])


def test_a_factory_of_the_script_being_run_loads_in_process(tmp_path: Path) -> None:
    """A factory defined in manage.py itself cannot be imported by name: it loads in the
    command's process, where writes to descriptor 1 still stay out of the report."""
    factory = FACTORY.format(first="os.write(1, b'noise from the factory\\n')")
    (tmp_path / "manage.py").write_text(GROUP.format(factory=factory))
    sarif = run(tmp_path, PYTHON, "manage.py", "prodguard", "check", "--format", "sarif")
    assert sarif.returncode == 1, output_of(sarif)
    assert "PG101" in [r["ruleId"] for r in json.loads(sarif.stdout)["runs"][0]["results"]]
    assert "noise from the factory" in sarif.stderr
    report, status = check_json(
        tmp_path, PYTHON, "manage.py", "prodguard", "check", "--format", "json"
    )
    assert (status, report["app"]) == (1, "wiki"), report


def test_a_check_run_again_while_loading_starts_no_grandchild(tmp_path: Path) -> None:
    """An app whose import runs the check command again: that check runs in the child itself.

    Each run of the app's import says its depth; without the guard every
    check would start a child that imports the app and checks again (cut at
    depth 3 here, by the app).
    """
    (tmp_path / "app.py").write_text(
        APP
        + "depth = int(os.environ.get('RT_DEPTH', '0'))\n"
        + "os.environ['RT_DEPTH'] = str(depth + 1)\n"
        + "print(f'rt depth {depth}', file=sys.stderr)\n"
        + "if depth < 3:\n"
        + "    from flask_prodguard.__main__ import cli\n"
        + "    cli(['check', '--app', 'app', '--format', 'json'], standalone_mode=False)\n"
    )
    result = run(
        tmp_path, PYTHON, "-m", "flask_prodguard", "check", "--app", "app", "--format", "json"
    )
    assert result.returncode == 1, output_of(result)
    assert [f["id"] for f in json.loads(result.stdout)["findings"]] == ["PG101"]
    assert [line for line in result.stderr.splitlines() if "rt depth" in line] == ["rt depth 0"]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "86401"])
def test_timeout_must_be_a_number_of_seconds(tmp_path: Path, value: str) -> None:
    """--timeout takes seconds above 0, up to a day; anything else is a usage error."""
    (tmp_path / "app.py").write_text(APP)
    result = run(
        tmp_path, PYTHON, "-m", "flask_prodguard", "check", "--app", "app", "--timeout", value
    )
    assert result.returncode == 2, output_of(result)
    assert "Invalid value for '--timeout'" in result.stderr


# -- the parent's side, called directly ------------------------------------------------


def echo_job(request: dict[str, Any]) -> dict[str, Any]:
    """A job for run_in_child: hands back its request and what the child saw."""
    return {"request": request, "argv": sys.argv, "in_child": check_child._in_child}


def list_job(request: dict[str, Any]) -> Any:
    """A job whose result is JSON but no object."""
    return [request]


def raising_job(request: dict[str, Any]) -> dict[str, Any]:
    """A job with a bug."""
    raise RuntimeError("a bug in the job")


def test_run_in_child_hands_back_the_jobs_result() -> None:
    """The job runs in another process, with this one's argv, and its dict comes back."""
    result = check_child.run_in_child(echo_job, {"app": "shop:app", "n": [1, None]}, 30)
    assert result == {
        "request": {"app": "shop:app", "n": [1, None]},
        "argv": sys.argv,
        "in_child": True,
    }
    assert check_child._in_child is False


def test_a_result_that_is_no_object_is_no_result() -> None:
    """A job that hands back a JSON list: ChildFailed, as for no result at all."""
    with pytest.raises(check_child.ChildFailed) as failed:
        check_child.run_in_child(list_job, {}, 30)
    assert failed.value.reason.startswith("the process that loads the app exited with status 0")


def test_a_job_that_raises_is_said_with_its_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A bug in the job: its traceback on standard error, ChildFailed with status 70."""
    with pytest.raises(check_child.ChildFailed) as failed:
        check_child.run_in_child(raising_job, {}, 30)
    assert "exited with status 70" in failed.value.reason
    assert "RuntimeError: a bug in the job" in capfd.readouterr().err


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"failed": 2},
        {
            "app": "shop",
            "env": None,
            "strictness": None,
            "env_source": None,
            "location": "a.py",
        },
        {
            "app": 1,
            "env": None,
            "strictness": None,
            "env_source": None,
            "location": "a.py",
            "findings": [],
        },
        {
            "app": "shop",
            "env": 1,
            "strictness": None,
            "env_source": None,
            "location": "a.py",
            "findings": [],
        },
        {
            "app": "shop",
            "env": None,
            "strictness": None,
            "env_source": None,
            "location": "a.py",
            "findings": "PG101",
        },
        {
            "app": "shop",
            "env": None,
            "strictness": None,
            "env_source": None,
            "location": "a.py",
            "findings": [{"id": "PG101"}],
        },
        {
            "app": "shop",
            "env": None,
            "strictness": None,
            "env_source": None,
            "location": "a.py",
            "findings": [
                {
                    "id": "PG999",
                    "severity": "critical",
                    "message": "m",
                    "hint": "h",
                    "source": "s",
                    "condition": "debug_mode",
                }
            ],
        },
        {
            "app": "shop",
            "env": None,
            "strictness": None,
            "env_source": None,
            "location": "a.py",
            "findings": [
                {
                    "id": "PG101",
                    "severity": "fatal",
                    "message": "m",
                    "hint": "h",
                    "source": "s",
                    "condition": "debug_mode",
                }
            ],
        },
        {
            "app": "shop",
            "env": None,
            "strictness": None,
            "env_source": None,
            "location": "a.py",
            "findings": [
                {
                    "id": "PG101",
                    "severity": "critical",
                    "message": "m",
                    "hint": "h",
                    "source": "s",
                    "condition": "nope",
                }
            ],
        },
    ],
)
def test_a_result_that_is_no_report_fails_the_check(data: dict[str, Any]) -> None:
    """A result missing a value, or with one of the wrong type or unknown, is no report."""
    with pytest.raises(cli._CheckStopped) as stopped:
        cli._report_from(data)
    assert (
        stopped.value.reason
        == "the process that loaded the app handed back an unreadable report"
    )
