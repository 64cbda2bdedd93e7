"""The offline tools: ``flask prodguard check|probe|scan|serve|deploy-config|alert-rules``.

- :mod:`.cli`: the ``flask prodguard`` command group; every command is
  declared there, ``deploy-config`` included.
- :mod:`.check_child`: where ``check`` runs the app's code (a child process,
  so that the app cannot end the gate green or write into its report).
- :mod:`.sarif`: the one SARIF 2.1.0 writer (``check`` and ``scan``).
- :mod:`.scan`: the static scan for debug-enabling code (the files; the
  analysis is :mod:`.scan_analysis`; a large tree is shared among processes
  by :mod:`.scan_workers`).
- :mod:`.probe`: ``probe``, a deployment checked from the outside over HTTP.
- :mod:`.serving`: ``serve()`` on gunicorn or waitress.
- :mod:`.proxies`: when trusting proxy hops lets a client forge its address
  (``serve`` and ``deploy-config`` warn alike).
- :mod:`.deploy`: generated deployment files.
- :mod:`.output`: the one writer of ``--output`` files (atomic, no links,
  ``--force``).
- :mod:`.alert_rules`: alert rules generated from the event catalogue.

The rule: nothing outside this package imports it (``flask_prodguard.serve``
loads :mod:`.serving` on first use), so a worker that serves requests never
loads a tools module. ``tests/test_layers.py`` holds the package to that.
"""
