"""The documentation builds without a warning, is generated from the code, and
every example in it runs.

- The HTML build runs with warnings as errors (``-W``), as ``tox -e docs``
  does. It also runs every ``prodguard-command`` (a command whose real output
  the page shows), so a command that fails, or exits differently than the
  page says, fails the build.
- The doctest build runs every ``testcode`` block (the Python examples) and
  compares ``testoutput``.
- The ``prodguard-shell`` blocks (installing, serving) are run here: see
  ``docs/_ext/prodguard_docs.py`` for the modes.
- No example escapes this: a page may not hold a plain Python, console or
  literal code block.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
from flask_prodguard.checks import REGISTRY
from flask_prodguard.config import KEYS
from flask_prodguard.events.catalogue import CATALOGUE

from servers import stop_process_group
from servers import wait_for

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
from prodguard_docs import command_environ  # noqa: E402 - the docs' own helper

PAGES = sorted(DOCS.glob("*.rst"))

#: The pages the documentation must have (the docs issue lists them).
REQUIRED_PAGES = (
    "quickstart",
    "concepts",
    "configuration",
    "events",
    "checks",
    "errors",
    "cli",
    "deployment",
    "alerting",
    "testing",
    "performance",
    "security",
    "api",
    "changes",
)


def sphinx(builder: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODGUARD_", "FLASK_"))}
    env.pop("DOCS_INTERSPHINX", None)  # offline: no inventories to fetch
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-E",
            "-W",
            "--keep-going",
            "-b",
            builder,
            "docs",
            out,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    result = sphinx("html", out)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return out


def test_html_builds_without_warnings(html: Path) -> None:
    """sphinx-build -W succeeds and writes every required page."""
    for page in REQUIRED_PAGES:
        assert (html / f"{page}.html").is_file(), page


def test_index_links_every_page(html: Path) -> None:
    """Every page is reachable from the front page's table of contents."""
    index = (html / "index.html").read_text()
    for page in PAGES:
        if page.stem != "index":
            assert f'href="{page.stem}.html' in index, page.stem


def test_configuration_reference_has_every_key(html: Path) -> None:
    """Each PRODGUARD_* key has its own anchored entry in the configuration page."""
    page = (html / "configuration.html").read_text()
    for key in KEYS.values():
        assert f'id="config-{key.argument.replace("_", "-")}"' in page, key.name
        assert key.name in page


def test_event_reference_has_every_event(html: Path) -> None:
    """Each event of the catalogue has an anchored entry in the events page."""
    page = (html / "events.html").read_text()
    for name in CATALOGUE:
        anchor = "event-" + name.replace(".", "-").replace("_", "-")
        assert f'id="{anchor}"' in page, name


def test_event_schema_is_the_shipped_file(html: Path) -> None:
    """The events page shows the JSON Schema file the package ships."""
    page = (html / "events.html").read_text()
    assert "event.schema.json" in page
    assert "&quot;schema_version&quot;" in page or '"schema_version"' in page
    # The schema's $id appears nowhere else: the file itself is on the page.
    schema = json.loads((ROOT / "flask_prodguard" / "schema" / "event.schema.json").read_text())
    assert schema["$id"] in page


def test_checks_reference_anchors_what_findings_link_to(html: Path) -> None:
    """Each check has the anchor its finding's docs link points at."""
    page = (html / "checks.html").read_text()
    for check_id in REGISTRY:
        assert f'id="{check_id.lower()}"' in page, check_id


