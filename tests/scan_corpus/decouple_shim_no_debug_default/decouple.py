# expect: clean
"""The part of python-decouple we use, vendored: settings from the environment."""
import os

_BOOLEANS = {
    "1": True, "yes": True, "true": True, "on": True, "y": True, "t": True,
    "0": False, "no": False, "false": False, "off": False, "n": False, "f": False, "": False,
}


class UndefinedValueError(Exception):
    pass


class Undefined:
    """No default given."""


undefined = Undefined()


def _cast_boolean(value):
    value = str(value).lower()
    if value not in _BOOLEANS:
        raise ValueError(f"not a boolean: {value}")
    return _BOOLEANS[value]


def config(option, default=undefined, cast=undefined):
    """The value of ``option`` in the environment, else ``default``, cast by ``cast``."""
    if option in os.environ:
        value = os.environ[option]
    elif isinstance(default, Undefined):
        raise UndefinedValueError(f"{option} not found. Declare it as an environment variable.")
    else:
        value = default
    if isinstance(cast, Undefined):
        return value
    if cast is bool:
        return _cast_boolean(value)
    return cast(value)
