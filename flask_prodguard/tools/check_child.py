"""Where ``check`` runs the app's code: in a child process, so that the app
cannot end the gate green or write into its report.

``check`` imports the app to read its configuration, and the app's code then
runs in the process that reports. In that process, ``os._exit(0)`` at import,
in a thread or in an ``atexit`` handler ends the gate with status 0 having
reported nothing; a write to file descriptor 1 (``os.write(1, ...)``,
``sys.__stdout__``) lands in the JSON or SARIF report; ``os.close(1)`` or a
``sys.stderr`` that exits when written to swallows the failure. So the process
that decides the exit status never imports the app:

- :func:`run_in_child`, in the parent, starts a new interpreter of the same
  Python (same interpreter flags, working directory and environment; the
  parent's ``sys.path`` and ``sys.argv`` are set before anything is imported)
  and waits for it, at most ``timeout`` seconds.
- In the child, :func:`child_main` calls the job's function (``check``'s loads
  and checks the app), writes what it returns as one JSON document to a file
  the parent created, and ends with :func:`os._exit`: no ``atexit`` handler of
  the app runs, no thread of it is waited for.
- What the child writes to its standard output and error (what the app
  prints while it loads) is the parent's standard error, read as it comes:
  a chatty app cannot fill the pipe and stall.
- The parent trusts only a complete document. A child that exits with any
  status or is killed before writing it, writes half of it or something else,
  or outlives the timeout raises :class:`ChildFailed`, which ``check``
  reports with exit status 2.

On POSIX the child leads a process group of its own, and when it ends the
parent kills what is left of the group (``SIGKILL``): a process the app
started while it loaded (a reloader, a forked worker) neither outlives the
check nor keeps the output pipe open. A pipe whose only write end the parent
holds tells the child when the parent is gone, however it ended: the child
then kills its group (a session of its own is out of reach of a kill of the
parent's group). Its standard input is ``/dev/null``: an app that reads it
while loading gets end of file, not a CI job's terminal.

:func:`run_here` runs a job in this process instead, for an app the child
cannot load by name (a custom ``FlaskGroup``'s factory that is a lambda, a
closure or a function of the script being run); file descriptor 1 then points
at standard error while the job runs, so that writes to it stay out of the
report, but the app can still end this process.

The isolation is against an app that exits, prints or closes its streams, by
accident or by design of a library; code that sets out to fool the check
(patching the checks it imports) runs in the child and is not stopped by it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import IO
from typing import Any
from typing import NoReturn

#: Seconds ``check`` waits for the child by default (``--timeout``): generous
#: for an app that connects to services while it loads, short of a CI job's
#: own limit, so that a hung app fails the check instead of the job.
DEFAULT_TIMEOUT = 300.0

#: Seconds the parent still forwards the child's output once the child has
#: ended: a process the app started outside the child's process group (it
#: called ``os.setsid()``) may hold the pipe open for ever.
_DRAIN_GRACE = 2.0

#: The largest result document the parent reads (a report is a few kilobytes).
_MAX_RESULT = 16 * 1024 * 1024

#: Exit status of a child whose job raised (a bug: its traceback is printed).
_JOB_RAISED = 70

_POSIX = os.name == "posix"

#: Whether this process is a child that :func:`run_in_child` started: a check
#: run again while the app loads (its import runs the command group) runs here
#: rather than start children of children.
_in_child = False

Job = Callable[[dict[str, Any]], dict[str, Any]]


class ChildFailed(Exception):
    """The child did not hand back a complete result; :attr:`reason` says how,
    in one line, without ``Error:``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def run_in_child(function: Job, request: dict[str, Any], timeout: float) -> dict[str, Any]:
    """``function(request)`` run in a new child process, its result handed back.

    :param function: A module-level function that takes and returns JSON
        data; the child imports it by name.
    :param request: Its argument (JSON types only).
    :param timeout: Seconds to wait before the child and its process group are
        killed.
    :returns: What ``function`` returned, read back from JSON.
    :raises ChildFailed: The child ended, was killed or timed out without
        handing back a complete JSON object.
    """
    if _in_child or not sys.executable:
        return run_here(lambda: function(request))
    target = f"{function.__module__}:{function.__qualname__}"
    try:
        handle, result_path = tempfile.mkstemp(prefix="prodguard-check-", suffix=".json")
    except OSError as error:
        raise ChildFailed(
            f"could not create a temporary file for the report: {error.strerror or error}"
        ) from None
    os.close(handle)
    try:
        return _run(target, request, result_path, timeout)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(result_path)


