"""Finding what a 5xx body must not carry: the exception, a traceback, a source location.

The guard's own error pages carry none of this by construction. An app's own
error handler, or a view that returns a 5xx itself, can: ``repr(e)`` in a
template, ``traceback.format_exc()`` in a ``<pre>``, the frames as JSON. In
``enforce`` and ``strict`` such a response is replaced by the generic page
(:func:`flask_prodguard.wsgi.errors.install_error_handling` does the wiring); this
module only finds the leak, and holds a streamed body back while it looks. It
is pure: no request globals.

- Only the first :data:`SCAN_LIMIT` bytes of a body are read: a leak sits at
  the top of an error page or right after its header, and the bound keeps the
  cost of one 5xx response, and the memory a held stream takes, small whatever
  the body.
- The text is looked at as sent and decoded the ways a leak is encoded on its
  way into a page: HTML character references (Jinja's autoescape,
  ``html.escape``), JSON and Python string escapes (``jsonify``, ``|tojson``,
  ``repr``), percent-encoding (a ``mailto:`` or "report this" link); each up to
  twice, for a page escaped inside JSON or the other way round.
- Every pattern is a google-re2 expression, linear in the text whatever the
  text (an error page can echo request content), or a plain substring search.
  The decoders are ``str`` methods and loops over splits: no backtracking
  regular expression, no ``html.unescape`` (it raises ``ValueError`` on a
  character reference with more than 4300 digits).
- The exception is read defensively: its ``__str__`` or ``__repr__`` may
  raise, return a hostile ``str`` subclass, or be huge; its chain may be
  cyclic.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

import re2
from werkzeug.exceptions import HTTPException

from ..events.processors import has_url_credentials

#: How many bytes of a 5xx body are inspected (and held back, for a stream).
SCAN_LIMIT = 64 * 1024

#: The kinds of leak :func:`find_leak` reports (the ``leak`` field of
#: ``prodguard.error.traceback_scrubbed``).
TRACEBACK = "traceback"
SOURCE_LOCATION = "source_location"
JSON_FRAMES = "json_frames"
EXCEPTION_MESSAGE = "exception_message"
#: Credentials in a URL (``scheme://user:password@host``), whatever raised them.
URL_CREDENTIALS = "url_credentials"

# -- patterns ------------------------------------------------------------------------

# Whitespace and HTML tags between the words of a traceback line: Werkzeug's
# debugger page, and pages imitating it, wrap the file, line and function in tags.
_GAP = rb"(?:\s|<[^<>]*>)*"
_QUOTE = rb"[\"']"
_PY = rb"\.py[wcx]?"
_FILE_KEY = (
    rb"\"(?i:file|filename|file_name|filepath|file_path|abs_path|abspath|co_filename"
    rb"|path|source_file|module_path)\"\s*:\s*\"[^\"\n]*(?:" + _PY + rb"|>)\""
)
_LINE_KEY = rb"\"(?i:line|lineno|line_no|line_number|linenumber)\"\s*:\s*\"?\d"


def _gapped(*words: bytes) -> bytes:
    """A pattern for ``words`` with whitespace or HTML tags between them."""
    return _GAP.join(words)


# Any: google-re2 ships no type information, so its compiled patterns have no
# type to name (here and in _PATTERNS).
def _either(*alternatives: bytes) -> Any:
    """One re2 pattern matching any of ``alternatives``."""
    return re2.compile(b"|".join(alternatives))


#: (kind, literals, pattern), in the order they are tried, on UTF-8 bytes. A
#: pattern runs only on text holding one of its literals: every alternative
#: of the pattern contains one, and a substring test is far cheaper than a
#: call into re2 (an ordinary page holds none of them).
_PATTERNS: tuple[tuple[str, tuple[bytes, ...], Any], ...] = (
    (
        TRACEBACK,
        (b"Traceback", b"above exception", b"During handling", b"<traceback object"),
        _either(
            _gapped(b"Traceback", rb"\(", b"most", b"recent", b"call", b"(?:last|first)"),
            b"The above exception was the direct cause of the following exception",
            b"During handling of the above exception, another exception occurred",
            b"<traceback object at 0x",
        ),
    ),
    (
        SOURCE_LOCATION,
        (b"File", b".py", b"<frame at", b"<code object", b"<FrameSummary"),
        _either(
            # A frame line, whatever the file (a template too):
            # File "/srv/app.py", line 12, in view
            _gapped(
                b"File",
                _QUOTE + rb"[^\"'\n]+" + _QUOTE,
                b",",
                b"line",
                rb"\d+",
                b",",
                b"in",
                rb"[\w<]",
            ),
            # A Python file and a line: app.py", line 12 / app.py, line 12
            _gapped(_PY + _QUOTE + b"?", b",", b"line", rb"\d"),
            # app.py:12 (logging's pathname:lineno), not a host.py:8080/ URL
            _PY + rb":\d+(?:[^\d/]|$)",
            # A frame as a tuple or a JSON array: ('/srv/app.py', 12, 'view', ...)
            _PY + _QUOTE + rb"\s*,\s*\d+\s*,\s*" + _QUOTE,
            # reprs of frames, code objects and FrameSummary objects
            rb"<frame at 0x[0-9a-fA-F]+, file ",
            rb"<code object [^<>\n]*, file ",
            b"<FrameSummary file ",
        ),
    ),
    (
        JSON_FRAMES,
        # A JSON object naming a Python source file and a line, keys in either
        # order (jsonify sorts them): {"file": "/srv/app.py", "line": 12}.
        (b".py", b'>"'),
        _either(_FILE_KEY + rb"[^{}]*" + _LINE_KEY, _LINE_KEY + rb"[^{}]*" + _FILE_KEY),
    ),
)

# -- decoding --------------------------------------------------------------------------

# Named character references an HTML escaper uses for the characters of a
# traceback; "&amp;" last, so "&amp;quot;" becomes "&quot;" (the second round
# of _decode takes it further).
_NAMED_REFERENCES = (
    ("&quot;", '"'),
    ("&QUOT;", '"'),
    ("&apos;", "'"),
    ("&lt;", "<"),
    ("&LT;", "<"),
    ("&gt;", ">"),
    ("&GT;", ">"),
    ("&nbsp;", " "),
    ("&NewLine;", "\n"),
    ("&Tab;", "\t"),
    ("&lpar;", "("),
    ("&rpar;", ")"),
    ("&colon;", ":"),
    ("&comma;", ","),
    ("&period;", "."),
    ("&sol;", "/"),
    ("&bsol;", "\\"),
    ("&lowbar;", "_"),
    ("&equals;", "="),
    ("&num;", "#"),
    ("&amp;", "&"),
    ("&AMP;", "&"),
)
_JSON_ESCAPES = (
    ('\\"', '"'),
    ("\\'", "'"),
    ("\\/", "/"),
    ("\\n", "\n"),
    ("\\r", "\r"),
    ("\\t", "\t"),
    ("\\b", "\b"),
    ("\\f", "\f"),
)
_HEX_DIGITS = "0123456789abcdefABCDEF"
_DECIMAL_DIGITS = "0123456789"


def _code_point(digits: str, base: int) -> str:
    """The character of a numeric escape; U+FFFD for a surrogate or a bad number.

    Surrogates are never produced: the text goes to re2 as UTF-8.
    """
    number = int(digits, base)  # at most 7 digits: no quadratic int parsing
    if number == 0 or 0xD800 <= number <= 0xDFFF or number > 0x10FFFF:
        return "\ufffd"
    return chr(number)


def _unescape_numeric(text: str, opener: str, hex_only: bool, width: int) -> str:
    """Replace ``opener`` + digits escapes (``&#34;``, ``\\u0022``, ``\\x22``).

    A ``\\uD83D\\uDE00`` surrogate pair, as ``json.dumps`` writes a character
    outside the BMP, becomes that one character.
    """
    parts = text.split(opener)
    out = [parts[0]]
    index = 0
    while index < len(parts) - 1:
        index += 1
        part = parts[index]
        if width == 4 and part[:4] and not part[:4].strip(_HEX_DIGITS) and len(part) >= 4:
            high = int(part[:4], 16)
            following = parts[index + 1] if index + 1 < len(parts) else ""
            if (
                0xD800 <= high <= 0xDBFF
                and len(part) == 4
                and len(following) >= 4
                and not following[:4].strip(_HEX_DIGITS)
                and 0xDC00 <= int(following[:4], 16) <= 0xDFFF
            ):
                low = int(following[:4], 16)
                out.append(chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)))
                out.append(following[4:])
                index += 1
                continue
        if hex_only:
            digits = part[:width]
            base, rest = 16, part[width:]
            valid = len(digits) == width and not digits.strip(_HEX_DIGITS)
        elif part[:1] in ("x", "X"):
            # &#x22; : up to 6 hex digits, then an optional ";"
            head = part[1:7]
            run = len(head) - len(head.lstrip(_HEX_DIGITS))
            digits, base, rest = part[1 : 1 + run], 16, part[1 + run :]
            valid = run > 0
        else:
            head = part[:7]
            run = len(head) - len(head.lstrip(_DECIMAL_DIGITS))
            digits, base, rest = part[:run], 10, part[run:]
            valid = run > 0
        if not valid:
            out.append(opener + part)
            continue
        if not hex_only and rest[:1] == ";":
            rest = rest[1:]
        out.append(_code_point(digits, base) + rest)
    return "".join(out)


def _unescape_html(text: str) -> str:
    for reference, char in _NAMED_REFERENCES:
        if reference in text:
            text = text.replace(reference, char)
    if "&#" in text:
        text = _unescape_numeric(text, "&#", hex_only=False, width=0)
    return text


def _unescape_json_piece(piece: str) -> str:
    for escape, char in _JSON_ESCAPES:
        if escape in piece:
            piece = piece.replace(escape, char)
    if "\\u" in piece:
        piece = _unescape_numeric(piece, "\\u", hex_only=True, width=4)
    if "\\x" in piece:
        piece = _unescape_numeric(piece, "\\x", hex_only=True, width=2)
    return piece


def _unescape_json(text: str) -> str:
    """JSON, JavaScript and Python string escapes, decoded.

    Split on escaped backslashes first, as a JSON reader reads them left to
    right: in ``\\\\"`` the backslash is escaped, not the quote.
    """
    return "\\".join(
        _unescape_json_piece(piece) if "\\" in piece else piece for piece in text.split("\\\\")
    )


def _unescape_percent(text: str) -> str:
    # unquote_to_bytes splits on "%": no regular expression.
    raw = unquote_to_bytes(text.replace("+", " ").encode("utf-8", "replace"))
    return raw.decode("utf-8", "replace")


def _decode(text: str) -> str:
    """``text`` with HTML, JSON and percent escapes decoded, up to two layers deep."""
    for _ in range(2):
        before = text
        if "&" in text:
            text = _unescape_html(text)
        if "\\" in text:
            text = _unescape_json(text)
        if "%" in text:
            text = _unescape_percent(text)
        if text == before:
            break
    return text


# -- the exception -------------------------------------------------------------------

#: How much of each text read from an exception is kept.
_MAX_TEXT = 4096
#: Exceptions of a chain (``__cause__``, ``__context__``) whose texts are compared.
_MAX_CHAIN = 4
#: At most this many texts are searched for.
_MAX_NEEDLES = 24
#: A text is searched for by its first this many characters (a page may
#: truncate a long message).
_NEEDLE_LENGTH = 48
#: A text with a digit or one of the marks below must be this long to count...
_MIN_MARKED = 12
#: ... and a text without any, this long.
_MIN_PLAIN = 32
#: Characters that plain words rarely carry and data does: DSNs, SQL, paths,
#: quoted keys, reprs, and digits (ports, ids, tokens). Not "_": a bare
#: identifier (a form field's name) is ordinary page text.
_MARKS = frozenset("0123456789:/@=*()[]{}<>'\"\\;|$%#&~^+`")

# Read through BaseException's own descriptors: a subclass's property for
# __cause__ or args is never called.
_ARGS = BaseException.__dict__["args"]
_CAUSE = BaseException.__dict__["__cause__"]
_CONTEXT = BaseException.__dict__["__context__"]
_GROUP_MEMBERS = BaseExceptionGroup.__dict__["exceptions"]
#: What a signal raises to stop the process: never swallowed.
_STOPS = (SystemExit, KeyboardInterrupt)


def guarded_text(render: Callable[[object], object], obj: object) -> str:
    """``render(obj)`` as an exact ``str`` of at most 4096 characters; ``""`` if it fails.

    ``render`` is ``str``, ``repr`` or similar. A ``__str__`` may raise
    anything, or return a ``str`` subclass whose methods are hostile: the
    result is copied with ``str``'s own slicing, which returns an exact
    ``str`` and calls none of the subclass's methods. ``SystemExit`` and
    ``KeyboardInterrupt`` (a signal stopping the process) go on.

    (A stand-in until the ``safe_text`` helpers of
    :mod:`flask_prodguard.events.failures` can be shared.)

    :param render: Turns ``obj`` into text; its result is checked, not trusted.
    :param obj: The object, untrusted.
    """
    try:
        text = render(obj)
    except _STOPS:
        raise
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not break the check
        return ""
    if not isinstance(text, str):
        return ""
    return str.__getitem__(text, slice(0, _MAX_TEXT))


def _distinctive(text: str) -> bool:
    """Whether ``text`` is specific enough that finding it in a page means a leak.

    Short texts ("0", "'id'", "HTTP 503") and plain words shorter than 32
    characters ("division by zero", "Service temporarily unavailable") are
    not: an ordinary page may contain them by chance. At 12 characters or
    more, a DSN, an SQL statement, a quoted key, a path or a message with a
    number is; so is plain text of 32 characters or more, by its length.
    """
    length = len(text)
    if length >= _MIN_PLAIN:
        return True
    return length >= _MIN_MARKED and not _MARKS.isdisjoint(text)


def _chain(exception: BaseException) -> list[BaseException]:
    """The exception and its causes and contexts, at most :data:`_MAX_CHAIN`, no cycle."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    pending: list[object] = [exception]
    while pending and len(chain) < _MAX_CHAIN:
        current = pending.pop(0)
        # type(), not isinstance(): no __class__ of a hostile object is read.
        if not issubclass(type(current), BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        chain.append(current)  # type: ignore[arg-type]
        pending.append(_CAUSE.__get__(current))
        pending.append(_CONTEXT.__get__(current))
        if issubclass(type(current), BaseExceptionGroup):
            # A TaskGroup's failures: a page may show any of them.
            pending.extend(_GROUP_MEMBERS.__get__(current)[:_MAX_CHAIN])
    return chain


def _texts(error: BaseException) -> Iterator[str]:
    """What of ``error`` a page could show: ``Type: message``, its lines, repr, args."""
    name = guarded_text(lambda e: type(e).__name__, error)
    message = guarded_text(str, error)
    lines = [line.strip() for line in message.splitlines()[:8]]
    if len(name) >= 6 and lines and lines[0]:
        # The last line of a printed traceback: specific even for a short message.
        yield f"{name}: {lines[0]}"
    yield from lines
    yield guarded_text(repr, error)
    for arg in _ARGS.__get__(error)[:4]:
        if type(arg) is str:
            yield from (line.strip() for line in arg[:_MAX_TEXT].splitlines()[:8])


def exception_needles(exception: BaseException) -> list[str]:
    """The texts of ``exception`` (and its chain) that a page must not carry.

    An HTTP error's own text is left out: it is the standard description the
    app's page may well show. Its cause or context, if any, counts. A text
    counts only if it is distinctive enough that finding it in a page means a
    leak; each is cut to its first 48 characters (a page may truncate it).

    :param exception: The exception the response was made for, untrusted.
    """
    needles: list[str] = []
    for error in _chain(exception):
        if issubclass(type(error), HTTPException):
            continue
        for text in _texts(error):
            if _distinctive(text):
                # As the page is read: a surrogate that a JSON encoder wrote
                # alone (a lone one from a request) decodes to U+FFFD.
                needle = "".join(
                    "\ufffd" if "\ud800" <= char <= "\udfff" else char
                    for char in text[:_NEEDLE_LENGTH]
                )
                if needle not in needles:
                    needles.append(needle)
                    if len(needles) >= _MAX_NEEDLES:
                        return needles
    return needles


# -- the check -----------------------------------------------------------------------


def find_leak(body: bytes, exception: BaseException | None = None) -> str | None:
    """What the first :data:`SCAN_LIMIT` bytes of an error body leak, or ``None``.

    :param body: the body (or its first bytes), UTF-8 as Werkzeug sends text.
    :param exception: the exception the response was made for, if any: its
        message, repr and chain are looked for too.
    :return: :data:`TRACEBACK`, :data:`SOURCE_LOCATION`, :data:`JSON_FRAMES`
        or :data:`EXCEPTION_MESSAGE`.
    """
    raw = bytes(body[:SCAN_LIMIT]).decode("utf-8", "replace")
    decoded = _decode(raw)
    views = [raw.encode("utf-8", "replace")]
    if decoded != raw:
        views.append(decoded.encode("utf-8", "replace"))
    for kind, literals, pattern in _PATTERNS:
        for view in views:
            if any(literal in view for literal in literals) and pattern.search(view):
                return kind
    if exception is not None:
        for needle in exception_needles(exception):
            if needle in raw:
                return EXCEPTION_MESSAGE
            if decoded != raw and _decode(needle) in decoded:
                return EXCEPTION_MESSAGE
    for view in views:
        # Credentials in a URL (a DSN) are a leak whatever raised them, even
        # when the view caught its own exception and built the 500 itself.
        if b"://" in view and has_url_credentials(view):
            return URL_CREDENTIALS
    return None


# -- bodies --------------------------------------------------------------------------


def _chunk_bytes(chunk: object, limit: int) -> bytes:
    """At least the first ``limit`` bytes of a chunk (a str is UTF-8 encoded)."""
    if isinstance(chunk, str):
        # limit characters are at least limit bytes: cut before encoding.
        return chunk[:limit].encode("utf-8", "replace")
    if isinstance(chunk, (bytes, bytearray)):
        return bytes(chunk[:limit])
    if isinstance(chunk, memoryview):
        return chunk.tobytes()[:limit]
    return b""  # Werkzeug will refuse it when it sends the body


def body_prefix(chunks: Iterable[object], limit: int = SCAN_LIMIT) -> bytes:
    """The first ``limit`` bytes (or a few more) of a body's chunks, joined.

    Chunks are read until ``limit`` bytes are in: a generator body is consumed
    that far (a streamed body goes through :class:`HeldStream` instead).

    :param chunks: A response body: bytes-like or ``str`` chunks (``str`` as
        UTF-8); anything else counts as empty.
    :param limit: How many bytes are wanted.
    """
    prefix = bytearray()
    for chunk in chunks:
        prefix += _chunk_bytes(chunk, limit - len(prefix))
        if len(prefix) >= limit:
            break
    return bytes(prefix)


class HeldStream:
    """A streamed body whose first :data:`SCAN_LIMIT` bytes were read ahead.

    Reading stops at the limit, at the end of the body, or at an exception
    from the body, which is kept and raised again where it happened when the
    body is sent: the client sees what it would have seen without the
    look-ahead. Iterating gives the held chunks as they came, then the rest.
    ``close`` closes the original body.

    :param body: The response's body iterable; its first chunks are read now.
    :param limit: How many bytes to read ahead (and at most how many chunks,
        so that endless empty chunks end the look-ahead too).
    """

    def __init__(self, body: Iterable[object], limit: int = SCAN_LIMIT) -> None:
        self._body = body
        self._limit = limit
        #: The chunks read so far, unchanged.
        self.chunks: list[object] = []
        #: The exception the body raised while it was read ahead, if any.
        self.failure: Exception | None = None
        self._rest: Iterator[object] | None = None
        size = 0
        try:
            rest = iter(body)
            # Count empty chunks too: a body of endless empty chunks ends the look-ahead.
            while size < limit and len(self.chunks) < limit:
                chunk = next(rest)
                self.chunks.append(chunk)
                if isinstance(chunk, (str, bytes, bytearray)):
                    size += len(chunk)
                elif isinstance(chunk, memoryview):
                    size += chunk.nbytes
            self._rest = rest
        except StopIteration:
            pass
        except Exception as error:  # noqa: BLE001 - raised again when the body is sent
            self.failure = error

    def prefix(self) -> bytes:
        """The first bytes read ahead, up to the limit."""
        return body_prefix(self.chunks, self._limit)

    def __iter__(self) -> Iterator[object]:
        chunks, self.chunks = self.chunks, []
        yield from chunks
        if self.failure is not None:
            raise self.failure
        if self._rest is not None:
            yield from self._rest

    def close(self) -> None:
        """Close the original body (a generator's ``finally`` runs now)."""
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


# -- names ---------------------------------------------------------------------------


def callable_name(obj: object) -> str:
    """``module.qualified.name`` of a function, method or callable object.

    A ``functools.partial`` is named after the function it wraps; an object
    without a ``__qualname__`` by its class; ``"unknown"`` if reading fails.

    :param obj: The error handler or view, untrusted.
    """
    try:
        while isinstance(obj, functools.partial):
            obj = obj.func
        qualname = getattr(obj, "__qualname__", None)
        module = getattr(obj, "__module__", None)
        if not isinstance(qualname, str):
            qualname = type(obj).__qualname__
            module = type(obj).__module__
        if isinstance(module, str) and module != "builtins":
            return f"{module}.{qualname}"
        return str(qualname)
    except Exception:  # noqa: BLE001 - a hostile callable must not break the check
        return "unknown"
