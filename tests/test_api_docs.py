"""The public API is documented the way Werkzeug documents ``ProxyFix``.

The public API is what ``flask_prodguard/__init__.py`` re-exports (``from .x
import Name as Name``, ``serve`` included though it is loaded lazily) plus
``flask_prodguard.testing.__all__``. Every function, class and public method
there has a docstring with a ``:param name:`` field for each parameter of its
signature (a class documents its constructor's in the class docstring, which
is what ``autoclass`` renders), no field for a parameter that does not exist,
a ``.. versionadded::`` directive and an example. Data (``SECURITY_LOGGER_NAME``)
is declared on the API page with its value, a description and ``versionadded``.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path

import flask_prodguard
import pytest
from flask_prodguard import testing
from flask_prodguard.config import KEYS

PACKAGE = Path(flask_prodguard.__file__).resolve().parent
API_PAGE = Path(__file__).resolve().parent.parent / "docs" / "api.rst"

_PARAM = re.compile(r"^\s*:param\s+(?:\S+\s+)?(?:\\?\*){0,2}(\w+):", re.MULTILINE)
_VERSIONADDED = re.compile(r"^\s*\.\. versionadded:: \d", re.MULTILINE)
_EXAMPLE = re.compile(r"^\s*\.\. code-block:: python\s*$", re.MULTILINE)


def _reexports() -> list[str]:
    """The names ``flask_prodguard/__init__.py`` re-exports."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    # ``from .x import Name as Name`` is the explicit re-export; a plain import
    # is for the package's own use.
    return [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1
        for alias in node.names
        if alias.asname == alias.name
    ]


API = {f"flask_prodguard.{name}": getattr(flask_prodguard, name) for name in _reexports()}
API |= {f"flask_prodguard.testing.{name}": getattr(testing, name) for name in testing.__all__}
CALLABLES = {name: value for name, value in API.items() if callable(value)}
DATA = {name: value for name, value in API.items() if not callable(value)}


def _own_doc(obj: object) -> str:
    # Not inspect.getdoc: it falls back to a base class's docstring.
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else obj.__doc__
    return inspect.cleandoc(doc or "")


def _constructor(cls: type) -> Callable[..., object] | None:
    """The ``__init__`` the package wrote for ``cls``, if any: a constructor
    inherited from ``Exception`` or ``enum`` is not the package's to document."""
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            return init if klass.__module__.startswith("flask_prodguard") else None
    return None


def _documented_units() -> list[tuple[str, str, list[str]]]:
    """``(name, docstring, parameter names)`` for each function, class and
    public method of the public API."""
    units = []
    for name, value in CALLABLES.items():
        if isinstance(value, type):
            init = _constructor(value)
            params = list(inspect.signature(init).parameters)[1:] if init else []
            units.append((name, _own_doc(value), params))
            for attr, member in vars(value).items():
                if attr.startswith("_") or not inspect.isfunction(member):
                    continue
                params = list(inspect.signature(member).parameters)[1:]
                units.append((f"{name}.{attr}", _own_doc(member), params))
        else:
            units.append((name, _own_doc(value), list(inspect.signature(value).parameters)))
    return units


UNITS = _documented_units()


def test_public_api_is_found() -> None:
    """The collection sees the exports the API page documents, so no check below is vacuous."""
    assert {
        "flask_prodguard.ProdGuard",
        "flask_prodguard.ProdGuard.init_app",
        "flask_prodguard.serve",
        "flask_prodguard.restore_debugger",
        "flask_prodguard.ConfigurationError",
        "flask_prodguard.Environment",
        "flask_prodguard.testing.capture_events",
    } <= {name for name, _, _ in UNITS}
    assert "flask_prodguard.SECURITY_LOGGER_NAME" in DATA


@pytest.mark.parametrize(("name", "doc", "params"), UNITS, ids=[u[0] for u in UNITS])
def test_every_parameter_has_a_param_field(name: str, doc: str, params: list[str]) -> None:
    """Each parameter of a public signature has a :param: field, and each field a parameter."""
    documented = _PARAM.findall(doc)
    missing = [p for p in params if p not in documented]
    assert not missing, f"{name}: no ':param' for {missing}"
    unknown = [p for p in documented if p not in params]
    assert not unknown, f"{name}: ':param' for {unknown}, which the signature does not have"


@pytest.mark.parametrize(("name", "doc", "params"), UNITS, ids=[u[0] for u in UNITS])
def test_every_name_says_since_when(name: str, doc: str, params: list[str]) -> None:
    """Each public function, class and method has a summary and a versionadded directive."""
    assert doc.strip(), f"{name}: no docstring"
    assert _VERSIONADDED.search(doc), f"{name}: no '.. versionadded::'"


@pytest.mark.parametrize(("name", "doc", "params"), UNITS, ids=[u[0] for u in UNITS])
def test_every_name_shows_an_example(name: str, doc: str, params: list[str]) -> None:
    """Each public function, class and method shows how it is used in a python code block."""
    assert _EXAMPLE.search(doc), f"{name}: no '.. code-block:: python' example"


@pytest.mark.parametrize("name", sorted(DATA))
def test_public_data_is_on_the_api_page_with_its_value(name: str) -> None:
    """A public constant is described on the API page, with the value it has in the code.

    A constant has no docstring of its own (``autodata`` of a re-exported
    string renders ``str``'s), so the page declares it with ``py:data``.
    """
    value = DATA[name]
    attr = name.rsplit(".", 1)[1]
    page = API_PAGE.read_text()
    entry = re.search(
        rf"^\.\. py:data:: flask_prodguard\.(?:testing\.)?{attr}\n((?:   .*\n|\n)+)",
        page,
        re.MULTILINE,
    )
    assert entry is not None, f"{name}: no '.. py:data::' entry in {API_PAGE.name}"
    body = entry.group(1)
    assert f":value: {json.dumps(value)}\n" in body, f"{name}: the page shows another value"
    prose = [line for line in body.splitlines() if line.strip() and line[3] not in ":."]
    assert prose, f"{name}: no description"
    assert _VERSIONADDED.search(body), f"{name}: no '.. versionadded::'"


def test_init_app_lists_every_key_it_reads() -> None:
    """init_app's docstring names every PRODGUARD_* key, as flask-sqlalchemy's does."""
    doc = _own_doc(flask_prodguard.ProdGuard.init_app)
    missing = [key for key in KEYS if f"``{key}``" not in doc]
    assert not missing, f"init_app does not mention {missing}"
