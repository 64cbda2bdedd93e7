"""``flask prodguard probe URL``: a deployment as an attacker sees it, from the outside.

A guard inside one process cannot see a debugger in another process, a
forgotten development server, or a deployment that never installed the guard.
The probe asks the deployment itself: it sends a small fixed set of safe
requests (:func:`plan`: ``GET`` and ``OPTIONS``, and one ``POST`` of malformed
JSON; never a login, a PIN or a console command) to a URL the operator names,
reads the answers, and reports what they give away as findings with stable
ids (:data:`RULES`, ``PGP1xx``) at the severities ``flask prodguard check``
uses.

The server is not trusted. Each request is one connection with a deadline for
the whole answer (a server that trickles bytes is cut off), each body is read
up to :data:`MAX_BODY_BYTES` (and inflated no further when it came
compressed), the number of requests never exceeds the budget, redirects are
followed only on the named host (the operator's headers never go anywhere
else, and are cut out of whatever an answer repeats them in), and every text
taken from an answer is redacted, escaped and capped before it is shown
(:func:`excerpt`).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import http.client
import secrets
import socket
import ssl
import string
import threading
import time
import urllib.parse
import zlib
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

import re2

from ..checks import DOCS_URL
from ..checks import Severity
from ..events.processors import Redactor
from ..events.processors import sanitise_text
from . import sarif

#: The most of one answer's body the probe reads; the rest is never read.
MAX_BODY_BYTES = 256 * 1024
#: The length of the over-long header: above the 8 KiB limit of gunicorn,
#: nginx and Apache, so the server in front answers with its own error page.
LONG_HEADER_BYTES = 16 * 1024
#: Same-host redirects followed for one probe request (each costs a request).
MAX_REDIRECTS = 2
#: The longest excerpt of an answer shown as evidence.
EVIDENCE_LENGTH = 160
#: Headers that carry an error id unless ``--error-id-header`` names others.
DEFAULT_ERROR_ID_HEADERS = ("X-Error-ID", "X-Request-ID")
#: Headers the probe sets itself; ``--header`` may not.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-type"}
)

#: The characters of an HTTP header name (RFC 9110 token).
_HEADER_NAME_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

_SARIF_LEVEL: dict[Severity, sarif.Level] = {
    Severity.INFO: "note",
    Severity.WARNING: "warning",
    Severity.ERROR: "error",
    Severity.CRITICAL: "error",
}


@dataclasses.dataclass(frozen=True)
class ProbeRule:
    """What one probe finding id means.

    .. versionadded:: 0.2
    """

    title: str
    severity: Severity
    hint: str
    #: The in-process checks that find the same cause from inside the app.
    checks: tuple[str, ...] = ()


_SERVE = "serve the app with gunicorn or waitress (flask prodguard serve, deploy-config)"

#: Every probe finding, by its stable id.
RULES: dict[str, ProbeRule] = {
    "PGP101": ProbeRule(
        "The Werkzeug debugger console answers",
        Severity.CRITICAL,
        f"Never deploy with the debugger: {_SERVE}, not app.run(debug=True), flask run"
        " --debug or a DebuggedApplication; ProdGuard(app) neutralises a debugger it sees.",
        ("PG101", "PG102"),
    ),
    "PGP102": ProbeRule(
        "The debugger console is open without a PIN",
        Severity.CRITICAL,
        "Anyone who reaches it runs Python on the server: stop serving with the debugger"
        " (see PGP101) and never set WERKZEUG_DEBUG_PIN=off.",
        ("PG102", "PG103"),
    ),
    "PGP103": ProbeRule(
        "The Werkzeug debugger serves its files",
        Severity.CRITICAL,
        "A DebuggedApplication wraps the app (its traceback pages show source code even"
        f" with the console off): {_SERVE} without it.",
        ("PG102",),
    ),
    "PGP104": ProbeRule(
        "An error response is the debugger's traceback page",
        Severity.CRITICAL,
        f"Turn debug mode off and {_SERVE}; ProdGuard(app) serves a generic page instead.",
        ("PG101", "PG102"),
    ),
    "PGP111": ProbeRule(
        "An error response shows a Python traceback",
        Severity.ERROR,
        "Turn off debug mode, TESTING, PROPAGATE_EXCEPTIONS and the server's own traceback"
        " pages (waitress expose_tracebacks); ProdGuard(app) answers with a generic page and"
        " an error id.",
        ("PG101", "PG201", "PG202"),
    ),
    "PGP112": ProbeRule(
        "An error response shows source file paths",
        Severity.ERROR,
        "Serve generic error pages (ProdGuard(app)); an error handler must not put the"
        " exception or its traceback in the response.",
        ("PG202",),
    ),
    "PGP113": ProbeRule(
        "An error response names an exception",
        Severity.WARNING,
        "Serve generic error pages (ProdGuard(app)); turn debug mode off, which adds"
        " exception details to 400 responses.",
        ("PG101", "PG204"),
    ),
    "PGP114": ProbeRule(
        "An error response names the framework or server",
        Severity.WARNING,
        "Serve your own error pages: ProdGuard(app) for the app's errors, the proxy's"
        " error_page or ErrorDocument for its own.",
    ),
    "PGP115": ProbeRule(
        "Malformed JSON is answered with a server error",
        Severity.INFO,
        "Validate request bodies: answer input the app cannot parse with a 400, not a 500"
        " from an exception.",
    ),
    "PGP121": ProbeRule(
        "The Werkzeug development server answers",
        Severity.ERROR,
        f"The development server is not made for production: {_SERVE}.",
        ("PG105",),
    ),
    "PGP122": ProbeRule(
        "A response discloses a software version",
        Severity.WARNING,
        "Hide versions: nginx server_tokens off; Apache ServerTokens Prod and"
        " ServerSignature Off; no X-Powered-By header; never the development server.",
    ),
    "PGP123": ProbeRule(
        "A response names the server software",
        Severity.INFO,
        "Nothing to do, unless your policy hides server names too: then drop the header at"
        " the proxy.",
    ),
    "PGP131": ProbeRule(
        "Error responses carry an error id",
        Severity.INFO,
        "Nothing to do: support finds the logged error from the id a user quotes.",
    ),
    "PGP132": ProbeRule(
        "An error response carries no error id",
        Severity.WARNING,
        "Guard the app (ProdGuard(app)): its error responses then carry an error id in"
        " X-Error-ID and in the page. An id under another header: --error-id-header NAME.",
        ("PG207",),
    ),
    "PGP141": ProbeRule(
        "A redirect off the named host was not followed",
        Severity.INFO,
        "Probe the URL it redirects to as well, if it is yours.",
    ),
    "PGP142": ProbeRule(
        "A probe request got no answer",
        Severity.WARNING,
        "What that request looks for was not checked: make sure the URL reaches the app"
        " from where the probe runs, or raise --timeout.",
    ),
    "PGP143": ProbeRule(
        "An answer was longer than the probe reads",
        Severity.INFO,
        f"Nothing to do: the first {MAX_BODY_BYTES // 1024} KiB of it were checked.",
    ),
    "PGP144": ProbeRule(
        "Requests were left unsent: the budget ran out",
        Severity.WARNING,
        "Raise --max-requests (each redirect followed costs one), or probe the URL the"
        " site redirects to.",
    ),
    "PGP145": ProbeRule(
        "An answer came in an encoding the probe cannot read",
        Severity.WARNING,
        "What that answer shows was not checked: let the server (or the proxy in front)"
        " answer Accept-Encoding: identity uncompressed, as the probe asks.",
    ),
}


@dataclasses.dataclass(frozen=True)
class Probe:
    """One request of the probe, and what it looks for.

    .. versionadded:: 0.2
    """

    #: A short stable name (``console``, ``not-found``).
    name: str
    method: str
    #: Path and query under the URL's directory; ``None`` for the URL itself.
    target: str | None
    #: What the request is for, in a phrase.
    purpose: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: A ``Host`` header to send instead of the URL's.
    host: str | None = None
    #: Whether same-host redirects are followed.
    follow: bool = True
    #: Whether the app itself answers it: its error response should carry an id.
    app_error: bool = False
    #: Whether the request is made to fail: its answer is checked for a leaked
    #: traceback whatever its status (an API may answer an error with a 200).
    provokes_error: bool = False


_RESOURCE = "__debugger__=yes&cmd=resource&f="
#: What stays as it is when a path or query is quoted for the request line.
_SAFE_IN_URL = "/%:@!$&'()*+,;=-._~?"


def plan(token: str) -> list[Probe]:
    """The probe's requests, the most telling first (a small budget sends those).

    :param token: A random word for a path that exists nowhere.
    """
    missing = f"prodguard-probe-{token}"
    return [
        Probe("page", "GET", None, "the URL itself: the server's headers"),
        Probe("console", "GET", "console", "the debugger's console"),
        Probe("debugger-js", "GET", f"?{_RESOURCE}debugger.js", "the debugger's script"),
        Probe("not-found", "GET", missing, "a 404", app_error=True, provokes_error=True),
        Probe("options", "OPTIONS", "", "the methods the URL takes", follow=False),
        Probe(
            "malformed-json",
            "POST",
            "",
            "a malformed JSON body (a 405 where the URL takes no POST)",
            headers=(("Content-Type", "application/json"),),
            body=b'{"prodguard-probe": [1, 2,',
            follow=False,
            app_error=True,
            provokes_error=True,
        ),
        Probe("style-css", "GET", f"?{_RESOURCE}style.css", "the debugger's style sheet"),
        Probe("console-encoded", "GET", "%63onsole", "the console, percent-encoded"),
        Probe(
            "debugger-encoded",
            "GET",
            "?%5F%5Fdebugger%5F%5F=yes&cmd=resource&f=debugger.js",
            "the debugger's script, its argument percent-encoded",
        ),
        Probe(
            "debugger-later",
            "GET",
            f"{missing}?prodguard=1&{_RESOURCE}debugger.js",
            "the debugger's script on another path, its argument second",
        ),
        Probe(
            "long-header",
            "GET",
            None,
            "an over-long header",
            headers=(("X-ProdGuard-Probe", "a" * LONG_HEADER_BYTES),),
            follow=False,
            provokes_error=True,
        ),
        Probe(
            "bad-host",
            "GET",
            None,
            "a Host that is not the site's",
            host="prodguard-probe.invalid",
            follow=False,
            provokes_error=True,
        ),
    ]


@dataclasses.dataclass
class Exchange:
    """One probe request and what came back.

    .. versionadded:: 0.2
    """

    probe: Probe
    #: The URL last asked (after the redirects followed).
    url: str
    status: int | None = None
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    body: bytes = b""
    #: The body was longer than :data:`MAX_BODY_BYTES` (decoded, if it came compressed).
    truncated: bool = False
    #: Why a compressed body could not be decoded (a coding the probe does not
    #: read, or corrupt data): it is then checked as it came.
    encoding_error: str | None = None
    #: Why there is no answer (a timeout, a reset, a malformed answer).
    error: str | None = None
    #: The URLs a same-host redirect led to, in order.
    redirects: list[str] = dataclasses.field(default_factory=list)
    #: A redirect off the named host, not followed.
    not_followed: str | None = None
    #: A same-host redirect left unfollowed because the budget ran out.
    budget_cut: bool = False

    def header(self, name: str) -> list[str]:
        """The values of every header called ``name`` (in any case)."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    @property
    def summary(self) -> str:
        """``GET <url> -> 404``, escaped and capped."""
        outcome = str(self.status) if self.status is not None else "no answer"
        return f"{self.probe.method} {clean(self.url, 200)} -> {outcome}"

    def as_dict(self) -> dict[str, Any]:
        """Plain data (``--format json``); the headers sent are left out (a token)."""
        return {
            "probe": self.probe.name,
            "purpose": self.probe.purpose,
            "method": self.probe.method,
            "url": clean(self.url, 2048),
            "status": self.status,
            # What OPTIONS says the URL takes (a 405 for the POST follows from it).
            "allow": clean(", ".join(self.header("Allow")), 200) or None,
            "bytes": len(self.body),
            "truncated": self.truncated,
            "error": self.error,
            "encoding_error": self.encoding_error,
            "redirects": [clean(url, 2048) for url in self.redirects],
            "not_followed": clean(self.not_followed, 2048) if self.not_followed else None,
        }


