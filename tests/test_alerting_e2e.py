"""``flask prodguard alert-rules --target prometheus``: the generated chain, run for real.

The three generated files go to the programs that read them in production:
``promtool check rules`` and ``promtool test rules``; then a whole pipeline on
127.0.0.1: a guarded app under gunicorn (``flask prodguard serve``) writes its
events to a file, mtail counts them with the generated program, Prometheus
scrapes mtail every second and evaluates the generated rules every second, and
sends what fires to Alertmanager, whose API the tests poll.

Every program listens on an explicit 127.0.0.1 address with a free port (the
Alertmanager cluster listener is switched off), keeps its data under
``tmp_path``, runs in its own session and has its whole process group stopped
at the end; its output is kept under ``tmp_path`` and printed at teardown, so a
failing test shows it. Rules for the pipeline are generated with
``--probe-threshold 3 --window 1`` so they fire within seconds.

A rate rule is ``increase(...) > threshold``, and ``increase()`` cannot see the
first sample of a new series: probes that arrive between two scrapes as the
first ones since mtail started make the series' first sample, and no alert
follows. The main end-to-end test therefore lets one probe be scraped before
it sends the others; ``test_rate_alert_fires_on_a_first_burst`` (promtool) and
``test_first_probe_burst_raises_an_alert`` (the whole chain) assert that such a
first burst alerts too.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_prodguard.tools.alert_rules import RATE_EVENTS
from flask_prodguard.tools.alert_rules import Alert
from flask_prodguard.tools.alert_rules import alerts

from servers import Process
from servers import free_ports
from servers import server_environ
from servers import start_process
from servers import wait_for

pytestmark = pytest.mark.server

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))
MTAIL = shutil.which("mtail") or "/usr/bin/mtail"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"

READY_TIMEOUT = 30.0
#: How often the programs' HTTP APIs are polled while waiting.
POLL = 0.2
#: Bound for an alert to reach Alertmanager once its events are in the log.
ALERT_TIMEOUT = 60.0
#: How long a clean app serves normal requests while the rules are evaluated.
CLEAN_SECONDS = 12.0

PROBE_THRESHOLD = 3
FAST_RULES = ("--probe-threshold", str(PROBE_THRESHOLD), "--window", "1")
SERIES = "prodguard_security_events_total"
#: Requests aimed at the Werkzeug debugger, as a scanner sends them.
PROBES = (
    "/?__debugger__=yes&cmd=resource&f=debugger.js",
    "/console",
    "/?__debugger__=yes&cmd=printpin&s=x",
)

APP = '''\
"""A guarded app with safe settings (tests/test_alerting_e2e.py)."""

import os

from flask import Flask

from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["APP_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)


@app.get("/")
def index():
    return "hello"


ProdGuard(app)
'''

UNSAFE_APP = '''\
"""The same app deployed with debug mode on (tests/test_alerting_e2e.py)."""

import os

from flask import Flask

from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["APP_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)
app.config["DEBUG"] = True

ProdGuard(app)
'''

ALERTMANAGER_YML = """\
route:
  receiver: "null"
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: "null"
"""


# -- processes -----------------------------------------------------------------------


def run_flask(cwd: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``flask *args`` to completion, in ``cwd``."""
    return subprocess.run(
        [FLASK, *args],
        cwd=cwd,
        env=server_environ(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


def generate_rules(directory: Path, *args: str) -> Path:
    """Run ``flask prodguard alert-rules --target prometheus --output directory *args``."""
    result = run_flask(
        directory.parent,
        "prodguard",
        "alert-rules",
        "--target",
        "prometheus",
        "--output",
        str(directory),
        *args,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(path.name for path in directory.iterdir())
    assert names == ["prodguard.mtail", "prodguard.rules.test.yml", "prodguard.rules.yml"]
    return directory


# -- HTTP ----------------------------------------------------------------------------


def get(port: int, target: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """``GET http://127.0.0.1:port/target`` (never through a proxy): status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def get_json(port: int, target: str) -> Any:
    """A ``GET`` that must answer 200 with JSON."""
    status, body = get(port, target)
    assert status == 200, (target, status, body[:500])
    return json.loads(body)


# -- the pipeline --------------------------------------------------------------------


@dataclasses.dataclass
class Stack:
    """Alertmanager, mtail, Prometheus and the app, started for one test."""

    tmp_path: Path
    rules: Path
    started: list[Process] = dataclasses.field(default_factory=list)
    ports: dict[str, int] = dataclasses.field(default_factory=dict)
    secret_key: str = dataclasses.field(default_factory=lambda: secrets.token_hex(32))

    @property
    def app_dir(self) -> Path:
        return self.tmp_path / "app"

    @property
    def events_log(self) -> Path:
        return self.tmp_path / "events.log"

    def run(self, name: str, argv: list[str], cwd: Path, **variables: str) -> Process:
        log = self.tmp_path / f"{name}.log"
        process = start_process(argv, cwd, log, server_environ(**variables))
        self.started.append(process)
        return process

    def app_environ(self) -> dict[str, str]:
        return {
            "PRODGUARD_ENV": "production",
            "PRODGUARD_LOG_DESTINATION": str(self.events_log),
            "APP_SECRET_KEY": self.secret_key,
        }

    def diagnostics(self) -> str:
        """Everything that helps to see where the chain broke."""
        parts = [f"--- events.log:\n{self.read_events_text()}"]
        if "mtail" in self.ports:
            try:
                metrics = get(self.ports["mtail"], "/metrics")[1].decode(errors="replace")
            except OSError as error:
                metrics = repr(error)
            lines = [line for line in metrics.splitlines() if line.startswith(SERIES)]
            parts.append("--- mtail metrics:\n" + "\n".join(lines))
        for process in self.started:
            parts.append(f"--- {process.log.name} (exit {process.proc.poll()}): last lines")
            parts.append("\n".join(process.output().splitlines()[-15:]))
        return "\n".join(parts)

    def read_events_text(self) -> str:
        return self.events_log.read_text(errors="replace") if self.events_log.exists() else ""

    def events(self) -> list[str]:
        """The event names in the log file, in order."""
        return [json.loads(line)["event"] for line in self.read_events_text().splitlines()]

    def start(self, scrape_interval: str) -> None:
        """Start everything and wait until the app's posture event is in Prometheus."""
        am_port, mtail_port, prom_port, app_port = free_ports(4)
        self.ports.update(alertmanager=am_port, mtail=mtail_port, prometheus=prom_port)
        self.events_log.touch()  # mtail polls only the files that exist when it starts

        am_dir = self.tmp_path / "alertmanager"
        am_dir.mkdir()
        (am_dir / "alertmanager.yml").write_text(ALERTMANAGER_YML)
        self.run(
            "alertmanager",
            [
                ALERTMANAGER,
                f"--config.file={am_dir / 'alertmanager.yml'}",
                f"--storage.path={am_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            am_dir,
        )
        self.run(
            "mtail",
            [
                MTAIL,
                "--address",
                "127.0.0.1",
                "--port",
                str(mtail_port),
                "--progs",
                str(self.rules),
                "--logs",
                str(self.events_log),
                "--poll_interval",
                "250ms",
                "--logtostderr",
            ],
            self.tmp_path,
        )
        prom_dir = self.tmp_path / "prometheus"
        prom_dir.mkdir()
        (prom_dir / "prometheus.yml").write_text(
            "global:\n"
            f"  scrape_interval: {scrape_interval}\n"
            f"  scrape_timeout: {scrape_interval}\n"
            "  evaluation_interval: 1s\n"
            "rule_files:\n"
            f"  - {json.dumps(str(self.rules / 'prodguard.rules.yml'))}\n"
            "alerting:\n"
            "  alertmanagers:\n"
            "    - static_configs:\n"
            f"        - targets: ['127.0.0.1:{am_port}']\n"
            "scrape_configs:\n"
            "  - job_name: mtail\n"
            "    static_configs:\n"
            f"      - targets: ['127.0.0.1:{mtail_port}']\n"
        )
        self.run(
            "prometheus",
            [
                PROMETHEUS,
                f"--config.file={prom_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={prom_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            prom_dir,
        )
        for name, target in (
            ("alertmanager", "/-/ready"),
            ("mtail", "/metrics"),
            ("prometheus", "/-/ready"),
        ):
            wait_for(
                lambda name=name, target=target: get(self.ports[name], target)[0] == 200,
                f"{name} ready",
                READY_TIMEOUT,
                self.diagnostics,
                interval=POLL,
            )
        self.serve_app(app_port)
        self.wait_for_series("prodguard.startup.posture", 1)

    def serve_app(self, port: int) -> None:
        """The safe app under gunicorn: ``flask --app app prodguard serve``."""
        self.app_dir.mkdir()
        (self.app_dir / "app.py").write_text(APP)
        self.ports["app"] = port
        self.run(
            "gunicorn",
            [
                FLASK,
                "--app",
                "app",
                "prodguard",
                "serve",
                "--server",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            self.app_dir,
            **self.app_environ(),
        )
        wait_for(
            lambda: get(port, "/") == (200, b"hello"),
            "app ready",
            READY_TIMEOUT,
            self.diagnostics,
            interval=POLL,
        )

    def start_unsafe_app(self) -> None:
        """Create the app with ``DEBUG = True`` in a new process (its start-up events)."""
        (self.app_dir / "unsafe_app.py").write_text(UNSAFE_APP)
        result = subprocess.run(
            [PYTHON, "-c", "import unsafe_app"],
            cwd=self.app_dir,
            env=server_environ(**self.app_environ()),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    # -- queries --

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Prometheus instant query: the result vector."""
        target = "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        data = get_json(self.ports["prometheus"], target)
        assert data["status"] == "success", data
        return list(data["data"]["result"])

    def series_value(self, event: str) -> float | None:
        """The counter of ``event`` as Prometheus has it now (None: no series)."""
        result = self.query(f'sum({SERIES}{{event="{event}"}})')
        return float(result[0]["value"][1]) if result else None

    def wait_for_series(self, event: str, at_least: float) -> None:
        """Until Prometheus has scraped the counter of ``event`` at ``at_least`` or more."""
        wait_for(
            lambda: (self.series_value(event) or 0) >= at_least,
            f"{SERIES}{{event={event!r}}} >= {at_least} in Prometheus",
            READY_TIMEOUT,
            self.diagnostics,
            interval=POLL,
        )

    def prometheus_alerts(self) -> list[dict[str, Any]]:
        """Alerts Prometheus has pending or firing."""
        data = get_json(self.ports["prometheus"], "/api/v1/alerts")
        return list(data["data"]["alerts"])

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        """Every alert Alertmanager holds (``GET /api/v2/alerts``)."""
        return list(get_json(self.ports["alertmanager"], "/api/v2/alerts"))

    def received(self, name: str) -> list[dict[str, Any]]:
        """The alerts named ``name`` that Alertmanager holds."""
        return [a for a in self.alertmanager_alerts() if a["labels"].get("alertname") == name]

    def wait_for_alert(self, name: str, timeout: float = ALERT_TIMEOUT) -> dict[str, Any]:
        """Poll Alertmanager until it holds an alert ``name``; fail after ``timeout``."""
        found = wait_for(
            lambda: self.received(name),
            f"{name} in Alertmanager",
            timeout,
            self.diagnostics,
            interval=POLL,
        )
        return dict(found[0])


@pytest.fixture(scope="module")
def fast_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated Prometheus files with ``--probe-threshold 3 --window 1``."""
    return generate_rules(tmp_path_factory.mktemp("rules") / "alerting", *FAST_RULES)


@pytest.fixture
def start_stack(tmp_path: Path, fast_rules: Path) -> Iterator[Callable[..., Stack]]:
    """Return ``start_stack(scrape_interval="1s")``; everything is stopped at teardown."""
    stacks: list[Stack] = []

    def start(scrape_interval: str = "1s") -> Stack:
        stack = Stack(tmp_path, fast_rules)
        stacks.append(stack)
        stack.start(scrape_interval)
        return stack

    try:
        yield start
    finally:
        for stack in stacks:
            for process in reversed(stack.started):
                process.stop()
                print(f"--- {process.proc.args!r}, exit code {process.proc.poll()}")
                print(process.output()[-5000:])


# -- promtool ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [(), FAST_RULES], ids=["defaults", "probe-threshold-3-window-1"]
)
def test_promtool_accepts_the_generated_files(tmp_path: Path, args: tuple[str, ...]) -> None:
    """promtool check rules and promtool test rules pass on the generated files."""
    rules = generate_rules(tmp_path / "alerting", *args)
    check = subprocess.run(
        [PROMTOOL, "check", "rules", "prodguard.rules.yml"],
        cwd=rules,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 9 rules found" in check.stdout + check.stderr
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", "prodguard.rules.test.yml"],
        cwd=rules,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = tested.stdout + tested.stderr
    failed = sorted(
        {
            line.split("alertname:", 1)[1].split(",")[0].strip()
            for line in output.splitlines()
            if line.strip().startswith("alertname:")
        }
    )
    details = "\n".join(line for line in output.splitlines() if line.strip())
    assert tested.returncode == 0, (
        f"`promtool test rules` fails on the test file generated with {' '.join(args)!r}:"
        f" {len(failed)} alert(s) do not fire where the file expects them: {failed} (its"
        " input series and eval times are the same whatever --window says)"
        f"\n{details[-3000:]}"
    )


def first_burst_test(alert: Alert, count: int) -> str:
    """A promtool test: the first ``count`` events arrive between two scrapes."""
    series = f'{SERIES}{{event="{alert.event}", level="warning"}}'
    return (
        "rule_files:\n"
        "  - prodguard.rules.yml\n"
        "evaluation_interval: 15s\n"
        "tests:\n"
        "  - interval: 15s\n"
        "    input_series:\n"
        # No series at first (nothing has happened since mtail started), then the burst.
        f"      - series: '{series}'\n"
        f"        values: '_x3 {count}x20'\n"
        "    alert_rule_test:\n"
        "      - eval_time: 2m\n"
        f"        alertname: {alert.name}\n"
        "        exp_alerts:\n"
        "          - exp_labels:\n"
        f"              severity: {alert.severity}\n"
        f"              event: {alert.event}\n"
        "            exp_annotations:\n"
        f"              summary: {json.dumps(alert.summary)}\n"
        f"              runbook_url: {json.dumps(alert.runbook)}\n"
    )


@pytest.mark.parametrize("event", sorted(RATE_EVENTS))
def test_rate_alert_fires_on_a_first_burst(tmp_path: Path, event: str) -> None:
    """A burst above the threshold fires the rate alert even when it creates the series."""
    rules = generate_rules(tmp_path / "alerting")
    (alert,) = [a for a in alerts() if a.event == event]
    count = alert.threshold * 5
    (rules / "burst.test.yml").write_text(first_burst_test(alert, count))
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", "burst.test.yml"],
        cwd=rules,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tested.returncode == 0, (
        f"{count} {event} events in one scrape interval (threshold {alert.threshold} per"
        f" {alert.window_minutes}m), the first since mtail started, never fire {alert.name}:"
        " increase() ignores the first sample of a new series, and the rate rule has no"
        " `unless ... offset` branch like the immediate rules"
        f"\n{tested.stdout[-2000:]}{tested.stderr[-2000:]}"
    )


# -- end to end ----------------------------------------------------------------------


def prodguard_alerts(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts among ``found`` whose name says they come from the generated rules."""
    return [a for a in found if str(a["labels"].get("alertname", "")).startswith("ProdGuard")]


def test_clean_run_raises_no_alert(start_stack: Callable[..., Stack]) -> None:
    """A safe app serving normal requests raises no alert; its posture event does not alert."""
    stack = start_stack()
    prom, am = stack.ports["prometheus"], stack.ports["alertmanager"]
    # The chain is live: the rules are loaded and Prometheus talks to Alertmanager.
    active = get_json(prom, "/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
    assert [a["url"] for a in active] == [f"http://127.0.0.1:{am}/api/v2/alerts"]
    deadline = time.monotonic() + CLEAN_SECONDS
    served = 0
    while time.monotonic() < deadline:
        assert get(stack.ports["app"], "/") == (200, b"hello")
        served += 1
        time.sleep(0.1)
    groups = get_json(prom, "/api/v1/rules")["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == 9, rules
    for rule in rules:
        assert rule["health"] == "ok" and not rule["lastEvaluation"].startswith("0001"), rule
    assert {"prodguard.startup.posture"} == set(stack.events()), stack.events()
    assert stack.series_value("prodguard.startup.posture")
    assert not prodguard_alerts(stack.prometheus_alerts()), stack.diagnostics()
    assert not prodguard_alerts(stack.alertmanager_alerts()), stack.diagnostics()
    assert served > 50


def send_probes(stack: Stack, count: int) -> None:
    """``count`` debugger probes, each answered with the app's 404."""
    for number in range(count):
        status, body = get(stack.ports["app"], PROBES[number % len(PROBES)])
        assert status == 404, (status, body[:300])


def test_probes_and_debug_mode_raise_alerts(start_stack: Callable[..., Stack]) -> None:
    """Probes above the threshold, then an app started in debug mode, reach Alertmanager."""
    stack = start_stack()
    # One probe first, scraped before the others: the rate rule cannot see a
    # burst that creates the series (test_first_probe_burst_raises_an_alert).
    send_probes(stack, 1)
    stack.wait_for_series("prodguard.debugger.probe", 1)
    assert not stack.received("ProdGuardDebuggerProbe")
    send_probes(stack, PROBE_THRESHOLD + 3)
    alert = stack.wait_for_alert("ProdGuardDebuggerProbe")
    assert alert["labels"]["severity"] == "warning"
    assert alert["labels"]["event"] == "prodguard.debugger.probe"
    assert alert["annotations"]["runbook_url"].endswith("#prodguard-debugger-probe")
    assert stack.events().count("prodguard.debugger.probe") == PROBE_THRESHOLD + 4
    assert not stack.received("ProdGuardDebugBlocked")

    stack.start_unsafe_app()
    assert "prodguard.debug.blocked" in stack.events()
    alert = stack.wait_for_alert("ProdGuardDebugBlocked")
    assert alert["labels"]["severity"] == "warning"
    assert alert["labels"]["event"] == "prodguard.debug.blocked"


def test_first_probe_burst_raises_an_alert(start_stack: Callable[..., Stack]) -> None:
    """A burst of probes between two scrapes, the first since mtail started, raises an alert."""
    stack = start_stack(scrape_interval="5s")
    prom = stack.ports["prometheus"]

    def last_scrape() -> str:
        (target,) = get_json(prom, "/api/v1/targets")["data"]["activeTargets"]
        return str(target["lastScrape"])

    before = last_scrape()
    wait_for(lambda: last_scrape() != before, "a scrape", 15, stack.diagnostics, interval=POLL)
    scraped = time.monotonic()
    count = PROBE_THRESHOLD * 3
    send_probes(stack, count)
    mtail_counted = f'{SERIES}{{event="prodguard.debugger.probe",level="warning",'
    wait_for(
        lambda: any(
            line.startswith(mtail_counted) and line.endswith(f" {count}")
            for line in get(stack.ports["mtail"], "/metrics")[1].decode().splitlines()
        ),
        "mtail counted the burst",
        5,
        stack.diagnostics,
        interval=POLL,
    )
    # The burst is in mtail before the next scrape: Prometheus's first sample has it all.
    assert time.monotonic() - scraped < 4, "the burst took longer than a scrape interval"
    stack.wait_for_series("prodguard.debugger.probe", count)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not stack.received("ProdGuardDebuggerProbe"):
        time.sleep(0.2)
    increase = stack.query(f'increase({SERIES}{{event="prodguard.debugger.probe"}}[1m])')
    assert stack.received("ProdGuardDebuggerProbe"), (
        f"{count} debugger probes (threshold {PROBE_THRESHOLD} per 1m) raised no"
        " ProdGuardDebuggerProbe: they arrived between two scrapes, so the series' first"
        f" sample was already {count}, and increase() over it is"
        f" {[r['value'][1] for r in increase]}\n{stack.diagnostics()}"
    )
