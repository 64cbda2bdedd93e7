"""Flask-ProdGuard: make a Flask app safe to run in production.

The package has three layers (see the contributing page of the docs):

- the runtime core, flat at the top (:mod:`~flask_prodguard.extension`,
  :mod:`~flask_prodguard.state`, :mod:`~flask_prodguard.config`,
  :mod:`~flask_prodguard.policy`, :mod:`~flask_prodguard.checks`, ...): what
  every worker imports;
- :mod:`flask_prodguard.wsgi`: the request path (middleware, error responses,
  the debugger hook) and :mod:`flask_prodguard.events`: the event pipeline;
- :mod:`flask_prodguard.tools`: the offline commands, which no worker imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from .events.output import SECURITY_LOGGER_NAME as SECURITY_LOGGER_NAME
from .exceptions import AlreadyRegisteredError as AlreadyRegisteredError
from .exceptions import ConfigurationError as ConfigurationError
from .exceptions import ProdGuardError as ProdGuardError
from .exceptions import UnsafeDeploymentError as UnsafeDeploymentError
from .extension import ProdGuard as ProdGuard
from .policy import Environment as Environment
from .policy import Strictness as Strictness
from .wsgi.debugger import restore_debugger as restore_debugger

if TYPE_CHECKING:
    from .tools.serving import serve as serve

__all__ = [
    "SECURITY_LOGGER_NAME",
    "AlreadyRegisteredError",
    "ConfigurationError",
    "Environment",
    "ProdGuard",
    "ProdGuardError",
    "Strictness",
    "UnsafeDeploymentError",
    "restore_debugger",
    "serve",
]

#: The installed distribution's version (``pyproject.toml`` is the one place it
#: is written). Read from the package metadata on first use, as Flask reads its
#: own: the lookup searches ``sys.path``, which a worker importing the guard
#: should not pay for.
__version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version

        try:
            found = version("Flask-ProdGuard")
        except PackageNotFoundError:
            # Imported from a source tree that was never installed.
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    # serve() starts gunicorn or waitress: it lives with the offline tools,
    # loaded only when an app's __main__ asks for it, never by a worker.
    if name == "serve":
        from .tools.serving import serve

        return serve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # The lazy names too, as when they were imported eagerly.
    return sorted({*globals(), "serve", "__version__"})
