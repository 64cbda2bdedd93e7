"""Error responses: generic pages, the structured error event, leak scrubbing.

- Every HTTP error and unhandled exception gets a generic page (or
  problem+json) with an error id, through one handler registered for
  ``HTTPException``. The app's own handlers always win: Flask looks up
  status-code and blueprint handlers first, a handler the app registers for
  ``HTTPException`` later replaces the guard's, one registered earlier is kept,
  and the guard's handler hands over to an app handler for ``Exception``. The
  guard never registers ``errorhandler(Exception)``, so Flask still sends
  ``got_request_exception`` (Sentry captures from it) and calls the app's 500
  handler.
- Flask logs an unhandled exception as ``Exception on <path> [<method>]``
  through ``app.logger``, with the decoded path written raw (a ``%0d%0a`` in a
  URL forges a log line) and a text traceback. The guard emits
  ``prodguard.error.unhandled`` instead and drops Flask's record
  (``PRODGUARD_REPLACE_EXCEPTION_LOG``).
- Everything the guard reads from an exception (type name, message, notes,
  traceback, cause and context) it reads as if the object were hostile: see
  "reading an exception" below. A ``__repr__`` that fails never costs the
  client its generic page or the event its error id.
- In ``strict``, a 5xx body from the app's own handler that looks like a
  traceback is replaced by the generic page.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any

from flask import got_request_exception
from flask import request
from werkzeug.exceptions import HTTPException

from . import catalogue
from .pages import error_response
from .pages import standard_description
from .pages import standard_title
from .policy import Action
from .policy import Condition
from .processors import MAX_STRING_LENGTH

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.wrappers import Response

    from .state import GuardState

#: Environ key holding the error id of a failed request.
ERROR_ID_KEY = "prodguard.error_id"
#: Environ key set when the request was reported as a debugger probe.
PROBE_KEY = "prodguard.probe"
#: Environ key set once an unhandled exception of the request was reported.
REPORTED_KEY = "prodguard.error_reported"
#: Environ key set on a request for the debugger console's path: the app's
#: answer tells whether it is a probe.
CONSOLE_KEY = "prodguard.console_path"
#: Statuses that make a request for the console's path a probe: the app has no
#: route for it (404), or none for its method (405).
PROBE_STATUSES = ("404", "405")


def error_id_for(environ: dict[str, Any]) -> str:
    """The error id of this request, made on first use."""
    error_id = environ.get(ERROR_ID_KEY)
    if error_id is None:
        error_id = environ[ERROR_ID_KEY] = uuid.uuid4().hex[:16]
    return str(error_id)


def exception_fields(error: BaseException) -> dict[str, Any]:
    """The fields an error event gives an exception: type, message, traceback.

    Safe on hostile exceptions (see :func:`traceback_frames`); the message is
    read once, for the event and the first entry of its traceback.
    """
    chain = traceback_frames(error)
    return {
        "exception_type": chain[0]["exception_type"],
        "exception_message": chain[0]["exception_message"],
        "traceback": chain,
    }


def report_unhandled(
    state: GuardState, error: BaseException, environ: dict[str, Any], stage: str
) -> str:
    """Emit ``prodguard.error.unhandled`` for ``error``; return the error id."""
    error_id = error_id_for(environ)
    environ[REPORTED_KEY] = True
    state.emit(
        catalogue.ERROR_UNHANDLED,
        environ,
        error_id=error_id,
        **exception_fields(error),
        stage=stage,
    )
    return error_id


class ErrorPages:
    """Builds the generic error responses of one app (its template, settings)."""

    def __init__(self, app: Flask, state: GuardState) -> None:
        settings = state.settings
        self.state = state
        self.json_prefixes = settings.json_path_prefixes
        self.error_id_header = settings.error_id_header
        self.passthrough = settings.http_descriptions == "passthrough"
        self.template_name = settings.error_template
        self._template_env: Any = None
        if self.template_name is not None:
            # A bare environment on the app's loader: the template sees only
            # the variables passed in, not Flask's config, request or session.
            from jinja2.sandbox import SandboxedEnvironment

            self._template_env = SandboxedEnvironment(
                loader=app.jinja_env.loader, autoescape=True
            )

    def _render_template(self, status: int, description: str, error_id: str) -> str | None:
        if self._template_env is None:
            return None
        try:
            template = self._template_env.get_template(self.template_name)
            return str(
                template.render(
                    status=status,
                    title=standard_title(status),
                    description=description,
                    error_id=error_id,
                )
            )
        except Exception as error:  # noqa: BLE001 - fall back to the built-in page
            self.state.emit(
                catalogue.ERROR_TEMPLATE_FAILED,
                template=str(self.template_name),
                exception_type=qualified_name(type(error)),
                exception_message=exception_message(error),
            )
            return None

    def response(
        self,
        status: int,
        environ: dict[str, Any],
        error: HTTPException | None = None,
    ) -> Response:
        """The generic response for ``status``, with this request's error id."""
        error_id = error_id_for(environ)
        description = standard_description(status)
        if self.passthrough and error is not None and error.description is not None:
            # The app's own text; an object whose str() fails gets the standard one.
            text = converted_text(error.description)
            if text:
                description = text
        headers: list[tuple[str, str]] = []
        if error is not None:
            try:
                headers = error.get_headers(environ)
            except Exception:  # noqa: BLE001 - the headers are a nicety
                headers = []
        return error_response(
            status,
            error_id,
            environ,
            json_prefixes=self.json_prefixes,
            description=description,
            headers=headers,
            error_id_header=self.error_id_header,
            html=self._render_template(status, description, error_id),
        )


