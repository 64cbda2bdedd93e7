"""Alert rules generated from the event catalogue, so names never drift.

``flask prodguard alert-rules --target prometheus|loki|cloudwatch|datadog|
elastic|gcp`` writes ready-made rules for the log pipelines people alert
from. Every event marked ``alert`` in the catalogue gets a rule in every
target: start-up and configuration events fire at once (any occurrence),
request events (probes, unhandled errors) fire above a rate over a window.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from ..events.catalogue import CATALOGUE
from ..events.catalogue import EventSpec
from ..exceptions import ConfigurationError

#: Events that alert on a rate (a client can send them at will: the catalogue's
#: rate-limited ones); the others alert on any occurrence.
RATE_EVENTS = frozenset(
    spec.name for spec in CATALOGUE.values() if spec.alert and spec.rate_limited
)

DOCS = "https://flask-prodguard.readthedocs.io/en/latest/alerting.html"


#: The largest threshold: the largest whole number every target holds exactly
#: (numbers in PromQL, LogQL, CloudWatch, Datadog and Kibana are 64-bit
#: floats). One more, and the generated promtool unit tests fail: 2**53 + 1
#: events read as 2**53, which is not above a threshold of 2**53.
MAX_THRESHOLD = 2**53 - 1

#: The longest window a Go duration holds, in minutes (2**63 - 1 nanoseconds):
#: Prometheus and Loki refuse a longer range as "duration out of range".
MAX_DURATION_MINUTES = (2**63 - 1) // 60_000_000_000

#: The longest ``--window`` each target accepts, in minutes, and why.
MAX_WINDOW: dict[str, tuple[int, str]] = {
    "prometheus": (
        MAX_DURATION_MINUTES,
        "the longest range PromQL parses: 2**63 - 1 nanoseconds, about 292 years",
    ),
    "loki": (43260, "Loki refuses longer queries with its default max_query_length, 721h"),
    "cloudwatch": (
        10080,
        "an alarm's Period times EvaluationPeriods is at most 604800 seconds, 7 days",
    ),
    "datadog": (2880, "a log monitor's time window is at most 2880 minutes, 2 days"),
    # No documented limit: the same bound as the duration parsers above.
    "elastic": (MAX_DURATION_MINUTES, "the longest window any target's durations hold"),
    "gcp": (MAX_DURATION_MINUTES, "the longest window any target's durations hold"),
}


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """When the rate events alert: on more than a count in ``window_minutes``.

    The other alerting events (start-up, configuration) fire on any
    occurrence, whatever these say. Each target takes a window of its own
    length at most (:data:`MAX_WINDOW`, checked by :func:`check_thresholds`);
    what no target takes is refused here.

    :raises ConfigurationError: A threshold is not a whole number from 0 to
        :data:`MAX_THRESHOLD`, or the window not one from 1 to
        :data:`MAX_DURATION_MINUTES`; ``key`` names the option
        (``--probe-threshold``, ``--error-threshold``, ``--window``).

    .. versionchanged:: 0.1
        Values no target accepts are refused.
    """

    #: Debugger probes (``prodguard.debugger.probe``) per window.
    probes: int = 10
    #: The other rate events (unhandled errors, scrubbed error pages) per window.
    errors: int = 20
    window_minutes: int = 5

    def __post_init__(self) -> None:
        for option, value in (
            ("--probe-threshold", self.probes),
            ("--error-threshold", self.errors),
        ):
            if not _count(value) or not 0 <= value <= MAX_THRESHOLD:
                raise ConfigurationError(
                    f"{value!r} is out of range: a count from 0 to {MAX_THRESHOLD}, the"
                    " largest whole number every target holds exactly.",
                    key=option,
                    value=value,
                    allowed=(f"0-{MAX_THRESHOLD}",),
                )
        window = self.window_minutes
        if not _count(window) or not 1 <= window <= MAX_DURATION_MINUTES:
            raise ConfigurationError(
                f"{window!r} minutes is out of range: 1 to {MAX_DURATION_MINUTES}, the"
                " longest duration Prometheus and Loki parse (and less for some targets).",
                key="--window",
                value=window,
                allowed=(f"1-{MAX_DURATION_MINUTES}",),
            )

    def for_event(self, name: str) -> int:
        """The count above which a rate event alerts (0 for the others).

        :param name: An event name of the catalogue.
        """
        if name not in RATE_EVENTS:
            return 0
        return self.probes if "debugger" in name else self.errors


@dataclasses.dataclass(frozen=True)
class Alert:
    """One alert: the event it watches and how it fires."""

    event: str
    name: str
    severity: str
    summary: str
    #: It fires on more than this many events in the window: 0 is any occurrence.
    threshold: int
    window_minutes: int

    @property
    def runbook(self) -> str:
        """The event's section of the alerting documentation."""
        return f"{DOCS}#{self.event.replace('.', '-').replace('_', '-')}"


