"""pytest plugin shipped with Flask-ProdGuard (entry point ``pytest11``).

Under pytest, the default environment is ``testing`` (strictness ``off``), so
adding ``ProdGuard(app)`` to an app never changes the behaviour of its test
suite. Explicit settings (``PRODGUARD_ENV`` in the process environment, the
``env`` argument, ``app.config``) still win. Disable with ``-p no:prodguard``.
"""

from __future__ import annotations

import pytest

from . import config as _settings


def pytest_configure(config: pytest.Config) -> None:
    _settings.set_pytest_default(True)


def pytest_unconfigure(config: pytest.Config) -> None:
    _settings.set_pytest_default(False)
