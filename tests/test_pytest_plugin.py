"""The bundled pytest plugin, seen from a user's own test suite."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask_prodguard import config

pytest_plugins = ["pytester"]

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


@pytest.fixture
def user_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's test file, run by pytester in this process as if in a fresh one.

    The inner session loads the plugin from its ``pytest11`` entry point like
    any pytest run. The plugin's default lives in a module global that this
    session's own copy of the plugin has already set, so it is put back to a
    fresh process's value first: the inner run must set it itself.
    """
    monkeypatch.setattr(config, "_under_pytest", False)
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


def test_plugin_keeps_an_apps_test_suite_working(user_suite: pytest.Pytester) -> None:
    """An app's existing tests pass unchanged after ProdGuard(app) is added."""
    result = user_suite.runpytest()
    result.assert_outcomes(passed=2)


def test_without_plugin_the_default_is_production(user_suite: pytest.Pytester) -> None:
    """Control: with the plugin disabled, the same suite sees production behaviour."""
    result = user_suite.runpytest("-p", "no:prodguard")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED *::test_user_suite_keeps_testing_behaviour*"])


def test_outside_pytest_the_default_is_production() -> None:
    """A plain Python process defaults to production with strictness enforce."""
    # A process of its own: "outside pytest" cannot be had inside this one.
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
