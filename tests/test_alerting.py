"""``flask prodguard alert-rules``: the generated rules, checked against real events.

Every target's files, generated with the default thresholds, are compared
byte for byte with the golden files in ``tests/golden/alerting/<target>/``.
After an intended change to :mod:`flask_prodguard.tools.alert_rules` or the catalogue,
rewrite them and review the diff::

    REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_alerting.py

Without that variable the comparison is exact and nothing is written.

Beyond the golden files: every alert event of the catalogue has a rule in
every target and no rule names an unknown event; the field each rule reads is
checked against a line the guard really wrote in the preset that target
expects (``PRODGUARD_LOG_FORMAT``); the mtail program runs (with Python's
``re`` and with mtail itself) on real lines; ``promtool`` checks and
unit-tests the Prometheus rules; the thresholds options change the numbers;
``docs/alerting.rst`` documents every alert and its runbook anchor.
``promtool``, ``mtail`` and ``amtool`` come from the Debian packages that
``.ci/run`` installs.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.events.catalogue import CATALOGUE
from flask_prodguard.testing import capture_events
from flask_prodguard.tools import alert_rules as alerting
from flask_prodguard.tools.cli import prodguard
from werkzeug.debug import DebuggedApplication

from servers import require_program

try:  # Only a cross-check: the suite must not depend on PyYAML.
    import yaml
except ImportError:  # pragma: no cover - depends on the environment
    yaml = None

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "alerting"
DOCS = ROOT / "docs" / "alerting.rst"
REGENERATE = os.environ.get("REGENERATE_GOLDEN") == "1"

TARGETS = list(alerting.TARGETS)
#: The PRODGUARD_LOG_FORMAT each target is written for (the first), and the
#: other presets whose lines it also reads correctly.
PRESETS_READ: dict[str, tuple[str, ...]] = {
    "prometheus": ("json",),
    "loki": ("json",),
    "cloudwatch": ("json",),
    "datadog": ("datadog", "json"),
    "elastic": ("ecs",),
    "gcp": ("gcp", "json"),
}
#: The field each target's rules select on, exactly as the rules write it.
FIELD_AS_WRITTEN = {
    "prometheus": "event",  # the label the mtail program fills from the line
    "loki": "event",
    "cloudwatch": "$.event",
    "datadog": "@event",
    "elastic": "event.action",
    "gcp": "jsonPayload.event",
}
ALERT_EVENTS = [spec.name for spec in CATALOGUE.values() if spec.alert]
#: Fields Cloud Logging moves out of jsonPayload into the LogEntry itself.
GCP_SPECIAL_FIELDS = frozenset(
    {
        "severity",
        "httpRequest",
        "time",
        "timestamp",
        "timestampSeconds",
        "timestampNanos",
        "logging.googleapis.com/insertId",
        "logging.googleapis.com/labels",
        "logging.googleapis.com/operation",
        "logging.googleapis.com/sourceLocation",
        "logging.googleapis.com/spanId",
        "logging.googleapis.com/trace",
        "logging.googleapis.com/trace_sampled",
    }
)

_app_numbers = itertools.count()


# -- a small YAML reader ---------------------------------------------------------------
#
# The generated YAML uses block mappings and sequences, plain scalars, integers,
# "[]" and quoted strings (double-quoted ones are JSON strings). This reader
# accepts exactly that and fails on anything else, so it checks the structure
# without PyYAML; when PyYAML is installed the two must agree.


@dataclasses.dataclass
class _Line:
    number: int
    indent: int
    text: str


_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):(?: (.+))?$")


def _scalar(text: str, number: int) -> Any:
    if text.startswith('"'):
        # Raises on anything but one complete JSON value; with a quote first, a string.
        return json.loads(text)
    if text.startswith("'"):
        assert text.endswith("'") and len(text) >= 2, (number, text)
        inner = text[1:-1]
        assert "'" not in inner.replace("''", ""), (number, text)
        return inner.replace("''", "'")
    if text == "[]":
        return []
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    assert not re.search(r"^[-?:,\[\]{}#&*!|>%@`]|: | #", text), (number, text)
    return text


def _block(lines: list[_Line], i: int, indent: int) -> tuple[Any, int]:
    line = lines[i]
    assert line.indent == indent, (line.number, line.text)
    if line.text == "-" or line.text.startswith("- "):
        items = []
        while i < len(lines) and lines[i].indent == indent:
            item = lines[i]
            assert item.text.startswith("- "), (item.number, item.text)
            # The item's content is a block two columns further in.
            lines[i] = _Line(item.number, indent + 2, item.text[2:])
            value, i = _block(lines, i, indent + 2)
            items.append(value)
        return items, i
    if not _KEY.match(line.text):
        return _scalar(line.text, line.number), i + 1
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i].indent == indent:
        line = lines[i]
        match = _KEY.match(line.text)
        assert match, (line.number, line.text)
        key, rest = match.groups()
        assert key not in mapping, f"line {line.number}: duplicate key {key}"
        i += 1
        if rest is not None:
            mapping[key] = _scalar(rest, line.number)
        else:
            assert i < len(lines) and lines[i].indent > indent, f"line {line.number}: empty"
            mapping[key], i = _block(lines, i, lines[i].indent)
    assert i == len(lines) or lines[i].indent < indent, (lines[i].number, lines[i].text)
    return mapping, i


def load_yaml(text: str) -> Any:
    """Parse the generated YAML (a strict subset); cross-checked with PyYAML if present."""
    assert "\t" not in text and text.endswith("\n")
    lines = [
        _Line(number, len(raw) - len(raw.lstrip(" ")), raw.strip())
        for number, raw in enumerate(text.split("\n"), 1)
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
    data, end = _block(lines, 0, 0)
    assert end == len(lines), (lines[end].number, lines[end].text)
    if yaml is not None:
        assert yaml.safe_load(text) == data
    return data


# -- what a rule selects ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Rule:
    """One generated rule, reduced to what every target has in common."""

    name: str
    event: str
    #: The field the rule selects on, as the rule writes it.
    field: str
    #: Events above which it fires; None: any match (GCP log-match conditions).
    threshold: int | None
    window_minutes: int


def _one(pattern: str, text: str) -> tuple[str, ...]:
    match = re.fullmatch(pattern, text)
    assert match, f"{text!r} does not match {pattern!r}"
    return match.groups()


def prometheus_rules(files: dict[str, str]) -> list[Rule]:
    """The alerting rules of the Prometheus rule file."""
    (group,) = load_yaml(files["prodguard.rules.yml"])["groups"]
    assert group["name"] == "flask-prodguard"
    rules = []
    for rule in group["rules"]:
        assert set(rule) == {"alert", "expr", "labels", "annotations"}
        expr = rule["expr"]
        event = rule["labels"]["event"]
        # Every selector of the expression is the mtail counter, for this one event.
        selectors = re.findall(r"([a-z_]+)\{(\w+)=\"([^\"]+)\"\}", expr)
        assert selectors and all(
            s == ("prodguard_security_events_total", "event", event) for s in selectors
        ), expr
        window, threshold = _one(
            r"sum by \(event\) \(increase\([^\[]+\[(\d+)m\]\)\) > (\d+)(?: or .*)?", expr
        )
        if int(threshold) == 0:
            (offset,) = re.findall(r"offset (\d+)m", expr)
            assert offset == window, expr
        rules.append(Rule(rule["alert"], event, "event", int(threshold), int(window)))
    return rules


def loki_rules(files: dict[str, str]) -> list[Rule]:
    """The alerting rules of the Loki ruler file."""
    (group,) = load_yaml(files["prodguard.loki.rules.yml"])["groups"]
    rules = []
    for rule in group["rules"]:
        assert set(rule) == {"alert", "expr", "labels", "annotations"}
        field, event, window, threshold = _one(
            r'sum by \(event\) \(count_over_time\(\{[^}]+\} \| json \| (\w+)="([^"]+)"'
            r" \[(\d+)m\]\)\) > (\d+)",
            rule["expr"],
        )
        rules.append(Rule(rule["alert"], event, field, int(threshold), int(window)))
    return rules


def cloudwatch_rules(files: dict[str, str]) -> list[Rule]:
    """A metric filter and its alarm, per alert, from the CloudFormation template."""
    resources = json.loads(files["prodguard.cloudwatch.json"])["Resources"]
    filters = {k: v for k, v in resources.items() if v["Type"] == "AWS::Logs::MetricFilter"}
    alarms = {k: v for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    assert len(filters) == len(alarms) == len(resources) / 2
    rules = []
    for key, metric_filter in filters.items():
        name = key.removesuffix("Filter")
        props = metric_filter["Properties"]
        field, event = _one(r'\{ (\$\.[\w.]+) = "([^"]+)" \}', props["FilterPattern"])
        (transform,) = props["MetricTransformations"]
        alarm = alarms[f"{name}Alarm"]["Properties"]
        assert transform["MetricName"] == alarm["MetricName"] == alarm["AlarmName"] == name
        assert transform["MetricNamespace"] == alarm["Namespace"]
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["Statistic"] == "Sum" and alarm["EvaluationPeriods"] == 1
        assert alarm["Period"] % 60 == 0
        rules.append(Rule(name, event, field, alarm["Threshold"], alarm["Period"] // 60))
    return rules


def datadog_rules(files: dict[str, str]) -> list[Rule]:
    """The Datadog log monitors."""
    rules = []
    for monitor in json.loads(files["prodguard.datadog.json"]):
        assert monitor["type"] == "log alert"
        field, event, window, threshold = _one(
            r'logs\("(@[\w.]+):([^"\s]+)"\)\.index\("\*"\)\.rollup\("count"\)'
            r'\.last\("(\d+)m"\) > (\d+)',
            monitor["query"],
        )
        assert monitor["options"]["thresholds"] == {"critical": int(threshold)}
        name = monitor["name"].removeprefix("[Flask-ProdGuard] ")
        rules.append(Rule(name, event, field, int(threshold), int(window)))
    return rules


def elastic_rules(files: dict[str, str]) -> list[Rule]:
    """The Kibana Elasticsearch-query rules."""
    rules = []
    for rule in json.loads(files["prodguard.elastic.json"]):
        params = rule["params"]
        query = json.loads(params["esQuery"])
        (clause,) = query["query"]["bool"]["filter"]
        ((field, event),) = clause["term"].items()
        assert params["thresholdComparator"] == ">" and params["timeWindowUnit"] == "m"
        assert params["timeField"] == "@timestamp"
        (threshold,) = params["threshold"]
        name = rule["name"].removeprefix("Flask-ProdGuard ")
        rules.append(Rule(name, event, field, threshold, params["timeWindowSize"]))
    return rules


def gcp_rules(files: dict[str, str]) -> list[Rule]:
    """The Cloud Monitoring log-based alert policies (they fire on any match)."""
    rules = []
    for policy in json.loads(files["prodguard.gcp.json"]):
        (condition,) = policy["conditions"]
        field, event = _one(
            r'(jsonPayload\.[\w.]+)="([^"]+)"', condition["conditionMatchedLog"]["filter"]
        )
        assert condition["displayName"] == event
        period = policy["alertStrategy"]["notificationRateLimit"]["period"]
        (seconds,) = _one(r"(\d+)s", period)
        assert int(seconds) % 60 == 0
        name = policy["displayName"].removeprefix("Flask-ProdGuard ")
        rules.append(Rule(name, event, field, None, int(seconds) // 60))
    return rules


READERS = {
    "prometheus": prometheus_rules,
    "loki": loki_rules,
    "cloudwatch": cloudwatch_rules,
    "datadog": datadog_rules,
    "elastic": elastic_rules,
    "gcp": gcp_rules,
}


def rules_of(target: str, thresholds: alerting.Thresholds | None = None) -> list[Rule]:
    """The rules of ``target`` as generated."""
    return READERS[target](alerting.render(target, thresholds))


def mtail_regex(program: str) -> re.Pattern[str]:
    """The one pattern of the generated mtail program (RE2 syntax Python accepts)."""
    (pattern,) = re.findall(r"^/(.+)/ \{$", program, re.M)
    return re.compile(pattern)


# -- reading a rule's field in a real line -----------------------------------------------


_MISSING = object()


def lookup(data: Any, dotted: str) -> Any:
    """A dotted attribute path as Elasticsearch, Datadog and CloudWatch resolve it.

    ``a.b`` is the key ``a.b`` or the key ``b`` of the object ``a`` (or any mix).
    """
    if not isinstance(data, dict):
        return _MISSING
    if dotted in data:
        return data[dotted]
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in data:
            found = lookup(data[head], ".".join(parts[cut:]))
            if found is not _MISSING:
                return found
    return _MISSING


def loki_labels(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """What LogQL's ``| json`` extracts: nested keys joined with ``_``, sanitised."""
    labels: dict[str, Any] = {}
    for key, value in data.items():
        name = prefix + re.sub(r"[^A-Za-z0-9_]", "_", key)
        if isinstance(value, dict):
            labels.update(loki_labels(value, name + "_"))
        elif not isinstance(value, list):
            labels[name] = value
    return labels


