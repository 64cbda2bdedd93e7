"""structlog processors used by the security event pipeline.

Each processor is a small plain callable ``(logger, method_name, event_dict) ->
event_dict`` doing one thing; :mod:`flask_prodguard.events` composes them.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

#: Longest string kept in an event field; longer values are cut and marked.
MAX_STRING_LENGTH = 2048

# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators: all
# of them can forge or hide log lines in some viewer.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitise_text(value: str, limit: int = MAX_STRING_LENGTH) -> str:
    """Escape control characters and cap the length of one string."""
    if len(value) > limit:
        value = value[:limit] + f"...[{len(value) - limit} more]"
    return _CONTROL.sub(_escape, value)


def _sanitise(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return sanitise_text(value)
    if depth > 8:
        return "[nested too deep]"
    if isinstance(value, dict):
        return {sanitise_text(str(k)): _sanitise(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitise(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return sanitise_text(str(value))


def sanitise_fields(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Make every field safe to log: control characters escaped, strings capped.

    Runs before any renderer, so no request-controlled character reaches a log
    line raw whatever formatter the app uses.
    """
    for key, value in event_dict.items():
        event_dict[key] = _sanitise(value)
    return event_dict
