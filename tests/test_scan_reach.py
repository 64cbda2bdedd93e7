"""``flask prodguard scan``: how far the analysis reaches, against code built to bend it.

The seventh session taught the analysis to follow a few more paths real projects
take to their settings: directories put on ``sys.path``, modules imported by
name with ``importlib``, the working directory, python-decouple's
``settings.ini``, argparse subcommand handlers and the locals of ``main()``.
Each is a way in for hostile input too: a path outside the checkout, a name
made of dots, a settings file that does not parse, a handler that calls
itself, a loop over thousands of items. Each case here must end quickly, read
nothing outside the scanned tree, and keep the verdict of the code around it.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from flask_prodguard.tools.scan import scan
from flask_prodguard.tools.scan_analysis import UNKNOWN
from flask_prodguard.tools.scan_analysis import Analyser
from flask_prodguard.tools.scan_analysis import Module
from flask_prodguard.tools.scan_analysis import Project

pytestmark = pytest.mark.timeout(60)


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative name -> text) under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def rules(root: Path) -> list[tuple[str, int]]:
    """The (rule, line) of every finding of a scan of ``root``; it must analyse every file."""
    report = scan([root])
    assert not report.skipped, report.skipped
    return sorted((f.rule, f.line) for f in report.findings)


# -- directories on sys.path --------------------------------------------------------------


@pytest.mark.parametrize(
    "added",
    [
        '"/etc"',
        '"/"',
        'os.path.join(os.path.dirname(__file__), "..", "..", "..")',
        '"not-an-identifier/x"',
        '"\\udcff"',
        '"a" * 100_000',
        "12345",
        "None",
    ],
)
def test_sys_path_outside_the_tree_or_odd_changes_nothing(tmp_path: Path, added: str) -> None:
    """A path outside the scanned tree, or one that names no package, resolves nothing."""
    write(
        tmp_path,
        {
            "svc/main.py": (
                "import os, sys\n"
                f"sys.path.insert(0, {added})\n"
                "from shared.settings import DEBUG\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                "app.run(debug=DEBUG)\n"
            ),
            "other/shared/__init__.py": "",
            "other/shared/settings.py": "DEBUG = True\n",
        },
    )
    assert rules(tmp_path / "svc") == []


def test_sys_path_inside_the_tree_resolves_the_package(tmp_path: Path) -> None:
    """The same layout with the project's own libs/ on sys.path is found."""
    write(
        tmp_path,
        {
            "svc/main.py": (
                "import os, sys\n"
                'sys.path.append(os.path.join(os.path.dirname(__file__), "..", "libs"))\n'
                "from shared.settings import DEBUG\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                "app.run(debug=DEBUG)\n"
            ),
            "libs/shared/__init__.py": "",
            "libs/shared/settings.py": "DEBUG = True\n",
        },
    )
    assert rules(tmp_path) == [("PGS101", 6)]


# -- importlib ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        'importlib.import_module("." * 5000)',
        'importlib.import_module("")',
        'importlib.import_module(".local")',  # relative, with no package
        'importlib.import_module("..local", package="settings")',  # above the top
        'importlib.import_module("os")',
        "importlib.import_module(None)",
        'importlib.import_module("settings.local" * 2000)',
        'importlib.import_module("settings.\\u2028local")',
    ],
)
def test_import_module_of_odd_names_is_unknown(tmp_path: Path, call: str) -> None:
    """A name that is not a module of the project is an unknown value, not a crash."""
    write(
        tmp_path,
        {
            "app.py": (
                "import importlib\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                f"app.config.from_object({call})\n"
            ),
            "settings/__init__.py": "",
            "settings/local.py": "DEBUG = True\n",
        },
    )
    assert rules(tmp_path) == []


def test_import_module_relative_with_package_is_found(tmp_path: Path) -> None:
    """``import_module(".local", package="settings")`` is settings.local, as Python does it."""
    write(
        tmp_path,
        {
            "app.py": (
                "import importlib\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                'settings = importlib.import_module(".local", package="settings")\n'
                "app.config.from_object(settings)\n"
            ),
            "settings/__init__.py": "",
            "settings/local.py": "DEBUG = True\n",
        },
    )
    assert rules(tmp_path) == [("PGS103", 5)]