def check_thresholds(target: str, thresholds: Thresholds) -> Thresholds:
    """``thresholds``, if ``target`` accepts its window; :data:`MAX_WINDOW` says
    how long a window each target takes.

    :param target: A key of :data:`TARGETS`.
    :param thresholds: The thresholds to write into the target's files.
    :raises ConfigurationError: The window is longer than ``target`` takes;
        ``key`` is ``"--window"``, the message gives the range and why.
    """
    most, why = MAX_WINDOW[target]
    window = thresholds.window_minutes
    if window > most:
        raise ConfigurationError(
            f"{window} minutes is out of range for target {target!r}: 1 to {most} ({why}).",
            key="--window",
            value=window,
            allowed=(f"1-{most}",),
        )
    return thresholds


def _alert_name(spec: EventSpec) -> str:
    return "ProdGuard" + "".join(
        part.capitalize() for piece in spec.name.split(".")[1:] for part in piece.split("_")
    )


def alerts(thresholds: Thresholds | None = None) -> list[Alert]:
    """Every alert, in catalogue order: one per event the catalogue marks ``alert``.

    :param thresholds: The rate thresholds; the defaults of :class:`Thresholds`
        when ``None`` (so for every ``thresholds`` argument of this module).
    """
    thresholds = thresholds or Thresholds()
    found = []
    for spec in CATALOGUE.values():
        if not spec.alert:
            continue
        severity = "critical" if spec.level in ("critical", "error") else "warning"
        found.append(
            Alert(
                spec.name,
                _alert_name(spec),
                severity,
                spec.meaning,
                thresholds.for_event(spec.name),
                thresholds.window_minutes,
            )
        )
    return found


def _header(comment: str) -> str:
    return (
        f"{comment} Generated by `flask prodguard alert-rules` from the Flask-ProdGuard event\n"
        f"{comment} catalogue. Regenerate after upgrading instead of editing by hand.\n"
    )


def _yaml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def mtail_program() -> str:
    """mtail: count the guard's JSON event lines by event and level."""
    return (
        _header("#")
        + "# Reads the JSON lines of the guard's default handler (PRODGUARD_LOG_FORMAT=json).\n"
        + "counter prodguard_security_events_total by event, level\n\n"
        + '/"event": "(?P<event>prodguard\\.[a-z_]+\\.[a-z_]+)", '
        + '"level": "(?P<level>[a-z]+)"/ {\n'
        + "  prodguard_security_events_total[$event][$level]++\n"
        + "}\n"
    )


def _prometheus_expr(alert: Alert) -> str:
    series = f'prodguard_security_events_total{{event="{alert.event}"}}'
    window = f"{alert.window_minutes}m"
    # increase() cannot see the first sample of a new series (mtail exports a
    # series only once its first event was counted): a series that exists now
    # but not a window ago counts from zero.
    limit = alert.threshold
    return (
        f"sum by (event) (increase({series}[{window}])) > {limit}"
        f" or sum by (event) (({series} > {limit}) unless {series} offset {window})"
    )


def _rule_file(
    thresholds: Thresholds | None, expression: Callable[[Alert], str], event_label: bool
) -> str:
    """A rule file in the format the Prometheus and Loki rulers share."""
    lines = [_header("#").rstrip("\n"), "groups:", "  - name: flask-prodguard", "    rules:"]
    for alert in alerts(thresholds):
        lines += [
            f"      - alert: {alert.name}",
            f"        expr: {_yaml_string(expression(alert))}",
            "        labels:",
            f"          severity: {alert.severity}",
            *([f"          event: {alert.event}"] if event_label else []),
            "        annotations:",
            f"          summary: {_yaml_string(alert.summary)}",
            f"          runbook_url: {_yaml_string(alert.runbook)}",
        ]
    return "\n".join(lines) + "\n"


def prometheus_rules(thresholds: Thresholds | None = None) -> str:
    """A Prometheus rule file over the mtail counter."""
    return _rule_file(thresholds, _prometheus_expr, event_label=True)


