"""Generated deployment files: gunicorn, supervisor, systemd, nginx, Apache.

``flask prodguard deploy-config --target TARGET`` (declared in
:mod:`flask_prodguard.tools.cli` with the other commands) prints one file (or
writes it into ``--output DIR``) that runs the app the way ``flask prodguard
serve`` does, so the safe defaults travel into production:

- ``gunicorn``: a ``gunicorn.conf.py`` that takes its settings from
  :func:`flask_prodguard.tools.serving.gunicorn_options` when gunicorn starts: no
  reloader, gunicorn's own proxy trust off (``forwarded_allow_ips = ""``; the
  guard's ProxyFix is the only place ``X-Forwarded-*`` is believed), the
  server's logs as JSON lines, no control socket;
- ``supervisor``: a ``[program:NAME]`` section running ``flask prodguard
  serve``, restarted when it dies, stopped with SIGTERM and a grace period;
- ``systemd``: a service unit doing the same, with the sandboxing options a
  web app needs no exception from;
- ``nginx``: a ``server {}`` block that proxies to the app and *replaces*
  every ``X-Forwarded-*`` header a client sent, so that the app, trusting one
  proxy (``PRODGUARD_TRUSTED_PROXIES=1``), sees the address nginx saw;
- ``apache``: the same as an Apache ``<VirtualHost>`` (mod_proxy_http sends
  the requests, mod_headers *sets* the ``X-Forwarded-*`` headers), with the
  server-wide ``ServerTokens Prod`` and ``ServerSignature Off`` at the top
  level of the file, where Apache takes them.

With ``--behind-proxy`` (the default, matching the proxy files) the supervisor,
systemd and gunicorn files set ``PRODGUARD_TRUSTED_PROXIES=1``; the app must
then listen on loopback only, or a client that reaches it directly can choose
its own address with an ``X-Forwarded-For`` header.
"""

from __future__ import annotations

import ast
import dataclasses
import ipaddress
import json
import os
import re
import shlex
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .proxies import forgeable_forwarding_warning
from .proxies import listens_on_loopback_only
from .serving import gunicorn_options
from .serving import host_port

#: The files ``deploy-config`` can write.
TARGETS = ("gunicorn", "supervisor", "systemd", "nginx", "apache")
#: The targets that are a reverse proxy in front of the app, not the app.
PROXY_TARGETS = ("nginx", "apache")

#: The largest request body, in bytes, that the Apache file lets through to the
#: app, as the nginx file's ``client_max_body_size 16m``.
_APACHE_MAX_BODY = 16 * 1024 * 1024

#: Seconds the service manager waits beyond gunicorn's graceful timeout
#: before it kills what is left.
STOP_MARGIN = 10

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")
_IMPORT = re.compile(r"[A-Za-z_][\w.]*(?::[A-Za-z_]\w*(?:\(.*\))?)?")
_SERVER_NAME = re.compile(r"[A-Za-z0-9_.*:\[\]-]+(?: [A-Za-z0-9_.*:\[\]-]+)*")
_LISTEN = re.compile(r"(?:(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):)?[0-9]{1,5}")
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}|[0-9]+")
# Words that need no quoting in a shell, supervisor or systemd command line.
#: The longest file name (one path component) and path, in bytes, that Linux
#: takes (NAME_MAX, PATH_MAX less the NUL): systemd refuses a longer
#: WorkingDirectory= and Python cannot even stat the path.
_NAME_MAX = 255
_PATH_MAX = 4095
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_./@+,:=-]+")
# Besides letters and digits, what a path given as --app may hold. Not a comma
# (gunicorn splits its pythonpath there), a colon (Flask splits --app there),
# quotes, %, $, \ or ~ (each means something to a shell, supervisor, systemd or
# Flask): such a path is refused rather than escaped.
_PATH_PUNCTUATION = frozenset("_./@+=- ")

#: What ``--app`` takes, for messages: what ``flask --app`` takes.
APP_FORMS = (
    "--app takes what flask --app takes: a module (myapp), module:name (myapp:app),"
    " module:factory(args) (myapp:create_app('prod')), a file path with or without"
    " :name (path/to/app.py, path/to/app.py:create_app()) or a package directory"
    " (path/to/myapp)."
)


