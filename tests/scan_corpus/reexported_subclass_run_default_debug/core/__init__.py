# expect: clean
from .app import ServiceApp

__all__ = ["ServiceApp"]
