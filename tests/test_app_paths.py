"""Every form of ``--app`` that ``flask --app`` takes, run from another directory.

The apps live in ``project/`` under ``tmp_path``; every command runs in
``elsewhere/``, a sibling directory, as an operator would run it from a home
directory or a CI checkout root. Each app answers ``/`` with its own name and
has one warning, PG308 (no ``MAX_CONTENT_LENGTH``), so that ``check``'s exit
status and findings, and the body a server sends, show which app was loaded.

Module names (``aut``, ``shop:create_app('x')``) are found the way Flask finds
them, on ``sys.path``: those runs get ``PYTHONPATH=project``, as an installed
package would be found. Paths need nothing: they work from any directory.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import shlex
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import Server
from servers import free_port
from servers import server_environ
from servers import start_server

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
TIMEOUT = 60

#: What ``deploy-config`` and the commands that load an app say about a bad ``--app``.
FORMS_MESSAGE = "--app takes what flask --app takes"

#: Shared by the apps: safe settings but for MAX_CONTENT_LENGTH (PG308, a warning).
APPKIT = '''\
"""Builds the test apps of tests/test_app_paths.py."""

from flask import Flask

from flask_prodguard import ProdGuard


def build(name):
    app = Flask(name)
    app.config.update(
        SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )

    @app.get("/")
    def index():
        return app.name

    ProdGuard(app)
    return app
'''

#: The project's files, relative to ``project/``.
PROJECT_FILES = {
    "appkit.py": APPKIT,
    # A module-level app, under the name Flask looks for first.
    "aut.py": "from appkit import build\n\napp = build('aut')\n",
    # A factory only: Flask calls create_app() when no name is given.
    "factory_app.py": (
        "from appkit import build\n\n\n"
        "def create_app(name='factory'):\n    return build(name)\n"
    ),
    # One Flask app under a name of its own: Flask finds it as the only one.
    "solo.py": "from appkit import build\n\nweb = build('solo')\n",
    # A package with a factory, and a module inside it that imports it relatively.
    "shop/__init__.py": (
        "from appkit import build\n\n\ndef create_app(name='shop'):\n    return build(name)\n"
    ),
    "shop/wsgi.py": "from . import create_app\n\napplication = create_app('shop-wsgi')\n",
}


@dataclasses.dataclass(frozen=True)
class Form:
    """One way to write ``--app``, and the app it names."""

    #: The value, with ``{project}`` for the project's absolute path.
    template: str
    #: The name of the app it loads (what ``/`` answers).
    expected: str
    #: A module name, found on ``sys.path`` (PYTHONPATH), not a path.
    module: bool = False

    def value(self, project: Path) -> str:
        return self.template.format(project=project)


FORMS = {
    "file": Form("{project}/aut.py", "aut"),
    "file-with-name": Form("{project}/aut.py:app", "aut"),
    "relative-file": Form("../project/aut.py:app", "aut"),
    "file-factory-call": Form("{project}/factory_app.py:create_app()", "factory"),
    "file-factory-found": Form("{project}/factory_app.py", "factory"),
    "file-factory-args": Form("{project}/factory_app.py:create_app('from-args')", "from-args"),
    "package-directory": Form("{project}/shop", "shop"),
    "package-init-file": Form("{project}/shop/__init__.py:create_app", "shop"),
    "module-in-package-file": Form("{project}/shop/wsgi.py", "shop-wsgi"),
    "module": Form("aut", "aut", module=True),
    "module-only-app": Form("solo", "solo", module=True),
    "module-factory-found": Form("factory_app", "factory", module=True),
    "module-factory-args": Form("shop:create_app('from-module')", "from-module", module=True),
    "dotted-module": Form("shop.wsgi", "shop-wsgi", module=True),
}


@dataclasses.dataclass(frozen=True)
class Layout:
    """The project with the apps, and the directory the commands run in."""

    project: Path
    elsewhere: Path

    def environ(self, form: Form, **variables: str) -> dict[str, str]:
        """The environment of a command: production, and the project on the
        path for a module name only."""
        env = server_environ(PRODGUARD_ENV="production", **variables)
        env.pop("PYTHONPATH", None)
        if form.module:
            env["PYTHONPATH"] = str(self.project)
        return env


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """``project/`` with the apps, and ``elsewhere/`` beside it, empty."""
    project = tmp_path / "project"
    for name, text in PROJECT_FILES.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    return Layout(project, elsewhere)


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command to its end; output captured."""
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