@dataclasses.dataclass(frozen=True)
class DeploySettings:
    """What the generated files say; every field is validated by the command."""

    #: The app, as ``flask --app`` takes it (``module``, ``module:app``,
    #: ``module:create_app()``, or the absolute path of a file or package
    #: directory, perhaps with ``:name``): see :func:`parse_app`.
    app: str
    #: Program, unit and file name.
    name: str
    #: Address and port the app listens on.
    host: str
    port: int
    #: gunicorn workers and threads; ``None``: serve's defaults, decided on
    #: the server when it starts.
    workers: int | None
    threads: int | None
    #: The proxy's host names (nginx ``server_name``; Apache ``ServerName``
    #: and ``ServerAlias``) and where it listens (``PORT`` or ``ADDRESS:PORT``).
    server_name: str
    listen: str
    #: The account the app runs as.
    user: str
    #: The app's working directory and the virtual environment with ``flask``.
    directory: Path
    venv: Path
    #: A reverse proxy (the nginx or Apache file) is in front: trust one hop.
    behind_proxy: bool
    #: supervisor: where the program's stdout and stderr go.
    log_dir: Path
    #: gunicorn: whether the name after ``--app``'s colon is a factory to
    #: call, when the module's source cannot tell (see :func:`gunicorn_app`);
    #: ``None``: not said.
    factory: bool | None = None

    @property
    def bind(self) -> str:
        """``HOST:PORT`` as gunicorn and ``flask prodguard serve`` take it."""
        return host_port(self.host, self.port)

    @property
    def upstream(self) -> str:
        """Where the proxy sends requests: the bind address, loopback for a wildcard."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)  # noqa: S104
        return host_port(host, self.port)

    @property
    def loopback(self) -> bool:
        """Whether the app listens on loopback only."""
        return listens_on_loopback_only(self.host)

    @property
    def environment(self) -> dict[str, str]:
        """Process environment the service manager gives the app."""
        env = {"PRODGUARD_ENV": "production"}
        if self.behind_proxy:
            env["PRODGUARD_TRUSTED_PROXIES"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        return env

    @property
    def serve_argv(self) -> list[str]:
        """The ``flask prodguard serve`` command line the services run."""
        argv = [
            str(self.venv / "bin" / "flask"),
            "--app",
            self.app,
            "prodguard",
            "serve",
            "--server",
            "gunicorn",
            "--bind",
            self.bind,
        ]
        if self.workers is not None:
            argv += ["--workers", str(self.workers)]
        if self.threads is not None:
            argv += ["--threads", str(self.threads)]
        return argv

    @property
    def stop_timeout(self) -> int:
        """Seconds to wait for a graceful stop before killing."""
        graceful = int(gunicorn_options(self.host, self.port, 1, 1)["graceful_timeout"])
        return graceful + STOP_MARGIN


def file_name(target: str, settings: DeploySettings) -> str:
    """The conventional name of the file for ``target``.

    supervisor, nginx and Apache files end in ``.conf`` (what their ``conf.d``
    and ``sites-enabled`` directories include) and carry the target in the
    name, so that all five files can share one output directory.

    :param target: One of :data:`TARGETS`.
    :param settings: The settings the file is generated from (its ``name``).
    """
    return {
        "gunicorn": "gunicorn.conf.py",
        "supervisor": f"{settings.name}.supervisor.conf",
        "systemd": f"{settings.name}.service",
        "nginx": f"{settings.name}.nginx.conf",
        "apache": f"{settings.name}.apache.conf",
    }[target]


def install_hint(target: str, settings: DeploySettings) -> str:
    """Where the file goes on the server, and the command that loads it.

    :param target: One of :data:`TARGETS`.
    :param settings: The settings the file is generated from.
    """
    return {
        "gunicorn": f"keep it in {settings.directory}; run: gunicorn -c gunicorn.conf.py",
        "supervisor": (
            f"copy it to /etc/supervisor/conf.d/{settings.name}.conf;"
            " run: supervisorctl reread && supervisorctl update"
        ),
        "systemd": (
            f"copy it to /etc/systemd/system/{settings.name}.service;"
            f" run: systemctl daemon-reload && systemctl enable --now {settings.name}"
        ),
        "nginx": (
            f"copy it to /etc/nginx/conf.d/{settings.name}.conf;"
            " run: nginx -t && systemctl reload nginx"
        ),
        "apache": (
            f"copy it to /etc/apache2/sites-available/{settings.name}.conf;"
            f" run: a2enmod proxy proxy_http headers alias && a2ensite {settings.name}"
            " && apachectl configtest && systemctl reload apache2"
        ),
    }[target]


def render(target: str, settings: DeploySettings) -> str:
    """The text of the file for ``target``.

    :param target: One of :data:`TARGETS`.
    :param settings: Settings validated by :func:`settings_from_options`: the
        renderers write them into the file as they are.
    """
    renderers = {
        "gunicorn": render_gunicorn,
        "supervisor": render_supervisor,
        "systemd": render_systemd,
        "nginx": render_nginx,
        "apache": render_apache,
    }
    return renderers[target](settings)


def _header(target: str, settings: DeploySettings, comment: str) -> list[str]:
    where, _, command = install_hint(target, settings).partition("; ")
    lines = [
        f"{comment} {target} configuration for {settings.name}, generated by",
        f"{comment} `flask prodguard deploy-config --target {target}`.",
        f"{comment} Install: {where};",
        f"{comment} {command}",
    ]
    if target in ("supervisor", "systemd") and settings.user != "root":
        lines += [
            f"{comment} Runs as {settings.user}; an account of its own, created with e.g.",
            f"{comment} useradd --system --no-create-home --shell /usr/sbin/nologin"
            f" {settings.user}",
        ]
    if target not in PROXY_TARGETS and settings.behind_proxy:
        lines += [
            f"{comment} Behind one reverse proxy (--target nginx or apache): the app",
            f"{comment} trusts one hop of X-Forwarded-* (PRODGUARD_TRUSTED_PROXIES=1). Keep",
            f"{comment} it listening on loopback only, or clients that reach it directly",
            f"{comment} can forge their address.",
        ]
    return lines


@dataclasses.dataclass(frozen=True)
class AppSpec:
    """``--app`` as ``flask --app`` reads it, in the shapes the generated files need.

    Flask takes a module or the path of a module's file or a package's
    directory, then perhaps a colon and a name or a factory call. Services
    run ``flask --app`` with :attr:`flask`; gunicorn imports :attr:`module`
    with :attr:`root` on its path, and takes no file path.
    """

    #: For ``flask --app`` in a service: as given, but a path made absolute,
    #: so that the service's working directory does not matter.
    flask: str
    #: The module to import (``myapp``, ``shop.wsgi``).
    module: str
    #: What follows the colon (``app``, ``create_app('prod')``); ``None``
    #: when Flask is to find the app in the module.
    name: str | None
    #: The module's file or package directory, absolute, when the app was
    #: given by path; ``None`` for a module name.
    path: Path | None = None
    #: The directory the module is imported from when the app was given by
    #: path (the first one up without an ``__init__.py``); ``None`` for a
    #: module name, which is imported from the working directory.
    root: Path | None = None


def _split_app(value: str) -> tuple[str, str | None]:
    # Where Flask's ScriptInfo.load_app splits --app: at the first colon that
    # is not followed by a slash or backslash (those start a Windows path).
    start = 0
    while (colon := value.find(":", start)) >= 0:
        if value[colon + 1 : colon + 2] not in ("/", "\\"):
            return value[:colon], value[colon + 1 :]
        start = colon + 1
    return value, None


def _is_path(module: str) -> bool:
    # What Flask can only read as a path: a module name has no slash and does
    # not end in ".py".
    return "/" in module or "\\" in module or module.endswith(".py") or module in (".", "..")


def _valid_call(name: str) -> bool:
    """Whether ``name`` is an attribute or a call with literal arguments, the
    two things both Flask and gunicorn read after the colon."""
    if name != name.strip():
        return False  # Flask strips it, gunicorn does not
    try:
        expression = ast.parse(name, mode="eval").body
        if isinstance(expression, ast.Name):
            return True
        if not isinstance(expression, ast.Call) or not isinstance(expression.func, ast.Name):
            return False
        for argument in [*expression.args, *expression.keywords]:
            if isinstance(argument, ast.keyword):
                if argument.arg is None:
                    return False  # **kwargs: not a literal either reads
                argument = argument.value
            ast.literal_eval(argument)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _valid_path(path: str) -> bool:
    return bool(path) and all(c.isalnum() or c in _PATH_PUNCTUATION for c in path)


def _too_long(path: str) -> str | None:
    """Why ``path`` is longer than the system takes, or ``None`` when it is not."""
    # "replace": never raises, and a byte that is not UTF-8 (held as a lone
    # surrogate) still counts as one byte.
    encoded = path.encode("utf-8", "replace")
    if len(encoded) > _PATH_MAX:
        return f"is longer than {_PATH_MAX} bytes"
    if any(len(part) > _NAME_MAX for part in encoded.split(b"/")):
        return f"has a file or directory name longer than {_NAME_MAX} bytes"
    return None


def _called_name(name: str) -> str:
    """``name`` with the attribute or function it names as Python reads it.

    Python NFKC-normalises identifiers, so Flask's ``ast.parse`` reads
    ``\uff42uild()`` as ``build()``; gunicorn and ``getattr`` would look up
    the lookalike and miss (or not call) the factory. The literal arguments
    after ``(`` stay as given: a string argument is not normalised.
    """
    head, paren, rest = name.partition("(")
    return unicodedata.normalize("NFKC", head) + paren + rest


def import_location(path: Path) -> tuple[Path, str]:
    """The directory to import from and the module name, for an app's path.

    Flask's :func:`flask.cli.prepare_import`, without its side effects: it
    does not resolve symbolic links (a ``/srv/app/current`` link to the
    running release stays a link, so a new release is picked up at restart)
    and does not change ``sys.path``. Like Flask, it drops ``.py`` and
    ``__init__``, then goes up while the directory is a package.

    :param path: An absolute path to a module's file or a package's
        directory.
    """
    target = path.with_suffix("") if path.suffix == ".py" else path
    if target.name == "__init__":
        target = target.parent
    names = []
    while True:
        names.append(target.name)
        target = target.parent
        if target == target.parent or not (target / "__init__.py").exists():
            break
    return target, ".".join(reversed(names))


def parse_app(value: str, directory: Path) -> AppSpec:
    """Read ``--app`` as ``flask --app`` does, refusing what a file cannot hold.

    Every value goes into a command line, a unit file or Python source, so a
    path is held to letters, digits and ``_./@+=-`` and spaces, a module to a
    dotted name, and what follows the colon to a name or a call with literal
    arguments.

    :param value: The app as ``flask --app`` takes it.
    :param directory: The app's working directory: a relative path is taken
        from there, as the service will take it.
    :raises click.BadParameter: Not a form Flask takes, or characters a
        generated file cannot hold; the message lists the forms.
    """

    def refuse(why: str) -> click.BadParameter:
        return click.BadParameter(f"{value!r} {why}. {APP_FORMS}", param_hint="--app")

    if _has_control_characters(value):
        raise refuse("contains control characters")
    module, name = _split_app(value)
    if name is not None and not _valid_call(name):
        raise refuse("has no name or factory call with literal arguments after the colon")
    if name is not None:
        name = _called_name(name)
    if not _is_path(module):
        if not _IMPORT.fullmatch(module):
            raise refuse("is not a module name")
        return AppSpec(flask=value, module=module, name=name)
    if ".." in Path(module).parts:
        # Flask resolves symbolic links before it applies "..": link/../app.py
        # is the app.py next to the link's target, not next to the link.
        # Only then: a /srv/app/current link to a release must stay a link.
        path = Path(os.path.realpath(directory / module))
    else:
        path = Path(os.path.normpath(directory / module))
    too_long = _too_long(str(path))
    if too_long is not None:
        raise refuse(too_long)
    if not _valid_path(str(path)):
        where = "" if str(path) == module else f" (the path {str(path)!r})"
        raise refuse(
            f"has characters a generated file cannot hold{where}: a path may have"
            " letters, digits, spaces and _./@+=-"
        )
    try:
        root, dotted = import_location(path)
    except OSError as error:
        # ENAMETOOLONG, ELOOP, EACCES...: a usage error, not a traceback.
        raise refuse(f"cannot be read ({error.strerror or error})") from error
    if not all(part.isidentifier() for part in dotted.split(".")):
        raise refuse(f"is the path of module {dotted!r}, which Python cannot import")
    flask = str(path) if name is None else f"{path}:{name}"
    return AppSpec(flask=flask, module=dotted, name=name, path=path, root=root)


def gunicorn_app(app: str, directory: Path | None = None, factory: bool | None = None) -> str:
    """``app`` as gunicorn's ``wsgi_app`` takes it, found without running the app.

    ``flask --app`` finds an app by itself, gunicorn does not, and takes no
    file path. A path becomes its module, imported from :attr:`AppSpec.root`
    (the gunicorn file puts it on ``pythonpath``). A bare module gets the
    name Flask would use: an ``app`` or ``application`` at module level, else
    the one Flask app in the module, else a ``create_app`` or ``make_app``
    factory. A name bound to a function (a factory, which Flask calls) gets
    the ``()`` gunicorn needs to call it.

    The module's source is read, never imported: importing runs the app's
    code (its prints, an ``app.run()`` at module level). When the source
    cannot say (the module is not found here, the name comes from an import
    that cannot be followed, a decorated function), ``factory`` must: the
    command asks for it rather than guess.

    :param app: The app as ``flask --app`` takes it.
    :param directory: The app's working directory: a relative path is taken
        from there, and a module name looked for there first (gunicorn's
        ``chdir`` puts it first on ``sys.path``), then in the current
        directory (as ``flask --app`` imports it), then on this Python's
        path; the current directory if not given.
    :param factory: What the name after the colon is when the source cannot
        tell: ``True`` a factory gunicorn must call (``--factory``), ``False``
        the app itself (``--no-factory``), ``None`` not said.
    :raises click.BadParameter: ``app`` is not a form :func:`parse_app`
        takes; the source cannot tell and ``factory`` is ``None``; or
        ``factory`` contradicts the source or a call written out.
    :raises click.UsageError: The module holds several Flask apps and
        ``app`` does not say which.

    .. versionchanged:: 0.1
        The module is read, not imported; ``factory`` added.
    """
    where = directory or Path.cwd()
    spec = parse_app(app, where)
    module, name = spec.module, spec.name
    if spec.root is not None:
        search = [str(spec.root)]
    else:
        # --directory is where the server runs it; the module may only be
        # here, where flask --app would import it from the working directory.
        try:
            here = [os.getcwd()]
        except OSError:
            here = []
        search = list(dict.fromkeys([str(where), *here, *sys.path]))
    reader = _SourceReader(search)
    if not name:
        if factory is not None:
            raise click.BadParameter(
                "--factory and --no-factory say what the name after the colon is: give"
                f" one, e.g. --app {module}:app",
                param_hint="--app",
            )
        return f"{module}:{_find_app_name(reader, module)}"
    if not name.isidentifier():
        if factory is False:
            raise click.BadParameter(
                f"{_shown(app)} writes a call, and --no-factory says it is the app itself:"
                " drop one of them",
                param_hint="--app",
            )
        return f"{module}:{name}"
    kind, why = reader.kind_of(module, name)
    found = {"function": True, "unknown": None}.get(kind, False)
    if found is None:
        if factory is None:
            raise click.BadParameter(
                f"cannot tell whether {module}:{name} is the app or a factory that gunicorn"
                f" must call, without running the app: {why}. Say which: --no-factory (the"
                f" app itself) or --factory (gunicorn calls it), or write the call: --app"
                f" '{module}:{name}()'",
                param_hint="--app",
            )
        found = factory
    elif factory is not None and factory != found:
        what = "a function" if found else "no function"
        raise click.BadParameter(
            f"{module}:{name} is {what} in the module's source ({why}), but"
            f" {'--factory' if factory else '--no-factory'} says otherwise: drop the option",
            param_hint="--app",
        )
    return f"{module}:{name}()" if found else f"{module}:{name}"


def _find_app_name(reader: _SourceReader, module: str) -> str:
    """The name after the colon that Flask would find in ``module``, read from
    its source in the order of :func:`flask.cli.find_best_app`."""

    def ask(why: str) -> click.BadParameter:
        return click.BadParameter(
            f"cannot tell which app of module {module!r} Flask would load, without running"
            f" it: {why}. Name it: --app {module}:app, or --app '{module}:create_app()' for"
            " a factory",
            param_hint="--app",
        )

    found = reader.module(module)
    if isinstance(found, str):
        raise ask(found)
    for name in ("app", "application"):
        if name not in found.bindings:
            if "*" in found.bindings:
                # from other import *: app may be the other module's.
                raise ask(found.bindings["*"][0][1])
            continue
        kind, why = reader.kind_of(module, name)
        if kind in ("flask", "call"):
            return name
        if kind == "unknown":
            raise ask(why)
        # A function or a class: not a Flask app, Flask looks further.
    apps = sorted(n for n in found.bindings if reader.kind_of(module, n)[0] == "flask")
    if len(apps) > 1:
        raise click.UsageError(
            f"Module {module!r} holds several Flask apps ({', '.join(apps)}):"
            f" say which, e.g. --app {module}:{apps[0]}"
        )
    if apps:
        return apps[0]
    for name in ("create_app", "make_app"):
        if name in found.bindings:
            kind, why = reader.kind_of(module, name)
            if kind == "function":
                return f"{name}()"
            if kind == "unknown":
                raise ask(why)
    raise ask(
        "its source binds no app, application or Flask app, and no create_app or make_app"
    )


# -- reading an app's module without running it ----------------------------------------
#
# What gunicorn needs to know (is the name a function?) is read from the
# module's source with ast: the bindings at module level, followed through
# plain assignments and "from ... import" into the modules found on the same
# path. Whatever only running the code would say is "unknown", and the
# command asks.

#: How many assignments and imports are followed, and how many modules read,
#: before the answer is "unknown".
_FOLLOW_DEPTH = 8
_MODULES_READ = 64


@dataclasses.dataclass(frozen=True)
class _Module:
    """A module's source, read: what its top level binds, and to what."""

    name: str
    path: Path
    package: bool
    #: Name -> its bindings, in source order: ``("def", FunctionDef)``,
    #: ``("class", ClassDef)``, ``("value", expr)``, ``("from", module,
    #: name)``, ``("module",)`` or ``("unknown", why)``.
    bindings: dict[str, list[tuple[Any, ...]]]


def _module_file(dotted: str, search: list[str]) -> tuple[Path, bool] | str:
    """The source file of module ``dotted`` and whether it is a package's
    ``__init__.py``, found as Python's path finder would; or why not."""
    from importlib.machinery import EXTENSION_SUFFIXES

    locations = search
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        found: tuple[Path, bool] | None = None
        portions = []
        try:
            for entry in locations:
                base = Path(entry or ".")
                if (base / part / "__init__.py").is_file():
                    found = (base / part / "__init__.py", True)
                    break
                if any((base / f"{part}{suffix}").exists() for suffix in EXTENSION_SUFFIXES):
                    return f"module {'.'.join(parts[: index + 1])!r} is compiled, not source"
                source = base / f"{part}.py"
                if source.is_file():
                    found = (source, False)
                    break
                if source.exists():
                    # A FIFO would hang the read, /dev/zero never end it.
                    return f"{source} is not a regular file"
                if (base / part).is_dir():
                    portions.append(str(base / part))  # a namespace package's part
        except (OSError, ValueError) as error:
            return f"its path cannot be searched ({getattr(error, 'strerror', None) or error})"
        last = index == len(parts) - 1
        if found is None and portions and not last:
            locations = portions
            continue
        if found is None:
            where = " or ".join(locations[:2]) if locations else "."
            where += " or on this Python's path" if len(locations) > 2 else ""
            return f"module {'.'.join(parts[: index + 1])!r} is not found in {where}"
        if last:
            return found
        if not found[1]:
            return f"module {'.'.join(parts[: index + 1])!r} is no package"
        locations = [str(found[0].parent)]
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns


def _decorated(node: ast.AST) -> bool:
    return bool(getattr(node, "decorator_list", None))


def _module_bindings(tree: ast.Module) -> dict[str, list[tuple[Any, ...]]]:
    """What the top level of ``tree`` binds, statement by statement."""
    bindings: dict[str, list[tuple[Any, ...]]] = {}

    def bind(name: str, binding: tuple[Any, ...]) -> None:
        bindings.setdefault(name, []).append(binding)

    def stored(node: ast.AST, why: str) -> None:
        # Every name a statement stores, outside the scopes it opens.
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Name) and isinstance(current.ctx, (ast.Store, ast.Del)):
                bind(current.id, ("unknown", why))
            elif isinstance(current, (ast.MatchAs, ast.MatchStar)) and current.name:
                bind(current.name, ("unknown", why))
            elif isinstance(current, ast.MatchMapping) and current.rest:
                bind(current.rest, ("unknown", why))
            if not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stack.extend(ast.iter_child_nodes(current))

    def visit(body: list[ast.stmt]) -> None:
        for statement in body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bind(statement.name, ("def", statement))
                for default in [*statement.args.defaults, *statement.args.kw_defaults]:
                    if default is not None:
                        stored(default, "bound inside an expression")
            elif isinstance(statement, ast.ClassDef):
                bind(statement.name, ("class", statement))
            elif isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        bind(target.id, ("value", statement.value))
                    else:
                        stored(target, "bound by unpacking")
                stored(statement.value, "bound inside an expression")
            elif isinstance(statement, ast.AnnAssign):
                if isinstance(statement.target, ast.Name) and statement.value is not None:
                    bind(statement.target.id, ("value", statement.value))
                elif statement.value is not None:
                    stored(statement, "bound inside an expression")
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    bind(alias.asname or alias.name.partition(".")[0], ("module",))
            elif isinstance(statement, ast.ImportFrom):
                for alias in statement.names:
                    if alias.name == "*":
                        # Binds what the other module holds: see _SourceReader.kind_of.
                        bind(
                            "*",
                            ("unknown", f"it may come from 'from {statement.module} import *'"),
                        )
                        continue
                    bind(
                        alias.asname or alias.name,
                        ("from", statement.module or "", statement.level, alias.name),
                    )
            elif isinstance(statement, (ast.If, ast.While)):
                stored(statement.test, "bound inside an expression")
                visit(statement.body)
                visit(statement.orelse)
            elif isinstance(statement, (ast.For, ast.AsyncFor)):
                stored(statement.target, "bound by a for loop")
                stored(statement.iter, "bound inside an expression")
                visit(statement.body)
                visit(statement.orelse)
            elif isinstance(statement, (ast.With, ast.AsyncWith)):
                for item in statement.items:
                    stored(item, "bound by a with statement")
                visit(statement.body)
            elif isinstance(statement, ast.Try) or type(statement).__name__ == "TryStar":
                visit(statement.body)  # type: ignore[attr-defined]
                for handler in statement.handlers:  # type: ignore[attr-defined]
                    if handler.name:
                        bind(handler.name, ("unknown", "bound by an except clause"))
                    visit(handler.body)
                visit(statement.orelse)  # type: ignore[attr-defined]
                visit(statement.finalbody)  # type: ignore[attr-defined]
            else:
                # del, augmented assignment, match, global, an expression...:
                # whatever it stores is unknown.
                stored(statement, "bound by a statement whose value only running tells")

    visit(tree.body)
    # A function that declares a name global and assigns it binds it at the top
    # level when it runs (def _setup(): global app; app = Flask(...)): the
    # source cannot tell.
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        declared = {n for s in ast.walk(function) if isinstance(s, ast.Global) for n in s.names}
        assigned = {
            n.id
            for n in ast.walk(function)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in declared
        }
        for name in sorted(assigned):
            bind(name, ("unknown", f"bound by 'global {name}' in {function.name}()"))
    return bindings


