"""The README stays true: every example in it runs, and its tables match the code.

Every fenced block of the README is ``python`` or ``sh``, and each one is run
here, as the docs' examples are (``tests/test_docs.py``):

- The app of "Use it" is ``myapp.py`` in a fresh directory: the other examples
  name it ``myapp``. It is imported and must be guarded.
- A Python block with ``test_`` functions is a test file, run under pytest
  (where the bundled plugin makes ``testing`` the default environment, as in a
  reader's suite); a block with ``if __name__ == "__main__":`` that calls
  ``serve`` is run as a script and must answer HTTP.
- Each line of a shell block runs in that directory (``sh -c``) and must exit
  0; an alternative given in a ``# or: ...`` comment runs too. The app gets
  the settings of a deployment from ``FLASK_*`` variables (its factory calls
  ``from_prefixed_env``), so the checks pass as in a real one.

Exceptions, each still run in some form:

- Lines that start a server (``prodguard serve``, ``serve(app)``) run on a free
  port instead of the one written, until they answer, then get SIGTERM.
- "Try it": the demo command's install part is checked (this project, extras
  it has) and its gunicorn part serves the demo for real, with the pages the
  README lists; the test command installs and runs this whole suite, so it is
  checked against ``.ci/run``, which runs it unchanged.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import shlex
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask_prodguard.config import KEYS
from flask_prodguard.events.catalogue import CATALOGUE

from servers import Process
from servers import free_port
from servers import gunicorn_extra_options
from servers import json_events
from servers import server_environ
from servers import start_process

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
CI_RUN = (ROOT / ".ci" / "run").read_text()
BIN = Path(sys.executable).parent

#: Where the README's examples say the app lives: ``flask --app myapp ...``.
APP_MODULE = "myapp"


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    language: str
    #: Line number of the opening fence.
    line: int
    #: The ``##`` section it is in.
    section: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.language}-line-{self.line}"


def readme_blocks() -> list[Block]:
    """Every fenced block of the README, in order."""
    blocks = []
    section = ""
    lines = README.splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        if line.startswith("## "):
            section = line[3:].strip()
        if line.startswith("```"):
            body = []
            end = number + 1
            while not lines[end].startswith("```"):
                body.append(lines[end])
                end += 1
            blocks.append(Block(line[3:].strip(), number + 1, section, "\n".join(body) + "\n"))
            number = end
        number += 1
    return blocks


BLOCKS = readme_blocks()
[APP_BLOCK] = [b for b in BLOCKS if b.section == "Use it" and b.language == "python"]
TRY_IT = [b for b in BLOCKS if b.section.startswith("Try it")]
[DEMO_BLOCK] = [b for b in TRY_IT if "demo:create_app()" in b.text]


def deployment_environ() -> dict[str, str]:
    """A process environment without stray Flask or guard settings, the test
    venv first on ``PATH``, and the app's production settings, which the
    README's factory reads with ``from_prefixed_env``."""
    env = server_environ(
        FLASK_SECRET_KEY="k" + secrets.token_hex(32),
        FLASK_SESSION_COOKIE_SECURE="true",
        FLASK_SESSION_COOKIE_SAMESITE="Lax",
        FLASK_MAX_CONTENT_LENGTH=str(16 * 1024 * 1024),
    )
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory with the README's app as ``myapp.py``, and ``src/`` to scan."""
    (tmp_path / f"{APP_MODULE}.py").write_text(APP_BLOCK.text)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / f"{APP_MODULE}.py").write_text(APP_BLOCK.text)
    return tmp_path


def fetch(url: str) -> tuple[int, str]:
    """The HTTP status ``url`` answers with (an error status too), and the body."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def answers(url: str) -> int:
    """The HTTP status ``url`` answers with (an error status too)."""
    return fetch(url)[0]


def serve_until_it_answers(process: Process, port: int) -> int:
    """Wait until the server answers ``/``, stop it, and return the status."""
    try:
        return int(process.wait_for(lambda: answers(f"http://127.0.0.1:{port}/"), "answers"))
    finally:
        process.stop()


def on_port(words: list[str], port: int) -> list[str]:
    """A ``serve`` command line with its ``--bind`` (written or default) on ``port``."""
    words = list(words)
    if "--bind" in words:
        words[words.index("--bind") + 1] = f"127.0.0.1:{port}"
    else:
        words += ["--bind", f"127.0.0.1:{port}"]
    return words


def shell_commands(block: Block) -> list[str]:
    """The commands of a shell block: each line, then the ``# or:`` alternative."""
    commands = []
    for line in block.text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        commands.append(line)
        alternative = re.search(r"#\s*or:\s*(.+)$", line)
        if alternative:
            commands.append(alternative.group(1))
    return commands