def _later_app_handler(app: Flask, error: HTTPException) -> Callable[..., Any] | None:
    """An app-level handler Flask would have used after the guard's one.

    Flask found the guard's handler (app level, registered for
    ``HTTPException``); handlers the app registered for classes further up
    the exception's MRO (``Exception``, ``BaseException``) come after it.
    """
    handlers = app.error_handler_spec[None][None]
    mro = type(error).__mro__
    for cls in mro[mro.index(HTTPException) + 1 :]:
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return None


def install_error_handling(app: Flask, state: GuardState) -> ErrorPages:
    """Wire error pages, the error event and leak scrubbing into ``app``."""
    pages = ErrorPages(app, state)
    action = state.action(Condition.ERROR_RESPONSE)

    from .leaks import HANDLED_EXCEPTION_KEY

    def on_exception(sender: Flask, exception: BaseException, **extra: Any) -> None:
        # The exception the 500 page is made for: the leak check compares with it.
        request.environ[HANDLED_EXCEPTION_KEY] = exception
        # Never raises an Exception: one from here would end Flask's handling
        # before its 500 (the safety net would still answer, without this
        # event's stage).
        try:
            report_unhandled(state, exception, request.environ, "view")
        except Exception:  # noqa: BLE001, S110 - nothing here may break Flask's handling
            pass

    # Keep a reference on the state: blinker holds receivers weakly.
    state.exception_receiver = on_exception
    got_request_exception.connect(on_exception, app)
    if state.settings.replace_exception_log:
        app.logger.addFilter(_DropFlaskExceptionRecord())

    def generic_http_error(error: HTTPException) -> Any:
        status = error.code
        if status is None or status < 400:
            return error
        later = _later_app_handler(app, error)
        if later is not None:
            return app.ensure_sync(later)(error)
        environ = request.environ
        if (
            not environ.get(REPORTED_KEY)
            and PROBE_KEY not in environ
            and not (CONSOLE_KEY in environ and str(status) in PROBE_STATUSES)
        ):
            state.emit(
                catalogue.ERROR_HTTP,
                environ,
                error_id=error_id_for(environ),
                status=status,
                exception_type=qualified_name(type(error)),
            )
        if action is not Action.FIX:
            return error  # report: the response stays as Flask makes it
        return pages.response(status, environ, error)

    generic_http_error.prodguard = True  # type: ignore[attr-defined]
    if app.error_handler_spec[None][None].get(HTTPException) is None:
        # An HTTPException handler the app registered first is the app's choice.
        app.register_error_handler(HTTPException, generic_http_error)

    scrub = state.action(Condition.LEAKY_ERROR_PAGE)
    if scrub is not Action.IGNORE:
        _install_leak_check(app, state, pages, fix=scrub is Action.FIX)
    return pages