def promtool_tests(thresholds: Thresholds | None = None) -> str:
    """A ``promtool test rules`` file: each alert fires, and stays quiet without events.

    Samples every 15 seconds, so the tests hold for any window of a minute or
    more.
    """
    chosen = alerts(thresholds)
    lines = [
        _header("#").rstrip("\n"),
        "rule_files:",
        "  - prodguard.rules.yml",
        "evaluation_interval: 15s",
        "tests:",
    ]

    def expected(alert: Alert) -> list[str]:
        return [
            "        exp_alerts:",
            "          - exp_labels:",
            f"              severity: {alert.severity}",
            f"              event: {alert.event}",
            "            exp_annotations:",
            f"              summary: {_yaml_string(alert.summary)}",
            f"              runbook_url: {_yaml_string(alert.runbook)}",
        ]

    def series(alert: Alert, values: str) -> list[str]:
        return [
            "  - interval: 15s",
            "    input_series:",
            f'      - series: \'prodguard_security_events_total{{event="{alert.event}",'
            f' level="warning"}}\'',
            f"        values: '{values}'",
            "    alert_rule_test:",
        ]

    for alert in chosen:
        count = alert.threshold + 5
        # Zero for two minutes, then ``count`` events at once.
        lines += series(alert, f"0x8 {count}x20")
        lines += [
            "      - eval_time: 1m",
            f"        alertname: {alert.name}",
            "        exp_alerts: []",
            "      - eval_time: 3m",
            f"        alertname: {alert.name}",
            *expected(alert),
        ]
        # A process whose first events create the series also alerts.
        lines += series(alert, f"{alert.threshold + 1}x20")
        lines += ["      - eval_time: 30s", f"        alertname: {alert.name}"]
        lines += expected(alert)
    return "\n".join(lines) + "\n"


def loki_rules(thresholds: Thresholds | None = None, selector: str = '{job=~".+"}') -> str:
    """A Loki ruler rule file with LogQL over the JSON lines.

    :param selector: The LogQL stream selector of the app's logs; the default
        matches every stream.
    """

    def query(alert: Alert) -> str:
        return (
            f'sum by (event) (count_over_time({selector} | json | event="{alert.event}"'
            f" [{alert.window_minutes}m])) > {alert.threshold}"
        )

    return _rule_file(thresholds, query, event_label=False)


def cloudwatch_template(thresholds: Thresholds | None = None) -> str:
    """CloudFormation: a metric filter and an alarm per alert (JSON)."""
    resources: dict[str, Any] = {}
    for alert in alerts(thresholds):
        metric = alert.name
        resources[f"{metric}Filter"] = {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": {"Ref": "LogGroupName"},
                "FilterPattern": f'{{ $.event = "{alert.event}" }}',
                "MetricTransformations": [
                    {
                        "MetricNamespace": "FlaskProdGuard",
                        "MetricName": metric,
                        "MetricValue": "1",
                        "DefaultValue": 0,
                    }
                ],
            },
        }
        resources[f"{metric}Alarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": metric,
                "AlarmDescription": f"{alert.summary} Runbook: {alert.runbook}",
                "Namespace": "FlaskProdGuard",
                "MetricName": metric,
                "Statistic": "Sum",
                "Period": alert.window_minutes * 60,
                "EvaluationPeriods": 1,
                "Threshold": alert.threshold,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopicArn"}],
            },
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Flask-ProdGuard security event alarms (generated).",
        "Parameters": {
            "LogGroupName": {"Type": "String", "Description": "Log group of the app."},
            "AlarmTopicArn": {"Type": "String", "Description": "SNS topic to notify."},
        },
        "Resources": resources,
    }
    return json.dumps(template, indent=2) + "\n"


def datadog_monitors(thresholds: Thresholds | None = None) -> str:
    """Datadog log monitors (JSON list, one per alert)."""
    monitors = []
    for alert in alerts(thresholds):
        query = (
            f'logs("@event:{alert.event}").index("*").rollup("count")'
            f'.last("{alert.window_minutes}m") > {alert.threshold}'
        )
        monitors.append(
            {
                "name": f"[Flask-ProdGuard] {alert.name}",
                "type": "log alert",
                "query": query,
                "message": f"{alert.summary}\nRunbook: {alert.runbook}",
                "tags": ["source:flask-prodguard", f"event:{alert.event}"],
                "priority": 1 if alert.severity == "critical" else 3,
                "options": {
                    "thresholds": {"critical": alert.threshold},
                    "notify_no_data": False,
                },
            }
        )
    return json.dumps(monitors, indent=2) + "\n"


