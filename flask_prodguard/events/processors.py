"""structlog processors of the security event pipeline.

Processors are small callables ``(logger, method_name, event_dict) ->
event_dict``; :mod:`flask_prodguard.events.emitter` composes them in this order:
common fields, :class:`Redactor` (cap, redact, escape, in one pass over each
value), alert hooks, rendering for the stdlib transport. Redaction runs on the
raw values and escaping last, so no renderer ever sees a secret or a raw
control character.

Every pattern that searches text a request or an exception can shape runs on
RE2 (``google-re2``), whose time is linear in its input whatever the text:
one hostile string must never stall a worker. RE2 has no backreferences and
no lookaround, so the patterns below are written without them; where a
decision needs more than a pattern (a stop word, a percent-encoded name), a
replacement callback makes it on the matched part only. The two patterns on
:mod:`re` are single character classes, linear by construction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

import re2
from structlog.typing import EventDict
from structlog.typing import WrappedLogger

#: Longest string kept in an event field; longer values are cut and marked.
MAX_STRING_LENGTH = 2048

#: How far past the cap redaction reads, so a secret that straddles the cut (a
#: URL whose ``@`` falls after it) is still recognised; longer than any secret
#: the patterns need to see whole.
REDACTION_MARGIN = 1024

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

_REDACTED = REDACTED.encode()

# RE2 would otherwise print every pattern it rejects on the process's stderr.
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

# Names that make a ``name=value`` or ``"name": "value"`` pair secret in text.
_SENSITIVE_NAME = (
    r"(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|session(?:id)?|csrf|xsrf|"
    r"auth|credential|signature|private[_\-]?key|access[_\-]?key|cookie)"
)
# A character a parameter name can hold around the secret word, percent
# escapes included (a form field user[password] arrives as user%5Bpassword%5D).
_NAME_CHAR = r"[\w.\-\[\]%]"
# Whitespace as Python sees it (RE2's \s is ASCII only): a no-break or an em
# space must separate words for the patterns as it does for a reader.
_SPACE = r"\s\x0b\x1c-\x1f\x85\p{Z}"
# A quoted value: up to its closing quote, over backslash escapes, or to the
# end of the text when the quote is never closed (a cut message still hides
# its secret). Quotes may themselves be escaped, as gunicorn's access log and
# JSON inside a message write them: \"value\". One pass, no backtracking:
# RE2 runs it in linear time.
_QUOTED_VALUE = (
    r"\"(?:[^\"\\]|\\(?s:.))*(?:\"|\\?\z)"
    r"|'(?:[^'\\]|\\(?s:.))*(?:'|\\?\z)"
    r"|\\\"(?:[^\"\\]|\\[^\"])*(?:\\\"|\\?\z)"
    r"|\\'(?:[^'\\]|\\[^'])*(?:\\'|\\?\z)"
)
_BARE_VALUE = rf"[^&;,\"'){_SPACE}]+"
# Between a name and its value: "=" or ":", percent-encoded or not (a query
# value "password%3D%22hunter2%22" reaches the app as password="hunter2"),
# with spaces around it, raw, percent-encoded or as "+".
_GAP = rf"(?:[{_SPACE}]|%20|\+)*"
_SEPARATOR = rf"(?:\\?[\"']|%2[27])?{_GAP}(?:[:=]|%3[ad]){_GAP}"

# Words that, right after "password" or "secret", are prose about the secret
# rather than the secret itself: "password authentication failed for bob".
_STOP_WORDS = frozenset(
    "authentication auth for of the and or not is was required rejected incorrect invalid"
    " wrong expired missing empty must should too field reset change changed hash hashes"
    " policy length mismatch key manager".split()
)
_LONGEST_STOP_WORD = max(len(word) for word in _STOP_WORDS)

# The shortest text any built-in pattern can redact ("pwd=x"); shorter text
# (most method names, status codes, "/") skips the search altogether.
_SHORTEST_SECRET = 5

# A cheap test that decides whether the value patterns need to run at all.
_PREFILTER = (
    r"(?i)://|bearer|basic|digest|token|pass|pwd|secret|api|session|csrf|xsrf|auth|"
    r"credential|signature|private|access|cookie|%[0-9a-f]{2}"
)

# scheme://user:password@host
# No word boundary before the scheme: letters glued before it would otherwise
# make it longer than 32 characters and the credentials unseen.
_URL_CREDENTIALS = re2.compile(
    rf"(?i)([a-z][a-z0-9+.\-]{{0,31}}://[^/{_SPACE}:@]*):[^{_SPACE}]*@", _OPTIONS
)


# Detection, narrower than redaction: the password stops at a path, query or
# fragment, so "https://host:8443/@status" is not read as user:password@.
_URL_CREDENTIALS_STRICT = re2.compile(
    rf"(?i)[a-z][a-z0-9+.\-]{{0,31}}://[^/?#{_SPACE}:@]*:[^/?#{_SPACE}@]*@", _OPTIONS
)


def has_url_credentials(data: bytes) -> bool:
    """Whether UTF-8 ``data`` holds ``scheme://user:password@`` (linear time).

    Stricter than redaction, which also takes a password holding ``/`` or
    ``@``: a page is replaced on this, so it must not mistake a port and a
    later ``@`` in a path for credentials.
    """
    return _URL_CREDENTIALS_STRICT.search(data) is not None


# Authorization schemes with a credential (group 2) after them. "Bearer" needs
# no word boundary before it: text an attacker glues to it ("xBearer S") must not
# reveal the token, and the word is rare inside others.
_AUTH_SCHEME = re2.compile(
    rf"(?i)(bearer|\bbasic|\bdigest|\btoken)[{_SPACE}]+([A-Za-z0-9._~+/=\-]{{4,}})", _OPTIONS
)
# Free text, as exception messages put it: "password hunter2 rejected", "secret
# is s3cr3t", "the password was 'hunter2'". The word after is redacted, unless
# it is a stop word (decided in Python: RE2 has no lookahead).
_FREE_TEXT = re2.compile(
    rf"(?i)\b(pass(?:word|wd|phrase)?|pwd|secret)([{_SPACE}]+(?:(?:is|was)[{_SPACE}]+)?)"
    rf"({_QUOTED_VALUE}|[^,;'\"(){_SPACE}]{{3,}})",
    _OPTIONS,
)


def _name_value_pattern(names: str) -> Any:
    """A pattern for the ``name=`` of ``name=value``, ``name: "value"``, ``'name': 'value'``...

    Group 2 is the name: one that holds a word of ``names``, or any name with
    a percent escape (the caller decodes it, as Flask does, and decides).
    Group 3 is the separator, with the name's closing quote. The value is
    matched apart, by :data:`_VALUE` anchored at the end of the match: a value
    may hold the next pair's name, and finding every name first is what keeps
    one pair from hiding the next.
    """
    return re2.compile(
        rf"(?i)((?:^|[^\w.\-\[\]%])[\"']?)"
        rf"({_NAME_CHAR}*(?:{names}|%[0-9a-f]{{2}}){_NAME_CHAR}*)"
        rf"({_SEPARATOR})",
        _OPTIONS,
    )


# The value after a name and its separator, quoted or bare (matched anchored).
_VALUE = re2.compile(rf"(?:{_QUOTED_VALUE}|{_BARE_VALUE})", _OPTIONS)


_NAME_VALUE = _name_value_pattern(_SENSITIVE_NAME)
_NAME_WORD = re2.compile("(?i)" + _SENSITIVE_NAME, _OPTIONS)
_MAYBE_SECRET = re2.compile(_PREFILTER, _OPTIONS)

# Code points escaped in every string: C0 and C1 controls and DEL (Cc), the
# line and paragraph separators (Zl, Zp), lone surrogates (Cs: no encoder
# takes them, so one would lose the whole event) and the format characters
# (Cf: bidi overrides and isolates, zero-width characters, BOM, soft hyphen,
# tag characters), each of which can forge, hide or reorder a log line in
# some viewer or terminal. Cf is listed as of Unicode 15.1; a test compares
# the list with the running interpreter's Unicode database.
_UNSAFE_CLASS = (
    "\x00-\x1f\x7f-\x9f"
    "\u2028\u2029"
    "\ud800-\udfff"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


# Escapes made so far: at most one per escaped code point (a few thousand).
_ESCAPES: dict[str, str] = {}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    escaped = _ESCAPES.get(char)
    if escaped is None:
        code = ord(char)
        if code < 0x100:
            escaped = f"\\x{code:02x}"
        elif code < 0x10000:
            escaped = f"\\u{code:04x}"
        else:
            escaped = f"\\U{code:08x}"
        _ESCAPES[char] = escaped
    return escaped


def _cap(text: str, limit: int) -> str:
    if len(text) > limit:
        return text[:limit] + f"...[{len(text) - limit} more characters]"
    return text


def _escape_controls(text: str) -> str:
    # Every escaped category is non-printable, so printable text (nearly all)
    # costs one C-level scan.
    return text if text.isprintable() else _UNSAFE.sub(_escape, text)


def sanitise_text(value: str, limit: int = MAX_STRING_LENGTH) -> str:
    """Cap the length of one string and escape what could forge or hide a line.

    Control characters (Cc), line and paragraph separators (Zl, Zp), format
    characters (Cf) and lone surrogates (Cs) become ``\\xNN``, ``\\uNNNN`` or
    ``\\UNNNNNNNN`` text, so every output can encode the result and no viewer
    is steered by it.
    """
    return _escape_controls(_cap(value, limit))


def _sanitise(value: object, depth: int = 0) -> object:
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


# A part of the text to redact: start and end (bytes) and what to write after
# the marker (the closing quote of a value cut before it, so the text still
# reads as a quoted value).
_Span = tuple[int, int, bytes]


def _value_span(value: bytes, start: int) -> tuple[_Span, bytes, int]:
    """The part of a value to redact (inside its quotes), its opening quote, its closing length.

    The quote is empty for a bare value; the closing length is 0 when the
    value runs unclosed to the end of the text.
    """
    quote = value[:2] if value[:1] == b"\\" else value[:1]
    end = start + len(value)
    if quote[-1:] not in (b'"', b"'"):
        return (start, end, b""), b"", 0
    closing = len(quote) if len(value) >= 2 * len(quote) and value.endswith(quote) else 0
    return (start + len(quote), end - closing, b"" if closing else quote), quote, closing


def _is_stop_word(value: bytes) -> bool:
    """Whether a value starts with a stop word, as a whole word (``for``, not ``forty``)."""
    text = value[: _LONGEST_STOP_WORD + 8].decode("utf-8", "ignore").lstrip("\\\"'")
    end = 0
    # Python's \w: letters, digits and the underscore, in any script.
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[:end].lower() in _STOP_WORDS


def _free_text_spans(data: bytes, spans: list[_Span]) -> None:
    """Add the word after "password", "secret"... unless it is a stop word."""
    position = 0
    while (match := _FREE_TEXT.search(data, position)) is not None:
        value_start = match.start(3)
        # Search again from the value on, as a failed lookahead would: prose
        # ("password for secret hunter2") or a quoted value that holds the
        # next "password" must not hide it. A word needs a space after it and
        # a quoted value ends at the next quote of its kind, so the values
        # searched twice are few and short: the loop stays linear.
        position = value_start
        if not _is_stop_word(match.group(3)):
            spans.append(_value_span(match.group(3), value_start)[0])


def _merge_spans(data: bytes, spans: list[_Span]) -> bytes:
    """``data`` with the union of ``spans`` each replaced once by ``[REDACTED]``.

    Overlapping and adjacent spans merge, so two patterns that found the same
    secret leave one marker; an empty span (an empty quoted value) still
    leaves one, as the value was secret. A merged span takes the closing quote
    of its first part that has one (only a value cut unclosed has one).
    """
    spans.sort()
    pieces: list[bytes] = []
    kept = 0
    start, end, suffix = spans[0]
    for next_start, next_end, next_suffix in spans[1:]:
        if next_start <= end:
            end = max(end, next_end)
            suffix = suffix or next_suffix
            continue
        pieces += (data[kept:start], _REDACTED, suffix)
        kept = end
        start, end, suffix = next_start, next_end, next_suffix
    pieces += (data[kept:start], _REDACTED, suffix, data[end:])
    return b"".join(pieces)


def escape_surrogates(text: str) -> str:
    """Lone surrogates as ``\\udXXX`` text: every encoder (and RE2) takes the result."""
    return _SURROGATE.sub(_escape, text)


def compile_pattern(pattern: str) -> Any:
    """Compile a redaction pattern with RE2 (linear time on any text).

    :raises re2.error: ``pattern`` is not RE2 syntax (a backreference, a
        lookaround, ``\\Z``...); :func:`pattern_error` says why in words.
    """
    return re2.compile(escape_surrogates(pattern), _OPTIONS)


def secret_name(name: str) -> bool:
    """Whether a name (a setting's, a field's) says its value is a secret
    (``PRODGUARD_SECRET_TOKN``, ``api_key``): its value is never shown.

    :param name: The name.
    """
    # NFKC folds fullwidth and other compatibility letters (ＳＥＣＲＥＴ); format
    # characters (a zero-width space inside the word) are dropped.
    folded = "".join(
        c for c in unicodedata.normalize("NFKC", name) if unicodedata.category(c) != "Cf"
    )
    return _NAME_WORD.search(folded) is not None


def pattern_error(pattern: str) -> str | None:
    """Why RE2 cannot compile ``pattern``, or ``None`` when it can."""
    try:
        compile_pattern(pattern)
    except re2.error as error:
        reason = error.args[0] if error.args else "invalid pattern"
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return None


class Redactor:
    """The processor that makes every field safe: capped, redacted, escaped.

    For each field, in one pass: a key that looks secret has its value replaced
    by ``[REDACTED]`` (recursively, in nested dictionaries and ``(name,
    value)`` pairs); every string is cut to :data:`MAX_STRING_LENGTH` first (so
    the patterns below never run on unbounded input), then secret-looking
    parts are replaced, then control and format characters are escaped.

    Secret-looking parts: URL credentials, ``Bearer``/``Basic`` credentials,
    the value of a parameter whose name holds a secret word in any common
    form (``password=...``, ``?api%5Fkey=...``, ``"token": "..."``,
    ``DBConfig(password='...')``, ``password = "..."``) and the word after
    "password" or "secret" in prose. Every pattern runs on RE2, in time linear
    in the capped text.

    :param extra_keys: more key words to deny: in field names (normalised like
        the built-in ones) and, as given, in ``name=value`` and ``"name":
        "value"`` text such as a query string.
    :param extra_patterns: more regular expressions, in RE2 syntax; every
        match in a string value is replaced.
    :param allowed_keys: top-level keys never redacted by name (the guard's own
        fields); their values are still capped and escaped.
    :param trusted_keys: keys, at any depth, whose values come from code, not
        from requests (traceback frames): capped and escaped, never searched.
    :raises re2.error: an extra pattern is not RE2 syntax.
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
        self.extra_patterns = tuple(compile_pattern(p) for p in extra_patterns)
        self._maybe_secret = _MAYBE_SECRET
        self._name_value = _NAME_VALUE
        self._name_word = _NAME_WORD
        self._shortest = _SHORTEST_SECRET
        if extra_keys:
            # The extra words name parameters in text too: ?ssn=..., "ssn": "...".
            names = "|".join(re2.escape(escape_surrogates(k)) for k in extra_keys)
            self._maybe_secret = re2.compile(f"{_PREFILTER}|{names}", _OPTIONS)
            self._name_value = _name_value_pattern(f"(?:{_SENSITIVE_NAME}|{names})")
            self._name_word = re2.compile(f"(?i){_SENSITIVE_NAME}|{names}", _OPTIONS)
            self._shortest = min(_SHORTEST_SECRET, *(len(k) + 2 for k in extra_keys))
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

    def _is_secret_name(self, name: bytes) -> bool:
        if b"%" in name and self._name_word.search(name) is None:
            # Flask decodes the name before the app sees it (pass%77ord is
            # password): decide on the decoded name, decoded once, as Flask
            # does; the name is at most the searched text, so this is bounded.
            return self._name_word.search(unquote_to_bytes(name)) is not None
        return True

    def _name_value_spans(self, data: bytes, spans: list[_Span]) -> None:
        """Add the value of every secret ``name=value`` pair.

        Every name is found, including one inside an earlier pair's value
        (``password=token:"x y"``, an unclosed quote before a pair). Each
        value is matched from its own start; a value of the same kind that
        starts inside the last one found of its kind ends where that one ends
        (bare values stop at the same character, a quote inside a quoted
        value is an escaped one), so it is skipped: every byte is read by at
        most one value of each of the five kinds, and the whole is linear.
        """
        ends: dict[bytes, int] = {}
        position = 0
        while (match := self._name_value.search(data, position)) is not None:
            start = match.end()
            # Go on from the separator's last character, which may be what
            # sets the next name apart ("token: password=x").
            position = max(start - 1, match.start() + 1)
            quote = (
                data[start : start + 2]
                if data[start : start + 1] == b"\\"
                else data[start : start + 1]
            )
            kind = quote if quote[-1:] in (b'"', b"'") else b""
            if start < ends.get(kind, -1) or not self._is_secret_name(match.group(2)):
                continue
            value = _VALUE.match(data, start)
            if value is None:
                continue
            span = _value_span(value.group(), start)[0]
            spans.append(span)
            # Where the next value of this kind must start to be a new one:
            # inside the content it is an escaped quote, at the closing quote
            # it opens a value of its own.
            ends[kind] = span[1]

    def _redact(self, text: str) -> str:
        if len(text) < self._shortest and not self.extra_patterns:
            return text  # too short to hold any secret the built-in patterns find
        data = text.encode()
        # Every pattern reads the same original text and the spans are merged
        # at the end: a pattern that ran on another's output could miss a
        # secret whose name the other had taken as a value ("token password:
        # hunter2").
        spans: list[_Span] = []
        if len(text) >= self._shortest and self._maybe_secret.search(data) is not None:
            for match in _URL_CREDENTIALS.finditer(data):
                spans.append((match.end(1) + 1, match.end() - 1, b""))
            position = 0
            while (match := _AUTH_SCHEME.search(data, position)) is not None:
                spans.append((match.start(2), match.end(2), b""))
                position = match.start(2)  # "Bearer token abcd": the next scheme
            self._name_value_spans(data, spans)
            _free_text_spans(data, spans)
        for pattern in self.extra_patterns:
            # An empty match hides nothing (and "x*" matches everywhere).
            spans.extend(
                (match.start(), match.end(), b"")
                for match in pattern.finditer(data)
                if match.end() > match.start()
            )
        if not spans:
            return text
        return _merge_spans(data, spans).decode("utf-8", "replace")

    def redact_text(self, text: str) -> str:
        """Replace secret-looking parts of one string, then cap it.

        The patterns read :data:`REDACTION_MARGIN` characters past the cap, so
        a secret cut by the cap is still recognised; the text past that is
        never searched (the cost stays bounded whatever the input).
        """
        window = text[: self.limit + REDACTION_MARGIN]
        try:
            redacted = self._redact(window)
        except UnicodeEncodeError:
            # A lone surrogate (a JSON "\ud800" from a request): RE2 reads
            # UTF-8, which cannot hold it, so it becomes escape text first.
            redacted = self._redact(escape_surrogates(window))
        if len(redacted) <= self.limit and len(window) == len(text):
            return redacted
        hidden = len(redacted) - self.limit + len(text) - len(window)
        return redacted[: self.limit] + f"...[{max(hidden, 0)} more characters]"

    def clean_text(self, text: str) -> str:
        """Cap, redact and escape one string."""
        return _escape_controls(self.redact_text(text))

    def clean(self, value: object, depth: int = 0) -> object:
        """Clean a value recursively: keys by name, strings by pattern."""
        if isinstance(value, str):
            return self.clean_text(value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if depth > 8:
            return "[nested too deep]"
        if isinstance(value, dict):
            cleaned: dict[str, object] = {}
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
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        for key, value in event_dict.items():
            if key in self.trusted:
                event_dict[key] = _sanitise(value)
            elif key not in self.allowed and self.key_is_secret(key):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self.clean(value)
        return event_dict
