"""The code base passes its own linters: ruff and mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["flask_prodguard", "tests", "examples", "benchmarks", "docs"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_check_clean() -> None:
    """ruff finds nothing to report."""
    result = _run("ruff", "check", *TARGETS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_clean() -> None:
    """The code is formatted as ruff formats it."""
    result = _run("ruff", "format", "--check", *TARGETS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    """mypy --strict finds no type errors in the package."""
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