#: The connector id of the Kibana rules when none is given: replace it.
CONNECTOR_PLACEHOLDER = "REPLACE-WITH-YOUR-CONNECTOR-ID"


def elastic_rules(
    thresholds: Thresholds | None = None,
    index: str = "logs-*",
    connector_id: str = CONNECTOR_PLACEHOLDER,
) -> str:
    """Kibana Elasticsearch-query rules on ECS fields (PRODGUARD_LOG_FORMAT=ecs).

    :param index: The index pattern the app's logs go to.
    :param connector_id: The Kibana connector the rules notify; the default is
        a placeholder to replace before the rules are created.
    """
    rules = []
    for alert in alerts(thresholds):
        query = {"query": {"bool": {"filter": [{"term": {"event.action": alert.event}}]}}}
        rules.append(
            {
                "name": f"Flask-ProdGuard {alert.name}",
                "rule_type_id": ".es-query",
                "consumer": "alerts",
                "schedule": {"interval": "1m"},
                "tags": ["flask-prodguard", alert.severity],
                # Kibana needs a connector of yours (--connector-id), or
                # remove the action to see the alerts in Kibana only.
                "actions": [
                    {
                        "group": "query matched",
                        "id": connector_id,
                        "params": {
                            "message": f"{alert.summary}\nRunbook: {alert.runbook}",
                        },
                    }
                ],
                "params": {
                    "searchType": "esQuery",
                    "esQuery": json.dumps(query),
                    "index": [index],
                    "timeField": "@timestamp",
                    "threshold": [alert.threshold],
                    "thresholdComparator": ">",
                    "timeWindowSize": alert.window_minutes,
                    "timeWindowUnit": "m",
                    "size": 0,
                },
            }
        )
    return json.dumps(rules, indent=2) + "\n"


def gcp_policies(thresholds: Thresholds | None = None) -> str:
    """Google Cloud log-based alert policies (with the notification rate limit)."""
    policies = []
    for alert in alerts(thresholds):
        policies.append(
            {
                "displayName": f"Flask-ProdGuard {alert.name}",
                "combiner": "OR",
                "severity": alert.severity.upper(),
                "documentation": {
                    "content": f"{alert.summary}\n\nRunbook: {alert.runbook}",
                    "mimeType": "text/markdown",
                },
                "conditions": [
                    {
                        "displayName": alert.event,
                        "conditionMatchedLog": {
                            "filter": f'jsonPayload.event="{alert.event}"',
                        },
                    }
                ],
                # Required for log-match conditions; bounds notifications when
                # a scanner sends thousands of probes.
                "alertStrategy": {
                    "notificationRateLimit": {"period": f"{alert.window_minutes * 60}s"},
                    "autoClose": "1800s",
                },
            }
        )
    return json.dumps(policies, indent=2) + "\n"


#: Files each target writes: name -> content function.
TARGETS: dict[str, dict[str, Callable[[Thresholds | None], str]]] = {
    "prometheus": {
        "prodguard.mtail": lambda t: mtail_program(),
        "prodguard.rules.yml": prometheus_rules,
        "prodguard.rules.test.yml": promtool_tests,
    },
    "loki": {"prodguard.loki.rules.yml": loki_rules},
    "cloudwatch": {"prodguard.cloudwatch.json": cloudwatch_template},
    "datadog": {"prodguard.datadog.json": datadog_monitors},
    "elastic": {"prodguard.elastic.json": elastic_rules},
    "gcp": {"prodguard.gcp.json": gcp_policies},
}


def render(
    target: str, thresholds: Thresholds | None = None, connector_id: str | None = None
) -> dict[str, str]:
    """The files of ``target``: file name -> content.

    :param target: A key of :data:`TARGETS`.
    :param thresholds: The rate thresholds (defaults when ``None``).
    :param connector_id: for ``elastic``, the Kibana connector the rules notify.
    :raises ConfigurationError: The window is longer than ``target`` takes
        (see :func:`check_thresholds`).
    """
    check_thresholds(target, thresholds or Thresholds())
    if target == "elastic" and connector_id:
        return {"prodguard.elastic.json": elastic_rules(thresholds, connector_id=connector_id)}
    return {name: function(thresholds) for name, function in TARGETS[target].items()}
