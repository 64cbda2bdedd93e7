"""The offline tools have one of each: one SARIF writer, one scan command, one command group.

``check`` and ``scan`` write SARIF through :func:`flask_prodguard.tools.sarif.sarif_log`;
``python -m flask_prodguard.scan`` runs the ``flask prodguard scan`` click command;
``deploy-config`` is a command of the group like the others, also under
``python -m flask_prodguard``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from click.testing import Result
from flask_prodguard.__main__ import cli
from flask_prodguard.tools import sarif
from flask_prodguard.tools.cli import prodguard
from flask_prodguard.tools.scan import RULES
from jsonschema import Draft7Validator

TIMEOUT = 60

DIRTY = "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n"
CLEAN = "from flask import Flask\napp = Flask(__name__)\napp.run()\n"

#: A module name no other test imports: the in-process check loads it.
APP_MODULE = "tools_layout_app"
APP_SOURCE = "from flask import Flask\napp = Flask(__name__)\napp.config['DEBUG'] = True\n"

_TEXT = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
_LEVEL = {"enum": ["note", "warning", "error"]}

#: What a code-scanning service needs from a log, whichever command wrote it.
MINIMAL_SARIF = {
    "type": "object",
    "required": ["$schema", "version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "version", "rules"],
                                "properties": {
                                    "name": {"type": "string", "minLength": 1},
                                    "version": {"type": "string", "minLength": 1},
                                    "rules": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {
                                            "type": "object",
                                            "required": [
                                                "id",
                                                "shortDescription",
                                                "help",
                                                "defaultConfiguration",
                                            ],
                                            "properties": {
                                                "id": {"type": "string", "minLength": 1},
                                                "shortDescription": _TEXT,
                                                "help": _TEXT,
                                                "helpUri": {
                                                    "type": "string",
                                                    "pattern": "^https://",
                                                },
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "required": ["level"],
                                                    "properties": {"level": _LEVEL},
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": [
                                "ruleId",
                                "ruleIndex",
                                "level",
                                "message",
                                "locations",
                            ],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "level": _LEVEL,
                                "message": _TEXT,
                                "locations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["physicalLocation"],
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation", "region"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                        "properties": {
                                                            "uri": {
                                                                "type": "string",
                                                                "pattern": r"^[^\\]+$",
                                                            }
                                                        },
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "required": ["startLine"],
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            }
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def assert_minimal_sarif(log: dict[str, Any]) -> None:
    """``log`` has the minimal structure, and each result's index points at its rule."""
    errors = sorted(Draft7Validator(MINIMAL_SARIF).iter_errors(log), key=str)
    assert not errors, errors[0].message
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"], result


def environ() -> dict[str, str]:
    """The test process's environment without flask and guard variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PRODGUARD_"))}


def run_module(cwd: Path, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env=environ(),
    )


def invoke(*args: str) -> Result:
    """``flask prodguard args`` in-process (stderr kept apart from stdout)."""
    return CliRunner().invoke(prodguard, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with a dirty and a clean file and an app module with DEBUG on."""
    (tmp_path / "dirty.py").write_text(DIRTY)
    (tmp_path / "clean.py").write_text(CLEAN)
    (tmp_path / f"{APP_MODULE}.py").write_text(APP_SOURCE)
    monkeypatch.chdir(tmp_path)
    # Flask's app loader puts the working directory on sys.path; this restores it.
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(APP_MODULE, None)


