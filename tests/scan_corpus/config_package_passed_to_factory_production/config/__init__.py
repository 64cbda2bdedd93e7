# expect: clean
"""The configurations, one module each, picked by name (FLASK_CONFIG)."""
from .base import Config
from .development import DevelopmentConfig
from .production import ProductionConfig
from .testing import TestingConfig

config = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
    "default": ProductionConfig,
}

__all__ = ["Config", "config"]