#: How each entry point runs ``check`` on ``--app``.
CHECK_ENTRIES: dict[str, Callable[[str], list[str]]] = {
    "flask --app": lambda app: [FLASK, "--app", app, "prodguard", "check"],
    "check --app": lambda app: [FLASK, "prodguard", "check", "--app", app],
    "python -m": lambda app: [PYTHON, "-m", "flask_prodguard", "check", "--app", app],
}


# -- check -----------------------------------------------------------------------------


@pytest.mark.parametrize("entry", sorted(CHECK_ENTRIES))
@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_check_loads_the_app_from_another_directory(
    layout: Layout, form_id: str, entry: str
) -> None:
    """check, from another directory, loads the app the form names and reports its finding."""
    form = FORMS[form_id]
    argv = CHECK_ENTRIES[entry](form.value(layout.project))
    argv += ["--format", "json", "--fail-level", "warning"]
    result = run(argv, layout.elsewhere, layout.environ(form))
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["app"] == form.expected, report
    assert [f["id"] for f in report["findings"]] == ["PG308"], report


# -- serve -----------------------------------------------------------------------------


def index_answer(port: int) -> tuple[int, str]:
    """The status and body of ``GET /``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", errors="replace")
    finally:
        connection.close()


@pytest.fixture
def serve_process() -> Iterator[Callable[[list[str], Path, int, dict[str, str]], Server]]:
    """Return ``start(argv, cwd, port, env)``; every server is stopped at teardown."""
    started: list[Server] = []

    def start(argv: list[str], cwd: Path, port: int, env: dict[str, str]) -> Server:
        server = start_server(argv, cwd, port, env)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.mark.server
@pytest.mark.parametrize("server_name", ["gunicorn", "waitress"])
@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_serve_answers_from_another_directory(
    layout: Layout,
    serve_process: Callable[[list[str], Path, int, dict[str, str]], Server],
    form_id: str,
    server_name: str,
) -> None:
    """serve, from another directory, serves the app the form names on gunicorn and waitress."""
    form = FORMS[form_id]
    port = free_port()
    app = form.value(layout.project)
    options = ["--server", server_name, "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    if server_name == "gunicorn":
        argv = [FLASK, "--app", app, "prodguard", "serve", *options]
    else:
        argv = [PYTHON, "-m", "flask_prodguard", "serve", "--app", app, *options]
    server = serve_process(argv, layout.elsewhere, port, layout.environ(form))
    server.wait_ready(lambda port: index_answer(port)[0] == 200)
    assert index_answer(port) == (200, form.expected), server.logs()


# -- deploy-config ---------------------------------------------------------------------


def deploy_config(layout: Layout, form: Form, *args: str) -> subprocess.CompletedProcess[str]:
    """``flask --app FORM prodguard deploy-config ARGS`` in ``elsewhere/``.

    A module name is found from ``--directory``, the project, as it would be
    on the server.
    """
    argv = [FLASK, "--app", form.value(layout.project), "prodguard", "deploy-config", *args]
    if form.module:
        argv += ["--directory", str(layout.project)]
    env = layout.environ(form)
    env.pop("PYTHONPATH", None)  # the command finds the module from --directory
    return run(argv, layout.elsewhere, env)


@pytest.mark.server
@pytest.mark.parametrize("form_id", sorted(FORMS))
def test_generated_gunicorn_conf_boots_the_app(
    tmp_path: Path,
    layout: Layout,
    serve_process: Callable[[list[str], Path, int, dict[str, str]], Server],
    form_id: str,
) -> None:
    """gunicorn -c on the generated file, started from a third directory, serves the app."""
    form = FORMS[form_id]
    port = free_port()
    out = tmp_path / "deploy"
    result = deploy_config(
        layout, form, "--target", "gunicorn", "--output", str(out),
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-behind-proxy",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    conf = out / "gunicorn.conf.py"
    # Not the project, not elsewhere, no PYTHONPATH: the file alone finds the app.
    third = tmp_path / "third"
    third.mkdir()
    env = server_environ(HOME=str(third))
    env.pop("PYTHONPATH", None)
    server = serve_process([GUNICORN, "-c", str(conf)], third, port, env)
    server.wait_ready(lambda port: index_answer(port)[0] == 200)
    assert index_answer(port) == (200, form.expected), server.logs() + conf.read_text()
    assert '"prodguard.startup.posture"' in server.stderr(), server.logs()


@pytest.mark.server
@pytest.mark.parametrize(
    "form_id",
    ["file-with-name", "relative-file", "package-directory", "module-in-package-file"],
)
def test_generated_supervisor_command_serves_the_app(
    layout: Layout,
    serve_process: Callable[[list[str], Path, int, dict[str, str]], Server],
    form_id: str,
) -> None:
    """The supervisor program's command, run in its directory, serves the app given by path."""
    form = FORMS[form_id]
    port = free_port()
    result = deploy_config(
        layout, form, "--target", "supervisor", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--venv", sys.prefix, "--no-behind-proxy",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    settings = dict(
        line.split("=", 1)
        for line in result.stdout.splitlines()
        if "=" in line and not line.startswith(";")
    )
    argv = shlex.split(settings["command"].replace("%%", "%"))
    assert Path(argv[2]).is_absolute(), argv  # the path, made absolute
    directory = Path(settings["directory"])
    server = serve_process(argv, directory, port, layout.environ(Form("", "")))
    server.wait_ready(lambda port: index_answer(port)[0] == 200)
    assert index_answer(port) == (200, form.expected), server.logs()