def _install_leak_check(app: Flask, state: GuardState, pages: ErrorPages, fix: bool) -> None:
    """The app's own handlers win, except over a leak.

    A 5xx response whose body carries the handled exception (its message or
    repr), a traceback or a source location is replaced by the generic page
    (``fix``: enforce, strict) or only reported (report), with a
    ``prodguard.error.traceback_scrubbed`` event naming the handler that built
    it (see :mod:`flask_prodguard.leaks`). A streamed body is read ahead by at
    most ``leaks.SCAN_LIMIT`` bytes, then sent on unchanged if clean.

    The check wraps ``app.process_response`` (which Flask documents as meant
    to be overridden) instead of registering an ``after_request`` function:
    Flask passes those through ``ensure_sync`` on every request, while this
    costs a request that is not a 5xx one comparison. It runs before the
    app's ``after_request`` functions and the session, which then apply to
    the generic page as well. ``app.handle_user_exception`` is wrapped to note
    the exception an app's own handler takes (``errorhandler(Exception)``
    returning ``str(e), 500``): Flask sends no signal for it.
    """
    from werkzeug.exceptions import InternalServerError

    from .leaks import HANDLED_EXCEPTION_KEY
    from .leaks import HeldStream
    from .leaks import body_prefix
    from .leaks import callable_name
    from .leaks import find_leak

    def handler_name(environ: dict[str, Any], exception: Any) -> str:
        """The app's error handler that built the response, else the view."""
        handler: Any = None
        # type(), not isinstance(): a hostile exception's __class__ is not read.
        http_error = issubclass(type(exception), HTTPException)
        try:
            if http_error and exception.code is None:
                return "flask.abort"  # abort(Response(...)): the app's own response
            if issubclass(type(exception), Exception):
                lookup = exception
                if environ.get(REPORTED_KEY) and not http_error:
                    # Unhandled: Flask looked for a 500 handler instead.
                    lookup = InternalServerError(original_exception=exception)
                handler = app._find_error_handler(lookup, request.blueprints)
                if getattr(handler, "prodguard", False) and isinstance(lookup, HTTPException):
                    handler = _later_app_handler(app, lookup) or handler
            if handler is None and request.endpoint is not None:
                handler = app.view_functions.get(request.endpoint)
        except Exception:  # noqa: BLE001 - a name must not break the check
            handler = None
        return "unknown" if handler is None else callable_name(handler)

    def scrub_leaky_error_page(response: Response) -> Response:
        environ = request.environ
        # Taken out: the environ need not keep the traceback's frames alive.
        exception = environ.pop(HANDLED_EXCEPTION_KEY, None)
        if not pages.passthrough:
            error_id = environ.get(ERROR_ID_KEY)
            if error_id is not None and response.headers.get(pages.error_id_header) == error_id:
                # The guard's own page: standard text and the error id only.
                return response
        held = None
        if response.is_streamed:
            held = HeldStream(response.response)
            response.response = held  # type: ignore[assignment]
            prefix = held.prefix()
        else:
            prefix = body_prefix(response.response)
        leak = find_leak(prefix, exception)
        if leak is None:
            # The headers and the reason phrase are sent too: an app may put
            # the message in an "X-Error" header or in the status line.
            head = "\n".join(
                [str(response.status), *(f"{k}: {v}" for k, v in response.headers.items())]
            )
            leak = find_leak(head.encode("utf-8", "replace"), exception)
        if leak is None:
            return response
        status = response.status_code
        state.emit(
            catalogue.ERROR_TRACEBACK_SCRUBBED,
            environ,
            error_id=error_id_for(environ),
            status=status,
            action="fixed" if fix else "reported",
            handler=handler_name(environ, exception),
            leak=leak,
        )
        if not fix:
            return response
        if held is not None and held.failure is not None:
            # The body failed while it was read ahead; it is not sent now.
            report_unhandled(state, held.failure, environ, "body")
        body_close = getattr(response.response, "close", None)
        if body_close is not None:
            body_close()
        generic = pages.response(status, environ)
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            generic.headers["Retry-After"] = retry_after
        # Rewritten in place, not swapped for the generic response: when an
        # after_request function fails on this error response, Flask logs it
        # and sends the response object it had, which must be this one.
        response.response = generic.response
        response.headers = generic.headers
        response.status = generic.status
        response.direct_passthrough = False
        return response

    process_response = app.process_response
    handle_user_exception = app.handle_user_exception

    def process_checked_response(response: Any) -> Any:
        # All a request that is not a 5xx pays: one attribute read (the value
        # behind Werkzeug's status_code property, without the property call);
        # a response class that keeps its status elsewhere uses the property.
        try:
            status = response._status_code
        except AttributeError:
            status = response.status_code
        if status >= 500:
            response = scrub_leaky_error_page(response)
        return process_response(response)

    def handle_noted_user_exception(error: Exception) -> Any:
        # Not a 4xx HTTP error (a probe, a missing URL): nothing to compare.
        if not isinstance(error, HTTPException) or not 400 <= (error.code or 500) < 500:
            request.environ[HANDLED_EXCEPTION_KEY] = error
        return handle_user_exception(error)

    app.process_response = process_checked_response  # type: ignore[method-assign]
    app.handle_user_exception = handle_noted_user_exception  # type: ignore[method-assign, assignment]


