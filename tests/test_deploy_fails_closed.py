"""``deploy-config`` and ``--output`` fail closed (issue 19): they run nothing, bend nothing.

Every case goes through the real command line (``python -m flask_prodguard``),
and every file it writes is read by the program that reads it in production:
supervisor's own config parser (``ServerOptions``, in a subprocess: inline
comments, the ``%(here)s`` pre-pass, ``%`` expansion, shlex), ``systemd-analyze
verify``, ``nginx -t``, ``apache2 -t`` and ``gunicorn --print-config`` (which
loads the app the file names). A value comes back out of that reader as it was
given, or the command refuses it: exit status 2, nothing on standard output,
nothing written, and a message naming the option and what it takes.

- The app is never imported: a module that prints and calls ``app.run()`` at
  import is read from its source, for every target.
- ``--output DIR`` writes atomically, refuses symbolic links (the directory
  or the file, dangling or not), and replaces a file only with ``--force``,
  for ``deploy-config`` and ``alert-rules`` alike.
- A property test gives generated values (every character class, control
  characters, quotes, backslashes, ``%``, ``;``, ``#``, ``$``, line breaks,
  non-ASCII, undecodable bytes, long values) to every option for every
  target. It runs the command in-process (the click command the CLI runs) to
  stay within a few minutes; the readers are the real programs.
"""

from __future__ import annotations

import ast
import getpass
import ipaddress
import json
import os
import re
import shlex
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask_prodguard.tools.cli import prodguard
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from servers import APACHE_PROXY_MODULES
from servers import apache_argv
from servers import apache_conf
from servers import require_program
from servers import server_environ

PYTHON = sys.executable
VENV = Path(sys.executable).parent.parent
TIMEOUT = 60
#: The account supervisor's parser must find when it is not told otherwise.
USER = getpass.getuser()
SERVE_TAIL = ["prodguard", "serve", "--server", "gunicorn", "--bind"]

# -- the command line -----------------------------------------------------------------


def command(
    *args: str | bytes, cwd: Path, name: str = "deploy-config", **variables: str
) -> subprocess.CompletedProcess[str]:
    """``python -m flask_prodguard NAME ARGS`` run to its end in ``cwd``, output captured."""
    argv: list[str | bytes] = [PYTHON, "-m", "flask_prodguard", name, *args]
    return subprocess.run(
        argv,
        cwd=cwd,
        env=server_environ(PYTHONIOENCODING="utf-8", **variables),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=TIMEOUT,
    )


