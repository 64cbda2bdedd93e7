"""``flask prodguard scan``: the debug forms of issue 17, each in several variants.

Every form is caught through the scan's value analysis, not by matching the
issue's examples: each bad variant has a good twin, the same code with the
value that leaves debug off, which must stay clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask_prodguard.tools.scan import scan_paths

HEADER = "import json\nimport os\nfrom os import environ, getenv\n\nfrom flask import Flask\n"


def _scan(directory: Path, files: dict[str, str]) -> list[tuple[str, str, int]]:
    """Write ``files`` (the first one after :data:`HEADER`) as one project and scan it:
    (file, rule, line) with lines counted from the end of the header."""
    offset = HEADER.count("\n")
    for number, (name, text) in enumerate(files.items()):
        (directory / name).write_text((HEADER + text) if number == 0 else text)
    first = next(iter(files))
    return [
        (Path(f.path).name, f.rule, f.line - (offset if Path(f.path).name == first else 0))
        for f in scan_paths([directory])
    ]


#: (bad source, the rule and line it must give, good twin that must be clean).
FORMS: dict[str, tuple[str, str, int, str]] = {
    # 1. Subclasses of Flask, classes derived from them, and project factories.
    "subclass chained run": (
        "class Portal(Flask):\n    pass\nPortal(__name__).run(debug=True)\n",
        "PGS101",
        3,
        "class Portal(dict):\n    def run(self, debug=False):\n        pass\n"
        "Portal().run(debug=True)\n",
    ),
    "subclass of a subclass, assigned": (
        "class Base(Flask):\n    pass\nclass Site(Base):\n    pass\n"
        "site = Site('x')\nsite.config['DEBUG'] = 1\n",
        "PGS103",
        6,
        "class Base(Flask):\n    pass\nclass Site(Base):\n    pass\n"
        "site = Site('x')\nsite.config['DEBUG'] = 0\n",
    ),
    "factory function returning a subclass": (
        "class Portal(Flask):\n    pass\ndef make_portal():\n    return Portal('x')\n"
        "make_portal().run(use_debugger=True)\n",
        "PGS101",
        5,
        "class Portal(Flask):\n    pass\ndef make_portal():\n    return Portal('x')\n"
        "make_portal().run(use_debugger=False)\n",
    ),
    "factory class method": (
        "class Factory:\n    def build(self):\n        app = Flask('x')\n        return app\n"
        "web = Factory().build()\nweb.debug = 'on'\n",
        "PGS102",
        6,
        "class Factory:\n    def build(self):\n        app = Flask('x')\n        return app\n"
        "web = Factory().build()\nweb.debug = None\n",
    ),
    # 2. An environment read whose default turns debug on where the variable is unset.
    "environ.get default True": (
        "app = Flask('x')\napp.run(debug=os.environ.get('APP_DEBUG', True))\n",
        "PGS101",
        2,
        "app = Flask('x')\napp.run(debug=os.environ.get('APP_DEBUG', False))\n",
    ),
    "getenv default '1' through a variable": (
        "LOUD = getenv('LOUD', '1')\napp = Flask('x')\napp.run(debug=LOUD)\n",
        "PGS101",
        3,
        "LOUD = getenv('LOUD', '')\napp = Flask('x')\napp.run(debug=LOUD)\n",
    ),
    "environ.get default lowered and compared": (
        "app = Flask('x')\n"
        "app.config['DEBUG'] = environ.get('X', 'YES').strip().lower() in ('yes', '1')\n",
        "PGS103",
        2,
        "app = Flask('x')\n"
        "app.config['DEBUG'] = environ.get('X', 'off').strip().lower() in ('yes', '1')\n",
    ),
    "getenv default through int": (
        "app = Flask('x')\napp.debug = int(os.getenv('APP_DEBUG', '1'))\n",
        "PGS102",
        2,
        "app = Flask('x')\napp.debug = int(os.getenv('APP_DEBUG', '0'))\n",
    ),
    "default into FLASK_DEBUG": (
        "os.environ['FLASK_DEBUG'] = os.getenv('MY_DEBUG', 'true')\n",
        "PGS104",
        1,
        "os.environ['FLASK_DEBUG'] = os.getenv('MY_DEBUG', 'false')\n",
    ),
    # 3. Builtins and string methods over constants.
    "bool of a constant": (
        "VERBOSE = 'yes'\napp = Flask('x')\napp.run(debug=bool(VERBOSE))\n",
        "PGS101",
        3,
        "VERBOSE = ''\napp = Flask('x')\napp.run(debug=bool(VERBOSE))\n",
    ),
    "str of a constant lowered": (
        "FLAG = True\napp = Flask('x')\napp.run(debug=str(FLAG).lower() == 'true')\n",
        "PGS101",
        3,
        "FLAG = False\napp = Flask('x')\napp.run(debug=str(FLAG).lower() == 'true')\n",
    ),
    "int of a string, and/or": (
        "LEVEL = int('2')\napp = Flask('x')\napp.run(debug=LEVEL > 0 or LEVEL)\n",
        "PGS101",
        3,
        "LEVEL = int('0')\napp = Flask('x')\napp.run(debug=LEVEL and 'yes')\n",
    ),
    # 4. Config filled from a module-level mapping.
    "loop over items": (
        "SETTINGS = {'DEBUG': True, 'TESTING': False}\napp = Flask('x')\n"
        "for name, setting in SETTINGS.items():\n    app.config[name] = setting\n",
        "PGS103",
        4,
        "SETTINGS = {'DEBUG': False, 'TESTING': True}\napp = Flask('x')\n"
        "for name, setting in SETTINGS.items():\n    app.config[name] = setting\n",
    ),
    "loop over keys, subscript": (
        "SETTINGS = dict(debug='1', secret_key='x')\napp = Flask('x')\n"
        "for key in SETTINGS:\n    app.config[key.upper()] = SETTINGS[key]\n",
        "PGS103",
        4,
        "SETTINGS = dict(debug='', secret_key='x')\napp = Flask('x')\n"
        "for key in SETTINGS:\n    app.config[key.upper()] = SETTINGS[key]\n",
    ),
    "update with a module dict": (
        "SETTINGS = {'SECRET_KEY': 'x', 'DEBUG': 'true'}\napp = Flask('x')\n"
        "app.config.update(SETTINGS)\n",
        "PGS103",
        3,
        "SETTINGS = {'SECRET_KEY': 'x', 'DEBUG': 0}\napp = Flask('x')\n"
        "app.config.update(SETTINGS)\n",
    ),
    "from_mapping with **dict": (
        "SETTINGS = {'DEBUG': 1}\ndef create_app():\n    app = Flask('x')\n"
        "    app.config.from_mapping(**SETTINGS)\n    return app\n",
        "PGS103",
        4,
        "SETTINGS = {'DEBUG': None}\ndef create_app():\n    app = Flask('x')\n"
        "    app.config.from_mapping(**SETTINGS)\n    return app\n",
    ),
    # 5. Last write wins in straight-line code.
    "config on then off (bad twin: off then on)": (
        "app = Flask('x')\napp.config.update(DEBUG=False)\napp.config['DEBUG'] = True\n",
        "PGS103",
        3,
        "app = Flask('x')\napp.config['DEBUG'] = True\napp.config.update(DEBUG=False)\n",
    ),
    "attribute on then off in a factory": (
        "def create_app():\n    app = Flask('x')\n    app.debug = False\n"
        "    app.secret_key = 'x'\n    app.debug = True\n    return app\n",
        "PGS102",
        5,
        "def create_app():\n    app = Flask('x')\n    app.debug = True\n"
        "    app.secret_key = 'x'\n    app.debug = False\n    return app\n",
    ),
    "from_mapping on then subscript off": (
        "app = Flask('x')\napp.config['DEBUG'] = 0\napp.config.from_mapping(DEBUG=1)\n",
        "PGS103",
        3,
        "app = Flask('x')\napp.config.from_mapping(DEBUG=1)\napp.config['DEBUG'] = 0\n",
    ),
    # Simple functions: a function without parameters that returns a value.
    "simple function returning a constant": (
        'def want_debug():\n    """Doc."""\n    return MODE != \'prod\'\nMODE = \'dev\'\n'
        "app = Flask('x')\napp.run(debug=want_debug())\n",
        "PGS101",
        6,
        'def want_debug():\n    """Doc."""\n    return MODE != \'prod\'\nMODE = \'prod\'\n'
        "app = Flask('x')\napp.run(debug=want_debug())\n",
    ),
    # 6. Run options from a literal parsed at run time.
    "json.loads options": (
        "OPTIONS = json.loads('{\"debug\": true}')\napp = Flask('x')\napp.run(**OPTIONS)\n",
        "PGS101",
        3,
        "OPTIONS = json.loads('{\"debug\": false}')\napp = Flask('x')\napp.run(**OPTIONS)\n",
    ),
    "json.loads config mapping": (
        "RAW = '{\"DEBUG\": 1}'\napp = Flask('x')\napp.config.update(json.loads(RAW))\n",
        "PGS103",
        3,
        "RAW = '{\"DEBUG\": 0}'\napp = Flask('x')\napp.config.update(json.loads(RAW))\n",
    ),
    # 8. Values the analysis follows further (found on fresh sets of real-style code).
    "dict changed after it is made": (
        "app = Flask('x')\noptions = dict(port=80)\noptions.update(debug=True)\n"
        "app.run(**options)\n",
        "PGS101",
        4,
        "app = Flask('x')\noptions = dict(port=80)\noptions.update(debug=False)\n"
        "app.run(**options)\n",
    ),
    "dict item written after it is made": (
        "app = Flask('x')\nopts = {}\nopts['debug'] = 1\napp.run(**opts)\n",
        "PGS101",
        4,
        "app = Flask('x')\nopts = {}\nopts['debug'] = 0\napp.run(**opts)\n",
    ),
    "runner given the app": (
        "app = Flask('x')\nsocketio = SocketIO(app)\nsocketio.run(app, debug=True)\n",
        "PGS101",
        3,
        "app = Flask('x')\nsocketio = SocketIO(app)\nsocketio.run(app, debug=False)\n",
    ),
    "argparse default": (
        "import argparse\napp = Flask('x')\np = argparse.ArgumentParser()\n"
        "p.add_argument('--debug', action='store_true', default=True)\n"
        "app.run(**vars(p.parse_args()))\n",
        "PGS101",
        5,
        "import argparse\napp = Flask('x')\np = argparse.ArgumentParser()\n"
        "p.add_argument('--debug', action='store_true')\n"
        "app.run(**vars(p.parse_args()))\n",
    ),
    "settings object default": (
        "class Settings:\n    debug: bool = True\nsettings = Settings()\n"
        "Flask('x').run(debug=settings.debug)\n",
        "PGS101",
        4,
        "class Settings:\n    debug: bool = True\nsettings = Settings(debug=False)\n"
        "Flask('x').run(debug=settings.debug)\n",
    ),
    "parameter default": (
        "def create_app(debug=True):\n    app = Flask('x')\n"
        "    app.config['DEBUG'] = debug\n    return app\n",
        "PGS103",
        3,
        "def create_app(debug=False):\n    app = Flask('x')\n"
        "    app.config['DEBUG'] = debug\n    return app\n",
    ),
    "config chosen by name": (
        "class Dev:\n    DEBUG = True\nclass Prod:\n    DEBUG = False\n"
        "CONFIGS = {'dev': Dev, 'prod': Prod, 'default': Dev}\n"
        "def create_app(name=None):\n    name = name or os.getenv('APP_CONFIG') or 'default'\n"
        "    app = Flask('x')\n    app.config.from_object(CONFIGS[name])\n    return app\n",
        "PGS103",
        9,
        "class Dev:\n    DEBUG = True\nclass Prod:\n    DEBUG = False\n"
        "CONFIGS = {'dev': Dev, 'prod': Prod, 'default': Prod}\n"
        "def create_app(name=None):\n    name = name or os.getenv('APP_CONFIG') or 'default'\n"
        "    app = Flask('x')\n    app.config.from_object(CONFIGS[name])\n    return app\n",
    ),
    "from_object writes last": (
        "class Prod:\n    DEBUG = False\napp = Flask('x')\n"
        "app.config.from_object(Prod)\napp.config.from_mapping({'DEBUG': True})\n",
        "PGS103",
        5,
        "class Prod:\n    DEBUG = False\napp = Flask('x')\n"
        "app.config.from_mapping({'DEBUG': True})\napp.config.from_object(Prod)\n",
    ),
    "flask command from sys.argv": (
        "import sys\nfrom flask.cli import main\n"
        "sys.argv = ['flask', '--app', 'web', 'run', '--debug']\nmain()\n",
        "PGS107",
        4,
        "import sys\nfrom flask.cli import main\n"
        "sys.argv = ['flask', '--app', 'web', 'run', '--debug', '--no-debug']\nmain()\n",
    ),
    "FlaskGroup main(args=)": (
        "from flask.cli import FlaskGroup\ncli = FlaskGroup(create_app=lambda: Flask('x'))\n"
        "cli.main(args=['run', '--debug'])\n",
        "PGS107",
        3,
        "from flask.cli import FlaskGroup\ncli = FlaskGroup(create_app=lambda: Flask('x'))\n"
        "cli.main(args=['run'])\n",
    ),
    # 9. Calls followed into the project's functions, and more readers of values.
    "helper given the app": (
        "def serve(app, port=5000, debug=True):\n    app.run(port=port, debug=debug)\n"
        "web = Flask('x')\nserve(web, port=8001)\n",
        "PGS101",
        2,
        "def serve(app, port=5000, debug=True):\n    app.run(port=port, debug=debug)\n"
        "web = Flask('x')\nserve(web, port=8001, debug=False)\n",
    ),
    "factory given a configuration name": (
        "class Dev:\n    DEBUG = True\nclass Prod:\n    DEBUG = False\n"
        "CONFIGS = {'dev': Dev, 'prod': Prod}\n"
        "def create_app(name):\n    app = Flask('x')\n"
        "    app.config.from_object(CONFIGS[name])\n    return app\n"
        "app = create_app(os.getenv('APP_CONFIG') or 'dev')\n",
        "PGS103",
        8,
        "class Dev:\n    DEBUG = True\nclass Prod:\n    DEBUG = False\n"
        "CONFIGS = {'dev': Dev, 'prod': Prod}\n"
        "def create_app(name):\n    app = Flask('x')\n"
        "    app.config.from_object(CONFIGS[name])\n    return app\n"
        "app = create_app(os.getenv('APP_CONFIG') or 'prod')\n",
    ),
    "helper over an environment default": (
        "def str2bool(value):\n    return str(value).strip().lower() in {'1', 'true', 'yes'}\n"
        "Flask('x').run(debug=str2bool(os.getenv('DEBUG', 'yes')))\n",
        "PGS101",
        3,
        "def str2bool(value):\n    return str(value).strip().lower() in {'1', 'true', 'yes'}\n"
        "Flask('x').run(debug=str2bool(os.getenv('DEBUG', 'no')))\n",
    ),
    "strtobool over an environment default": (
        "from distutils.util import strtobool\napp = Flask('x')\n"
        "app.config['DEBUG'] = bool(strtobool(os.getenv('FLASK_DEBUG', '1')))\n",
        "PGS103",
        3,
        "from distutils.util import strtobool\napp = Flask('x')\n"
        "app.config['DEBUG'] = bool(strtobool(os.getenv('FLASK_DEBUG', 'off')))\n",
    ),
    "click option default": (
        "import click\n@click.command()\n@click.option('--debug/--no-debug', default=True)\n"
        "def serve(debug):\n    Flask('x').run(debug=debug)\n",
        "PGS101",
        5,
        "import click\n@click.command()\n@click.option('--debug/--no-debug')\n"
        "def serve(debug):\n    Flask('x').run(debug=debug)\n",
    ),
    "subclass whose run defaults to debug": (
        "class Service(Flask):\n    def run(self, host=None, port=None, debug=True, **kw):\n"
        "        super().run(host, port, debug, **kw)\napp = Service('x')\napp.run()\n",
        "PGS101",
        5,
        "class Service(Flask):\n    def run(self, host=None, port=None, debug=False, **kw):\n"
        "        super().run(host, port, debug, **kw)\napp = Service('x')\napp.run()\n",
    ),
    "partial of run": (
        "import functools\napp = Flask('x')\n"
        "dev = functools.partial(app.run, port=5000, debug=True)\ndev()\n",
        "PGS101",
        4,
        "import functools\napp = Flask('x')\n"
        "dev = functools.partial(app.run, port=5000, debug=False)\ndev()\n",
    ),
    "environment given to the flask command": (
        "env = dict(os.environ)\nenv.setdefault('FLASK_DEBUG', '1')\n"
        "os.execvpe('flask', ['flask', '--app', 'web', 'run'], env)\n",
        "PGS104",
        3,
        "env = dict(os.environ)\nenv.setdefault('FLASK_DEBUG', '0')\n"
        "os.execvpe('flask', ['flask', '--app', 'web', 'run'], env)\n",
    ),
    # 10. Settings libraries, the environment the project sets, config files.
    "environs default": (
        "from environs import Env\nenv = Env()\nDEBUG = env.bool('APP_DEBUG', default=True)\n"
        "app = Flask('x')\napp.config['DEBUG'] = DEBUG\n",
        "PGS103",
        5,
        "from environs import Env\nenv = Env()\nDEBUG = env.bool('APP_DEBUG', default=False)\n"
        "app = Flask('x')\napp.config['DEBUG'] = DEBUG\n",
    ),
    "decouple default": (
        "from decouple import config\napp = Flask('x')\n"
        "app.run(debug=config('DEBUG', default='true', cast=bool))\n",
        "PGS101",
        3,
        "from decouple import config\napp = Flask('x')\n"
        "app.run(debug=config('DEBUG', default='false', cast=bool))\n",
    ),
    "environment set by the project, then from_prefixed_env": (
        "os.environ.setdefault('SHOP_DEBUG', 'true')\napp = Flask('x')\n"
        "app.config.from_prefixed_env('SHOP')\n",
        "PGS103",
        3,
        "os.environ.setdefault('SHOP_DEBUG', 'false')\napp = Flask('x')\n"
        "app.config.from_prefixed_env('SHOP')\n",
    ),
    "environment set by the project, then getenv": (
        "os.environ.setdefault('APP_DEBUG', '1')\napp = Flask('x')\n"
        "app.run(debug=os.getenv('APP_DEBUG') == '1')\n",
        "PGS101",
        3,
        "os.environ.setdefault('APP_DEBUG', '0')\napp = Flask('x')\n"
        "app.run(debug=os.getenv('APP_DEBUG') == '1')\n",
    ),
    "from_object(__name__)": (
        "DEBUG = True\nSECRET_KEY = 'x'\napp = Flask('x')\napp.config.from_object(__name__)\n",
        "PGS103",
        4,
        "DEBUG = False\nSECRET_KEY = 'x'\napp = Flask('x')\napp.config.from_object(__name__)\n",
    ),
    "dataclass field default factory": (
        "from dataclasses import dataclass, field\n@dataclass\nclass Conf:\n"
        "    debug: bool = field(default_factory=lambda: os.getenv('D', 'yes') == 'yes')\n"
        "Flask('x').run(debug=Conf().debug)\n",
        "PGS101",
        5,
        "from dataclasses import dataclass, field\n@dataclass\nclass Conf:\n"
        "    debug: bool = field(default_factory=lambda: os.getenv('D', 'no') == 'yes')\n"
        "Flask('x').run(debug=Conf().debug)\n",
    ),
    "Dash run": (
        "import dash\nboard = dash.Dash(__name__)\nboard.run(debug=True)\n",
        "PGS101",
        3,
        "import dash\nboard = dash.Dash(__name__)\nboard.run(debug=False)\n",
    ),
    "Flask-Script server": (
        "from flask_script import Manager, Server\nmanager = Manager(Flask('x'))\n"
        "manager.add_command('runserver', Server(use_debugger=True))\n",
        "PGS101",
        3,
        "from flask_script import Manager, Server\nmanager = Manager(Flask('x'))\n"
        "manager.add_command('runserver', Server(use_debugger=False))\n",
    ),
    "shell line with FLASK_DEBUG": (
        "os.system('FLASK_APP=wiki FLASK_DEBUG=1 flask run --host 0.0.0.0')\n",
        "PGS104",
        1,
        "os.system('FLASK_APP=wiki FLASK_DEBUG=0 flask run --host 0.0.0.0')\n",
    ),
    "gate on app.debug": (
        "from werkzeug.debug import DebuggedApplication\napp = Flask('x')\n"
        "app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)\n",
        "PGS106",
        3,
        "from werkzeug.debug import DebuggedApplication\napp = Flask('x')\nif app.debug:\n"
        "    app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)\n",
    ),
    "off again in a branch that is taken": (
        "app = Flask('x')\napp.config['DEBUG'] = True\n"
        "if os.environ.get('APP_ENV', 'production') == 'development':\n"
        "    app.config['DEBUG'] = False\n",
        "PGS103",
        2,
        "app = Flask('x')\napp.config['DEBUG'] = True\n"
        "if os.environ.get('APP_ENV', 'production') != 'development':\n"
        "    app.config['DEBUG'] = False\n",
    ),
    "helper forwarding keyword arguments": (
        "def start(app, **options):\n    app.run(**options)\nstart(Flask('x'), debug=True)\n",
        "PGS101",
        2,
        "def start(app, **options):\n    app.run(**options)\nstart(Flask('x'), debug=False)\n",
    ),
    "subclass configuring itself": (
        "class Portal(Flask):\n    def __init__(self, name):\n        super().__init__(name)\n"
        "        self.config['DEBUG'] = True\napp = Portal('x')\n",
        "PGS103",
        4,
        "class Portal(Flask):\n    def __init__(self, name):\n        super().__init__(name)\n"
        "        self.config['DEBUG'] = False\napp = Portal('x')\n",
    ),
    "after a return": (
        "app = Flask('x')\ndef serve():\n    app.run(debug=True)\n    return None\n",
        "PGS101",
        3,
        "app = Flask('x')\ndef serve():\n    return None\n    app.run(debug=True)\n",
    ),
    "flask command in a subprocess": (
        "import subprocess\nsubprocess.run(['flask', '--app', 'web', 'run', '--debug'])\n",
        "PGS107",
        2,
        "import subprocess\nsubprocess.run(['flask', '--app', 'web', 'routes', '--debug'])\n",
    ),
}


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_bad_form_is_found(tmp_path: Path, form: str) -> None:
    """The bad variant of each form gives exactly its one finding, on its line."""
    bad, rule, line, _ = FORMS[form]
    assert _scan(tmp_path, {"app.py": bad}) == [("app.py", rule, line)]


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_good_twin_is_clean(tmp_path: Path, form: str) -> None:
    """The good twin of each form (debug left off) gives no finding."""
    _, _, _, good = FORMS[form]
    assert _scan(tmp_path, {"app.py": good}) == []


def test_served_between_on_and_off_is_still_a_finding(tmp_path: Path) -> None:
    """Last write wins only before anything may serve: a run in between keeps the finding."""
    source = (
        "app = Flask('x')\napp.config['DEBUG'] = True\napp.run()\napp.config['DEBUG'] = False\n"
    )
    assert _scan(tmp_path, {"app.py": source}) == [("app.py", "PGS103", 2)]


def test_off_in_a_branch_does_not_cancel(tmp_path: Path) -> None:
    """A write that turns debug off only in a branch is not straight-line: still a finding."""
    source = "app = Flask('x')\napp.debug = True\n"
    source += "if os.environ.get('PROD'):\n    app.debug = False\n"
    assert _scan(tmp_path, {"app.py": source}) == [("app.py", "PGS102", 2)]


def test_unset_variable_without_default_is_clean(tmp_path: Path) -> None:
    """An environment read with no default is off where unset: no finding."""
    source = "app = Flask('x')\napp.run(debug=os.environ.get('APP_DEBUG'))\n"
    assert _scan(tmp_path, {"app.py": source}) == []


def test_shadowed_builtin_is_not_computed(tmp_path: Path) -> None:
    """A project function named like a builtin is not evaluated as the builtin."""
    source = (
        "def bool(value):\n    return False\napp = Flask('x')\napp.run(debug=bool('yes'))\n"
    )
    assert _scan(tmp_path, {"app.py": source}) == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [("DEBUG = True\n", [("app.py", "PGS101", 2)]), ("DEBUG = False\n", [])],
    ids=["on", "off"],
)
def test_settings_module_under_an_alias(
    tmp_path: Path, settings: str, expected: list[tuple[str, str, int]]
) -> None:
    """``import config_local as settings; app.run(debug=settings.DEBUG)`` follows the alias."""
    files = {
        "app.py": "import config_local as settings\napp = Flask('x')\n"
        "app.run(debug=settings.DEBUG)\n",
        "config_local.py": settings,
    }
    got = _scan(tmp_path, files)
    assert got == [(f, r, line + 1) for f, r, line in expected]


@pytest.mark.parametrize(
    ("debug", "expected"),
    [("True", [("run.py", "PGS101", 3)]), ("False", [])],
    ids=["on", "off"],
)
def test_subclass_from_another_module(
    tmp_path: Path, debug: str, expected: list[tuple[str, str, int]]
) -> None:
    """A Flask subclass imported from another scanned module is a Flask app."""
    (tmp_path / "web.py").write_text(
        "from flask import Flask\nclass Portal(Flask):\n    pass\n"
    )
    (tmp_path / "run.py").write_text(
        f"from web import Portal\nportal = Portal('x')\nportal.run(debug={debug})\n"
    )
    got = [(Path(f.path).name, f.rule, f.line) for f in scan_paths([tmp_path])]
    assert got == expected


def test_loop_body_reports_once(tmp_path: Path) -> None:
    """A loop body followed once per item of a known mapping reports a line once."""
    source = (
        "NAMES = {'a': 1, 'b': 2, 'c': 3}\napp = Flask('x')\n"
        "for name in NAMES:\n    app.config['DEBUG'] = True\n"
    )
    assert _scan(tmp_path, {"app.py": source}) == [("app.py", "PGS103", 4)]


@pytest.mark.timeout(30)
def test_nested_loops_over_mappings_are_not_multiplied(tmp_path: Path) -> None:
    """Loops over mappings nested four deep scan at once: only the outer one is unrolled."""
    items = ", ".join(f"'K{i}': {i}" for i in range(64))
    source = f"S = {{'DEBUG': True, {items}}}\napp = Flask('x')\n"
    for depth in range(4):
        source += "    " * depth + f"for k{depth}, v{depth} in S.items():\n"
    source += "    " * 4 + "app.config[k0] = v0\n"
    assert _scan(tmp_path, {"app.py": source}) == [("app.py", "PGS103", 7)]


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        ("from web import app as application\napplication.run(debug=True)\n", [2]),
        ("import web\nweb.app.debug = 1\n", [2]),
        ("from web import app\napp.run(debug=False)\n", []),
        ("import web\nweb.app.debug = 0\n", []),
    ],
    ids=[
        "from-import alias on",
        "module attribute on",
        "from-import off",
        "module attribute off",
    ],
)
def test_app_instance_from_another_module(
    tmp_path: Path, runner: str, expected: list[int]
) -> None:
    """An app instance made in another scanned module is followed where it is imported."""
    (tmp_path / "web.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (tmp_path / "run.py").write_text(runner)
    assert [f.line for f in scan_paths([tmp_path])] == expected


@pytest.mark.parametrize(
    ("debug", "expected"), [("True", [("app.py", "PGS103", 3)]), ("False", [])]
)
def test_from_pyfile_of_a_sibling_settings_file(
    tmp_path: Path, debug: str, expected: list[tuple[str, str, int]]
) -> None:
    """``from_pyfile("settings.py")`` reads the settings module beside the app."""
    (tmp_path / "settings.py").write_text(f"DEBUG = {debug}\nSECRET_KEY = 'x'\n")
    (tmp_path / "app.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n"
        "app.config.from_pyfile('settings.py')\n"
    )
    got = [(Path(f.path).name, f.rule, f.line) for f in scan_paths([tmp_path])]
    assert got == expected


@pytest.mark.parametrize(
    ("debug", "expected"), [("True", [("devserver.py", 2)]), ("False", [])]
)
def test_helper_in_another_module_given_the_app(
    tmp_path: Path, debug: str, expected: list[tuple[str, int]]
) -> None:
    """A helper of another module, called with the app and no debug argument: its
    default decides, and the chain names the call."""
    (tmp_path / "devserver.py").write_text(
        f"def serve(app, port=5000, debug={debug}):\n    app.run(port=port, debug=debug)\n"
    )
    (tmp_path / "app.py").write_text(
        "from flask import Flask\nfrom devserver import serve\napp = Flask(__name__)\n"
        "if __name__ == '__main__':\n    serve(app, port=8001)\n"
    )
    findings = scan_paths([tmp_path])
    assert [(Path(f.path).name, f.line) for f in findings] == expected
    if findings:
        assert "app.py:5 serve(app, port=8001)" in findings[0].explanation()


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("config.json", '{"DEBUG": true}', [3]),
        ("config.json", '{"DEBUG": false}', []),
        ("settings.toml", "DEBUG = true\n", [3]),
        ("settings.toml", "DEBUG = false\n", []),
    ],
    ids=["json on", "json off", "toml on", "toml off"],
)
def test_from_file_beside_the_module(
    tmp_path: Path, name: str, text: str, expected: list[int]
) -> None:
    """``from_file`` of a JSON or TOML file beside the module is read for its DEBUG."""
    (tmp_path / name).write_text(text)
    loader = "json.load" if name.endswith(".json") else "tomllib.load"
    module = loader.split(".")[0]
    (tmp_path / "app.py").write_text(
        f"import {module}\nfrom flask import Flask\n"
        f"app = Flask(__name__); app.config.from_file({name!r}, load={loader})\n"
    )
    assert [f.line for f in scan_paths([tmp_path])] == expected


def test_gunicorn_conf_raw_env(tmp_path: Path) -> None:
    """``raw_env = ["FLASK_DEBUG=1"]`` in gunicorn.conf.py turns debug on in the workers."""
    (tmp_path / "gunicorn.conf.py").write_text(
        "bind = '0.0.0.0:8000'\nraw_env = ['APP_ENV=prod', 'FLASK_DEBUG=1']\n"
    )
    (tmp_path / "other_gunicorn.conf.py").write_text("raw_env = ['FLASK_DEBUG=0']\n")
    got = [(Path(f.path).name, f.rule, f.line) for f in scan_paths([tmp_path])]
    assert got == [("gunicorn.conf.py", "PGS104", 2)]


def test_settings_function_of_another_module(tmp_path: Path) -> None:
    """A settings object made by another module's function (pydantic-settings style)."""
    (tmp_path / "settings.py").write_text(
        "class Settings:\n    debug: bool = True\ndef get_settings():\n    return Settings()\n"
    )
    (tmp_path / "app.py").write_text(
        "from flask import Flask\nfrom settings import get_settings\n"
        "def create_app():\n    settings = get_settings()\n    app = Flask(__name__)\n"
        "    app.config.update(DEBUG=settings.debug)\n    return app\n"
    )
    assert [(Path(f.path).name, f.line) for f in scan_paths([tmp_path])] == [("app.py", 6)]
