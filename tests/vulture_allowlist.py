"""Names in ``flask_prodguard`` that are used where vulture cannot see it.

vulture reads this file as code that uses each name below (``_.name`` counts
for any function, variable or attribute of that name, wherever it is); it is
never imported or run. Only names that really are used belong here, each with who
uses it: Python, Flask, Werkzeug, blinker, gunicorn, waitress, re2, pytest,
the docs build, or the public API. Dead code does not: it is deleted. Check
functions registered with ``@register`` are left out by
``--ignore-decorators @register`` (see ``tests/test_dead_code.py``).
"""

_ = object()

_used = [
    # -- Python ---------------------------------------------------------------------------
    _.__getattr__,  # flask_prodguard/__init__.py: module __getattr__ (lazy __version__, serve)
    _.__dir__,  # flask_prodguard/__init__.py: module __dir__ (dir() lists the lazy names)
    _.__doc__,  # wsgi/debugger.py: the neutralised methods' docstrings, for help() and Sphinx
    # -- Flask, Werkzeug, blinker, logging --------------------------------------------------
    _.routing_exception,  # wsgi/middleware.py: read by Flask's dispatch (a probe is a 404)
    _.url_rule,  # wsgi/middleware.py: read by Flask's dispatch
    _.view_args,  # wsgi/middleware.py: read by Flask's dispatch
    _.direct_passthrough,  # wsgi/errors.py: read by Werkzeug when the response is served
    _.sender,  # wsgi/errors.py: blinker passes the sender to a receiver positionally
    _.exception_receiver,  # state.py: a strong reference; blinker holds receivers weakly
    _.handleError,  # events/output.py: logging.Handler method that logging calls
    # -- servers and libraries ---------------------------------------------------------------
    _.load_config,  # tools/serving.py: gunicorn BaseApplication hook
    _.load,  # tools/serving.py: gunicorn BaseApplication hook
    _.signum,  # tools/serving.py: signal handlers take (signum, frame)
    _.accepting,  # tools/serving.py: read by waitress's server loop
    _.log_errors,  # events/processors.py: re2.Options field, read by re2
    # -- pytest (entry point pytest11) -----------------------------------------------------
    _.pytest_configure,  # pytest_plugin.py: pytest hook
    _.pytest_unconfigure,  # pytest_plugin.py: pytest hook
    # -- public API and the docs build -------------------------------------------------------
    # config.py: every key is declared once as a public constant (the configuration
    # reference); the code reads most of them through config.KEYS.
    _.LOG_FORMAT,
    _.LOG_DESTINATION,
    _.REQUEST_ID_HEADER,
    _.REQUEST_ID_RESPONSE_HEADER,
    _.REDACT_KEYS,
    _.REDACT_PATTERNS,
    _.RATE_LIMIT_BURST,
    _.RATE_LIMIT_WINDOW,
    _.REPLACE_EXCEPTION_LOG,
    _.JSON_PATH_PREFIXES,
    _.HTTP_DESCRIPTIONS,
    _.ERROR_TEMPLATE,
    _.ERROR_ID_HEADER,
    _.TRUSTED_PROXIES,
    _.ALERT_LEVEL,
    _.checks_reference,  # checks.py: docs/_ext/prodguard_docs.py builds the checks page from it
    _.tracked_keys,  # events/flood.py: FloodControl property, read by benchmarks/events.py
    _.handle_int,  # tools/serving.py: gunicorn's arbiter reads it
    _.LISTENERS,  # tools/serving.py: gunicorn's arbiter reads it
]