# -- the working directory ----------------------------------------------------------------


def test_files_named_from_the_working_directory_stay_in_the_tree(tmp_path: Path) -> None:
    """``os.getcwd()`` is the scanned directory: a name that climbs out of it is not read."""
    outside = tmp_path / "settings.json"
    outside.write_text('{"DEBUG": true}', encoding="utf-8")
    write(
        tmp_path,
        {
            "project/app.py": (
                "import json, os\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                'with open(os.path.join(os.getcwd(), "..", "settings.json")) as f:\n'
                "    app.config.update(json.load(f))\n"
            ),
        },
    )
    assert rules(tmp_path / "project") == []
    # The same file inside the tree is read.
    (tmp_path / "project" / "settings.json").write_text('{"DEBUG": true}', encoding="utf-8")
    app = tmp_path / "project" / "app.py"
    app.write_text(app.read_text().replace('"..", ', ""), encoding="utf-8")
    assert rules(tmp_path / "project") == [("PGS103", 5)]


# -- python-decouple ----------------------------------------------------------------------

DECOUPLE_APP = (
    "from decouple import config\n"
    "from flask import Flask\n"
    "app = Flask(__name__)\n"
    'app.config["DEBUG"] = config("DEBUG", default={default}, cast=bool)\n'
)


@pytest.mark.parametrize(
    ("ini", "default", "expected"),
    [
        ("[settings]\nDEBUG=True\n", "False", [("PGS103", 4)]),
        ("[settings]\ndebug = on\n", "False", [("PGS103", 4)]),  # names in any case
        ("[settings]\nDEBUG=False\n", "True", []),  # the file wins over the default
        ("[other]\nDEBUG=True\n", "False", []),  # only [settings] counts
        ("DEBUG=True\n", "True", [("PGS103", 4)]),  # no section header: the default
        ("[settings]\nDEBUG=%(x)s\n", "True", []),  # no truth value: the app fails to start
        ("[settings]\n" + "X=1\n" * 50_000, "True", [("PGS103", 4)]),
        ("\x00\xff[settings\n", "False", []),
    ],
)
def test_decouple_settings_ini_is_read_safely(
    tmp_path: Path, ini: str, default: str, expected: list[tuple[str, int]]
) -> None:
    """decouple reads settings.ini before its default; a broken file leaves the default."""
    write(tmp_path, {"app.py": DECOUPLE_APP.format(default=default), "settings.ini": ini})
    assert rules(tmp_path) == expected


def test_decouple_settings_ini_through_a_symlink_out_of_the_tree_is_not_read(
    tmp_path: Path,
) -> None:
    """A settings.ini that links outside the scanned tree is not followed."""
    outside = tmp_path / "outside.ini"
    outside.write_text("[settings]\nDEBUG=True\n", encoding="utf-8")
    write(tmp_path, {"project/app.py": DECOUPLE_APP.format(default="False")})
    os.symlink(outside, tmp_path / "project" / "settings.ini")
    assert rules(tmp_path / "project") == []


def test_decouple_env_file_is_read_when_there_is_no_ini(tmp_path: Path) -> None:
    """Without settings.ini, decouple reads .env (names as written)."""
    write(tmp_path, {"app.py": DECOUPLE_APP.format(default="False"), ".env": "DEBUG=yes\n"})
    assert rules(tmp_path) == [("PGS103", 4)]


# -- argparse subcommands -----------------------------------------------------------------

SUBCOMMAND = (
    "import argparse\n"
    "from flask import Flask\n"
    "app = Flask(__name__)\n"
    "def serve(args):\n"
    "    {body}\n"
    "def build():\n"
    "    top = argparse.ArgumentParser()\n"
    "    sub = top.add_subparsers()\n"
    '    runner = sub.add_parser("serve")\n'
    "    runner.set_defaults({defaults})\n"
    "    return top\n"
)


