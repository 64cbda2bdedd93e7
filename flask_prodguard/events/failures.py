"""What an event says about an exception, read as if the exception were hostile.

The error events carry an exception's type, message, notes and traceback.
Everything here reads them without trusting the object: see the comment below
for what that means and what is caught.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from structlog.tracebacks import extract

from .processors import MAX_STRING_LENGTH

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
#: Frames kept from one traceback: the first and last halves of a longer one.
MAX_FRAMES = 50
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

    :param text: A ``str`` or an instance of a ``str`` subclass.
    :param limit: The longest result, the ``...[N more characters]`` marker
        included.
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
    """``str(value)``, capped; a placeholder when the conversion fails.

    The placeholder names the value's type and the failure's type, never the
    failure's message: ``<unprintable app.Row: str() raised KeyError>``.

    :param value: The object to convert; its ``__str__`` is untrusted.
    :param limit: The longest result (see :func:`capped_text`).
    """
    if type(value) is str:
        return capped_text(value, limit)
    return _converted(value, str, limit)


def safe_repr(value: object, limit: int = TEXT_LIMIT) -> str:
    """``repr(value)``, capped; a placeholder when the conversion fails.

    A long ``str`` is cut before its repr is built.

    :param value: The object to convert; its ``__repr__`` is untrusted.
    :param limit: The longest result (see :func:`capped_text`).
    """
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
    """``convert(value)`` capped, or ``None`` when the conversion fails.

    For a caller with a fallback of its own (the standard description of an
    HTTP error whose description cannot be read).

    :param value: The object to convert.
    :param convert: ``str``, ``repr`` or another function returning a ``str``.
    :param limit: The longest result (see :func:`capped_text`).
    """
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
    it: nothing of the app goes with it. Written through ``BaseException``'s
    own descriptors, so a subclass's properties are not called.

    :param error: The exception to empty; its class stays.
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

    :param error: The exception, untrusted.
    :param limit: The longest result (see :func:`capped_text`).
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

    :param error: The exception, untrusted.
    :param limit: The longest note kept (see :func:`capped_text`).
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


# Frames are read by structlog's tracebacks.extract, one traceback at a time and
# with a stand-in exception, because extract is not safe on a hostile exception:
# it reads exc_type.__name__ outside any guard (a metaclass property raises),
# calls str() on the exception and its notes under a guard that catches only
# Exception and then calls str() on the failure, copies a huge message whole,
# reads __notes__, __cause__ and __context__ with getattr (a subclass's property
# runs), and follows chains and exception groups without a bound. So the type,
# message, notes and chain are read by the functions above; extract is given
# BaseException, an empty instance of it and one traceback, and walks only that
# traceback's frames (traceback objects cannot be subclassed: their attributes
# are CPython's own). show_locals=False: locals hold secrets, never read.
#
# What remains of the app's is each code object's co_filename and co_name.
# extract calls startswith() on the file name and normalises it as a path, so a
# str subclass (code.replace accepts one) runs its own methods there, and making
# a relative name absolute needs the working directory: when extract fails, the
# frames are read from their code objects instead. extract builds a Frame for
# each entry it walks, so a long traceback (a RecursionError) is cut before it
# is given. File names come out as structlog gives them: absolute, normalised,
# "?" for an empty one.
_STAND_IN = BaseException()


def _frames(tb: TracebackType | None, max_frames: int) -> list[dict[str, str | int]]:
    """File, line and function of each frame; the first and last halves of a long one."""
    if max_frames <= 0:
        return []
    entries: list[TracebackType] = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    if not entries:
        return []
    if len(entries) <= max_frames:
        return _extracted(entries, entries[0])
    half = max_frames // 2
    kept = entries[:half] + entries[len(entries) - (max_frames - half) :]
    # The kept entries as a traceback of their own (copies: the originals link
    # on to the ones left out).
    head = None
    for entry in reversed(kept):
        head = TracebackType(head, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return _extracted(kept, head)


def _extracted(
    entries: list[TracebackType], tb: TracebackType | None
) -> list[dict[str, str | int]]:
    """The frames of ``tb`` (made of ``entries``) as structlog extracts them, no locals."""
    try:
        trace = extract(BaseException, _STAND_IN, tb, show_locals=False)
    except STOPS:
        raise
    except BaseException:  # noqa: BLE001 - see above: then each frame as its code holds it
        # structlog could not read a file name: a str subclass whose methods
        # raise, or a relative name in a process whose working directory was
        # deleted since (an old release directory pruned). Every frame is read
        # as the code object holds it instead; only a hostile name is lost.
        return [_code_frame(entry) for entry in entries]
    frames: list[dict[str, str | int]] = []
    for frame in trace.stacks[0].frames:
        filename, function = frame.filename, frame.name
        if type(filename) is not str or type(function) is not str:
            filename, function = capped_text(filename), capped_text(function, NAME_LIMIT)
        frames.append({"file": filename, "line": frame.lineno, "function": function})
    return frames


def _code_frame(entry: TracebackType) -> dict[str, str | int]:
    """One frame read from its code object without calling its methods."""
    code = entry.tb_frame.f_code
    filename = code.co_filename
    function = code.co_name
    line = entry.tb_lineno
    return {
        "file": filename if type(filename) is str else capped_text(filename),
        "line": line if type(line) is int else 0,
        "function": function if type(function) is str else capped_text(function, NAME_LIMIT),
    }


def traceback_frames(
    error: BaseException, max_frames: int = MAX_FRAMES, max_chain: int = MAX_CHAIN
) -> list[dict[str, object]]:
    """The exception chain as structured frames: file, line, function. No locals.

    One entry per exception of the chain (the exception, then its
    ``__cause__`` or its unsuppressed ``__context__``, as a traceback shows
    them), at most ``max_chain``, a cycle followed once: ``exception_type``,
    ``exception_message``, ``frames`` and, when it has any, ``notes``. Frame
    locals hold request objects, environs and secrets; they are never read.
    Exception messages and notes go through redaction and sanitising like
    every other field.

    :param error: The exception, untrusted.
    :param max_frames: Frames kept per exception: the first and last halves
        of a longer traceback.
    :param max_chain: Exceptions of the chain read.
    """
    chain: list[dict[str, object]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(chain) < max_chain:
        seen.add(id(current))
        entry: dict[str, object] = {
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


def exception_fields(error: BaseException) -> dict[str, object]:
    """The fields an error event gives an exception: type, message, traceback.

    Safe on hostile exceptions (see :func:`traceback_frames`); the message is
    read once, for the event and the first entry of its traceback.

    :param error: The exception, untrusted.
    """
    chain = traceback_frames(error)
    return {
        "exception_type": chain[0]["exception_type"],
        "exception_message": chain[0]["exception_message"],
        "traceback": chain,
    }
