"""Sphinx directives that generate the reference pages from the code.

- ``prodguard-config``: the ``PRODGUARD_*`` keys, from ``flask_prodguard.config``.
- ``prodguard-policy``: the policy table, from ``flask_prodguard.policy.POLICY``.
- ``prodguard-fields``: the fields every event (and every request event) has.
- ``prodguard-events``: the event catalogue, from ``flask_prodguard.events.catalogue``.
- ``prodguard-checks``: the deployment checks, from the check registry.
- ``prodguard-command``: runs a command while the docs are built and shows it
  with its real output; a different exit status than expected fails the build.
- ``prodguard-shell``: shows shell commands that cannot run during a build
  (installing, starting a server). ``tests/test_docs.py`` runs them: ``:mode:
  run`` runs each line and expects exit status 0, ``:mode: serve`` starts the
  command, waits until ``:url:`` answers and stops it with SIGTERM, ``:mode:
  install`` checks that each ``pip install`` names this project and extras it
  has.

Everything is rendered as reStructuredText and parsed in place, so the pages
get the same anchors, tables and cross-references as hand-written ones.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from flask_prodguard import checks
from flask_prodguard import config
from flask_prodguard import policy
from flask_prodguard.events import catalogue
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

#: The repository root: ``prodguard-command`` runs relative to it.
ROOT = Path(__file__).resolve().parents[2]


def command_environ(pairs: str = "") -> dict[str, str]:
    """The environment of a documented command: this process's, without any
    ``PRODGUARD_*``, ``FLASK_*``, ``WERKZEUG_*`` or ``GUNICORN_*`` variable,
    the virtualenv first on ``PATH``, plus ``pairs`` (``NAME=value ...``).

    ``tests/test_docs.py`` runs the ``prodguard-shell`` blocks with it too.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PRODGUARD_", "FLASK_", "WERKZEUG_", "GUNICORN_"))
    }
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    for pair in shlex.split(pairs):
        name, _, value = pair.partition("=")
        env[name] = value
    return env


class _Generated(SphinxDirective):
    """A directive whose content is reStructuredText generated from the code."""

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        source = self.get_source_info()[0] or "<generated>"
        content = StringList(self.lines(), source=source)
        nested_parse_with_titles(self.state, content, container)
        return list(container.children)


def _list_table(header: list[str], rows: list[list[str]], widths: str) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header, *rows]:
        first, *rest = row
        lines.append(f"   * - {first}")
        lines.extend(f"     - {cell}" for cell in rest)
    lines.append("")
    return lines


def _literal(value: object) -> str:
    if value is None:
        return "(decided by other settings)"
    if value == ():
        return "``[]``"
    return f"``{value!r}``"


def _attr_docs(module: str) -> dict[str, str]:
    """The ``#:`` comments of a module's top-level names, joined per name."""
    found = ModuleAnalyzer.for_module(module).find_attr_docs()
    return {
        name: " ".join(line.strip() for line in doc).strip() for (_, name), doc in found.items()
    }


class ConfigReference(_Generated):
    """Every configuration key, generated from ``flask_prodguard.config``."""

    def lines(self) -> list[str]:
        comments = _attr_docs("flask_prodguard.config")
        by_key = {
            value.name: comments.get(attr, value.doc)
            for attr, value in vars(config).items()
            if isinstance(value, config.Key)
        }
        out: list[str] = []
        for key in config.KEYS.values():
            out += [f".. _config-{key.argument.replace('_', '-')}:", ""]
            out += [key.name, "~" * len(key.name), ""]
            out += [by_key.get(key.name, key.doc), ""]
            rows = [
                ["Keyword argument", f"``ProdGuard(app, {key.argument}=...)``"],
                ["Default", _literal(key.default)],
                ["Allowed values", key.allowed],
                [
                    "Environment variable",
                    f"``{key.name}`` overrides code" if key.env_override else "not read",
                ],
            ]
            out += _list_table(["Setting", "Value"], rows, "25 75")
        return out


class PolicyTable(_Generated):
    """The policy table: condition by strictness, generated from ``POLICY``."""

    def lines(self) -> list[str]:
        comments = _attr_docs("flask_prodguard.policy")
        rows = []
        for condition in policy.Condition:
            doc = comments.get(condition.name, "")
            actions = [f"``{policy.action_for(condition, s)}``" for s in policy.Strictness]
            rows.append([f"``{condition}``: {doc}", *actions])
        header = ["Condition", *(f"``{s}``" for s in policy.Strictness)]
        return _list_table(header, rows, "52 12 12 12 12")


def _field_rows(fields: tuple[catalogue.Field, ...]) -> list[list[str]]:
    rows = []
    for field in fields:
        kind = field.type if isinstance(field.type, str) else " or ".join(field.type)
        rows.append([f"``{field.name}``", kind, field.doc])
    return rows


