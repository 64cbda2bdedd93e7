"""The event pipeline: how a security event is named, built and sent.

- :mod:`.catalogue`: every event name, level and field; the one per-field
  source (the schema, the docs, the alert rules, the output presets and
  the redactor's trusted fields read it).
- :mod:`.emitter`: :class:`~.emitter.Emitter`, the one place events leave.
- :mod:`.processors`: structlog processors (redaction, text sanitising).
- :mod:`.failures`: what an event says about an exception, read as hostile.
- :mod:`.flood`: rate limiting per (event, client).
- :mod:`.output`: the guard's own log handler and its presets.
- :mod:`.hooks`: in-process alert hooks (``on_alert``).

The rule: nothing here imports :mod:`flask_prodguard.wsgi`,
:mod:`flask_prodguard.tools`, the extension or the per-app state; the
pipeline knows events, not requests' handling.
"""