def field_value(target: str, field: str, raw_line: str) -> Any:
    """The value ``target``'s rule reads from one line, as its log pipeline would."""
    line = json.loads(raw_line)
    if target == "prometheus":
        match = mtail_regex(alerting.mtail_program()).search(raw_line)
        return match.group(field) if match else _MISSING
    if target == "loki":
        return loki_labels(line).get(field, _MISSING)
    if target == "cloudwatch":
        return lookup(line, field.removeprefix("$."))
    if target == "datadog":
        return lookup(line, field.removeprefix("@"))
    if target == "gcp":
        payload = {k: v for k, v in line.items() if k not in GCP_SPECIAL_FIELDS}
        return lookup(payload, field.removeprefix("jsonPayload."))
    return lookup(line, field)


@dataclasses.dataclass
class Written:
    """Lines one preset wrote, with the event name of each (from the events)."""

    raw: list[str]
    names: list[str]


@pytest.fixture
def write_events(build_app: Callable[..., Flask]) -> Callable[..., Written]:
    """Return ``write_events(tmp_path, preset, **headers)``: guard an app that trips
    several alerts, writing ``preset`` lines to a file in ``tmp_path``.

    Debug mode (switched off), a debugger around the app (neutralised), a
    debugger probe and an unhandled error.
    """

    def write(tmp_path: Path, preset: str, **headers: str) -> Written:
        destination = tmp_path / f"{preset}.log"
        app = build_app(
            f"alerting_{preset}_{next(_app_numbers)}",
            PRODGUARD_ENV="production",
            PRODGUARD_LOG_FORMAT=preset,
            PRODGUARD_LOG_DESTINATION=str(destination),
            DEBUG=True,
        )
        app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)
        environ = {f"HTTP_{k.upper()}": v for k, v in headers.items()}
        with capture_events() as captured:
            ProdGuard(app)
            client = app.test_client()
            assert client.get("/console", environ_base=environ).status_code == 404
            assert client.get("/boom").status_code == 500
        names = [event["event"] for event in captured if event.get("app") == app.name]
        raw = destination.read_text(encoding="utf-8").splitlines()
        assert len(raw) == len(names)
        return Written(raw, names)

    return write


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def generate(*args: str) -> str:
    """``flask prodguard alert-rules ARGS``: stdout (stderr must stay empty)."""
    result = CliRunner().invoke(prodguard, ["alert-rules", *args])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" or "--output" in args, result.stderr
    return result.stdout


