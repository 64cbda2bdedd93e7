"""Red-team tests of issue 16 (commit 3d06b64): each generated file read by its own parser.

``deploy-config`` output is handed to the program that reads it in production:
supervisor's own ``ServerOptions`` (in a subprocess: its config parser has
inline comments and a ``%(here)s`` pre-pass), ``systemd-analyze verify``, ``nginx
-t``, and gunicorn's ``import_app`` / config loading. A value must come out of
the parser as the operator gave it, or the command must refuse it (exit 2,
nothing written). ``serve``'s held stderr is attacked with slow, noisy and
exiting apps; ``check`` with apps that cannot load; ``run-tests`` with odd
arguments and an exported ``CDPATH``.

Tests named ``..._guard`` pass today and catch plausible regressions; the others
reproduce holes and fail until the code is fixed.
"""

from __future__ import annotations

import contextlib
import getpass
import http.client
import json
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from click.testing import Result
from flask_prodguard.tools.cli import prodguard

from servers import free_port
from servers import require_program
from servers import server_environ

PYTHON = sys.executable
VENV = Path(sys.executable).parent.parent
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
#: The account supervisor's parser must find (it resolves user= at parse time).
USER = getpass.getuser()

# -- helpers -------------------------------------------------------------------------


def deploy(*args: str) -> Result:
    """``prodguard deploy-config`` in-process; exceptions become exit status 1."""
    return CliRunner().invoke(prodguard, ["deploy-config", *args])