class _SourceReader:
    """Modules read from source on one search path, and what their names are.

    :meth:`kind_of` says what a name at a module's top level holds:
    ``"function"`` (a ``def`` or a lambda: Flask calls it, gunicorn needs the
    ``()``), ``"flask"`` (a Flask app: ``Flask(...)``, or what a function
    returns that returns one), ``"call"`` (what another call returns),
    ``"other"`` (a class, a module, a literal) or ``"unknown"``, with why.
    """

    def __init__(self, search: list[str]) -> None:
        self.search = search
        self.modules: dict[str, _Module | str] = {}

    def module(self, dotted: str) -> _Module | str:
        """Module ``dotted``, read and parsed, or why it cannot be."""
        from .scan import read_source

        if dotted in self.modules:
            return self.modules[dotted]
        if len(self.modules) >= _MODULES_READ:
            return f"more than {_MODULES_READ} modules would have to be read"
        found = _module_file(dotted, self.search)
        if isinstance(found, str):
            self.modules[dotted] = found
            return found
        path, package = found
        text, why = read_source(path)
        result: _Module | str
        if text is None:
            result = f"{path} {why}"
        else:
            try:
                tree = ast.parse(text, str(path))
            except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
                reason = getattr(error, "msg", None) or type(error).__name__
                result = f"{path} cannot be parsed by this Python ({reason})"
            else:
                result = _Module(dotted, path, package, _module_bindings(tree))
        self.modules[dotted] = result
        return result

    def kind_of(self, dotted: str, name: str, depth: int = 0) -> tuple[str, str]:
        """What ``name`` at the top level of module ``dotted`` holds, and why.

        :param dotted: The module.
        :param name: A name bound at its top level.
        :param depth: How many bindings were followed to get here.
        """
        found = self.module(dotted)
        if isinstance(found, str):
            return "unknown", found
        if depth > _FOLLOW_DEPTH:
            return "unknown", f"more than {_FOLLOW_DEPTH} assignments or imports to follow"
        bindings = found.bindings.get(name)
        if not bindings:
            if "*" in found.bindings:
                return "unknown", found.bindings["*"][0][1]
            if "__getattr__" in found.bindings:
                return "unknown", f"{found.path} has a module __getattr__"
            return "unknown", f"{found.path} binds no {name!r} at its top level"
        kinds = [self._binding_kind(found, name, binding, depth) for binding in bindings]
        for kind, why in kinds:
            if kind == "unknown":
                return kind, why
        names = {kind for kind, _ in kinds}
        if "function" in names and len(names) > 1:
            return "unknown", f"{found.path} binds {name!r} to a function and to something else"
        for kind in ("function", "flask", "call", "other"):
            if kind in names:
                return kind, next(why for k, why in kinds if k == kind)
        raise AssertionError(names)  # pragma: no cover - every kind is listed

    def _binding_kind(
        self, module: _Module, name: str, binding: tuple[Any, ...], depth: int
    ) -> tuple[str, str]:
        where = f"{module.path}"
        what = binding[0]
        if what == "def":
            if _decorated(binding[1]):
                return "unknown", f"{where} defines {name!r} with a decorator"
            return "function", f"{where} defines {name!r} as a function"
        if what == "class":
            return "other", f"{where} defines {name!r} as a class"
        if what == "module":
            return "other", f"{where} imports {name!r} as a module"
        if what == "from":
            target = self._absolute(module, binding[1], binding[2])
            if target is None:
                return "unknown", f"{where} imports {name!r} from beyond its top package"
            imported = self.module(target)
            if isinstance(imported, str):
                return "unknown", f"{where} imports {name!r} from {target!r}: {imported}"
            if binding[3] in imported.bindings or "*" in imported.bindings:
                return self.kind_of(target, binding[3], depth + 1)
            if not isinstance(self.module(f"{target}.{binding[3]}"), str):
                return "other", f"{where} imports {name!r} as a module"
            return self.kind_of(target, binding[3], depth + 1)
        if what == "value":
            return self._value_kind(module, name, binding[1], depth)
        return "unknown", f"{where}: {name!r} is {binding[1]}"

    def _value_kind(
        self, module: _Module, name: str, value: ast.expr, depth: int
    ) -> tuple[str, str]:
        where = f"{module.path}"
        if isinstance(value, ast.Lambda):
            return "function", f"{where} binds {name!r} to a lambda"
        if isinstance(value, ast.Name):
            return self.kind_of(module.name, value.id, depth + 1)
        if isinstance(value, ast.Call):
            if self._makes_flask(module, value.func, depth + 1):
                return "flask", f"{where} binds {name!r} to a Flask app"
            return "call", f"{where} binds {name!r} to what a call returns"
        literals = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr)
        if isinstance(value, literals):
            return "other", f"{where} binds {name!r} to a literal"
        return "unknown", f"{where} binds {name!r} to an expression only running it tells"

    def _absolute(self, module: _Module, target: str, level: int) -> str | None:
        """The module a ``from`` import in ``module`` names, made absolute."""
        if not level:
            return target
        parts = module.name.split(".")
        if not module.package:
            parts = parts[:-1]
        if level - 1 > len(parts) - 1 or not parts:
            return None
        base = parts[: len(parts) - (level - 1)]
        return ".".join([*base, target] if target else base)

    def _makes_flask(self, module: _Module, callee: ast.expr, depth: int) -> bool:
        """Whether calling ``callee`` (in ``module``) gives a Flask app: the
        ``Flask`` class or a subclass, or a function that returns one."""
        if isinstance(callee, ast.Attribute):
            return callee.attr == "Flask"
        if not isinstance(callee, ast.Name) or depth > _FOLLOW_DEPTH:
            return False
        if callee.id == "Flask":
            return True
        found = self._definition(module, callee.id, depth)
        if found is None:
            return False
        where, node = found
        if isinstance(node, ast.ClassDef):
            return any(
                (isinstance(base, ast.Name) and base.id == "Flask")
                or (isinstance(base, ast.Attribute) and base.attr == "Flask")
                for base in node.bases
            )
        return self._returns_flask(where, node, depth + 1)

    def _definition(
        self, module: _Module, name: str, depth: int
    ) -> tuple[_Module, ast.AST] | None:
        """The one ``def`` or ``class`` that ``name`` is in ``module``, followed
        through ``from`` imports; ``None`` when it is anything else."""
        bindings = module.bindings.get(name, [])
        if len(bindings) != 1 or depth > _FOLLOW_DEPTH:
            return None
        binding = bindings[0]
        if binding[0] in ("def", "class"):
            return module, binding[1]
        if binding[0] == "from":
            target = self._absolute(module, binding[1], binding[2])
            imported = self.module(target) if target is not None else None
            if isinstance(imported, _Module):
                return self._definition(imported, binding[3], depth + 1)
        return None

    def _returns_flask(self, module: _Module, function: ast.AST, depth: int) -> bool:
        """Whether ``function`` returns a Flask app: ``return Flask(...)``, or
        ``return app`` where ``app = Flask(...)`` in its body."""
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        local: dict[str, ast.expr] = {}
        returned: list[ast.expr] = []
        stack: list[ast.AST] = list(function.body)
        while stack:
            node = stack.pop()
            if isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
            ):
                continue  # another scope
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    local[target.id] = node.value
            elif isinstance(node, ast.Return) and node.value is not None:
                returned.append(node.value)
            stack.extend(ast.iter_child_nodes(node))
        for value in returned:
            if isinstance(value, ast.Name):
                value = local.get(value.id, value)
            if isinstance(value, ast.Call) and self._makes_flask(module, value.func, depth + 1):
                return True
        return False


