"""Red team for issue 17: the scan's new value flow (functions run over values,
methods and ``__init__``, data files, star imports, ``.flaskenv``/``.env``).

The scan is a CI gate over whatever a pull request brings. Each test is one
attack: on the analysis's limits (a silent :data:`UNKNOWN` where the scanner
of 6783b83 found the form), on its cost, on what it reads, and on PGS108. An
attack that works is marked ``xfail(strict=True)``, its reason naming the fix;
the others are attacks that failed and cover ground tests/test_scan_hostile.py
does not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask_prodguard.tools.scan import scan

pytestmark = pytest.mark.timeout(60)

HEAD = "from flask import Flask\napp = Flask(__name__)\n"


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative name -> text) under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def rules(root: Path) -> list[str]:
    """The rules the scan reports under ``root``, failing if a file was not analysed."""
    report = scan([root])
    assert not report.skipped, report.skipped
    return [f.rule for f in report.findings]


def scan_process(root: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run the scan's command line over ``root`` (a hang fails the test)."""
    return subprocess.run(
        [sys.executable, "-m", "flask_prodguard.scan", str(root)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- Gates that say green: regressions against the scanner of 6783b83 ---------


def test_a_chain_of_five_helpers_is_still_followed(tmp_path: Path) -> None:
    """f0() -> f1() -> ... -> f4() returning True still turns debug on."""
    functions = "".join(f"def f{i}():\n    return f{i + 1}()\n" for i in range(4))
    code = HEAD + functions + "def f4():\n    return True\napp.run(debug=f0())\n"
    write(tmp_path, {"app.py": code})
    assert rules(tmp_path) == ["PGS101"]


def test_a_long_helper_is_still_followed(tmp_path: Path) -> None:
    """A helper whose one return comes after 450 prints still turns debug on."""
    body = "".join(f"    print({i})\n" for i in range(450))
    code = (
        HEAD + "def want_debug():\n" + body + "    return True\napp.run(debug=want_debug())\n"
    )
    write(tmp_path, {"app.py": code})
    assert rules(tmp_path) == ["PGS101"]


@pytest.mark.parametrize(
    "attempt",
    [
        "        debug = socket.gethostname().endswith('.prod')\n",
        "        from local_settings import debug\n",
    ],
    ids=["unknown-call", "missing-module"],
)
def test_a_value_set_in_an_except_handler_is_seen(tmp_path: Path, attempt: str) -> None:
    """A debug flag that falls back to True in an except handler is found."""
    code = (
        "import socket\n"
        + HEAD
        + "def want_debug():\n    try:\n"
        + attempt
        + "    except Exception:\n        debug = True\n    return debug\n"
        "app.run(debug=want_debug())\n"
    )
    write(tmp_path, {"app.py": code})
    assert rules(tmp_path) == ["PGS101"]


def test_a_guard_that_raises_when_the_environment_is_unset(tmp_path: Path) -> None:
    """A function that demands APP_MODE and then returns True turns debug on where it is set."""
    code = (
        "import os\n" + HEAD + "def want_debug():\n"
        '    if "APP_MODE" not in os.environ:\n'
        '        raise SystemExit("set APP_MODE")\n'
        "    return True\n"
        "app.run(debug=want_debug())\n"
    )
    write(tmp_path, {"app.py": code})
    assert rules(tmp_path) == ["PGS101"]


# --- PGS108 (.flaskenv/.env) --------------------------------------------------


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_quoted_multiline_value_cannot_hide_flask_debug(tmp_path: Path, quote: str) -> None:
    """A FLASK_DEBUG=0 line inside a quoted value does not switch the earlier =1 off."""
    text = f"FLASK_DEBUG=1\nNOTE={quote}first\nFLASK_DEBUG=0\nlast{quote}\n"
    write(tmp_path, {".flaskenv": text})
    dotenv = pytest.importorskip("dotenv")
    assert dotenv.dotenv_values(tmp_path / ".flaskenv")["FLASK_DEBUG"] == "1"
    assert rules(tmp_path) == ["PGS108"]


def test_a_flaskenv_linked_from_outside_the_tree_is_not_read(tmp_path: Path) -> None:
    """.flaskenv -> ../outside.env: the outside file's FLASK_DEBUG is never read or shown."""
    outside = tmp_path / "outside.env"
    outside.write_text("FLASK_DEBUG=secret-from-outside\n", encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / ".flaskenv").symlink_to(outside)
    report = scan([project])
    shown = [step.code for finding in report.findings for step in finding.chain]
    assert not any("secret-from-outside" in code for code in shown), shown
    assert [f.rule for f in report.findings] == []


# --- Cost ------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_module_level_fan_out_of_names_ends_quickly(tmp_path: Path) -> None:
    """Four levels of 64-item lists of names end in seconds (found or not analysed)."""
    lines = [HEAD + "x0 = True"]
    for level in range(1, 5):
        lines.append(f"x{level} = [" + ", ".join([f"x{level - 1}"] * 64) + "]")
    lines.append("app.run(debug=x4)\n")
    write(tmp_path, {"app.py": "\n".join(lines)})
    result = scan_process(tmp_path, timeout=15)
    assert result.returncode in (1, 2), result.stdout


# --- Pre-existing limit (6783b83 too) ----------------------------------------


def test_a_long_chain_of_aliases_is_followed_or_fails_closed(tmp_path: Path) -> None:
    """debug=a13 where a13 = a12 = ... = a0 = True is found or reported not analysed."""
    aliases = "".join(f"a{i} = a{i - 1}\n" for i in range(1, 14))
    write(tmp_path, {"app.py": HEAD + "a0 = True\n" + aliases + "app.run(debug=a13)\n"})
    report = scan([tmp_path])
    assert report.skipped or [f.rule for f in report.findings] == ["PGS101"]


# --- Attacks that failed (coverage beyond tests/test_scan_hostile.py) -----------


def test_yaml_alias_bomb_is_not_expanded(tmp_path: Path) -> None:
    """A YAML billion-laughs (10 levels of 10 aliases) loads at once, without blow-up."""
    pytest.importorskip("yaml")
    anchors = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        anchors.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    anchors.append("debug: [*a9]")
    code = (
        "import yaml\n" + HEAD + 'with open("settings.yaml") as f:\n'
        "    SETTINGS = yaml.safe_load(f)\n"
        'app.run(debug=SETTINGS["debug"])\n'
    )
    write(tmp_path, {"app.py": code, "settings.yaml": "\n".join(anchors) + "\n"})
    result = scan_process(tmp_path, timeout=20)
    assert result.returncode == 1, result.stdout + result.stderr


@pytest.mark.parametrize(
    "code",
    [
        # Classes whose bases name each other, both calling super().__init__().
        "class A(B):\n    def __init__(self):\n        super().__init__()\n"
        "        self.debug = True\n"
        "class B(A):\n    def __init__(self):\n        super().__init__()\n"
        "app.run(debug=A().debug)\n",
        # Properties that read each other.
        "class S:\n    @property\n    def a(self):\n        return self.b\n"
        "    @property\n    def b(self):\n        return self.a\n"
        "app.run(debug=S().a)\n",
        # Methods that call each other through self.
        "class S:\n    def a(self):\n        return self.b()\n"
        "    def b(self):\n        return self.a()\n"
        "app.run(debug=S().a())\n",
    ],
    ids=["super-init-cycle", "property-cycle", "method-cycle"],
)
def test_cycles_through_classes_end(tmp_path: Path, code: str) -> None:
    """Cycles through bases, properties and methods end at once, with exit 0/1/2."""
    write(tmp_path, {"app.py": HEAD + code})
    result = scan_process(tmp_path, timeout=20)
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr


def test_star_imports_of_each_other_end(tmp_path: Path) -> None:
    """a.py and b.py star-import each other: the scan ends without a traceback."""
    write(
        tmp_path,
        {
            "a.py": "from b import *\nX = 1\n",
            "b.py": "from a import *\n" + HEAD + "app.run(debug=DEBUG)\n",
        },
    )
    result = scan_process(tmp_path, timeout=20)
    assert result.returncode in (0, 2), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
