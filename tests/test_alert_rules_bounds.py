"""``flask prodguard alert-rules`` writes only what its targets accept.

The thresholds and the window are checked against each target before a file
is written: a value out of range is a usage error (status 2) that names the
option and the range, and no file. The bounds are the targets' own:

- Prometheus (and the promtool unit tests written with the rules): a range of
  at most 153722867 minutes (2**63 - 1 nanoseconds); thresholds up to
  2**53 - 1, the largest whole number a float holds exactly. The largest
  values pass the real ``promtool check rules`` and ``promtool test rules``;
  one more fails promtool, and ``alert-rules`` refuses it.
- Loki: 43260 minutes (its default ``max_query_length``, 721h); CloudWatch:
  10080 (an alarm evaluates at most 7 days); Datadog: 2880 (a log monitor's
  longest time window); Elastic and Google Cloud: no limit of their own, the
  same bound as Prometheus.

Every case runs the real ``flask prodguard alert-rules`` command line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask_prodguard.exceptions import ConfigurationError
from flask_prodguard.tools import alert_rules as alerting

from servers import require_program
from servers import server_environ

FLASK = str(Path(sys.executable).with_name("flask"))
MAX_THRESHOLD = 2**53 - 1
#: The longest window each target takes, in minutes: the numbers the docs give.
MAX_WINDOW = {
    "prometheus": 153722867,
    "loki": 43260,
    "cloudwatch": 10080,
    "datadog": 2880,
    "elastic": 153722867,
    "gcp": 153722867,
}


def alert_rules(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``flask prodguard alert-rules *args`` in ``cwd``."""
    return subprocess.run(
        [FLASK, "prodguard", "alert-rules", *args],
        cwd=cwd,
        env=server_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real ``promtool *args`` in ``cwd``."""
    return subprocess.run(
        [require_program("promtool"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def generate_prometheus(tmp_path: Path, *options: str) -> Path:
    """The Prometheus files written with ``options``; their directory."""
    out = tmp_path / "prometheus"
    result = alert_rules("--target", "prometheus", "--output", str(out), *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return out


LARGEST = [
    "--window", str(MAX_WINDOW["prometheus"]),
    "--probe-threshold", str(MAX_THRESHOLD),
    "--error-threshold", str(MAX_THRESHOLD),
]  # fmt: skip


def test_the_largest_values_pass_promtool(tmp_path: Path) -> None:
    """The longest window and the largest thresholds give rules promtool checks,
    and their unit tests pass."""
    out = generate_prometheus(tmp_path, *LARGEST)
    rules = (out / "prodguard.rules.yml").read_text()
    assert f"[{MAX_WINDOW['prometheus']}m]" in rules and f"> {MAX_THRESHOLD}" in rules
    check = promtool("check", "rules", "prodguard.rules.yml", cwd=out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout
    test = promtool("test", "rules", "prodguard.rules.test.yml", cwd=out)
    assert test.returncode == 0, test.stdout + test.stderr
    assert "SUCCESS" in test.stdout + test.stderr


def test_one_minute_more_fails_promtool(tmp_path: Path) -> None:
    """The bound is promtool's: the same rules with a window one minute longer
    are refused by ``promtool check rules`` (duration out of range)."""
    out = generate_prometheus(tmp_path, *LARGEST)
    path = out / "prodguard.rules.yml"
    longest = f"{MAX_WINDOW['prometheus']}m"
    path.write_text(path.read_text().replace(longest, f"{MAX_WINDOW['prometheus'] + 1}m"))
    check = promtool("check", "rules", "prodguard.rules.yml", cwd=out)
    assert check.returncode != 0
    assert "duration out of range" in check.stdout + check.stderr


def test_a_threshold_one_larger_fails_the_promtool_tests(tmp_path: Path) -> None:
    """The bound is the unit tests' too: with every number of the rules and their
    tests one larger (threshold 2**53), ``promtool test rules`` fails: 2**53 + 1
    events read as 2**53, which is not above the threshold."""
    out = generate_prometheus(tmp_path, *LARGEST)
    numbers = {str(MAX_THRESHOLD + n): str(MAX_THRESHOLD + n + 1) for n in (0, 1, 5)}
    pattern = re.compile("|".join(numbers))
    files = [out / "prodguard.rules.yml", out / "prodguard.rules.test.yml"]
    texts = [path.read_text() for path in files]
    assert all(any(number in text for text in texts) for number in numbers)
    for path, text in zip(files, texts, strict=True):
        path.write_text(pattern.sub(lambda m: numbers[m.group()], text))
    assert promtool("check", "rules", "prodguard.rules.yml", cwd=out).returncode == 0
    test = promtool("test", "rules", "prodguard.rules.test.yml", cwd=out)
    assert test.returncode != 0, test.stdout + test.stderr


@pytest.mark.parametrize(
    ("option", "value", "shown"),
    [
        ("--window", MAX_WINDOW["prometheus"] + 1, "1<=x<=153722867"),
        ("--window", 0, "1<=x<=153722867"),
        ("--probe-threshold", MAX_THRESHOLD + 1, f"0<=x<={MAX_THRESHOLD}"),
        ("--error-threshold", MAX_THRESHOLD + 1, f"0<=x<={MAX_THRESHOLD}"),
        ("--probe-threshold", -1, f"0<=x<={MAX_THRESHOLD}"),
    ],
)
def test_one_more_than_prometheus_takes_is_refused(
    tmp_path: Path, option: str, value: int, shown: str
) -> None:
    """A value promtool would reject: status 2, the option and the range named,
    and no file written."""
    out = tmp_path / "out"
    result = alert_rules(
        "--target", "prometheus", "--output", str(out), option, str(value), cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for '{option}': {value} is not in the range {shown}." in (
        result.stderr
    )
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("target", list(MAX_WINDOW))
def test_each_targets_longest_window_is_written(tmp_path: Path, target: str) -> None:
    """Each target's longest window is accepted and reaches its files."""
    most = MAX_WINDOW[target]
    result = alert_rules("--target", target, "--window", str(most), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    expected = {
        "prometheus": f"[{most}m]",
        "loki": f"[{most}m]",
        "datadog": f'.last(\\"{most}m\\")',
        "elastic": f'"timeWindowSize": {most}',
        "gcp": f'"period": "{most * 60}s"',
    }
    if target == "cloudwatch":
        periods = {
            resource["Properties"]["Period"]
            for resource in json.loads(text)["Resources"].values()
            if resource["Type"] == "AWS::CloudWatch::Alarm"
        }
        # An alarm evaluates at most 604800 seconds: Period x EvaluationPeriods (1).
        assert periods == {604800}
    else:
        assert expected[target] in text, text[:2000]


@pytest.mark.parametrize("target", ["loki", "cloudwatch", "datadog"])
def test_one_minute_more_than_a_target_takes_is_refused(tmp_path: Path, target: str) -> None:
    """A window one minute longer than the target takes: status 2, the option,
    the target's range and the reason named, nothing printed."""
    most = MAX_WINDOW[target]
    result = alert_rules("--target", target, "--window", str(most + 1), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert (
        f"Invalid value for '--window': {most + 1} minutes is out of range for target"
        f" {target!r}: 1 to {most} ("
    ) in result.stderr
    assert result.stdout == ""


def test_the_bounds_are_the_documented_ones() -> None:
    """The module's bounds are the numbers this file (and the docs) give."""
    assert alerting.MAX_THRESHOLD == MAX_THRESHOLD
    assert {target: most for target, (most, _) in alerting.MAX_WINDOW.items()} == MAX_WINDOW
    assert set(alerting.MAX_WINDOW) == set(alerting.TARGETS)


@pytest.mark.parametrize(
    ("arguments", "key"),
    [
        ({"window_minutes": MAX_WINDOW["prometheus"] + 1}, "--window"),
        ({"window_minutes": 0}, "--window"),
        ({"probes": MAX_THRESHOLD + 1}, "--probe-threshold"),
        ({"errors": -1}, "--error-threshold"),
        ({"probes": True}, "--probe-threshold"),
        ({"window_minutes": 5.5}, "--window"),
    ],
)
def test_thresholds_no_target_takes_are_refused_from_python(
    arguments: dict[str, object], key: str
) -> None:
    """``Thresholds`` refuses what no target takes, naming the option."""
    with pytest.raises(ConfigurationError) as caught:
        alerting.Thresholds(**arguments)  # type: ignore[arg-type]
    assert caught.value.key == key


def test_render_refuses_a_window_its_target_does_not_take() -> None:
    """``render`` checks the window against the target, as the command does."""
    longest = alerting.Thresholds(window_minutes=MAX_WINDOW["datadog"] + 1)
    with pytest.raises(ConfigurationError, match="1 to 2880"):
        alerting.render("datadog", longest)
    assert alerting.render("prometheus", longest)
