"""Exceptions raised by Flask-ProdGuard.

Every exception derives from :class:`ProdGuardError` and also from the built-in
exception that matches its meaning, so existing ``except ValueError`` or
``except RuntimeError`` blocks keep working.
"""

from __future__ import annotations

from collections.abc import Sequence


class ProdGuardError(Exception):
    """Root of every exception raised by Flask-ProdGuard.

    Catch it to handle anything the guard refuses, whatever the reason; the
    subclasses say which. Each message says what to change.

    .. code-block:: python

        from flask_prodguard import ProdGuard, ProdGuardError

        try:
            ProdGuard(app)
        except ProdGuardError as error:
            sys.exit(f"not starting: {error}")

    .. versionadded:: 0.1
    """


class ConfigurationError(ProdGuardError, ValueError):
    """A ``PRODGUARD_*`` setting is unknown, or has a bad value or type.

    Raised by :class:`~flask_prodguard.ProdGuard` for an unknown keyword
    argument, and by :meth:`~flask_prodguard.ProdGuard.init_app` for an
    unknown or invalid key in ``app.config`` or the process environment (a
    misspelt ``PRODGUARD_STRICTNES`` must not leave the guard off unnoticed),
    and by :func:`~flask_prodguard.serve` for a server that is unknown or not
    installed, a port outside 1-65535, or an address it cannot listen on. The
    message names the key, the value, where the value came from, the allowed
    values and, when there is one, the closest valid key or value; the same
    facts are attributes, for tools.

    :param message: The message shown to the user.
    :param key: The offending key, as :attr:`key`.
    :param value: The offending value, as :attr:`value`.
    :param allowed: The values or keys that would have been accepted, as
        :attr:`allowed`.
    :param suggestion: The closest valid key or value, as :attr:`suggestion`.

    .. code-block:: python

        app.config["PRODGUARD_STRICTNESS"] = "strikt"
        try:
            ProdGuard(app)
        except ConfigurationError as error:
            assert error.key == "PRODGUARD_STRICTNESS"
            assert error.suggestion == "strict"

    .. versionadded:: 0.1
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
    any strictness when a deployment check finds an error. The message lists
    each finding with its fix (and, for the development server or the
    debugger, the gunicorn and waitress commands to use instead);
    :attr:`findings` lists the ids of the checks that caused the refusal.

    :param message: The message shown to the user.
    :param findings: The check ids (``"PG101"``...) behind the refusal, as
        :attr:`findings`.

    .. code-block:: python

        app.debug = True
        try:
            ProdGuard(app, env="production", strictness="strict")
        except UnsafeDeploymentError as error:
            assert "PG101" in error.findings

    .. versionadded:: 0.1
    """

    def __init__(self, message: str, *, findings: Sequence[str] = ()) -> None:
        super().__init__(message)
        #: The ids of the checks that caused the refusal, e.g. ``("PG101",)``.
        self.findings = tuple(findings)


class AlreadyRegisteredError(ProdGuardError, RuntimeError):
    """``init_app`` was called a second time on the same app.

    The settings were read and acted on at the first call: a second call
    could not apply new ones to an app already wrapped and checked. Create the
    app again instead, or call :meth:`~flask_prodguard.ProdGuard.init_app`
    once per app.

    .. code-block:: python

        guard = ProdGuard(app)
        guard.init_app(app)  # raises AlreadyRegisteredError

    .. versionadded:: 0.1
    """