@dataclasses.dataclass(frozen=True)
class ProbeFinding:
    """What the answers gave away, by rule, with the requests that showed it.

    .. versionadded:: 0.2
    """

    rule: str
    severity: Severity
    #: What was seen, in a phrase (no request in it).
    message: str
    #: An escaped, redacted excerpt of the answer ("" when there is none).
    evidence: str
    #: ``GET <url> -> <status>`` of each request that showed it.
    requests: tuple[str, ...]
    #: The first of those URLs (the SARIF location).
    url: str

    @property
    def title(self) -> str:
        """The rule's title."""
        return RULES[self.rule].title

    @property
    def hint(self) -> str:
        """How to fix it (the rule's hint)."""
        return RULES[self.rule].hint

    @property
    def docs(self) -> str:
        """Link to the documentation of the finding."""
        return f"{DOCS_URL}#{self.rule.lower()}"

    def as_dict(self) -> dict[str, Any]:
        """Plain data (``--format json``)."""
        return {
            "id": self.rule,
            "severity": str(self.severity),
            "title": self.title,
            "message": self.message,
            "evidence": self.evidence,
            "requests": list(self.requests),
            "hint": self.hint,
            "docs": self.docs,
            "checks": list(RULES[self.rule].checks),
        }


@dataclasses.dataclass
class ProbeReport:
    """One probe of one URL.

    .. versionadded:: 0.2
    """

    url: str
    #: The URL the probe's paths go under: the URL's directory, or the URL
    #: itself when it redirected to itself with a slash added (a mount point).
    directory: str
    exchanges: list[Exchange]
    findings: list[ProbeFinding]
    #: Requests sent, redirects followed included.
    sent: int
    max_requests: int
    #: The probes the budget left unsent, by name.
    not_sent: list[str]

    @property
    def reached(self) -> bool:
        """Whether the URL itself answered (else nothing was checked)."""
        return bool(self.exchanges) and self.exchanges[0].status is not None