@pytest.mark.parametrize(
    ("body", "defaults", "expected"),
    [
        ("app.run(debug=args.debug)", "func=serve, debug=True", [("PGS101", 5)]),
        ("app.run(debug=args.debug)", "func=serve, debug=False", []),
        ("app.run(debug=args.debug)", "func=serve", []),  # no such option: unknown
        ("serve(args)", "func=serve, debug=True", []),  # calls itself
        ("app.run(debug=args.debug)", "func=lambda a: a, debug=True", []),
        ("app.run(debug=args.debug)", "func=print, debug=True", []),
        ("app.run(debug=args.debug)", "**{'func': serve, 'debug': True}", []),
    ],
)
def test_subcommand_handlers_are_followed_with_their_defaults(
    tmp_path: Path, body: str, defaults: str, expected: list[tuple[str, int]]
) -> None:
    """A handler set with set_defaults(func=...) runs with that subparser's defaults."""
    write(tmp_path, {"manage.py": SUBCOMMAND.format(body=body, defaults=defaults)})
    assert rules(tmp_path) == expected


def test_subcommand_handler_with_two_parameters_is_not_followed(tmp_path: Path) -> None:
    """args.func(args) passes one argument: a handler that needs two is not followed."""
    text = SUBCOMMAND.format(
        body="app.run(debug=args.debug)", defaults="func=serve, debug=True"
    )
    text = text.replace("def serve(args):", "def serve(args, other):")
    write(tmp_path, {"manage.py": text})
    assert rules(tmp_path) == []


# -- the locals of main() -----------------------------------------------------------------


def test_a_loop_over_thousands_of_items_in_main_ends_quickly(tmp_path: Path) -> None:
    """A launcher's loop over a huge mapping is followed only so far, and still ends."""
    items = ", ".join(f'"K{i}": "{i}"' for i in range(20_000))
    write(
        tmp_path,
        {
            "start.py": (
                "import os\n"
                f"DEFAULTS = {{{items}}}\n"
                "def main():\n"
                "    env = dict(os.environ)\n"
                "    for key, value in DEFAULTS.items():\n"
                "        env.setdefault(key, value)\n"
                '    os.execvpe("flask", ["flask", "run"], env)\n'
                "main()\n"
            ),
        },
    )
    assert rules(tmp_path) == []


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('"1"', [("PGS104", 7)]),
        ('"0"', []),
    ],
)
def test_main_without_parameters_tracks_its_locals_in_order(
    tmp_path: Path, setting: str, expected: list[tuple[str, int]]
) -> None:
    """env built in main() is what the exec call gets, in statement order."""
    write(
        tmp_path,
        {
            "start.py": (
                "import os\n"
                "def main():\n"
                '    env = {"FLASK_DEBUG": "1"}\n'
                "    env = dict(os.environ)\n"
                f'    for key, value in {{"FLASK_DEBUG": {setting}}}.items():\n'
                "        env.setdefault(key, value)\n"
                '    os.execvpe("flask", ["flask", "run"], env)\n'
                "main()\n"
            ),
        },
    )
    assert rules(tmp_path) == expected


def test_a_closure_made_in_the_same_module_is_followed(tmp_path: Path) -> None:
    """run = make_runner(debug=True) then run(app), all in one module: found, not a loop."""
    write(
        tmp_path,
        {
            "app.py": (
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                "def make_runner(*, debug, port=5000):\n"
                "    def run(app):\n"
                "        app.run(port=port, debug=debug)\n"
                "    return run\n"
                "run = make_runner(debug=True, port=5070)\n"
                "run(app)\n"
            ),
        },
    )
    assert rules(tmp_path) == [("PGS101", 5)]


# -- decorators that return a wrapper -------------------------------------------------------

WRAPPING = """\
import functools


def loud(build):
    @functools.wraps(build)
    def inner(*args, **kwargs):
        made = build(*args, **kwargs)
        made.debug = {on}
        return made

    return inner
"""


