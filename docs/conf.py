"""Sphinx configuration for the Flask-ProdGuard documentation.

Build with warnings as errors::

    .venv/bin/sphinx-build -W -b html docs docs/_build/html

The reference pages (configuration, events, checks, policy, command output)
are generated from the code at build time by the local ``prodguard_docs``
extension, so they cannot drift from it. Intersphinx links to Python, Flask,
Werkzeug and structlog need the network: set ``DOCS_INTERSPHINX=1`` to use them;
offline, the build stays warning-free without them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))

import flask_prodguard  # noqa: E402 - after the path set-up above

project = "Flask-ProdGuard"
copyright = "2026, the Flask-ProdGuard authors"  # noqa: A001 - Sphinx's name
author = "the Flask-ProdGuard authors"
release = flask_prodguard.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "pallets_sphinx_themes",
    "prodguard_docs",
]
if os.environ.get("DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3/", None),
        "flask": ("https://flask.palletsprojects.com/en/stable/", None),
        "werkzeug": ("https://werkzeug.palletsprojects.com/en/stable/", None),
        "structlog": ("https://www.structlog.org/en/stable/", None),
    }

root_doc = "index"
exclude_patterns = ["_build"]
default_role = "code"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True

# Python examples on a page run in order in one namespace (sphinx.ext.doctest),
# without PRODGUARD_* or FLASK_* variables, and with the debugger hook of the
# previous page's apps removed, so that pages do not affect each other. Flask
# needs a module name for Flask(__name__); doctest runs in "builtins".
doctest_global_setup = """
import os
for _name in [n for n in os.environ if n.startswith(("PRODGUARD_", "FLASK_"))]:
    del os.environ[_name]
__name__ = "example"
"""
doctest_global_cleanup = """
import gc
import flask_prodguard
flask_prodguard.restore_debugger(force=True)  # the page's apps are still alive
gc.collect()  # the page's guarded apps: the debugger hook forgets them
"""
doctest_test_doctest_blocks = ""

html_theme = "flask"
html_theme_options = {"index_sidebar_logo": False}
html_title = f"Flask-ProdGuard {release}"
html_static_path = ["_static"]
html_show_sourcelink = False
html_context = {}
