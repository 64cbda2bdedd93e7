"""The keys the guard stores in a request's WSGI environ, in one place.

A leaf module: it imports nothing from the package, so every layer can use it.
The environ is the one object that travels with a request through the
middleware, Flask's error handlers and the safety net; what one part notes
there for another is named here. Every key starts with ``prodguard.``.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from typing import Any

#: The request id, once it exists (made on first use or taken from a header).
REQUEST_ID_KEY = "prodguard.request_id"
#: The contextvars tokens of a request id bound for the app's own logging.
REQUEST_ID_TOKENS_KEY = "prodguard.request_id_tokens"
#: The error id of a failed request.
ERROR_ID_KEY = "prodguard.error_id"
#: Set when the request was reported as a debugger probe.
PROBE_KEY = "prodguard.probe"
#: Set once an unhandled exception of the request was reported.
REPORTED_KEY = "prodguard.error_reported"
#: Set on a request for the debugger console's path: the app's
#: answer tells whether it is a probe.
CONSOLE_KEY = "prodguard.console_path"
#: Statuses that make a request for the console's path a probe: the app has no
#: route for it (404), or none for its method (405).
PROBE_STATUSES = ("404", "405")


#: The exception a response is being made for (set when Flask hands it to an
#: error handler or reports it as unhandled): the leak check compares with it.
HANDLED_EXCEPTION_KEY = "prodguard.handled_exception"
#: A debugger that the hook reported (through the deciding guard) runs this
#: request, so the first-request check need not report it again when it sees
#: the debugger live.
HOOK_REPORTED_KEY = "prodguard.debugger_reported"


def error_id_for(environ: MutableMapping[str, Any]) -> str:
    """The error id of this request, made on first use."""
    error_id = environ.get(ERROR_ID_KEY)
    if error_id is None:
        error_id = environ[ERROR_ID_KEY] = uuid.uuid4().hex[:16]
    return str(error_id)
