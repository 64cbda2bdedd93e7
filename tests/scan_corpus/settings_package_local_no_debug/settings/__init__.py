# expect: clean
"""Settings: the shared base, then this machine's local.py (not in production images)."""
from .base import *  # noqa: F403

try:
    from .local import *  # noqa: F403
except ImportError:
    pass