class _DropFlaskExceptionRecord(logging.Filter):
    """Drops Flask's own exception records; the guard's events replace them.

    ``Flask.log_exception`` writes ``Exception on <path>`` (raw path, text
    traceback with the message); ``Flask.finalize_request`` writes ``Request
    finalizing failed ...`` with the text traceback of an ``after_request``
    function that failed again while the error response was being made.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is None or not isinstance(record.msg, str):
            return True
        if record.funcName == "log_exception":
            return not record.msg.startswith("Exception on ")
        if record.funcName == "finalize_request":
            return not record.msg.startswith("Request finalizing failed")
        return True


# -- reading an exception ---------------------------------------------------------
#
# Everything the guard reads from an exception, it reads as if the object were
# hostile: an ORM row whose __repr__ cannot lazy-load makes str(KeyError(row))
# raise, an app's exception class may have a metaclass with a raising
# __qualname__ or a property for __cause__, a message may be a gigabyte. The
# attributes BaseException and type define in C are read through their own
# descriptors (a subclass cannot override what that returns), text is capped
# before anything is built from it, and a conversion that fails gives a
# placeholder naming the types involved, never the failure's own message.
#
# What is caught: every Exception and every BaseException except SystemExit and
# KeyboardInterrupt. Those two are how a signal stops a process (gunicorn's
# worker raises SystemExit from its SIGQUIT and SIGABRT handlers, Python raises
# KeyboardInterrupt on SIGINT), and a signal can arrive while a __repr__ runs:
# they go on, and the safety net treats them as stops. Any other BaseException
# raised by a __str__ or __repr__ (GeneratorExit, a custom class, a greenlet
# kill that lands while a repr lazy-loads under gevent) is the conversion
# failing: the request is already failing and ends with the generic 500.

#: Longest text kept from one exception message, note or name (the event's cap).
TEXT_LIMIT = MAX_STRING_LENGTH
#: Longest type or module name kept.
NAME_LIMIT = 200
#: Exceptions of a chain (``__cause__``/``__context__``) that are read.
MAX_CHAIN = 10
#: Notes (``add_note``) read from one exception.
MAX_NOTES = 10
#: Arguments shown in the message of an exception with several.
_MAX_ARGS = 20
#: BaseException subclasses that a conversion never swallows (see above).
STOPS = (SystemExit, KeyboardInterrupt)

_ARGS = BaseException.__dict__["args"]
_TRACEBACK = BaseException.__dict__["__traceback__"]
_CAUSE = BaseException.__dict__["__cause__"]
_CONTEXT = BaseException.__dict__["__context__"]
_SUPPRESS_CONTEXT = BaseException.__dict__["__suppress_context__"]
_INSTANCE_DICT = BaseException.__dict__["__dict__"]
_QUALNAME = type.__dict__["__qualname__"]
_MODULE = type.__dict__["__module__"]
_BASE_STR = BaseException.__str__
_KEY_ERROR_STR = KeyError.__str__


def capped_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` as a plain ``str`` of at most ``limit`` characters, cut and marked.

    Works on a ``str`` subclass without calling any of its methods.
    """
    if type(text) is str:
        length = len(text)
        if length <= limit:
            return text
    else:
        length = str.__len__(text)
        if length <= limit:
            return str.__getitem__(text, slice(None))
    kept = max(limit - 40, 0)  # room for the marker: the result stays within limit
    return str.__getitem__(text, slice(kept)) + f"...[{length - kept} more characters]"


