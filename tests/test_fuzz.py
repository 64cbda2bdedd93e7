"""The coverage-guided fuzzer over the guard's text handling, run as a bounded job.

``benchmarks/fuzz_text.py`` runs under atheris, which must own its process:
each test starts it in a subprocess. The run is seeded and bounded by a run
count (and a time cap, on a slow machine), so a failure is a violation found,
never a timing accident: the fuzzer prints the input and saves it under the
work directory. Longer runs: see the script's docstring.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris is installed for Python < 3.14 only")

FUZZER = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz_text.py"
#: About 20 s on the CI machine; the time cap bounds a slower one.
RUNS = 10_000
TIME_CAP_SECONDS = 45


def run_fuzzer(workdir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """Run the fuzzer in its own process with ``workdir`` for its inputs."""
    return subprocess.run(
        [sys.executable, str(FUZZER), "--workdir", str(workdir), *options],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # atheris prints the exception on stdout, libFuzzer on stderr
        text=True,
        errors="replace",
        timeout=TIME_CAP_SECONDS + 60,
    )


@pytest.mark.timeout(TIME_CAP_SECONDS + 90)
def test_fuzzer_finds_no_violation(tmp_path: Path) -> None:
    """A seeded, bounded fuzzing run breaks no invariant of sanitising, redaction or probes."""
    result = run_fuzzer(
        tmp_path, "--seed", "1", "--runs", str(RUNS), "--seconds", str(TIME_CAP_SECONDS)
    )
    crashes = sorted(path.name for path in tmp_path.glob("crash-*"))
    assert result.returncode == 0, f"{crashes}\n{result.stdout[-6000:]}"
    assert "Done " in result.stdout, result.stdout[-2000:]


@pytest.mark.timeout(TIME_CAP_SECONDS + 90)
def test_fuzzer_catches_a_planted_bug(tmp_path: Path) -> None:
    """With sanitise_text escaping nothing, the fuzzer exits non-zero and saves the input."""
    result = run_fuzzer(
        tmp_path, "--seed", "1", "--seconds", str(TIME_CAP_SECONDS), "--plant-bug", "escape"
    )
    assert result.returncode != 0, result.stdout[-2000:]
    assert "Violation" in result.stdout, result.stdout[-2000:]
    assert list(tmp_path.glob("crash-*")), "the failing input was not saved"