# -- reading what comes back -----------------------------------------------------------


@functools.cache
def _redactor() -> Redactor:
    return Redactor()


def clean(text: str, limit: int = EVIDENCE_LENGTH) -> str:
    """Server text made safe to show: secrets redacted, control and format
    characters escaped, at most ``limit`` characters (and a note of the rest).

    :param text: Text an untrusted server chose.
    :param limit: The most characters kept.
    """
    # Runs of whitespace (a traceback's line breaks) read better as one space.
    return sanitise_text(_redactor().redact_text(" ".join(text.split())), limit)


def excerpt(text: str, start: int, end: int) -> str:
    """The match ``text[start:end]`` with a little context, made safe by :func:`clean`.

    :param text: The answer's body.
    :param start: Where the match starts.
    :param end: Where it ends.
    """
    before = text[max(start - 24, 0) : start]
    if start > len(before) and " " in before:
        before = before[before.index(" ") + 1 :]  # from a word's start
    return clean(before + text[start : end + 60])


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
# Every pattern runs on untrusted text up to MAX_BODY_BYTES: RE2, linear time.
_TRACEBACK = re2.compile(r"Traceback \(most recent call last\)", _OPTIONS)
#: A traceback's frame line, plain, JSON- or HTML-escaped: only a traceback reads so.
_FRAME_LINE = re2.compile(
    r'File (?:\\?"|&quot;|&#34;|&#x22;)[^"&\n]{1,300}(?:\\?"|&quot;|&#34;|&#x22;),'
    r" line [0-9]+",
    _OPTIONS,
)
_FILE_LINE = re2.compile(
    _FRAME_LINE.pattern + r"|/[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+\.py\b", _OPTIONS
)
_EXCEPTION = re2.compile(
    r"\b[A-Z][A-Za-z0-9_]{0,80}(?:Error|Exception)(?::|\()|Failed to decode JSON object",
    _OPTIONS,
)
_FRAMEWORK = re2.compile(r"(?i)\b(?:werkzeug|flask|jinja2?|gunicorn|waitress)\b", _OPTIONS)
_BODY_VERSION = re2.compile(
    r"(?i)\b(?:nginx|apache|openresty|microsoft-iis|lighttpd|caddy|werkzeug|gunicorn"
    r"|waitress|uwsgi|python|php)/[0-9]+(?:\.[0-9]+)*",
    _OPTIONS,
)
#: Response headers that name software (and often its version): the server and
#: proxies (Via: 1.1 varnish (Varnish/6.0)), frameworks and generators.
_VERSION_HEADERS = (
    "Server",
    "X-Powered-By",
    "Via",
    "X-AspNet-Version",
    "X-AspNetMvc-Version",
    "X-Generator",
    "X-Runtime",
)
_HEADER_VERSION = re2.compile(r"/v?[0-9]|[0-9]+\.[0-9]+", _OPTIONS)
_DEBUGGER_TITLE = "// Werkzeug Debugger</title>"


@dataclasses.dataclass(frozen=True)
class _Hit:
    rule: str
    message: str
    evidence: str = ""


def _found(text: str, needle: str) -> str | None:
    at = text.find(needle)
    return None if at < 0 else excerpt(text, at, at + len(needle))