def test_gunicorn_file_imports_a_path_from_its_directory(layout: Layout) -> None:
    """A path becomes a module gunicorn imports: chdir, and pythonpath when they differ."""
    absolute = deploy_config(layout, FORMS["module-in-package-file"], "--target", "gunicorn")
    assert absolute.returncode == 0, absolute.stderr
    assert 'wsgi_app = "shop.wsgi:application"\n' in absolute.stdout
    # An absolute path runs where it is imported from.
    assert f'chdir = "{layout.project}"\n' in absolute.stdout
    assert "pythonpath" not in absolute.stdout

    relative = deploy_config(layout, FORMS["relative-file"], "--target", "gunicorn")
    assert relative.returncode == 0, relative.stderr
    assert 'wsgi_app = "aut:app"\n' in relative.stdout
    # A relative path keeps the working directory, as flask --app does.
    assert f'chdir = "{layout.elsewhere}"\n' in relative.stdout
    assert f'pythonpath = "{layout.project}"\n' in relative.stdout

    systemd = deploy_config(layout, FORMS["relative-file"], "--target", "systemd")
    assert f"--app {layout.project}/aut.py:app prodguard serve" in systemd.stdout
    assert f"WorkingDirectory={layout.elsewhere}\n" in systemd.stdout
    # The name defaults to the module's, not to the path's first directory.
    assert "SyslogIdentifier=aut\n" in systemd.stdout


@pytest.mark.parametrize("target", ["gunicorn", "supervisor", "systemd", "nginx"])
def test_absolute_file_path_is_taken_by_every_target(layout: Layout, target: str) -> None:
    """flask --app /path/app.py:app prodguard deploy-config writes every target's file."""
    result = deploy_config(layout, FORMS["file-with-name"], "--target", target)
    assert result.returncode == 0, result.stdout + result.stderr
    # tmp_path is under /tmp, which systemd's PrivateTmp hides: that warning only.
    warnings = [line for line in result.stderr.splitlines() if "temporary" not in line]
    assert warnings == []
    assert "configuration for aut, generated by" in result.stdout


def test_import_location_is_flasks_prepare_import(layout: Layout) -> None:
    """The module and directory of an app's path are what Flask's prepare_import finds."""
    from flask.cli import prepare_import
    from flask_prodguard.tools.deploy import import_location

    saved = list(sys.path)
    try:
        for relative in ("aut.py", "shop", "shop/__init__.py", "shop/wsgi.py"):
            path = layout.project / relative
            module = prepare_import(str(path))
            assert import_location(path) == (Path(sys.path[0]), module), relative
    finally:
        sys.path[:] = saved


def test_import_location_keeps_symbolic_links(tmp_path: Path, layout: Layout) -> None:
    """A link to the current release stays in the path, so a new release is served."""
    from flask_prodguard.tools.deploy import import_location

    current = tmp_path / "current"
    current.symlink_to(layout.project, target_is_directory=True)
    assert import_location(current / "shop" / "wsgi.py") == (tmp_path / "current", "shop.wsgi")


# -- what is refused -------------------------------------------------------------------

