"""Exceptions raised by Flask-ProdGuard.

Every exception derives from :class:`ProdGuardError` and also from the built-in
exception that matches its meaning, so existing ``except ValueError`` or
``except RuntimeError`` blocks keep working.
"""

from __future__ import annotations

from collections.abc import Sequence


class ProdGuardError(Exception):
    """Root of every exception raised by Flask-ProdGuard."""


class ConfigurationError(ProdGuardError, ValueError):
    """A ``PRODGUARD_*`` setting is unknown, or has a bad value or type.

    The message names the key, the value, where the value came from, the allowed
    values and, when there is one, the closest valid key or value.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str,
        value: object = None,
        allowed: Sequence[str] = (),
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message)
        #: The offending key, e.g. ``"PRODGUARD_ENV"``.
        self.key = key
        #: The offending value.
        self.value = value
        #: The values or keys that would have been accepted.
        self.allowed = tuple(allowed)
        #: The closest valid key or value, if one is close enough.
        self.suggestion = suggestion


class UnsafeDeploymentError(ProdGuardError, RuntimeError):
    """The guard refused to start or to serve because the deployment is unsafe.

    Raised by :class:`~flask_prodguard.ProdGuard` with strictness ``strict``,
    and by :func:`~flask_prodguard.serve` (and ``flask prodguard serve``) at
    any strictness when a deployment check finds an error. :attr:`findings`
    lists the ids of the checks that caused the refusal.
    """

    def __init__(self, message: str, *, findings: Sequence[str] = ()) -> None:
        super().__init__(message)
        #: Names of the conditions that caused the refusal.
        self.findings = tuple(findings)


class AlreadyRegisteredError(ProdGuardError, RuntimeError):
    """``init_app`` was called a second time on the same app."""