def factory_module(decorators: str) -> str:
    """A package whose factory carries ``decorators`` (one per line)."""
    return (
        "from flask import Flask\nfrom tools import loud\n\n"
        f"{decorators}\ndef create_app():\n    return Flask(__name__)\n"
    )


@pytest.mark.parametrize(("on", "expected"), [("True", [("PGS102", 8)]), ("False", [])])
def test_a_wrapper_that_configures_the_apps_of_a_factory(
    tmp_path: Path, on: str, expected: list[tuple[str, int]]
) -> None:
    """debug set in the wrapper on what the decorated factory makes: found; off: clean."""
    write(
        tmp_path,
        {
            "tools.py": WRAPPING.format(on=on),
            "shop/__init__.py": factory_module("@loud"),
            "wsgi.py": "from shop import create_app\napp = create_app()\n",
        },
    )
    assert rules(tmp_path) == expected


def test_two_hundred_stacked_decorators_end_quickly(tmp_path: Path) -> None:
    """@loud 200 times over one factory: one finding, in seconds."""
    write(
        tmp_path,
        {
            "tools.py": WRAPPING.format(on="True"),
            "shop/__init__.py": factory_module("@loud\n" * 200),
        },
    )
    assert rules(tmp_path) == [("PGS102", 8)]


@pytest.mark.parametrize(
    ("wrapper", "expected"),
    [
        # The wrapper calls itself, not the function it wraps.
        (
            "def inner(*args, **kwargs):\n        inner(*args, **kwargs)\n"
            "        app = build()\n        app.debug = True\n        return app",
            [("PGS102", 9)],
        ),
        # The decorator decorates itself and its own wrapper.
        (
            "@wrap\n    def inner(*args, **kwargs):\n        app = build(*args)\n"
            "        app.debug = True\n        return app",
            [("PGS102", 9)],
        ),
        # The wrapper spreads a 100,000-item tuple into a call that takes none (it
        # would raise TypeError: no app, no finding).
        (
            "def inner(*args, **kwargs):\n        app = build(*BIG)\n        app.debug = True\n"
            "        return app",
            [],
        ),
    ],
    ids=["calls-itself", "decorates-itself", "huge-spread"],
)
def test_hostile_wrappers_end_quickly(
    tmp_path: Path, wrapper: str, expected: list[tuple[str, int]]
) -> None:
    """A wrapper that recurses, a decorator on itself, a huge spread: the scan ends
    with the verdict of running it."""
    tools = (
        "BIG = ("
        + "1, " * 100_000
        + ")\n\n\n@wrap\ndef wrap(build):\n    "
        + wrapper
        + "\n\n    return inner\n"
    )
    write(
        tmp_path,
        {
            "tools.py": tools,
            "shop/__init__.py": factory_module("@wrap").replace("import loud", "import wrap"),
        },
    )
    assert rules(tmp_path) == expected


@pytest.mark.parametrize(
    "call", ["asdict(thing)", "dataclasses.asdict(thing)", "thing._asdict()"]
)
def test_asdict_of_an_unknown_value_is_unknown(call: str) -> None:
    """``asdict(x)`` by its bare name, of a value the analysis does not know, is
    unknown (it raised AttributeError once, and a real file went unanalysed)."""
    source = f"import dataclasses\nfrom dataclasses import asdict\nx = {call}\n"
    tree = ast.parse(source)
    module = Module("m", Path("m.py"), tree, source, False, False)
    project = Project(lambda name: None, lambda name: False, lambda path: None)
    analyser = Analyser(module, project)
    module.analyser = analyser
    analyser.collect()
    assert analyser.value(tree.body[-1].value) is UNKNOWN  # type: ignore[attr-defined]