def _debugger_hits(exchange: Exchange, text: str) -> list[_Hit]:
    hits = []
    if (
        exchange.status == 200
        and "Interactive Console" in text
        and (_DEBUGGER_TITLE in text or "CONSOLE_MODE = true" in text)
    ):
        evidence = _found(text, "Interactive Console") or ""
        if "EVALEX_TRUSTED = true" in text:
            hits.append(_Hit("PGP101", "the interactive console is served", evidence))
            hits.append(
                _Hit(
                    "PGP102",
                    "the console is served unlocked (EVALEX_TRUSTED = true)",
                    _found(text, "EVALEX_TRUSTED = true") or "",
                )
            )
        else:
            hits.append(
                _Hit(
                    "PGP101", "the interactive console is served behind a PIN prompt", evidence
                )
            )
    if exchange.status == 200:
        for needle, what in (("initPinBox", "debugger.js"), ("div.debugger", "style.css")):
            if needle in text:
                hits.append(
                    _Hit(
                        "PGP103", f"the debugger's {what} is served", _found(text, needle) or ""
                    )
                )
    if _DEBUGGER_TITLE in text and 'class="traceback"' in text:
        hits.append(
            _Hit(
                "PGP104",
                "the debugger rendered an exception as its traceback page",
                _found(text, 'class="traceback"') or "",
            )
        )
    return hits


def _traceback_hits(text: str) -> list[_Hit]:
    """What nothing but a traceback shows: its first line, or a frame line."""
    traceback = _TRACEBACK.search(text)
    if traceback:
        return [_Hit("PGP111", "a Python traceback", excerpt(text, *traceback.span()))]
    frame = _FRAME_LINE.search(text)
    if frame:
        return [_Hit("PGP112", "a source file path", excerpt(text, *frame.span()))]
    return []


def _leak_hits(text: str) -> list[_Hit]:
    hits = []
    traceback = _TRACEBACK.search(text)
    if traceback:
        hits.append(_Hit("PGP111", "a Python traceback", excerpt(text, *traceback.span())))
    else:
        # A traceback shows paths and an exception name anyway: said once.
        path = _FILE_LINE.search(text)
        if path:
            hits.append(_Hit("PGP112", "a source file path", excerpt(text, *path.span())))
        for match in _EXCEPTION.finditer(text):
            name = match.group().rstrip(":(")
            if name not in ("Error", "Exception"):
                hits.append(_Hit("PGP113", "an exception", excerpt(text, *match.span())))
                break
    framework = _FRAMEWORK.search(text)
    if framework:
        hits.append(
            _Hit("PGP114", f"the word {framework.group()!r}", excerpt(text, *framework.span()))
        )
    version = _BODY_VERSION.search(text)
    if version:
        hits.append(_Hit("PGP122", "a version in the page", excerpt(text, *version.span())))
    return hits


def _header_hits(exchange: Exchange) -> list[_Hit]:
    hits = []
    for name in _VERSION_HEADERS:
        for value in exchange.header(name):
            shown = clean(f"{name}: {value}")
            if name == "Server" and value.lower().startswith("werkzeug/"):
                hits.append(_Hit("PGP121", "the Server header names Werkzeug", shown))
            if _HEADER_VERSION.search(value):
                hits.append(_Hit("PGP122", f"a version in the {name} header", shown))
            else:
                hits.append(_Hit("PGP123", f"the {name} header", shown))
    return hits


def _error_id(exchange: Exchange, text: str, id_headers: Sequence[str]) -> str | None:
    """Where the answer carries an error id, if it does."""
    for name in id_headers:
        if any(value.strip() for value in exchange.header(name)):
            return f"the {clean(name, 100)} header"
    # The guard's problem+json and built-in page.
    if "urn:prodguard:error:" in text or '"error_id"' in text or "quote this reference" in text:
        return "the body"
    return None


def findings(
    exchanges: Iterable[Exchange], id_headers: Sequence[str], sent: Sequence[str] = ()
) -> list[ProbeFinding]:
    """What the answers give away: one finding per rule and evidence, with the
    requests that showed it, the most severe first.

    :param exchanges: The requests sent and their answers.
    :param id_headers: The response headers that carry an error id.
    :param sent: What the probe itself sent (its ``--header`` values, its
        User-Agent): echoed back, it is neither evidence nor shown.
    """
    answers = [_without_echoes(exchange, sent) for exchange in exchanges]
    # What the URL's own page shows is no leak of a request made to fail: a
    # catch-all that answers every path with a page about Python shows it too.
    ordinary = frozenset(
        hit
        for answer in answers
        if answer.probe.name == "page" and answer.status is not None
        for hit in _traceback_hits(answer.text)
    )
    grouped: dict[_Hit, list[Exchange]] = {}
    for answer in answers:
        hits = _exchange_hits(answer, id_headers, ordinary)
        for hit in dict.fromkeys(hits):
            grouped.setdefault(hit, []).append(answer)
    found = [
        ProbeFinding(
            rule=hit.rule,
            severity=RULES[hit.rule].severity,
            message=hit.message,
            evidence=hit.evidence,
            requests=tuple(e.summary for e in seen),
            url=seen[0].url,
        )
        for hit, seen in grouped.items()
    ]
    order = list(RULES)
    found.sort(key=lambda f: (-f.severity, order.index(f.rule)))
    return found


#: What replaces a value the probe sent wherever an answer repeats it.
_SENT = "[sent by the probe]"
#: ASCII letters in lower case; every other character as it is (the length stays).
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _echo_forms(values: Iterable[str]) -> tuple[str, ...]:
    """``values`` as sent, percent-encoded and HTML-escaped, in lower case,
    the longest first: what :func:`_cut` looks for.

    :param values: What the probe sent.
    """
    forms = set()
    for value in values:
        if value:
            forms |= {value, urllib.parse.quote(value, safe=""), html.escape(value)}
    return tuple(
        sorted((form.translate(_ASCII_LOWER) for form in forms), key=len, reverse=True)
    )


