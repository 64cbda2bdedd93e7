"""The bundled pytest plugin, seen from a user's own test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USER_TESTS = """
from flask import Flask
from flask_prodguard import ProdGuard

def create_app(**config):
    app = Flask("user")
    app.config.update(DEBUG=True, TESTING=True, **config)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    ProdGuard(app)
    return app

def test_user_suite_keeps_testing_behaviour():
    app = create_app()
    assert app.debug and app.config["TESTING"]
    assert app.extensions["prodguard"].settings.env == "testing"
    try:
        app.test_client().get("/boom")
    except RuntimeError:
        pass
    else:
        raise AssertionError("TESTING should propagate exceptions")

def test_explicit_setting_wins():
    app = create_app(PRODGUARD_ENV="production")
    assert not app.debug
"""


def _run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODGUARD_", "FLASK_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_plugin_keeps_an_apps_test_suite_working(tmp_path: Path) -> None:
    """An app's existing tests pass unchanged after ProdGuard(app) is added."""
    result = _run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_without_plugin_the_default_is_production(tmp_path: Path) -> None:
    """Control: with the plugin disabled, the same suite sees production behaviour."""
    result = _run_pytest(tmp_path, "-p", "no:prodguard")
    assert result.returncode == 1
    assert "1 failed, 1 passed" in result.stdout


def test_outside_pytest_the_default_is_production(tmp_path: Path) -> None:
    """A plain Python process defaults to production with strictness enforce."""
    code = (
        "from flask import Flask\nfrom flask_prodguard import ProdGuard\n"
        "app = Flask('x'); ProdGuard(app)\n"
        "s = app.extensions['prodguard'].settings\nprint(s.env, s.strictness)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRODGUARD_")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.stdout.split() == ["production", "enforce"], result.stderr