def _py(text: str) -> str:
    # A Python string literal, double-quoted as ruff and black write them.
    # JSON's escapes mean the same in Python, but for a character beyond the
    # BMP, which JSON writes as a surrogate pair that Python reads as two
    # lone surrogates: such characters are written as they are (UTF-8).
    return json.dumps(text, ensure_ascii=False)


def render_gunicorn(settings: DeploySettings) -> str:
    """A ``gunicorn.conf.py`` with the settings ``flask prodguard serve`` uses."""
    workers = "default_workers()" if settings.workers is None else str(settings.workers)
    names = (
        "default_workers, gunicorn_options" if settings.workers is None else "gunicorn_options"
    )
    threads = "1" if settings.threads is None else str(settings.threads)
    notes = {
        "reload": "Never the reloader in production.",
        "forwarded_allow_ips": "Proxy headers are trusted by the guard's ProxyFix only.",
        "logconfig_dict": "The server's logs as JSON lines, like the security events.",
        "control_socket_disable": "No control socket.",
    }
    environment = {k: v for k, v in settings.environment.items() if k != "PYTHONUNBUFFERED"}
    lines = [f'"""gunicorn settings for {settings.name}."""', ""]
    lines += _header("gunicorn", settings, "#")
    spec = parse_app(settings.app, settings.directory)
    lines += [""]
    if spec.root is not None and spec.root != settings.directory:
        lines += ["import sys", ""]
    lines += [
        f"from flask_prodguard.tools.serving import {names}",
        "",
        f"wsgi_app = {_py(gunicorn_app(settings.app, settings.directory, settings.factory))}",
        f"chdir = {_py(str(settings.directory))}",
    ]
    if spec.root is not None and spec.root != settings.directory:
        lines += [
            "# --app was a path: the directory its module is imported from. gunicorn",
            "# adds pythonpath to sys.path when it serves, not for --check-config.",
            f"pythonpath = {_py(str(spec.root))}",
            "sys.path.insert(0, pythonpath)",
        ]
    lines += [
        "# Set in the process environment before the app is loaded.",
        "raw_env = [",
        *(f"    {_py(f'{key}={value}')}," for key, value in environment.items()),
        "]",
        "",
        "# The settings of `flask prodguard serve`, read from the installed Flask-ProdGuard.",
        "_options = gunicorn_options(",
        f"    host={_py(settings.host)},",
        f"    port={settings.port},",
        f"    workers={workers},",
        f"    threads={threads},",
        ")",
    ]
    for key in gunicorn_options(settings.host, settings.port, 1, 1):
        if key in notes:
            lines.append(f"# {notes[key]}")
        lines.append(f"{key} = _options[{_py(key)}]")
    return "\n".join(lines) + "\n"