def run(argv: list[Any], cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """A command run to its end, output captured, in a clean environment."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=server_environ(**variables),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


#: Reads a supervisor program file with supervisor's own parser; prints what it runs.
SUPERVISOR_PARSE = """\
import json, sys
from supervisor.options import ServerOptions
conf, program = sys.argv[1], sys.argv[2]
with open(conf, "w") as f:
    f.write(f"[supervisord]\\nlogfile={conf}.log\\npidfile={conf}.pid\\n"
            f"[include]\\nfiles={program}\\n")
options = ServerOptions()
options.configfile = conf
try:
    options.process_config(do_usage=False)
except ValueError as error:
    print(json.dumps({"error": str(error)}))
    raise SystemExit(0)
[group] = options.process_group_configs
[process] = group.process_configs
print(json.dumps({
    "command": process.command,
    "directory": process.directory,
    "stdout_logfile": process.stdout_logfile,
    "stderr_logfile": process.stderr_logfile,
}))
"""


def supervisor_reads(text: str, tmp_path: Path) -> dict[str, Any]:
    """What supervisor makes of a generated program file (or ``{"error": ...}``)."""
    where = tmp_path / f"supervisor-{uuid.uuid4().hex[:8]}"
    where.mkdir()
    program = where / "program.conf"
    program.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [PYTHON, "-W", "ignore", "-c", SUPERVISOR_PARSE, str(where / "sd.conf"), str(program)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def supervisor_argv(parsed: dict[str, Any]) -> list[str] | str:
    """supervisor's argv for the program (it splits ``command`` with shlex), or the error."""
    if "error" in parsed:
        return f"supervisor refused the file: {parsed['error']}"
    try:
        return shlex.split(parsed["command"])
    except ValueError as error:
        return f"supervisor cannot split the command: {error}"


def systemd_verify(text: str, tmp_path: Path, name: str = "rt16") -> list[str]:
    """``systemd-analyze verify`` on a unit: the lines it says about this unit."""
    analyze = require_program("systemd-analyze")
    units = tmp_path / f"units-{uuid.uuid4().hex[:8]}"
    units.mkdir()
    unit = units / f"{name}.service"
    unit.write_bytes(text.encode("utf-8", "surrogateescape"))
    result = subprocess.run(
        [analyze, "verify", "--man=no", "--generators=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]


def fake_venv(tmp_path: Path, name: str) -> Path:
    """A virtual environment directory called ``name`` whose bin/flask is executable."""
    venv = tmp_path / "venvs" / name
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "flask").symlink_to(VENV / "bin" / "flask")
    return venv


def nginx_test(site: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a configuration that includes the generated server block."""
    nginx = require_program("nginx")
    prefix = tmp_path / f"nginx-{uuid.uuid4().hex[:8]}"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {prefix}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n {temp}\n include {prefix}/site.conf;\n}}\n"
    )
    return subprocess.run(
        [nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def refused(result: Result) -> bool:
    """The command refused the values: a usage error (exit 2) and nothing printed."""
    return result.exit_code == 2 and result.stdout == ""


# -- supervisor ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "app",
    [
        "shop:create_app('100%')",
        "shop:create_app('%s %(x)s')",
        "shop:create_app('$HOME ${PATH}')",
        'shop:create_app("it\'s")',
        "shop:create_app('say \"hi\"')",
        "shop:create_app('back\\\\slash')",
        "shop:create_app('a;b', n=1)",
        "shop:create_app('caf\u00e9 \u2028')",
    ],
)
def test_supervisor_command_round_trips_odd_literals_guard(tmp_path: Path, app: str) -> None:
    """Guard: quotes, %, $ and backslashes in factory arguments reach supervisor's argv."""
    args = ["--target", "supervisor", "--user", USER, "--log-dir", str(tmp_path)]
    result = deploy(*args, "--app", app, "--venv", str(VENV))
    assert result.exit_code == 0, result.output
    argv = supervisor_argv(supervisor_reads(result.stdout, tmp_path))
    assert argv == [
        str(VENV / "bin" / "flask"),
        "--app",
        app,
        "prodguard",
        "serve",
        "--server",
        "gunicorn",
        "--bind",
        "127.0.0.1:8000",
    ]


# -- systemd -------------------------------------------------------------------------


@pytest.mark.parametrize("odd", ["a b", "a%b", "%n", "a;b", "caf\u00e9", "-x", "a=b@c+d,e"])
def test_systemd_executable_with_odd_but_safe_characters_guard(
    tmp_path: Path, odd: str
) -> None:
    """Guard: a venv path with spaces, %, ; or Unicode names the right executable."""
    venv = fake_venv(tmp_path, odd)
    args = ["--target", "systemd", "--app", "shop:app", "--name", "rt16"]
    result = deploy(*args, "--directory", "/srv/shop", "--venv", str(venv))
    assert result.exit_code == 0, result.output
    assert systemd_verify(result.stdout, tmp_path) == []


def test_systemd_path_component_too_long_is_refused(tmp_path: Path) -> None:
    """A 300-byte directory name makes WorkingDirectory= a fatal error for systemd."""
    args = ["--target", "systemd", "--app", "shop:app", "--name", "rt16", "--venv", str(VENV)]
    result = deploy(*args, "--directory", "/srv/" + "a" * 300)
    if refused(result):
        return
    assert result.exit_code == 0, result.output
    assert systemd_verify(result.stdout, tmp_path) == []


# -- nginx ---------------------------------------------------------------------------


# -- --app and the files -------------------------------------------------------------

APP_NAMED = "from flask import Flask\n\napp = Flask({name!r})\n"


def test_app_path_with_dotdot_after_a_symlink_names_the_same_file(tmp_path: Path) -> None:
    """--app link/../app.py: Flask resolves the link first, the file must name that app too."""
    (tmp_path / "real" / "inner").mkdir(parents=True)
    (tmp_path / "real" / "app.py").write_text(APP_NAMED.format(name="real"))
    (tmp_path / "app.py").write_text(APP_NAMED.format(name="decoy"))
    (tmp_path / "link").symlink_to(tmp_path / "real" / "inner")
    given = f"{tmp_path}/link/../app.py"
    result = deploy("--target", "supervisor", "--app", given, "--user", USER)
    if refused(result):
        return
    assert result.exit_code == 0, result.output
    command = next(line for line in result.stdout.splitlines() if line.startswith("command="))
    written = shlex.split(command.removeprefix("command="))[2]

    def loaded(app: str) -> str:
        argv = [PYTHON, "-m", "flask_prodguard", "check", "--app", app, "--format", "json"]
        checked = run(argv, tmp_path)
        assert checked.returncode in (0, 1), checked.stderr
        name: str = json.loads(checked.stdout)["app"]
        return name

    # What `flask --app <given>` (and check) loads, and what the service would.
    assert loaded(given) == "real"
    assert loaded(written) == "real", f"the file runs --app {written}"


def test_app_path_component_too_long_exits_2(tmp_path: Path) -> None:
    """A path Python cannot stat (ENAMETOOLONG) is a usage error, not a traceback."""
    argv = [PYTHON, "-m", "flask_prodguard", "deploy-config", "--target", "systemd"]
    result = run([*argv, "--app", f"/srv/{'a' * 300}/app.py"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "odd",
    ["my app", "a@b+c=d", "-x", "caf\u00e9", "\u0455hop"],
)
def test_odd_but_allowed_app_paths_mean_the_same_everywhere_guard(
    tmp_path: Path, odd: str
) -> None:
    """Guard: a path with spaces, @+=, a leading dash or Unicode is the same in all files."""
    directory = tmp_path / odd
    directory.mkdir()
    # A module name of its own: the gunicorn target imports it in this process.
    module = f"rt16app_{uuid.uuid4().hex[:8]}"
    (directory / f"{module}.py").write_text(APP_NAMED.format(name="rt16"))
    app = f"{directory}/{module}.py:app"
    base = ["--app", app, "--name", "rt16", "--user", USER, "--venv", str(VENV)]
    supervisor = deploy("--target", "supervisor", *base, "--log-dir", str(tmp_path))
    assert supervisor.exit_code == 0, supervisor.output
    parsed = supervisor_reads(supervisor.stdout, tmp_path)
    assert supervisor_argv(parsed)[1:3] == ["--app", app], parsed
    assert parsed["directory"] == str(directory), parsed
    systemd = deploy("--target", "systemd", *base)
    assert systemd.exit_code == 0, systemd.output
    assert systemd_verify(systemd.stdout, tmp_path) == []
    saved_path = list(sys.path)
    try:
        gunicorn = deploy("--target", "gunicorn", *base)
    finally:
        sys.path[:] = saved_path
        sys.modules.pop(module, None)
    assert gunicorn.exit_code == 0, gunicorn.output
    # gunicorn executes its config file as Python: do the same, and read the values.
    conf = tmp_path / f"gunicorn-{uuid.uuid4().hex[:8]}.conf.py"
    conf.write_text(gunicorn.stdout, encoding="utf-8")
    namespace: dict[str, Any] = {}
    try:
        exec(compile(conf.read_text(encoding="utf-8"), str(conf), "exec"), namespace)
    finally:
        sys.path[:] = saved_path
    assert namespace["chdir"] == str(directory)
    assert namespace["wsgi_app"] == f"{module}:app"


def test_relative_path_that_looks_like_an_option_is_made_absolute_guard(
    tmp_path: Path,
) -> None:
    """Guard: a relative --app -x/app.py reaches the service as an absolute path."""
    (tmp_path / "-x").mkdir()
    (tmp_path / "-x" / "rt16app.py").write_text(APP_NAMED.format(name="rt16"))
    argv = [PYTHON, "-m", "flask_prodguard", "deploy-config", "--target", "systemd"]
    result = run([*argv, "--app=-x/rt16app.py", "--user", USER], tmp_path)
    assert result.returncode == 0, result.stderr
    exec_start = next(line for line in result.stdout.splitlines() if "ExecStart=" in line)
    words = shlex.split(exec_start.removeprefix("ExecStart="))
    assert words[1:3] == ["--app", f"{tmp_path}/-x/rt16app.py"], exec_start


def test_unicode_lookalike_factory_name_is_called_by_gunicorn_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flask NFKC-reads "mod:\uff42uild" as build() and calls it; gunicorn must call it too."""
    from flask_prodguard.tools.deploy import gunicorn_app
    from gunicorn.util import import_app

    module = f"rt16_nfkc_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(
        "from flask import Flask\n\n\ndef build():\n    return Flask('built')\n"
    )
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    try:
        written = gunicorn_app(f"{module}:\uff42uild", tmp_path)
        app = import_app(written)
    finally:
        sys.modules.pop(module, None)
    from flask import Flask

    assert isinstance(app, Flask), f"gunicorn serves {app!r} from wsgi_app = {written!r}"


# -- check and serve: apps that do not load ------------------------------------------

EXITING_APP = """\
import sys

print("rt16: app line before exiting", file=sys.stderr)
sys.exit({code!r})
"""


@pytest.mark.parametrize("code", [0, None, "bye"])
@pytest.mark.parametrize("command", ["check", "serve"])
def test_app_that_exits_while_loading_exits_2(tmp_path: Path, command: str, code: Any) -> None:
    """sys.exit() in the app's import is an app that could not be loaded: exit 2, said so."""
    (tmp_path / "exiting.py").write_text(EXITING_APP.format(code=code))
    argv = [PYTHON, "-m", "flask_prodguard", command, "--app", "exiting.py"]
    if command == "serve":
        argv += ["--bind", f"127.0.0.1:{free_port()}"]
    result = run(argv, tmp_path, PRODGUARD_ENV="production")
    assert "rt16: app line before exiting" in result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "could not load the app" in result.stderr


HOSTILE_APP = """\
class Hostile(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")

    __repr__ = __str__


raise Hostile()
"""


@pytest.mark.parametrize("command", ["check", "serve"])
def test_app_raising_a_hostile_exception_exits_2(tmp_path: Path, command: str) -> None:
    """An exception whose __str__ raises is still "could not load the app", exit 2."""
    (tmp_path / "hostile.py").write_text(HOSTILE_APP)
    argv = [PYTHON, "-m", "flask_prodguard", command, "--app", "hostile.py"]
    if command == "serve":
        argv += ["--bind", f"127.0.0.1:{free_port()}"]
    result = run(argv, tmp_path, PRODGUARD_ENV="production")
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "could not load the app" in result.stderr
    assert "Traceback" not in result.stderr


MANAGE = """\
from flask import Flask
from flask.cli import FlaskGroup

from flask_prodguard import ProdGuard


def create_app():
    # A well-configured app: check finds nothing to fail on.
    app = Flask("from_the_group")
    app.config.update(
        SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1024,
    )
    ProdGuard(app)
    return app


cli = FlaskGroup(create_app=create_app)

if __name__ == "__main__":
    cli()
"""


def test_explicit_app_wins_over_a_custom_groups_factory(tmp_path: Path) -> None:
    """`manage.py prodguard check --app risky.py` checks risky.py, not the group's factory.

    Today the group's clean app is checked and check exits 0, while deploy-config
    writes `flask --app risky.py` (debug on) into the service.
    """
    (tmp_path / "manage.py").write_text(MANAGE)
    (tmp_path / "risky.py").write_text(APP_NAMED.format(name="risky") + "app.debug = True\n")
    argv = [PYTHON, "manage.py", "prodguard", "check", "--app", "risky.py", "--format", "json"]
    result = run(argv, tmp_path, PRODGUARD_ENV="production")
    report = json.loads(result.stdout)
    assert (report["app"], result.returncode) == ("risky", 1), report


def test_python_m_skips_dotenv_files_when_flask_does(tmp_path: Path) -> None:
    """FLASK_SKIP_DOTENV=1: python -m flask_prodguard must not read a stray .env either.

    Today it does: a developer's `PRODGUARD_ENV=development` in .env makes
    `python -m flask_prodguard check` (and serve) run the app in development,
    strictness off, where `flask prodguard check` sees production.
    """
    (tmp_path / "app.py").write_text(
        APP_NAMED.format(name="dotenv")
        + "from flask_prodguard import ProdGuard\nProdGuard(app)\n"
    )
    (tmp_path / ".env").write_text("PRODGUARD_ENV=development\n")
    flask = str(Path(sys.executable).with_name("flask"))
    entries = {
        "flask": [flask, "prodguard", "check"],
        "python -m": [PYTHON, "-m", "flask_prodguard", "check"],
    }
    envs = {}
    for entry, argv in entries.items():
        # server_environ sets FLASK_SKIP_DOTENV=1, as an operator would in production.
        result = run([*argv, "--app", "app.py", "--format", "json"], tmp_path)
        envs[entry] = json.loads(result.stdout)["env"]
    assert envs == {"flask": "production", "python -m": "production"}


@pytest.mark.parametrize("raise_", ["RuntimeError('boom')", "KeyboardInterrupt()"])
def test_serve_keeps_the_apps_lines_when_loading_stops_guard(
    tmp_path: Path, raise_: str
) -> None:
    """Guard: what the app wrote before failing to load comes out, and serve exits non-zero."""
    (tmp_path / "failing.py").write_text(
        f"import sys\n\nprint('rt16: app line', file=sys.stderr)\nraise {raise_}\n"
    )
    argv = [PYTHON, "-m", "flask_prodguard", "serve", "--app", "failing.py"]
    result = run([*argv, "--bind", f"127.0.0.1:{free_port()}"], tmp_path)
    assert result.returncode != 0, result.stderr
    assert "rt16: app line" in result.stderr
    if raise_.startswith("RuntimeError"):
        assert result.returncode == 2, result.stderr
        assert result.stderr.index("could not load") < result.stderr.index("rt16: app line")


SLOW_GUARDED_APP = """\
import os
import time

from flask import Flask

from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024,
)
app.debug = True
ProdGuard(app)  # fixes DEBUG: one prodguard.debug.blocked event on stderr
open(os.environ["RT16_MARKER"], "w").close()
time.sleep(60)  # a slow import: a database that does not answer
"""


@contextlib.contextmanager
def started(argv: list[str], cwd: Path, log: Path, **variables: str) -> Iterator[Any]:
    """A process with stderr in ``log``; killed at the end if still running."""
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=server_environ(**variables),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)


def test_serve_stopped_while_loading_loses_no_event(tmp_path: Path) -> None:
    """SIGTERM during a slow import: the security event already emitted reaches stderr."""
    (tmp_path / "slow.py").write_text(SLOW_GUARDED_APP)
    marker = tmp_path / "imported"
    log = tmp_path / "stderr.log"
    argv = [PYTHON, "-m", "flask_prodguard", "serve", "--app", "slow.py"]
    argv += ["--bind", f"127.0.0.1:{free_port()}"]
    with started(argv, tmp_path, log, PRODGUARD_ENV="production", RT16_MARKER=str(marker)) as p:
        deadline = time.monotonic() + TIMEOUT
        while not marker.exists():
            assert p.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the app never got past ProdGuard(app)"
            time.sleep(0.05)
        p.send_signal(signal.SIGTERM)
        code = p.wait(TIMEOUT)
    assert code != 0
    assert "prodguard.debug.blocked" in log.read_text(), log.read_text() or "(stderr empty)"


@pytest.mark.parametrize(
    "use",
    [
        "sys.stderr.reconfigure(line_buffering=True)",
        "sys.stderr.buffer.write(b'rt16 bytes\\n')",
        "print('rt16 stderr is', sys.stderr.name, file=sys.stderr)",
    ],
)
def test_serve_loads_an_app_that_uses_its_stderr(tmp_path: Path, use: str) -> None:
    """An app that check and flask run load (it reconfigures stderr) loads under serve too."""
    (tmp_path / "uses_stderr.py").write_text(
        f"import sys\n\n{use}\n" + APP_NAMED.format(name="uses_stderr")
    )
    argv = [PYTHON, "-m", "flask_prodguard", "check", "--app", "uses_stderr.py"]
    checked = run(argv, tmp_path, PRODGUARD_ENV="production")
    assert "could not load" not in checked.stderr
    argv = [PYTHON, "-m", "flask_prodguard", "serve", "--app", "uses_stderr.py"]
    # The app is unguarded: serve refuses it (PG207) once it has loaded it.
    served = run([*argv, "--bind", f"127.0.0.1:{free_port()}"], tmp_path)
    assert "could not load" not in served.stderr, served.stderr
    assert "refused to serve" in served.stderr, served.stderr


SAFE_GUARDED_APP = """\
from flask import Flask

from flask_prodguard import ProdGuard

app = Flask("rt16")
app.config.update(
    SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024,
)
ProdGuard(app)


@app.get("/")
def index():
    return "rt16"
"""


def test_serve_without_a_stderr_still_serves(tmp_path: Path) -> None:
    """Started with stderr closed (sys.stderr is None), serve serves, as before 3d06b64."""
    (tmp_path / "app.py").write_text(SAFE_GUARDED_APP)
    port = free_port()
    serve = [
        PYTHON,
        "-m",
        "flask_prodguard",
        "serve",
        "--app",
        "app.py",
        "--server",
        "waitress",
    ]
    argv = ["sh", "-c", 'exec "$0" "$@" 2>&-', *serve, "--bind", f"127.0.0.1:{port}"]
    with started(argv, tmp_path, tmp_path / "unused.log", PRODGUARD_ENV="production") as proc:
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert proc.poll() is None, f"serve exited with status {proc.returncode}"
            assert time.monotonic() < deadline, "serve never answered"
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                connection.request("GET", "/")
                body = connection.getresponse().read()
                break
            except OSError:
                time.sleep(0.05)
            finally:
                connection.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(TIMEOUT)
    assert body == b"rt16"


#: Runs a command and prints its peak resident memory in KiB (Linux ru_maxrss).
PEAK_MEMORY = """\
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

NOISY_APP = """\
import sys

chunk = "x" * 65535
for i in range(1024):  # 64 MiB, each line a new string
    sys.stderr.write(f"{chunk}{i % 10}\\n")
raise RuntimeError("loaded nothing")
"""


def test_serve_holds_stderr_in_bounded_memory(tmp_path: Path) -> None:
    """64 MiB written while the app loads must not be held in memory whole."""
    (tmp_path / "noisy.py").write_text(NOISY_APP)

    def peak_kib(command: str) -> int:
        argv = [PYTHON, "-c", PEAK_MEMORY, PYTHON, "-m", "flask_prodguard", command]
        result = run([*argv, "--app", "noisy.py"], tmp_path)
        assert result.returncode == 0, result.stderr
        return int(result.stdout)

    # check writes the app's output through: the baseline for the same import.
    extra = peak_kib("serve") - peak_kib("check")
    assert extra < 32 * 1024, f"serve held {extra // 1024} MiB more than check"


# -- run-tests -----------------------------------------------------------------------

#: Programs run-tests looks for: present as stand-ins, so that it installs nothing.
PROGRAMS = (
    "nginx",
    "apache2",
    "apachectl",
    "systemd-analyze",
    "mtail",
    "prometheus",
    "promtool",
    "prometheus-alertmanager",
    "amtool",
    "chromium",
)
FONT = "usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
#: The venv's python: writes its directory and arguments, NUL-separated, and exits $RT16_EXIT.
STUB_PYTHON = """\
#!/bin/sh
printf '%s\\0' "$PWD" "$@" > "$RT16_LOG"
exit "${RT16_EXIT:-0}"
"""


def fake_project(where: Path) -> Path:
    """A copy of run-tests and .ci/run whose venv is set up and whose python is a stub."""
    where.mkdir(parents=True)
    shutil.copy2(ROOT / "run-tests", where / "run-tests")
    (where / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", where / ".ci" / "run")
    shutil.copy2(ROOT / "pyproject.toml", where / "pyproject.toml")
    (where / ".venv" / "bin").mkdir(parents=True)
    shutil.copy2(ROOT / "pyproject.toml", where / ".venv" / "run-tests-pyproject.toml")
    python = where / ".venv" / "bin" / "python"
    python.write_text(STUB_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return where


@pytest.fixture
def system(tmp_path: Path) -> dict[str, str]:
    """Stand-ins for the Debian programs and a fake root with the font: nothing to install."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in PROGRAMS:
        program = bin_dir / name
        program.write_text("#!/bin/sh\nexit 0\n")
        program.chmod(0o755)
    root = tmp_path / "root"
    for name in (FONT, "usr/lib/apache2/modules/mod_wsgi.so"):
        (root / name).parent.mkdir(parents=True)
        (root / name).touch()
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "RUN_TESTS_SYSROOT": str(root),
        "RT16_LOG": str(tmp_path / "python.log"),
    }


def stub_log(system: dict[str, str]) -> list[str]:
    """The stub python's working directory and arguments."""
    return Path(system["RT16_LOG"]).read_text().split("\0")[:-1]


@pytest.mark.parametrize("exit_status", [0, 1, 5])
def test_run_tests_passes_arguments_and_exit_status_guard(
    tmp_path: Path, system: dict[str, str], exit_status: int
) -> None:
    """Guard: pytest gets every argument verbatim, in the project, and sets the status."""
    project = fake_project(tmp_path / "my project")
    odd = ["-k", "a and not b", "it's", "*", "", '--x="$HOME"', "-", "--"]
    result = subprocess.run(
        ["sh", str(project / "run-tests"), *odd],
        cwd=tmp_path,
        env={**system, "RT16_EXIT": str(exit_status)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == exit_status, result.stderr
    assert stub_log(system) == [str(project), "-m", "pytest", *odd]


@pytest.mark.parametrize("script", ["run-tests", ".ci/run"])
def test_run_tests_runs_its_own_project_whatever_cdpath(
    tmp_path: Path, system: dict[str, str], script: str
) -> None:
    """An exported CDPATH must not send the script's `cd` into another project's venv."""
    work = tmp_path / "work"
    project = fake_project(work / "project")
    fake_project(tmp_path / "decoy" / "project")
    result = subprocess.run(
        ["sh", f"project/{script}", "-q"],
        cwd=work,
        env={**system, "CDPATH": str(tmp_path / "decoy")},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert stub_log(system)[0] == str(project), "pytest ran in another project"