@pytest.fixture
def sarif_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every (tool name, log) :func:`sarif.sarif_log` returns while the test runs."""
    calls: list[tuple[str, dict[str, Any]]] = []
    writer = sarif.sarif_log

    def spy(tool: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        log = writer(tool, *args, **kwargs)
        calls.append((tool, log))
        return log

    monkeypatch.setattr(sarif, "sarif_log", spy)
    return calls


def test_check_and_scan_write_sarif_with_the_one_writer(
    project: Path, sarif_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """Both commands print what sarif_log wrote, and both logs have the same minimal shape."""
    check = invoke("check", "--app", f"{APP_MODULE}:app", "--format", "sarif")
    assert check.exit_code == 1, check.output
    scan = invoke("scan", "dirty.py", "--format", "sarif")
    assert scan.exit_code == 1, scan.output

    assert [tool for tool, _ in sarif_calls] == ["Flask-ProdGuard", "Flask-ProdGuard scan"]
    (_, check_log), (_, scan_log) = sarif_calls
    assert json.loads(check.stdout) == check_log
    assert json.loads(scan.stdout) == scan_log
    for log in (check_log, scan_log):
        assert_minimal_sarif(log)
    check_result = check_log["runs"][0]["results"][0]
    assert check_result["ruleId"] == "PG101"
    location = check_result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == f"{APP_MODULE}.py"
    rule = check_log["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["helpUri"].endswith("#pg101")
    assert [rule["id"] for rule in scan_log["runs"][0]["tool"]["driver"]["rules"]] == list(
        RULES
    )
    (scan_result,) = scan_log["runs"][0]["results"]
    assert scan_result["ruleId"] == "PGS101"
    region = scan_result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 1}


def test_sarif_log_leaves_out_what_is_not_given() -> None:
    """Optional parts are absent, not empty; a result for an unknown rule is refused."""
    rule = sarif.Rule(id="X1", description="d", help="h", level="warning")
    result = sarif.Result(rule_id="X1", level="warning", message="m", uri="a/b.py")
    log = sarif.sarif_log("tool", "1.0", [rule], [result])
    assert_minimal_sarif(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert set(driver) == {"name", "version", "rules"}
    assert set(driver["rules"][0]) == {"id", "shortDescription", "help", "defaultConfiguration"}
    (written,) = log["runs"][0]["results"]
    assert set(written) == {"ruleId", "ruleIndex", "level", "message", "locations"}
    assert written["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    with pytest.raises(KeyError):
        sarif.sarif_log("tool", "1.0", [rule], [sarif.Result("X2", "note", "m", "a.py")])


def test_group_help_lists_deploy_config() -> None:
    """``flask prodguard --help`` lists deploy-config beside the other commands."""
    result = invoke("--help")
    assert result.exit_code == 0
    listed = {
        line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line
    }
    assert listed == {
        "alert-rules",
        "check",
        "deploy-config",
        "events",
        "probe",
        "scan",
        "serve",
    }


def test_module_group_has_the_same_commands(tmp_path: Path) -> None:
    """``python -m flask_prodguard`` has every command of the group; deploy-config runs."""
    assert set(cli.commands) == set(prodguard.commands)
    for name, command in prodguard.commands.items():
        assert cli.commands[name] is command, name
    result = run_module(tmp_path, "flask_prodguard", "deploy-config", "--target", "nginx")
    assert result.returncode == 0, result.stderr
    assert "proxy_pass http://127.0.0.1:8000;" in result.stdout


def test_scan_module_help_is_the_click_command(tmp_path: Path) -> None:
    """``python -m flask_prodguard.scan --help`` (or -h) shows the scan command, named so."""
    for option in ("--help", "-h"):
        result = run_module(tmp_path, "flask_prodguard.scan", option)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(
            "Usage: python -m flask_prodguard.scan [OPTIONS] PATHS..."
        )
        assert "--format [text|json|sarif]" in result.stdout
        assert "Exit status: 0 nothing found, 1 findings, 2 a usage error or a" in result.stdout


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_scan_module_prints_what_the_flask_command_prints(
    project: Path, output_format: str
) -> None:
    """A findings run of the module: exit 1 and the same output as ``flask prodguard scan``."""
    module = run_module(project, "flask_prodguard.scan", "dirty.py", "--format", output_format)
    assert module.returncode == 1, module.stderr
    command = invoke("scan", "dirty.py", "--format", output_format)
    assert command.exit_code == 1
    assert module.stdout == command.stdout
    if output_format == "text":
        assert module.stdout.startswith("dirty.py:3:1: PGS101 app.run() starts")
        assert module.stdout.endswith("\n1 finding(s) in 1 file(s), 3 lines\n")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["clean.py"], 0),
        (["dirty.py", "clean.py"], 1),
        (["missing.py"], 2),
        ([], 2),
        (["dirty.py", "--format", "xml"], 2),
        (["--no-such-option", "dirty.py"], 2),
    ],
    ids=["clean", "findings", "missing-path", "no-path", "bad-format", "bad-option"],
)
def test_scan_module_exit_status(project: Path, args: list[str], code: int) -> None:
    """0 clean, 1 findings, 2 a usage error or a path that does not exist."""
    result = run_module(project, "flask_prodguard.scan", *args)
    assert result.returncode == code, result.stderr
    if code == 2:
        assert "Usage: python -m flask_prodguard.scan" in result.stderr


def test_scan_of_a_path_that_is_no_file_or_directory(project: Path) -> None:
    """A path that exists but is no regular file (a FIFO): reported as not analysed, exit 2,
    without waiting for a writer."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(project / "pipe")
    result = run_module(project, "flask_prodguard.scan", "pipe")
    assert result.returncode == 2
    assert "pipe: not analysed: not a regular file" in result.stdout
    assert "1 file(s) could not be analysed" in result.stderr


def test_importing_the_scan_shim_loads_no_tool(tmp_path: Path) -> None:
    """``import flask_prodguard.scan`` (not run as a script) imports nothing from tools/."""
    code = (
        "import sys, flask_prodguard.scan;"
        "print(sorted(m for m in sys.modules if m.startswith('flask_prodguard.tools')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        env=environ(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"
