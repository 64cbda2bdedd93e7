"""The request path: what runs for every request of a guarded app.

- :mod:`.middleware`: :class:`~.middleware.GuardMiddleware`, around
  ``app.wsgi_app``; the happy path is its ``__call__``, written once.
- :mod:`.errors`: the error-response concern, whoever catches: Flask's error
  handler (generic pages, the error event, the leak check on the app's own
  5xx) and the WSGI safety net for what escapes Flask.
- :mod:`.streaming`: passing a response on under the net (held headers,
  guarded bodies, the stop rules).
- :mod:`.leaks`: finding an exception, traceback or source location in a body.
- :mod:`.pages`: the generic HTML and problem+json pages.
- :mod:`.debugger`: the hook that neutralises Werkzeug's ``DebuggedApplication``.

The rule: modules here import the runtime core and :mod:`flask_prodguard.events`,
never :mod:`flask_prodguard.tools`. What one step of a request notes for a
later one goes in the environ under a key from :mod:`flask_prodguard.keys`.
"""
