"""pytest plugin shipped with Flask-ProdGuard (entry point ``pytest11``).

Under pytest, the default environment is ``testing`` (strictness ``off``), so
adding ``ProdGuard(app)`` to an app never changes the behaviour of its test
suite. Explicit settings (``PRODGUARD_ENV`` in the process environment, the
``env`` argument, ``app.config``) still win. At the end of the session,
flood-control windows still open in test apps are not reported. Disable
with ``-p no:prodguard``.
"""

from __future__ import annotations

import pytest

from . import config as _settings
from .events import flood as _flood


def pytest_configure(config: pytest.Config) -> None:
    """Make ``testing`` the default environment for the session."""
    _settings.set_pytest_default(True)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the process its ``production`` default back."""
    _settings.set_pytest_default(False)
    # The test apps are gone: their last windows are not worth a line on the
    # terminal after the test report.
    _flood.forget_all()