def test_python_examples_run() -> None:
    """The doctest builder runs every testcode block of every page, without a failure."""
    out = DOCS / "_build" / "doctest-test"
    result = sphinx("doctest", out)
    shutil.rmtree(out, ignore_errors=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr
    summary = re.search(r"(\d+) tests?\s*\n\s*(\d+) failures? in tests", result.stdout)
    assert summary is not None, result.stdout[-3000:]
    assert int(summary.group(1)) >= 20
    assert summary.group(2) == "0"


_PLAIN_CODE = re.compile(r"^\s*\.\. (code-block|code|sourcecode|highlight|doctest)::")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_example_escapes_the_tests(page: Path) -> None:
    """A page shows code only through blocks the tests run (testcode, commands, shells)."""
    lines = page.read_text().splitlines()
    plain = [n for n, line in enumerate(lines, 1) if _PLAIN_CODE.match(line)]
    # "::" at the end of a paragraph starts a literal block nothing would run.
    literal = [
        n
        for n, line in enumerate(lines, 1)
        if line.rstrip().endswith("::") and not line.lstrip().startswith("..")
    ]
    doctest_blocks = [n for n, line in enumerate(lines, 1) if line.lstrip().startswith(">>>")]
    assert plain == [], f"{page.name}: plain code blocks at lines {plain}"
    assert literal == [], f"{page.name}: literal blocks at lines {literal}"
    assert doctest_blocks == [], f"{page.name}: >>> blocks at lines {doctest_blocks}"


# -- prodguard-shell blocks ----------------------------------------------------


@dataclass
class ShellBlock:
    page: str
    line: int
    options: dict[str, str] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def shell_blocks() -> list[ShellBlock]:
    blocks = []
    for page in PAGES:
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.strip() != ".. prodguard-shell::":
                continue
            indent = len(line) - len(line.lstrip()) + 3
            block = ShellBlock(page.name, number + 1)
            for body in lines[number + 1 :]:
                if body.strip() and len(body) - len(body.lstrip()) < indent:
                    break
                text = body.strip()
                if match := re.fullmatch(r":([\w-]+):\s*(.*)", text):
                    if not block.commands:
                        block.options[match.group(1)] = match.group(2)
                        continue
                if text:
                    block.commands.append(text)
            blocks.append(block)
    return blocks


SHELL_BLOCKS = shell_blocks()


def shell_environ(block: ShellBlock) -> dict[str, str]:
    return command_environ(block.options.get("env", ""))


def working_copy(block: ShellBlock, tmp_path: Path) -> Path:
    """A copy of the block's directory (``examples`` by default) to run in."""
    source = ROOT / block.options.get("cwd", "examples")
    target = tmp_path / source.name
    skip = shutil.ignore_patterns(
        "__pycache__", ".venv", ".git", ".tox", "_build", ".*_cache", ".hypothesis"
    )
    shutil.copytree(source, target, ignore=skip)
    return target


def extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["optional-dependencies"])


def check_install(command: str) -> None:
    words = shlex.split(command)
    assert words[:2] == ["pip", "install"] or words[1:4] == ["-m", "pip", "install"], command
    requirements = [w for w in words if not w.startswith("-") and "install" not in w]
    requirements = [w for w in requirements if w not in ("pip", "python", "python3")]
    assert requirements, command
    for requirement in requirements:
        match = re.fullmatch(r"(flask-prodguard|\.)(?:\[([\w,-]+)\])?", requirement)
        assert match, f"{command}: {requirement} is not this project"
        wanted = set(filter(None, (match.group(2) or "").split(",")))
        assert wanted <= extras(), f"{command}: unknown extras {wanted - extras()}"


def serve(command: str, url: str, cwd: Path, env: dict[str, str]) -> None:
    log = cwd / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            shlex.split(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    statuses: list[int] = []

    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
        return True

    try:
        wait_for(
            answers,
            f"{command} answering {url}",
            timeout=40,
            process=proc,
            details=lambda: log.read_text(errors="replace"),
        )
    finally:
        stop_process_group(proc, timeout=20)
    assert statuses and statuses[-1] < 500, (statuses, log.read_text(errors="replace"))


def test_there_are_shell_blocks() -> None:
    """The shell-block collector finds the install, run and serve examples."""
    modes = {block.options.get("mode", "run") for block in SHELL_BLOCKS}
    assert modes == {"run", "serve", "install"}


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.id)
def test_shell_block_runs(block: ShellBlock, tmp_path: Path) -> None:
    """Each shell example does what the page says: installs, runs or serves."""
    mode = block.options.get("mode", "run")
    assert block.commands, block.id
    if mode == "install":
        for command in block.commands:
            check_install(command)
        return
    cwd = working_copy(block, tmp_path)
    env = shell_environ(block)
    if mode == "serve":
        assert len(block.commands) == 1, "a serve block holds one command"
        serve(block.commands[0], block.options["url"], cwd, env)
        return
    for command in block.commands:
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
