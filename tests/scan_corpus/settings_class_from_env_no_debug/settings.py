# expect: clean
"""Typed settings; each field can be set from the environment."""
import os
from dataclasses import dataclass


def _flag(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class AppSettings:
    host: str = "127.0.0.1"
    port: int = 5000
    debug: bool = False

    @classmethod
    def from_env(cls):
        return cls(host=os.environ.get("HOST", cls.host), debug=_flag("DEBUG", cls.debug))
