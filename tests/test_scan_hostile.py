"""``flask prodguard scan`` against code and data files built to break it.

The scan runs over what a pull request brings, in CI: a file can be written to
make the analysis work forever, to make it read outside the checkout, or to
hang it on a FIFO. Each case must end quickly, read nothing outside the
scanned tree, and fail closed (exit 2) where it cannot tell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_prodguard.tools.scan import scan

pytestmark = pytest.mark.timeout(60)


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative name -> text) under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def fan_out(levels: int, width: int, leaf: str = "0") -> str:
    """Functions that each call the next one ``width`` times and use every result;
    the last returns ``leaf``."""
    lines = ["from flask import Flask", "app = Flask(__name__)"]
    for level in range(levels):
        lines.append(f"def f{level}():")
        for i in range(width):
            lines.append(
                f"    y{i} = f{level + 1}()" if level < levels - 1 else f"    y{i} = {leaf}"
            )
        lines.append("    return " + " or ".join(f"y{i}" for i in range(width)))
    lines.append("app.run(debug=f0())")
    return "\n".join(lines) + "\n"


def test_calls_that_fan_out_are_not_analysed_and_fail_closed(tmp_path: Path) -> None:
    """Five levels of 300 calls each (300**4 evaluations) end in seconds, as not analysed."""
    write(tmp_path, {"app.py": fan_out(5, 300)})
    result = subprocess.run(
        [sys.executable, "-m", "flask_prodguard.scan", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "too costly to analyse" in result.stdout


def test_fan_out_within_the_budget_is_still_found(tmp_path: Path) -> None:
    """The budget is far above real code: a few levels of calls still decide a finding."""
    write(tmp_path, {"app.py": fan_out(4, 6, leaf="True")})
    report = scan([tmp_path])
    assert not report.skipped
    assert [f.rule for f in report.findings] == ["PGS101"]


def test_mutually_recursive_functions_end(tmp_path: Path) -> None:
    """f() returns g() and g() returns f(): the analysis stops, the value is unknown."""
    write(
        tmp_path,
        {
            "app.py": (
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                "def f(n=3):\n    if n: return g(n)\n    return True\n"
                "def g(n):\n    return f(n)\n"
                "app.run(debug=f())\n"
            )
        },
    )
    report = scan([tmp_path])
    assert not report.skipped
    assert report.findings == []


def test_a_data_file_linked_from_outside_the_tree_is_not_read(tmp_path: Path) -> None:
    """settings.cfg -> a file outside the scanned tree that turns debug on: never read."""
    outside = tmp_path / "outside.cfg"
    outside.write_text("DEBUG = True\n", encoding="utf-8")
    project = tmp_path / "project"
    write(
        project,
        {
            "app.py": (
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                'app.config.from_pyfile("settings.cfg")\n'
            )
        },
    )
    (project / "settings.cfg").symlink_to(outside)
    report = scan([project])
    assert report.findings == []
    # The same file inside the tree is read: the link is what keeps it out.
    (project / "settings.cfg").unlink()
    (project / "settings.cfg").write_text("DEBUG = True\n", encoding="utf-8")
    assert [f.rule for f in scan([project]).findings] == ["PGS103"]


def test_a_relative_path_out_of_the_tree_is_not_read(tmp_path: Path) -> None:
    """from_pyfile("../secrets.cfg") names a file beside the tree: not read."""
    (tmp_path / "secrets.cfg").write_text("DEBUG = True\n", encoding="utf-8")
    project = write(
        tmp_path / "project",
        {
            "app.py": (
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                'app.config.from_pyfile("../secrets.cfg")\n'
            )
        },
    )
    assert scan([project]).findings == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_as_a_data_file_does_not_hang_the_scan(tmp_path: Path) -> None:
    """A FIFO named settings.json, .flaskenv or config.ini is skipped at once."""
    write(
        tmp_path,
        {
            "app.py": (
                "import configparser, json\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                'app.config.from_file("settings.json", load=json.load)\n'
                "cfg = configparser.ConfigParser()\n"
                'cfg.read("config.ini")\n'
                'app.run(debug=cfg.getboolean("server", "debug", fallback=False))\n'
            )
        },
    )
    for name in ("settings.json", "config.ini", ".flaskenv"):
        os.mkfifo(tmp_path / name)
    report = scan([tmp_path])
    assert report.findings == []


def test_a_data_file_over_the_cap_is_not_read(tmp_path: Path) -> None:
    """A config file over 1 MiB is not read (its DEBUG is not taken)."""
    write(
        tmp_path,
        {
            "app.py": (
                "import json\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                'app.config.from_file("settings.json", load=json.load)\n'
            ),
            "settings.json": json.dumps({"DEBUG": True, "PAD": "x" * (1024 * 1024)}),
        },
    )
    assert scan([tmp_path]).findings == []


def test_deeply_nested_data_files_do_not_crash_the_scan(tmp_path: Path) -> None:
    """JSON nested 200,000 deep and a settings.cfg nested 100,000 deep: no crash."""
    write(
        tmp_path,
        {
            "app.py": (
                "import json\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                'app.config.from_file("settings.json", load=json.load)\n'
                'app.config.from_pyfile("settings.cfg")\n'
            ),
            "settings.json": "[" * 200_000 + "]" * 200_000,
            "settings.cfg": "DEBUG = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n",
        },
    )
    report = scan([tmp_path])
    assert report.findings == []


def test_ini_values_are_not_interpolated(tmp_path: Path) -> None:
    """%(name)s chains that would grow a billion times stay as written (no blow-up)."""
    sections = ["[server]", "a0 = " + "x" * 1000]
    for i in range(1, 30):
        sections.append(f"a{i} = %(a{i - 1})s%(a{i - 1})s")
    sections.append("debug = %(a29)s")
    write(
        tmp_path,
        {
            "app.py": (
                "import configparser\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                "cfg = configparser.ConfigParser()\n"
                'cfg.read("config.ini")\n'
                'app.run(debug=cfg.get("server", "debug"))\n'
            ),
            "config.ini": "\n".join(sections) + "\n",
        },
    )
    report = scan([tmp_path])
    # The raw text "%(a29)s" is truthy: the run is flagged, nothing was expanded.
    assert [f.rule for f in report.findings] == ["PGS101"]


def test_odd_text_in_data_files_is_shown_escaped(tmp_path: Path) -> None:
    """A .flaskenv value with terminal escapes and a bidi control cannot forge output."""
    write(tmp_path, {".flaskenv": 'FLASK_DEBUG="1\x1b[2J\u202e"\n'})
    result = subprocess.run(
        [sys.executable, "-m", "flask_prodguard.scan", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "\x1b" not in result.stdout
    assert "\u202e" not in result.stdout
