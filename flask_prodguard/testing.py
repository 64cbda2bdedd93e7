"""Helpers for testing apps that use Flask-ProdGuard.

:func:`capture_events` collects the security events a block of code emits;
:func:`event_schema` and :func:`event_validator` check them against the JSON
Schema the package ships. See :doc:`testing` for whole tests.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING
from typing import Any

from .events.output import SECURITY_LOGGER_NAME
from .events.output import event_from_record
from .events.output import security_logger

if TYPE_CHECKING:
    from jsonschema.protocols import Validator


class _CollectingHandler(logging.Handler):
    # Invisible to the default handler: capturing does not change the output.
    prodguard_passive = True

    def __init__(self, sink: list[dict[str, Any]]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(event_from_record(record))


@contextlib.contextmanager
def capture_events() -> Iterator[list[dict[str, Any]]]:
    """Collect the security events emitted inside the ``with`` block.

    Each event is a dictionary of its fields, ``event`` holding its name, with
    the names and the redaction the default JSON handler writes (whatever
    ``PRODGUARD_LOG_FORMAT`` says). Capturing does not change what the guard
    writes elsewhere: the default handler writes, or stays silent, exactly as
    it would without it.

    The collector is a handler on the process-wide ``flask_prodguard.security``
    logger, so it sees the events of every app and every thread while the
    block runs; appending is thread-safe. Blocks may nest: each gets every
    event emitted while it is open.

    .. code-block:: python

        from flask_prodguard.testing import capture_events

        def test_console_is_blocked(client):
            with capture_events() as events:
                response = client.get("/console")
            assert response.status_code == 404
            assert events[0]["event"] == "prodguard.debugger.probe"

    .. versionadded:: 0.1
    """
    logger = security_logger()
    captured: list[dict[str, Any]] = []
    handler = _CollectingHandler(captured)
    logger.addHandler(handler)
    try:
        yield captured
    finally:
        logger.removeHandler(handler)


def event_schema() -> dict[str, Any]:
    """Return the JSON Schema of the security events.

    The schema is the file the package ships,
    ``flask_prodguard/schema/event.schema.json`` (draft 2020-12), read afresh
    on each call: change the returned dictionary freely. Log pipelines can use
    the same file.

    .. code-block:: python

        from flask_prodguard.testing import event_schema

        names = event_schema()["properties"]["event"]["enum"]

    .. versionadded:: 0.1
    """
    text = resources.files("flask_prodguard").joinpath("schema/event.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def event_validator() -> Validator:
    """Return a ``jsonschema`` validator for the security events.

    The validator checks the schema of :func:`event_schema`, with the format
    checker of the schema's draft. It needs the ``jsonschema`` package, which
    Flask-ProdGuard does not install: add it to your test dependencies.

    :raises ImportError: ``jsonschema`` is not installed.

    .. code-block:: python

        from flask_prodguard.testing import capture_events, event_validator

        validator = event_validator()
        with capture_events() as events:
            client.get("/console")
        for event in events:
            validator.validate(event)

    .. versionadded:: 0.1
    """
    import jsonschema

    schema = event_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


__all__ = ["SECURITY_LOGGER_NAME", "capture_events", "event_schema", "event_validator"]