def run_shell_block(block: Block, cwd: Path, tmp_path: Path) -> None:
    env = deployment_environ()
    for command in shell_commands(block):
        words = shlex.split(command, comments=True)
        if words[1:] and "prodguard" in words and "serve" in words:
            port = free_port()
            process = start_process(
                on_port(words, port), cwd, tmp_path / f"serve-{port}.log", env
            )
            status = serve_until_it_answers(process, port)
            assert status < 500, f"{command}\n{process.output()}"
            continue
        result = subprocess.run(
            command,
            shell=True,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"


def run_python_block(block: Block, cwd: Path, tmp_path: Path) -> None:
    env = deployment_environ()
    if block is APP_BLOCK:
        check = (
            f"from {APP_MODULE} import create_app\n"
            "app = create_app()\n"
            "assert 'prodguard' in app.extensions, app.extensions\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", check],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return
    tests = re.findall(r"^def (test_\w+)\(", block.text, re.M)
    if tests:
        (cwd / "test_readme_example.py").write_text(block.text)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{len(tests)} passed" in result.stdout, result.stdout
        return
    if 'if __name__ == "__main__":' in block.text and "serve(" in block.text:
        (cwd / "serve_example.py").write_text(block.text)
        port = free_port()
        # The script as written, with serve()'s port made free: 8000 may be taken.
        launcher = (
            "import functools, runpy, flask_prodguard\n"
            f"flask_prodguard.serve = functools.partial(flask_prodguard.serve, port={port})\n"
            "runpy.run_path('serve_example.py', run_name='__main__')\n"
        )
        process = start_process(
            [sys.executable, "-c", launcher], cwd, tmp_path / "serve.log", env
        )
        status = serve_until_it_answers(process, port)
        assert status < 500, process.output()
        return
    pytest.fail(f"README line {block.line}: no runner for this Python block; add one here")


# -- every block -----------------------------------------------------------------------


def test_examples_are_python_or_sh() -> None:
    """Every fenced block of the README is one this module runs."""
    assert {b.language for b in BLOCKS} == {"python", "sh"}, [b.id for b in BLOCKS]
    assert len(BLOCKS) >= 10


def starts_a_server(block: Block) -> bool:
    """Whether running the block starts a server (the ``server`` mark)."""
    return "prodguard serve" in block.text or (
        block.language == "python" and "serve(" in block.text
    )


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(b, id=b.id, marks=[pytest.mark.server] if starts_a_server(b) else [])
        for b in BLOCKS
        if b not in TRY_IT
    ],
)
def test_example_runs(block: Block, workdir: Path, tmp_path: Path) -> None:
    """Each Python and shell example of the README does what it says, as written."""
    if block.language == "python":
        run_python_block(block, workdir, tmp_path)
    else:
        run_shell_block(block, workdir, tmp_path)


# -- "Try it" --------------------------------------------------------------------------


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """.ci/run runs the README's test command (each block of Try it but the
    demo), character for character."""
    commands = [b for b in TRY_IT if b is not DEMO_BLOCK]
    assert commands
    for block in commands:
        assert block.text.strip() in CI_RUN, block.id


#: The pages the README sends the reader to, and what each must answer.
DEMO_PAGES = {
    "/": 200,
    "/boom": 500,
    "/console": 404,
    "/?__debugger__=yes&cmd=resource&f=debugger.js": 404,
}


@pytest.mark.server
def test_demo_command_serves_what_the_readme_says(tmp_path: Path) -> None:
    """The demo command installs this project and serves the demo on gunicorn
    with the pages and events the README describes."""
    venv, install, serve = (part.strip() for part in DEMO_BLOCK.text.strip().split("&&"))
    assert venv == "python3 -m venv .venv"
    words = shlex.split(install)
    assert words[:2] == [".venv/bin/pip", "install"] and "-e" in words, install
    [requirement] = [w for w in words[2:] if not w.startswith("-")]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    match = re.fullmatch(r"\.\[([\w,-]+)\]", requirement)
    assert match and "gunicorn" in match.group(1).split(","), requirement
    assert set(match.group(1).split(",")) <= set(extras), requirement

    argv = shlex.split(serve)
    assert argv[0] == ".venv/bin/gunicorn", serve
    port = free_port()
    # This venv's gunicorn, on a free port, without a control socket in $HOME.
    argv = [str(BIN / "gunicorn"), *on_port(argv[1:], port), *gunicorn_extra_options()]
    listed = re.findall(r"<http://127\.0\.0\.1:8000(/[^>]*)>", README)
    assert listed == list(DEMO_PAGES)
    process = start_process(argv, ROOT, tmp_path / "demo.log", server_environ())
    try:
        process.wait_for(lambda: answers(f"http://127.0.0.1:{port}/") == 200, "demo answers")
        for path, status in DEMO_PAGES.items():
            answer, page = fetch(f"http://127.0.0.1:{port}{path}")
            assert answer == status, (path, page)
            # "a generic 500, no traceback, no secret"
            for leak in ("hunter2", "Traceback", "RuntimeError"):
                assert leak not in page, (path, page)
    finally:
        process.stop()
    names = {event["event"] for event in json_events(process.output(), skip_invalid=True)}
    assert {"prodguard.debug.blocked", "prodguard.debugger.probe"} <= names, process.output()


# -- tables ----------------------------------------------------------------------------


def test_every_config_key_documented() -> None:
    """Each PRODGUARD_* key appears in the README's configuration table."""
    for name in KEYS:
        assert f"| `{name}` |" in README, name


def test_every_event_documented() -> None:
    """Each event of the catalogue appears in the README's event table."""
    for name in CATALOGUE:
        assert f"`{name}`" in README, name
