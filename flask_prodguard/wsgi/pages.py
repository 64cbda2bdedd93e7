"""The generic error responses: a small accessible HTML page, or problem+json.

Nothing here depends on the failure: the page says what the status code means
in standard words, and carries the error id that support can look up in the
logs. The exception type, its message, file paths and source never appear.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from werkzeug.exceptions import default_exceptions
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: Response header that carries the error id (configurable).
DEFAULT_ERROR_ID_HEADER = "X-Error-ID"

_PROBLEM_TYPE = "application/problem+json"
_JSON_TYPES = ("application/json", _PROBLEM_TYPE)

# Headers an error keeps from the HTTP exception: they are part of the meaning
# of the status (405 Allow, 401 WWW-Authenticate, 429/503 Retry-After).
_KEPT_HEADERS = frozenset({"allow", "www-authenticate", "retry-after"})

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{status} {title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;padding:2rem;color:#1a1a1a;background:#fafafa}}
main{{max-width:36rem;margin:10vh auto;padding:2rem;background:#fff;border:1px solid #ddd;\
border-radius:.5rem}}
h1{{font-size:1.5rem;margin-top:0}}code{{font-size:1rem;background:#eee;padding:.1rem .3rem}}
</style>
</head>
<body>
<main>
<h1>{status} {title}</h1>
<p>{description}</p>
<p>If you contact support, please quote this reference: <code>{error_id}</code></p>
</main>
</body>
</html>
"""


def standard_title(status: int) -> str:
    """The standard reason phrase of a status code (``Error`` for an unknown one)."""
    return HTTP_STATUS_CODES.get(status, "Error")


def standard_description(status: int) -> str:
    """A standard, generic description of a status code (never the app's text).

    Werkzeug's description of its exception for the code, else one sentence
    for any 5xx and one for anything else.
    """
    exception = default_exceptions.get(status)
    if exception is not None and exception.description:
        return str(exception.description)
    if status >= 500:
        return "The server could not complete your request."
    return "The request could not be completed."


def render_html(status: int, title: str, description: str, error_id: str) -> str:
    """The built-in HTML page; every text is HTML-escaped.

    :param title: The reason phrase (:func:`standard_title`).
    :param description: The text under the title.
    :param error_id: The id support looks up in the logs.
    """
    return _PAGE.format(
        status=status,
        title=escape(title),
        description=escape(description),
        error_id=escape(error_id),
    )


def render_problem(status: int, title: str, description: str, error_id: str) -> str:
    """An RFC 9457 problem details document, with the error id as ``instance``
    (``urn:prodguard:error:<id>``) and as an ``error_id`` member.

    :param title: The reason phrase (:func:`standard_title`).
    :param description: The ``detail`` member.
    :param error_id: The id support looks up in the logs.
    """
    return json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": description,
            "instance": f"urn:prodguard:error:{error_id}",
            "error_id": error_id,
        }
    )


def wants_json(environ: WSGIEnvironment, json_prefixes: Iterable[str]) -> bool:
    """Whether the client should get problem+json rather than HTML.

    JSON when the path starts with a configured prefix (``/api/``), when the
    request body is JSON, or when ``Accept`` prefers JSON to HTML.

    :param environ: The request's WSGI environ.
    :param json_prefixes: Path prefixes that always get JSON
        (``PRODGUARD_JSON_PATH_PREFIXES``).
    """
    path = str(environ.get("PATH_INFO") or "")
    for prefix in json_prefixes:
        if path.startswith(prefix):
            return True
    content_type = str(environ.get("CONTENT_TYPE") or "").lower()
    if content_type.startswith("application/") and "json" in content_type.split(";")[0]:
        return True
    accept = str(environ.get("HTTP_ACCEPT") or "")
    if "json" not in accept:
        return False
    from werkzeug.datastructures import MIMEAccept
    from werkzeug.http import parse_accept_header

    accepted = parse_accept_header(accept, MIMEAccept)
    best = accepted.best_match(["text/html", *_JSON_TYPES])
    return best in _JSON_TYPES


def error_response(
    status: int,
    error_id: str,
    environ: WSGIEnvironment,
    *,
    json_prefixes: Iterable[str] = (),
    description: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    error_id_header: str = DEFAULT_ERROR_ID_HEADER,
    html: str | None = None,
) -> Response:
    """A complete generic error response: HTML or problem+json (see
    :func:`wants_json`), the error id in a header, ``Cache-Control: no-store``.

    :param status: The HTTP status code.
    :param error_id: The request's error id.
    :param environ: The request's WSGI environ, to choose HTML or JSON.
    :param json_prefixes: Path prefixes that always get JSON.
    :param description: The text to show; the standard one when ``None``.
    :param headers: Headers of the original error; only ``Allow``,
        ``WWW-Authenticate`` and ``Retry-After`` are kept.
    :param error_id_header: The header that carries the error id.
    :param html: A page rendered from the app's custom template, if any.
    """
    title = standard_title(status)
    text = description if description is not None else standard_description(status)
    if wants_json(environ, json_prefixes):
        body, mimetype = render_problem(status, title, text, error_id), _PROBLEM_TYPE
    else:
        body = html if html is not None else render_html(status, title, text, error_id)
        mimetype = "text/html"
    response = Response(body, status=status, mimetype=mimetype)
    for name, value in headers:
        if name.lower() in _KEPT_HEADERS:
            response.headers.add(name, value)
    response.headers[error_id_header] = error_id
    response.headers["Cache-Control"] = "no-store"
    return response
