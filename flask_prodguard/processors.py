"""structlog processors of the security event pipeline.

Processors are small callables ``(logger, method_name, event_dict) ->
event_dict``; :mod:`flask_prodguard.events` composes them in this order:
common fields, :class:`Redactor` (cap, redact, escape, in one pass over each
value), alert hooks, rendering for the stdlib transport. Redaction runs on the
raw values and escaping last, so no renderer ever sees a secret or a raw
control character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import MutableMapping
from typing import Any

#: Longest string kept in an event field; longer values are cut and marked.
MAX_STRING_LENGTH = 2048

#: What a redacted value is replaced with.
REDACTED = "[REDACTED]"

#: Key words that make a field secret, compared after lower-casing and removing
#: everything but letters and digits (so ``X-Api-Key``, ``api_key`` and
#: ``apiKey`` all match ``apikey``). A key matches if it contains a word.
DENIED_KEY_WORDS = (
    "authorization",
    "cookie",
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "session",
    "csrf",
    "xsrf",
    "privatekey",
    "accesskey",
    "credential",
    "signature",
)

# Names that make a ``name=value`` or ``"name": "value"`` pair secret in text.
_SENSITIVE_NAME = (
    r"(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|session(?:id)?|csrf|xsrf|"
    r"auth|credential|signature|private[_\-]?key|access[_\-]?key|cookie)"
)
# Characters a parameter name can hold around the secret word, percent
# escapes included (a form field user[password] arrives as user%5Bpassword%5D).
_NAME_CHARS = r"[\w.\-\[\]%]*"


def _name_value_patterns(names: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Patterns that redact the value of a parameter whose name contains ``names``."""
    return (
        # "name": "value" and 'name': 'value' (dicts and JSON shown in messages).
        (
            re.compile(
                r"(?i)([\"']" + _NAME_CHARS + names + _NAME_CHARS + r"[\"']\s*[:=]\s*)"
                r"([\"'])(?:\\.|(?!\2).)*\2"
            ),
            r"\1\2" + REDACTED + r"\2",
        ),
        # name=value in query strings and free text.
        (
            re.compile(
                r"(?i)((?:^|[?&;\s,\"'(])" + _NAME_CHARS + names + _NAME_CHARS + r")"
                r"(\s*[=:]\s*)([^&;\s,\"')]+)"
            ),
            r"\1\2" + REDACTED,
        ),
    )


# Value patterns: (regex, replacement). Order matters: URLs first.
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host (bounded scheme: no quadratic backtracking)
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,31}://[^/\s:@]{0,256}):[^/\s@]{0,256}@"),
        r"\1:" + REDACTED + "@",
    ),
    # Authorization schemes with a credential after them.
    (
        re.compile(r"(?i)\b(bearer|basic|digest|token)\s+[A-Za-z0-9._~+/=\-]{4,}"),
        r"\1 " + REDACTED,
    ),
    *_name_value_patterns(_SENSITIVE_NAME),
    # Free text, as exception messages put it: "password hunter2 rejected",
    # "secret is s3cr3t". The word after is redacted, unless it is one of the
    # words such messages use about a password rather than the password itself.
    (
        re.compile(
            r"(?i)\b(pass(?:word|wd|phrase)?|pwd|secret)(\s+(?:is\s+|was\s+)?)"
            r"(?!(?:authentication|auth|for|of|the|and|or|not|is|was|required|rejected"
            r"|incorrect|invalid|wrong|expired|missing|empty|must|should|too|field|reset"
            r"|change|changed|hash|hashes|policy|length|mismatch|key|manager)\b)"
            r"([^\s,;'\"()]{3,})"
        ),
        r"\1\2" + REDACTED,
    ),
)

# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators:
# each of them can forge or hide a log line in some viewer or terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _cap(text: str, limit: int) -> str:
    if len(text) > limit:
        return text[:limit] + f"...[{len(text) - limit} more characters]"
    return text


def _escape_controls(text: str) -> str:
    return text if text.isprintable() else _CONTROL.sub(_escape, text)


def sanitise_text(value: str, limit: int = MAX_STRING_LENGTH) -> str:
    """Escape control characters and cap the length of one string."""
    return _escape_controls(_cap(value, limit))