def deploy(*args: str | bytes, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m flask_prodguard deploy-config ARGS`` in ``cwd``."""
    return command(*args, cwd=cwd)


def assert_refused(result: subprocess.CompletedProcess[str], option: str, *said: str) -> None:
    """Exit 2, nothing printed, no traceback, and a message naming ``option`` and ``said``."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "", result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    # click quotes the option in its own checks ('--output'), not in ours.
    assert any(
        f"Invalid value for {quoted}" in result.stderr for quoted in (option, f"'{option}'")
    ), result.stderr
    for words in said:
        assert words in result.stderr, result.stderr


def listing(directory: Path) -> dict[str, str]:
    """Every entry of ``directory``, with what it is, links not followed."""
    kinds = {}
    for path in sorted(directory.iterdir()):
        mode = path.lstat().st_mode
        kinds[path.name] = (
            f"-> {os.readlink(path)}"
            if stat.S_ISLNK(mode)
            else "dir"
            if stat.S_ISDIR(mode)
            else path.read_text(errors="replace")
        )
    return kinds


# -- the readers ----------------------------------------------------------------------

#: Reads a supervisor program file with supervisor's own parser; prints what it runs.
#: ``user=`` is resolved to an account while parsing: the name read is recorded
#: and any name is taken, so that an account need not exist here.
SUPERVISOR_PARSE = """\
import json, os, sys
from supervisor import options as supervisor_options
from supervisor.options import ServerOptions
users = []
def name_to_uid(name):
    users.append(name)
    return os.getuid()
supervisor_options.name_to_uid = name_to_uid
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
    "name": process.name,
    "command": process.command,
    "directory": process.directory,
    "user": users[-1] if users else None,
    "environment": process.environment,
    "stdout_logfile": process.stdout_logfile,
    "stderr_logfile": process.stderr_logfile,
}))
"""


def supervisor_reads(text: str, where: Path) -> dict[str, Any]:
    """What supervisor makes of a program file (or ``{"error": ...}``)."""
    require_program("supervisord")
    folder = where / f"supervisor-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    program = folder / "program.conf"
    program.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [PYTHON, "-W", "ignore", "-c", SUPERVISOR_PARSE, str(folder / "sd.conf"), str(program)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def supervisor_argv(parsed: dict[str, Any]) -> list[str]:
    """supervisor's argv for the program: it splits ``command`` with shlex."""
    assert "error" not in parsed, parsed
    return shlex.split(parsed["command"])


def systemd_verify(text: str, where: Path, name: str = "pg19") -> list[str]:
    """``systemd-analyze verify`` on a unit: the lines it says about this unit."""
    analyze = require_program("systemd-analyze")
    units = where / f"units-{uuid.uuid4().hex[:8]}"
    units.mkdir(parents=True)
    unit = units / f"{name}.service"
    unit.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", "--man=no", "--generators=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]


def systemd_settings(text: str) -> dict[str, str]:
    """A unit's ``[Service]`` settings as systemd's file parser reads them: a line
    ending in a backslash goes on on the next one (the backslash read as a
    space), comments are skipped, blanks around the value dropped."""
    found: dict[str, str] = {}
    pending = ""
    for raw in text.split("\n"):
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        stripped = line.strip(" \t\r")
        if not stripped or stripped[0] in "#;" or stripped.startswith("["):
            continue
        key, _, value = stripped.partition("=")
        found[key.strip(" \t")] = value.strip(" \t")
    return found


def systemd_specifiers(value: str) -> str:
    """``value`` after systemd's specifier expansion, for text that uses none but ``%%``."""
    out, at = [], 0
    while at < len(value):
        if value[at] == "%":
            assert value[at + 1 : at + 2] == "%", f"a specifier in {value!r}"
            out.append("%")
            at += 2
        else:
            out.append(value[at])
            at += 1
    return "".join(out)


_C_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "s": " ",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


def systemd_words(value: str) -> list[str]:
    """An ``ExecStart=`` value split as systemd does: specifiers first, then
    words with quotes (anywhere in a word) and C escapes (``extract_first_word``
    with ``EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE``), then ``$$`` in the arguments;
    a variable (``${X}``, a whole-word ``$X``) fails the reading."""
    text = systemd_specifiers(value)
    words: list[str] = []
    at = 0
    while True:
        while at < len(text) and text[at] in " \t\n\r":
            at += 1
        if at >= len(text):
            break
        word: list[str] = []
        quote = None
        while at < len(text):
            char = text[at]
            if quote is None and char in " \t\n\r":
                break
            if char == "\\":
                at += 1
                escaped = text[at : at + 1]
                assert escaped in _C_ESCAPES, f"an escape systemd reads otherwise in {value!r}"
                word.append(_C_ESCAPES[escaped])
            elif quote is None and char in "\"'":
                quote = char
            elif char == quote:
                quote = None
            else:
                word.append(char)
            at += 1
        assert quote is None, f"an unterminated quote in {value!r}"
        words.append("".join(word))
    return [words[0], *(systemd_dollars(word) for word in words[1:])] if words else []


def systemd_dollars(word: str) -> str:
    """An argument after systemd's variable expansion, for text that uses none but ``$$``."""
    assert not (word.startswith("$") and word[1:2].isidentifier()), f"a variable: {word!r}"
    out, at = [], 0
    while at < len(word):
        if word[at] == "$" and word[at + 1 : at + 2] == "$":
            out.append("$")
            at += 2
            continue
        assert word[at : at + 2] != "${", f"a variable in {word!r}"
        out.append(word[at])
        at += 1
    return "".join(out)


def nginx_test(site: str, where: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a configuration that includes the generated server block."""
    nginx = require_program("nginx")
    prefix = where / f"nginx-{uuid.uuid4().hex[:8]}"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "site.conf").write_text(site, encoding="utf-8")
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


def apache_test(site: str, where: Path) -> subprocess.CompletedProcess[str]:
    """``apache2 -t`` on a minimal configuration that includes the generated host."""
    directory = where / f"apache-{uuid.uuid4().hex[:8]}"
    directory.mkdir(parents=True)
    (directory / "site.conf").write_text(site, encoding="utf-8")
    conf = apache_conf(directory, directory / "site.conf", APACHE_PROXY_MODULES)
    return subprocess.run(apache_argv(conf, "-t"), capture_output=True, text=True, timeout=60)


def directive(text: str, name: str) -> list[str] | None:
    """The words of the one directive ``name`` of an nginx or Apache file (no
    quotes are written in these), or ``None`` when there is none."""
    found = [
        line.strip().removesuffix(";").split()[1:]
        for line in text.split("\n")
        if line.strip().split()[:1] == [name]
    ]
    assert len(found) <= 1, found
    return found[0] if found else None


def gunicorn_reads(conf: str, where: Path, record: Path) -> dict[str, str]:
    """``gunicorn --print-config -c FILE``: gunicorn runs the file, loads the app it
    names (which records its factory's arguments in ``record``) and prints its
    settings. Exits non-zero, with gunicorn's message, when it refuses."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    path = where / f"gunicorn-{uuid.uuid4().hex[:8]}.conf.py"
    path.write_text(conf, encoding="utf-8")
    result = subprocess.run(
        [gunicorn, "--print-config", "-c", str(path)],
        cwd=where,
        env=server_environ(PG19_RECORD=str(record), PYTHONIOENCODING="utf-8", HOME=str(where)),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    printed = {}
    # Lines end at "\n" only: splitlines() would also cut at a U+2028 in a value.
    for line in result.stdout.split("\n"):
        key, sep, value = line.partition(" = ")
        if sep:
            printed[key.strip()] = value
    return printed


#: The app of the gunicorn cases: an app, and a factory that records its arguments.
RECORDING_APP = """\
import os

from flask import Flask

app = Flask("pg19")


def create_app(*args, **kwargs):
    with open(os.environ["PG19_RECORD"], "w", encoding="utf-8") as stream:
        stream.write(repr((args, kwargs)))
    return Flask("pg19-factory")
"""


def fake_venv(where: Path, name: str) -> Path:
    """A virtual environment directory called ``name`` whose bin/flask is executable."""
    venv = where / name
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    if not (venv / "bin" / "flask").exists():
        (venv / "bin" / "flask").symlink_to(VENV / "bin" / "flask")
    return venv


# -- 1. the app is never loaded -------------------------------------------------------

#: A module that shouts, leaves a mark, and would serve forever if imported.
LOUD_APP = """\
import os
import sys

from flask import Flask

print("PG19-LOUD on stdout")
print("PG19-LOUD on stderr", file=sys.stderr)
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imported"), "w").close()

app = Flask(__name__)
app.run(port=0)
"""

TARGETS = ["gunicorn", "supervisor", "systemd", "nginx", "apache"]


@pytest.mark.parametrize("output", [False, True])
@pytest.mark.parametrize("target", TARGETS)
def test_the_app_is_never_imported(tmp_path: Path, target: str, output: bool) -> None:
    """A module that prints and calls app.run() at import is never imported, nor shown."""
    (tmp_path / "loud.py").write_text(LOUD_APP)
    out = tmp_path / "deploy"
    args = ["--target", target, "--app", "loud:app", "--user", "www-data"]
    args += [
        "--directory",
        str(tmp_path),
        *(["--output", str(out), "--force"] if output else []),
    ]
    # The flask command's --app too: it must not load the app for this command.
    flask = str(Path(sys.executable).with_name("flask"))
    for argv in (
        [PYTHON, "-m", "flask_prodguard", "deploy-config", *args],
        [flask, "--app", "loud:app", "prodguard", "deploy-config", *args],
    ):
        result = subprocess.run(
            argv,
            cwd=tmp_path,
            env=server_environ(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert result.returncode == 0, result.stderr
        assert not (tmp_path / "imported").exists(), "deploy-config imported the app"
        written = "".join(p.read_text() for p in out.iterdir()) if output else result.stdout
        assert "PG19-LOUD" not in written + result.stdout + result.stderr
        if target == "gunicorn":
            assert 'wsgi_app = "loud:app"\n' in written


#: Module sources, and what gunicorn's wsgi_app is for ``--app MODULE:NAME`` (or the bare
#: module when NAME is empty).
READ_FORMS = {
    "factory": (
        "from flask import Flask\n\ndef create_app():\n    return Flask('x')\n",
        "create_app",
        "create_app()",
    ),
    "instance": ("from flask import Flask\n\napp = Flask('x')\n", "app", "app"),
    "alias-of-factory": (
        "from flask import Flask\n\ndef build():\n    return Flask('x')\n\nmake = build\n",
        "make",
        "make()",
    ),
    "lambda": ("from flask import Flask\n\nmake = lambda: Flask('x')\n", "make", "make()"),
    "instance-from-factory-call": (
        "from flask import Flask\n\ndef build():\n    return Flask('x')\n\nweb = build()\n",
        "web",
        "web",
    ),
    "imported-factory": ("from factories import create_app\n", "create_app", "create_app()"),
    "bare-module-app": ("from flask import Flask\n\napp = Flask('x')\n", "", "app"),
    "bare-module-only-app": ("from flask import Flask\n\nweb = Flask('x')\n", "", "web"),
    "bare-module-app-from-import": (
        "from factories import create_app\n\napplication = create_app()\n",
        "",
        "application",
    ),
    "bare-module-factory": (
        "from flask import Flask\n\ndef make_app():\n    return Flask('x')\n",
        "",
        "make_app()",
    ),
    "bare-module-app-via-helper": (
        "from factories import create_app\n\nsite = create_app()\n",
        "",
        "site",
    ),
}
FACTORIES = (
    "from flask import Flask\n\n\ndef create_app():\n    app = Flask('made')\n    return app\n"
)


@pytest.mark.parametrize("form", sorted(READ_FORMS))
def test_gunicorn_tells_factory_from_app_by_reading_the_source(
    tmp_path: Path, form: str
) -> None:
    """The gunicorn file calls a factory and not an app, as Flask would, from the source."""
    source, name, expected = READ_FORMS[form]
    (tmp_path / "target_app.py").write_text(source)
    (tmp_path / "factories.py").write_text(FACTORIES)
    app = f"target_app:{name}" if name else "target_app"
    result = deploy(
        "--target", "gunicorn", "--app", app, "--directory", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert f'wsgi_app = "target_app:{expected}"\n' in result.stdout
    # gunicorn loads the app the file names, as it would in production.
    printed = gunicorn_reads(result.stdout, tmp_path, tmp_path / "record")
    assert printed["wsgi_app"] == f"target_app:{expected}"


#: Sources whose top level does not say what the name is, and why not.
UNTOLD = {
    "decorated": (
        "import functools\n\n@functools.lru_cache\ndef create_app():\n    pass\n",
        "decorator",
    ),
    "bound-twice": ("def create_app():\n    pass\n\ncreate_app = 3\n", "something else"),
    "import-not-found": ("from elsewhere_pg19 import create_app\n", "not found"),
    "star-import": ("from os.path import *\n", "import *"),
    "unbound": ("x = 1\n", "binds no"),
    "syntax-error": ("def create_app(:\n", "cannot be parsed"),
    "newer-syntax": ("type Port = int\ndef create_app():\n    pass\n", "cannot be parsed"),
    "unpacked": ("create_app, other = 1, 2\n", "unpacking"),
    "getattr": ("def __getattr__(name):\n    return 1\n", "__getattr__"),
}


@pytest.mark.parametrize("case", sorted(UNTOLD))
def test_gunicorn_asks_when_the_source_cannot_tell(tmp_path: Path, case: str) -> None:
    """When only running the module would tell, exit 2 asking for --factory/--no-factory."""
    source, why = UNTOLD[case]
    (tmp_path / "untold.py").write_text(source)
    args = ["--target", "gunicorn", "--app", "untold:create_app", "--directory", str(tmp_path)]
    result = deploy(*args, cwd=tmp_path)
    assert_refused(result, "--app", "cannot tell", why, "--factory", "--no-factory")
    # Told, it writes the file.
    told = deploy(*args, "--factory", cwd=tmp_path)
    assert told.returncode == 0, told.stderr
    assert 'wsgi_app = "untold:create_app()"\n' in told.stdout
    told = deploy(*args, "--no-factory", cwd=tmp_path)
    assert told.returncode == 0, told.stderr
    assert 'wsgi_app = "untold:create_app"\n' in told.stdout


def test_gunicorn_refuses_a_module_it_cannot_find_or_read(tmp_path: Path) -> None:
    """No module, a FIFO or a link to /dev/zero as the module: exit 2, never a hang."""
    base = ["--target", "gunicorn", "--directory", str(tmp_path)]
    assert_refused(deploy(*base, "--app", "absent:app", cwd=tmp_path), "--app", "not found")
    assert_refused(deploy(*base, "--app", "absent", cwd=tmp_path), "--app", "not found")
    os.mkfifo(tmp_path / "fifo_app.py")
    result = deploy(*base, "--app", "fifo_app:app", cwd=tmp_path)
    assert_refused(result, "--app", "not a regular file")
    (tmp_path / "zero_app.py").symlink_to("/dev/zero")
    result = deploy(*base, "--app", "zero_app:app", cwd=tmp_path)
    assert_refused(result, "--app", "not a regular file")
    (tmp_path / "big_app.py").write_text("x = 1\n" * 1_000_000)
    assert_refused(deploy(*base, "--app", "big_app:app", cwd=tmp_path), "--app", "larger than")


def test_gunicorn_option_that_contradicts_the_source_is_refused(tmp_path: Path) -> None:
    """--no-factory for a def, --factory for an app, --no-factory for a written call: exit 2."""
    (tmp_path / "mod.py").write_text(READ_FORMS["factory"][0] + READ_FORMS["instance"][0])
    base = ["--target", "gunicorn", "--directory", str(tmp_path)]
    result = deploy(*base, "--app", "mod:create_app", "--no-factory", cwd=tmp_path)
    assert_refused(result, "--app", "is a function", "--no-factory")
    result = deploy(*base, "--app", "mod:app", "--factory", cwd=tmp_path)
    assert_refused(result, "--app", "is no function", "--factory")
    result = deploy(*base, "--app", "mod:create_app()", "--no-factory", cwd=tmp_path)
    assert_refused(result, "--app", "writes a call")
    result = deploy(*base, "--app", "mod", "--factory", cwd=tmp_path)
    assert_refused(result, "--app", "say what the name after the colon is")
    # The option is gunicorn's: another target says so rather than ignore it.
    result = deploy("--target", "systemd", "--app", "mod:app", "--factory", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--target gunicorn only" in result.stderr


def test_gunicorn_names_the_apps_of_a_module_with_several(tmp_path: Path) -> None:
    """Two Flask apps and no name: exit 2 naming them, as flask does."""
    (tmp_path / "two.py").write_text(
        FACTORIES + "\nfirst = create_app()\nsecond = create_app()\n"
    )
    result = deploy(
        "--target", "gunicorn", "--app", "two", "--directory", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert "several Flask apps (first, second)" in result.stderr
    assert result.stdout == ""


# -- 2. --output: atomic, no links, the same --force rule -----------------------------

#: Each command with --output, and the files it writes there.
WRITERS = {
    "deploy-config": (
        ["--target", "systemd", "--app", "shop:app", "--name", "pg19", "--directory", "/srv/x"],
        ["pg19.service"],
    ),
    "alert-rules": (
        ["--target", "prometheus"],
        ["prodguard.mtail", "prodguard.rules.yml", "prodguard.rules.test.yml"],
    ),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_output_replaces_an_existing_file_only_with_force(tmp_path: Path, name: str) -> None:
    """Without --force: exit 2 naming the file, and none of the files written."""
    args, files = WRITERS[name]
    out = tmp_path / "out"
    out.mkdir()
    (out / files[-1]).write_text("hand-edited\n")
    (out / files[-1]).chmod(0o640)
    result = command(*args, "--output", str(out), cwd=tmp_path, name=name)
    assert_refused(result, "--output", str(out / files[-1]), "--force")
    assert listing(out) == {files[-1]: "hand-edited\n"}
    inode = (out / files[-1]).stat().st_ino
    result = command(*args, "--output", str(out), "--force", cwd=tmp_path, name=name)
    assert result.returncode == 0, result.stderr
    assert sorted(listing(out)) == sorted(files), "a temporary file was left behind"
    replaced = out / files[-1]
    assert replaced.read_text() != "hand-edited\n"
    # Replaced by a rename (readers see the old or the new file), keeping its mode.
    assert replaced.stat().st_ino != inode
    assert stat.S_IMODE(replaced.stat().st_mode) == 0o640


@pytest.mark.parametrize("dangling", [True, False])
@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("name", sorted(WRITERS))
def test_output_never_writes_through_a_link_to_a_file(
    tmp_path: Path, name: str, force: bool, dangling: bool
) -> None:
    """A file in DIR that is a symbolic link: refused, the link and its target untouched."""
    args, files = WRITERS[name]
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim"
    if not dangling:
        victim.write_text("precious\n")
    (out / files[0]).symlink_to(victim)
    result = command(
        *args, "--output", str(out), *(["--force"] if force else []), cwd=tmp_path, name=name
    )
    assert_refused(result, "--output", str(out / files[0]), "symbolic link")
    assert listing(out) == {files[0]: f"-> {victim}"}
    assert (victim.read_text() if victim.exists() else None) == (
        None if dangling else "precious\n"
    )


@pytest.mark.parametrize("dangling", [True, False])
@pytest.mark.parametrize("name", sorted(WRITERS))
def test_output_directory_that_is_a_link_is_refused(
    tmp_path: Path, name: str, dangling: bool
) -> None:
    """--output LINK (dangling or to a directory), with or without a slash: refused, exit 2."""
    args, _ = WRITERS[name]
    elsewhere = tmp_path / "elsewhere"
    if not dangling:
        elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    for spelled in ("out", "out/", str(tmp_path / "out")):
        result = command(*args, "--output", spelled, "--force", cwd=tmp_path, name=name)
        assert_refused(result, "--output", "is a symbolic link")
    assert not elsewhere.exists() or list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_output_that_is_a_file_is_refused(tmp_path: Path, name: str) -> None:
    """--output naming a regular file: exit 2, the file untouched."""
    args, _ = WRITERS[name]
    (tmp_path / "out").write_text("a file\n")
    result = command(*args, "--output", "out", cwd=tmp_path, name=name)
    assert_refused(result, "--output", "is a file")
    assert (tmp_path / "out").read_text() == "a file\n"


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_output_creates_the_directory_and_writes_every_file(tmp_path: Path, name: str) -> None:
    """A missing DIR is created, parents too, and holds the files and nothing else."""
    args, files = WRITERS[name]
    out = tmp_path / "a" / "b"
    result = command(*args, "--output", str(out), cwd=tmp_path, name=name)
    assert result.returncode == 0, result.stderr
    assert sorted(listing(out)) == sorted(files)


@pytest.mark.parametrize("force", [False, True])
def test_value_refused_after_output_leaves_the_old_file(tmp_path: Path, force: bool) -> None:
    """A directory of bytes that are no UTF-8: exit 2, no traceback, the old file as it was."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "pg19.service").write_text("precious\n")
    args = ["--target", "systemd", "--app", "shop:app", "--name", "pg19", "--output", str(out)]
    result = deploy(
        *args, *(["--force"] if force else []), b"--directory", b"/srv/caf\xe9", cwd=tmp_path
    )
    assert_refused(result, "--directory", "UTF-8")
    assert listing(out) == {"pg19.service": "precious\n"}


# -- 3. values that would break the file or the service -------------------------------

#: (target, arguments, the option the message names, words it says).
REFUSED = {
    "listen-0": ("nginx", ["--listen", "0"], "--listen", "1 to 65535"),
    "listen-65536": ("nginx", ["--listen", "65536"], "--listen", "1 to 65535"),
    "listen-99999": ("nginx", ["--listen", "99999"], "--listen", "1 to 65535"),
    "listen-address-99999": (
        "nginx",
        ["--listen", "127.0.0.1:99999"],
        "--listen",
        "1 to 65535",
    ),
    "listen-bare-ipv6": ("nginx", ["--listen", "::8000"], "--listen", "ADDRESS:PORT"),
    "bind-bare-ipv6": ("nginx", ["--bind", "::8000"], "--bind", "IPv6"),
    "server-name-regex": (
        "nginx",
        ["--server-name", "~"],
        "--server-name",
        "regular expression",
    ),
    "server-name-broken-regex": (
        "nginx",
        ["--server-name", "example.com ~["],
        "--server-name",
        "regular expression",
    ),
    "server-name-anchored": (
        "nginx",
        ["--server-name", "^www$"],
        "--server-name",
        "regular expression",
    ),
    "server-name-variable": (
        "nginx",
        ["--server-name", "$hostname"],
        "--server-name",
        "variable",
    ),
    "server-name-port": (
        "nginx",
        ["--server-name", "example.com:8080"],
        "--server-name",
        "without its port",
    ),
    "server-name-inner-star": (
        "nginx",
        ["--server-name", "*a.example.com"],
        "--server-name",
        "whole first or last label",
    ),
    "server-name-star": (
        "nginx",
        ["--server-name", "*"],
        "--server-name",
        "whole first or last label",
    ),
    "server-name-dot": ("nginx", ["--server-name", "."], "--server-name", "empty label"),
    "server-name-long-label": (
        "nginx",
        ["--server-name", "a" * 64 + ".com"],
        "--server-name",
        "63",
    ),
    "server-name-bad-brackets": (
        "nginx",
        ["--server-name", "[example]"],
        "--server-name",
        "IPv6",
    ),
    "server-name-apache-regex": (
        "apache",
        ["--server-name", "~^a$"],
        "--server-name",
        "regular expression",
    ),
    "systemd-directory-backslash": (
        "systemd",
        ["--directory", "/srv/shop\\"],
        "--directory",
        "line continuation",
    ),
    "systemd-directory-inner-backslash": (
        "systemd",
        ["--directory", "/srv/a\\nb"],
        "--directory",
        "backslash",
    ),
    "systemd-directory-blank-end": (
        "systemd",
        ["--directory", "/srv/shop "],
        "--directory",
        "blanks at the end",
    ),
    "systemd-venv-quote": ("systemd", ["--venv", "/srv/it's"], "--venv", "quote"),
    "systemd-venv-backslash": ("systemd", ["--venv", "/srv/a\\b"], "--venv", "backslash"),
    "systemd-user-65535": ("systemd", ["--user", "65535"], "--user", "not 65535"),
    "systemd-user-uint32-max": ("systemd", ["--user", "4294967295"], "--user", "4294967294"),
    "systemd-user-huge": ("systemd", ["--user", "99999999999"], "--user", "4294967294"),
    "systemd-user-leading-zero": ("systemd", ["--user", "007"], "--user", "leading zeros"),
    "supervisor-user-65535": ("supervisor", ["--user", "65535"], "--user", "not 65535"),
    "supervisor-directory-semicolon": (
        "supervisor",
        ["--directory", "/srv/a ;b"],
        "--directory",
        "comment",
    ),
    "supervisor-directory-hash": (
        "supervisor",
        ["--directory", "/srv/a #b"],
        "--directory",
        "comment",
    ),
    "supervisor-directory-unicode-blank": (
        "supervisor",
        ["--directory", "/srv/a\u3000;b"],
        "--directory",
        "comment",
    ),
    "supervisor-directory-blank-end": (
        "supervisor",
        ["--directory", "/srv/shop "],
        "--directory",
        "end of a value",
    ),
    "supervisor-directory-nbsp-end": (
        "supervisor",
        ["--directory", "/srv/shop\u00a0"],
        "--directory",
        "end of a value",
    ),
    "supervisor-directory-here": (
        "supervisor",
        ["--directory", "/srv/%(here)s"],
        "--directory",
        "%(here)s",
    ),
    "supervisor-log-dir-semicolon": (
        "supervisor",
        ["--log-dir", "/var/log/a ;b"],
        "--log-dir",
        "comment",
    ),
    "supervisor-log-dir-hash": (
        "supervisor",
        ["--log-dir", "/var/log/a #b"],
        "--log-dir",
        "comment",
    ),
    "supervisor-log-dir-here": (
        "supervisor",
        ["--log-dir", "/var/log/%(here)s"],
        "--log-dir",
        "%(here)s",
    ),
    "supervisor-log-dir-percent": (
        "supervisor",
        ["--log-dir", "/var/log/100%"],
        "--log-dir",
        "expands %",
    ),
    "gunicorn-directory-blank-end": (
        "gunicorn",
        ["--directory", "/srv/shop ", "--no-factory"],
        "--directory",
        "strips",
    ),
    "empty-name": ("systemd", ["--name", ""], "--name", "is empty"),
    "empty-directory": ("systemd", ["--directory", ""], "--directory", "is empty"),
    "empty-venv": ("supervisor", ["--venv", ""], "--venv", "is empty"),
}
#: The root account by default: refused for the targets that run the app as --user.
ROOT_BY_DEFAULT = {
    "app-root": ["--app", "root:app"],
    "name-root": ["--app", "shop:app", "--name", "root"],
    "name-uid-0": ["--app", "shop:app", "--name", "0"],
    "name-uid-1000": ["--app", "shop:app", "--name", "1000"],
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_value_the_target_cannot_hold_is_refused(tmp_path: Path, case: str) -> None:
    """A value the target's reader would cut, expand, reread or refuse: exit 2, named."""
    target, args, option, said = REFUSED[case]
    base = ["--target", target, "--user", "www-data", "--venv", "/srv/venv"]
    if target not in ("nginx", "apache"):
        base += ["--app", "shop:app", "--directory", "/srv/shop"]
    # The options last: given twice, click takes the last.
    result = deploy(*base, *args, "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert_refused(result, option, said)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target", ["supervisor", "systemd"])
@pytest.mark.parametrize("case", sorted(ROOT_BY_DEFAULT))
def test_root_is_never_the_user_by_default(tmp_path: Path, case: str, target: str) -> None:
    """--app root:... (or --name root, 0) would run as root unsaid: exit 2, --user asked."""
    result = deploy("--target", target, *ROOT_BY_DEFAULT[case], cwd=tmp_path)
    assert_refused(result, "--user", "--user defaults to the --name", "Give the account")
    # Said explicitly, it is the operator's choice, and the unit says so.
    said = deploy("--target", target, *ROOT_BY_DEFAULT[case], "--user", "root", cwd=tmp_path)
    assert said.returncode == 0, said.stderr
    assert ("User=root\n" if target == "systemd" else "user=root\n") in said.stdout


@pytest.mark.parametrize("option", ["--directory", "--venv", "--log-dir"])
@pytest.mark.parametrize("target", ["supervisor", "systemd", "gunicorn"])
def test_path_that_is_not_utf8_is_refused(tmp_path: Path, target: str, option: str) -> None:
    """A path of bytes that are no UTF-8 (as a file system may hold): exit 2, no traceback."""
    args = (
        ["--target", target, "--app", "shop:app", "--no-factory"]
        if target == "gunicorn"
        else ["--target", target, "--app", "shop:app"]
    )
    result = deploy(*args, option.encode(), b"/srv/caf\xe9/x", cwd=tmp_path)
    assert_refused(result, option, "UTF-8")


def test_working_directory_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """Run from a directory whose name is no UTF-8, without --directory: exit 2 naming it."""
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    odd.mkdir()
    result = deploy("--target", "systemd", "--app", "shop:app", cwd=odd)
    assert_refused(result, "--directory", "UTF-8", "Give --directory")


# -- what is taken, and comes back out of the reader as given -------------------------


@pytest.mark.parametrize(
    "odd",
    ["a ;b", "a #b", "a\u3000#b", "%(here)s", "100%", "%(x)s", "a;b#c", "it's", 'say "hi"'],
)
def test_supervisor_command_words_reach_the_argv_whole(tmp_path: Path, odd: str) -> None:
    """A factory literal or venv with " ;", " #" or %(here)s comes out of supervisor whole."""
    app = f"shop:create_app({odd!r})"
    venv = fake_venv(tmp_path / "venvs", odd.replace('"', "q"))
    args = ["--target", "supervisor", "--user", USER, "--log-dir", str(tmp_path)]
    result = deploy(
        *args, "--app", app, "--venv", str(venv), "--directory", "/srv/x", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    parsed = supervisor_reads(result.stdout, tmp_path)
    assert supervisor_argv(parsed) == [
        str(venv / "bin" / "flask"), "--app", app, *SERVE_TAIL, "127.0.0.1:8000",
    ]  # fmt: skip
    assert parsed["directory"] == "/srv/x"
    assert parsed["user"] == USER


@pytest.mark.parametrize(
    "odd", ["a$b", "a$$b", "${HOME}", "a%b", "%n", "a;b", "caf\u00e9", "a b"]
)
def test_systemd_executable_with_special_characters_runs(tmp_path: Path, odd: str) -> None:
    """A venv with $, %, ; or spaces: systemd finds the executable and reads the argv back."""
    venv = fake_venv(tmp_path / "venvs", odd)
    app = f"shop:create_app({odd!r})"
    args = ["--target", "systemd", "--app", app, "--name", "pg19", "--user", "www-data"]
    result = deploy(*args, "--directory", f"/srv/{odd}", "--venv", str(venv), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # verify looks the executable up: a name systemd read otherwise is "not executable".
    assert systemd_verify(result.stdout, tmp_path) == []
    unit = systemd_settings(result.stdout)
    assert systemd_words(unit["ExecStart"]) == [
        str(venv / "bin" / "flask"), "--app", app, *SERVE_TAIL, "127.0.0.1:8000",
    ]  # fmt: skip
    assert systemd_specifiers(unit["WorkingDirectory"]) == f"/srv/{odd}"


def test_nginx_takes_the_server_names_it_matches_as_given(tmp_path: Path) -> None:
    """Wildcards, .example.com, an IPv6 literal, _ and a bare IPv6 --bind: nginx -t accepts."""
    names = "example.com *.example.com www.example.* .example.org [::1] 192.0.2.1 _"
    args = ["--target", "nginx", "--server-name", names, "--bind", "::1:8000"]
    result = deploy(*args, "--listen", "[::1]:8080", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    checked = nginx_test(result.stdout, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "[warn]" not in checked.stderr, checked.stderr
    assert directive(result.stdout, "server_name") == names.split(" ")
    assert directive(result.stdout, "listen") == ["[::1]:8080"]
    assert directive(result.stdout, "proxy_pass") == ["http://[::1]:8000"]


# -- 4. warnings ----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["/tmp/pg19-venv", "/var/tmp/pg19-venv", "/srv/pg19-venv"])
def test_systemd_warns_when_private_tmp_hides_the_venv(tmp_path: Path, where: str) -> None:
    """A venv under /tmp or /var/tmp, hidden by PrivateTmp=yes: a warning, exit 0, the unit."""
    args = ["--target", "systemd", "--app", "shop:app", "--directory", "/srv/shop"]
    result = deploy(*args, "--venv", where, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "PrivateTmp=yes\n" in result.stdout
    hidden = where != "/srv/pg19-venv"
    said = f"Warning: the virtual environment {where} is under a temporary directory"
    assert (said in result.stderr) == hidden, result.stderr
    if not hidden:
        assert result.stderr == ""
    # The supervisor file has no PrivateTmp: no warning.
    supervisor = deploy("--target", "supervisor", "--app", "shop:app", "--user", "www-data",
                        "--directory", "/srv/shop", "--venv", where, cwd=tmp_path)  # fmt: skip
    assert supervisor.returncode == 0, supervisor.stderr
    assert supervisor.stderr == ""


def test_systemd_warns_when_private_tmp_hides_the_app_file(tmp_path: Path) -> None:
    """--app /tmp/.../app.py run from --directory /srv: the app file is hidden, a warning."""
    (tmp_path / "pg19app.py").write_text("from flask import Flask\napp = Flask('x')\n")
    args = ["--target", "systemd", "--app", f"{tmp_path}/pg19app.py:app", "--venv", "/srv/v"]
    result = deploy(*args, "--directory", "/srv/shop", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        f"Warning: the app {tmp_path}/pg19app.py is under a temporary directory"
        in result.stderr
    )


# -- 5. the property: every value is refused, or read back as given -------------------

#: Characters that mean something to one reader or another (quotes, escapes,
#: comments, specifiers, variables, line breaks, blanks Unicode counts), and
#: some that mean nothing.
_SPECIAL = (
    " \t\\\"'%;#$~^*[]:(){}<>|&!?=,@+-_./`\n\r\x00\x01\x0b\x0c\x1b\x7f\x85\xa0"
    "\u2028\u2029\u3000\u202e\ufeff\u00e9\u20ac\U0001f600"
)
#: Bytes no UTF-8 holds, as ``os.fsdecode`` keeps them in a str.
_UNDECODABLE = "\udce9\udcff\udc80"
_CHARS = st.one_of(
    st.sampled_from(_SPECIAL + _UNDECODABLE),
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    st.characters(),
)
_TEXT = st.one_of(
    st.text(_CHARS, max_size=24),
    st.text(_CHARS, min_size=100, max_size=400),
    st.builds(lambda unit, times: unit * times, st.sampled_from(["a", "\u00e9", "%"]),
              st.integers(100, 3000)),
    # Long paths, near Linux's limits (a name of 255 bytes, a path of 4095),
    # in few directories: a tree thousands deep would outlive pytest's cleanup.
    st.lists(st.text("ab\u00e9", min_size=120, max_size=300), min_size=1, max_size=18)
    .map("/".join),
)  # fmt: skip
#: Path parts a directory may well have: every character a reader reads
#: specially but line breaks, quotes and controls, which are refused anyway.
_PATH_PART = st.text(
    st.one_of(
        st.sampled_from(" ;#%$'\\()[]{},=@+~*!&|<>?`^\u3000\u00a0\u2028\u00e9\U0001f600"),
        st.sampled_from("abcXYZ019._-"),
    ),
    min_size=1,
    max_size=12,
)
_PATH = st.one_of(_TEXT, st.lists(_PATH_PART, min_size=1, max_size=4).map("/".join))
#: Literal arguments of a factory call, as flask --app takes them.
_LITERAL = st.recursive(
    st.one_of(st.text(_CHARS, max_size=20), st.integers(), st.binary(max_size=8), st.none()),
    lambda inner: st.lists(inner, max_size=3).map(tuple),
    max_leaves=4,
)
_CALL = st.builds(
    lambda args, kwargs: (
        "pg19app:create_app("
        + ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        + ")"
    ),
    st.lists(_LITERAL, max_size=3),
    st.dictionaries(
        st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), _LITERAL, max_size=2
    ),
)
_LABEL = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
_HOST_NAME = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)
_HOST = st.one_of(
    _TEXT,
    _HOST_NAME,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
    st.sampled_from(["localhost", "0.0.0.0", "[::]", "[::1]", "::1"]),
)
_PORT = st.one_of(st.integers(1, 65535).map(str), st.integers(-1, 70000).map(str), _TEXT)
_NUMBER = st.one_of(st.integers(-3, 10**20).map(str), _TEXT)
_SERVER_NAMES = st.lists(
    st.one_of(
        _HOST_NAME,
        _HOST_NAME.map(lambda name: f"*.{name}"),
        _HOST_NAME.map(lambda name: f"{name}.*"),
        _HOST_NAME.map(lambda name: f".{name}"),
        st.sampled_from(["_", "~^a$", "$hostname", "a:80", "[::1]", "*"]),
    ),
    min_size=1,
    max_size=4,
).map(" ".join)
#: What each option is given: anything, and values of its own form (so that
#: the values a reader must take back unchanged come up often).
OPTION_VALUES: dict[str, st.SearchStrategy[str]] = {
    "--app": st.one_of(
        _TEXT,
        _CALL,
        _TEXT.map(lambda text: f"pg19app:{text}"),
        _PATH.map(lambda path: f"{path}.py:create_app()"),
    ),
    "--name": st.one_of(
        _TEXT, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,70}", fullmatch=True)
    ),
    "--bind": st.one_of(_TEXT, st.builds(lambda host, port: f"{host}:{port}", _HOST, _PORT)),
    "--workers": _NUMBER,
    "--threads": _NUMBER,
    "--server-name": st.one_of(_TEXT, _SERVER_NAMES, _HOST_NAME),
    "--listen": st.one_of(_PORT, st.builds(lambda host, port: f"{host}:{port}", _HOST, _PORT)),
    "--user": st.one_of(
        _TEXT,
        st.integers(0, 2**33).map(str),
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,35}", fullmatch=True),
    ),
    # The paths: a part under the example's own directory (made absolute below).
    "--directory": _PATH,
    "--venv": _PATH,
    "--log-dir": _PATH,
}
PATH_OPTIONS = ("--directory", "--venv", "--log-dir")
#: The options each target's file says something of: drawn more often.
WRITTEN_BY = {
    "gunicorn": ["--app", "--bind", "--directory", "--name", "--threads", "--workers"],
    "supervisor": ["--app", "--bind", "--directory", "--log-dir", "--name", "--user", "--venv"],
    "systemd": ["--app", "--bind", "--directory", "--name", "--user", "--venv"],
    "nginx": ["--bind", "--listen", "--name", "--server-name"],
    "apache": ["--bind", "--listen", "--name", "--server-name"],
}
#: Options whose value another option's message may be about: --app gives the
#: default --name, which gives the default --user.
DERIVED = {"--app": ("--app", "--name", "--user"), "--name": ("--name", "--user")}

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    # One check function for every target: a failure saved for one would be
    # replayed for another. A failure prints its example (and its blob in CI).
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's directory (with pg19app.py), a venv, a log directory; shared by examples."""
    root = tmp_path_factory.mktemp("pg19")
    (root / "srv").mkdir()
    (root / "srv" / "pg19app.py").write_text(RECORDING_APP)
    fake_venv(root, "venv")
    (root / "logs").mkdir()
    return root


def _prepare(option: str, path: str, target: str) -> bool:
    """Make ``path`` exist as what ``option`` names (the readers look); whether it could."""
    try:
        folder = Path(path)
        if option == "--venv":
            fake_venv(folder.parent, folder.name)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            if option == "--directory" and target == "gunicorn":
                (folder / "pg19app.py").write_text(RECORDING_APP)
    except (OSError, ValueError, UnicodeError):
        return False
    return True


def _split_app(value: str) -> tuple[str, str | None]:
    """``--app`` as flask splits it: at the first colon that starts no Windows path."""
    start = 0
    while (colon := value.find(":", start)) >= 0:
        if value[colon + 1 : colon + 2] not in ("/", "\\"):
            return value[:colon], value[colon + 1 :]
        start = colon + 1
    return value, None


def _app_as_written(value: str, directory: str) -> str:
    """``--app`` as the service files must run it: a path made absolute, as flask takes it."""
    import unicodedata

    module, name = _split_app(value)
    if not ("/" in module or "\\" in module or module.endswith(".py") or module in (".", "..")):
        return value
    joined = os.path.join(directory, module)
    path = os.path.realpath(joined) if ".." in Path(module).parts else os.path.normpath(joined)
    if name is None:
        return path
    head, paren, rest = name.partition("(")
    return f"{path}:{unicodedata.normalize('NFKC', head)}{paren}{rest}"


def _bind_parts(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _only_unresolved(output: str, hosts: list[str]) -> bool:
    """Whether a refusal is only about this machine, not the file: a host name that
    does not resolve here, or an address or port it cannot listen on (nginx -t
    binds as root). The server's DNS and addresses decide those."""
    errors = [line for line in output.splitlines() if "[emerg]" in line or "AH00" in line]
    names = [host for host in hosts if host and not _is_address(host)]
    return bool(errors) and all(
        (("host not found" in line or "resolve" in line) and any(n in line for n in names))
        or ("bind() to" in line and ("(98:" in line or "(99:" in line))
        for line in errors
    )


def _only_unresolved_by_apache(output: str, host: str) -> bool:
    """Whether ``apache2 -t`` refused only because ``Listen``'s host name does not
    resolve here (AH00077, then AH00526 "Listen setup failed")."""
    codes = set(re.findall(r"AH\d{5}", output))
    return (
        bool(host)
        and not _is_address(host)
        and codes == {"AH00077", "AH00526"}
        and f"failed to set up sockaddr for {host}" in output
        and "Listen setup failed" in output
    )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _check_property(target: str, workspace: Path, option: str, value: str) -> None:
    """Run deploy-config with ``option value``: refused and said, or read back as given."""
    example = workspace / "examples" / uuid.uuid4().hex[:10]
    expected = {
        "--app": "pg19app:app",
        "--name": "pg19",
        "--bind": "127.0.0.1:8000",
        "--workers": "2",
        "--threads": "3",
        "--server-name": "example.com",
        "--listen": "8080",
        "--user": USER,
        "--directory": str(workspace / "srv"),
        "--venv": str(workspace / "venv"),
        "--log-dir": str(workspace / "logs"),
    }
    prepared = True
    if option == "--app":
        # Its own directory: the modules a value names are made there, and
        # pg19app has every name (a call written out is not read).
        expected["--directory"] = str(example / "srv")
        (example / "srv").mkdir(parents=True)
        (example / "srv" / "pg19app.py").write_text(ANY_NAME_APP)
    if option in PATH_OPTIONS:
        given = f"{example}/{value}"
        normal = os.path.normpath(given)
        assume(normal.startswith(f"{example}/"))  # ".." out of the example: not made here
        # Not a tree deeper than pytest's cleanup (shutil.rmtree recurses) can remove.
        assume(normal.count("/") - str(example).count("/") <= 64)
        prepared = _prepare(option, normal, target)
        expected[option] = normal
    else:
        given = value
        expected[option] = value
    args = [part for key, default in expected.items() for part in (key, default)]
    args += [option, given]  # given twice: click takes the last
    result = CliRunner().invoke(prodguard, ["deploy-config", "--target", target, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    # --hypothesis-show-statistics: how many of each option were read back.
    event(f"{option}: {'refused' if result.exit_code == 2 else 'read back'}")
    if result.exit_code == 2:
        assert result.stdout == "", result.stdout
        named = DERIVED.get(option, (option,))
        assert any(name in result.stderr for name in named), result.stderr
        assert "Error:" in result.stderr, result.stderr
        return
    assert result.exit_code == 0, (result.exit_code, result.output)
    assert prepared, f"{option} {given!r} was taken, but no file system holds it"
    text = result.stdout
    READERS[target](text, example, expected)


def _serve_argv(expected: dict[str, str], directory: str) -> list[str]:
    host, port = _bind_parts(expected["--bind"])
    return [
        f"{expected['--venv']}/bin/flask",
        "--app", _app_as_written(expected["--app"], directory),
        *SERVE_TAIL, _host_port(host, port), "--workers", str(int(expected["--workers"])),
        "--threads", str(int(expected["--threads"])),
    ]  # fmt: skip


def _read_supervisor(text: str, example: Path, expected: dict[str, str]) -> None:
    parsed = supervisor_reads(text, example)
    assert "error" not in parsed, parsed
    directory = expected["--directory"]
    assert parsed["directory"] == directory
    assert supervisor_argv(parsed) == _serve_argv(expected, directory)
    assert parsed["user"] == expected["--user"]
    assert parsed["name"] == expected["--name"]
    log = f"{expected['--log-dir']}/{expected['--name']}"
    assert (parsed["stdout_logfile"], parsed["stderr_logfile"]) == (
        f"{log}.out.log",
        f"{log}.err.log",
    )


def _read_systemd(text: str, example: Path, expected: dict[str, str]) -> None:
    assert systemd_verify(text, example) == []
    unit = systemd_settings(text)
    directory = expected["--directory"]
    assert systemd_specifiers(unit["WorkingDirectory"]) == directory
    assert systemd_words(unit["ExecStart"]) == _serve_argv(expected, directory)
    assert unit["User"] == expected["--user"]
    assert unit["SyslogIdentifier"] == expected["--name"]


#: A module that has every name: a factory that records its arguments.
ANY_NAME_APP = RECORDING_APP + "\n\ndef __getattr__(name):\n    return create_app\n"


def _conf_value(text: str, key: str) -> Any:
    """The value of ``key = "..."`` in a generated gunicorn file (a JSON string)."""
    for line in text.split("\n"):
        if line.startswith(f"{key} = "):
            return json.loads(line.partition(" = ")[2])
    return None


def _read_gunicorn(text: str, example: Path, expected: dict[str, str]) -> None:
    example.mkdir(parents=True, exist_ok=True)
    record = example / "record"
    module = str(_conf_value(text, "wsgi_app")).partition(":")[0]
    if module != "pg19app":
        # A call written out in --app is not read: the module the file names
        # is put where gunicorn imports it from, with every name a factory.
        base = Path(_conf_value(text, "pythonpath") or _conf_value(text, "chdir"))
        assume(base == example or example in base.parents)
        *packages, last = module.split(".")
        for depth in range(len(packages)):
            package = base.joinpath(*packages[: depth + 1])
            package.mkdir(parents=True, exist_ok=True)
            (package / "__init__.py").write_text("")
        base.joinpath(*packages).mkdir(parents=True, exist_ok=True)
        base.joinpath(*packages, f"{last}.py").write_text(ANY_NAME_APP)
    printed = gunicorn_reads(text, example, record)
    directory = expected["--directory"]
    assert printed["chdir"] == directory
    host, port = _bind_parts(expected["--bind"])
    assert printed["bind"] == repr([_host_port(host, port)])
    assert printed["workers"] == str(int(expected["--workers"]))
    assert printed["threads"] == str(int(expected["--threads"]))
    name = _split_app(expected["--app"])[1] or ""
    if "(" in name:
        # gunicorn called the factory with the arguments Flask reads in --app.
        call = ast.parse(name.strip(), mode="eval").body
        assert isinstance(call, ast.Call)
        args = tuple(ast.literal_eval(a) for a in call.args)
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        assert record.read_text(encoding="utf-8") == repr((args, kwargs))


def _read_nginx(text: str, example: Path, expected: dict[str, str]) -> None:
    checked = nginx_test(text, example)
    host = _bind_parts(expected["--bind"])[0]
    listen_host = expected["--listen"].rpartition(":")[0]
    if checked.returncode != 0:
        assert _only_unresolved(checked.stderr, [host, listen_host]), checked.stderr
    assert "[warn]" not in checked.stderr, checked.stderr
    assert directive(text, "server_name") == expected["--server-name"].split(" ")
    assert directive(text, "listen") == [expected["--listen"]]


def _read_apache(text: str, example: Path, expected: dict[str, str]) -> None:
    require_program("apache2")
    checked = apache_test(text, example)
    output = checked.stdout + checked.stderr
    listen_host = expected["--listen"].rpartition(":")[0]
    if checked.returncode != 0:
        assert _only_unresolved_by_apache(output, listen_host), output
    names = [*(directive(text, "ServerName") or []), *(directive(text, "ServerAlias") or [])]
    given = expected["--server-name"]
    assert sorted(names) == sorted([] if given == "_" else given.split(" "))
    address, _, port = expected["--listen"].rpartition(":")
    assert directive(text, "Listen") == ([expected["--listen"]] if address else None)
    assert f"<VirtualHost {address or '*'}:{port}>" in text.split("\n")


READERS = {
    "gunicorn": _read_gunicorn,
    "supervisor": _read_supervisor,
    "systemd": _read_systemd,
    "nginx": _read_nginx,
    "apache": _read_apache,
}


@pytest.mark.parametrize("target", TARGETS)
def test_every_option_value_is_refused_or_read_back_unchanged(
    workspace: Path, target: str
) -> None:
    """Generated values for every option: exit 2 naming it, or the target reads them back."""
    # gunicorn is a test requirement, in the venv; the others are programs.
    program = {"supervisor": "supervisord", "systemd": "systemd-analyze", "nginx": "nginx"}
    if target in program or target == "apache":
        require_program(program.get(target, "apache2"))

    options = st.one_of(
        st.sampled_from(WRITTEN_BY[target]), st.sampled_from(sorted(OPTION_VALUES))
    )

    @PROPERTY
    @given(option=options, data=st.data())
    def check(option: str, data: st.DataObject) -> None:
        value = data.draw(OPTION_VALUES[option], label=option)
        _check_property(target, workspace, option, value)

    check()