# -- golden files ------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_golden_files(target: str) -> None:
    """Each target's files with the default thresholds are exactly the golden files."""
    files = alerting.render(target)
    directory = GOLDEN / target
    if REGENERATE:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in set(p.name for p in directory.iterdir()) - set(files):
            (directory / stale).unlink()
        for name, content in files.items():
            (directory / name).write_text(content, encoding="utf-8")
    assert sorted(p.name for p in directory.iterdir()) == sorted(files)
    for name, content in files.items():
        assert (directory / name).read_text(encoding="utf-8") == content, (
            f"{target}/{name} differs from the golden file; if intended, rerun with"
            " REGENERATE_GOLDEN=1 and review the diff"
        )


def test_golden_directory_has_every_target() -> None:
    """There is a golden directory per target and none for a target that is gone."""
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(TARGETS)


def test_cli_writes_the_golden_files(tmp_path: Path) -> None:
    """``--output DIR`` writes each target's files, as rendered, and says so on stderr."""
    for target in TARGETS:
        out = tmp_path / target
        result = CliRunner().invoke(
            prodguard, ["alert-rules", "--target", target, "--output", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        files = alerting.render(target)
        assert sorted(p.name for p in out.iterdir()) == sorted(files)
        for name, content in files.items():
            assert (out / name).read_text(encoding="utf-8") == content
            assert f"wrote {out / name}" in result.stderr


def test_cli_prints_without_output(tmp_path: Path) -> None:
    """With no ``--output`` the files go to stdout (named when there are several)."""
    for target in TARGETS:
        files = alerting.render(target)
        printed = generate("--target", target)
        if len(files) == 1:
            assert printed == next(iter(files.values()))
        else:
            assert printed == "".join(f"# ---- {n}\n{c}" for n, c in files.items())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--target", "nagios"],
        [],
        ["--target", "loki", "--probe-threshold", "-1"],
        ["--target", "loki", "--error-threshold", "-1"],
        ["--target", "loki", "--window", "0"],
    ],
)
def test_cli_rejects_bad_options(args: list[str]) -> None:
    """Unknown or missing targets, negative thresholds and an empty window: usage errors."""
    result = CliRunner().invoke(prodguard, ["alert-rules", *args])
    assert result.exit_code == 2, result.output