def _supervisor_value(text: str) -> str:
    # supervisor reads its files with ConfigParser interpolation: % is special.
    return text.replace("%", "%%")


def _supervisor_word(word: str) -> str:
    """``word`` for supervisor's ``command=``, which shlex splits into the argv.

    Before shlex, supervisor's ConfigParser ends the value at a ``;`` or ``#``
    after whitespace (an inline comment), and replaces ``%(here)s`` before it
    reads ``%%``. The word is cut there, between the whitespace and the ``;``
    or ``#`` and between ``%`` and ``(``, and each piece quoted on its own:
    shlex joins adjacent pieces back into the one word, and neither reading
    finds what it looks for.
    """
    pieces, start = [], 0
    for at in range(1, len(word)):
        if (word[at] in ";#" and word[at - 1].isspace()) or word[at - 1 : at + 1] == "%(":
            pieces.append(word[start:at])
            start = at
    pieces.append(word[start:])
    return "".join(shlex.quote(piece) for piece in pieces)


def render_supervisor(settings: DeploySettings) -> str:
    """A supervisor ``[program:NAME]`` section running ``flask prodguard serve``."""
    command = " ".join(_supervisor_word(word) for word in settings.serve_argv)
    environment = ",".join(f'{key}="{value}"' for key, value in settings.environment.items())
    log = settings.log_dir / settings.name
    lines = _header("supervisor", settings, ";")
    lines += [
        f"[program:{settings.name}]",
        f"command={_supervisor_value(command)}",
        f"directory={_supervisor_value(str(settings.directory))}",
        f"user={settings.user}",
        f"environment={environment}",
        "autostart=true",
        "; Started again whenever it exits, whatever the exit status.",
        "autorestart=true",
        "startsecs=3",
        "startretries=10",
        "; gunicorn stops gracefully on TERM: running requests may finish.",
        "stopsignal=TERM",
        f"stopwaitsecs={settings.stop_timeout}",
        "; Stop (and, after stopwaitsecs, kill) the workers with the master.",
        "stopasgroup=true",
        "killasgroup=true",
        f"stdout_logfile={_supervisor_value(str(log))}.out.log",
        "stdout_logfile_maxbytes=50MB",
        "stdout_logfile_backups=10",
        "; The server's logs and the security events: JSON lines on stderr.",
        f"stderr_logfile={_supervisor_value(str(log))}.err.log",
        "stderr_logfile_maxbytes=50MB",
        "stderr_logfile_backups=10",
    ]
    return "\n".join(lines) + "\n"


def _systemd_word(word: str, executable: bool = False) -> str:
    # % starts a specifier in ExecStart, even inside quotes, and $ a variable
    # in an argument; systemd expands no variable in the executable, where it
    # would keep "$$" as it is.
    escaped = word.replace("%", "%%")
    if not executable:
        escaped = escaped.replace("$", "$$")
    if _PLAIN_WORD.fullmatch(word):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _systemd_path(path: Path) -> str:
    # Paths are taken literally, spaces included; only % is special.
    return str(path).replace("%", "%%")


def _under(path: Path, *roots: str) -> bool:
    return any(path == Path(root) or Path(root) in path.parents for root in roots)


