"""The ``PRODGUARD_*`` configuration keys, their defaults, and their validation.

Every key is declared once, here, with its default and a ``#:`` comment that the
documentation's configuration reference is generated from. Settings are read
once, in ``init_app``, into a frozen :class:`Settings`; nothing reads
``app.config`` per request.

Precedence for each key, highest first:

1. the process environment variable of the same name, for the keys that allow
   it (the operator has the last word over code that was shipped by mistake);
2. the keyword argument given to :class:`~flask_prodguard.ProdGuard`;
3. ``app.config``;
4. the default.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

from .exceptions import ConfigurationError
from .policy import DEFAULT_STRICTNESS
from .policy import Environment
from .policy import Strictness

PREFIX = "PRODGUARD_"


@dataclasses.dataclass(frozen=True)
class Key:
    """The declaration of one configuration key."""

    #: Full name, e.g. ``PRODGUARD_ENV``.
    name: str
    #: Default value; ``None`` means "decided from other settings".
    default: object
    #: Allowed values, for keys that take one of a fixed set.
    choices: tuple[str, ...]
    #: Whether an environment variable of the same name overrides code.
    env_override: bool
    #: One-line description used in the documentation.
    doc: str

    @property
    def argument(self) -> str:
        """Name of the matching :class:`~flask_prodguard.ProdGuard` keyword."""
        return self.name.removeprefix(PREFIX).lower()


#: Every known key, by name.
KEYS: dict[str, Key] = {}


def _declare(
    name: str,
    default: object,
    doc: str,
    *,
    choices: tuple[str, ...] = (),
    env_override: bool = False,
) -> Key:
    key = Key(name, default, choices, env_override, doc)
    KEYS[name] = key
    return key


#: Where the app runs: ``production``, ``staging``, ``development`` or ``testing``.
#: Default ``production`` (``testing`` under pytest, through the bundled plugin).
#: The ``PRODGUARD_ENV`` environment variable overrides code.
ENV = _declare(
    "PRODGUARD_ENV",
    None,
    "Where the app runs. Default production (testing under pytest).",
    choices=tuple(Environment),
    env_override=True,
)

#: What the guard does about unsafe conditions: ``off``, ``report``, ``enforce``
#: or ``strict``. Default ``enforce`` in production and staging, ``off`` in
#: development and testing. The ``PRODGUARD_STRICTNESS`` environment variable
#: overrides code.
STRICTNESS = _declare(
    "PRODGUARD_STRICTNESS",
    None,
    "What the guard does: off, report, enforce or strict. "
    "Default enforce in production and staging, off otherwise.",
    choices=tuple(Strictness),
    env_override=True,
)

# Set by the bundled pytest plugin: under pytest the default environment is
# "testing", so adding the guard never changes the behaviour of an app's tests.
_under_pytest = False


def set_pytest_default(active: bool) -> None:
    """Make ``testing`` the default environment (used by the pytest plugin)."""
    global _under_pytest
    _under_pytest = active


@dataclasses.dataclass(frozen=True)
class Settings:
    """The guard's settings for one app, resolved and validated."""

    env: Environment
    strictness: Strictness
    #: Where each setting came from, by key name (for events and the CLI).
    sources: Mapping[str, str]

    @property
    def env_explicit(self) -> bool:
        """Whether somebody said where the app runs (not a default)."""
        return not self.sources["PRODGUARD_ENV"].startswith("default")


def _closest(word: str, candidates: list[str]) -> str | None:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return matches[0] if matches else None


def _did_you_mean(suggestion: str | None) -> str:
    return f" Did you mean {suggestion}?" if suggestion else ""


def check_unknown_keys(config: Mapping[str, Any]) -> None:
    """Raise :exc:`ConfigurationError` for a ``PRODGUARD_*`` key nobody declared."""
    for name in config:
        if isinstance(name, str) and name.startswith(PREFIX) and name not in KEYS:
            suggestion = _closest(name, list(KEYS))
            raise ConfigurationError(
                f"Unknown configuration key {name} = {config[name]!r} in app.config."
                f" Known keys: {', '.join(KEYS)}.{_did_you_mean(suggestion)}",
                key=name,
                value=config[name],
                allowed=list(KEYS),
                suggestion=suggestion,
            )


def check_unknown_arguments(overrides: Mapping[str, Any]) -> None:
    """Raise :exc:`ConfigurationError` for a keyword argument that is no setting."""
    arguments = {key.argument: key for key in KEYS.values()}
    for name in overrides:
        if name not in arguments:
            suggestion = _closest(name.lower(), list(arguments))
            raise ConfigurationError(
                f"Unknown argument ProdGuard({name}={overrides[name]!r})."
                f" Known arguments: {', '.join(arguments)}.{_did_you_mean(suggestion)}",
                key=name,
                value=overrides[name],
                allowed=list(arguments),
                suggestion=suggestion,
            )


def _raw_value(
    key: Key,
    config: Mapping[str, Any],
    overrides: Mapping[str, Any],
    environ: Mapping[str, str],
) -> tuple[object, str]:
    if key.env_override and environ.get(key.name, "").strip():
        return environ[key.name], f"environment variable {key.name}"
    if overrides.get(key.argument) is not None:
        return overrides[key.argument], f"ProdGuard({key.argument}=...)"
    if config.get(key.name) is not None:
        return config[key.name], "app.config"
    return key.default, "default"


def _choice(key: Key, value: object, source: str) -> str:
    allowed = ", ".join(repr(c) for c in key.choices)
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{key.name} = {value!r} (from {source}) must be a string, one of"
            f" {allowed}; got {type(value).__name__}.",
            key=key.name,
            value=value,
            allowed=key.choices,
        )
    normalised = value.strip().lower()
    if normalised not in key.choices:
        suggestion = _closest(normalised, list(key.choices))
        raise ConfigurationError(
            f"{key.name} = {value!r} (from {source}) is not valid; allowed values:"
            f" {allowed}.{_did_you_mean(repr(suggestion) if suggestion else None)}",
            key=key.name,
            value=value,
            allowed=key.choices,
            suggestion=suggestion,
        )
    return normalised


def load_settings(
    config: Mapping[str, Any],
    overrides: Mapping[str, Any],
    environ: Mapping[str, str],
) -> Settings:
    """Resolve and validate the settings for one app.

    :param config: the app's ``app.config``.
    :param overrides: keyword arguments given to :class:`~flask_prodguard.ProdGuard`.
    :param environ: the process environment (``os.environ``).
    :raises ConfigurationError: a key is unknown, or a value is of the wrong type
        or not among the allowed values.
    """
    check_unknown_keys(config)
    check_unknown_arguments(overrides)
    sources: dict[str, str] = {}

    raw, source = _raw_value(ENV, config, overrides, environ)
    if raw is None:
        if _under_pytest:
            env, source = Environment.TESTING, "default under pytest"
        else:
            env = Environment.PRODUCTION
    else:
        env = Environment(_choice(ENV, raw, source))
    sources[ENV.name] = source

    raw, source = _raw_value(STRICTNESS, config, overrides, environ)
    if raw is None:
        strictness = DEFAULT_STRICTNESS[env]
        source = f"default for {env}"
    else:
        strictness = Strictness(_choice(STRICTNESS, raw, source))
    sources[STRICTNESS.name] = source

    return Settings(env=env, strictness=strictness, sources=sources)