# -- every alert, everywhere, on the right field -----------------------------------------


def test_alerts_follow_the_catalogue() -> None:
    """alerts() has one alert per alert event, in catalogue order, with distinct names."""
    chosen = alerting.alerts()
    assert [a.event for a in chosen] == ALERT_EVENTS
    assert len({a.name for a in chosen}) == len(chosen)
    for alert in chosen:
        spec = CATALOGUE[alert.event]
        assert alert.summary == spec.meaning
        assert alert.severity == (
            "critical" if spec.level in ("error", "critical") else "warning"
        )
    assert alerting.RATE_EVENTS <= set(ALERT_EVENTS)


@pytest.mark.parametrize("target", TARGETS)
def test_every_alert_event_has_a_rule(target: str) -> None:
    """Each alert event has exactly one rule, named as in alerts(), and nothing else has one."""
    rules = rules_of(target)
    assert sorted(r.event for r in rules) == sorted(ALERT_EVENTS)
    for rule in rules:
        assert rule.event in CATALOGUE, rule
    expected = {a.event: a.name for a in alerting.alerts()}
    assert {r.event: r.name for r in rules} == expected


@pytest.mark.parametrize("target", TARGETS)
def test_default_thresholds(target: str) -> None:
    """Probes fire above 10, errors above 20 in 5 minutes; the rest on any occurrence."""
    defaults = alerting.Thresholds()
    for rule in rules_of(target):
        assert rule.window_minutes == 5
        if target == "gcp":
            assert rule.threshold is None  # a log-match condition: any matching entry
        else:
            assert rule.threshold == defaults.for_event(rule.event)
    assert (defaults.probes, defaults.errors, defaults.window_minutes) == (10, 20, 5)


