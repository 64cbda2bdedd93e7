"""The README stays true: its commands and its tables match the code."""

from __future__ import annotations

import re
from pathlib import Path

from flask_prodguard.config import KEYS
from flask_prodguard.events.catalogue import CATALOGUE

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
CI_RUN = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """.ci/run runs the README's test command, character for character."""
    commands = re.findall(r"```sh\n(.+?)\n```", README, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command.strip() in CI_RUN


def test_every_config_key_documented() -> None:
    """Each PRODGUARD_* key appears in the README's configuration table."""
    for name in KEYS:
        assert f"| `{name}` |" in README, name


def test_every_event_documented() -> None:
    """Each event of the catalogue appears in the README's event table."""
    for name in CATALOGUE:
        assert f"`{name}`" in README, name
