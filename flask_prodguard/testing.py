"""Helpers for testing apps that use Flask-ProdGuard."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from importlib import resources
from typing import Any

from .events.output import SECURITY_LOGGER_NAME
from .events.output import event_from_record
from .events.output import security_logger


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

    ::

        with capture_events() as events:
            client.get("/console")
        assert events[0]["event"] == "prodguard.debugger.probe"

    Each event is a dictionary of its fields, ``event`` holding its name, as
    the default JSON handler writes it. Capturing does not change what the
    guard writes elsewhere.
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
    """The JSON Schema of events, as shipped in ``flask_prodguard/schema``."""
    text = resources.files("flask_prodguard").joinpath("schema/event.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def event_validator() -> Any:
    """A ``jsonschema`` validator for events (needs the ``jsonschema`` package).

    ::

        validator = event_validator()
        for event in events:
            validator.validate(event)
    """
    import jsonschema

    schema = event_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


__all__ = ["SECURITY_LOGGER_NAME", "capture_events", "event_schema", "event_validator"]