def _run(
    target: str, request: dict[str, Any], result_path: str, timeout: float
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "target": target,
        "request": request,
        "result": result_path,
        # An entry that is a path object, not text, is kept as its text.
        "path": [
            os.fsdecode(entry) for entry in sys.path if isinstance(entry, str | os.PathLike)
        ],
        "argv": sys.argv,
    }
    lifeline = os.pipe() if _POSIX else None
    if lifeline is not None:
        job["lifeline"] = lifeline[0]
    # -P: nothing from the working directory shadows the bootstrap's imports;
    # the parent's sys.path, which may have it, is set before anything else.
    command = [sys.executable, *_interpreter_flags(), "-P", "-c", _BOOTSTRAP, json.dumps(job)]
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=_POSIX,
            pass_fds=lifeline[:1] if lifeline is not None else (),
        )
    except OSError as error:
        raise ChildFailed(
            f"could not start the process that loads the app: {error.strerror or error}"
        ) from None
    finally:
        if lifeline is not None:
            os.close(lifeline[0])
    try:
        return _wait_for(process, result_path, timeout)
    finally:
        if lifeline is not None:
            os.close(lifeline[1])  # the child's group is gone by now: nothing to tell


def _wait_for(
    process: subprocess.Popen[bytes], result_path: str, timeout: float
) -> dict[str, Any]:
    assert process.stdout is not None  # stdout=PIPE
    dropping = threading.Event()
    forwarder = threading.Thread(
        target=_forward,
        args=(process.stdout, sys.stderr, dropping),
        name="prodguard-check-output",
        daemon=True,
    )
    forwarder.start()
    # Waited for in a thread so that the end is seen at once (Popen.wait with
    # a timeout polls) and the wait stays interruptible.
    waiter = threading.Thread(target=process.wait, name="prodguard-check-wait", daemon=True)
    waiter.start()
    try:
        waiter.join(timeout)
        timed_out = waiter.is_alive()
        _stop(process, waiter)
        forwarder.join(_DRAIN_GRACE)
    except KeyboardInterrupt:
        _stop(process, waiter)
        raise ChildFailed("the check was interrupted") from None
    # Still running: a process out of the group holds the pipe. What it
    # writes from now on is dropped, not interleaved with the report's lines.
    dropping.set()
    result = _read_result(result_path)
    if result is not None:
        return result
    raise ChildFailed(_ended_without_result(process.returncode, timed_out, timeout))


def _interpreter_flags() -> list[str]:
    """The options that reproduce this interpreter's flags (``-O``, ``-W``,
    ``-X``...), as :mod:`multiprocessing` passes them to its children."""
    flags = getattr(subprocess, "_args_from_interpreter_flags", None)
    return list(flags()) if callable(flags) else []


def _forward(source: IO[bytes], stream: IO[str] | None, dropping: threading.Event) -> None:
    """Copy the child's output to ``stream`` (the parent's standard error)
    until end of file, then close ``source``; what cannot be written, or comes
    once ``dropping`` is set, is dropped, never left in the pipe, where it
    would stall the writer."""
    target: IO[bytes] | None = getattr(stream, "buffer", None)
    with source:
        while True:
            try:
                chunk = os.read(source.fileno(), 65536)
            except OSError:
                return
            if not chunk:
                return
            if dropping.is_set():
                continue
            try:
                if target is not None:
                    target.write(chunk)
                    target.flush()
                elif stream is not None:
                    stream.write(chunk.decode("utf-8", "replace"))
                    stream.flush()
            except (OSError, ValueError):
                pass  # a closed or broken standard error: keep draining


def _stop(process: subprocess.Popen[bytes], waiter: threading.Thread) -> None:
    """Kill the child (if it still runs) and what is left of its process group."""
    if _POSIX:
        with contextlib.suppress(OSError):
            # The child leads the group (start_new_session): this reaches
            # whatever the app started and left in it, even once it is gone.
            os.killpg(process.pid, signal.SIGKILL)
    else:
        with contextlib.suppress(OSError):
            process.kill()
    waiter.join()


def _read_result(path: str) -> dict[str, Any] | None:
    """The JSON object in ``path``; ``None`` when it is missing, cut short,
    too long or anything but one JSON object."""
    try:
        with open(path, "rb") as file:
            data = file.read(_MAX_RESULT + 1)
    except OSError:
        return None
    if len(data) > _MAX_RESULT:
        return None
    try:
        result = json.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return result if isinstance(result, dict) else None