class CommonFields(_Generated):
    """The fields shared by all events, or by all request events (``:request:``)."""

    option_spec = {"request": directives.flag}

    def lines(self) -> list[str]:
        fields = (
            catalogue.REQUEST_FIELDS if "request" in self.options else catalogue.COMMON_FIELDS
        )
        return _list_table(["Field", "Type", "Meaning"], _field_rows(fields), "22 18 60")


class EventCatalogue(_Generated):
    """One section per event of the catalogue."""

    def lines(self) -> list[str]:
        out: list[str] = []
        for spec in catalogue.CATALOGUE.values():
            anchor = "event-" + spec.name.replace(".", "-").replace("_", "-")
            out += [f".. _{anchor}:", "", spec.name, "~" * len(spec.name), ""]
            out += [spec.meaning, ""]
            facts = [f"level ``{spec.level}``"]
            if spec.owasp:
                facts.append(f"OWASP vocabulary ``{spec.owasp}``")
            if spec.request:
                facts.append("a request event (carries the request fields)")
            if spec.rate_limited:
                budget = "" if spec.burst_factor == 1 else f", {spec.burst_factor}× the burst"
                facts.append(f"flood-controlled{budget}")
            if spec.alert:
                facts.append("alerting rules fire on it")
            out += ["* " + fact for fact in facts] + [""]
            if spec.fields:
                fields = tuple(catalogue.FIELDS[name] for name in spec.fields)
                out += _list_table(
                    ["Field", "Type", "Meaning"], _field_rows(fields), "22 18 60"
                )
        return out


class ChecksReference(_Generated):
    """The deployment checks page, as ``flask_prodguard.checks`` generates it."""

    def lines(self) -> list[str]:
        return checks.checks_reference().splitlines()


class Command(SphinxDirective):
    """Run a command at build time; show ``$ command`` and its output.

    Options: ``:cwd:`` (relative to the repository root, default the root),
    ``:env:`` (``NAME=value`` pairs separated by spaces), ``:returncode:``
    (default 0), ``:max-lines:`` (cut the shown output, marking the cut), and
    ``:prompt:`` (the command as shown, when it differs from what runs, e.g.
    without an absolute path). The process gets no ``PRODGUARD_*`` or
    ``FLASK_*`` variables except those given, and the virtualenv first on
    ``PATH``.
    """

    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {
        "cwd": directives.unchanged,
        "env": directives.unchanged,
        "returncode": directives.nonnegative_int,
        "max-lines": directives.positive_int,
        "prompt": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        command = self.arguments[0]
        cwd = ROOT / self.options.get("cwd", ".")
        env = command_environ(self.options.get("env", ""))
        env["COLUMNS"] = "88"
        env["NO_COLOR"] = "1"
        try:
            result = subprocess.run(
                shlex.split(command),
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise self.error(f"prodguard-command {command!r} could not run: {error}") from None
        expected = self.options.get("returncode", 0)
        output = (result.stdout + result.stderr).rstrip("\n")
        if result.returncode != expected:
            raise self.error(
                f"prodguard-command {command!r} exited with {result.returncode},"
                f" not {expected}:\n{textwrap.indent(output, '    ')}"
            )
        lines = output.splitlines()
        limit = self.options.get("max-lines")
        if limit and len(lines) > limit:
            lines = [*lines[:limit], f"... ({len(lines) - limit} more lines)"]
        shown = self.options.get("prompt", command)
        text = "\n".join([f"$ {shown}", *lines])
        # Plain text: the output is whatever the program printed (a config
        # file's "# ..." comments would read as root prompts to a console lexer).
        block = nodes.literal_block(text, text, language="text")
        self.set_source_info(block)
        return [block]


class Shell(SphinxDirective):
    """Shell commands shown as typed; ``tests/test_docs.py`` runs them."""

    has_content = True
    option_spec = {
        "mode": lambda value: directives.choice(value, ("run", "serve", "install")),
        "cwd": directives.unchanged,
        "url": directives.unchanged,
        "env": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        if self.options.get("mode") == "serve" and "url" not in self.options:
            raise self.error("prodguard-shell :mode: serve needs :url:")
        text = "\n".join(f"$ {line}" for line in self.content if line.strip())
        block = nodes.literal_block(text, text, language="console")
        self.set_source_info(block)
        return [block]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("prodguard-config", ConfigReference)
    app.add_directive("prodguard-policy", PolicyTable)
    app.add_directive("prodguard-fields", CommonFields)
    app.add_directive("prodguard-events", EventCatalogue)
    app.add_directive("prodguard-checks", ChecksReference)
    app.add_directive("prodguard-command", Command)
    app.add_directive("prodguard-shell", Shell)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