def test_promtool_tests_cover_every_alert() -> None:
    """The promtool test file exercises each alert, on the series the rules select."""
    files = alerting.render("prometheus")
    tests = load_yaml(files["prodguard.rules.test.yml"])
    assert tests["rule_files"] == ["prodguard.rules.yml"]
    tested = set()
    for case in tests["tests"]:
        (series,) = case["input_series"]
        (event,) = re.findall(r'event="([^"]+)"', series["series"])
        assert event in CATALOGUE
        assert series["series"].startswith("prodguard_security_events_total{")
        tested.update((t["alertname"], event) for t in case["alert_rule_test"])
    assert tested == {(a.name, a.event) for a in alerting.alerts()}


@pytest.mark.parametrize("target", TARGETS)
def test_rules_select_the_documented_field(target: str) -> None:
    """loki, cloudwatch, datadog, gcp read the plain ``event`` field; elastic event.action."""
    assert {r.field for r in rules_of(target)} == {FIELD_AS_WRITTEN[target]}


@pytest.mark.parametrize(
    ("target", "preset"),
    [(target, preset) for target, presets in PRESETS_READ.items() for preset in presets],
)
def test_rule_field_resolves_in_a_real_line(
    write_events: Callable[..., Written], target: str, preset: str, tmp_path: Path
) -> None:
    """In lines the guard wrote in the target's preset, each rule's field holds the event name.

    So each rule matches the lines of its own event and no other line.
    """
    written = write_events(tmp_path, preset)
    rules = {r.event: r for r in rules_of(target)}
    tripped = set(written.names) & set(rules)
    assert tripped >= {
        "prodguard.debug.blocked",
        "prodguard.debugger.neutralized",
        "prodguard.debugger.probe",
        "prodguard.error.unhandled",
    }
    for raw, name in zip(written.raw, written.names, strict=True):
        for rule in rules.values():
            value = field_value(target, rule.field, raw)
            assert value == name, f"{target} reads {rule.field}={value!r} in {preset}: {raw}"
            assert (value == rule.event) is (name == rule.event)


def test_other_presets_do_not_satisfy_the_plain_field(
    write_events: Callable[..., Written], tmp_path: Path
) -> None:
    """The ECS and OpenTelemetry presets have no top-level event name: elastic needs ecs."""
    for preset in ("ecs", "otel"):
        written = write_events(tmp_path, preset)
        for raw in written.raw:
            assert not isinstance(lookup(json.loads(raw), "event"), str)
    written = write_events(tmp_path, "json")
    for raw, name in zip(written.raw, written.names, strict=True):
        assert lookup(json.loads(raw), "event.action") is _MISSING, name


# -- file formats ------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["cloudwatch", "datadog", "elastic", "gcp"])
def test_json_targets_are_valid_json(target: str) -> None:
    """The JSON targets are one JSON document each, ending with a newline."""
    (content,) = alerting.render(target).values()
    assert content.endswith(("}\n", "]\n"))
    document = json.loads(content)  # raises on anything but one JSON document
    if target == "cloudwatch":
        # A CloudFormation template: a metric filter and an alarm per alert.
        assert document["AWSTemplateFormatVersion"] == "2010-09-09"
        assert len(document["Resources"]) == 2 * len(alerting.alerts())
    else:
        assert len(document) == len(alerting.alerts())