def _cut(forms: Sequence[str], text: str) -> str:
    """``text`` with every one of ``forms`` in it, in any case (a server may
    reflect a token lower-cased), replaced by :data:`_SENT`.

    Only ASCII letters are lowered, so the lowered text keeps the length and
    the indexes of ``text`` (``str.lower`` would not: ``"\u0130".lower()`` is
    two characters); ``str.find`` stays linear whatever the server sent.
    """
    lowered = text.translate(_ASCII_LOWER)
    spans = []
    for form in forms:
        at = lowered.find(form)
        while at >= 0:
            spans.append((at, at + len(form)))
            at = lowered.find(form, at + len(form))
    if not spans:
        return text
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if merged and begin < merged[-1][1]:
            # Overlaps the one before (a shorter form inside a longer): one cut.
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    parts, done = [], 0
    for begin, end in merged:
        parts += [text[done:begin], _SENT]
        done = end
    return "".join(parts) + text[done:]


def _without_secrets(exchange: Exchange, sent: Iterable[str]) -> Exchange:
    """``exchange`` with ``sent`` (the ``--header`` values) cut out of
    everything the server chose and the report shows: the body, the headers,
    the URLs a redirect named, and the error an odd answer raised (a status
    line or a ``Content-Encoding`` that repeats the token).

    :param exchange: A request and its answer.
    :param sent: The values never to show.
    """
    forms = _echo_forms(sent)
    if not forms:
        return exchange

    def cut(text: str | None) -> str | None:
        return None if text is None else _cut(forms, text)

    body = exchange.text
    cleaned = _cut(forms, body)
    changed = dataclasses.replace(
        exchange,
        url=_cut(forms, exchange.url),
        headers=[(name, _cut(forms, value)) for name, value in exchange.headers],
        body=exchange.body if cleaned == body else cleaned.encode("utf-8", "replace"),
        error=cut(exchange.error),
        encoding_error=cut(exchange.encoding_error),
        redirects=[_cut(forms, url) for url in exchange.redirects],
        not_followed=cut(exchange.not_followed),
    )
    return exchange if changed == exchange else changed


def _without_echoes(exchange: Exchange, sent: Sequence[str]) -> Exchange:
    """``exchange`` with what the probe sent cut out of the answer: a page that
    repeats the request's path, User-Agent or a header (a staging token) shows
    the probe's words, not the site's, and a token must never be printed."""
    exchange = _without_secrets(exchange, sent)
    parts = urllib.parse.urlsplit(exchange.url)
    paths = (parts.path, urllib.parse.unquote(parts.path), parts.query)
    # The request's own path: cut from the answer, not from the URL shown.
    forms = _echo_forms(path for path in paths if len(path) > 1)
    if not forms:
        return exchange
    body = exchange.text
    cleaned = _cut(forms, body)
    headers = [(name, _cut(forms, value)) for name, value in exchange.headers]
    if cleaned == body and headers == exchange.headers:
        return exchange
    return dataclasses.replace(
        exchange, body=cleaned.encode("utf-8", "replace"), headers=headers
    )


def _exchange_hits(
    exchange: Exchange, id_headers: Sequence[str], ordinary: frozenset[_Hit]
) -> list[_Hit]:
    hits: list[_Hit] = []
    if exchange.error is not None:
        hits.append(_Hit("PGP142", exchange.error))
    if exchange.encoding_error is not None:
        hits.append(_Hit("PGP145", exchange.encoding_error))
    if exchange.not_followed is not None:
        hits.append(_Hit("PGP141", "redirected to", clean(exchange.not_followed, 200)))
    if exchange.truncated:
        hits.append(_Hit("PGP143", f"over {MAX_BODY_BYTES // 1024} KiB"))
    if exchange.status is None:
        return hits
    text = exchange.text
    hits += _debugger_hits(exchange, text)
    hits += _header_hits(exchange)
    if exchange.status < 400:
        if exchange.probe.provokes_error:
            # An API may answer an error with a 200 and the traceback in its
            # JSON (JSON-RPC, GraphQL, a catch-all handler). A page that is no
            # error may name an exception or a framework for good reasons: only
            # what nothing but a traceback shows counts here.
            hits += [hit for hit in _traceback_hits(text) if hit not in ordinary]
        return hits
    if not any(hit.rule == "PGP104" for hit in hits):
        hits += _leak_hits(text)
    if exchange.probe.name == "malformed-json" and exchange.status >= 500:
        hits.append(_Hit("PGP115", f"malformed JSON was answered {exchange.status}"))
    if exchange.probe.app_error:
        where = _error_id(exchange, text, id_headers)
        if where is None:
            hits.append(_Hit("PGP132", "no error id in the headers or the body"))
        else:
            hits.append(_Hit("PGP131", f"an error id in {where}"))
    return hits


# -- sending ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    """The URL the operator named, checked and split.

    .. versionadded:: 0.2
    """

    scheme: str
    #: ``host[:port]`` as named: the ``Host`` header.
    netloc: str
    hostname: str
    port: int
    #: The URL's path, and its directory (ending in ``/``) that probe paths go under.
    path: str
    directory: str

    @classmethod
    def parse(cls, url: str) -> Target:
        """Check ``url`` and split it.

        :param url: An ``http://`` or ``https://`` URL without credentials.
        :raises ValueError: The URL cannot be probed; the message says why.
        """
        parts = urllib.parse.urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ValueError("give an http:// or https:// URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the probe never logs in: pass a token with --header instead")
        if not parts.hostname:
            raise ValueError("the URL has no host")
        try:
            # The Host header and the request line take ASCII only.
            hostname = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("the host name is not a valid name") from None
        port = parts.port  # raises ValueError for a bad port
        if port == 0:
            raise ValueError("port 0 cannot be probed")
        netloc = f"[{hostname}]" if ":" in hostname else hostname
        if port is not None:
            netloc += f":{port}"
        path = _quoted(parts.path or "/")
        return cls(
            scheme=scheme,
            netloc=netloc,
            hostname=hostname,
            port=port or (443 if scheme == "https" else 80),
            path=path,
            directory=path if path.endswith("/") else path.rsplit("/", 1)[0] + "/",
        )

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``."""
        return f"{self.scheme}://{self.netloc}"

    @property
    def url(self) -> str:
        """The URL, normalised."""
        return self.origin + self.path

    def url_for(self, probe: Probe) -> str:
        """The URL a probe asks."""
        if probe.target is None:
            return self.url
        return self.origin + self.directory + probe.target

    def under_mount_point(self, page: Exchange) -> Target:
        """This target with its directory moved under its path when the answer
        to the URL itself redirected there with a slash added: ``/app``
        answering ``/app/`` is a mount point, whose console is ``/app/console``.

        :param page: The answer to the URL itself, its same-host redirects followed.
        """
        directory = self.path + "/"
        if not self.path.endswith("/") and any(
            urllib.parse.urlsplit(url).path == directory for url in page.redirects
        ):
            return dataclasses.replace(self, directory=directory)
        return self

    def same_host(self, url: str) -> bool:
        """Whether a redirect to ``url`` stays on this host (same name and port,
        or an upgrade from http to https on the same name)."""
        try:
            other = Target.parse(url)
        except ValueError:
            return False
        if other.hostname != self.hostname:
            return False
        if self.scheme == "https" and other.scheme != "https":
            return False  # a downgrade would send the --header token in clear text
        return other.port == self.port or (
            (self.scheme, other.scheme, other.port) == ("http", "https", 443)
        )


