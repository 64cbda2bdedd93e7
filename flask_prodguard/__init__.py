"""Flask-ProdGuard: make a Flask app safe to run in production."""

from .debugger import restore_debugger as restore_debugger
from .exceptions import AlreadyRegisteredError as AlreadyRegisteredError
from .exceptions import ConfigurationError as ConfigurationError
from .exceptions import ProdGuardError as ProdGuardError
from .exceptions import UnsafeDeploymentError as UnsafeDeploymentError
from .extension import ProdGuard as ProdGuard
from .output import SECURITY_LOGGER_NAME as SECURITY_LOGGER_NAME
from .policy import Environment as Environment
from .policy import Strictness as Strictness
from .serving import serve as serve

__version__ = "0.1.0"