def _sanitise(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return sanitise_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth > 8:
        return "[nested too deep]"
    if isinstance(value, dict):
        return {sanitise_text(str(k), 200): _sanitise(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitise(v, depth + 1) for v in value[:200]]
    return sanitise_text(str(value))


def normalise_key(key: str) -> str:
    """Lower-case and keep only letters and digits: ``X-Api-Key`` -> ``xapikey``."""
    return "".join(ch for ch in key.lower() if ch.isalnum())


class Redactor:
    """The processor that makes every field safe: capped, redacted, escaped.

    For each field, in one pass: a key that looks secret has its value replaced
    by ``[REDACTED]`` (recursively, in nested dictionaries and ``(name,
    value)`` pairs); every string is cut to :data:`MAX_STRING_LENGTH` first (so
    the patterns below never run on unbounded input), then secret-looking
    parts are replaced, then control characters are escaped.

    :param extra_keys: more key words to deny: in field names (normalised like
        the built-in ones) and, as given, in ``name=value`` and ``"name":
        "value"`` text such as a query string.
    :param extra_patterns: more regular expressions; every match in a string
        value is replaced.
    :param allowed_keys: top-level keys never redacted by name (the guard's own
        fields); their values are still capped and escaped.
    :param trusted_keys: keys, at any depth, whose values come from code, not
        from requests (traceback frames): capped and escaped, never searched.
    """

    def __init__(
        self,
        extra_keys: Iterable[str] = (),
        extra_patterns: Iterable[str] = (),
        allowed_keys: Iterable[str] = (),
        trusted_keys: Iterable[str] = ("frames",),
        limit: int = MAX_STRING_LENGTH,
    ) -> None:
        extra_keys = [k for k in extra_keys if normalise_key(k)]
        self.words = tuple(DENIED_KEY_WORDS) + tuple(normalise_key(k) for k in extra_keys)
        self.extra_patterns = tuple((re.compile(p), REDACTED) for p in extra_patterns)
        if extra_keys:
            # The extra words name parameters in text too: ?ssn=..., "ssn": "...".
            self.extra_patterns += _name_value_patterns(
                "(?:" + "|".join(re.escape(k) for k in extra_keys) + ")"
            )
        self.allowed = frozenset(allowed_keys)
        self.trusted = frozenset(trusted_keys)
        self.limit = limit
        self._secret_keys: dict[str, bool] = {}

    def key_is_secret(self, key: str) -> bool:
        """Whether a field name looks like it holds a secret."""
        known = self._secret_keys.get(key)
        if known is None:
            normalised = normalise_key(key)
            known = any(word in normalised for word in self.words)
            if len(self._secret_keys) < 4096:
                self._secret_keys[key] = known
        return known

    def redact_text(self, text: str) -> str:
        """Replace secret-looking parts of one string (capped first)."""
        text = _cap(text, self.limit)
        if _MAYBE_SECRET.search(text) is not None:
            for pattern, replacement in _VALUE_PATTERNS:
                text = pattern.sub(replacement, text)
        for pattern, replacement in self.extra_patterns:
            text = pattern.sub(replacement, text)
        return text

    def clean_text(self, text: str) -> str:
        """Cap, redact and escape one string."""
        return _escape_controls(self.redact_text(text))

    def clean(self, value: Any, depth: int = 0) -> Any:
        """Clean a value recursively: keys by name, strings by pattern."""
        if isinstance(value, str):
            return self.clean_text(value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if depth > 8:
            return "[nested too deep]"
        if isinstance(value, dict):
            cleaned = {}
            for k, v in value.items():
                name = k if isinstance(k, str) else str(k)
                if self.key_is_secret(name):
                    cleaned[self.clean_text(name)] = REDACTED
                elif name in self.trusted:
                    cleaned[self.clean_text(name)] = _sanitise(v, depth + 1)
                else:
                    cleaned[self.clean_text(name)] = self.clean(v, depth + 1)
            return cleaned
        if isinstance(value, (list, tuple)):
            if len(value) == 2 and isinstance(value[0], str) and self.key_is_secret(value[0]):
                return [self.clean_text(value[0]), REDACTED]  # a (name, value) header pair
            return [self.clean(v, depth + 1) for v in value[:200]]
        return self.clean_text(str(value))

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event_dict.items():
            if key in self.trusted:
                event_dict[key] = _sanitise(value)
            elif key not in self.allowed and self.key_is_secret(key):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self.clean(value)
        return event_dict


# A cheap test that decides whether the value patterns need to run at all.
_MAYBE_SECRET = re.compile(
    r"(?i)://|bearer|basic|digest|token|pass|pwd|secret|api|session|csrf|xsrf|auth|"
    r"credential|signature|private|access|cookie"
)