def render_systemd(settings: DeploySettings) -> str:
    """A systemd service unit running ``flask prodguard serve``, sandboxed."""
    executable, *arguments = settings.serve_argv
    exec_start = " ".join(
        [_systemd_word(executable, executable=True), *map(_systemd_word, arguments)]
    )
    home = _under(settings.directory, "/home", "/root", "/run/user") or _under(
        settings.venv, "/home", "/root", "/run/user"
    )
    lines = _header("systemd", settings, "#")
    lines += [
        "",
        "[Unit]",
        f"Description={settings.name}: Flask app on gunicorn (Flask-ProdGuard)",
        "After=network.target",
        "",
        "[Service]",
        "Type=exec",
        f"User={settings.user}",
        f"WorkingDirectory={_systemd_path(settings.directory)}",
        *(f"Environment={key}={value}" for key, value in settings.environment.items()),
        f"ExecStart={exec_start}",
        f"SyslogIdentifier={settings.name}",
        "Restart=on-failure",
        "RestartSec=2",
        "# gunicorn stops gracefully on SIGTERM; what is left after the timeout is",
        "# killed, workers included (mixed: SIGTERM to the master, SIGKILL to all).",
        "KillSignal=SIGTERM",
        "KillMode=mixed",
        f"TimeoutStopSec={settings.stop_timeout}",
        "",
        "# Sandboxing: the app reads its code, listens on a socket, and writes to",
        "# stderr. Give it a writable directory if it needs one, e.g.",
        "# StateDirectory=" + settings.name + " or ReadWritePaths=/var/lib/" + settings.name,
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ]
    if home:
        lines.append("# The app lives under a home directory: readable, never writable.")
        lines.append("ProtectHome=read-only")
    else:
        lines.append("ProtectHome=yes")
    lines += [
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "ProtectProc=invisible",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "RemoveIPC=yes",
        "LockPersonality=yes",
        "# Remove if a C extension of the app needs writable code (cffi callbacks, JITs).",
        "MemoryDenyWriteExecute=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallErrorNumber=EPERM",
        "CapabilityBoundingSet=",
        "AmbientCapabilities=",
        "UMask=0027",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def render_nginx(settings: DeploySettings) -> str:
    """An nginx ``server {}`` block in front of the app."""
    lines = _header("nginx", settings, "#")
    lines += [
        "#",
        "# The app behind this block must trust exactly one proxy: run it with",
        "# PRODGUARD_TRUSTED_PROXIES=1 (the supervisor and systemd files generated with",
        "# --behind-proxy set it) and let it listen on loopback only",
        f"# ({settings.bind}), so that every request comes through here.",
        "",
        "server {",
        f"    listen {settings.listen};",
        f"    server_name {settings.server_name};",
        "    server_tokens off;",
        "    # The app's MAX_CONTENT_LENGTH still applies; this stops larger bodies early.",
        "    client_max_body_size 16m;",
        "",
        "    location / {",
        f"        proxy_pass http://{settings.upstream};",
        "        proxy_redirect off;",
        "        proxy_set_header Host $host;",
        "        # Replace, never append ($proxy_add_x_forwarded_for would keep what the",
        "        # client sent): the app's one trusted hop is the address nginx saw.",
        "        proxy_set_header X-Forwarded-For $remote_addr;",
        "        proxy_set_header X-Forwarded-Proto $scheme;",
        "        proxy_set_header X-Forwarded-Host $host;",
        "        proxy_set_header X-Forwarded-Port $server_port;",
        "        # The app trusts this header too: an empty value drops the client's.",
        '        proxy_set_header X-Forwarded-Prefix "";',
        "        # RFC 7239's Forwarded, as a client sent it: believed by nothing here.",
        '        proxy_set_header Forwarded "";',
        "        proxy_set_header X-Real-IP $remote_addr;",
        "        # Buffered responses: a slow client never holds a gunicorn worker.",
        "        proxy_buffering on;",
        "        proxy_read_timeout 60s;",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _apache_names(server_name: str) -> tuple[str | None, list[str]]:
    """``ServerName`` and the ``ServerAlias`` names for ``--server-name``.

    The first name without a wildcard is the ``ServerName`` (Apache refuses a
    wildcard there), the others are aliases, in their order. nginx's ``_`` (a
    name no request has) means none: the host is then the one that answers
    every name, if it is the first for its address.
    """
    names = [] if server_name == "_" else server_name.split(" ")
    plain = [at for at, name in enumerate(names) if "*" not in name]
    if not plain:
        return None, names
    return names[plain[0]], names[: plain[0]] + names[plain[0] + 1 :]


def render_apache(settings: DeploySettings) -> str:
    """An Apache ``<VirtualHost>`` in front of the app, and the server-wide lines
    that hide Apache's version.

    The headers the app trusts are *set* with mod_headers (``RequestHeader
    set``, never ``append``) and mod_proxy adds none of its own
    (``ProxyAddHeaders Off``), so a client's ``X-Forwarded-For`` never
    reaches the app. The values are ``expr=`` expressions:
    ``%{REMOTE_ADDR}s`` reads mod_ssl's variables and is ``(null)`` without
    it.
    """
    address, _, port = settings.listen.rpartition(":")
    server_name, aliases = _apache_names(settings.server_name)
    upstream = f"http://{settings.upstream}/"
    lines = _header("apache", settings, "#")
    lines += [
        "#",
        "# The app behind this host must trust exactly one proxy: run it with",
        "# PRODGUARD_TRUSTED_PROXIES=1 (the supervisor and systemd files generated with",
        "# --behind-proxy set it) and let it listen on loopback only",
        f"# ({settings.bind}), so that every request comes through here.",
        "",
        "# Server-wide, for every site of this Apache: the Server header says only",
        '# "Apache" and Apache\'s own error pages name no version. ServerTokens is',
        "# valid only at the top level of the configuration, and the last one read",
        "# wins: apache2.conf includes sites-enabled/*.conf at the top level, after",
        "# conf-enabled/security.conf and its ServerTokens OS and ServerSignature On.",
        "# If your configuration includes this file elsewhere, or before another",
        "# ServerTokens, move these two lines to the end of apache2.conf (httpd.conf).",
        "ServerTokens Prod",
        "ServerSignature Off",
        "",
        "# Without these modules Apache would not know the directives below, or would",
        "# answer every request with 500 (no handler for http:// in ProxyPass): say so.",
        "<IfModule !proxy_http_module>",
        '    Error "mod_proxy_http is not loaded: a2enmod proxy proxy_http"',
        "</IfModule>",
        "<IfModule !headers_module>",
        '    Error "mod_headers is not loaded: a2enmod headers"',
        "</IfModule>",
        "<IfModule !alias_module>",
        '    Error "mod_alias is not loaded: a2enmod alias"',
        "</IfModule>",
        "",
    ]
    if address:
        lines += [
            "# Apache opens the port here. A second Listen for the same address is an",
            "# error: drop this line if ports.conf (httpd.conf) already has it.",
            f"Listen {settings.listen}",
        ]
    else:
        lines += [
            f"# ports.conf (httpd.conf) opens the port: Listen {port} is there on a fresh",
            "# install, and a second Listen for the same port is an error.",
        ]
    lines += ["", f"<VirtualHost {address or '*'}:{port}>"]
    if server_name is None and aliases:
        lines += [
            "    # No ServerName: Apache takes a wildcard only in ServerAlias, and every",
            "    # name given has one. This host answers the names below.",
        ]
    elif server_name is None:
        lines += [
            "    # No ServerName (--server-name _): as the first <VirtualHost> for its",
            "    # address, this one answers requests for any host name.",
        ]
    else:
        lines.append(f"    ServerName {server_name}")
    if aliases:
        lines.append(f"    ServerAlias {' '.join(aliases)}")
    lines += [
        "    ServerSignature Off",
        "    # TRACE echoes the request, cookies included; Apache answers it with 405.",
        "    TraceEnable Off",
        "",
        "    # Requests over a limit are answered by Apache itself (413, 414, 400), on a",
        "    # page without a version. Apache takes the request-line and header limits",
        "    # from the first <VirtualHost> of the address: keep this one first.",
        "    # LimitRequestBody does nothing here: Apache does not apply it to the",
        "    # requests mod_proxy passes on. A body announced as larger than 16 MiB is",
        "    # refused before it is read (mod_alias answers 413, no redirect); the app's",
        "    # MAX_CONTENT_LENGTH still applies, and is the only limit on a chunked body.",
        f'    <If "%{{HTTP:Content-Length}} -gt {_APACHE_MAX_BODY}">',
        "        Redirect 413",
        "    </If>",
        "    LimitRequestLine 8190",
        "    LimitRequestFieldSize 8190",
        "    LimitRequestFields 100",
        "    # Seconds a client may take to send, and the app to answer.",
        "    Timeout 60",
        "    ProxyTimeout 60",
        "",
        "    # A reverse proxy for the app only, never a forward proxy for anyone.",
        "    ProxyRequests Off",
        "    # The Host the client asked for, as nginx's proxy_set_header Host $host.",
        "    ProxyPreserveHost On",
        "    # mod_proxy would append X-Forwarded-For, -Host and -Server to what the",
        "    # client sent: the headers are set below instead.",
        "    ProxyAddHeaders Off",
        "    # Set, never appended: the app's one trusted hop is the address Apache saw.",
        '    RequestHeader set X-Forwarded-For "expr=%{REMOTE_ADDR}"',
        '    RequestHeader set X-Forwarded-Proto "expr=%{REQUEST_SCHEME}"',
        "    # The host name of the request without its port (nginx's $host), and the",
        "    # port Apache listens on, not one that a Host header names.",
        '    RequestHeader set X-Forwarded-Host "expr=%{SERVER_NAME}"',
        f'    RequestHeader set X-Forwarded-Port "{port}"',
        "    # The app trusts this header too: nobody in front of it sets one.",
        "    RequestHeader unset X-Forwarded-Prefix",
        "    # RFC 7239's Forwarded, as a client sent it: believed by nothing here.",
        "    RequestHeader unset Forwarded",
        "    # The usual header for the app, set the same way.",
        '    RequestHeader set X-Real-IP "expr=%{REMOTE_ADDR}"',
        "",
        "    # The app server's own Server and X-Powered-By headers (Werkzeug/3.x",
        "    # Python/3.x, gunicorn, waitress) are not passed on: Apache's own",
        "    # 'Server: Apache' is all a client sees.",
        "    Header always unset X-Powered-By",
        "    Header unset Server",
        "",
        "    # ProxyErrorOverride stays off: the app's error pages, with their error",
        "    # ids, reach the client as the app sent them.",
        f'    ProxyPass "/" "{upstream}"',
        f'    ProxyPassReverse "/" "{upstream}"',
        "</VirtualHost>",
    ]
    return "\n".join(lines) + "\n"


# -- settings from the command's options --------------------------------------------
#
# Every value ends up inside a shell command line, an INI file, a unit file or
# Python source: each is checked against a narrow pattern here, before any
# renderer sees it, so that no option can inject a line or a command.


def _check(pattern: re.Pattern[str], value: str, option: str, example: str) -> str:
    if not pattern.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not valid; e.g. {example}", param_hint=option)
    return value


def _check_server_name(target: str, value: str) -> str:
    if not _SERVER_NAME.fullmatch(value):
        # Not ~ (nginx reads a regular expression), $ (a variable, $hostname)
        # or ^: a name means the host it names, for every target.
        raise click.BadParameter(
            f"{_shown(value)} is not valid: host names (letters, digits and . - _ * :)"
            " separated by single spaces, no regular expression (~...) or variable"
            " ($...); e.g. example.com www.example.com",
            param_hint="--server-name",
        )
    if target == "nginx":
        for name in value.split(" "):
            why = _nginx_name_problem(name)
            if why is not None:
                raise click.BadParameter(
                    f"{_shown(name)} is not a name nginx's server_name matches as given:"
                    f" {why}. Give host names, *.example.com, www.example.* or .example.com"
                    " (both example.com and its subdomains), an IPv6 address in brackets,"
                    " or _ for none; e.g. example.com www.example.com",
                    param_hint="--server-name",
                )
    if target == "apache" and value != "_":
        server_name, _ = _apache_names(value)
        for name in value.split(" "):
            why = _apache_name_problem(name, server_name)
            if why is not None:
                raise click.BadParameter(
                    f"{_shown(name)} is not a name Apache's ServerName or ServerAlias takes:"
                    f" {why}. Give host names, * as a wildcard, a port only on the ServerName"
                    " (the first name without *); e.g. example.com:8080 www.example.com"
                    " *.example.com",
                    param_hint="--server-name",
                )
    return value


def _apache_name_problem(name: str, server_name: str | None) -> str | None:
    """Why Apache would refuse ``name`` of ``--server-name``, or never match it.

    :param name: One of the names.
    :param server_name: The one of them that becomes the ``ServerName``.
    """
    # What _SERVER_NAME lets through for nginx's regular expressions
    # (~^...$) and its .example.com: Apache would take them literally.
    if name.startswith(".") or any(c in "~^$" for c in name):
        return "nginx's regular expressions and .example.com are nginx's own"
    if "[" in name or "]" in name or name.count(":") > 1:
        # As an alias Apache would need it without brackets, as nginx takes none.
        return (
            "an IPv6 literal, which Apache's ServerName refuses (leave it out: the first"
            " host for an address answers requests that name no host of it)"
        )
    host, colon, port = name.partition(":")
    if colon and _port(port) is None:
        return "a port is 1 to 65535"
    if colon and name != server_name:
        return "Apache matches a ServerAlias without the request's port"
    return _name_problem(host)


def _nginx_name_problem(name: str) -> str | None:
    """Why nginx would refuse ``name`` of ``--server-name``, or match another
    host than it names; ``None`` when it would not.

    nginx takes a name as it is, ``*`` as the whole first or last label
    (``*.example.com``, ``www.example.*``) and ``.example.com`` for the name
    and its subdomains; it refuses ``*`` elsewhere and ``.``, and matches the
    host of a request without its port.
    """
    if name == "_":
        return None
    if name.startswith("[") or name.endswith("]"):
        try:
            ipaddress.IPv6Address(name[1:-1] if name[:1] + name[-1:] == "[]" else "")
        except ValueError:
            return "brackets hold an IPv6 address"
        return None
    if ":" in name:
        return "a request's host is matched without its port"
    if name.startswith("*."):
        core = name[2:]
    elif name.endswith(".*"):
        core = name[:-2]
    elif name.startswith("."):
        core = name[1:]
    else:
        core = name
    if "*" in core:
        return "* is only a whole first or last label"
    return _name_problem(core)


#: The longest host name DNS takes, and its longest label (RFC 1035); Apache
#: refuses a ProxyPass host of more than 255 characters.
_HOST_MAX = 253
_LABEL_MAX = 63


def _name_problem(name: str) -> str | None:
    """Why ``name`` is no DNS name (its length, its labels), or ``None``."""
    if len(name) > _HOST_MAX:
        return f"a host name has at most {_HOST_MAX} characters"
    labels = name.split(".")
    if not all(labels):
        return "a host name has no empty label: no two dots in a row, no dot at an end"
    if any(len(label) > _LABEL_MAX for label in labels):
        return f"a label of a host name has at most {_LABEL_MAX} characters"
    return None


def _host_problem(host: str) -> str | None:
    """Why ``host`` of ``--bind`` or ``--listen`` (which their patterns let
    through) is no address or host name, or ``None``.

    :param host: As given: an IPv6 address in brackets or bare.
    """
    bare = host[1:-1] if host.startswith("[") else host
    if host.startswith("[") or ":" in host:
        try:
            ipaddress.IPv6Address(bare)
        except ValueError:
            return "an address in brackets, or with a colon, is an IPv6 address"
        return None
    if host.strip(".") and all(c.isdigit() or c == "." for c in host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "an address of digits and dots is an IPv4 address, four numbers 0-255"
        return None
    return _name_problem(host)


def _port(text: str) -> int | None:
    """``text`` as a TCP port (ASCII digits, 1 to 65535), or ``None``."""
    # isdigit() alone also takes "²", which int() refuses.
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        return None
    return int(text)


def _shown(value: str) -> str:
    """``value`` quoted for a message, a long one cut short."""
    return repr(value if len(value) <= 80 else value[:80] + "...")


def _check_bind(value: str) -> tuple[str, int]:
    """``--bind HOST:PORT`` as the host (IPv6 without brackets) and the port."""
    host, _, port_text = value.rpartition(":")
    port = _port(port_text)
    if not _HOST.fullmatch(host):
        why: str | None = "HOST is an IP address or a host name"
    else:
        why = _host_problem(host)
    if why is None and port is None:
        why = "PORT is 1 to 65535"
    if why is not None or port is None:
        raise click.BadParameter(
            f"{why}; expected HOST:PORT, e.g. 127.0.0.1:8000", param_hint="--bind"
        )
    return host.strip("[]"), port


def _check_listen(value: str) -> str:
    if not _LISTEN.fullmatch(value):
        raise click.BadParameter(
            f"{value!r} is not valid: PORT or ADDRESS:PORT; e.g. 80 or 127.0.0.1:8080",
            param_hint="--listen",
        )
    address, _, port = value.rpartition(":")
    why = "the port is 1 to 65535" if _port(port) is None else None
    why = why or (_host_problem(address) if address else None)
    if why is not None:
        raise click.BadParameter(
            f"{_shown(value)} is not valid: {why}; e.g. 80 or 127.0.0.1:8080",
            param_hint="--listen",
        )
    return value


def _has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _check_path(value: str, option: str) -> Path:
    try:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
    except (OSError, RuntimeError) as error:  # no home for ~user, a working directory gone
        raise click.BadParameter(
            f"{_shown(value)} cannot be made absolute: {error}", param_hint=option
        ) from None
    if _has_control_characters(str(path)) or '"' in str(path):
        raise click.BadParameter(
            f"{_shown(value)} contains control characters or quotes", param_hint=option
        )
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        # A name of bytes that are no UTF-8, as the file system gave them
        # (held as lone surrogates): the generated files are UTF-8.
        raise click.BadParameter(
            f"{_shown(value)} is not valid UTF-8 (the file system holds its name as bytes"
            " no UTF-8 file can say); rename it, or give another path",
            param_hint=option,
        ) from None
    path = Path(os.path.normpath(path))
    too_long = _too_long(str(path))
    if too_long is not None:
        raise click.BadParameter(f"{value!r} {too_long}", param_hint=option)
    return path


#: The paths a target's file cannot hold, by target and option: (test, why
#: not). The paths are absolute, normalised, UTF-8 and free of control
#: characters and quotes already (:func:`_check_path`).
_PATH_LIMITS: dict[tuple[str, str], list[tuple[Callable[[str], bool], str]]] = {
    ("systemd", "--directory"): [
        (
            lambda path: "\\" in path,
            "systemd reads a backslash in WorkingDirectory= as it is, but at its end as a"
            " line continuation that swallows the next line",
        ),
        (
            lambda path: path != path.rstrip(" \t"),
            "systemd drops the blanks at the end of WorkingDirectory=",
        ),
    ],
    ("gunicorn", "--directory"): [
        (
            lambda path: path != path.strip(),
            "gunicorn strips the whitespace at the ends of chdir",
        ),
    ],
    ("systemd", "--venv"): [
        (
            lambda path: "\\" in path or "'" in path,
            "systemd refuses a backslash or a quote in the executable's path",
        ),
    ],
}
# supervisor writes --directory and --log-dir as they are: its ConfigParser
# ends a value at a ; or # after whitespace and strips it, and supervisor
# replaces %(here)s in it before anything else.
_SUPERVISOR_VALUE_LIMITS: list[tuple[Callable[[str], bool], str]] = [
    (
        lambda path: "%(here)s" in path,
        "supervisor replaces %(here)s with its configuration file's directory",
    ),
    (
        lambda path: any(
            c in ";#" and path[at - 1].isspace() for at, c in enumerate(path) if at
        ),
        "supervisor reads ';' or '#' after whitespace as a comment and cuts the value there",
    ),
    (
        lambda path: path[-1:].isspace(),
        "supervisor drops the whitespace at the end of a value",
    ),
]
_PATH_LIMITS["supervisor", "--directory"] = _SUPERVISOR_VALUE_LIMITS
_PATH_LIMITS["supervisor", "--log-dir"] = [
    *_SUPERVISOR_VALUE_LIMITS,
    (
        lambda path: "%" in path,
        "supervisor expands % in a log file's name, twice in supervisor 4 (no escape"
        " holds in every version)",
    ),
]


def _check_target_path(target: str, option: str, path: Path) -> Path:
    """``path`` of ``option``, refused when the file of ``target`` cannot say it."""
    for test, why in _PATH_LIMITS.get((target, option), []):
        if test(str(path)):
            raise click.BadParameter(
                f"{_shown(str(path))} cannot be written in the {target} file: {why}."
                " Give a path without it.",
                param_hint=option,
            )
    return path


#: The largest numeric user id: systemd refuses 2**32 - 1 (and 65535, the
#: 16-bit -1), as most tools.
_UID_MAX = 4294967294
_UID_16BIT_INVALID = 65535


def _check_user(target: str, user: str | None, name: str) -> str:
    """``--user``, or the ``--name`` it defaults to, as the account to run as."""
    value = _check(_USER, user or name, "--user", "www-data")
    if target not in ("supervisor", "systemd"):
        return value  # written nowhere
    if value.isdigit() and (
        (len(value) > 1 and value.startswith("0"))
        or int(value) > _UID_MAX
        or int(value) == _UID_16BIT_INVALID
    ):
        raise click.BadParameter(
            f"{_shown(value)} is no user id systemd takes: 0 to {_UID_MAX} without"
            f" leading zeros, not {_UID_16BIT_INVALID}; or give an account name",
            param_hint="--user",
        )
    if user is None and (value == "root" or value.isdigit()):
        # --app root:app would run the app as root without anyone saying so.
        account = "root" if value in ("root", "0") else f"user id {value}"
        raise click.BadParameter(
            f"--user defaults to the --name, {value!r}, which would run the app as"
            f" {account}. Give the account with --user (one of its own, e.g."
            " --user www-data)",
            param_hint="--user",
        )
    return value


def _default_name(app: str | None) -> str:
    if not app:
        return "flask-app"
    module = app.split(":", 1)[0].removesuffix(".py").replace(os.sep, ".").strip(".")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", module.split(".", 1)[0]).strip("-._")
    return name or "flask-app"


def settings_from_options(
    target: str,
    *,
    app: str | None,
    name: str | None,
    bind: str,
    workers: int | None,
    threads: int | None,
    server_name: str,
    listen: str,
    user: str | None,
    directory: str | None,
    venv: str | None,
    log_dir: str,
    behind_proxy: bool,
    factory: bool | None = None,
) -> DeploySettings:
    """Validated settings from the ``deploy-config`` options, defaults filled in.

    Each value is checked against the syntax of the file of ``target``, as
    its own parser reads it (supervisor's ConfigParser, systemd's unit
    parser, nginx's ``server_name``...): a value it would cut, expand or
    read as something else is refused, never written.

    :param target: One of :data:`TARGETS`; only the proxies (:data:`PROXY_TARGETS`)
        can do without an app.
    :param app: The app as ``flask --app`` takes it (see :func:`parse_app`),
        or ``None`` if not given. A path is made absolute.
    :param name: Program, unit and file name; default: the app's top-level module.
    :param bind: ``HOST:PORT`` the app listens on.
    :param workers: gunicorn workers, or ``None`` for serve's default.
    :param threads: Threads per worker, or ``None`` for serve's default.
    :param server_name: The proxy's host names, separated by spaces (nginx
        ``server_name``; Apache ``ServerName`` then ``ServerAlias``).
    :param listen: Where the proxy listens: ``PORT`` or ``ADDRESS:PORT``.
    :param user: The account the app runs as; default: ``name``.
    :param directory: The app's working directory; default: the directory an
        app given by its absolute path is imported from, else the current one.
    :param venv: The virtual environment; default: this Python's.
    :param log_dir: supervisor's log directory.
    :param behind_proxy: Whether the app trusts one proxy hop.
    :param factory: gunicorn only: whether the name after ``--app``'s colon
        is a factory, when the module's source cannot tell (see
        :func:`gunicorn_app`); ``None`` when not said.
    :raises click.UsageError: No app for a target that runs one; ``factory``
        for another target than gunicorn.
    :raises click.BadParameter: A value that could break out of the file it
        goes into or that its reader would change, an ``--app`` Flask does
        not take, a default ``--user`` that is root, or a gunicorn app whose
        source does not say whether it is a factory; the message names the
        option and what it takes.

    .. versionchanged:: 0.1
        Values are checked against each target's syntax; ``factory`` added.
    """
    if app is None and target not in PROXY_TARGETS:
        raise click.UsageError("Say which app to run: --app module:app (or flask --app ...).")
    if factory is not None and target != "gunicorn":
        raise click.UsageError("--factory and --no-factory apply to --target gunicorn only.")
    given_values = {
        "--name": name,
        "--user": user,
        "--directory": directory,
        "--venv": venv,
        "--log-dir": log_dir,
    }
    for option, value in given_values.items():
        if value == "":
            # "--directory $DIR" with DIR unset: not the default, silently.
            raise click.BadParameter(
                "is empty: give a value, or leave the option out for its default",
                param_hint=option,
            )
    given = _check_path(directory, "--directory") if directory else None
    spec, absolute = None, False
    if app is not None:
        spec = parse_app(app, given or Path.cwd())
        absolute = spec.root is not None and os.path.isabs(_split_app(app)[0])
    if given is not None:
        where = given
    elif spec is not None and spec.root is not None and absolute:
        # An app given by its absolute path runs where it is imported from,
        # wherever this command ran.
        where = spec.root
    else:
        try:
            where = _check_path(os.getcwd(), "--directory")
        except (OSError, click.BadParameter) as error:
            raise click.BadParameter(
                f"the current directory cannot be the app's: {getattr(error, 'message', error)}"
                " Give --directory.",
                param_hint="--directory",
            ) from None
    where = _check_target_path(target, "--directory", where)
    host, port = _check_bind(bind)
    default_name = _default_name(spec.module if spec is not None else None)
    name = _check(_NAME, name or default_name, "--name", "myapp")
    settings = DeploySettings(
        app=spec.flask if spec is not None else "app",
        name=name,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        server_name=_check_server_name(target, server_name),
        listen=_check_listen(listen),
        user=_check_user(target, user, name),
        directory=where,
        venv=_check_target_path(target, "--venv", _check_path(venv or sys.prefix, "--venv")),
        behind_proxy=behind_proxy,
        log_dir=_check_target_path(target, "--log-dir", _check_path(log_dir, "--log-dir")),
        factory=factory,
    )
    if target == "gunicorn":
        if (
            spec is not None
            and spec.root is not None
            and str(spec.root).strip() != str(spec.root)
        ):
            raise click.BadParameter(
                f"{_shown(app or '')} is imported from {_shown(str(spec.root))}, which gunicorn"
                " would strip of the whitespace at its ends (pythonpath). Give a path"
                " without it.",
                param_hint="--app",
            )
        # What the module's source says of the app, asked now: a file that
        # cannot be written is refused before anything else is said.
        gunicorn_app(settings.app, settings.directory, factory)
    return settings


def deployment_warnings(target: str, settings: DeploySettings) -> list[str]:
    """What the file for ``target`` would get wrong with these settings, in words.

    Not errors: the operator may know better (a firewall, a bind mount).

    :param target: One of :data:`TARGETS`.
    :param settings: What the file says.
    """
    found = []
    if settings.behind_proxy and target not in PROXY_TARGETS and not settings.loopback:
        found.append(forgeable_forwarding_warning(settings.bind, 1, "pass --no-behind-proxy"))
    spec = parse_app(settings.app, settings.directory)
    if target == "gunicorn" and spec.path is not None and not spec.path.exists():
        found.append(
            f"Warning: {spec.path} does not exist here: the file imports it as module"
            f" {spec.module!r} from {spec.root}, as if no package held it. Generate the"
            " file where the app is, or give --app as a module and --directory."
        )
    temporary = ("/tmp", "/var/tmp")  # noqa: S108 - only compared with, never used
    if target == "systemd" and _under(settings.directory, *temporary):
        found.append(
            f"Warning: {settings.directory} is under a temporary directory, which the unit's"
            " PrivateTmp=yes hides from the app."
        )
    if target == "systemd" and _under(settings.venv, *temporary):
        found.append(
            f"Warning: the virtual environment {settings.venv} is under a temporary"
            " directory, which the unit's PrivateTmp=yes hides from the app: systemd"
            " would not find its flask. Install it elsewhere, e.g. under /srv or /opt."
        )
    if (
        target == "systemd"
        and spec.path is not None
        and _under(spec.path, *temporary)
        and not _under(settings.directory, *temporary)
    ):
        found.append(
            f"Warning: the app {spec.path} is under a temporary directory, which the unit's"
            " PrivateTmp=yes hides from the app."
        )
    return found


__all__ = [
    "APP_FORMS",
    "PROXY_TARGETS",
    "TARGETS",
    "AppSpec",
    "DeploySettings",
    "deployment_warnings",
    "file_name",
    "gunicorn_app",
    "import_location",
    "install_hint",
    "parse_app",
    "render",
    "settings_from_options",
]