#: ``--app`` values no Flask command takes: exit 2, naming the forms.
INVALID_FORMS = [
    "{project}/aut.py:1app",
    "{project}/aut.py:create_app(__import__('os').getcwd())",
    "{project}/aut.py:",
]


@pytest.mark.parametrize(
    "template", [*INVALID_FORMS, "{project}/missing.py", "no_such_module:app"]
)
@pytest.mark.parametrize("command", ["check", "serve"])
def test_app_that_cannot_load_exits_2_naming_the_forms(
    layout: Layout, command: str, template: str
) -> None:
    """check and serve exit 2 on an app Flask cannot load, and list the forms --app takes."""
    form = Form(template, "")
    argv = [PYTHON, "-m", "flask_prodguard", command, "--app", form.value(layout.project)]
    if command == "serve":
        argv += ["--bind", f"127.0.0.1:{free_port()}"]
    result = run(argv, layout.elsewhere, layout.environ(form))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("Error: could not load the app: NoAppException: ")
    assert FORMS_MESSAGE in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("template", [*INVALID_FORMS, "my-app", "shop:app()x"])
def test_deploy_config_refuses_an_invalid_form(layout: Layout, template: str) -> None:
    """deploy-config, which loads no app, refuses what Flask would not take, with the forms."""
    form = Form(template, "")
    result = deploy_config(layout, form, "--target", "systemd")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Invalid value for --app" in result.stderr, result.stderr
    assert FORMS_MESSAGE in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "odd",
    [
        "we%ird/app.py",
        'quo"te/app.py',
        "dol$lar/app.py",
        "com,ma/app.py",
        "semi;colon/app.py",
        "back\\slash/app.py",
        "ti~lde/app.py",
        "app.py:app\nExecStartPre=/bin/sh",
        "line\nbreak/app.py",
    ],
)
@pytest.mark.parametrize("target", ["gunicorn", "supervisor", "systemd"])
def test_path_with_odd_characters_is_refused(tmp_path: Path, target: str, odd: str) -> None:
    """deploy-config refuses a path it would have to escape, and writes nothing."""
    out = tmp_path / "deploy"
    argv = [PYTHON, "-m", "flask_prodguard", "deploy-config", "--target", target]
    argv += ["--app", f"{tmp_path}/{odd}", "--output", str(out)]
    result = run(argv, tmp_path, server_environ())
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Invalid value for --app" in result.stderr, result.stderr
    assert FORMS_MESSAGE in result.stderr, result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_path_with_spaces_is_written_escaped(layout: Layout, tmp_path: Path) -> None:
    """A path with a space is taken, and quoted where the file's reader needs it."""
    spaced = tmp_path / "my project"
    spaced.mkdir()
    (spaced / "aut.py").write_text(PROJECT_FILES["aut.py"])
    app = f"{spaced}/aut.py:app"
    argv = [PYTHON, "-m", "flask_prodguard", "deploy-config", "--app", app]
    supervisor = run([*argv, "--target", "supervisor"], layout.elsewhere, server_environ())
    assert supervisor.returncode == 0, supervisor.stderr
    command = next(
        line for line in supervisor.stdout.splitlines() if line.startswith("command=")
    )
    assert shlex.split(command.removeprefix("command="))[2] == app
    systemd = run([*argv, "--target", "systemd"], layout.elsewhere, server_environ())
    assert f'--app "{app}" prodguard serve' in systemd.stdout
    assert f"WorkingDirectory={spaced}\n" in systemd.stdout


def test_module_holding_several_apps_asks_which(layout: Layout) -> None:
    """Two Flask apps in a module and no name: deploy-config asks for one, as flask does."""
    (layout.project / "two.py").write_text(
        "from appkit import build\n\nfirst = build('first')\nsecond = build('second')\n"
    )
    result = deploy_config(layout, Form("{project}/two.py", ""), "--target", "gunicorn")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "several Flask apps" in result.stderr
    assert "two:first" in result.stderr
    assert result.stdout == ""


def test_module_names_need_the_path_path_forms_do_not(layout: Layout) -> None:
    """From elsewhere a module name needs PYTHONPATH, a path does not: the runs are honest."""
    env = layout.environ(FORMS["file"])
    assert "PYTHONPATH" not in env
    argv = [PYTHON, "-m", "flask_prodguard", "check", "--app"]
    assert run([*argv, "aut"], layout.elsewhere, env).returncode == 2
    assert run([*argv, f"{layout.project}/aut.py"], layout.elsewhere, env).returncode == 0