def safe_text(value: object, limit: int = TEXT_LIMIT) -> str:
    """``str(value)``, capped; a placeholder when the conversion fails."""
    if type(value) is str:
        return capped_text(value, limit)
    return _converted(value, str, limit)


def safe_repr(value: object, limit: int = TEXT_LIMIT) -> str:
    """``repr(value)``, capped; a placeholder when the conversion fails."""
    if type(value) is str:
        # A long string is cut before its repr is built, not after.
        if len(value) <= limit:
            return capped_text(repr(value), limit)
        cut = f"...[{len(value) - limit} more characters]"
        return capped_text(repr(value[:limit]) + cut, limit)
    return _converted(value, repr, limit)


def _converted(value: object, convert: Callable[[object], str], limit: int) -> str:
    try:
        # str() and repr() raise TypeError for a result that is not a str.
        text = convert(value)
    except STOPS:
        raise
    except BaseException as failure:  # noqa: BLE001 - see the comment on STOPS
        return (
            f"<unprintable {qualified_name(type(value))}: {convert.__name__}() raised"
            f" {qualified_name(type(failure))}>"
        )
    return capped_text(text, limit)


def converted_text(
    value: object, convert: Callable[[object], str] = str, limit: int = TEXT_LIMIT
) -> str | None:
    """``convert(value)`` capped, or ``None`` when the conversion fails."""
    if type(value) is str and convert is str:
        return capped_text(value, limit)
    try:
        return capped_text(convert(value), limit)
    except STOPS:
        raise
    except BaseException:  # noqa: BLE001 - see the comment on STOPS
        return None


def detach(error: BaseException) -> BaseException:
    """Clear ``error``'s arguments, traceback, cause and context, in place; return it.

    For an exception that must be raised again towards a server that may log
    it: nothing of the app goes with it.
    """
    _ARGS.__set__(error, ())
    _TRACEBACK.__set__(error, None)
    _CAUSE.__set__(error, None)
    _CONTEXT.__set__(error, None)
    _SUPPRESS_CONTEXT.__set__(error, True)
    return error


def exception_message(error: BaseException, limit: int = TEXT_LIMIT) -> str:
    """``str(error)``, capped, never raising (but see :data:`STOPS`).

    For the common classes the message is built from the capped arguments, as
    ``BaseException.__str__`` and ``KeyError.__str__`` would, so a huge
    argument is never copied whole.
    """
    try:
        args = _ARGS.__get__(error)
        method = type(error).__str__
    except STOPS:
        raise
    except BaseException:  # noqa: BLE001 - a metaclass that fails: use str()
        return safe_text(error, limit)
    if method is _BASE_STR:
        if not args:
            return ""
        if len(args) == 1:
            return safe_text(args[0], limit)
        return _tuple_text(args, limit)
    if method is _KEY_ERROR_STR and len(args) == 1:
        return safe_repr(args[0], limit)
    return safe_text(error, limit)


def _tuple_text(items: tuple[object, ...], limit: int) -> str:
    """``repr(items)`` for a tuple of two or more, capped, item by item."""
    parts: list[str] = []
    length = 0
    for item in items[:_MAX_ARGS]:
        part = safe_repr(item, limit)
        parts.append(part)
        length += len(part) + 2
        if length > limit:
            break
    else:
        if len(items) > _MAX_ARGS:
            parts.append(f"...[{len(items) - _MAX_ARGS} more]")
    return capped_text("(" + ", ".join(parts) + ")", limit)