@pytest.mark.parametrize("target", TARGETS)
def test_every_rule_carries_summary_and_runbook(target: str) -> None:
    """Whoever gets the alert gets its meaning and the link to its runbook."""
    text = "".join(alerting.render(target).values())
    for alert in alerting.alerts():
        for needed in (alert.runbook, alert.summary):
            assert needed in text or json.dumps(needed) in text, (alert.name, needed)


def test_cloudwatch_template_shape() -> None:
    """The template takes the log group and SNS topic as parameters and uses only them."""
    template = json.loads(alerting.cloudwatch_template())
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert set(template["Parameters"]) == {"LogGroupName", "AlarmTopicArn"}
    refs = set(re.findall(r'"Ref": "(\w+)"', json.dumps(template)))
    assert refs == {"LogGroupName", "AlarmTopicArn"}
    for key in template["Resources"]:
        assert re.fullmatch(r"[A-Za-z0-9]{1,255}", key), key  # CloudFormation logical ids


@pytest.mark.parametrize("name", ["prodguard.rules.yml", "prodguard.rules.test.yml"])
def test_prometheus_yaml_parses(name: str) -> None:
    """The Prometheus rule and test files are YAML of the expected shape."""
    data = load_yaml(alerting.render("prometheus")[name])
    assert set(data) == (
        {"groups"}
        if name == "prodguard.rules.yml"
        else {"rule_files", "evaluation_interval", "tests"}
    )