# -- str methods with arguments ------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ('"debug,metrics".split(",")', [("PGS101", 4)]),
        ('"debug; metrics".replace(" ", "").split(";")', [("PGS101", 4)]),
        ('",".join(["x", "debug"]).split(",")', [("PGS101", 4)]),
        # 200,000 characters, each replaced by 1,000: not worked out (unknown).
        ('("a" + "b" * 200_000).replace("b", "debug" * 200)', []),
        ('("ab" * 100_000).replace("", "debug" * 10)', []),
        ('"x".split(None, "not a number")', []),
    ],
    ids=["split", "replace-split", "join-split", "huge-replace", "empty-replace", "bad-args"],
)
def test_str_methods_over_known_text(
    tmp_path: Path, flags: str, expected: list[tuple[str, int]]
) -> None:
    """``"debug" in FLAGS`` over split/replace/join of constants; a result that
    would grow past the bound, or arguments str refuses, is unknown, at once."""
    write(
        tmp_path,
        {
            "app.py": f"from flask import Flask\napp = Flask(__name__)\nFLAGS = {flags}\n"
            'app.run(debug="debug" in FLAGS)\n'
        },
    )
    assert rules(tmp_path) == expected


# -- config.get of a key nothing names ------------------------------------------------------

SUBCLASS = """\
from flask import Flask


class Portal(Flask):
    def run(self, host=None, port=None, debug=None, **options):
        if debug is None:
            debug = self.config.get("PORTAL_DEV", True)
        super().run(host=host, port=port, debug=debug, **options)


app = Portal(__name__)
app.run()
"""


def test_a_config_key_named_only_where_read_takes_its_default(tmp_path: Path) -> None:
    """Nothing in the tree names PORTAL_DEV but its read: its default (True) decides."""
    write(tmp_path, {"app.py": SUBCLASS, "README.md": "PORTAL_DEV=0 in production"})
    assert rules(tmp_path) == [("PGS101", 12)]


@pytest.mark.parametrize(
    "other",
    [
        {"settings.cfg": "PORTAL_DEV = False\n"},
        {"deploy/docker-compose.yml": "environment:\n  - FLASK_PORTAL_DEV=false\n"},
        {"Makefile": "run:\n\tFLASK_PORTAL_DEV=0 flask run\n"},
        {"config.py": "PORTAL_DEV = False\n"},
    ],
    ids=["cfg", "compose", "makefile", "module"],
)
def test_a_config_key_named_elsewhere_is_unknown(tmp_path: Path, other: dict[str, str]) -> None:
    """The key in a settings file, a compose file, a Makefile or a module: unknown."""
    write(tmp_path, {"app.py": SUBCLASS, **other})
    assert rules(tmp_path) == []


def test_too_many_other_files_leave_the_key_unknown(tmp_path: Path) -> None:
    """Past 5,000 other files the scan does not read them all: unknown, not a guess."""
    write(tmp_path, {"app.py": SUBCLASS})
    data = tmp_path / "data"
    data.mkdir()
    for number in range(5_001):
        (data / f"{number}.csv").write_text("x\n", encoding="utf-8")
    assert rules(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_or_a_link_to_dev_zero_among_other_files_is_not_read(tmp_path: Path) -> None:
    """A FIFO named settings.cfg and a link to /dev/zero: skipped, the scan ends."""
    write(tmp_path, {"app.py": SUBCLASS})
    os.mkfifo(tmp_path / "settings.cfg")
    (tmp_path / "zero.cfg").symlink_to("/dev/zero")
    assert rules(tmp_path) == [("PGS101", 12)]


@pytest.mark.parametrize(("value", "expected"), [("True", [("PGS101", 4)]), ("False", [])])
def test_a_name_from_a_star_import_of_a_sibling(
    tmp_path: Path, value: str, expected: list[tuple[str, int]]
) -> None:
    """``from legacy import *`` then ``debug=VALUE``: the sibling's value decides."""
    write(
        tmp_path,
        {
            "legacy.py": f"VALUE = {value}\n",
            "app.py": "from flask import Flask\nfrom legacy import *\napp = Flask(__name__)\n"
            "app.run(debug=VALUE)\n",
        },
    )
    assert rules(tmp_path) == expected