def exception_notes(error: BaseException, limit: int = TEXT_LIMIT) -> list[str]:
    """The notes added with ``add_note`` (at most :data:`MAX_NOTES`), capped.

    Read from the instance's own dictionary, where ``add_note`` puts them; a
    ``__notes__`` that is not a list or tuple is shown by its repr, as the
    traceback module does.
    """
    try:
        namespace = _INSTANCE_DICT.__get__(error)
        notes = dict.get(namespace, "__notes__")
    except STOPS:
        raise
    except BaseException:  # noqa: BLE001 - a hostile key in the instance dict
        return ["<unreadable __notes__>"]
    if notes is None:
        return []
    if type(notes) is not list and type(notes) is not tuple:
        return [safe_repr(notes, limit)]
    texts = [safe_text(note, limit) for note in notes[:MAX_NOTES]]
    if len(notes) > MAX_NOTES:
        texts.append(f"[{len(notes) - MAX_NOTES} more notes]")
    return texts


def qualified_name(cls: type) -> str:
    """``module.Class``, or just ``Class`` for built-ins; never raises.

    Read through ``type``'s own descriptors: a metaclass property for
    ``__qualname__`` or ``__module__`` is not called, and a ``__module__``
    that is not a string shows as ``<unknown>``.
    """
    # Keyed by id, holding the class: a metaclass may define __hash__.
    known = _names.get(id(cls))
    if known is not None and known[0] is cls:
        return known[1]
    try:
        qualname = _QUALNAME.__get__(cls)
        module = _MODULE.__get__(cls)
    except STOPS:
        raise
    except BaseException:  # noqa: BLE001 - not a type, or no __module__ at all
        return "<unknown>"
    name = capped_text(qualname, NAME_LIMIT)
    if issubclass(type(module), str):
        module = capped_text(module, NAME_LIMIT)
    else:
        module = "<unknown>"
    name = name if module == "builtins" else f"{module}.{name}"
    if len(_names) < _MAX_NAMES:
        _names[id(cls)] = (cls, name)
    return name


#: Qualified names already read (classes are rarely renamed; a few hundred kept).
_names: dict[int, tuple[type, str]] = {}
_MAX_NAMES = 512


def _frames(tb: TracebackType | None, max_frames: int) -> list[dict[str, Any]]:
    """File, line and function of each frame; the first and last halves of a long one."""
    entries: list[TracebackType] = []
    while tb is not None and len(entries) < max_frames:
        entries.append(tb)
        tb = tb.tb_next
    if tb is not None:
        # Longer than max_frames: keep walking with only the last half kept.
        half = max_frames // 2
        tail: deque[TracebackType] = deque(entries[half:], maxlen=max_frames - half)
        del entries[half:]
        while tb is not None:
            tail.append(tb)
            tb = tb.tb_next
        entries.extend(tail)
    frames = []
    for entry in entries:
        code = entry.tb_frame.f_code
        filename, function = code.co_filename, code.co_name
        if type(filename) is not str or type(function) is not str:
            filename, function = capped_text(filename), capped_text(function, NAME_LIMIT)
        frames.append({"file": filename, "line": entry.tb_lineno, "function": function})
    return frames


def traceback_frames(
    error: BaseException, max_frames: int = 50, max_chain: int = MAX_CHAIN
) -> list[dict[str, Any]]:
    """The exception chain as structured frames: file, line, function. No locals.

    One entry per exception of the chain (the exception, then its
    ``__cause__`` or its unsuppressed ``__context__``, as a traceback shows
    them), at most ``max_chain``, a cycle followed once: ``exception_type``,
    ``exception_message``, ``frames`` and, when it has any, ``notes``. Frame
    locals hold request objects, environs and secrets; they are never read.
    Exception messages and notes go through redaction and sanitising like
    every other field.
    """
    chain: list[dict[str, Any]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(chain) < max_chain:
        seen.add(id(current))
        entry: dict[str, Any] = {
            "exception_type": qualified_name(type(current)),
            "exception_message": exception_message(current),
            "frames": _frames(_TRACEBACK.__get__(current), max_frames),
        }
        notes = exception_notes(current)
        if notes:
            entry["notes"] = notes
        chain.append(entry)
        following = _CAUSE.__get__(current)
        if following is None and not _SUPPRESS_CONTEXT.__get__(current):
            following = _CONTEXT.__get__(current)
        current = following
    return chain