def _quoted(text: str, encoding: str = "utf-8") -> str:
    """A path or query percent-encoded for the request line (and a valid URI):
    spaces, quotes, brackets, control and non-ASCII characters encoded, and a
    ``%`` that starts no escape as well. Encoding it again changes nothing.

    :param text: The path or query.
    :param encoding: How characters become the bytes that are encoded.
    """
    head, *rest = urllib.parse.quote(text, safe=_SAFE_IN_URL, encoding=encoding).split("%")
    hexdigits = frozenset("0123456789abcdefABCDEF")
    return head + "".join(
        ("%" if len(part) >= 2 and part[0] in hexdigits and part[1] in hexdigits else "%25")
        + part
        for part in rest
    )


def _asked_url(target: Target, url: str) -> str:
    """A same-host redirect's URL as the probe asks it (and shows it): the
    target's origin, the path and query percent-encoded, no fragment.

    :param target: ``url``, parsed.
    :param url: The ``Location`` joined to the URL that answered with it.
    """
    parts = urllib.parse.urlsplit(url)
    # http.client reads a header's bytes as latin-1: encoded back, they are
    # asked for as the server sent them.
    encoding = "latin-1" if all(ord(char) < 256 for char in url) else "utf-8"
    asked = target.origin + _quoted(parts.path or "/", encoding)
    if parts.query:
        asked += "?" + _quoted(parts.query, encoding)
    return asked