def test_loki_yaml_parses_and_has_rule_shape(tmp_path: Path) -> None:
    """The Loki file is YAML in the Prometheus rule-file format the Loki ruler reads.

    promtool validates the YAML and the group and rule structure once each LogQL
    expression (which PromQL cannot parse) is replaced by a PromQL one.
    """
    content = alerting.loki_rules()
    data = load_yaml(content)
    (group,) = data["groups"]
    for rule in group["rules"]:
        assert set(rule["labels"]) == {"severity"}
        assert set(rule["annotations"]) == {"summary", "runbook_url"}
    lines = content.splitlines(keepends=True)
    exprs = [i for i, line in enumerate(lines) if line.startswith("        expr: ")]
    assert len(exprs) == len(ALERT_EVENTS)
    for i in exprs:
        lines[i] = '        expr: "vector(1)"\n'
    (tmp_path / "loki.yml").write_text("".join(lines))
    result = run(require_program("promtool"), "check", "rules", "loki.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERT_EVENTS)} rules found" in result.stdout


def test_yaml_reader_is_strict() -> None:
    """The test's YAML reader refuses what it does not understand."""
    assert load_yaml("a:\n  - b: \"x\\\"y\"\n    c: 1\n  - 'it''s'\n") == {
        "a": [{"b": 'x"y', "c": 1}, "it's"]
    }
    for broken in ("a: b: c\n", "a:\n  b: 1\n c: 2\n", "a: 1\na: 2\n", 'a: "x\n', "a: &x\n"):
        with pytest.raises((AssertionError, json.JSONDecodeError)):
            load_yaml(broken)


# -- mtail -------------------------------------------------------------------------------


def test_mtail_regex_matches_a_real_json_line(
    write_events: Callable[..., Written], tmp_path: Path
) -> None:
    """The mtail pattern takes event and level from the default handler's lines."""
    written = write_events(tmp_path, "json")
    pattern = mtail_regex(alerting.mtail_program())
    for raw, name in zip(written.raw, written.names, strict=True):
        match = pattern.search(raw)
        assert match, raw
        assert match.group("event") == name
        assert match.group("level") == json.loads(raw)["level"]
    assert "prodguard.debugger.probe" in written.names


def test_mtail_regex_covers_every_event_name() -> None:
    """Every catalogue name fits the event group; levels fit the level group."""
    pattern = mtail_regex(alerting.mtail_program())
    for spec in CATALOGUE.values():
        line = json.dumps({"event": spec.name, "level": spec.level, "x": 1})
        match = pattern.search(line)
        assert match and match.group("event") == spec.name, spec.name


def test_mtail_regex_ignores_a_forged_event(
    write_events: Callable[..., Written], tmp_path: Path
) -> None:
    """A client's forged JSON in a header is escaped: one match per line, the real one."""
    forged = '", "event": "prodguard.debugger.neutralized", "level": "critical", "x": "'
    written = write_events(tmp_path, "json", user_agent=forged)
    pattern = mtail_regex(alerting.mtail_program())
    probe_line = written.raw[written.names.index("prodguard.debugger.probe")]
    assert "neutralized" in probe_line
    assert [m.group("event") for m in pattern.finditer(probe_line)] == [
        "prodguard.debugger.probe"
    ]


def test_mtail_counts_real_lines(write_events: Callable[..., Written], tmp_path: Path) -> None:
    """mtail itself compiles the program and counts the lines into the rules' series."""
    written = write_events(tmp_path, "json")
    progs = tmp_path / "progs"
    progs.mkdir()
    (progs / "prodguard.mtail").write_text(alerting.mtail_program())
    mtail = require_program("mtail")
    result = run(
        mtail, "--progs", progs, "--logs", tmp_path / "json.log", "--one_shot",
        "--one_shot_format", "prometheus", "--emit_prog_label=false",
        "--address", "127.0.0.1", "--port", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    levels = {
        n: json.loads(r)["level"] for r, n in zip(written.raw, written.names, strict=True)
    }
    for name, level in levels.items():
        count = written.names.count(name)
        sample = f'prodguard_security_events_total{{event="{name}",level="{level}"}} {count}'
        assert sample in result.stdout.splitlines(), result.stdout


# -- promtool ----------------------------------------------------------------------------


def promtool_on(tmp_path: Path, *options: str) -> tuple[str, str]:
    """Generate the Prometheus files with ``options``; run promtool check and test."""
    out = tmp_path / "prometheus"
    generate("--target", "prometheus", "--output", str(out), *options)
    promtool = require_program("promtool")
    check = run(promtool, "check", "rules", "prodguard.rules.yml", cwd=out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {len(ALERT_EVENTS)} rules found" in check.stdout
    test = run(promtool, "test", "rules", "prodguard.rules.test.yml", cwd=out)
    return test.stdout + test.stderr, str(test.returncode)


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--probe-threshold", "3", "--error-threshold", "7", "--window", "9"],
        ["--probe-threshold", "0", "--error-threshold", "0"],
        ["--window", "2"],
        ["--window", "60"],
    ],
    ids=["defaults", "custom", "zero", "window2", "window60"],
)
def test_promtool_checks_and_tests_the_rules(tmp_path: Path, options: list[str]) -> None:
    """promtool accepts the rules, and their own unit tests pass."""
    output, code = promtool_on(tmp_path, *options)
    assert code == "0", output
    assert "SUCCESS" in output


def test_promtool_tests_pass_with_a_one_minute_window(tmp_path: Path) -> None:
    """``--window 1`` (allowed by the CLI) gives rules whose unit tests pass."""
    output, code = promtool_on(tmp_path, "--window", "1")
    assert code == "0", output


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    """The promtool checks above can fail: a wrong threshold fails the unit tests."""
    out = tmp_path / "prometheus"
    generate("--target", "prometheus", "--output", str(out))
    rules = out / "prodguard.rules.yml"
    rules.write_text(rules.read_text().replace(" > 10", " > 1000"))
    promtool = require_program("promtool")
    result = run(promtool, "test", "rules", "prodguard.rules.test.yml", cwd=out)
    assert result.returncode != 0
    assert "ProdGuardDebuggerProbe" in result.stdout + result.stderr


# -- thresholds options ------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_threshold_options_change_the_numbers(target: str) -> None:
    """--probe-threshold, --error-threshold and --window reach every rule of the target."""
    printed = generate(
        "--target", target, "--probe-threshold", "3", "--error-threshold", "7", "--window", "9"
    )
    custom = alerting.Thresholds(probes=3, errors=7, window_minutes=9)
    files = alerting.render(target, custom)
    if len(files) == 1:
        assert printed == next(iter(files.values()))
    rules = READERS[target](files)
    expected = {
        "prodguard.debugger.probe": 3,
        "prodguard.error.unhandled": 7,
        "prodguard.error.traceback_scrubbed": 7,
    }
    for rule in rules:
        assert rule.window_minutes == 9, rule
        if target != "gcp":
            assert rule.threshold == expected.get(rule.event, 0), rule
    assert alerting.render(target) != files


def test_prometheus_numbers_in_the_expressions() -> None:
    """The numbers land where Prometheus reads them, in rules and in their unit tests."""
    custom = alerting.Thresholds(probes=3, errors=7, window_minutes=9)
    files = alerting.render("prometheus", custom)
    rules = files["prodguard.rules.yml"]
    assert 'probe\\"}[9m])) > 3 or' in rules and 'probe\\"} > 3) unless' in rules
    assert 'unhandled\\"}[9m])) > 7 or' in rules and 'unhandled\\"} > 7) unless' in rules
    assert "offset 9m" in rules and "[5m]" not in rules
    tests = files["prodguard.rules.test.yml"]
    assert "values: '0x8 8x20'" in tests and "values: '0x8 12x20'" in tests
    assert "values: '4x20'" in tests and "values: '8x20'" in tests


# -- the docs page -----------------------------------------------------------------------


def docs_text() -> str:
    return DOCS.read_text(encoding="utf-8")


def docs_section(target: str) -> str:
    """The part of docs/alerting.rst about one target (from its label to the next)."""
    text = docs_text()
    start = text.index(f".. _alerting-{target}:")
    following = [m.start() for m in re.finditer(r"^\.\. _alerting-", text, re.M)]
    end = min([i for i in following if i > start], default=len(text))
    return text[start:end]


def docutils_id(name: str) -> str:
    """The HTML id docutils (so Sphinx) gives an explicit target called ``name``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def docs_anchor_ids() -> set[str]:
    text = docs_text()
    ids = {docutils_id(label) for label in re.findall(r"^\.\. _([^:]+):$", text, re.M)}
    return ids | set(re.findall(r'<span id="([^"]+)"></span>', text))


def test_docs_document_every_alert() -> None:
    """docs/alerting.rst names every alert and its event, and no alert that does not exist."""
    text = docs_text()
    names = {a.name for a in alerting.alerts()}
    for alert in alerting.alerts():
        assert alert.name in text, alert.name
        assert f"``{alert.event}``" in text, alert.event
    assert set(re.findall(r"\bProdGuard[A-Z][A-Za-z]+", text)) == names


def test_docs_alert_table_matches_the_rules() -> None:
    """The table of docs/alerting.rst lists every alert with its event, trigger and severity."""
    rows = re.findall(
        r"^   \* - ``(ProdGuard\w+)``\n     - ``([a-z_.]+)``\n     - (.+)$", docs_text(), re.M
    )
    assert [(name, event) for name, event, _ in rows] == [
        (a.name, a.event) for a in alerting.alerts()
    ]
    for alert, (_, _, fires) in zip(alerting.alerts(), rows, strict=True):
        if alert.threshold == 0:
            trigger = "any occurrence"
        else:
            trigger = f"more than {alert.threshold} in {alert.window_minutes} minutes"
        assert fires == f"{trigger}; {alert.severity}", alert.name


def test_docs_have_a_runbook_anchor_per_alert() -> None:
    """Every runbook_url the rules carry lands on an anchor of docs/alerting.rst."""
    ids = docs_anchor_ids()
    for alert in alerting.alerts():
        page, _, fragment = alert.runbook.partition("#")
        assert page == alerting.DOCS and page.endswith("/alerting.html")
        assert fragment in ids, alert.runbook


def test_runbook_anchors_are_sphinx_ids() -> None:
    """Each runbook fragment is an id Sphinx can generate from a section label."""
    for alert in alerting.alerts():
        fragment = alert.runbook.partition("#")[2]
        assert docutils_id(fragment) == fragment, alert.runbook


@pytest.mark.parametrize("target", TARGETS)
def test_docs_section_per_target(target: str) -> None:
    """Each target's section gives the command, the files and the log format to use."""
    section = docs_section(target)
    assert f"alert-rules --target {target}" in section
    for name in alerting.TARGETS[target]:
        assert name in section, name
    assert f"PRODGUARD_LOG_FORMAT={PRESETS_READ[target][0]}" in section


def _docs_example(name: str) -> str:
    """An example file that docs/alerting.rst includes (from docs/examples)."""
    assert f".. literalinclude:: examples/{name}" in docs_text(), name
    return (ROOT / "docs" / "examples" / name).read_text(encoding="utf-8")


def test_docs_prometheus_and_alertmanager_configs_are_valid(tmp_path: Path) -> None:
    """The prometheus.yml and alertmanager.yml of the recipe pass promtool and amtool."""
    generate("--target", "prometheus", "--output", str(tmp_path))
    (tmp_path / "prometheus.yml").write_text(_docs_example("prometheus.yml"))
    (tmp_path / "alertmanager.yml").write_text(_docs_example("alertmanager.yml"))
    check = run(require_program("promtool"), "check", "config", "prometheus.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {len(ALERT_EVENTS)} rules found" in check.stdout
    check = run(require_program("amtool"), "check-config", "alertmanager.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_elastic_connector_id_replaces_the_placeholder() -> None:
    """--connector-id puts your Kibana connector in every rule; other targets refuse it."""
    rules = json.loads(generate("--target", "elastic", "--connector-id", "pager-7"))
    assert {action["id"] for rule in rules for action in rule["actions"]} == {"pager-7"}
    assert len(rules) == len(ALERT_EVENTS)
    default = generate("--target", "elastic")
    assert "REPLACE-WITH-YOUR-CONNECTOR-ID" in default
    result = CliRunner().invoke(
        prodguard, ["alert-rules", "--target", "loki", "--connector-id", "x"]
    )
    assert result.exit_code == 2
    assert "--target elastic only" in result.output
