# expect: clean
import os


def env_flag(name, default):
    try:
        raw = os.environ[name]
    except KeyError:
        return default
    return raw.lower() in ("1", "true", "yes")


DEBUG = env_flag("APP_DEBUG", False)