def _ended_without_result(returncode: int | None, timed_out: bool, timeout: float) -> str:
    if timed_out:
        return (
            f"the app was not loaded and checked within --timeout {timeout:g} seconds;"
            " its processes were stopped"
        )
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the process that loads the app was killed by {name} before it wrote the report"
    return (
        f"the process that loads the app exited with status {returncode} before it wrote"
        " the report (does the app call os._exit() while it loads?)"
    )


def run_here(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``work()`` run in this process, with file descriptor 1 pointing at
    standard error meanwhile, and ``sys.stdout`` and ``sys.stderr`` put back
    after it.

    For what :func:`run_in_child` cannot hand to a child. Writes to file
    descriptor 1 stay out of the report that follows; an app that ends the
    process is not stopped.

    :param work: Loads and checks the app; returns what the report needs.
    """
    with _descriptor_1_to_standard_error():
        return work()


@contextlib.contextmanager
def _descriptor_1_to_standard_error() -> Iterator[None]:
    streams = sys.stdout, sys.stderr
    _flush_streams(*streams, sys.__stdout__)
    saved: int | None = None
    with contextlib.suppress(OSError):  # no descriptor 1 or 2: nothing to point
        saved = os.dup(1)
        try:
            os.dup2(2, 1)
        except OSError:
            os.close(saved)
            saved = None
    try:
        yield
    finally:
        # What the app left in sys.__stdout__'s buffer goes to standard error;
        # the streams the app put in place are dropped, not flushed.
        _flush_streams(sys.__stdout__)
        sys.stdout, sys.stderr = streams
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _flush_streams(*streams: IO[str] | None) -> None:
    for stream in streams:
        try:
            if stream is not None:
                stream.flush()
        except BaseException:  # noqa: BLE001, S110 - the app's stream: its output is lost
            pass


def child_main(job: dict[str, Any]) -> NoReturn:
    """The child's side of :func:`run_in_child` (called by its bootstrap).

    :param job: The target (``module:function``), its request, the result
        file, the parent's ``sys.argv``.
    """
    global _in_child
    _in_child = True
    if job.get("lifeline") is not None:
        threading.Thread(
            target=_end_with_the_parent,
            args=(job["lifeline"], job["result"]),
            name="prodguard-check-lifeline",
            daemon=True,
        ).start()
    status = 0
    try:
        # What the app would have seen in the parent (argparse at import).
        sys.argv[:] = job["argv"]
        module, _, name = job["target"].partition(":")
        result = getattr(importlib.import_module(module), name)(job["request"])
        _write(job["result"], json.dumps(result))
    except BaseException:  # noqa: BLE001 - a bug of the job: said, then no result
        status = _JOB_RAISED
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
    # Written or not, the child ends here: the app's atexit handlers, its
    # threads and a second interpreter shutdown are not the report's business.
    _flush_streams(sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    os._exit(status)


def _end_with_the_parent(lifeline: int, result_path: str) -> None:
    """Remove the result file and kill this process's group when the parent
    is gone.

    The child has a session of its own (so that the parent can kill what the
    app started), which also keeps it out of a kill of the parent's process
    group: a CI job cancelled, ``kill -- -PGID``. The parent never writes to
    the pipe and holds its only write end, so the read ends when the parent
    does, however it ended (``SIGKILL`` included, which left the result file
    to nobody else).
    """
    try:
        os.read(lifeline, 1)
    except OSError:
        return  # the app closed the descriptor: the parent's timeout still holds
    with contextlib.suppress(OSError):
        os.unlink(result_path)
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _write(path: str, text: str) -> None:
    """Write ``text`` to the result file the parent created."""
    flags = (
        os.O_WRONLY | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    )
    descriptor = os.open(path, flags)
    try:
        view = memoryview(text.encode("utf-8"))
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


#: What the child runs (``python -P -c``): the parent's sys.path first, then
#: this module, then :func:`child_main`.
_BOOTSTRAP = (
    "import json, sys\n"
    "job = json.loads(sys.argv[1])\n"
    "sys.path[:] = job['path']\n"
    f"from {__name__} import {child_main.__name__}\n"
    f"{child_main.__name__}(job)\n"
)

__all__ = ["DEFAULT_TIMEOUT", "ChildFailed", "child_main", "run_here", "run_in_child"]