class _Client:
    """Sends the probe's requests: one connection each, within the budget,
    the delay and the deadline."""

    def __init__(
        self,
        max_requests: int,
        delay: float,
        timeout: float,
        headers: Sequence[tuple[str, str]],
    ) -> None:
        self.max_requests = max_requests
        self.delay = delay
        self.timeout = timeout
        self.headers = tuple(headers)
        self.sent = 0
        self._last: float | None = None
        self._agent = f"flask-prodguard-probe/{_version()}"
        #: The User-Agent every request carries.
        self.agent = self._agent

    @property
    def budget_left(self) -> bool:
        return self.sent < self.max_requests

    def exchange(self, target: Target, probe: Probe) -> Exchange:
        """Send ``probe``, and follow its same-host redirects while allowed."""
        exchange = Exchange(probe, target.url_for(probe))
        current = target
        for hop in range(MAX_REDIRECTS + 1):
            self._send(current, probe, exchange)
            location = exchange.header("Location")
            if exchange.error is not None or not location or not probe.follow:
                return exchange
            if exchange.status not in (301, 302, 303, 307, 308):
                return exchange
            following = urllib.parse.urljoin(exchange.url, location[0])
            if not target.same_host(following):
                exchange.not_followed = following
            elif hop == MAX_REDIRECTS:
                exchange.error = f"more than {MAX_REDIRECTS} redirects"
            elif not self.budget_left:
                exchange.budget_cut = True
            else:
                current = Target.parse(following)
                exchange.url = _asked_url(current, following)
                exchange.redirects.append(exchange.url)
                continue
            return exchange
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns

    def _wait(self) -> None:
        if self._last is not None:
            pause = self.delay - (time.monotonic() - self._last)
            if pause > 0:
                time.sleep(pause)

    def _send(self, target: Target, probe: Probe, exchange: Exchange) -> None:
        self._wait()
        self.sent += 1
        exchange.status, exchange.headers, exchange.body = None, [], b""
        exchange.truncated, exchange.error = False, None
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            connection = http.client.HTTPSConnection(
                target.hostname,
                target.port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
            )
        else:
            connection = http.client.HTTPConnection(
                target.hostname, target.port, timeout=self.timeout
            )
        expired = threading.Event()

        def cut_off() -> None:
            # The socket timeout bounds each read, not the whole answer: a
            # server sending a byte a second would hold the probe forever.
            expired.set()
            sock = connection.sock
            if sock is not None:
                try:
                    # The plain socket's shutdown, also under TLS: it ends a
                    # read blocked in another thread without touching TLS state.
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(self.timeout, cut_off)
        timer.daemon = True
        timer.start()
        try:
            self._request(connection, target, probe, exchange)
        except (OSError, http.client.HTTPException, ValueError) as error:
            # What arrived before the failure (a status, part of a body) is kept.
            exchange.error = clean(f"{type(error).__name__}: {error}", 200)
        finally:
            timer.cancel()
            connection.close()
            self._last = time.monotonic()
        if expired.is_set():
            exchange.error = f"no complete answer within {self.timeout:g} s"

    def _request(
        self,
        connection: http.client.HTTPConnection,
        target: Target,
        probe: Probe,
        exchange: Exchange,
    ) -> None:
        parts = urllib.parse.urlsplit(exchange.url)
        path = _quoted(parts.path or "/")
        if parts.query:
            path += "?" + _quoted(parts.query)
        connection.putrequest(probe.method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", probe.host or target.netloc)
        connection.putheader("User-Agent", self._agent)
        connection.putheader("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        connection.putheader("Accept-Encoding", "identity")
        connection.putheader("Connection", "close")
        for name, value in (*self.headers, *probe.headers):
            connection.putheader(name, value)
        if probe.body or probe.method == "POST":
            connection.putheader("Content-Length", str(len(probe.body)))
        connection.endheaders(probe.body or None)
        response = connection.getresponse()
        exchange.status = response.status
        exchange.headers = response.getheaders()
        body = bytearray()
        try:
            # One byte past the cap tells a longer body from one of exactly the cap.
            while len(body) <= MAX_BODY_BYTES:
                chunk = response.read1(MAX_BODY_BYTES + 1 - len(body))
                if not chunk:
                    break
                body += chunk
        finally:
            # Kept when reading fails half-way: what arrived is still evidence.
            exchange.body, exchange.truncated, exchange.encoding_error = _decoded_body(
                bytes(body[:MAX_BODY_BYTES]), exchange.header("Content-Encoding")
            )
            exchange.truncated = exchange.truncated or len(body) > MAX_BODY_BYTES


#: The most content codings of one answer the probe undoes (servers use one).
_MAX_CODINGS = 2
#: zlib's window bits for each content coding the probe decodes: 32 + 15
#: detects a gzip or a zlib header; "deflate" is zlib's format (RFC 9110), or
#: raw deflate, as some servers send it.
_WBITS = {"gzip": (47,), "x-gzip": (47,), "deflate": (15, -15)}


def _decoded_body(
    body: bytes, content_encoding: Sequence[str]
) -> tuple[bytes, bool, str | None]:
    """``body`` with its content codings undone, as far as the probe reads.

    The probe asks for ``Accept-Encoding: identity``; a server that compresses
    anyway must not hide a traceback. Each coding inflates to at most
    :data:`MAX_BODY_BYTES`, so a gzip bomb costs no more than a plain body.

    :param body: The body as it came (at most :data:`MAX_BODY_BYTES`).
    :param content_encoding: The values of the answer's ``Content-Encoding`` headers.
    :returns: The decoded body (at most :data:`MAX_BODY_BYTES`), whether it
        was longer, and ``None``; or, for a body the probe cannot decode, the
        body as it came, ``False`` and why, in a phrase.
    """
    codings = [c.strip().lower() for value in content_encoding for c in value.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings or not body:
        return body, False, None
    if len(codings) > _MAX_CODINGS:
        return body, False, f"{len(codings)} content codings, more than {_MAX_CODINGS}"
    data, longer = body, False
    for coding in reversed(codings):
        if coding not in _WBITS:
            return body, False, f"the content coding '{clean(coding, 40)}'"
        try:
            data, cut = _inflate(data, _WBITS[coding])
        except zlib.error:
            return body, False, f"{coding} data that does not decode"
        longer = longer or cut
    return data, longer, None


def _inflate(data: bytes, wbits: tuple[int, ...]) -> tuple[bytes, bool]:
    """Inflate ``data`` to at most :data:`MAX_BODY_BYTES`, and say whether it
    holds more; gzip members after the first are read too (as ``gzip -d``
    does), bytes after the last are ignored.

    :raises zlib.error: Not one of the formats of ``wbits``.
    """
    out = bytearray()
    formats = list(wbits)
    while data and len(out) <= MAX_BODY_BYTES:
        inflater = zlib.decompressobj(formats[0])
        try:
            # One byte past the cap tells a longer body from one of exactly the
            # cap; max_length keeps a bomb from inflating any further.
            out += inflater.decompress(data, MAX_BODY_BYTES + 1 - len(out))
        except zlib.error:
            if out:
                break  # trailing bytes after a whole stream
            formats.pop(0)
            if not formats:
                raise
            continue
        if not inflater.eof or formats[0] < 0:
            # The cap, a body cut short mid-stream, or the end of raw deflate
            # (with no header, what follows it would inflate to garbage).
            break
        data = inflater.unused_data
    return bytes(out[:MAX_BODY_BYTES]), len(out) > MAX_BODY_BYTES


def _version() -> str:
    from .. import __version__

    return str(__version__)


def parse_header(text: str) -> tuple[str, str]:
    """A ``--header 'Name: value'`` option as a (name, value) pair.

    No message repeats the value: it is likely a token.

    :param text: The option's value.
    :raises ValueError: Not ``Name: value``, a name that is no HTTP token, a
        value that is not printable ASCII, or a header the probe sets itself.
    """
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name:
        raise ValueError("expected 'Name: value'")
    if any(char not in _HEADER_NAME_CHARS for char in name):
        raise ValueError("expected 'Name: value', with a header name before the colon")
    if not all(" " <= char <= "~" or char == "\t" for char in value):
        raise ValueError(f"the value of {name} must be printable ASCII")
    if name.lower() in RESERVED_HEADERS:
        raise ValueError(f"{name} is set by the probe itself")
    return name, value


def probe(
    url: str,
    *,
    max_requests: int = 25,
    delay: float = 0.2,
    timeout: float = 10.0,
    headers: Sequence[tuple[str, str]] = (),
    id_headers: Sequence[str] = DEFAULT_ERROR_ID_HEADERS,
) -> ProbeReport:
    """Send the probe's requests to ``url`` and report what the answers give away.

    Stops after the first request when the URL does not answer at all
    (:attr:`ProbeReport.reached` is then false). A URL that redirects to
    itself with a slash added is a mount point: the other requests go under it.

    .. code-block:: python

        report = probe("https://staging.example.com/", headers=[("X-Token", token)])
        assert not [f for f in report.findings if f.severity >= Severity.ERROR]

    :param url: The deployment, ``http://`` or ``https://``, without credentials.
    :param max_requests: The most requests sent, redirects included.
    :param delay: Seconds between two requests.
    :param timeout: Seconds for each whole answer.
    :param headers: Headers sent with every request (a staging token); never
        sent off the named host.
    :param id_headers: Response headers that carry an error id.
    :raises ValueError: The URL cannot be probed.

    .. versionadded:: 0.2
    """
    target = Target.parse(url)
    client = _Client(max_requests, delay, timeout, headers)
    exchanges: list[Exchange] = []
    not_sent: list[str] = []
    for request in plan(secrets.token_hex(6)):
        if not client.budget_left:
            not_sent.append(request.name)
            continue
        exchange = client.exchange(target, request)
        exchanges.append(exchange)
        if exchange.budget_cut:
            not_sent.append(f"{request.name} (its redirect)")
        if len(exchanges) == 1:
            if exchange.status is None:
                break
            target = target.under_mount_point(exchange)
    # The report keeps no --header value anywhere an answer could have put it.
    exchanges = [_without_secrets(e, [value for _name, value in headers]) for e in exchanges]
    sent = [value for _name, value in headers] + [client.agent]
    found = findings(exchanges, id_headers, sent)
    if not_sent:
        found.append(
            ProbeFinding(
                "PGP144",
                RULES["PGP144"].severity,
                f"{len(not_sent)} probe request(s) not sent after {client.sent}",
                ", ".join(not_sent),
                (),
                target.url,
            )
        )
    return ProbeReport(
        url=target.url,
        directory=target.origin + target.directory,
        exchanges=exchanges,
        findings=found,
        sent=client.sent,
        max_requests=max_requests,
        not_sent=not_sent,
    )


# -- output ----------------------------------------------------------------------------


#: The requests a finding lists in text; JSON and SARIF list them all.
_SHOWN_REQUESTS = 3


def render_text(report: ProbeReport, fail_level: Severity) -> list[str]:
    """The report for people: the findings grouped by severity, each with the
    requests that showed it, its evidence, fix and docs link.

    :param report: What :func:`probe` found.
    :param fail_level: The ``--fail-level``, named in the summary.
    """
    lines = [
        f"Flask-ProdGuard probe of {clean(report.url, 200)}:"
        f" {report.sent} request(s) of at most {report.max_requests},"
        f" paths under {clean(report.directory, 200)}"
    ]
    for severity in sorted(Severity, reverse=True):
        group = [f for f in report.findings if f.severity is severity]
        if group:
            lines += ["", str(severity).upper()]
        for f in group:
            lines.append(f"  {f.rule}  {f.title}: {f.message}")
            shown = f.requests[:_SHOWN_REQUESTS]
            lines += [f"         seen in:  {request}" for request in shown]
            if len(f.requests) > len(shown):
                lines.append(
                    f"                   and {len(f.requests) - len(shown)} more requests"
                )
            if f.evidence:
                lines.append(f"         evidence: {f.evidence}")
            lines += [f"         fix:      {f.hint}", f"         docs:     {f.docs}"]
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    summary = ", ".join(f"{counts[s]} {s}" for s in sorted(Severity, reverse=True) if counts[s])
    lines += [
        "",
        f"{len(report.findings)} finding(s): {summary or 'nothing found'};"
        f" fail level {fail_level}.",
    ]
    return lines


def render_json(report: ProbeReport, fail_level: Severity, exit_code: int) -> dict[str, Any]:
    """The report as plain data (``--format json``).

    :param report: What :func:`probe` found.
    :param fail_level: The ``--fail-level``.
    :param exit_code: The command's exit status.
    """
    return {
        "url": clean(report.url, 2048),
        "directory": clean(report.directory, 2048),
        "fail_level": str(fail_level),
        "requests_sent": report.sent,
        "max_requests": report.max_requests,
        "not_sent": report.not_sent,
        "requests": [exchange.as_dict() for exchange in report.exchanges],
        "findings": [f.as_dict() for f in report.findings],
        "exit_code": exit_code,
    }


def _uri(url: str) -> str:
    """``url`` made safe to show (:func:`clean`) and still a URI: what
    redaction and the cap add (``[REDACTED]``, a note of the rest) is
    percent-encoded after the origin, which keeps an IPv6 literal's brackets.

    :param url: A URL the probe asked (its origin, then a percent-encoded path).
    """
    shown = clean(url, 2048)
    parts = urllib.parse.urlsplit(shown)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin + _quoted(shown[len(origin) :])


def render_sarif(report: ProbeReport) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log: every rule of :data:`RULES`, each
    finding a result located at the URL that showed it.

    :param report: What :func:`probe` found.
    """
    rules = [
        sarif.Rule(
            id=rule_id,
            name="".join(
                char
                for word in rule.title.split()
                for char in word[:1].upper() + word[1:]
                if char.isalnum()
            ),
            description=rule.title,
            help=rule.hint,
            help_uri=f"{DOCS_URL}#{rule_id.lower()}",
            level=_SARIF_LEVEL[rule.severity],
            properties={"severity": str(rule.severity), "checks": " ".join(rule.checks)},
        )
        for rule_id, rule in RULES.items()
    ]
    results = [
        sarif.Result(
            rule_id=f.rule,
            level=_SARIF_LEVEL[f.severity],
            message=" ".join(
                part
                for part in (
                    f"{f.title}: {f.message}.",
                    f"Seen in {'; '.join(f.requests)}." if f.requests else "",
                    f"Evidence: {f.evidence}." if f.evidence else "",
                    f"Fix: {f.hint}",
                )
                if part
            ),
            uri=_uri(f.url),
            properties={"severity": str(f.severity)},
        )
        for f in report.findings
    ]
    return sarif.sarif_log(
        "Flask-ProdGuard probe", _version(), rules, results, information_uri=DOCS_URL
    )


__all__ = [
    "DEFAULT_ERROR_ID_HEADERS",
    "MAX_BODY_BYTES",
    "RULES",
    "Exchange",
    "Probe",
    "ProbeFinding",
    "ProbeReport",
    "ProbeRule",
    "Target",
    "clean",
    "excerpt",
    "findings",
    "parse_header",
    "plan",
    "probe",
    "render_json",
    "render_sarif",
    "render_text",
]
